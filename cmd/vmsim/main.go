// Command vmsim is a lazily-paged virtual memory simulator with user-space
// fault handling: it replays page traces through replacement policies, in
// pure simulation or on real mmap'd memory whose faults are caught in user
// space, and runs the classic mmap exercises. Run "vmsim --help".
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := withSignals(context.Background(), os.Stderr)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	code, msg := 0, ""
	if err != nil {
		code, msg = exitCode(err), oneLine(err)
	}
	if sig := stop(); sig != nil {
		// Whatever the command returned (ctx's error, or rows it finished
		// and printed), the run was cut short.
		code, msg = 128+int(sig.(syscall.Signal)), interrupted(sig)
	}
	if code != 0 {
		fmt.Fprintf(os.Stderr, "vmsim: %s\n", msg)
	}
	os.Exit(code)
}

// catchable are the signals that stop a run cleanly: the context is
// cancelled, every command stops at its next step, prints what it finished,
// and removes its temporary files. A second one exits at once.
var catchable = []os.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP}

// withSignals returns a context cancelled by the first catchable signal, and
// a stop function that stops watching and returns that signal, if one came.
// A second signal exits at once with its status.
func withSignals(parent context.Context, stderr io.Writer) (context.Context, func() os.Signal) {
	ctx, cancel := context.WithCancelCause(parent)
	ch := make(chan os.Signal, 2)
	signal.Notify(ch, catchable...)
	got := make(chan os.Signal, 1)
	done := make(chan struct{})
	go func() {
		select {
		case sig := <-ch:
			got <- sig
			cancel(&signalError{sig})
		case <-done:
			return
		}
		select {
		case sig := <-ch:
			fmt.Fprintf(stderr, "vmsim: %s again: exiting now\n", sig)
			os.Exit(128 + int(sig.(syscall.Signal)))
		case <-done:
		}
	}()
	return ctx, func() os.Signal {
		signal.Stop(ch)
		close(done)
		cancel(nil)
		select {
		case sig := <-got:
			return sig
		default:
			return nil
		}
	}
}

// signalError is the cause of a context cancelled by a signal.
type signalError struct{ sig os.Signal }

func (e *signalError) Error() string { return interrupted(e.sig) }

// interrupted is what vmsim says when a signal stopped it.
func interrupted(sig os.Signal) string {
	if sig == syscall.SIGINT {
		return "interrupted"
	}
	return "interrupted by " + signalName(sig)
}

func signalName(sig os.Signal) string {
	switch sig {
	case syscall.SIGTERM:
		return "SIGTERM"
	case syscall.SIGHUP:
		return "SIGHUP"
	case syscall.SIGINT:
		return "SIGINT"
	}
	return sig.String()
}

// isInterrupt reports whether err is the end of a run cut short by
// cancellation (a signal, in main).
func isInterrupt(err error) bool {
	return errors.Is(err, context.Canceled)
}
