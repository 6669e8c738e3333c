package check

import (
	"fmt"
	"regexp"
	"runtime"
	"syscall"

	"vmsim/vm/exercise"
	"vmsim/vm/observe"
)

// The mprotect exercise: one page mapped PROT_NONE; a handler for SIGSEGV
// (and SIGBUS) that mprotects it PROT_READ|PROT_WRITE and returns; the
// write restarts and succeeds; 'c' is read, 'd' written and read.
var mprotectExercise = &Exercise{
	Name:      "mprotect",
	Summary:   "a PROT_NONE page; a SIGSEGV/SIGBUS handler that mprotects it; the write retried",
	TakesArgs: true,
	Checks: []Check{
		{"maps one PROT_NONE page", "a program that maps nothing, maps more than one page, or maps it accessible (then nothing faults)", mprotectMaps},
		{"handles SIGSEGV and SIGBUS", "no handler for SIGSEGV (the fault kills the program), or one for SIGSEGV only (a warning: the course asks for both)", mprotectHandlers},
		{"the first write faults at the page", "a program that never faults (one that only prints the expected lines), a fault elsewhere, a SIGSEGV sent with raise or kill instead of raised by the CPU, a read that faults first", mprotectFirstFault},
		{"the handler mprotects the page PROT_READ|PROT_WRITE", "no mprotect in the handler, PROT_READ only, an unaligned address, a range that misses the page, a failed call; PROT_WRITE alone passes on x86 with a warning", mprotectGrant},
		{"the write is retried and succeeds", "a handler that does not resolve the fault (the kernel restarts the write forever: vmsim stops it), a handler that exits", mprotectRetried},
		{"exactly one fault", "every extra fault: a grant too small for a later access, faults in a loop", mprotectOneFault},
		{"reads 'c', writes 'd', reads 'd'", "output without the values, or a page that does not hold 'd' at the end (read from the process's memory); a warning when the program is stopped before it can be read", mprotectValues},
		{"exits with status 0", "a crash (which signal, where), a failure status, a program vmsim had to stop", func(r *run) Result { return r.exitCheck(r.t.PID, "program") }},
	},
}

// page finds the exercise's page: the PROT_NONE private anonymous mapping
// that the first fault hits, else the first one-page one.
func (r *run) protNonePage() *mapping {
	ms := mappingsOf(r.t, r.t.PID, len(r.t.Events), false)
	var candidates []*mapping
	for _, m := range ms {
		if m.prot == 0 && m.anonymous() && !m.shared() && !r.byLoader(m) {
			candidates = append(candidates, m)
		}
	}
	if fs := r.faults(r.t.PID); len(fs) > 0 {
		for _, m := range candidates {
			if m.contains(fs[0].Signal.Addr) {
				return m
			}
		}
	}
	for _, m := range candidates {
		if m.length == r.ps {
			return m
		}
	}
	if len(candidates) > 0 {
		return candidates[len(candidates)-1]
	}
	return nil
}

func mprotectMaps(r *run) Result {
	m := r.protNonePage()
	if m == nil {
		return Result{Status: Failed, Explanation: "No mmap made a PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS mapping. The exercise starts from one page that nothing may touch, mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0), so that the first write raises a real fault."}
	}
	ev := []string{line(m.ev)}
	if m.length != r.ps {
		return Result{Status: Warning, Evidence: ev, Explanation: fmt.Sprintf("The PROT_NONE mapping is %d bytes (%d pages); the course maps one page of %d bytes. The checks below use its first page.", m.length, m.length/r.ps, r.ps)}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "One page is mapped PROT_NONE: any access to it faults."}
}

func mprotectHandlers(r *run) Result {
	before := len(r.t.Events)
	if fs := r.faults(r.t.PID); len(fs) > 0 {
		before = fs[0].Seq
	}
	segv := r.action(r.t.PID, syscall.SIGSEGV, before)
	bus := r.action(r.t.PID, syscall.SIGBUS, before)
	var ev []string
	for _, e := range []*observe.Event{segv, bus} {
		if e != nil {
			ev = append(ev, line(e))
		}
	}
	switch {
	case segv == nil && r.action(r.t.PID, syscall.SIGSEGV, len(r.t.Events)) != nil:
		return Result{Status: Failed, Evidence: lines([]*observe.Event{r.action(r.t.PID, syscall.SIGSEGV, len(r.t.Events))}, 1), Explanation: "The SIGSEGV handler is installed only after the first fault: install it before touching the page."}
	case segv == nil:
		why := "No handler for SIGSEGV was installed (sigaction or signal). On Linux the write to a PROT_NONE page raises SIGSEGV, and without a handler the kernel kills the program."
		if bus != nil {
			why = "Only SIGBUS has a handler. On Linux the write to a PROT_NONE page raises SIGSEGV (SEGV_ACCERR), not SIGBUS, and without a SIGSEGV handler the kernel kills the program. Install the same handler for both."
		}
		return Result{Status: Failed, Evidence: ev, Explanation: why}
	case bus == nil:
		return Result{Status: Warning, Evidence: ev, Explanation: "Only SIGSEGV has a handler. The course asks for SIGBUS too: other systems (the BSDs, macOS) raise SIGBUS for an access a protection forbids, and Linux raises SIGBUS for a mapped page of a file past its end. Install the same handler for both."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The same kind of handler is installed for SIGSEGV and SIGBUS, before the first fault."}
}

func mprotectFirstFault(r *run) Result {
	m := r.protNonePage()
	sigs := r.t.Signals(r.t.PID)
	for _, s := range sigs {
		if (s.Signal.Signo == syscall.SIGSEGV || s.Signal.Signo == syscall.SIGBUS) && !s.Signal.IsFault() {
			return Result{Status: Failed, Evidence: []string{line(s)}, Explanation: fmt.Sprintf("The program sent itself %s (si_code %s, from process %d) with raise, kill or tgkill. The exercise is about a fault that the CPU raises when the write touches the PROT_NONE page; a signal sent by hand proves nothing.", observe.SignalName(s.Signal.Signo), s.Signal.CodeName(), s.Signal.SenderPID)}
		}
	}
	fs := r.faults(r.t.PID)
	if len(fs) == 0 {
		why := "The program never faulted: nothing touched the PROT_NONE page. Printing what the exercise prints is not enough: the write p[0] = 'c' must raise SIGSEGV and the handler must make it succeed."
		if out := r.t.Stdout.String(); out != "" {
			why += " (It printed " + fmt.Sprintf("%q", truncate(out, 60)) + " all the same.)"
		}
		return Result{Status: Failed, Explanation: why}
	}
	f := fs[0].Signal
	ev := []string{line(fs[0])}
	switch {
	case m == nil || !m.contains(f.Addr):
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The first fault is at %#x, which is not in the PROT_NONE page: the program faulted somewhere else (a bad pointer?).", f.Addr)}
	case f.Signo != syscall.SIGSEGV || f.CodeName() != "SEGV_ACCERR":
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The fault is %s %s; a write to a mapped PROT_NONE page raises SIGSEGV with si_code SEGV_ACCERR (the page is mapped, the access is not allowed).", observe.SignalName(f.Signo), f.CodeName())}
	case f.Access.Known && !f.Access.Write():
		return Result{Status: Warning, Evidence: ev, Explanation: "The first access that faulted is a read; the course writes 'c' first. The handler runs for the read instead."}
	}
	how := ""
	if f.Access.Known {
		how = fmt.Sprintf(" The page fault's error code (%#x) says it was a write.", f.Access.Code)
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The write to the page raised SIGSEGV with SEGV_ACCERR at the page: the CPU refused the access and the kernel delivered the signal to the handler." + how}
}

// grants returns the mprotect calls of the first fault's handler.
func (r *run) firstHandlerCalls(name string) (*observe.Event, []*observe.Event) {
	fs := r.faults(r.t.PID)
	if len(fs) == 0 {
		return nil, nil
	}
	var out []*observe.Event
	for _, e := range r.inHandler(fs[0].Signal) {
		if e.Syscall.Name == name {
			out = append(out, e)
		}
	}
	return fs[0], out
}

func mprotectGrant(r *run) Result {
	f, calls := r.firstHandlerCalls("mprotect")
	if f == nil {
		return Result{Status: Failed, Explanation: "No fault, so no handler ran (see the check of the first write)."}
	}
	if f.Signal.Handler == 0 {
		return Result{Status: Failed, Evidence: []string{line(f)}, Explanation: "The fault was not delivered to a handler."}
	}
	page := f.Signal.Addr &^ (r.ps - 1)
	ev := lines(calls, 3)
	loop := ""
	if le := r.t.Stopped; le != nil && le.Limit == observe.LimitFaultLoop {
		loop = " The restarted write faulted again and again: vmsim stopped the program after " + fmt.Sprint(len(r.faults(r.t.PID))) + " faults."
		ev = append(ev, r.stopEvidence()...)
	}
	if len(calls) == 0 {
		ev = append(ev, line(f))
		return Result{Status: Failed, Evidence: ev, Explanation: "The handler calls no mprotect: the page stays PROT_NONE. When the handler returns, the kernel restarts the write, which faults again, and so on forever. The handler must make the access possible: mprotect(page, pagesize, PROT_READ|PROT_WRITE)." + loop}
	}
	for _, c := range calls {
		sc := c.Syscall
		addr, length, prot := sc.Args[0], sc.Args[1], sc.Args[2]
		if e := sc.Errno(); e != 0 {
			why := fmt.Sprintf("The handler's %s failed with %s. The page keeps PROT_NONE, and the restarted write faults again.", sc, errnoText("mprotect", e))
			if addr&(r.ps-1) != 0 {
				why = fmt.Sprintf("The handler's mprotect starts at %#x, which is not the start of a page (%#x): mprotect fails with EINVAL and changes nothing, so the restarted write faults again. Round the address down to the page (si_addr & ~(pagesize-1)), or use the address mmap returned.", addr, page)
			}
			return Result{Status: Failed, Evidence: ev, Explanation: why + loop}
		}
		if !(addr <= page && page < addr+length) {
			what := fmt.Sprintf("[%#x, %#x)", addr, addr+length)
			if length == 0 {
				what = "nothing (length 0)"
			}
			return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The handler's mprotect succeeded but changed %s; the fault is in the page at %#x, which keeps PROT_NONE, so the restarted write faults again. Protect the page that faulted, for a whole page (pagesize bytes).", what, page) + loop}
		}
		switch {
		case prot&(protRead|protWrite) == protRead|protWrite:
			return Result{Status: OK, Evidence: ev, Explanation: "Inside the handler, mprotect grants PROT_READ|PROT_WRITE on the faulting page and returns 0: the write can succeed when it restarts, and so can the reads after it."}
		case prot&protWrite != 0:
			if len(r.faults(r.t.PID)) == 1 {
				return Result{Status: Warning, Evidence: ev, Explanation: fmt.Sprintf("The handler grants PROT_WRITE alone. It works here because x86 (this machine is %s) cannot map a page write-only: the kernel makes it readable too, so the reads after the write succeed. The course's note: on a CPU that can map write-only pages, the later read faults, the handler grants PROT_WRITE again, and the read restarts forever. Grant PROT_READ|PROT_WRITE.", runtime.GOARCH)}
			}
			return Result{Status: Failed, Evidence: ev, Explanation: "The handler grants PROT_WRITE alone: on this CPU a later read of the page faults again and the handler cannot fix it. Grant PROT_READ|PROT_WRITE." + loop}
		case prot&protRead != 0:
			return Result{Status: Failed, Evidence: ev, Explanation: "The handler grants PROT_READ only: the faulting access is a write, so when it restarts it faults again (SEGV_ACCERR), and the handler grants PROT_READ again, forever. The write needs PROT_WRITE: grant PROT_READ|PROT_WRITE." + loop}
		default:
			return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The handler's mprotect grants %s: the write still cannot happen, and it restarts and faults forever. Grant PROT_READ|PROT_WRITE.", observe.ProtString(prot)) + loop}
		}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: "No mprotect of the handler grants access to the page."}
}

func mprotectRetried(r *run) Result {
	fs := r.faults(r.t.PID)
	if len(fs) == 0 {
		return Result{Status: Failed, Explanation: "No fault, so nothing to retry (see the check of the first write)."}
	}
	f := fs[0].Signal
	ev := []string{line(fs[0])}
	if f.End != observe.EndNone && f.EndSeq < len(r.t.Events) {
		ev = append(ev, line(&r.t.Events[f.EndSeq]))
	}
	again := 0
	for _, g := range fs[1:] {
		if g.Signal.Addr == f.Addr && g.Signal.IP == f.IP {
			again++
		}
	}
	switch {
	case again > 0:
		ev = append(ev, lines(fs[1:], 2)...)
		why := fmt.Sprintf("The handler returned, the kernel restarted the write, and it faulted again at the same address and instruction, %d more time(s): the handler did not make the write possible (see the mprotect check).", again)
		if le := r.t.Stopped; le != nil && le.Limit == observe.LimitFaultLoop {
			why += " It would go on forever: vmsim stopped the program."
		}
		return Result{Status: Failed, Evidence: ev, Explanation: why}
	case f.End == observe.EndDied:
		return Result{Status: Failed, Evidence: ev, Explanation: "The program ended inside the handler (exit, or a crash): the write never ran again. The handler must return so that the kernel restarts the write."}
	case f.End == observe.EndJumped:
		return Result{Status: Warning, Evidence: ev, Explanation: "The handler jumped out (longjmp) instead of returning: the write was not restarted by the kernel. The course's handler returns, and the kernel runs the faulting write again."}
	case f.End == observe.EndReturned:
		return Result{Status: OK, Evidence: ev, Explanation: "The handler returned (rt_sigreturn), the kernel restarted the write, and it did not fault again: it succeeded."}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: "The handler did not return."}
}

func mprotectOneFault(r *run) Result {
	fs := r.faults(r.t.PID)
	switch len(fs) {
	case 1:
		return Result{Status: OK, Evidence: lines(fs, 1), Explanation: "Exactly one fault: after the handler's mprotect, the write, the reads and the second write find the page accessible."}
	case 0:
		return Result{Status: Failed, Explanation: "No fault at all: the exercise is about one (see the check of the first write)."}
	}
	return Result{Status: Failed, Evidence: lines(fs, 3), Explanation: fmt.Sprintf("%d faults instead of one: once the handler has granted PROT_READ|PROT_WRITE, nothing else in the program may fault.", len(fs))}
}

var tokenC, tokenD = regexp.MustCompile(`(^|[^A-Za-z0-9_])c([^A-Za-z0-9_]|$)`), regexp.MustCompile(`(^|[^A-Za-z0-9_])d([^A-Za-z0-9_]|$)`)

func mprotectValues(r *run) Result {
	out := r.t.Stdout.String()
	var ev []string
	for _, e := range r.t.Syscalls(r.t.PID, "write") {
		data := string(e.Syscall.Data)
		if e.Syscall.Int(0) == 1 && e.Handler == nil && (tokenC.MatchString(data) || tokenD.MatchString(data)) && len(ev) < 4 {
			ev = append(ev, line(e))
		}
	}
	c := tokenC.FindStringIndex(out)
	printed := c != nil && tokenD.FindStringIndex(out[c[1]-1:]) != nil
	m := r.protNonePage()
	var mem []byte
	var at *snapshot
	var ok bool
	if m != nil {
		mem, at, ok = r.memory(r.t.PID, m.addr, 1, m.ev.Seq)
	}
	if ok {
		ev = append(ev, memoryLine(r, at, fmt.Sprintf("p[0] = %s", exercise.QuoteByte(mem[0]))))
	}
	faults := len(r.faults(r.t.PID))
	switch {
	case !printed:
		return Result{Status: Failed, Evidence: ev, Explanation: "The output does not show 'c' and then 'd': after the write, the program reads p[0] and prints it ('c'), writes 'd' and prints it again." + r.stoppedNote()}
	case m == nil:
		return Result{Status: Failed, Evidence: ev, Explanation: "The output shows 'c' then 'd', but the program mapped no PROT_NONE page to hold them (see the mapping check)."}
	case ok && mem[0] != 'd':
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The output shows 'c' then 'd', but at the end the page holds %s, not 'd': the program printed values it did not write to the page.", exercise.QuoteByte(mem[0]))}
	case faults > 1:
		return Result{Status: Failed, Evidence: ev, Explanation: "The values are right, but the reads and writes after the first fault faulted again (see the one-fault check)."}
	case !ok:
		return Result{Status: Warning, Evidence: append(ev, r.stopEvidence()...), Explanation: "Cannot confirm the values: the output shows 'c' then 'd', but the program was stopped before the page could be read from its memory (vmsim reads it when the program unmaps it, exits or dies of a signal), so whether it holds 'd' is not known." + r.stoppedWhy()}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The program printed 'c' then 'd', the page holds 'd' at its end (read from the process's memory), and no access after the first faulted."}
}

// truncate cuts s to n bytes, with an ellipsis.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}
