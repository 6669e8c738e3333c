package observe

import "context"

// Run runs the program at path under ptrace until every process it made
// has ended, and returns what it did. See the package documentation for
// what it records and how it bounds the program.
//
// The error is for a program that could not be run or traced: one that
// does not exist or is not executable (a *os.PathError), tracing refused
// ([ErrPermission]), a system that cannot trace ([ErrNotSupported]), a
// hook's error. A program that fails, crashes or is stopped at a limit is
// not an error: the trace says so ([Trace.Exit], [Trace.Stopped]).
func Run(ctx context.Context, path string, opts *Options) (*Trace, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	o.Limits = o.Limits.withDefaults()
	switch {
	case o.CaptureBytes == 0:
		o.CaptureBytes = DefaultCaptureBytes
	case o.CaptureBytes < 0:
		o.CaptureBytes = 0
	}
	return run(ctx, path, &o)
}
