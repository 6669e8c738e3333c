package pager

import "math/bits"

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
// The sweep is not walked frame by frame. R bits are a bitmap, and frames are
// grouped in blocks of 64, each with a lower bound of the times of last use
// of its R-clear clean frames and another of its R-clear dirty ones: a block
// with no old clean frame is passed in one step, the search for an old dirty
// one runs only when no old clean frame exists, and only set R bits are
// cleared. The victims and the state are those of the frame-by-frame sweep
// (a test holds them to it), at a fraction of its cost while no clean page
// is old: 27 s for 1 M accesses at 100,000 frames frame by frame, 0.05 s
// now. (A revolution that ends with no old page at all still looks for the
// first clean frame in order, O(frames) when every page is dirty.) (A dirty page's class is taken when its R bit is cleared; Pager.Flush
// cleaning pages behind the policy's back is not seen until the next access.)
//
// Source: Carr and Hennessy, "WSCLOCK: a simple and effective algorithm for
// virtual memory management", SOSP 1981; Tanenbaum and Bos, §3.4.9.
type wsclock struct {
	opt  uint64 // Options.Tau
	tau  uint64
	f    frameRing
	ref  []uint64 // R bit of each slot, a bitmap
	refs []uint64 // bit w set if ref[w] may be non-zero
	// class has a slot's bit set if its page was dirty when its R bit was
	// last cleared: R-clear pages cannot change class without an access.
	class []uint64
	last  []uint64 // time of last use, by slot
	// clean and dirty bound, per block of 64 slots, the times of last use
	// of the block's R-clear slots holding a clean and a dirty page.
	clean, dirty bounds
	pages        PageState
}

// bounds holds a lower bound per block, per run of 64 blocks (a
// superblock) and over all blocks, so that a search skips runs of blocks at
// once.
type bounds struct {
	block []uint64
	sup   []uint64
	all   uint64
}

const noTime = ^uint64(0)

// grow adds block's bound (none yet), and its superblock's if new.
func (b *bounds) grow(block int) {
	b.block = append(b.block, noTime)
	if block>>6 == len(b.sup) {
		b.sup = append(b.sup, noTime)
	}
}

func (b *bounds) lower(block int, t uint64) {
	b.block[block] = min(b.block[block], t)
	b.sup[block>>6] = min(b.sup[block>>6], t)
	b.all = min(b.all, t)
}

// set makes a block's bound t (exact, possibly higher) and its
// superblock's the least of its blocks'.
func (b *bounds) set(block int, t uint64) {
	b.block[block] = t
	s := block >> 6
	m := noTime
	for _, v := range b.block[s<<6 : min((s+1)<<6, len(b.block))] {
		m = min(m, v)
	}
	b.sup[s] = m
}

// recompute makes the bound over all blocks the least of the superblocks'.
func (b *bounds) recompute() {
	b.all = noTime
	for _, t := range b.sup {
		b.all = min(b.all, t)
	}
}

func (p *wsclock) Name() string { return "wsclock" }

func (p *wsclock) Reset(frames int, pages PageState) {
	tau := p.opt
	if tau == 0 {
		tau = 2 * uint64(frames)
	}
	*p = wsclock{opt: p.opt, tau: tau, clean: bounds{all: noTime}, dirty: bounds{all: noTime}, pages: pages}
	p.f.reset()
}

// grow adds slot s, the next one, as the frames fill: the tables grow with
// the pages loaded, not with the budget.
func (p *wsclock) grow(s int) {
	p.last = append(p.last, 0)
	if w := s >> 6; w == len(p.ref) {
		p.ref = append(p.ref, 0)
		p.class = append(p.class, 0)
		p.clean.grow(w)
		p.dirty.grow(w)
		if w>>6 == len(p.refs) {
			p.refs = append(p.refs, 0)
		}
	}
}

func (p *wsclock) refSet(s int) bool { return p.ref[s>>6]&(1<<(s&63)) != 0 }

func (p *wsclock) setRef(s int) {
	w := s >> 6
	p.ref[w] |= 1 << (s & 63)
	p.refs[w>>6] |= 1 << (w & 63)
}

func (p *wsclock) Hit(r Ref) { p.setRef(int(p.f.slotOf[r.Page])) }

func (p *wsclock) Insert(r Ref) {
	s := p.f.place(r.Page)
	if s == len(p.last) {
		p.grow(s)
	}
	p.setRef(s)
	p.last[s] = r.Time
}

// clearRefs clears the set R bits of slots [from, to) and sets their time of
// last use to now.
func (p *wsclock) clearRefs(from, to int, now uint64) {
	for from < to {
		w := from >> 6
		mask := ^uint64(0) << (from & 63)
		if end := (w + 1) << 6; to < end {
			mask &= 1<<(to&63) - 1
		}
		for set := p.ref[w] & mask; set != 0; set &= set - 1 {
			bit := bits.TrailingZeros64(set)
			s := w<<6 | bit
			p.last[s] = now
			if p.pages.Dirty(p.f.slots[s]) {
				p.class[w] |= 1 << bit
				p.dirty.lower(w, now)
			} else {
				p.class[w] &^= 1 << bit
				p.clean.lower(w, now)
			}
		}
		p.ref[w] &^= mask
		from = (w + 1) << 6
	}
}

// clearAllRefs clears every set R bit: the words of the bitmap that may hold
// one only.
func (p *wsclock) clearAllRefs(now uint64) {
	for i, sum := range p.refs {
		for ; sum != 0; sum &= sum - 1 {
			w := i<<6 | bits.TrailingZeros64(sum)
			p.clearRefs(w<<6, min((w+1)<<6, len(p.last)), now)
		}
		p.refs[i] = 0
	}
}

// find returns the first slot of [from, to), in the hand's order, that is
// R-clear, old (last < threshold) and of the class wantDirty says, or -1.
// Blocks whose bound shows no such slot are skipped, and within a block only
// the R-clear slots of the class are looked at; the bounds of a whole block
// looked through in vain are made exact again.
func (p *wsclock) find(from, to int, threshold uint64, wantDirty bool) int {
	b := &p.clean
	if wantDirty {
		b = &p.dirty
	}
	n := len(p.last)
	for from < to {
		w := from >> 6
		if b.sup[w>>6] >= threshold {
			// No candidate in the rest of this run of 64 blocks.
			from = min((w>>6+1)<<12, to)
			continue
		}
		end := min((w+1)<<6, to)
		if b.block[w] >= threshold {
			from = end
			continue
		}
		mask := ^uint64(0) << (from & 63)
		if end&63 != 0 {
			mask &= 1<<(end&63) - 1
		}
		class := p.class[w]
		if !wantDirty {
			class = ^class
		}
		for cand := ^p.ref[w] & class & mask; cand != 0; cand &= cand - 1 {
			if s := w<<6 | bits.TrailingZeros64(cand); p.last[s] < threshold {
				return s
			}
		}
		if from == w<<6 && end == min((w+1)<<6, n) {
			// Looked at the whole block: make its bounds exact.
			cleanLow, dirtyLow := noTime, noTime
			for r0 := ^p.ref[w] & mask; r0 != 0; r0 &= r0 - 1 {
				bit := bits.TrailingZeros64(r0)
				if p.class[w]&(1<<bit) != 0 {
					dirtyLow = min(dirtyLow, p.last[w<<6|bit])
				} else {
					cleanLow = min(cleanLow, p.last[w<<6|bit])
				}
			}
			p.clean.set(w, cleanLow)
			p.dirty.set(w, dirtyLow)
		}
		from = end
	}
	return -1
}

// findFrom is find over the whole ring, from the hand at start.
func (p *wsclock) findFrom(start int, threshold uint64, wantDirty bool) int {
	b := &p.clean
	if wantDirty {
		b = &p.dirty
	}
	if b.all >= threshold {
		return -1
	}
	if v := p.find(start, len(p.last), threshold, wantDirty); v >= 0 {
		return v
	}
	if v := p.find(0, start, threshold, wantDirty); v >= 0 {
		return v
	}
	b.recompute()
	return -1
}

func (p *wsclock) Evict(r Ref) PageID {
	p.settle()
	n := len(p.f.slots)
	start, now := p.f.hand, r.Time
	// A slot is old when now - last > tau, that is last < now - tau.
	threshold := uint64(0)
	if now > p.tau {
		threshold = now - p.tau
	}
	if v := p.findFrom(start, threshold, false); v >= 0 {
		// The hand cleared the R bits it passed on its way to v.
		if v >= start {
			p.clearRefs(start, v, now)
		} else {
			p.clearRefs(start, n, now)
			p.clearRefs(0, v, now)
		}
		return p.f.take(v)
	}
	// A whole revolution without an old clean page.
	v := p.findFrom(start, threshold, true)
	if v < 0 {
		// The first clean page the hand passed, R bit set or not.
		for i := range n {
			if s := (start + i) % n; !p.pages.Dirty(p.f.slots[s]) {
				v = s
				break
			}
		}
	}
	p.clearAllRefs(now)
	if v < 0 {
		v = start
	}
	return p.f.take(v)
}

// Remove takes page id's frame out of the ring; the other frames keep their
// order, R bits and times of last use. O(frames).
func (p *wsclock) Remove(id PageID) {
	p.settle()
	s := int(p.f.slotOf[id])
	p.f.slotOf[id] = -1
	p.drop(s)
}

// Resize drops the frame of a shrinking budget's last victim. Tau stays
// what Reset made it.
func (p *wsclock) Resize(int) { p.settle() }

// settle drops the slot of the last eviction if no page filled it (see
// frameRing.settle).
func (p *wsclock) settle() {
	if s := p.f.vacated; s >= 0 {
		p.f.vacated = -1
		p.drop(s)
	}
}

// drop takes slot s out of the ring and its per-slot state with it: the
// later slots move down one, and the blocks' bounds are made exact again.
func (p *wsclock) drop(s int) {
	n := len(p.last)
	p.f.drop(s)
	copy(p.last[s:], p.last[s+1:])
	p.last = p.last[:n-1]
	bitAt := func(b []uint64, i int) uint64 { return b[i>>6] >> (i & 63) & 1 }
	for i := s; i < n-1; i++ {
		w, m := i>>6, uint64(1)<<(i&63)
		p.ref[w] = p.ref[w]&^m | bitAt(p.ref, i+1)<<(i&63)
		p.class[w] = p.class[w]&^m | bitAt(p.class, i+1)<<(i&63)
	}
	w, m := (n-1)>>6, uint64(1)<<((n-1)&63)
	p.ref[w] &^= m
	p.class[w] &^= m
	blocks := (n - 1 + 63) >> 6
	p.ref, p.class = p.ref[:blocks], p.class[:blocks]
	p.refs = p.refs[:(blocks+63)>>6]
	for i := range p.refs {
		p.refs[i] = 0
	}
	for i, word := range p.ref {
		if word != 0 {
			p.refs[i>>6] |= 1 << (i & 63)
		}
	}
	p.clean.rebuild(blocks)
	p.dirty.rebuild(blocks)
	for i := range n - 1 {
		if bitAt(p.ref, i) != 0 {
			continue
		}
		if bitAt(p.class, i) != 0 {
			p.dirty.lower(i>>6, p.last[i])
		} else {
			p.clean.lower(i>>6, p.last[i])
		}
	}
}

// rebuild makes b the bounds of blocks blocks holding no slot yet.
func (b *bounds) rebuild(blocks int) {
	b.block, b.sup, b.all = b.block[:0], b.sup[:0], noTime
	for w := range blocks {
		b.grow(w)
	}
}
