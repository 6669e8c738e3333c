// Command vmsim is a lazily-paged virtual memory simulator with user-space
// fault handling: it replays page traces through replacement policies, in
// pure simulation or on real mmap'd memory whose faults are caught in user
// space, and runs the classic mmap exercises. Run "vmsim --help".
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	// SIGTERM and SIGHUP cancel the run like Ctrl-C, so that a command
	// removes its temporary files (vmsim cp's) before it exits.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmsim: %s\n", oneLine(err))
		os.Exit(exitCode(err))
	}
}
