package pager

// frameRing is the circular list of frames that clock-like policies sweep:
// frames fill in slot order 0, 1, 2... while free; later a loaded page takes
// the slot of the page it replaced. The slots grow as the frames fill, so a
// budget larger than the pages costs nothing: a page is evicted only once
// every frame is used, and only then does the hand sweep.
type frameRing struct {
	slots   []PageID
	slotOf  []int32 // slot of each resident page
	hand    int
	used    int
	vacated int // slot freed by the last eviction, or -1
}

func (f *frameRing) reset() { *f = frameRing{slots: f.slots[:0], vacated: -1} }

// place puts page id in a slot and returns it: the vacated slot (then the
// hand moves past it) or the next free one.
func (f *frameRing) place(id PageID) int {
	if int(id) >= len(f.slotOf) {
		f.slotOf = growTo(f.slotOf, max(int(id)+1, 2*len(f.slotOf), 64), -1)
	}
	s := f.vacated
	if s >= 0 {
		f.vacated = -1
		f.hand = (s + 1) % len(f.slots)
	} else {
		s = f.used
		f.used++
		if s == len(f.slots) {
			f.slots = append(f.slots, nilPage)
		}
	}
	f.slots[s] = id
	f.slotOf[id] = int32(s)
	return s
}

// take empties slot s and returns its page; the next place fills it.
func (f *frameRing) take(s int) PageID {
	id := f.slots[s]
	f.slotOf[id] = -1
	f.vacated = s
	f.hand = s
	return id
}

// settle drops the slot of the last eviction if no page filled it: the
// frame left the ring (the budget shrank, see [Pager.SetFrames]). Evictions
// and removals settle first, so the ring never holds an empty slot between
// two of them.
func (f *frameRing) settle() {
	if s := f.vacated; s >= 0 {
		f.vacated = -1
		f.drop(s)
	}
}

// remove takes resident page id's frame out of the ring.
func (f *frameRing) remove(id PageID) {
	f.settle()
	s := int(f.slotOf[id])
	f.slotOf[id] = -1
	f.drop(s)
}

// drop takes slot s out of the ring, the later slots moving down one, so
// that the frames keep their order; the hand stays on the frame it was on,
// or, if it was on s, moves to the frame after it. O(frames).
func (f *frameRing) drop(s int) {
	copy(f.slots[s:], f.slots[s+1:])
	f.slots = f.slots[:len(f.slots)-1]
	f.used--
	for i := s; i < len(f.slots); i++ {
		f.slotOf[f.slots[i]] = int32(i)
	}
	if f.hand > s {
		f.hand--
	}
	if f.hand >= len(f.slots) {
		f.hand = 0
	}
}

// clock is the second-chance algorithm on a circular list of frames with a
// hand. Each frame has a reference bit R, set by every access to its page.
// To evict, the hand looks at its frame: if R is set it clears it and
// advances; otherwise that page is the victim. The new page takes the
// victim's frame and the hand moves past it. While frames are free they are
// filled in order and the hand stays at frame 0.
//
// In clock a loaded page starts with R set, as hardware sets it on the access
// that faulted. In clock-cold (cold set) it starts clear: the variant several
// research simulators use, where a page must be referenced again after
// loading to earn its second chance.
//
// Source: Corbató, "A paging experiment with the Multics system", 1968;
// Tanenbaum and Bos, Modern Operating Systems, 4th ed., §3.4.5.
type clock struct {
	cold bool
	f    frameRing
	ref  []bool // by page: a hit touches one array
}

func (p *clock) Name() string {
	if p.cold {
		return "clock-cold"
	}
	return "clock"
}

func (p *clock) Reset(frames int, _ PageState) {
	p.f.reset()
	p.ref = p.ref[:0]
}

func (p *clock) Hit(r Ref) { p.ref[r.Page] = true }

func (p *clock) Insert(r Ref) {
	if int(r.Page) >= len(p.ref) {
		p.ref = growTo(p.ref, max(int(r.Page)+1, 2*len(p.ref), 64), false)
	}
	p.f.place(r.Page)
	p.ref[r.Page] = !p.cold
}

func (p *clock) Evict(Ref) PageID {
	p.f.settle()
	n := len(p.f.slots)
	for p.ref[p.f.slots[p.f.hand]] {
		p.ref[p.f.slots[p.f.hand]] = false
		if p.f.hand++; p.f.hand == n {
			p.f.hand = 0
		}
	}
	return p.f.take(p.f.hand)
}

// Remove takes page id's frame out of the ring; the other frames keep their
// order and R bits.
func (p *clock) Remove(id PageID) {
	p.f.remove(id)
	p.ref[id] = false
}

// Resize drops the frame of a shrinking budget's last victim.
func (p *clock) Resize(int) { p.f.settle() }
