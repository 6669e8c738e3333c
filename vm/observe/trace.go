package observe

import (
	"strings"
	"time"
)

// Trace is what a program did under [Run].
type Trace struct {
	// Events are the events in the order the tracer saw them.
	Events []Event
	// PID is the process id of the program's first process.
	PID int
	// Exit is how the first process ended.
	Exit *Exit
	// Stdout and Stderr are what the program's processes wrote there.
	Stdout, Stderr Output
	// Stopped says why Run stopped the program before it ended by
	// itself; nil if it ended by itself.
	Stopped *LimitError
	// LeftBehind are the processes still running Limits.Grace after the
	// first one ended, which Run killed.
	LeftBehind []int
	// Processes is the number of processes the program had, the first
	// one included.
	Processes int
	// Wall is how long the program ran.
	Wall time.Duration
	// Dir is the working directory it ran in; Run removes it before it
	// returns.
	Dir string
	// Loader is where the dynamic loader (the ELF interpreter, ld.so) of
	// the first process was mapped when it started: empty for a static
	// program. A system call made from it ([Syscall.IP] in it) is the
	// loader's, not the program's: before main runs, it maps the
	// libraries, their data and their thread-local storage.
	Loader AddrRange
}

// AddrRange is the addresses from Start up to End, End excluded.
type AddrRange struct {
	Start, End uint64
}

// Contains reports whether addr is in the range.
func (r AddrRange) Contains(addr uint64) bool { return addr >= r.Start && addr < r.End }

// Output is what was written to one stream.
type Output struct {
	// Data is what was kept: at most Limits.Output bytes.
	Data []byte
	// Total is how many bytes were written.
	Total int64
}

// Truncated reports whether more was written than kept.
func (o Output) Truncated() bool { return o.Total > int64(len(o.Data)) }

func (o Output) String() string { return string(o.Data) }

// Syscalls returns the system calls named name (every call if name is
// empty) of process tgid (every process if tgid is 0), in order.
func (t *Trace) Syscalls(tgid int, name string) []*Event {
	var out []*Event
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind == KindSyscall && (tgid == 0 || e.TGID == tgid) && (name == "" || e.Syscall.Name == name) {
			out = append(out, e)
		}
	}
	return out
}

// Signals returns the signals of process tgid (every process if 0).
func (t *Trace) Signals(tgid int) []*Event {
	var out []*Event
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind == KindSignal && (tgid == 0 || e.TGID == tgid) {
			out = append(out, e)
		}
	}
	return out
}

// ExitOf returns how process tgid ended, nil if the trace does not say.
func (t *Trace) ExitOf(tgid int) *Exit {
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind == KindExit && e.TGID == tgid {
			return e.Exit
		}
	}
	return nil
}

// Children returns the processes that process tgid forked, in order.
func (t *Trace) Children(tgid int) []int {
	var out []int
	for i := range t.Events {
		e := &t.Events[i]
		if e.Kind == KindFork && e.TGID == tgid && !e.Fork.Thread {
			out = append(out, e.Fork.Child)
		}
	}
	return out
}

// Written returns what process tgid wrote to descriptor fd, from the
// recorded write system calls (at most Options.CaptureBytes of each).
func (t *Trace) Written(tgid, fd int) string {
	var b strings.Builder
	for _, e := range t.Syscalls(tgid, "write") {
		if e.Syscall.Int(0) == fd && e.Syscall.OK() {
			n := min(int(e.Syscall.Ret), len(e.Syscall.Data))
			b.Write(e.Syscall.Data[:n])
		}
	}
	return b.String()
}

// Memory reads the memory of a stopped traced process.
type Memory interface {
	// ReadAt reads len(p) bytes at address addr. A short count comes with
	// an error (part of the range is not mapped).
	ReadAt(p []byte, addr uint64) (int, error)
}
