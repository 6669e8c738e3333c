package main

import (
	"fmt"
	"runtime"

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
  vmsim exercise remap
  vmsim exercise shared-file
  vmsim exercise shared-anon --private
  vmsim exercise beyond-eof`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error { return cmd.Help() },
	}
	cmd.AddCommand(newExerciseMprotect(), newExerciseRemap(), newExerciseSharedFile(), newExerciseSharedAnon(), newExerciseBeyondEOF())
	return cmd
}

// withKernel runs an exercise with an observer of the kernel's faults if
// kernel is set, on a thread of its own (the perf fallback counts one).
func withKernel(cmd *cobra.Command, kernel bool, run func(exercise.Observer) error) error {
	if !kernel {
		return run(nil)
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	o, err := newKernelObserver(cmd.ErrOrStderr())
	if err != nil {
		return err
	}
	defer o.Close()
	return run(o)
}

func newExerciseMprotect() *cobra.Command {
	var prot string
	var retries int
	var kernel bool
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
  vmsim exercise mprotect --kernel
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
			return withKernel(cmd, kernel, func(o exercise.Observer) error {
				return exercise.Mprotect(cmd.OutOrStdout(), &exercise.MprotectOptions{Grant: grant, MaxRetries: retries, Observer: o})
			})
		},
	}
	cmd.Flags().BoolVar(&kernel, "kernel", false, "also count the kernel's own page faults on the page (eBPF as root, else this thread's perf counters; an error if neither can be opened)")
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
	var kernel bool
	cmd := &cobra.Command{
		Use:   "remap",
		Short: "A SIGSEGV handler that maps a page at the faulting address and jumps back",
		Long: `base points at an address where nothing is mapped. Reading base[0] faults; the
handler maps a fresh page there, stores 'A', and the read is retried: the Go
counterpart of siglongjmp back to a sigsetjmp point. It prints base[0] = A.`,
		Example: `  vmsim exercise remap
  vmsim exercise remap --kernel`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return withKernel(cmd, kernel, func(o exercise.Observer) error {
				return exercise.Remap(cmd.OutOrStdout(), &exercise.RemapOptions{Observer: o})
			})
		},
	}
	cmd.Flags().BoolVar(&kernel, "kernel", false, "also count the kernel's own page faults at base (eBPF as root, else this thread's perf counters; an error if neither can be opened)")
	return cmd
}

func newExerciseSharedFile() *cobra.Command {
	var private bool
	var file, peer string
	cmd := &cobra.Command{
		Use:   "shared-file",
		Short: "Two processes map the same file: each sees the other's writes",
		Long: `The parent creates a file of two pages of 'a' and maps it MAP_SHARED, read and
write. A child process maps the same file and waits. The parent fills page 2
with 'b' and lets the child go; the child prints the first 10 bytes of pages
1 and 2 (aaaaaaaaaa, bbbbbbbbbb) and fills page 1 with 'c'; the parent waits
for it and prints page 1 (cccccccccc). After munmap the file is read back with
read(2): a page of 'c', a page of 'b'. Pipes, not sleeps, set the order.

Go cannot fork: the child is this program started again (os.Executable), and
maps the file by its path.

--private maps it MAP_PRIVATE in both processes: nobody sees anybody's writes
and the file keeps its 'a's.

The other process can be any process. With --file FILE the exercise creates
(or truncates) FILE, writes page 2, and waits at the FIFO FILE.peer for a peer
started by hand in another terminal with --peer FILE; the peer maps FILE by
its path and plays the child. Start the --file one first. FILE is left in
place to look at.`,
		Example: `  vmsim exercise shared-file
  vmsim exercise shared-file --private
  vmsim exercise shared-file --file /tmp/f     # terminal 1: waits
  vmsim exercise shared-file --peer /tmp/f     # terminal 2`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if file != "" && peer != "" {
				return usageErrorf(cmd, "--file and --peer cannot go together: --file starts the waiting parent, --peer the other process")
			}
			w := cmd.OutOrStdout()
			if peer != "" {
				return exercise.SharedFilePeer(cmd.Context(), w, peer, private)
			}
			return exercise.SharedFile(cmd.Context(), w, &exercise.ShareOptions{Private: private, File: file, Spawn: spawnSelf})
		},
	}
	cmd.Flags().BoolVar(&private, "private", false, "map MAP_PRIVATE instead of MAP_SHARED (in both processes)")
	cmd.Flags().StringVar(&file, "file", "", "create `FILE` and wait for a peer started by hand instead of starting a child")
	cmd.Flags().StringVar(&peer, "peer", "", "be the other process of a parent waiting on `FILE`")
	return cmd
}

func newExerciseSharedAnon() *cobra.Command {
	var private bool
	cmd := &cobra.Command{
		Use:   "shared-anon",
		Short: "The same, with no file: a memfd passed to the child",
		Long: `shared-file without a file. In C: mmap(MAP_SHARED|MAP_ANONYMOUS) before fork.
Go cannot fork, and exec keeps no mapping, only descriptors: the memory is a
memfd (memfd_create), the same kind of unnamed tmpfs file that backs shared
anonymous memory, passed to the child as descriptor 5. Same filling, same
output, same checks; the memory is read back with pread on the memfd.

--private maps the memfd MAP_PRIVATE in both processes, which is what a
MAP_PRIVATE|MAP_ANONYMOUS mapping becomes across fork: the same start, and
copies on write, so nothing is shared.`,
		Example: `  vmsim exercise shared-anon
  vmsim exercise shared-anon --private`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return exercise.SharedAnon(cmd.Context(), cmd.OutOrStdout(), &exercise.ShareOptions{Private: private, Spawn: spawnSelf})
		},
	}
	cmd.Flags().BoolVar(&private, "private", false, "map MAP_PRIVATE instead of MAP_SHARED (in both processes)")
	return cmd
}

func newExerciseBeyondEOF() *cobra.Command {
	var size int
	cmd := &cobra.Command{
		Use:   "beyond-eof",
		Short: "Map more pages than the file has: the tail reads zeros, past it SIGBUS",
		Long: `Two pages of a file shorter than that are mapped MAP_SHARED. mmap succeeds. The
page that holds the end of the file reads the file, then zeros; a write to
that tail never reaches the file. Touching a page wholly past the end raises
SIGBUS, caught as a fault value with its address.

--size sets the file's size in bytes (0 to two pages; default half a page):
a multiple of the page size leaves no tail; more than a page leaves no page
wholly past the end, so no SIGBUS.`,
		Example: `  vmsim exercise beyond-eof
  vmsim exercise beyond-eof --size 4096
  vmsim exercise beyond-eof --size 0`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			var opts *exercise.BeyondEOFOptions
			if cmd.Flags().Changed("size") {
				ps := int(arch.SystemPageSize())
				if size < 0 || size > 2*ps {
					return usageErrorf(cmd, "--size %d: must be from 0 to %d (two pages, the size of the mapping)", size, 2*ps)
				}
				opts = &exercise.BeyondEOFOptions{Size: size}
			}
			return exercise.BeyondEOF(cmd.OutOrStdout(), opts)
		},
	}
	cmd.Flags().IntVar(&size, "size", 0, "the file's size in `BYTES` (default half a page)")
	return cmd
}
