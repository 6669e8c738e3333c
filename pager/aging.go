package pager

import "math/bits"

// aging keeps an 8-bit counter and a referenced bit R per page. Every access
// sets R (the access that loads a page too). Every tick (Options.Tick
// accesses; by default one per frames accesses) each resident page's counter
// is shifted right by one and R is put in its top bit, then R is cleared. A
// page is loaded with counter 0. The victim has the smallest counter; among
// equals, the page loaded earliest.
//
// Counters change only at ticks, so between ticks pages wait in 256 groups by
// counter, each in load order: an eviction is O(1), a tick O(frames). With
// the default period the tick costs O(1) per access, amortised.
//
// Source: Tanenbaum and Bos, Modern Operating Systems, 4th ed., §3.4.7.
type aging struct {
	tick    uint64
	t       ticker
	l       links // the groups
	loads   links // all resident pages in load order
	byLoad  list
	groups  [256]list
	nonzero [4]uint64 // bit c set if group c is not empty
	counter []uint8
	r       []bool
}

func (p *aging) Name() string { return "aging" }

func (p *aging) Reset(frames int, _ PageState) {
	*p = aging{tick: p.tick, byLoad: newList()}
	p.t.reset(p.tick, frames)
	for i := range p.groups {
		p.groups[i] = newList()
	}
}

func (p *aging) join(id PageID, c uint8) {
	p.l.pushFront(&p.groups[c], id)
	p.nonzero[c>>6] |= 1 << (c & 63)
}

func (p *aging) advance(now uint64) {
	for p.t.due(now) {
		for c := range p.groups {
			p.groups[c] = newList()
		}
		p.nonzero = [4]uint64{}
		for id := p.byLoad.tail; id != nilPage; id = p.loads.prev(id) {
			c := p.counter[id] >> 1
			if p.r[id] {
				c |= 0x80
				p.r[id] = false
			}
			p.counter[id] = c
			p.join(id, c)
		}
	}
}

func (p *aging) Hit(r Ref) {
	p.advance(r.Time)
	p.r[r.Page] = true
}

func (p *aging) Insert(r Ref) {
	p.advance(r.Time)
	id := r.Page
	p.l.grow(id)
	p.loads.grow(id)
	if int(id) >= len(p.counter) {
		p.counter = growTo(p.counter, p.l.size(), 0)
		p.r = growTo(p.r, p.l.size(), false)
	}
	p.counter[id] = 0
	p.r[id] = true
	p.join(id, 0)
	p.loads.pushFront(&p.byLoad, id)
}

func (p *aging) Evict(r Ref) PageID {
	p.advance(r.Time)
	for w, bitsSet := range p.nonzero {
		if bitsSet == 0 {
			continue
		}
		c := w<<6 + bits.TrailingZeros64(bitsSet)
		v := p.l.popBack(&p.groups[c])
		if p.groups[c].n == 0 {
			p.nonzero[w] &^= 1 << (c & 63)
		}
		p.loads.remove(&p.byLoad, v)
		p.r[v] = false
		return v
	}
	panic("pager: aging: evict with no resident page")
}

// Remove takes page id out of its counter group and the load order.
func (p *aging) Remove(id PageID) {
	c := p.counter[id]
	p.l.remove(&p.groups[c], id)
	if p.groups[c].n == 0 {
		p.nonzero[c>>6] &^= 1 << (c & 63)
	}
	p.loads.remove(&p.byLoad, id)
	p.r[id] = false
}
