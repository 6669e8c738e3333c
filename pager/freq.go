package pager

// freqBuckets keeps pages grouped by a count, the groups in increasing
// count order, each group ordered by arrival (the page that reached the
// count first is at the tail). It is the O(1) LFU structure of Shah, Mitra
// and Matani ("An O(1) algorithm for implementing the LFU cache eviction
// scheme", 2010): incrementing a page's count moves it to the neighbouring
// group.
type freqBuckets struct {
	l       links
	buckets []bucket
	free    []int32
	first   int32   // group with the smallest count, or -1
	of      []int32 // group of each page, or -1
}

type bucket struct {
	count      uint64
	q          list
	prev, next int32 // neighbouring groups, or -1
}

func (f *freqBuckets) reset() {
	*f = freqBuckets{first: -1}
}

func (f *freqBuckets) grow(id PageID) {
	f.l.grow(id)
	if int(id) >= len(f.of) {
		f.of = growTo(f.of, f.l.size(), -1)
	}
}

func (f *freqBuckets) newBucket(count uint64, prev, next int32) int32 {
	var b int32
	if n := len(f.free); n > 0 {
		b = f.free[n-1]
		f.free = f.free[:n-1]
	} else {
		b = int32(len(f.buckets))
		f.buckets = append(f.buckets, bucket{})
	}
	f.buckets[b] = bucket{count: count, q: newList(), prev: prev, next: next}
	if prev >= 0 {
		f.buckets[prev].next = b
	} else {
		f.first = b
	}
	if next >= 0 {
		f.buckets[next].prev = b
	}
	return b
}

func (f *freqBuckets) dropIfEmpty(b int32) {
	bk := &f.buckets[b]
	if bk.q.n > 0 {
		return
	}
	if bk.prev >= 0 {
		f.buckets[bk.prev].next = bk.next
	} else {
		f.first = bk.next
	}
	if bk.next >= 0 {
		f.buckets[bk.next].prev = bk.prev
	}
	f.free = append(f.free, b)
}

// addMin adds page id with count c, which must not exceed any count present.
func (f *freqBuckets) addMin(id PageID, c uint64) {
	f.grow(id)
	b := f.first
	if b < 0 || f.buckets[b].count != c {
		b = f.newBucket(c, -1, f.first)
	}
	f.l.pushFront(&f.buckets[b].q, id)
	f.of[id] = b
}

// increment adds one to page id's count.
func (f *freqBuckets) increment(id PageID) {
	b := f.of[id]
	c := f.buckets[b].count + 1
	nb := f.buckets[b].next
	if nb < 0 || f.buckets[nb].count != c {
		nb = f.newBucket(c, b, nb)
	}
	f.l.remove(&f.buckets[b].q, id)
	f.l.pushFront(&f.buckets[nb].q, id)
	f.of[id] = nb
	f.dropIfEmpty(b)
}

// popMin removes and returns the page with the smallest count that reached
// it first.
func (f *freqBuckets) popMin() PageID {
	b := f.first
	id := f.l.popBack(&f.buckets[b].q)
	f.of[id] = -1
	f.dropIfEmpty(b)
	return id
}

// lfu evicts the resident page with the fewest accesses since it was loaded
// (the loading access counts as one); among equals, the least recently used.
// Counts restart at one when a page is loaded again. O(1) per access.
//
// Source: the LFU of Aho, Denning and Ullman, "Principles of optimal page
// replacement", JACM 1971, with the O(1) structure of Shah, Mitra and Matani
// (2010). A page that reached its count by its last access entered that count
// group then, so the group's arrival order is recency order.
type lfu struct{ f freqBuckets }

func (p *lfu) Name() string { return "lfu" }

func (p *lfu) Reset(int, PageState) { p.f.reset() }

func (p *lfu) Hit(r Ref) { p.f.increment(r.Page) }

func (p *lfu) Insert(r Ref) { p.f.addMin(r.Page, 1) }

func (p *lfu) Evict(Ref) PageID { return p.f.popMin() }

// ticker runs a periodic tick on virtual time: before the access at time t,
// every tick due at or before t (the ticks fall at T, 2T, 3T...).
type ticker struct {
	period, next uint64
}

func (t *ticker) reset(period uint64, frames int) {
	if period == 0 {
		period = uint64(frames)
	}
	t.period, t.next = period, period
}

// due reports whether a tick is due before the access at time now, and
// schedules the next.
func (t *ticker) due(now uint64) bool {
	if now < t.next {
		return false
	}
	t.next += t.period
	return true
}

// nfu is Not Frequently Used: each page has a counter and a referenced bit
// R. Every access sets R (the access that loads a page too). Every tick
// (Options.Tick accesses; by default one per frames accesses), each resident
// page's R is added to its counter and cleared. The victim has the smallest
// counter; among equals, the page whose counter reached that value first (at
// an earlier tick, or, at the same tick, referenced earlier since the tick
// before); a page just loaded has counter zero and ranks after the pages that
// already had zero. Work per tick is proportional to the pages referenced
// since the last one.
//
// Source: Tanenbaum and Bos, Modern Operating Systems, 4th ed., §3.4.7.
type nfu struct {
	tick  uint64
	t     ticker
	f     freqBuckets
	r     []bool   // referenced since the last tick
	refd  []PageID // pages whose R was set since the last tick, in order
	pages int
}

func (p *nfu) Name() string { return "nfu" }

func (p *nfu) Reset(frames int, _ PageState) {
	*p = nfu{tick: p.tick}
	p.t.reset(p.tick, frames)
	p.f.reset()
}

func (p *nfu) advance(now uint64) {
	for p.t.due(now) {
		for _, id := range p.refd {
			if p.r[id] {
				p.r[id] = false
				p.f.increment(id)
			}
		}
		p.refd = p.refd[:0]
	}
}

func (p *nfu) reference(id PageID) {
	if !p.r[id] {
		p.r[id] = true
		p.refd = append(p.refd, id)
	}
}

func (p *nfu) Hit(r Ref) {
	p.advance(r.Time)
	p.reference(r.Page)
}

func (p *nfu) Insert(r Ref) {
	p.advance(r.Time)
	if int(r.Page) >= len(p.r) {
		p.r = growTo(p.r, max(int(r.Page)+1, 2*len(p.r), 64), false)
	}
	p.f.addMin(r.Page, 0)
	p.reference(r.Page)
}

func (p *nfu) Evict(r Ref) PageID {
	p.advance(r.Time)
	v := p.f.popMin()
	p.r[v] = false
	return v
}

// remove takes page id out of its group.
func (f *freqBuckets) remove(id PageID) {
	b := f.of[id]
	f.l.remove(&f.buckets[b].q, id)
	f.of[id] = -1
	f.dropIfEmpty(b)
}

// Remove takes page id out of its count group.
func (p *lfu) Remove(id PageID) { p.f.remove(id) }

// Remove takes page id out of its counter group; its R bit goes with it
// (a stale entry in refd is skipped at the next tick).
func (p *nfu) Remove(id PageID) {
	p.f.remove(id)
	p.r[id] = false
}
