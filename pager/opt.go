package pager

// opt is Belady's optimal policy (MIN): evict the resident page whose next
// use is farthest in the future. Among pages never used again (all equally
// far), the least recently used. It needs each access's next use
// ([Ref.Next]); the engine computes them in a pass before the run or takes
// them from the trace format. O(log frames) per access with an indexed heap.
//
// No policy faults less on the same trace and frames (the tests check it).
//
// Source: Belady, "A study of replacement algorithms for a virtual-storage
// computer", IBM Systems Journal 1966; Mattson et al. 1970 (OPT as a stack
// algorithm).
type opt struct {
	heap []PageID // a max-heap on (next, -last)
	pos  []int32  // index of each resident page in heap
	next []uint64 // next use of each resident page
	last []uint64 // last use of each resident page
}

func (p *opt) Name() string { return "opt" }

func (p *opt) Reset(frames int, _ PageState) {
	*p = opt{}
}

// before reports whether page a is a better victim than page b.
func (p *opt) before(a, b PageID) bool {
	if p.next[a] != p.next[b] {
		return p.next[a] > p.next[b]
	}
	return p.last[a] < p.last[b]
}

func (p *opt) swap(i, j int) {
	h := p.heap
	h[i], h[j] = h[j], h[i]
	p.pos[h[i]] = int32(i)
	p.pos[h[j]] = int32(j)
}

func (p *opt) up(i int) {
	for i > 0 {
		parent := (i - 1) / 2
		if !p.before(p.heap[i], p.heap[parent]) {
			return
		}
		p.swap(i, parent)
		i = parent
	}
}

func (p *opt) down(i int) {
	n := len(p.heap)
	for {
		best := i
		if l := 2*i + 1; l < n && p.before(p.heap[l], p.heap[best]) {
			best = l
		}
		if r := 2*i + 2; r < n && p.before(p.heap[r], p.heap[best]) {
			best = r
		}
		if best == i {
			return
		}
		p.swap(i, best)
		i = best
	}
}

func (p *opt) Hit(r Ref) {
	p.next[r.Page] = r.Next
	p.last[r.Page] = r.Time
	// The page's key changed: restore the heap order around it.
	p.up(int(p.pos[r.Page]))
	p.down(int(p.pos[r.Page]))
}

func (p *opt) Insert(r Ref) {
	if int(r.Page) >= len(p.pos) {
		n := max(int(r.Page)+1, 2*len(p.pos), 64)
		p.pos = growTo(p.pos, n, -1)
		p.next = growTo(p.next, n, 0)
		p.last = growTo(p.last, n, 0)
	}
	p.next[r.Page] = r.Next
	p.last[r.Page] = r.Time
	p.pos[r.Page] = int32(len(p.heap))
	p.heap = append(p.heap, r.Page)
	p.up(len(p.heap) - 1)
}

func (p *opt) Evict(Ref) PageID {
	v := p.heap[0]
	last := len(p.heap) - 1
	p.swap(0, last)
	p.heap = p.heap[:last]
	p.pos[v] = -1
	if last > 0 {
		p.down(0)
	}
	return v
}

// Remove takes page id out of the heap.
func (p *opt) Remove(id PageID) {
	i, last := int(p.pos[id]), len(p.heap)-1
	p.swap(i, last)
	p.heap = p.heap[:last]
	p.pos[id] = -1
	if i < last {
		p.up(i)
		p.down(i)
	}
}
