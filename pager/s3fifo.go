package pager

// s3fifo is S3-FIFO (Yang, Zhang, Qiu, Yue and Rashmi, "FIFO queues are all
// you need for cache eviction", SOSP 2023), after the paper's Algorithm 1,
// with frames as the cache size:
//
//   - Three FIFO queues: S (small, target max(1, frames/10) pages), M (main,
//     the rest) and G (ghost: ids only, as many as M's share). Each resident
//     page has a frequency 0..3; a hit adds one (capped at 3).
//   - A loaded page joins M if its id is in G (and leaves G),
//     else S, with frequency 0.
//   - To evict: from S if S holds at least its target, else from M.
//   - From S: take S's oldest page t; if its frequency is above 1, move it
//     to M with frequency 0, and if M now exceeds its share evict from M and
//     stop; else t is the victim and its id joins G (G drops its oldest id
//     beyond its size). Repeat until a page is evicted; if S empties, evict
//     from M.
//   - From M: take M's oldest page; if its frequency is above 0, decrease it
//     and reinsert the page at M's head; else it is the victim.
//
// One difference from the pseudo-code: there, moving pages from S to M can
// evict from M and then still evict from S, freeing two frames for one miss.
// A pager frees exactly one frame per fault, so the eviction from M ends the
// search.
type s3fifo struct {
	sCap, mCap, gCap int
	l                links // S and M (a page is in one of them)
	g                links // G
	s, m, ghost      list
	where            []uint8
	freq             []uint8
}

const (
	s3None uint8 = iota
	s3Small
	s3Main
	s3Ghost // a remembered id, not resident (a page can be resident and not a ghost only)
)

func (p *s3fifo) Name() string { return "s3fifo" }

func (p *s3fifo) Reset(frames int, _ PageState) {
	*p = s3fifo{s: newList(), m: newList(), ghost: newList()}
	p.sizes(frames)
}

// sizes sets the queues' targets for frames frames.
func (p *s3fifo) sizes(frames int) {
	p.sCap = max(1, frames/10)
	p.mCap = frames - p.sCap
	p.gCap = max(frames-p.sCap, 1)
}

// Resize sets the queues' targets for the new budget; the ghost queue drops
// its oldest ids beyond its new size.
func (p *s3fifo) Resize(frames int) {
	p.sizes(frames)
	for p.ghost.n > p.gCap {
		old := p.g.popBack(&p.ghost)
		p.where[old] = s3None
	}
}

// Remove takes page id out of S or M; it does not join the ghosts (it was
// not evicted).
func (p *s3fifo) Remove(id PageID) {
	switch p.where[id] {
	case s3Small:
		p.l.remove(&p.s, id)
	case s3Main:
		p.l.remove(&p.m, id)
	default:
		panic("pager: s3fifo: remove of a page in neither queue")
	}
	p.where[id] = s3None
}

func (p *s3fifo) grow(id PageID) {
	p.l.grow(id)
	p.g.grow(id)
	if int(id) >= len(p.where) {
		p.where = growTo(p.where, p.l.size(), s3None)
		p.freq = growTo(p.freq, p.l.size(), 0)
	}
}

func (p *s3fifo) Hit(r Ref) {
	if p.freq[r.Page] < 3 {
		p.freq[r.Page]++
	}
}

func (p *s3fifo) Insert(r Ref) {
	x := r.Page
	p.grow(x)
	p.freq[x] = 0
	if p.where[x] == s3Ghost {
		p.g.remove(&p.ghost, x)
		p.where[x] = s3Main
		p.l.pushFront(&p.m, x)
		return
	}
	p.where[x] = s3Small
	p.l.pushFront(&p.s, x)
}

func (p *s3fifo) Evict(Ref) PageID {
	if p.s.n >= p.sCap {
		return p.evictS()
	}
	return p.evictM()
}

func (p *s3fifo) evictS() PageID {
	for p.s.n > 0 {
		t := p.l.popBack(&p.s)
		if p.freq[t] > 1 {
			p.freq[t] = 0
			p.where[t] = s3Main
			p.l.pushFront(&p.m, t)
			if p.m.n > p.mCap {
				return p.evictM()
			}
			continue
		}
		p.where[t] = s3Ghost
		p.g.pushFront(&p.ghost, t)
		if p.ghost.n > p.gCap {
			old := p.g.popBack(&p.ghost)
			p.where[old] = s3None
		}
		return t
	}
	return p.evictM()
}

func (p *s3fifo) evictM() PageID {
	for {
		t := p.l.popBack(&p.m)
		if p.freq[t] > 0 {
			p.freq[t]--
			p.l.pushFront(&p.m, t)
			continue
		}
		p.where[t] = s3None
		return t
	}
}
