package check

import (
	"fmt"
	"strings"
	"syscall"

	"vmsim/vm/exercise"
	"vmsim/vm/observe"
)

// The remap exercise: base points where nothing is mapped; reading base[0]
// faults (SEGV_MAPERR); the handler maps an anonymous page, stores 'A' and
// jumps back (siglongjmp); the read runs again and base[0] = A is printed.
var remapExercise = &Exercise{
	Name:      "remap",
	Summary:   "the handler mmaps the missing page, stores 'A' and siglongjmps back",
	TakesArgs: true,
	Checks: []Check{
		{"handles SIGSEGV", "no handler, or one installed after the fault", remapHandler},
		{"the read of base[0] faults (SEGV_MAPERR)", "a program that never faults, a base that points to mapped memory (SEGV_ACCERR), a signal sent by hand", remapFirstFault},
		{"the handler maps an anonymous page", "a handler that maps nothing, or whose mmap fails (EEXIST with MAP_FIXED_NOREPLACE, EINVAL)", remapMaps},
		{"the handler stores 'A' in it", "a page that does not hold 'A' (read from the process's memory when the handler ends, and after); a warning when the program is stopped before it can be read", remapStores},
		{"control returns by a jump", "a handler that returns instead (a warning where it works: the read restarts with the old address)", remapJumps},
		{"SIGSEGV is unblocked after the jump", "a plain longjmp (after signal() and setjmp) that leaves SIGSEGV blocked: a warning, or a failure when a second fault kills the program", remapMask},
		{"the read after the jump succeeds", "a handler that maps a page elsewhere but never updates base: the read faults again, forever", remapRetry},
		{"prints base[0] = A", "output without the line", remapPrints},
		{"exactly one fault", "every extra fault", remapOneFault},
		{"exits with status 0", "a crash (which signal, where), a failure status, a program vmsim had to stop", func(r *run) Result { return r.exitCheck(r.t.PID, "program") }},
	},
}

func remapHandler(r *run) Result {
	before := len(r.t.Events)
	if fs := r.faults(r.t.PID); len(fs) > 0 {
		before = fs[0].Seq
	}
	if e := r.action(r.t.PID, syscall.SIGSEGV, before); e != nil {
		return Result{Status: OK, Evidence: []string{line(e)}, Explanation: "A SIGSEGV handler is installed before the read."}
	}
	if e := r.action(r.t.PID, syscall.SIGSEGV, len(r.t.Events)); e != nil {
		return Result{Status: Failed, Evidence: []string{line(e)}, Explanation: "The SIGSEGV handler is installed only after the fault: install it before reading base[0]."}
	}
	return Result{Status: Failed, Explanation: "No SIGSEGV handler was installed (sigaction or signal): the read of unmapped memory kills the program."}
}

// firstFault returns the first fault of the first process, or nil.
func (r *run) firstFault() *observe.Event {
	if fs := r.faults(r.t.PID); len(fs) > 0 {
		return fs[0]
	}
	return nil
}

func remapFirstFault(r *run) Result {
	for _, s := range r.t.Signals(r.t.PID) {
		if s.Signal.Signo == syscall.SIGSEGV && !s.Signal.IsFault() {
			return Result{Status: Failed, Evidence: []string{line(s)}, Explanation: fmt.Sprintf("The program sent itself SIGSEGV (si_code %s) instead of reading unmapped memory: the exercise is about the fault the CPU raises for the read of base[0].", s.Signal.CodeName())}
		}
	}
	f := r.firstFault()
	if f == nil {
		why := "The program never faulted: base[0] was never read from unmapped memory. Printing base[0] = A is not enough: the read must fault and the handler must map the page."
		return Result{Status: Failed, Explanation: why}
	}
	ev := []string{line(f)}
	s := f.Signal
	switch {
	case s.Signo != syscall.SIGSEGV:
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The fault is %s %s; reading where nothing is mapped raises SIGSEGV with SEGV_MAPERR.", observe.SignalName(s.Signo), s.CodeName())}
	case s.CodeName() == "SEGV_ACCERR":
		return Result{Status: Failed, Evidence: ev, Explanation: "The fault is SEGV_ACCERR: something is mapped at base, but not readable. In the exercise nothing is mapped there (SEGV_MAPERR), and the handler maps it."}
	case s.CodeName() != "SEGV_MAPERR":
		return Result{Status: Failed, Evidence: ev, Explanation: "The fault's si_code is " + s.CodeName() + ", not SEGV_MAPERR."}
	case s.Access.Known && s.Access.Write():
		return Result{Status: Warning, Evidence: ev, Explanation: "The access that faulted is a write; the course reads base[0]."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "Reading base[0] raised SIGSEGV with SEGV_MAPERR: nothing was mapped there."}
}

// handlerMap returns the first fault and the first successful anonymous
// mmap of its handler (nil if none), with every mmap of the handler.
func (r *run) handlerMap() (*observe.Event, *observe.Event, []*observe.Event) {
	f, calls := r.firstHandlerCalls("mmap")
	for _, c := range calls {
		if c.Syscall.OK() && c.Syscall.Args[3]&mapAnonymous != 0 {
			return f, c, calls
		}
	}
	return f, nil, calls
}

func remapMaps(r *run) Result {
	f, m, calls := r.handlerMap()
	if f == nil || f.Signal.Handler == 0 {
		return Result{Status: Failed, Explanation: "No fault reached a handler (see the checks above)."}
	}
	ev := lines(calls, 3)
	if m == nil {
		if len(calls) > 0 {
			return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The handler's mmap failed: %s. Without a page there, the read faults again.", errnoText("mmap", calls[0].Syscall.Errno()))}
		}
		return Result{Status: Failed, Evidence: []string{line(f)}, Explanation: "The handler maps nothing: the page at base stays unmapped, and the read faults again. The handler must mmap a page (PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS)."}
	}
	if m.Syscall.Args[2]&protWrite == 0 {
		return Result{Status: Failed, Evidence: ev, Explanation: "The handler maps the page without PROT_WRITE: storing 'A' in it faults."}
	}
	return Result{Status: OK, Evidence: []string{line(m)}, Explanation: fmt.Sprintf("Inside the handler, mmap maps an anonymous page at %#x.", uint64(m.Syscall.Ret))}
}

func remapStores(r *run) Result {
	_, m, _ := r.handlerMap()
	if m == nil {
		return Result{Status: Failed, Explanation: "The handler mapped no page to store 'A' in."}
	}
	addr := uint64(m.Syscall.Ret)
	b, at, ok := r.memory(r.t.PID, addr, 1, m.Seq)
	if !ok {
		return Result{Status: Warning, Evidence: append([]string{line(m)}, r.stopEvidence()...), Explanation: fmt.Sprintf("Cannot confirm that the handler stores 'A': the program was stopped before the page at %#x could be read from its memory (vmsim reads it when the handler returns or jumps out, when the program unmaps it, and when it exits or dies of a signal).", addr) + r.stoppedWhy()}
	}
	ev := []string{line(m), memoryLine(r, at, fmt.Sprintf("%#x holds %s", addr, exercise.QuoteByte(b[0])))}
	if b[0] != 'A' {
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The handler's page holds %s at its start, not 'A'.", exercise.QuoteByte(b[0]))}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The page the handler mapped holds 'A' (read from the process's memory)."}
}

func remapJumps(r *run) Result {
	f := r.firstFault()
	if f == nil || f.Signal.Handler == 0 {
		return Result{Status: Failed, Explanation: "No fault reached a handler (see the checks above)."}
	}
	s := f.Signal
	ev := []string{line(f)}
	if s.EndSeq < len(r.t.Events) && s.End != observe.EndNone {
		ev = append(ev, "then: "+line(&r.t.Events[s.EndSeq]))
	}
	switch s.End {
	case observe.EndJumped:
		return Result{Status: OK, Evidence: ev, Explanation: "The handler left by a jump (no rt_sigreturn): siglongjmp back to the sigsetjmp point, so the read is computed again from base."}
	case observe.EndReturned:
		if len(r.faults(r.t.PID)) == 1 {
			return Result{Status: Warning, Evidence: ev, Explanation: "The handler returned (rt_sigreturn) instead of jumping: the kernel restarted the read with the address it had already computed. It works here only because the page was mapped exactly at that address. The course jumps back (siglongjmp) so that the read uses base again, which the handler may have moved."}
		}
		return Result{Status: Failed, Evidence: ev, Explanation: "The handler returned (rt_sigreturn): the kernel restarted the read with the old address, which still has nothing mapped, so it faulted again. Jump back with siglongjmp to a sigsetjmp point before the read, so that it reads base again."}
	case observe.EndDied:
		return Result{Status: Failed, Evidence: ev, Explanation: "The program ended inside the handler: it never went back to the read."}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: "The handler did not end."}
}

func remapRetry(r *run) Result {
	fs := r.faults(r.t.PID)
	if len(fs) == 0 {
		return Result{Status: Failed, Explanation: "No fault (see the check of the read)."}
	}
	first := fs[0].Signal
	var again []*observe.Event
	for _, g := range fs[1:] {
		if g.Signal.Addr == first.Addr {
			again = append(again, g)
		}
	}
	if len(again) == 0 {
		ev := []string{line(fs[0])}
		return Result{Status: OK, Evidence: ev, Explanation: "After the handler, the read of base[0] did not fault again: it found the page."}
	}
	ev := append([]string{line(fs[0])}, lines(again, 2)...)
	_, m, _ := r.handlerMap()
	why := fmt.Sprintf("The read faulted again at %#x, %d more time(s): after the handler there is still nothing at the address the read uses.", first.Addr, len(again))
	if m != nil {
		q := uint64(m.Syscall.Ret)
		page := first.Addr &^ (r.ps - 1)
		if q != page {
			why = fmt.Sprintf("The handler mapped a page at %#x, but the read faults again at %#x: base still points to the old address. After mapping the page elsewhere, set base to it (base = q) before jumping back, or map the page at base itself (mmap(base, ...) with MAP_FIXED_NOREPLACE).", q, first.Addr)
		}
	}
	if le := r.t.Stopped; le != nil && le.Limit == observe.LimitFaultLoop {
		why += " It would go on forever: vmsim stopped the program."
		ev = append(ev, r.stopEvidence()...)
	}
	return Result{Status: Failed, Evidence: ev, Explanation: why}
}

func remapPrints(r *run) Result {
	out := r.t.Stdout.String()
	var ev []string
	for _, e := range r.t.Syscalls(r.t.PID, "write") {
		if e.Syscall.Int(0) == 1 && strings.Contains(string(e.Syscall.Data), "base[0]") {
			ev = append(ev, line(e))
		}
	}
	if strings.Contains(out, "base[0] = A") {
		return Result{Status: OK, Evidence: ev, Explanation: "The program printed base[0] = A."}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The output has no line base[0] = A (it printed %q).", truncate(out, 80)) + r.stoppedNote()}
}

func remapOneFault(r *run) Result {
	fs := r.faults(r.t.PID)
	switch len(fs) {
	case 1:
		return Result{Status: OK, Evidence: lines(fs, 1), Explanation: "Exactly one fault: the read of base[0]."}
	case 0:
		return Result{Status: Failed, Explanation: "No fault at all: the exercise is about one."}
	}
	return Result{Status: Failed, Evidence: lines(fs, 3), Explanation: fmt.Sprintf("%d faults instead of one.", len(fs))}
}

func remapMask(r *run) Result {
	fs := r.faults(r.t.PID)
	if len(fs) == 0 || fs[0].Signal.Handler == 0 {
		return Result{Status: Failed, Explanation: "No fault reached a handler (see the checks above)."}
	}
	s := fs[0].Signal
	ev := []string{line(fs[0])}
	if s.End != observe.EndJumped {
		return Result{Status: OK, Evidence: ev, Explanation: "The handler did not jump out, so the mask it ran with was undone (rt_sigreturn restores it)."}
	}
	if !s.MaskAfterKnown {
		return Result{Status: Warning, Evidence: ev, Explanation: "The signal mask after the jump could not be read."}
	}
	ev = append(ev, fmt.Sprintf("after the jump, the blocked signals are %s", observe.SigsetString(s.MaskAfter)))
	if !s.MaskBlocks(syscall.SIGSEGV) {
		return Result{Status: OK, Evidence: ev, Explanation: "After the jump SIGSEGV is not blocked: siglongjmp to sigsetjmp(env, 1) restored the signal mask, so a later fault would reach the handler again."}
	}
	for _, g := range fs[1:] {
		if g.Signal.Blocked && g.Signal.Signo == syscall.SIGSEGV {
			ev = append(ev, line(g))
			if ex := r.exitEvent(r.t.PID); ex != nil {
				ev = append(ev, line(ex))
			}
			return Result{Status: Failed, Evidence: ev, Explanation: "The jump out of the handler left SIGSEGV blocked (while a handler runs its signal is blocked, and a plain longjmp does not undo that). The next fault found it blocked: the kernel cannot deliver a blocked fault, so it killed the program. Use sigsetjmp(env, 1) and siglongjmp(env, 1), which save and restore the mask."}
		}
	}
	return Result{Status: Warning, Evidence: ev, Explanation: "The jump out of the handler left SIGSEGV blocked: while a handler runs its signal is blocked, and a plain longjmp (after setjmp, which saved no mask) does not undo that. Here it does no harm, but a second fault would kill the program instead of reaching the handler. Use sigsetjmp(env, 1) and siglongjmp(env, 1)."}
}
