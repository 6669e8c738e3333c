package observe

import (
	"errors"
	"fmt"
	"io/fs"

	"vmsim/vm/arch"
)

// Errors of Run.
var (
	// ErrNotSupported is matched when the system cannot trace: not Linux,
	// or an architecture whose registers Run cannot read.
	ErrNotSupported = arch.ErrNotSupported
	// ErrPermission is matched when the kernel refuses to let vmsim trace
	// the program, or the program is to run as a user that the caller
	// cannot become.
	ErrPermission = fs.ErrPermission
	// ErrLimit is matched by a [*LimitError]: the program reached one of
	// its bounds and was stopped.
	ErrLimit = errors.New("the program was stopped at a limit")
)

// Limit names one of the bounds of [Limits].
type Limit uint8

// The bounds Run enforces by stopping the program.
const (
	// LimitWall is Limits.Wall: wall-clock time.
	LimitWall Limit = iota + 1
	// LimitCPU is Limits.CPU (the kernel sent SIGXCPU).
	LimitCPU
	// LimitFileSize is Limits.FileSize (the kernel sent SIGXFSZ).
	LimitFileSize
	// LimitProcesses is Limits.Processes: a fork bomb.
	LimitProcesses
	// LimitOutput is Limits.Output, on stdout or stderr.
	LimitOutput
	// LimitEvents is Limits.Events: system calls and signals recorded.
	LimitEvents
	// LimitFaultLoop is Limits.RepeatedFaults: the same fault again and
	// again with no progress in between.
	LimitFaultLoop
	// LimitCanceled is not a bound: the caller's context was done.
	LimitCanceled
)

var limitNames = [...]string{
	LimitWall:      "wall-clock time",
	LimitCPU:       "CPU time",
	LimitFileSize:  "file size",
	LimitProcesses: "processes",
	LimitOutput:    "output",
	LimitEvents:    "events",
	LimitFaultLoop: "repeated faults",
	LimitCanceled:  "canceled",
}

func (l Limit) String() string {
	if int(l) < len(limitNames) && limitNames[l] != "" {
		return limitNames[l]
	}
	return fmt.Sprintf("Limit(%d)", uint8(l))
}

// LimitError says why Run stopped a program before it ended by itself.
type LimitError struct {
	// Limit is the bound that was reached.
	Limit Limit
	// What says what happened, in words: "more than 32 processes",
	// "16 faults in a row at 0x7f0000001000 with no progress".
	What string
	// Seq is the event at which the bound was reached ([Event.Seq]), or -1
	// when no event is to blame (time, output).
	Seq int
	// Addr is the faulting address, for LimitFaultLoop.
	Addr uint64
}

func (e *LimitError) Error() string {
	return "stopped: " + e.What
}

// Is makes a *LimitError match [ErrLimit].
func (e *LimitError) Is(target error) bool { return target == ErrLimit }
