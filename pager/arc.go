package pager

import "math"

// arc is the Adaptive Replacement Cache of Megiddo and Modha ("ARC: a
// self-tuning, low overhead replacement cache", FAST 2003), with c = frames,
// following the paper's Figure 4 exactly:
//
//   - T1 holds pages seen once recently, T2 pages seen at least twice; B1 and
//     B2 remember (as ghosts, without data) pages recently evicted from T1
//     and T2. p is the target size of T1, adapted on ghost hits: a hit in B1
//     adds max(|B2|/|B1|, 1) to p (at most c), a hit in B2 subtracts
//     max(|B1|/|B2|, 1) (at least 0); the divisions are integer divisions.
//   - A hit in T1 or T2 moves the page to the most recent end of T2.
//   - REPLACE(x, p) evicts the least recent page of T1 into B1 if T1 is not
//     empty and (|T1| > p, or x is in B2 and |T1| = p); else the least recent
//     page of T2 into B2.
//   - On a miss of a page in no list: if |T1|+|B1| = c, either the least
//     recent ghost of B1 is dropped and REPLACE runs (|T1| < c), or the least
//     recent page of T1 is evicted outright; else, if the four lists hold 2c
//     pages, the least recent ghost of B2 is dropped, and REPLACE runs when
//     the cache is full. The page joins T1 (T2 if it was a ghost).
//
// Ghosts need memory per remembered page: at most c of them.
type arc struct {
	c     int
	p     int
	l     links
	where []uint8
	lists [5]list // indexed by where: t1, t2, b1, b2 (0 unused)
	// adapted is the time of the last access whose ghost hit already adapted
	// p in Evict, so that Insert does not adapt again.
	adapted uint64
}

const (
	arcNone uint8 = iota
	arcT1
	arcT2
	arcB1
	arcB2
)

// notAdapted is arc.adapted before any adaptation: no access has that time.
const notAdapted = math.MaxUint64

func (a *arc) Name() string { return "arc" }

func (a *arc) Reset(frames int, _ PageState) {
	*a = arc{c: frames, adapted: notAdapted}
	for i := range a.lists {
		a.lists[i] = newList()
	}
}

func (a *arc) grow(id PageID) {
	a.l.grow(id)
	if int(id) >= len(a.where) {
		a.where = growTo(a.where, a.l.size(), arcNone)
	}
}

func (a *arc) len(w uint8) int { return a.lists[w].n }

func (a *arc) move(id PageID, to uint8) {
	w := a.where[id]
	if w == to && to != arcNone {
		// The most frequent move: a hit in T2, often of a page near its
		// head.
		a.l.moveToFront(&a.lists[to], id)
		return
	}
	if w != arcNone {
		a.l.remove(&a.lists[w], id)
	}
	a.where[id] = to
	if to != arcNone {
		a.l.pushFront(&a.lists[to], id)
	}
}

func (a *arc) dropLRU(w uint8) {
	id := a.l.popBack(&a.lists[w])
	a.where[id] = arcNone
}

func (a *arc) Hit(r Ref) { a.move(r.Page, arcT2) }

// adapt runs the ghost-hit adaptation of p for x, once per access.
func (a *arc) adapt(x PageID, now uint64) {
	if a.adapted == now {
		return
	}
	a.adapted = now
	switch a.where[x] {
	case arcB1:
		a.p = min(a.c, a.p+max(a.len(arcB2)/a.len(arcB1), 1))
	case arcB2:
		a.p = max(0, a.p-max(a.len(arcB1)/a.len(arcB2), 1))
	}
}

// replace evicts from T1 or T2 into the matching ghost list.
func (a *arc) replace(x PageID) PageID {
	t1 := a.len(arcT1)
	fromT1 := t1 >= 1 && (t1 > a.p || (x != shrinking && a.where[x] == arcB2 && t1 == a.p))
	if a.len(arcT2) == 0 {
		fromT1 = true
	} else if t1 == 0 {
		fromT1 = false
	}
	if fromT1 {
		v := a.lists[arcT1].tail
		a.move(v, arcB1)
		return v
	}
	v := a.lists[arcT2].tail
	a.move(v, arcB2)
	return v
}

func (a *arc) Evict(r Ref) PageID {
	x := r.Page
	if x == shrinking {
		// A shrinking budget: REPLACE, with no page coming in.
		return a.replace(x)
	}
	a.grow(x)
	switch a.where[x] {
	case arcB1, arcB2:
		a.adapt(x, r.Time)
		return a.replace(x)
	}
	// Case IV: x is in no list.
	if a.len(arcT1)+a.len(arcB1) == a.c {
		if a.len(arcT1) < a.c {
			a.dropLRU(arcB1)
			return a.replace(x)
		}
		v := a.lists[arcT1].tail
		a.move(v, arcNone)
		return v
	}
	if a.len(arcT1)+a.len(arcT2)+a.len(arcB1)+a.len(arcB2) == 2*a.c {
		a.dropLRU(arcB2)
	}
	return a.replace(x)
}

func (a *arc) Insert(r Ref) {
	x := r.Page
	a.grow(x)
	switch a.where[x] {
	case arcB1, arcB2:
		a.adapt(x, r.Time)
		a.move(x, arcT2)
		return
	}
	// A miss with a free frame: case IV's ghost bookkeeping without REPLACE.
	if a.len(arcT1)+a.len(arcB1) == a.c && a.len(arcB1) > 0 {
		a.dropLRU(arcB1)
	} else if a.len(arcT1)+a.len(arcT2)+a.len(arcB1)+a.len(arcB2) >= 2*a.c && a.len(arcB2) > 0 {
		a.dropLRU(arcB2)
	}
	a.move(x, arcT1)
}

// Remove takes page id out of T1 or T2; it does not become a ghost (it was
// not replaced).
func (a *arc) Remove(id PageID) { a.move(id, arcNone) }

// Resize makes c the new budget: p stays at most c, and the ghost lists
// drop their least recent ids until |T1|+|B1| <= c and the four lists hold
// at most 2c (the pager has already evicted down to c).
func (a *arc) Resize(frames int) {
	a.c = frames
	a.p = min(a.p, a.c)
	for a.len(arcT1)+a.len(arcB1) > a.c && a.len(arcB1) > 0 {
		a.dropLRU(arcB1)
	}
	for a.len(arcT1)+a.len(arcT2)+a.len(arcB1)+a.len(arcB2) > 2*a.c && a.len(arcB2) > 0 {
		a.dropLRU(arcB2)
	}
}
