package pager

import (
	"slices"
	"testing"
)

// wsclockNaive is the first, literal implementation of wsclock: the hand
// visits every frame of its sweep. It is the reference the tests hold the
// fast one to.
//
// wsclock is Carr and Hennessy's WSClock: clock's circular list of frames,
// with each frame's time of last use (virtual time: accesses). Every access
// sets the frame's R bit; loading sets R and the time of last use. To evict
// at time now, the hand sweeps one revolution from where it is:
//
//   - R set: clear it, set the time of last use to now, advance;
//   - R clear and age (now - last use) > tau: a clean page is the victim; a
//     dirty one is remembered (the first such) and the hand advances (the
//     textbook schedules its write here);
//   - otherwise advance.
//
// If the revolution found no old clean page, the victim is the first old
// dirty page it remembered (its write is then done, counted as a write-back),
// else the first clean page it passed, else the page at the hand where the
// sweep began. The new page takes the victim's frame and the hand moves past
// it. Writes are not modelled apart from evictions: a dirty page is written
// back when, and only when, it is evicted, as for every policy here.
//
// Source: Carr and Hennessy, "WSCLOCK: a simple and effective algorithm for
// virtual memory management", SOSP 1981; Tanenbaum and Bos, §3.4.9.
type wsclockNaive struct {
	opt   uint64 // Options.Tau
	tau   uint64
	f     frameRing
	ref   []bool
	last  []uint64 // time of last use, by slot
	pages PageState
}

func (p *wsclockNaive) Name() string { return "wsclock" }

func (p *wsclockNaive) Reset(frames int, pages PageState) {
	tau := p.opt
	if tau == 0 {
		tau = 2 * uint64(frames)
	}
	*p = wsclockNaive{opt: p.opt, tau: tau, pages: pages}
	p.f.reset()
}

func (p *wsclockNaive) Hit(r Ref) { p.ref[p.f.slotOf[r.Page]] = true }

func (p *wsclockNaive) Insert(r Ref) {
	s := p.f.place(r.Page)
	if s == len(p.ref) {
		p.ref, p.last = append(p.ref, false), append(p.last, 0)
	}
	p.ref[s] = true
	p.last[s] = r.Time
}

// Remove and Resize take frames out of the ring as the fast one does, the
// per-slot state with them.
func (p *wsclockNaive) Remove(id PageID) {
	p.settle()
	s := int(p.f.slotOf[id])
	p.f.slotOf[id] = -1
	p.drop(s)
}

func (p *wsclockNaive) Resize(int) { p.settle() }

func (p *wsclockNaive) settle() {
	if s := p.f.vacated; s >= 0 {
		p.f.vacated = -1
		p.drop(s)
	}
}

func (p *wsclockNaive) drop(s int) {
	p.f.drop(s)
	p.ref = slices.Delete(p.ref, s, s+1)
	p.last = slices.Delete(p.last, s, s+1)
}

func (p *wsclockNaive) Evict(r Ref) PageID {
	p.settle()
	n := len(p.f.slots)
	start := p.f.hand
	oldDirty, clean := -1, -1
	for i := range n {
		s := (start + i) % n
		id := p.f.slots[s]
		d := p.pages.Dirty(id)
		switch {
		case p.ref[s]:
			p.ref[s] = false
			p.last[s] = r.Time
		case r.Time-p.last[s] > p.tau:
			if !d {
				return p.f.take(s)
			}
			if oldDirty < 0 {
				oldDirty = s
			}
		}
		if clean < 0 && !d {
			clean = s
		}
	}
	switch {
	case oldDirty >= 0:
		return p.f.take(oldDirty)
	case clean >= 0:
		return p.f.take(clean)
	}
	return p.f.take(start)
}

// TestWSClockMatchesTheFrameByFrameSweep holds the block-skipping wsclock to
// the literal one: same victims, same counts, on random traces with writes,
// across frame counts that do and do not fill whole blocks, and windows from
// tiny to huge.
func TestWSClockMatchesTheFrameByFrameSweep(t *testing.T) {
	for seed := range seeds(6) {
		tr := randomTrace(seed, 20_000, 600, 0.3)
		for _, frames := range []int{1, 5, 63, 64, 65, 130, 300} {
			for _, tau := range []uint64{0, 1, 7, 100, 5000, 1 << 40} {
				run := func(pol Policy) (Stats, []PageID) {
					p, err := New(pol, frames, nil)
					if err != nil {
						t.Fatal(err)
					}
					var victims []PageID
					for i := range tr.pages {
						o, err := p.Access(tr.Ref(i))
						if err != nil {
							t.Fatal(err)
						}
						if o.Evicted {
							victims = append(victims, o.Victim)
						}
					}
					return p.Stats(), victims
				}
				want, wantV := run(&wsclockNaive{opt: tau})
				got, gotV := run(&wsclock{opt: tau})
				if want != got || !slices.Equal(wantV, gotV) {
					t.Fatalf("seed %d, %d frames, tau %d: stats %+v, want %+v (victims differ: %v)", seed, frames, tau, got, want, !slices.Equal(wantV, gotV))
				}
			}
		}
	}
}
