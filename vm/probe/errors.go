package probe

import (
	"errors"
	"io/fs"
	"strings"

	"vmsim/vm/arch"
)

// Sentinels matched (with errors.Is) by the errors of [Open] and
// [OpenCounters].
var (
	// ErrNotSupported is matched when the kernel or the system lacks what the
	// probe needs: eBPF, the page-fault tracepoint (x86 only), the BPF ring
	// buffer, perf events, or Linux itself.
	ErrNotSupported = arch.ErrNotSupported
	// ErrPermission is matched when the process lacks the privilege to load
	// and attach the probe (CAP_BPF and CAP_PERFMON, or CAP_SYS_ADMIN) or to
	// open perf counters (kernel.perf_event_paranoid).
	ErrPermission = fs.ErrPermission
	// ErrClosed is matched by calls on a closed [Probe] or [Counters].
	ErrClosed = arch.ErrClosed
	// ErrBadRange is matched when a range given to [Open] or
	// [Probe.SetRanges] is empty, ill-formed, overlaps another, or there
	// are more than [MaxRanges].
	ErrBadRange = errors.New("bad address range")
	// ErrWrongThread is matched by [Counters.Read] called from another OS
	// thread than the one that opened the counters.
	ErrWrongThread = errors.New("counters read from another thread than the one they count")
)

// Error reports why the probe or the counters could not be opened or used.
// Its message is one line that says what is missing and what to do about it.
// It matches [ErrPermission] or [ErrNotSupported] when that is the cause,
// and unwraps to the underlying error (an errno, or cilium/ebpf's error).
type Error struct {
	// Op is what failed: "load program", "attach tracepoint", ...
	Op string
	// Missing names what is missing, in words ("CAP_BPF and CAP_PERFMON (or
	// CAP_SYS_ADMIN)", "tracepoint exceptions:page_fault_user"). Empty when
	// nothing is missing and the failure is of another kind.
	Missing string
	// Hint says how to get past it ("run as root"). May be empty.
	Hint string
	// Kind is ErrPermission, ErrNotSupported or nil.
	Kind error
	// Err is the underlying error; may be nil when a check failed before
	// the kernel was asked.
	Err error
}

// Error returns one line: "kernel probe: <op>: <kind>: needs <what is
// missing>: <cause>; <hint>", leaving out the parts that are empty.
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString("kernel probe: ")
	b.WriteString(e.Op)
	if e.Kind != nil {
		b.WriteString(": ")
		b.WriteString(e.Kind.Error())
	}
	if e.Missing != "" {
		b.WriteString(": needs ")
		b.WriteString(e.Missing)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(oneLine(e.Err.Error()))
	}
	if e.Hint != "" {
		b.WriteString("; ")
		b.WriteString(e.Hint)
	}
	return b.String()
}

// Unwrap returns the kind and the underlying error.
func (e *Error) Unwrap() []error {
	var errs []error
	if e.Kind != nil {
		errs = append(errs, e.Kind)
	}
	if e.Err != nil {
		errs = append(errs, e.Err)
	}
	return errs
}

// oneLine keeps the first line of a multi-line message (a verifier log is
// many lines; the first says what went wrong).
func oneLine(s string) string {
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}
