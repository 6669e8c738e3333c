package pager

import (
	"errors"
	"fmt"

	"vmsim/traces"
)

// PageID is a dense page identifier: pages are numbered 0, 1, 2... in the
// order a trace first touches them.
type PageID = uint32

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

// Access runs one access through the pager. On a Backend error the access is
// not counted and the page state is consistent: retry it.
func (p *Pager) Access(r Ref) (Outcome, error) {
	id := r.Page
	if int(id) >= len(p.state) {
		p.state = growTo(p.state, max(int(id)+1, 2*len(p.state), 64), 0)
	}
	st := p.state[id]
	if st&resident != 0 {
		out := Outcome{Kind: Hit}
		if r.Write && st&dirty == 0 {
			if p.backend != nil {
				if err := p.backend.Upgrade(id); err != nil {
					return out, err
				}
			}
			p.state[id] = st | dirty
			p.stats.ProtectionFaults++
			out.Kind = Protection
		}
		p.policy.Hit(r)
		p.count(r)
		p.stats.Hits++
		return out, nil
	}
	return p.fault(r)
}

func (p *Pager) fault(r Ref) (Outcome, error) {
	out := Outcome{Kind: Miss}
	if p.used >= p.frames {
		v := p.policy.Evict(r)
		vd := p.state[v]&dirty != 0
		if p.backend != nil {
			if err := p.backend.Evict(v, vd); err != nil {
				// The victim stays resident: the policy takes it back as if
				// it had just been loaded.
				p.policy.Insert(Ref{Page: v, Time: r.Time, Next: traces.NoNext})
				return out, fmt.Errorf("evicting page %d: %w", v, err)
			}
		}
		p.state[v] = 0
		p.used--
		p.stats.Evictions++
		out.Evicted, out.Victim = true, v
		if vd {
			p.stats.Writebacks++
			out.WroteBack = true
		}
	}
	if p.backend != nil {
		if err := p.backend.Load(r.Page, r.Write); err != nil {
			return out, fmt.Errorf("loading page %d: %w", r.Page, err)
		}
	}
	st := resident
	if r.Write {
		st |= dirty
	}
	p.state[r.Page] = st
	p.used++
	p.policy.Insert(r)
	p.count(r)
	p.stats.Faults++
	return out, nil
}

// CountHit counts an access as a hit without telling the policy: for real
// mode, an access that completed while its page was resident, reported after
// another thread evicted it.
func (p *Pager) CountHit(write bool) {
	p.count(Ref{Write: write})
	p.stats.Hits++
}

func (p *Pager) count(r Ref) {
	p.stats.Accesses++
	if r.Write {
		p.stats.Writes++
	} else {
		p.stats.Reads++
	}
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

// Chunk is a run of consecutive accesses of a trace, decoded to dense ids:
// what the engine feeds to pagers.
type Chunk struct {
	// Pages and Writes describe each access.
	Pages  []PageID
	Writes []bool
	// Next holds each access's next use (see Ref.Next), or is nil.
	Next []uint64
	// Start is the Time of the first access.
	Start uint64
	// Distinct bounds the ids: every id in Pages is below it.
	Distinct int
}

// Run is Access for a chunk of accesses in simulation, with the counters in
// registers and no Outcome: the engine's hot loop. It must count exactly as
// Access does (a test compares them). It may not be used with a Backend.
func (p *Pager) Run(c *Chunk) {
	if c.Distinct > len(p.state) {
		p.state = growTo(p.state, max(c.Distinct, 2*len(p.state)), 0)
	}
	state, pol, next := p.state, p.policy, c.Next
	used, frames := p.used, p.frames
	var s Stats
	for i, id := range c.Pages {
		r := Ref{Page: id, Write: c.Writes[i], Time: c.Start + uint64(i)}
		if next != nil {
			r.Next = next[i]
		}
		if r.Write {
			s.Writes++
		}
		st := state[id]
		if st&resident != 0 {
			if r.Write && st&dirty == 0 {
				state[id] = st | dirty
				s.ProtectionFaults++
			}
			pol.Hit(r)
			s.Hits++
			continue
		}
		if used >= frames {
			v := pol.Evict(r)
			if state[v]&dirty != 0 {
				s.Writebacks++
			}
			state[v] = 0
			used--
			s.Evictions++
		}
		st = resident
		if r.Write {
			st |= dirty
		}
		state[id] = st
		used++
		pol.Insert(r)
		s.Faults++
	}
	s.Accesses = uint64(len(c.Pages))
	s.Reads = s.Accesses - s.Writes
	p.used = used
	p.stats.Add(s)
}
