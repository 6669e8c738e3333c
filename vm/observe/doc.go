// Package observe runs a program under ptrace and records what it does:
// every system call with its arguments and result, every signal with its
// siginfo, which system calls ran inside a signal handler, forks, execs and
// exits, and what it wrote to stdout and stderr. It knows nothing of
// exercises: it yields a [Trace]; package vm/exercise/check judges it.
//
// # Running
//
// [Run] starts the program in a fresh temporary directory (removed when Run
// returns; [Options.Setup] fills it first, [Options.Done] looks at it last),
// with stdin from /dev/null, stdout and stderr captured, in a process group
// of its own. It follows every fork, vfork and clone, so every process the
// program makes is traced, and it returns once every one of them has ended.
//
// The program is untrusted. Run bounds it ([Limits]): CPU time, address
// space, file size, open files and processes (rlimits set before its first
// instruction, with prlimit), the number of processes traced, wall-clock
// time, output and events recorded, and a fault that repeats at one address
// with no progress (a handler that does not resolve it makes the kernel
// restart the faulting instruction forever). When a bound is reached, Run
// kills every process of the program and records a [*LimitError] in
// [Trace.Stopped]; Run's own error is for a program that could not be
// started or traced at all. When the program's first process ends, the
// others get [Limits.Grace] to end, then they are killed
// ([Trace.LeftBehind]). PTRACE_O_EXITKILL kills them all if vmsim itself
// dies. No process of the program outlives Run.
//
// As root, Run gives up its privileges before the program's first
// instruction: the program runs as [Options.Credential] (user and group
// nobody by default), with no supplementary groups; as anyone else it runs
// as the caller, and asking for another user fails with [ErrPermission].
// It never runs a program as root. Tracing one's own child needs no
// privilege (Yama's ptrace_scope 0 and 1 allow it); where ptrace is refused
// Run fails with an error matching [ErrPermission] that says why.
//
// # Handlers
//
// When a signal is delivered to a handler, Run steps the thread into it
// (PTRACE_SINGLESTEP with the signal, which stops at the handler's first
// instruction) and notes the handler's address and stack pointer, and on
// x86-64 the page fault's error code from the signal frame (read or
// write; not present or protection). A later stop of that thread with its
// stack pointer above the handler's frame has left the handler: through
// rt_sigreturn (the handler returned) or by a jump (longjmp, siglongjmp).
// Every event in between is marked as run inside the handler
// ([Event.Handler]). After a jump, the signal mask the thread is left with
// is read from /proc ([Signal.MaskAfter]).
//
// # Architectures
//
// Linux on x86-64 and arm64 (registers through PTRACE_GETREGS and
// PTRACE_GETREGSET). Elsewhere Run fails with an error matching
// [ErrNotSupported] that names what is missing. 32-bit x86 programs are
// refused. The page fault's error code is read on x86-64 only.
//
// # Threads
//
// Run calls ptrace from one locked OS thread, the one that started the
// program, as the kernel requires of a tracer. Several Runs may go on at
// once, each on its own thread.
package observe

//go:generate go run gensysnames.go
