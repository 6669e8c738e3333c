package pager

// fifo evicts the resident page that was loaded earliest. Hits change
// nothing. It shows Belady's anomaly: more frames can give more faults.
//
// Source: the textbook policy (Belady, Nelson and Shedler, "An anomaly in
// space-time characteristics of certain programs running in a paging
// machine", CACM 1969).
//
// The queue is a ring of frames: no per-page state at all. It grows as the
// frames fill (a budget larger than the pages costs nothing): the first
// eviction comes only once every frame holds a page, so until then the ring
// is in order from slot 0.
type fifo struct {
	ring    []PageID
	frames  int
	head, n int // oldest at ring[head]
}

func (p *fifo) Name() string { return "fifo" }

func (p *fifo) Reset(frames int, _ PageState) { *p = fifo{frames: frames} }

func (p *fifo) Hit(Ref) {}

func (p *fifo) Insert(r Ref) {
	if len(p.ring) < p.frames {
		p.ring = append(p.ring, r.Page)
		p.n++
		return
	}
	i := p.head + p.n
	if i >= len(p.ring) {
		i -= len(p.ring)
	}
	p.ring[i] = r.Page
	p.n++
}

func (p *fifo) Evict(Ref) PageID {
	v := p.ring[p.head]
	p.head++
	if p.head == len(p.ring) {
		p.head = 0
	}
	p.n--
	return v
}
