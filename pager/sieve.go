package pager

// sieve is SIEVE (Zhang, Yang, Yue, Vigfusson and Rashmi, "SIEVE is simpler
// than LRU: an efficient turn-key eviction algorithm for web caches", NSDI
// 2024). Pages sit in one FIFO queue, newest at the head, with a visited bit.
// A hit sets the bit. A loaded page goes to the head with the bit clear. To
// evict, a hand starts where it last stopped (at the tail the first time)
// and moves toward the head: a visited page has its bit cleared and is
// passed over (it stays in place); the first unvisited page is the victim,
// and the hand stays at the page just newer than it (wrapping from the head
// back to the tail).
type sieve struct {
	l       links
	q       list // head: newest, tail: oldest
	visited []bool
	hand    PageID // nilPage: start at the tail
}

func (p *sieve) Name() string { return "sieve" }

func (p *sieve) Reset(int, PageState) { *p = sieve{q: newList(), hand: nilPage} }

func (p *sieve) Hit(r Ref) { p.visited[r.Page] = true }

func (p *sieve) Insert(r Ref) {
	p.l.grow(r.Page)
	if int(r.Page) >= len(p.visited) {
		p.visited = growTo(p.visited, p.l.size(), false)
	}
	p.visited[r.Page] = false
	p.l.pushFront(&p.q, r.Page)
}

func (p *sieve) Evict(Ref) PageID {
	o := p.hand
	if o == nilPage {
		o = p.q.tail
	}
	for p.visited[o] {
		p.visited[o] = false
		o = p.l.prev(o)
		if o == nilPage {
			o = p.q.tail
		}
	}
	p.hand = p.l.prev(o)
	p.l.remove(&p.q, o)
	return o
}

// Remove takes page id out of the queue; a hand on it moves on as after an
// eviction, to the page just newer.
func (p *sieve) Remove(id PageID) {
	if p.hand == id {
		p.hand = p.l.prev(id)
	}
	p.l.remove(&p.q, id)
	p.visited[id] = false
}
