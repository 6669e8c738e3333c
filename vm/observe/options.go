package observe

import (
	"fmt"
	"time"
)

// Options configure [Run]. A nil *Options means the defaults.
type Options struct {
	// Args are the program's arguments, after argv[0].
	Args []string
	// Env is the program's environment. Nil means a small fixed one:
	// PATH, HOME and TMPDIR (the working directory), LANG=C.
	Env []string
	// Credential is who the program runs as when vmsim is root. Nil means
	// user and group nobody. Without root the program runs as the caller,
	// and a Credential for another user fails with ErrPermission.
	Credential *Credential
	// Limits bound the program; the zero value of each field means its
	// default.
	Limits Limits
	// CaptureBytes is how many bytes of each write's buffer are recorded
	// ([Syscall.Data]). Zero means 4096; negative means none.
	CaptureBytes int
	// Setup, if not nil, fills the working directory before the program
	// starts. It runs as the caller; what it creates is then given to the
	// program's user (modes unchanged).
	Setup func(dir string) error
	// Started, if not nil, is called once the program is stopped before
	// its first instruction, with its process id: the time to attach
	// other observers to it (the kernel's page faults). An error stops
	// the run.
	Started func(pid int) error
	// Inspect, if not nil, is called when a process is stopped with its
	// memory intact at a moment worth reading it: about to unmap memory or
	// to exit, at the end of a signal handler, about to die of a signal,
	// or about to be killed by Run at a limit; in says which
	// ([Inspection]). t is the trace so far: its last event is the one
	// the process is stopped at. mem is valid only during the call. It
	// runs on the tracer's thread: keep it short.
	Inspect func(t *Trace, tgid int, mem Memory, in Inspection)
	// Done, if not nil, is called once every process of the program has
	// ended, before the working directory is removed: the time to look
	// at the files the program made. Its error is Run's.
	Done func(dir string, t *Trace) error
}

// Inspection says when [Options.Inspect] is called.
type Inspection struct {
	// At is the moment.
	At InspectAt
	// Ended are the signals whose handlers ended at the last event
	// (AtHandlerEnd), innermost first; their End and EndSeq say how.
	Ended []*Signal
}

// InspectAt is a moment at which [Options.Inspect] is called.
type InspectAt uint8

// The moments of Options.Inspect.
const (
	// AtSyscall: at the entry of munmap, or of exit_group (exit, for a
	// process's last thread), which is the last event.
	AtSyscall InspectAt = iota + 1
	// AtHandlerEnd: handlers of the thread ended: at the entry of their
	// rt_sigreturn, or at the first event after the thread jumped out of
	// them (siglongjmp). The same event may then also be AtSyscall or
	// AtSignal, in a call of its own after this one.
	AtHandlerEnd
	// AtSignal: the last event is a signal the process is about to die
	// of: a fault it cannot handle (no handler, or the signal blocked),
	// or a signal whose default action ends the process.
	AtSignal
	// AtStop: Run is about to kill the program at a limit the process
	// reached at the last event, a signal (a fault that repeats, SIGXCPU,
	// SIGXFSZ); [Trace.Stopped] will say which.
	AtStop
)

func (a InspectAt) String() string {
	switch a {
	case AtSyscall:
		return "syscall"
	case AtHandlerEnd:
		return "handler end"
	case AtSignal:
		return "fatal signal"
	case AtStop:
		return "stop"
	}
	return fmt.Sprintf("InspectAt(%d)", uint8(a))
}

// Credential is a user and group to run the program as.
type Credential struct {
	UID, GID uint32
}

// Limits bound a traced program. Zero fields mean the defaults given.
type Limits struct {
	// Wall is the wall-clock time the program may run: 10s.
	Wall time.Duration
	// Grace is how long the other processes may go on once the first one
	// ended, before they are killed: 1s.
	Grace time.Duration
	// CPU is the CPU time of each process (RLIMIT_CPU), rounded up to a
	// second: 5s.
	CPU time.Duration
	// AddressSpace is the address space of each process, in bytes
	// (RLIMIT_AS): 1 GiB.
	AddressSpace uint64
	// FileSize is the largest file a process may write, in bytes
	// (RLIMIT_FSIZE): 64 MiB.
	FileSize uint64
	// OpenFiles is the number of descriptors of a process
	// (RLIMIT_NOFILE): 64.
	OpenFiles uint64
	// Processes is how many processes the program may make, the first
	// one included: 16. Run stops the program at one more (it holds each
	// new process stopped until it has counted it). RLIMIT_NPROC, which
	// counts all of the user's tasks, is set as a backstop to this many
	// more than the user already has plus 1,024, room for other runs as
	// the same user.
	Processes int
	// Output is the most bytes kept of stdout, and of stderr; more stops
	// the program: 1 MiB.
	Output int
	// Events is the most events recorded; more stops the program:
	// 200,000.
	Events int
	// RepeatedFaults is how many times the same fault (signal, code,
	// address, instruction) may repeat with no system call outside a
	// handler in between before the program is stopped: 16.
	RepeatedFaults int
}

// Defaults of Limits.
const (
	DefaultWall           = 10 * time.Second
	DefaultGrace          = time.Second
	DefaultCPU            = 5 * time.Second
	DefaultAddressSpace   = 1 << 30
	DefaultFileSize       = 64 << 20
	DefaultOpenFiles      = 64
	DefaultProcesses      = 16
	DefaultOutput         = 1 << 20
	DefaultEvents         = 200_000
	DefaultRepeatedFaults = 16
	DefaultCaptureBytes   = 4096
)

// withDefaults returns l with every zero field set to its default.
func (l Limits) withDefaults() Limits {
	set := func(v *time.Duration, d time.Duration) {
		if *v <= 0 {
			*v = d
		}
	}
	set(&l.Wall, DefaultWall)
	set(&l.Grace, DefaultGrace)
	set(&l.CPU, DefaultCPU)
	if l.AddressSpace == 0 {
		l.AddressSpace = DefaultAddressSpace
	}
	if l.FileSize == 0 {
		l.FileSize = DefaultFileSize
	}
	if l.OpenFiles == 0 {
		l.OpenFiles = DefaultOpenFiles
	}
	if l.Processes <= 0 {
		l.Processes = DefaultProcesses
	}
	if l.Output <= 0 {
		l.Output = DefaultOutput
	}
	if l.Events <= 0 {
		l.Events = DefaultEvents
	}
	if l.RepeatedFaults <= 0 {
		l.RepeatedFaults = DefaultRepeatedFaults
	}
	return l
}
