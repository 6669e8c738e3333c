package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmsim/vm/arch"
	"vmsim/vm/exercise"
)

func newExercise() *cobra.Command {
	cmd := &cobra.Command{
		Use:   "exercise NAME",
		Short: "Run one of the classic mmap exercises, check it and explain it",
		Long: `Each exercise runs on real memory, prints what the C program of the course
prints, checks that the behaviour is what the course says (the exit status is 1
if not), and explains why.`,
		Example: `  vmsim exercise mprotect
  vmsim exercise mprotect --prot write
  vmsim exercise remap`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newExerciseMprotect(), newExerciseRemap())
	return cmd
}

func newExerciseMprotect() *cobra.Command {
	var prot string
	var retries int
	cmd := &cobra.Command{
		Use:   "mprotect",
		Short: "A SIGSEGV handler that mprotects the faulting page, then the access retries",
		Long: `One page is mapped PROT_NONE. Writing 'c' to it faults; the handler prints the
signal, calls mprotect and prints its result; the write is retried; then 'c' is
read, 'd' written and read back. Exactly one fault is expected.

--prot chooses what the handler grants. With "write" (PROT_WRITE alone) the
result depends on the CPU: x86 cannot map a page write-only, so reads work too.
With "read" or "none" the access can never succeed: a C program would loop in
and out of its handler forever; vmsim's bounded retry reports ErrUnresolved.`,
		Example: `  vmsim exercise mprotect
  vmsim exercise mprotect --prot none --retries 3`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			grant, err := parseGrant(prot)
			if err != nil {
				return usageErrorf(cmd, "--prot: %v", err)
			}
			if retries < 0 {
				return usageErrorf(cmd, "--retries %d: must be at least 1", retries)
			}
			return exercise.Mprotect(cmd.OutOrStdout(), &exercise.MprotectOptions{Grant: grant, MaxRetries: retries})
		},
	}
	cmd.Flags().StringVar(&prot, "prot", "rw", "what the handler grants: rw, write, read or none")
	cmd.Flags().IntVar(&retries, "retries", 8, "faults at one address before giving up (ErrUnresolved)")
	return cmd
}

func parseGrant(s string) (arch.Prot, error) {
	switch s {
	case "rw", "read-write":
		return arch.ProtReadWrite, nil
	case "write", "w":
		return arch.ProtWrite, nil
	case "read", "r":
		return arch.ProtRead, nil
	case "none":
		return arch.ProtNone, nil
	}
	return 0, fmt.Errorf("unknown protection %q (want rw, write, read or none)", s)
}

func newExerciseRemap() *cobra.Command {
	return &cobra.Command{
		Use:   "remap",
		Short: "A SIGSEGV handler that maps a page at the faulting address and jumps back",
		Long: `base points at an address where nothing is mapped. Reading base[0] faults; the
handler maps a fresh page there, stores 'A', and the read is retried: the Go
counterpart of siglongjmp back to a sigsetjmp point. It prints base[0] = A.`,
		Example: `  vmsim exercise remap`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exercise.Remap(cmd.OutOrStdout())
		},
	}
}
