package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"
)

// run is the whole command line, minus the process: tests call it.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	root := newRoot()
	root.SetArgs(args)
	root.SetOut(stdout)
	root.SetErr(stderr)
	return root.ExecuteContext(ctx)
}

func newRoot() *cobra.Command {
	root := &cobra.Command{
		Use:   "vmsim",
		Short: "A lazily-paged virtual memory simulator with user-space fault handling",
		Long: `vmsim shows demand paging happen. It replays page traces through replacement
policies, either in pure simulation or on real mmap'd memory that starts PROT_NONE,
where every first touch raises a real hardware fault that vmsim catches in user
space, and it runs the classic mmap exercises of an operating systems course.`,
		Example: `  vmsim demo                      # a guided tour on built-in data
  vmsim exercise mprotect         # the SIGSEGV handler that calls mprotect`,
		Version:       version(),
		SilenceErrors: true,
		SilenceUsage:  true,
		Args:          noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return cmd.Help()
		},
	}
	root.SetVersionTemplate("{{.Version}}\n")
	root.Flags().BoolP("version", "", false, "print the version and the revision vmsim was built from")
	root.SetFlagErrorFunc(func(cmd *cobra.Command, err error) error {
		return usageErrorf(cmd, "%v", err)
	})
	root.AddCommand(newDemo(), newReplay(), newStep(), newMRC(), newWS(), newExercise(), newExerciseChild(), newCheck(), newServe(), newCp(), newGen(), newConvert(), newRecord(), newSweep(), newMerge())
	root.CompletionOptions.DisableDefaultCmd = true
	// Many processes on one memory.
	root.AddCommand(newMulti(), newThrash())
	return root
}

// usageError is bad usage: exit status 2.
type usageError struct {
	cmd string
	err error
}

func (e *usageError) Error() string {
	what, _ := strings.CutPrefix(e.cmd, "vmsim")
	what = strings.TrimSpace(what)
	if what == "" {
		return fmt.Sprintf("%v (see '%s --help')", e.err, e.cmd)
	}
	return fmt.Sprintf("%s: %v (see '%s --help')", what, e.err, e.cmd)
}

func (e *usageError) Unwrap() error { return e.err }

func usageErrorf(cmd *cobra.Command, format string, args ...any) error {
	return &usageError{cmd: cmd.CommandPath(), err: fmt.Errorf(format, args...)}
}

// exitCode maps an error to the process exit status: 2 for bad usage, 1 for
// a failure.
func exitCode(err error) int {
	var ue *usageError
	if errors.As(err, &ue) {
		return 2
	}
	return 1
}

// oneLine keeps an error on one line of stderr.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

// Argument validators that report bad usage.
func noArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		if cmd.HasSubCommands() {
			return usageErrorf(cmd, "unknown command %q", args[0])
		}
		return usageErrorf(cmd, "takes no arguments, got %q", args)
	}
	return nil
}

func exactArgs(n int, names ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) != n {
			return usageErrorf(cmd, "needs %d argument(s) (%s), got %d", n, strings.Join(names, " "), len(args))
		}
		return nil
	}
}

func minArgs(n int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < n {
			return usageErrorf(cmd, "needs at least %d %s", n, what)
		}
		return nil
	}
}

// ctxErr returns the context's error if it is done.
func ctxErr(ctx context.Context) error {
	select {
	case <-ctx.Done():
		return ctx.Err()
	default:
		return nil
	}
}
