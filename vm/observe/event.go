package observe

import (
	"fmt"
	"syscall"
	"time"
)

// Kind says what an [Event] records.
type Kind uint8

// The kinds of events.
const (
	// KindSyscall is a system call: Event.Syscall is set.
	KindSyscall Kind = iota + 1
	// KindSignal is a signal about to be delivered: Event.Signal is set.
	KindSignal
	// KindFork is a new process or thread: Event.Fork is set.
	KindFork
	// KindExec is a successful execve: Event.Exec is set.
	KindExec
	// KindExit is the end of a process: Event.Exit is set.
	KindExit
)

func (k Kind) String() string {
	switch k {
	case KindSyscall:
		return "syscall"
	case KindSignal:
		return "signal"
	case KindFork:
		return "fork"
	case KindExec:
		return "exec"
	case KindExit:
		return "exit"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Event is one thing a traced program did, in the order the tracer saw it.
// Exactly one of Syscall, Signal, Fork, Exec and Exit is set, as Kind says.
type Event struct {
	// Seq is the event's index in [Trace.Events].
	Seq int
	// PID is the thread (task) id; TGID the process id. They are equal
	// for a single-threaded process.
	PID, TGID int
	// Time is when the tracer saw it, since the program started.
	Time time.Duration
	Kind Kind
	// Handler is the signal whose handler the thread was running, or nil.
	// Handlers nest: this is the innermost.
	Handler *Signal

	Syscall *Syscall
	Signal  *Signal
	Fork    *Fork
	Exec    *Exec
	Exit    *Exit
}

// String prints the event as one line, strace's way: "[pid 42] mmap(NULL,
// 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f5e4a2b1000".
func (e *Event) String() string {
	var body string
	switch e.Kind {
	case KindSyscall:
		body = e.Syscall.String()
	case KindSignal:
		body = e.Signal.String()
	case KindFork:
		body = e.Fork.String()
	case KindExec:
		body = e.Exec.String()
	case KindExit:
		body = e.Exit.String()
	default:
		body = e.Kind.String()
	}
	return fmt.Sprintf("[pid %d] %s", e.PID, body)
}

// Syscall is one system call. Its arguments are those at entry; Ret is set
// when it returns (Done).
type Syscall struct {
	// Nr is the system call's number on this architecture, Name its name
	// ("mmap"), or "syscall_N" for a number this package does not know.
	Nr   int
	Name string
	// Args are the six argument registers at entry.
	Args [6]uint64
	// Ret is the result: on failure, minus the errno (see [Syscall.Errno]).
	Ret int64
	// Done reports whether the call returned; it is false for exit_group,
	// a successful execve's old image, and a call interrupted by the end
	// of the process.
	Done bool
	// Returned is the number of events recorded when it returned: the
	// events with Seq < Returned happened before it returned.
	Returned int
	// IP and SP are the instruction and stack pointers at entry.
	IP, SP uint64

	// Path is the path argument of calls that take one (open, openat,
	// creat, execve, unlink, unlinkat, mkdir, stat, ...).
	Path string
	// Data is the start of the buffer of write and pwrite64, at most
	// Options.CaptureBytes bytes of it.
	Data []byte
	// Action is rt_sigaction's new action, nil if it passed none.
	Action *Sigaction
	// Set is rt_sigprocmask's set argument (bit n-1 is signal n), nil if
	// it passed none.
	Set *uint64
	// Status is the status wait4 stored for the child it returned, nil if
	// none.
	Status *WaitStatus
	// FDs are the descriptors pipe and pipe2 returned.
	FDs [2]int
	// CloneFlags are the flags of clone and clone3.
	CloneFlags uint64
}

// Arg returns argument i (0 to 5).
func (s *Syscall) Arg(i int) uint64 { return s.Args[i] }

// Int returns argument i as a C int (a descriptor, a signal number).
func (s *Syscall) Int(i int) int { return int(int32(s.Args[i])) }

// Errno returns the error the call failed with, or 0 if it succeeded or
// has not returned.
func (s *Syscall) Errno() syscall.Errno {
	if s.Done && s.Ret < 0 && s.Ret >= -4095 {
		return syscall.Errno(-s.Ret)
	}
	return 0
}

// OK reports whether the call returned without an error.
func (s *Syscall) OK() bool { return s.Done && s.Errno() == 0 }

// String prints the call as strace does.
func (s *Syscall) String() string { return formatSyscall(s) }

// Sigaction is a signal action as rt_sigaction passes it.
type Sigaction struct {
	// Handler is the handler's address, or SigDefault or SigIgnore.
	Handler uint64
	// Flags are the SA_* flags.
	Flags uint64
	// Restorer is the address rt_sigreturn is called from (SA_RESTORER).
	Restorer uint64
	// Mask are the signals blocked while the handler runs (bit n-1 is
	// signal n), besides the signal itself unless SA_NODEFER.
	Mask uint64
}

// Special handler values of [Sigaction.Handler].
const (
	SigDefault = 0 // SIG_DFL
	SigIgnore  = 1 // SIG_IGN
)

// SA_* flags of [Sigaction.Flags] (the same on every Linux architecture
// this package supports).
const (
	SANoCldStop = 0x1
	SANoCldWait = 0x2
	SASiginfo   = 0x4
	SARestorer  = 0x04000000
	SAOnStack   = 0x08000000
	SARestart   = 0x10000000
	SANoDefer   = 0x40000000
	SAResetHand = 0x80000000
)

// IsHandler reports whether the action runs a handler.
func (a *Sigaction) IsHandler() bool { return a.Handler != SigDefault && a.Handler != SigIgnore }

// String prints the action as strace does: "{sa_handler=0x401196,
// sa_mask=[], sa_flags=SA_RESTORER|SA_SIGINFO, sa_restorer=0x7f...}".
func (a *Sigaction) String() string { return formatSigaction(a) }

// WaitStatus is a status as wait4 stores it.
type WaitStatus uint32

// Exited reports whether the child exited normally; ExitStatus is then
// its status.
func (w WaitStatus) Exited() bool    { return w&0x7f == 0 }
func (w WaitStatus) ExitStatus() int { return int(w>>8) & 0xff }

// Signaled reports whether a signal killed the child; Signal is then the
// signal.
func (w WaitStatus) Signaled() bool         { return w&0x7f != 0 && w&0x7f != 0x7f }
func (w WaitStatus) Signal() syscall.Signal { return syscall.Signal(w & 0x7f) }

// String prints the status as strace does: "[{WIFEXITED(s) && WEXITSTATUS(s) == 0}]".
func (w WaitStatus) String() string {
	switch {
	case w.Exited():
		return fmt.Sprintf("[{WIFEXITED(s) && WEXITSTATUS(s) == %d}]", w.ExitStatus())
	case w.Signaled():
		return fmt.Sprintf("[{WIFSIGNALED(s) && WTERMSIG(s) == %s}]", signalName(w.Signal()))
	}
	return fmt.Sprintf("[%#x]", uint32(w))
}

// Signal is a signal about to be delivered to a thread (a
// signal-delivery-stop), with its siginfo and, once known, what its
// handler did.
type Signal struct {
	// Seq is the event that records it.
	Seq int
	// Signo, Code and Errno are siginfo's si_signo, si_code and si_errno.
	Signo syscall.Signal
	Code  int32
	Errno int32
	// Addr is si_addr, for SIGSEGV, SIGBUS, SIGILL, SIGFPE and SIGTRAP.
	Addr uint64
	// SenderPID and SenderUID are si_pid and si_uid, for a signal sent
	// by a process (si_code SI_USER, SI_TKILL, SI_QUEUE) and SIGCHLD.
	SenderPID, SenderUID int
	// IP and SP are the interrupted thread's instruction and stack
	// pointers.
	IP, SP uint64
	// Blocked reports whether the thread had the signal blocked when the
	// kernel raised it. A fault raised while its signal is blocked kills
	// the process: the kernel resets the action to the default.
	Blocked bool

	// Handler is the address of the handler the signal was delivered to,
	// 0 if it was not delivered to one (the default action, ignored, or
	// the process died).
	Handler uint64
	// HandlerSP is the stack pointer at the handler's first instruction:
	// the signal frame.
	HandlerSP uint64
	// Access is what the faulting access was, from the page fault's error
	// code in the signal frame (x86-64); Access.Known is false elsewhere.
	Access Access
	// End says how the handler ended, EndSeq the event that showed it: the
	// rt_sigreturn, or the first event after a jump out.
	End    HandlerEnd
	EndSeq int
	// MaskAfter is the set of blocked signals (bit n-1 is signal n) of
	// the thread after a jump out of the handler, if MaskAfterKnown.
	MaskAfter      uint64
	MaskAfterKnown bool
}

// IsFault reports whether the kernel raised the signal for a faulting
// instruction (SIGSEGV, SIGBUS, SIGILL, SIGFPE with a positive si_code),
// rather than a process sending it with kill, tgkill or raise.
func (s *Signal) IsFault() bool {
	switch s.Signo {
	case syscall.SIGSEGV, syscall.SIGBUS, syscall.SIGILL, syscall.SIGFPE:
		return s.Code > 0 && s.Code != siKernel
	}
	return false
}

// CodeName is si_code's name: "SEGV_ACCERR", "BUS_ADRERR", "SI_TKILL".
func (s *Signal) CodeName() string { return codeName(s.Signo, s.Code) }

// String prints the signal as strace does, with what the tracer learned:
// "--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7f...} ---
// (write access; to the handler at 0x401196)".
func (s *Signal) String() string { return formatSignal(s) }

// MaskBlocks reports whether MaskAfter blocks sig.
func (s *Signal) MaskBlocks(sig syscall.Signal) bool {
	return s.MaskAfterKnown && s.MaskAfter&(1<<(uint(sig)-1)) != 0
}

// HandlerEnd says how a signal handler ended.
type HandlerEnd uint8

// How handlers end.
const (
	// EndNone: not delivered to a handler, or the handler has not ended.
	EndNone HandlerEnd = iota
	// EndReturned: the handler returned (rt_sigreturn): the interrupted
	// instruction runs again.
	EndReturned
	// EndJumped: the thread left the handler's frame without
	// rt_sigreturn: a longjmp or siglongjmp out of it.
	EndJumped
	// EndDied: the process ended while in the handler (exit in the
	// handler, or killed).
	EndDied
)

func (h HandlerEnd) String() string {
	switch h {
	case EndNone:
		return "none"
	case EndReturned:
		return "returned"
	case EndJumped:
		return "jumped out"
	case EndDied:
		return "died in it"
	}
	return fmt.Sprintf("HandlerEnd(%d)", uint8(h))
}

// Access is the kind of access that faulted, from an x86 page fault's
// error code.
type Access struct {
	// Known reports whether the error code was read (x86-64 page
	// faults).
	Known bool
	// Code is the error code: bit 0 a protection fault (else the page was
	// not present), bit 1 a write, bit 4 an instruction fetch.
	Code uint64
}

// Write reports whether the faulting access was a write.
func (a Access) Write() bool { return a.Known && a.Code&2 != 0 }

// Present reports whether the page was present: a protection fault.
func (a Access) Present() bool { return a.Known && a.Code&1 != 0 }

// Exec reports whether the access was an instruction fetch.
func (a Access) Exec() bool { return a.Known && a.Code&0x10 != 0 }

// String says "write", "read", "instruction fetch" or "unknown".
func (a Access) String() string {
	switch {
	case !a.Known:
		return "unknown"
	case a.Exec():
		return "instruction fetch"
	case a.Write():
		return "write"
	}
	return "read"
}

// Fork is a new task: a process (fork, vfork, clone) or a thread (clone
// with CLONE_THREAD).
type Fork struct {
	// Child is the new task's id.
	Child int
	// Thread reports whether it is a thread of the same process.
	Thread bool
	// How is "fork", "vfork" or "clone".
	How string
}

func (f *Fork) String() string {
	if f.Thread {
		return fmt.Sprintf("+++ %s: new thread %d +++", f.How, f.Child)
	}
	return fmt.Sprintf("+++ %s: child pid %d +++", f.How, f.Child)
}

// Exec is a successful execve.
type Exec struct {
	// Path is the path execve was given.
	Path string
}

func (e *Exec) String() string { return fmt.Sprintf("+++ exec %q +++", e.Path) }

// Exit is the end of a process.
type Exit struct {
	// Code is the exit status, if not Signaled.
	Code int
	// Signal is the signal that killed it, if Signaled.
	Signal   syscall.Signal
	Signaled bool
	// Core reports whether it dumped core.
	Core bool
	// ByTracer reports whether Run killed it (a limit, or left behind).
	ByTracer bool
}

func (e *Exit) String() string {
	switch {
	case e.Signaled && e.ByTracer:
		return "+++ killed by vmsim (SIGKILL) +++"
	case e.Signaled && e.Core:
		return fmt.Sprintf("+++ killed by %s (core dumped) +++", signalName(e.Signal))
	case e.Signaled:
		return fmt.Sprintf("+++ killed by %s +++", signalName(e.Signal))
	}
	return fmt.Sprintf("+++ exited with %d +++", e.Code)
}

// OK reports whether the process exited with status 0.
func (e *Exit) OK() bool { return e != nil && !e.Signaled && e.Code == 0 }

// si_code values that every signal shares.
const (
	siUser   = 0
	siKernel = 0x80
	siQueue  = -1
	siTkill  = -6
)
