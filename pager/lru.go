package pager

// lru evicts the resident page whose last access is oldest (least recently
// used); with mru set it evicts the one accessed most recently. The access
// that loads a page counts as its use. Exact: one list kept in recency order,
// O(1) per access.
//
// Source: Mattson, Gecsei, Slutz and Traiger, "Evaluation techniques for
// storage hierarchies", IBM Systems Journal 1970 (LRU as a stack algorithm);
// MRU: Chou and DeWitt, VLDB 1985.
type lru struct {
	mru bool
	l   links
	q   list // head: most recent use, tail: least recent
}

func (p *lru) Name() string {
	if p.mru {
		return "mru"
	}
	return "lru"
}

func (p *lru) Reset(int, PageState) { *p = lru{mru: p.mru, q: newList()} }

func (p *lru) Hit(r Ref) { p.l.moveToFront(&p.q, r.Page) }

func (p *lru) Insert(r Ref) {
	p.l.grow(r.Page)
	p.l.pushFront(&p.q, r.Page)
}

func (p *lru) Evict(Ref) PageID {
	if p.mru {
		return p.l.popFront(&p.q)
	}
	return p.l.popBack(&p.q)
}

// Remove takes page id out of the recency list.
func (p *lru) Remove(id PageID) { p.l.remove(&p.q, id) }
