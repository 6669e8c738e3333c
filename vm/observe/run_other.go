//go:build !linux

package observe

import (
	"context"
	"fmt"
	"runtime"
	"syscall"
)

func run(ctx context.Context, path string, o *Options) (*Trace, error) {
	return nil, fmt.Errorf("observe: tracing a program needs Linux's ptrace, not %s: %w", runtime.GOOS, ErrNotSupported)
}

func formatSyscall(s *Syscall) string             { return fmt.Sprintf("%s(...) = %d", s.Name, s.Ret) }
func formatSigaction(a *Sigaction) string         { return fmt.Sprintf("{sa_handler=%#x}", a.Handler) }
func formatSignal(s *Signal) string               { return fmt.Sprintf("--- signal %d ---", int(s.Signo)) }
func codeName(sig syscall.Signal, c int32) string { return fmt.Sprint(c) }
func signalName(s syscall.Signal) string          { return fmt.Sprintf("signal %d", int(s)) }

// ProtString spells mmap's prot argument (here: in hex).
func ProtString(prot uint64) string { return fmt.Sprintf("%#x", prot) }

// MapFlagsString spells mmap's flags argument (here: in hex).
func MapFlagsString(f uint64) string { return fmt.Sprintf("%#x", f) }

// SignalName names a signal (here: by number).
func SignalName(s syscall.Signal) string { return signalName(s) }

// SigsetString prints a signal mask (here: in hex).
func SigsetString(m uint64) string { return fmt.Sprintf("%#x", m) }

// ErrnoName names an errno (here: by number).
func ErrnoName(e syscall.Errno) string { return fmt.Sprint(int(e)) }
