package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmsim/vm/exercise"
)

func newDemo() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "A short guided run on built-in data, on real memory",
		Long: `demo needs no arguments: it runs the first exercises on real memory, with a
few lines of explanation each, and checks them (exit status 1 if a check fails).`,
		Example: `  vmsim demo`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, "== 1. A fault caught in user space, resolved with mprotect")
			fmt.Fprintln(w, "A page starts PROT_NONE: the first write faults, a handler grants access, the write retries.")
			fmt.Fprintln(w)
			if err := exercise.Mprotect(w, nil); err != nil {
				return err
			}
			if err := ctxErr(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "== 2. A handler that maps the missing page and jumps back")
			fmt.Fprintln(w, "Nothing is mapped at base: the read faults, the handler maps a page there, the read retries.")
			fmt.Fprintln(w)
			return exercise.Remap(w)
		},
	}
}
