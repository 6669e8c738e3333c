package arch

import "errors"

// Sentinels shared by the packages that talk to the kernel (vm, vm/probe),
// defined once here and re-exported by them, so that errors.Is matches the
// same value whichever package returned the error.
var (
	// ErrNotSupported is matched by errors that say the kernel or the
	// system lacks a feature (userfaultfd, eBPF, a tracepoint, Linux
	// itself). Such an error also names what is missing: a bare
	// ErrNotSupported is a bug.
	ErrNotSupported = errors.New("not supported on this system")
	// ErrClosed is matched by calls on an object that was closed or
	// unmapped.
	ErrClosed = errors.New("already closed")
)
