package pager

import (
	"context"
	"errors"
	"fmt"
	"io"

	"vmsim/traces"
)

// PageID is a dense page identifier: pages are numbered 0, 1, 2... in the
// order a trace first touches them.
type PageID uint32

// Ref is one access, as the policies see it.
type Ref struct {
	// Page is the page accessed.
	Page PageID
	// Write reports whether the access writes.
	Write bool
	// Time is the access's index in the trace, from 0: virtual time.
	Time uint64
	// Next is the Time of the next access to Page, or [traces.NoNext]. The engine fills
	// it only for policies that need it ([NeedsNext]); it is zero otherwise.
	Next uint64
}

// Stats counts what happened. Every field is a count of accesses or pages.
type Stats struct {
	// Accesses is Reads + Writes.
	Accesses uint64 `json:"accesses"`
	Reads    uint64 `json:"reads"`
	Writes   uint64 `json:"writes"`
	// Hits are accesses to a resident page (protection faults included).
	Hits uint64 `json:"hits"`
	// Faults are accesses to a non-resident page, cold ones included.
	Faults uint64 `json:"faults"`
	// Evictions are pages taken out of memory to free a frame.
	Evictions uint64 `json:"evictions"`
	// Writebacks are evicted pages that were dirty and so were saved.
	Writebacks uint64 `json:"writebacks"`
	// ProtectionFaults are first writes to a clean resident page.
	ProtectionFaults uint64 `json:"protection_faults"`
}

// Add adds o to s.
func (s *Stats) Add(o Stats) {
	s.Accesses += o.Accesses
	s.Reads += o.Reads
	s.Writes += o.Writes
	s.Hits += o.Hits
	s.Faults += o.Faults
	s.Evictions += o.Evictions
	s.Writebacks += o.Writebacks
	s.ProtectionFaults += o.ProtectionFaults
}

// MissRatio returns Faults / Accesses (0 for no access).
func (s Stats) MissRatio() float64 {
	if s.Accesses == 0 {
		return 0
	}
	return float64(s.Faults) / float64(s.Accesses)
}

// Backend carries the pager's decisions out on real memory. Each method must
// leave the page as it was when it fails, so that the pager's state stays
// true.
type Backend interface {
	// Evict takes resident page v out of memory: revoke access first, then
	// save the page if dirty, then release its memory. If saving fails, the
	// page must stay resident with its data and access.
	Evict(v PageID, dirty bool) error
	// Load brings non-resident page p into memory (fill, then grant): read
	// and write if write is true (the page is dirty from the start), read
	// only otherwise.
	Load(p PageID, write bool) error
	// Upgrade grants write access to resident clean page p.
	Upgrade(p PageID) error
}

// Kind says what an access turned out to be.
type Kind uint8

// Access outcomes.
const (
	// Hit is an access to a resident page that needed nothing.
	Hit Kind = iota
	// Miss is a fault: the page was not resident.
	Miss
	// Protection is the first write to a clean resident page.
	Protection
)

func (k Kind) String() string {
	switch k {
	case Hit:
		return "hit"
	case Miss:
		return "fault"
	case Protection:
		return "protection"
	}
	return fmt.Sprintf("Kind(%d)", uint8(k))
}

// Outcome is what one access did.
type Outcome struct {
	Kind Kind
	// Evicted reports whether a page was evicted; Victim is that page and
	// WroteBack whether it was written back.
	Evicted   bool
	WroteBack bool
	Victim    PageID
}

// Page state bits.
const (
	resident uint8 = 1 << iota
	dirty
)

// ErrFrames is matched by the error for a frame budget below one or above
// MaxFrames.
var ErrFrames = errors.New("frames must be at least 1 and at most 2^26")

// ErrInconsistent is matched by the error of a run on real memory in which
// memory and the pager disagree: an access faulted that the pager says
// needed nothing, or the reverse. It means a bug, never bad input.
// pager/live and pager/multi return it for their real-memory runs.
var ErrInconsistent = errors.New("real memory and the pager disagree")

// MaxFrames is the largest frame budget: policies keep arrays of frames
// entries, and 2^26 frames is 256 GiB of 4 KiB pages.
const MaxFrames = 1 << 26

// Pager is the decision core: a resident set of at most Frames pages, the
// dirty bits, the counters, and a policy. It is not safe for concurrent use:
// real mode serialises calls under its own lock.
type Pager struct {
	policy  Policy
	frames  int
	backend Backend
	// state holds each page's resident and dirty bits, by PageID.
	state []uint8
	used  int
	stats Stats
	// victim is the page evicted last.
	victim PageID
}

// New returns a pager with frames frames, driven by policy, whose decisions
// backend carries out (nil for pure simulation). It resets the policy.
func New(policy Policy, frames int, backend Backend) (*Pager, error) {
	if frames < 1 || frames > MaxFrames {
		return nil, fmt.Errorf("%d frames: %w", frames, ErrFrames)
	}
	p := &Pager{policy: policy, frames: frames, backend: backend}
	policy.Reset(frames, p)
	return p, nil
}

// Frames returns the frame budget.
func (p *Pager) Frames() int { return p.frames }

// Policy returns the policy.
func (p *Pager) Policy() Policy { return p.policy }

// Stats returns the counters so far.
func (p *Pager) Stats() Stats { return p.stats }

// Resident reports whether page id is in memory.
func (p *Pager) Resident(id PageID) bool {
	return int(id) < len(p.state) && p.state[id]&resident != 0
}

// Dirty reports whether page id is resident and modified since it was
// loaded.
func (p *Pager) Dirty(id PageID) bool {
	return int(id) < len(p.state) && p.state[id]&dirty != 0
}

// Used returns the number of resident pages.
func (p *Pager) Used() int { return p.used }

// Access runs one access through the pager: the step function of
// [Pager.run] on a batch of one, its outcome read from the counters it
// moved. On a Backend error the access is not counted and the page state is
// consistent: retry it.
func (p *Pager) Access(r Ref) (Outcome, error) {
	pages, writes, next := [1]PageID{r.Page}, [1]bool{r.Write}, [1]uint64{r.Next}
	before := p.stats
	n, err := p.run(&Batch{Pages: pages[:], Writes: writes[:], Next: next[:], Start: r.Time, ids: int(r.Page) + 1})
	after := p.stats
	var o Outcome
	switch {
	case n == 0:
	case after.Faults > before.Faults:
		o.Kind = Miss
	case after.ProtectionFaults > before.ProtectionFaults:
		o.Kind = Protection
	}
	if after.Evictions > before.Evictions {
		o.Evicted, o.Victim = true, p.victim
		o.WroteBack = after.Writebacks > before.Writebacks
	}
	return o, err
}

// Replay runs every access of src through p, a batch at a time, with the
// step function of [Pager.Access]. It stops at the first Backend error
// (the access that failed is not counted), at a source's error, and when
// ctx is done (checked every batch), with ctx's error; the counters hold
// the accesses done.
func (p *Pager) Replay(ctx context.Context, src Source) error {
	for {
		if err := ctx.Err(); err != nil {
			return err
		}
		b, err := src.Next()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return err
		}
		if b.ids == 0 {
			// Not one of this package's sources: check what run trusts.
			if err := p.checkBatch(b); err != nil {
				return err
			}
		}
		if _, err := p.run(b); err != nil {
			return err
		}
	}
}

// ErrBadBatch is matched by the error of [Pager.Replay] for a [Batch] that
// breaks its contract: fewer write flags or next uses than pages, no next
// uses for a policy that needs them, or the id ^PageID(0).
var ErrBadBatch = errors.New("malformed batch")

// checkBatch checks a batch made outside the package before run trusts it.
func (p *Pager) checkBatch(b *Batch) error {
	n := len(b.Pages)
	switch {
	case len(b.Writes) < n:
		return fmt.Errorf("batch at %d: %d write flags for %d pages: %w", b.Start, len(b.Writes), n, ErrBadBatch)
	case b.Next != nil && len(b.Next) < n:
		return fmt.Errorf("batch at %d: %d next uses for %d pages: %w", b.Start, len(b.Next), n, ErrBadBatch)
	case b.Next == nil && n > 0 && NeedsNext(p.policy.Name()):
		return fmt.Errorf("batch at %d: no next uses, which %s needs: %w", b.Start, p.policy.Name(), ErrBadBatch)
	}
	for i, id := range b.Pages {
		if id == nilPage {
			return fmt.Errorf("batch at %d: access %d: page id %d is reserved: %w", b.Start, i, id, ErrBadBatch)
		}
	}
	return nil
}

// run is the step function: every access of every mode (simulation, real
// memory, step tables, sweeps, many processes) goes through it, so each rule
// of paging is written once, here. It runs the accesses of b in order; the
// counters live in registers for the loop and are added to the pager's at
// the end. It returns the number of accesses done: all of them, or, on a
// Backend error, those before the one that failed (which is not counted;
// the page state is consistent and the access can be retried).
func (p *Pager) run(b *Batch) (int, error) {
	pages, writes, next := b.Pages, b.Writes[:len(b.Pages)], b.Next
	// The state grows once, before the loop, to hold every id of the
	// batch: a batch from this package's sources says how many it may
	// hold; one made elsewhere is looked through. (A state that could grow
	// inside the loop would be stored and loaded around every call to the
	// policy.)
	bound := b.ids
	if bound == 0 {
		for _, id := range pages {
			bound = max(bound, int(id)+1)
		}
	}
	if bound > len(p.state) {
		p.grow(PageID(bound - 1))
	}
	state, pol := p.state, p.policy
	used, frames := p.used, p.frames
	real := p.backend != nil
	// The counters stay in one struct (in memory, one increment each):
	// counters in separate variables cost more, every one of them moved
	// around each of the policy's calls.
	var s Stats
	for i := 0; i < len(pages); i++ {
		id := pages[i]
		r := Ref{Page: id, Write: writes[i], Time: b.Start + uint64(i)}
		if next != nil {
			r.Next = next[i]
		}
		if r.Write {
			s.Writes++
		}
		if st := state[id]; st&resident != 0 {
			if r.Write && st&dirty == 0 {
				// The first write to a clean resident page.
				if real {
					if err := p.backend.Upgrade(id); err != nil {
						return p.stop(i, used, &s, r, err)
					}
				}
				state[id] = st | dirty
				s.ProtectionFaults++
			}
			pol.Hit(r)
			s.Hits++
			continue
		}
		if used >= frames {
			v := pol.Evict(r)
			vd := state[v]&dirty != 0
			if real {
				if err := p.evict(v, vd, r.Time); err != nil {
					return p.stop(i, used, &s, r, err)
				}
			}
			p.evicted(state, v, vd, &s)
			used--
		}
		if real {
			if err := p.load(id, r.Write); err != nil {
				return p.stop(i, used, &s, r, err)
			}
		}
		st := resident
		if r.Write {
			st |= dirty
		}
		state[id] = st
		used++
		pol.Insert(r)
		s.Faults++
	}
	s.Accesses = uint64(len(pages))
	s.Reads = s.Accesses - s.Writes
	p.used = used
	p.stats.Add(s)
	return len(pages), nil
}

// evicted records that victim v (dirty if vd) left memory: its state is
// cleared, and s counts an eviction, and a write-back if it was dirty.
// Every eviction goes through it: an access's (run) and a smaller budget's
// (SetFrames). It is small enough to be inlined into run's loop, where a
// call on every eviction measured 8-10% slower.
func (p *Pager) evicted(state []uint8, v PageID, vd bool, s *Stats) {
	state[v] = 0
	s.Evictions++
	if vd {
		s.Writebacks++
	}
	p.victim = v
}

// stop ends run at access i, which failed with err and is not counted: the
// accesses before it are.
//
//go:noinline
func (p *Pager) stop(i, used int, s *Stats, r Ref, err error) (int, error) {
	if r.Write {
		s.Writes--
	}
	s.Accesses = uint64(i)
	s.Reads = s.Accesses - s.Writes
	p.used = used
	p.stats.Add(*s)
	return i, err
}

// grow makes room in the page state for id.
func (p *Pager) grow(id PageID) {
	p.state = growTo(p.state, max(int(id)+1, 2*len(p.state), 64), 0)
}

// evict has the backend take victim v out of memory. If it cannot, the
// victim stays resident: the policy takes it back as if it had just been
// loaded.
func (p *Pager) evict(v PageID, dirty bool, now uint64) error {
	if err := p.backend.Evict(v, dirty); err != nil {
		p.policy.Insert(Ref{Page: v, Time: now, Next: traces.NoNext})
		return fmt.Errorf("evicting page %d: %w", v, err)
	}
	return nil
}

// load has the backend bring page id into memory.
func (p *Pager) load(id PageID, write bool) error {
	if err := p.backend.Load(id, write); err != nil {
		return fmt.Errorf("loading page %d: %w", id, err)
	}
	return nil
}

// Flush writes back every dirty resident page through save (which must
// leave the page resident, clean and read-only) and marks it clean, so that
// nothing modified is lost when real memory goes away. It stops at the first
// error. Flushes are not counted as writebacks (which count evictions).
func (p *Pager) Flush(save func(PageID) error) error {
	for id, st := range p.state {
		if st&dirty == 0 {
			continue
		}
		if err := save(PageID(id)); err != nil {
			return err
		}
		p.state[id] = st &^ dirty
	}
	return nil
}

// Batch is a run of consecutive accesses of a trace, with dense page ids:
// what every replay consumes, whether it comes from a trace held in memory
// ([Trace.Batch]) or from one decoded as it is read ([Decoder]). A consumer
// must not modify it.
type Batch struct {
	// Pages and Writes describe each access; len(Writes) >= len(Pages).
	Pages  []PageID
	Writes []bool
	// Next holds each access's next use (see Ref.Next), or is nil.
	Next []uint64
	// Start is the Time of the first access.
	Start uint64
	// ids, if not 0, bounds the ids in Pages: every one is below it. Only
	// the package's own sources set it.
	ids int
}

// Len returns the number of accesses.
func (b *Batch) Len() int { return len(b.Pages) }

// Ref returns access i as a policy sees it.
func (b *Batch) Ref(i int) Ref {
	r := Ref{Page: b.Pages[i], Write: b.Writes[i], Time: b.Start + uint64(i)}
	if b.Next != nil {
		r.Next = b.Next[i]
	}
	return r
}
