package multi

import (
	"time"

	"vmsim/pager"
	"vmsim/vm/arch"
)

// ProcStats is what happened to one process, or to all of them together.
type ProcStats struct {
	// Name is the process's trace name ("total" for the sum).
	Name string
	// Stats counts the process's own accesses: Accesses, Reads, Writes,
	// Hits, Faults, ProtectionFaults as for one process alone. Evictions
	// counts the process's pages evicted to free a frame (for its own
	// faults, for another process's, or when its allocation shrank), and
	// Writebacks the dirty ones among them and among the pages released
	// at its suspensions.
	pager.Stats
	// EvictedByOthers counts the process's pages evicted for another
	// process: victims of another process's fault (global scope), or
	// frames taken for another's working set (local scope, WorkingSet).
	EvictedByOthers uint64 `json:"evicted_by_others"`
	// Stole counts the pages of other processes evicted for this one.
	Stole uint64 `json:"stole"`
	// Released counts the pages released when the process was suspended.
	Released uint64 `json:"released"`
	// Suspensions counts the times load control suspended the process.
	Suspensions uint64 `json:"suspensions"`
	// MaxResident is the most pages of the process in memory at once (for
	// the total, of all processes together).
	MaxResident int `json:"max_resident"`
	// Frames is the process's allocation at the start (local scope, no
	// load control or PFF; 0 otherwise).
	Frames int `json:"frames"`
	// Run is the processor time of its accesses; PageWait the time it
	// waited for the paging device (queueing and service); Ready the time
	// it waited for the processor; Suspended the time it spent suspended.
	Run       time.Duration `json:"-"`
	PageWait  time.Duration `json:"-"`
	Ready     time.Duration `json:"-"`
	Suspended time.Duration `json:"-"`
	// Finish is when the process did its last access (its page in, if it
	// faulted); for the total, the elapsed time.
	Finish time.Duration `json:"-"`
}

// add adds o's counts and times to s (Finish is the later of the two).
func (s *ProcStats) add(o ProcStats) {
	s.Stats.Add(o.Stats)
	s.EvictedByOthers += o.EvictedByOthers
	s.Stole += o.Stole
	s.Released += o.Released
	s.Suspensions += o.Suspensions
	s.Frames += o.Frames
	s.Run += o.Run
	s.PageWait += o.PageWait
	s.Ready += o.Ready
	s.Suspended += o.Suspended
	s.Finish = max(s.Finish, o.Finish)
}

// Result is the outcome of a run.
type Result struct {
	// Config is the run's configuration, defaults filled in.
	Config Config
	// Procs holds each process's counts, in the order given.
	Procs []ProcStats
	// Total sums them; its Finish is the elapsed time.
	Total ProcStats
	// Elapsed is the simulated time from the start to the last process's
	// end.
	Elapsed time.Duration
	// DeviceBusy is the time the paging device spent serving faults.
	DeviceBusy time.Duration
	// Timeline is the run's activity over time.
	Timeline Timeline
}

// Utilisation returns the processor's utilisation: time running accesses
// over the elapsed time (0 for an empty run).
func (r *Result) Utilisation() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Total.Run) / float64(r.Elapsed)
}

// Throughput returns the accesses done per second of simulated time.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Total.Accesses) / r.Elapsed.Seconds()
}

// DeviceUtilisation returns the paging device's busy time over the
// elapsed time.
func (r *Result) DeviceUtilisation() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.DeviceBusy) / float64(r.Elapsed)
}

// maxBuckets bounds the timeline: past it, neighbouring buckets merge and
// the width doubles.
const maxBuckets = 200

// Timeline counts each process's accesses and faults in consecutive
// intervals of simulated time of equal width (an access falls in the
// interval where it starts), from the start to the end of the run. Its
// width starts at one quantum of processor time and doubles as the run
// grows, so that it never holds more than 200 intervals.
type Timeline struct {
	// Width is each interval's length.
	Width time.Duration
	// Accesses and Faults hold, for interval i, the counts of process k at
	// index i*procs+k.
	Accesses, Faults []uint64
	procs            int
	// cur is the interval of the last access, [curFrom, curTo).
	cur            int
	curFrom, curTo time.Duration
}

// Len returns the number of intervals.
func (tl *Timeline) Len() int {
	if tl.procs == 0 {
		return 0
	}
	return len(tl.Faults) / tl.procs
}

// At returns process k's accesses and faults in interval i.
func (tl *Timeline) At(i, k int) (accesses, faults uint64) {
	return tl.Accesses[i*tl.procs+k], tl.Faults[i*tl.procs+k]
}

// add counts an access of process k at time t.
func (tl *Timeline) add(t time.Duration, k int, fault bool) {
	if t >= tl.curFrom && t < tl.curTo {
		// The interval of the last access: no division.
		tl.Accesses[tl.cur*tl.procs+k]++
		if fault {
			tl.Faults[tl.cur*tl.procs+k]++
		}
		return
	}
	i := int(t / tl.Width)
	for i >= maxBuckets {
		tl.merge()
		i = int(t / tl.Width)
	}
	for tl.Len() <= i {
		tl.Accesses = append(tl.Accesses, make([]uint64, tl.procs)...)
		tl.Faults = append(tl.Faults, make([]uint64, tl.procs)...)
	}
	tl.cur, tl.curFrom, tl.curTo = i, time.Duration(i)*tl.Width, time.Duration(i+1)*tl.Width
	tl.Accesses[i*tl.procs+k]++
	if fault {
		tl.Faults[i*tl.procs+k]++
	}
}

// cover adds empty intervals until the timeline reaches t.
func (tl *Timeline) cover(t time.Duration) {
	for time.Duration(tl.Len())*tl.Width < t {
		if tl.Len() == maxBuckets {
			tl.merge()
			continue
		}
		tl.Accesses = append(tl.Accesses, make([]uint64, tl.procs)...)
		tl.Faults = append(tl.Faults, make([]uint64, tl.procs)...)
	}
}

// merge halves the number of intervals: each pair becomes one.
func (tl *Timeline) merge() {
	n := tl.Len()
	half := (n + 1) / 2
	for i := range half {
		for k := range tl.procs {
			a, f := tl.Accesses[2*i*tl.procs+k], tl.Faults[2*i*tl.procs+k]
			if 2*i+1 < n {
				a += tl.Accesses[(2*i+1)*tl.procs+k]
				f += tl.Faults[(2*i+1)*tl.procs+k]
			}
			tl.Accesses[i*tl.procs+k], tl.Faults[i*tl.procs+k] = a, f
		}
	}
	tl.Accesses, tl.Faults = tl.Accesses[:half*tl.procs], tl.Faults[:half*tl.procs]
	tl.Width *= 2
	tl.curFrom, tl.curTo = 0, 0 // recomputed at the next access
}

// EventKind says what an [Event] is.
type EventKind uint8

// Kinds of events.
const (
	// An Access is one access run through the pager.
	Access EventKind = iota + 1
	// Suspend: load control suspended the process and released its pages.
	Suspend
	// Resume: load control let the process run again.
	Resume
	// Exit: the process did its last access; its pages were released.
	Exit
	// Frames: the process's allocation changed (local scope).
	Frames
)

func (k EventKind) String() string {
	switch k {
	case Access:
		return "access"
	case Suspend:
		return "suspend"
	case Resume:
		return "resume"
	case Exit:
		return "exit"
	case Frames:
		return "frames"
	}
	return "EventKind(?)"
}

// Event is one step of a run, for step tables and tests.
type Event struct {
	Kind EventKind
	// Time is when it happened (an access's start).
	Time time.Duration
	// Proc is the process, by its index in the run.
	Proc int
	// Index is the access's index in the process's trace (Access), or the
	// index of its next access.
	Index int
	// Page and Write are the access's page number in its trace and kind
	// (Access).
	Page  arch.PageNum
	Write bool
	// Result is what the access was (Access).
	Result pager.Kind
	// VictimProc is the process whose page was evicted for the access, or
	// -1; VictimPage that page's number in its trace; WroteBack whether it
	// was written back.
	VictimProc int
	VictimPage arch.PageNum
	WroteBack  bool
	// Until is when a faulting access's page is in (Access, Result Miss).
	Until time.Duration
	// Pages is the number of pages released (Suspend, Exit), or the new
	// allocation in frames (Frames).
	Pages int
	// Need is what a suspended process needs to resume (Suspend): the
	// working set of its waiting access (WorkingSet), or frames (PFF).
	Need int
	// WorkingSet is the process's W(t, τ) after the access (Access, with
	// the WorkingSet control), or when suspended or resumed.
	WorkingSet int
	// Resident lists the pages in memory after the event, when the run
	// was asked for them ([RunOptions.Resident]): in the global policy's
	// order (its next victim first), or process by process in each one's.
	Resident []ResidentPage
}

// ResidentPage is a page in memory: its process and its page number there.
type ResidentPage struct {
	Proc int
	Page arch.PageNum
}
