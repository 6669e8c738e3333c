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
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintf(os.Stderr, "vmsim: %s\n", oneLine(err))
		os.Exit(exitCode(err))
	}
}
