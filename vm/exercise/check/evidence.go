package check

import (
	"fmt"
	"strings"
	"syscall"

	"vmsim/vm/exercise"
	"vmsim/vm/observe"
)

// line prints an event as evidence, saying when it ran in a handler.
func line(e *observe.Event) string {
	s := e.String()
	if e.Handler != nil {
		s += fmt.Sprintf("   (in the %s handler)", observe.SignalName(e.Handler.Signo))
	}
	return s
}

// lines prints events as evidence, at most max of them, then how many
// more there were.
func lines(es []*observe.Event, max int) []string {
	var out []string
	for i, e := range es {
		if i == max {
			out = append(out, fmt.Sprintf("... and %d more like it", len(es)-max))
			break
		}
		out = append(out, line(e))
	}
	return out
}

// describe summarises bytes as runs: "4096 × 'c'", "10 × 'a', 4086 × 0".
func describe(b []byte) string {
	if len(b) == 0 {
		return "nothing (0 bytes)"
	}
	var parts []string
	start := 0
	for i := 1; i <= len(b); i++ {
		if i < len(b) && b[i] == b[start] {
			continue
		}
		parts = append(parts, fmt.Sprintf("%d × %s", i-start, exercise.QuoteByte(b[start])))
		start = i
		if len(parts) == 4 && i < len(b) {
			parts = append(parts, "...")
			break
		}
	}
	return strings.Join(parts, ", ")
}

// exitEvent returns the exit event of process tgid, or nil.
func (r *run) exitEvent(tgid int) *observe.Event {
	for i := range r.t.Events {
		if e := &r.t.Events[i]; e.Kind == observe.KindExit && e.TGID == tgid {
			return e
		}
	}
	return nil
}

// lastSignal returns the last signal of process tgid, or nil.
func (r *run) lastSignal(tgid int) *observe.Event {
	sigs := r.t.Signals(tgid)
	if len(sigs) == 0 {
		return nil
	}
	return sigs[len(sigs)-1]
}

// stopEvidence and stopText say why vmsim stopped the program, if it did.
func (r *run) stopEvidence() []string {
	le := r.t.Stopped
	if le == nil {
		return nil
	}
	out := []string{"vmsim: " + le.Error()}
	if le.Seq >= 0 && le.Seq < len(r.t.Events) {
		out = append(out, line(&r.t.Events[le.Seq]))
	}
	return out
}

func stopText(le *observe.LimitError) string {
	switch le.Limit {
	case observe.LimitFaultLoop:
		return "The same fault came again and again at one address with nothing else happening in between: when a handler returns, the kernel runs the faulting instruction again, and since the handler did not make the access possible, it faults again, forever. vmsim stopped the program."
	case observe.LimitWall:
		return "The program was still running when vmsim's clock ran out: it waits for something that never comes (a child that never exits, a pipe nobody writes, a sleep too long) or loops. vmsim killed it."
	case observe.LimitCPU:
		return "The program used up its CPU time: it loops without end. vmsim killed it."
	case observe.LimitProcesses:
		return "The program made more processes than the exercise could need (a fork in a loop?). vmsim killed them all."
	case observe.LimitOutput:
		return "The program printed far more than the exercise asks (a print in a loop?). vmsim killed it."
	case observe.LimitFileSize:
		return "The program wrote a file larger than vmsim allows. vmsim killed it."
	case observe.LimitEvents:
		return "The program made far more system calls than the exercise needs (a loop of them?). vmsim stopped it."
	}
	return "vmsim stopped the program: " + le.What + "."
}

// stoppedNote adds, to the explanation of a check that the program did
// not get to, that vmsim stopped it first.
func (r *run) stoppedNote() string {
	if r.t.Stopped == nil {
		return ""
	}
	return " (vmsim stopped the program before it got there: " + r.t.Stopped.What + ".)"
}

// stoppedWhy adds, to the explanation of memory that was never read,
// what stopped the program, if vmsim did.
func (r *run) stoppedWhy() string {
	if r.t.Stopped == nil {
		return ""
	}
	return " vmsim stopped it: " + r.t.Stopped.What + "."
}

// exitCheck is "exits with status 0" for process tgid: a crash says which
// signal and where, a stop says which limit.
func (r *run) exitCheck(tgid int, who string) Result {
	ev := r.exitEvent(tgid)
	if le := r.t.Stopped; le != nil {
		ev := r.stopEvidence()
		return Result{Status: Failed, Evidence: ev, Explanation: stopText(le)}
	}
	if ev == nil {
		return Result{Status: Failed, Explanation: "The trace does not show how the " + who + " ended."}
	}
	ex := ev.Exit
	switch {
	case ex.OK():
		return Result{Status: OK, Evidence: []string{line(ev)}, Explanation: "The " + who + " exits with status 0."}
	case ex.Signaled:
		evidence := []string{line(ev)}
		why := fmt.Sprintf("The %s was killed by %s.", who, observe.SignalName(ex.Signal))
		if s := r.lastSignal(tgid); s != nil && s.Signal.Signo == ex.Signal {
			evidence = append([]string{line(s)}, evidence...)
			if s.Signal.IsFault() {
				why = fmt.Sprintf("The %s crashed: %s at address %#x (%s), raised by the instruction at %#x, killed it.", who, observe.SignalName(ex.Signal), s.Signal.Addr, s.Signal.CodeName(), s.Signal.IP)
				switch {
				case s.Signal.Blocked:
					why += fmt.Sprintf(" The signal was blocked when the fault came, so the kernel could not run the handler and killed the process instead.")
				case s.Signal.Handler == 0:
					why += " No handler was installed for it."
				}
			}
		}
		return Result{Status: Failed, Evidence: evidence, Explanation: why}
	}
	evidence := []string{line(ev)}
	if out := strings.TrimSpace(r.t.Stderr.String()); out != "" && tgid == r.t.PID {
		first, _, _ := strings.Cut(out, "\n")
		evidence = append(evidence, "stderr: "+first)
	}
	return Result{Status: Failed, Evidence: evidence, Explanation: fmt.Sprintf("The %s exits with status %d, not 0: it reports a failure.", who, ex.Code)}
}

// errnoText says what an errno of mmap or mprotect means, for a student.
func errnoText(call string, e syscall.Errno) string {
	switch {
	case e == syscall.EINVAL && call == "mprotect":
		return "EINVAL: the address is not the start of a page (mprotect works on whole pages: pass the page's address, not an address inside it), or the protection is not valid"
	case e == syscall.EINVAL && call == "mmap":
		return "EINVAL: a length of 0, an address or offset not aligned to a page, or flags that do not go together"
	case e == syscall.ENOMEM:
		return "ENOMEM: part of the range is not mapped"
	case e == syscall.EACCES:
		return "EACCES: the file is not open for the access asked for (a MAP_SHARED mapping with PROT_WRITE needs the file open O_RDWR)"
	case e == syscall.EEXIST:
		return "EEXIST: something is already mapped there (MAP_FIXED_NOREPLACE)"
	case e == syscall.EBADF:
		return "EBADF: the descriptor is not open"
	}
	return observe.ErrnoName(e) + ": " + e.Error()
}

// memoryLine is the evidence of memory read from a process (snapshot s).
func memoryLine(r *run, s *snapshot, what string) string {
	e := &r.t.Events[s.seq]
	return fmt.Sprintf("[pid %d] %s, read from its memory %s", e.PID, what, s.when)
}
