package multi

import (
	"context"
	"fmt"
	"sort"
	"time"

	"vmsim/pager"
	"vmsim/traces"
)

// RunOptions are what a run needs beyond its configuration. A nil
// *RunOptions means a simulation with no events.
type RunOptions struct {
	// Memory, if not nil, is real memory: one region per process, each
	// access a real load or store (package pager/live).
	Memory Memory
	// Events, if not nil, is told of every step of the run, in order.
	Events func(Event)
	// Resident asks every event for the pages in memory after it
	// (Event.Resident): for step tables, not for long runs.
	Resident bool
	// WrapPolicy, if not nil, wraps each policy the run makes (for tests
	// and tools that watch the policies, such as pagertest.Recorder):
	// proc is the process of a local pager, or -1 for the global one.
	WrapPolicy func(proc int, p pager.Policy) pager.Policy
}

// ErrDisagree is matched by the error of a real-memory run in which an
// access faulted that the pager says needed nothing, or the reverse. It
// means a bug, never bad input. It is [pager.ErrInconsistent], which
// pager/live returns too.
var ErrDisagree = pager.ErrInconsistent

// maxPages is the most pages a run may hold in all (dense ids are uint32).
const maxPages = 1<<32 - 2

type state uint8

const (
	ready state = iota
	running
	blocked
	suspended
	done
)

// proc is one process as the engine runs it.
type proc struct {
	tr   *pager.Trace
	next []uint64 // next uses, when the policy needs them
	pos  int      // the next access
	// state, since when (for the time accounts), and, when blocked, when
	// its page is in.
	state state
	since time.Duration
	wake  time.Duration
	// core is the process's own pager (local scope).
	core *pager.Pager
	// frames is the process's allocation (local scope). need is, while
	// suspended, what it needs to resume: its working set after the access
	// it could not run (WorkingSet), or one more frame than it had (PFF).
	frames, need int
	// ws measures its working set (WorkingSet control); wsSize is W(t, τ)
	// after its last access.
	ws     *window
	wsSize int
	// faultTimes holds the own times of its faults in the PFF window.
	faultTimes []int
	// resident counts its pages in memory.
	resident int
	st       ProcStats
}

// engine is one run.
type engine struct {
	cfg    Config
	procs  []*proc
	mem    Memory
	events func(Event)
	// listResident asks for Event.Resident.
	listResident bool
	withNext     bool
	// core is the pager of global scope, ids its numbering of every
	// process's pages.
	core *pager.Pager
	ids  globalIDs
	// now is the simulated time; clock the virtual time of global scope
	// (accesses of every process so far); device when the paging device
	// is free.
	now    time.Duration
	clock  uint64
	device time.Duration
	// ready is the round robin's queue; waiting the processes waiting for
	// their pages, in the order the device serves them (so their pages come
	// in in that order); suspended the processes load control suspended, in
	// the order it did.
	ready, waiting, suspended queue
	// active counts the processes neither suspended nor done; sumWS sums
	// their working sets (WorkingSet), sumFrames their allocations (local
	// scope).
	active, sumWS, sumFrames int
	// resident counts the pages in memory, maxResident its peak.
	resident, maxResident int
	res                   Result
}

// Run runs traces as processes sharing one memory of cfg.Frames frames,
// each with its own page numbers, and returns what happened to each and in
// total. It checks ctx at every quantum and stops, once ctx is done, with
// the result so far and ctx's error. The rules and parameters are in the
// package comment.
func Run(ctx context.Context, procs []*pager.Trace, cfg Config, opts *RunOptions) (*Result, error) {
	if err := cfg.Check(len(procs)); err != nil {
		return nil, err
	}
	var o RunOptions
	if opts != nil {
		o = *opts
	}
	e, err := newEngine(procs, cfg.WithDefaults(), o)
	if err != nil {
		return nil, err
	}
	err = e.run(ctx)
	return e.result(), err
}

func newEngine(trs []*pager.Trace, cfg Config, o RunOptions) (*engine, error) {
	e := &engine{cfg: cfg, mem: o.Memory, events: o.Events, listResident: o.Resident, withNext: pager.NeedsNext(cfg.Policy), active: len(trs)}
	newPolicy := func(proc int) (pager.Policy, error) {
		pol, err := pager.NewPolicy(cfg.Policy, cfg.PolicyOptions)
		if err == nil && o.WrapPolicy != nil {
			pol = o.WrapPolicy(proc, pol)
		}
		return pol, err
	}
	sizes := make([]int, len(trs))
	total := 0
	for k, tr := range trs {
		sizes[k] = tr.Distinct()
		total += sizes[k]
	}
	if cfg.Scope == Global && total > maxPages {
		return nil, fmt.Errorf("%w: %d pages in all: global replacement numbers at most %d", ErrConfig, total, maxPages)
	}
	var alloc []int
	if cfg.Scope == Local && cfg.Control != WorkingSet {
		alloc = allocate(cfg.Frames, cfg.Allocation, sizes)
	}
	for k, tr := range trs {
		p := &proc{tr: tr, st: ProcStats{Name: tr.Name()}}
		if e.withNext {
			p.next = tr.NextUses()
		}
		if cfg.Control == WorkingSet {
			p.ws = newWindow(cfg.Tau, sizes[k], tr.Len())
		}
		if cfg.Scope == Local {
			pol, err := newPolicy(k)
			if err != nil {
				return nil, err
			}
			if alloc != nil {
				p.frames = alloc[k]
				p.st.Frames = alloc[k]
			}
			var be pager.Backend
			if e.mem != nil {
				be = e.mem.Backend(k)
			}
			if p.core, err = pager.New(pol, max(p.frames, 1), be); err != nil {
				return nil, err
			}
			e.sumFrames += p.frames
		}
		e.procs = append(e.procs, p)
		e.ready.push(k)
	}
	if cfg.Scope == Global {
		pol, err := newPolicy(-1)
		if err != nil {
			return nil, err
		}
		e.ids = newGlobalIDs(sizes)
		var be pager.Backend
		if e.mem != nil {
			be = router{ids: e.ids, mem: e.mem}
		}
		if e.core, err = pager.New(pol, cfg.Frames, be); err != nil {
			return nil, err
		}
	}
	e.res.Timeline = Timeline{Width: max(cfg.AccessTime*time.Duration(cfg.Quantum), time.Microsecond), procs: len(trs)}
	return e, nil
}

// allocate shares frames out among processes of the given sizes: equally
// (the first frames%n get one more), or in proportion to their sizes
// (floors of the exact shares, the frames left over to the largest
// remainders, ties to the first; then every process at least one frame,
// taken from the largest allocations).
func allocate(frames int, how Allocation, sizes []int) []int {
	n := len(sizes)
	alloc := make([]int, n)
	if how == Equal {
		for k := range alloc {
			alloc[k] = frames / n
			if k < frames%n {
				alloc[k]++
			}
		}
		return alloc
	}
	total := uint64(0)
	for _, s := range sizes {
		total += uint64(s)
	}
	if total == 0 {
		return allocate(frames, Equal, sizes)
	}
	rem := make([]uint64, n)
	left := frames
	for k, s := range sizes {
		q := uint64(frames) * uint64(s)
		alloc[k], rem[k] = int(q/total), q%total
		left -= alloc[k]
	}
	order := make([]int, n)
	for k := range order {
		order[k] = k
	}
	sort.SliceStable(order, func(a, b int) bool { return rem[order[a]] > rem[order[b]] })
	for _, k := range order[:left] {
		alloc[k]++
	}
	for k := range alloc {
		for alloc[k] == 0 {
			big := 0
			for j := range alloc {
				if alloc[j] > alloc[big] {
					big = j
				}
			}
			alloc[big]--
			alloc[k]++
		}
	}
	return alloc
}

// run is the scheduler: round robin over the ready processes, a quantum
// at a time, until every process is done.
func (e *engine) run(ctx context.Context) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		if err := e.wakeUp(); err != nil {
			return err
		}
		if err := e.admit(); err != nil {
			return err
		}
		if e.ready.len() == 0 {
			if t, ok := e.nextWake(); ok {
				e.now = max(e.now, t) // the processor idles
				continue
			}
			if e.suspended.len() > 0 {
				continue // admit resumes one: nothing else runs
			}
			return nil
		}
		k := e.ready.pop()
		if err := e.runQuantum(k); err != nil {
			return err
		}
	}
}

// runQuantum runs process k until its quantum is over, it faults, it is
// suspended or it is done.
func (e *engine) runQuantum(k int) error {
	p := e.procs[k]
	p.st.Ready += e.now - p.since
	p.state = running
	for range e.cfg.Quantum {
		if p.pos == p.tr.Len() {
			return e.exit(k, e.now)
		}
		id, _ := p.tr.At(p.pos)
		if e.cfg.Control == WorkingSet && p.ws.peek(id) > p.wsSize && e.sumWS+1 > e.cfg.Frames && e.active > 1 {
			// Its working set would no longer fit.
			return e.suspend(k, p.ws.peek(id))
		}
		if e.cfg.Scope == Local && e.cfg.Control != None && !p.core.Resident(id) {
			ok, err := e.makeRoom(k, id)
			if err != nil {
				return err
			}
			if !ok {
				need := p.frames + 1 // PFF: one more frame than it had
				if p.ws != nil {
					need = p.ws.peek(id)
				}
				return e.suspend(k, need)
			}
		}
		at := e.now
		o, err := e.access(k)
		if err != nil {
			return err
		}
		if p.ws != nil {
			old := p.wsSize
			p.wsSize = p.ws.access(id)
			e.sumWS += p.wsSize - old
		}
		if o.Kind == pager.Miss {
			if e.cfg.Control == PFF {
				p.faultTimes = append(p.faultTimes, p.pos-1)
			}
			start := max(e.now, e.device)
			p.wake = start + e.cfg.FaultTime
			e.device = p.wake
			e.res.DeviceBusy += e.cfg.FaultTime
			p.state, p.since = blocked, e.now
			e.waiting.push(k)
		}
		if e.events != nil {
			e.emit(e.accessEvent(k, at, o))
		}
		if o.Kind == pager.Miss {
			return nil
		}
	}
	if p.pos == p.tr.Len() {
		return e.exit(k, e.now)
	}
	// Preempted: behind the processes whose pages came in meanwhile.
	if err := e.wakeUp(); err != nil {
		return err
	}
	p.state, p.since = ready, e.now
	e.ready.push(k)
	return nil
}

// access runs process k's next access through its pager (and its real
// memory, if any), counts it, and returns its outcome.
func (e *engine) access(k int) (pager.Outcome, error) {
	p := e.procs[k]
	id, write := p.tr.At(p.pos)
	core := p.core
	ref := pager.Ref{Page: id, Write: write, Time: uint64(p.pos)}
	if e.withNext {
		ref.Next = p.next[p.pos]
	}
	if e.core != nil {
		// Global: one numbering and one clock for every process. A next
		// use is as far ahead in the clock as in the process's own
		// accesses: exact for one process, a guess for many (the
		// schedule decides where it falls).
		core = e.core
		ref.Page += e.ids.offsets[k]
		ref.Time = e.clock
		if e.withNext && ref.Next != traces.NoNext {
			ref.Next = e.clock + (ref.Next - uint64(p.pos))
		}
	}
	var o pager.Outcome
	var err error
	if e.mem == nil {
		o, err = core.Access(ref)
	} else {
		o, err = e.touch(k, core, ref, id)
	}
	if err != nil {
		return o, err
	}
	st := &p.st
	st.Accesses++
	if write {
		st.Writes++
	} else {
		st.Reads++
	}
	switch o.Kind {
	case pager.Miss:
		st.Faults++
		p.resident++
		st.MaxResident = max(st.MaxResident, p.resident)
		e.resident++
		e.maxResident = max(e.maxResident, e.resident)
	case pager.Protection:
		st.Hits++
		st.ProtectionFaults++
	default:
		st.Hits++
	}
	if o.Evicted {
		vk, _ := e.owner(k, o.Victim)
		e.evicted(vk, k, 1, o.WroteBack)
	}
	st.Run += e.cfg.AccessTime
	e.res.Timeline.add(e.now, k, o.Kind == pager.Miss)
	e.now += e.cfg.AccessTime
	p.pos++
	e.clock++
	return o, nil
}

// owner returns the process of page id of process k's pager, and its id
// there.
func (e *engine) owner(k int, id pager.PageID) (int, pager.PageID) {
	if e.core != nil {
		return e.ids.owner(id)
	}
	return k, id
}

// accessEvent describes process k's access just done, which started at
// time at and had outcome o.
func (e *engine) accessEvent(k int, at time.Duration, o pager.Outcome) Event {
	p := e.procs[k]
	id, write := p.tr.At(p.pos - 1)
	ev := Event{Kind: Access, Time: at, Proc: k, Index: p.pos - 1, Page: p.tr.PageNum(id), Write: write, Result: o.Kind, VictimProc: -1, WorkingSet: p.wsSize}
	if o.Evicted {
		vk, vid := e.owner(k, o.Victim)
		ev.VictimProc, ev.VictimPage, ev.WroteBack = vk, e.procs[vk].tr.PageNum(vid), o.WroteBack
	}
	if o.Kind == pager.Miss {
		ev.Until = p.wake
	}
	return ev
}

// touch runs an access of process k on its real memory: the access faults
// or not, and the pager is told of it either way, once, and must agree.
func (e *engine) touch(k int, core *pager.Pager, ref pager.Ref, id pager.PageID) (pager.Outcome, error) {
	p := e.procs[k]
	var o pager.Outcome
	called := false
	err := e.mem.Touch(k, id, ref.Write, func(faulted bool) error {
		called = true
		var err error
		if o, err = core.Access(ref); err != nil {
			return err
		}
		if faulted != (o.Kind != pager.Hit) {
			what := "did not fault"
			if faulted {
				what = "faulted"
			}
			return fmt.Errorf("process %d (%s), access %d to page %d: real memory %s but the pager says %v: %w", k, p.tr.Name(), p.pos, id, what, o.Kind, ErrDisagree)
		}
		return nil
	})
	if err == nil && !called {
		err = fmt.Errorf("process %d (%s), access %d: the access was not run through the pager: %w", k, p.tr.Name(), p.pos, ErrDisagree)
	}
	return o, err
}

// evicted counts n pages of process vk evicted for process by.
func (e *engine) evicted(vk, by, n int, wroteBack bool) {
	e.procs[vk].resident -= n
	e.resident -= n
	vs := &e.procs[vk].st
	vs.Evictions += uint64(n)
	if wroteBack {
		vs.Writebacks++
	}
	if vk != by {
		vs.EvictedByOthers += uint64(n)
		e.procs[by].st.Stole += uint64(n)
	}
}

// free returns the frames no active process holds (local scope).
func (e *engine) free() int { return e.cfg.Frames - e.sumFrames }

// makeRoom runs local scope's load control at a fault of process k on page
// id, before the access: it may change allocations, and reports false if k
// must be suspended instead.
func (e *engine) makeRoom(k int, id pager.PageID) (bool, error) {
	p := e.procs[k]
	full := p.core.Used() >= p.frames
	switch e.cfg.Control {
	case WorkingSet:
		// Each process may hold its working set: a free frame first, else
		// one of its own pages if it holds more than its working set, else
		// a frame of a process that holds more than its own.
		if !full {
			return true, nil
		}
		if e.free() > 0 {
			return true, e.setFrames(k, p.frames+1, k)
		}
		if p.frames > 0 && p.frames >= p.ws.peek(id) {
			return true, nil
		}
		if j := e.donor(k); j >= 0 {
			if err := e.setFrames(j, e.procs[j].frames-1, k); err != nil {
				return false, err
			}
			return true, e.setFrames(k, p.frames+1, k)
		}
		return p.frames > 0, nil
	case PFF:
		// The rate counts this fault, over the window or, at the start,
		// over the accesses so far.
		p.faultTimes = dropBefore(p.faultTimes, p.pos-e.cfg.PFFWindow)
		rate := float64(len(p.faultTimes)+1) / float64(min(e.cfg.PFFWindow, p.pos+1))
		switch {
		case rate > e.cfg.PFFUpper && full:
			if e.free() > 0 {
				return true, e.setFrames(k, p.frames+1, k)
			}
			if e.active > 1 {
				return false, nil
			}
		case rate < e.cfg.PFFLower && p.frames > 1:
			return true, e.setFrames(k, p.frames-1, k)
		}
	}
	return true, nil
}

// dropBefore drops the times at or before t from the front of ts.
func dropBefore(ts []int, t int) []int {
	i := 0
	for i < len(ts) && ts[i] <= t {
		i++
	}
	if i == 0 {
		return ts
	}
	return append(ts[:0], ts[i:]...)
}

// donor returns the active process other than k that holds the most frames
// beyond its working set (the first of equals), or -1 if none holds more.
func (e *engine) donor(k int) int {
	best, surplus := -1, 0
	for j, q := range e.procs {
		if j == k || q.state == suspended || q.state == done {
			continue
		}
		if s := q.frames - q.wsSize; s > surplus {
			best, surplus = j, s
		}
	}
	return best
}

// setFrames makes process k's allocation n, for process by: the pages a
// smaller allocation evicts are counted as k's, taken by by.
func (e *engine) setFrames(k, n, by int) error {
	p := e.procs[k]
	if n < 1 {
		panic(fmt.Sprintf("multi: process %d's allocation would drop to %d", k, n))
	}
	evs, err := p.core.SetFrames(n, uint64(p.pos))
	ev := Event{Kind: Frames, Time: e.now, Proc: k, Index: p.pos, Pages: n, VictimProc: -1}
	for _, v := range evs {
		e.evicted(k, by, 1, v.WroteBack)
		ev.VictimProc, ev.VictimPage, ev.WroteBack = k, p.tr.PageNum(v.Page), v.WroteBack
	}
	if err != nil {
		return fmt.Errorf("process %d (%s): allocation %d: %w", k, p.tr.Name(), n, err)
	}
	e.sumFrames += n - p.frames
	p.frames = n
	e.emit(ev)
	return nil
}

// release takes every resident page of process k out of memory, saved if
// save (a suspension) or dropped (an exit), and returns how many.
func (e *engine) release(k int, save bool) (int, error) {
	p := e.procs[k]
	core, off := p.core, pager.PageID(0)
	if e.core != nil {
		core, off = e.core, e.ids.offsets[k]
	}
	n := 0
	for j := range p.tr.Distinct() {
		id := off + pager.PageID(j)
		if !core.Resident(id) {
			continue
		}
		dirty := core.Dirty(id)
		if err := core.Remove(id, save); err != nil {
			return n, fmt.Errorf("process %d (%s): %w", k, p.tr.Name(), err)
		}
		n++
		p.resident--
		e.resident--
		if save && dirty {
			p.st.Writebacks++
		}
	}
	return n, nil
}

// suspend suspends running process k before its next access, which needs
// need (working set or frames) to run: its pages are saved and released.
func (e *engine) suspend(k, need int) error {
	p := e.procs[k]
	n, err := e.release(k, true)
	if err != nil {
		return err
	}
	p.st.Released += uint64(n)
	p.st.Suspensions++
	p.state, p.since = suspended, e.now
	e.active--
	e.sumWS -= p.wsSize
	p.need = need
	if e.cfg.Scope == Local {
		e.sumFrames -= p.frames
		p.frames = 0
	}
	e.suspended.push(k)
	e.emit(Event{Kind: Suspend, Time: e.now, Proc: k, Index: p.pos, Pages: n, Need: need, VictimProc: -1, WorkingSet: p.wsSize})
	return nil
}

// admit resumes the suspended processes, in the order they were suspended,
// while the first one fits: the working set its next access needs in what
// the active ones' leave (WorkingSet), one more frame than it had in the
// free frames (PFF). With no process active, the first one resumes whatever
// it needs.
func (e *engine) admit() error {
	for e.suspended.len() > 0 {
		k := e.suspended.front()
		p := e.procs[k]
		fits := e.active == 0
		switch e.cfg.Control {
		case WorkingSet:
			fits = fits || e.sumWS+p.need <= e.cfg.Frames
		case PFF:
			p.need = min(p.need, e.cfg.Frames)
			fits = fits || p.need <= e.free()
		}
		if !fits {
			return nil
		}
		e.suspended.pop()
		p.st.Suspended += e.now - p.since
		p.state, p.since = ready, e.now
		e.active++
		e.sumWS += p.wsSize
		e.ready.push(k)
		e.emit(Event{Kind: Resume, Time: e.now, Proc: k, Index: p.pos, VictimProc: -1, WorkingSet: p.wsSize})
		if e.cfg.Control == PFF {
			if err := e.setFrames(k, p.need, k); err != nil {
				return err
			}
		}
	}
	return nil
}

// exit ends process k at time t: its pages are dropped.
func (e *engine) exit(k int, t time.Duration) error {
	p := e.procs[k]
	n, err := e.release(k, false)
	if err != nil {
		return err
	}
	p.state = done
	p.st.Finish = t
	e.active--
	e.sumWS -= p.wsSize
	e.sumFrames -= p.frames
	p.frames = 0
	e.emit(Event{Kind: Exit, Time: t, Proc: k, Index: p.pos, Pages: n, VictimProc: -1})
	return nil
}

// wakeUp moves the blocked processes whose page is in by now to the ready
// queue, in the order their pages came in; one whose last access it was is
// done.
func (e *engine) wakeUp() error {
	for e.waiting.len() > 0 && e.procs[e.waiting.front()].wake <= e.now {
		k := e.waiting.pop()
		p := e.procs[k]
		p.st.PageWait += p.wake - p.since
		if p.pos == p.tr.Len() {
			if err := e.exit(k, p.wake); err != nil {
				return err
			}
			continue
		}
		p.state, p.since = ready, p.wake
		e.ready.push(k)
	}
	return nil
}

// nextWake returns when the next blocked process's page is in.
func (e *engine) nextWake() (time.Duration, bool) {
	if e.waiting.len() == 0 {
		return 0, false
	}
	return e.procs[e.waiting.front()].wake, true
}

// queue is a FIFO of process indexes that reuses its memory.
type queue struct {
	items []int
	head  int
}

func (q *queue) len() int   { return len(q.items) - q.head }
func (q *queue) front() int { return q.items[q.head] }

func (q *queue) pop() int {
	k := q.items[q.head]
	q.head++
	return k
}

func (q *queue) push(k int) {
	if q.head > 0 && q.head >= len(q.items)/2 {
		n := copy(q.items, q.items[q.head:])
		q.items, q.head = q.items[:n], 0
	}
	q.items = append(q.items, k)
}

func (e *engine) emit(ev Event) {
	if e.events == nil {
		return
	}
	if e.listResident {
		ev.Resident = e.residentPages()
	}
	e.events(ev)
}

// residentPages lists the pages in memory: in the global policy's order,
// or process by process in each one's policy's order (in page id order
// for a policy that does not show its order).
func (e *engine) residentPages() []ResidentPage {
	var out []ResidentPage
	list := func(core *pager.Pager, page func(pager.PageID) ResidentPage, ids int) {
		if in, ok := core.Policy().(pager.Inspector); ok {
			frames, _ := in.Inspect()
			for _, f := range frames {
				out = append(out, page(f.Page))
			}
			return
		}
		for id := range ids {
			if core.Resident(pager.PageID(id)) {
				out = append(out, page(pager.PageID(id)))
			}
		}
	}
	if e.core != nil {
		list(e.core, func(id pager.PageID) ResidentPage {
			k, own := e.ids.owner(id)
			return ResidentPage{Proc: k, Page: e.procs[k].tr.PageNum(own)}
		}, int(e.ids.offsets[len(e.procs)]))
		return out
	}
	for k, p := range e.procs {
		list(p.core, func(id pager.PageID) ResidentPage {
			return ResidentPage{Proc: k, Page: p.tr.PageNum(id)}
		}, p.tr.Distinct())
	}
	return out
}

// result returns the counts so far.
func (e *engine) result() *Result {
	r := e.res
	r.Config = e.cfg
	r.Total.Name = "total"
	for _, p := range e.procs {
		r.Procs = append(r.Procs, p.st)
		r.Total.add(p.st)
	}
	r.Total.MaxResident = e.maxResident
	r.Elapsed = r.Total.Finish
	r.Timeline.cover(r.Elapsed)
	return &r
}
