package pager

// fifo evicts the resident page that was loaded earliest. Hits change
// nothing. It shows Belady's anomaly: more frames can give more faults.
//
// Source: the textbook policy (Belady, Nelson and Shedler, "An anomaly in
// space-time characteristics of certain programs running in a paging
// machine", CACM 1969).
//
// The queue is a ring: no per-page state at all. It grows (doubling, kept
// in order) when it is full, so it holds what is resident, whatever the
// budget, and a budget that changes ([Pager.SetFrames]) needs nothing.
// Remove looks for its page in the ring: O(resident pages).
type fifo struct {
	ring    []PageID
	head, n int // oldest at ring[head]
}

func (p *fifo) Name() string { return "fifo" }

func (p *fifo) Reset(int, PageState) { *p = fifo{} }

func (p *fifo) Hit(Ref) {}

func (p *fifo) Insert(r Ref) {
	if p.n == len(p.ring) {
		p.grow()
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

// grow doubles the full ring, oldest first from slot 0.
func (p *fifo) grow() {
	ring := make([]PageID, max(2*len(p.ring), 16))
	k := copy(ring, p.ring[p.head:])
	copy(ring[k:], p.ring[:p.head])
	p.ring, p.head = ring, 0
}

// Remove takes page id out of the queue; the others keep their order.
func (p *fifo) Remove(id PageID) {
	at := func(j int) int { return (p.head + j) % len(p.ring) }
	j := 0
	for j < p.n && p.ring[at(j)] != id {
		j++
	}
	if j == p.n {
		panic("pager: fifo: remove of a page not in the queue")
	}
	for ; j < p.n-1; j++ {
		p.ring[at(j)] = p.ring[at(j+1)]
	}
	p.n--
}
