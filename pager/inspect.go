package pager

import "fmt"

// Frame is one resident page as a step table shows it.
type Frame struct {
	Page PageID
	// Note is a short annotation: a reference bit, a counter, a list name.
	Note string
}

// Inspector is implemented by every policy here, for step tables: Inspect
// returns the resident pages in the policy's own order (documented per
// policy; the next victim first where the policy has an order of victims)
// and a note on the policy's state as a whole ("" if none). It allocates:
// it is not for the hot path.
type Inspector interface {
	Inspect() (frames []Frame, note string)
}

func listOrder(l *links, q *list, fromTail bool, note func(PageID) string) []Frame {
	var out []Frame
	id := q.head
	if fromTail {
		id = q.tail
	}
	for id != nilPage {
		f := Frame{Page: id}
		if note != nil {
			f.Note = note(id)
		}
		out = append(out, f)
		if fromTail {
			id = l.prev(id)
		} else {
			id = l.next(id)
		}
	}
	return out
}

func bit(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// Inspect lists pages oldest first (the next victim first).
func (p *fifo) Inspect() ([]Frame, string) {
	out := make([]Frame, p.n)
	for i := range out {
		out[i] = Frame{Page: p.ring[(p.head+i)%len(p.ring)]}
	}
	return out, ""
}

// Inspect lists pages from the next victim: least recently used first for
// lru, most recently used first for mru.
func (p *lru) Inspect() ([]Frame, string) { return listOrder(&p.l, &p.q, !p.mru, nil), "" }

// Inspect lists pages by count, fewest first, ties least recently used
// first; the note is the count.
func (p *lfu) Inspect() ([]Frame, string) { return p.f.inspect("n="), "" }

func (f *freqBuckets) inspect(prefix string) []Frame {
	var out []Frame
	for b := f.first; b >= 0; b = f.buckets[b].next {
		c := f.buckets[b].count
		out = append(out, listOrder(&f.l, &f.buckets[b].q, true, func(PageID) string { return fmt.Sprintf("%s%d", prefix, c) })...)
	}
	return out
}

// Inspect lists pages in the order of the array the victim is drawn from.
func (p *random) Inspect() ([]Frame, string) {
	out := make([]Frame, len(p.pages))
	for i, id := range p.pages {
		out[i] = Frame{Page: id}
	}
	return out, ""
}

// Inspect lists frames in slot order with each page's reference bit; the
// frame under the hand is marked with ">".
func (p *clock) Inspect() ([]Frame, string) {
	var out []Frame
	for s := range p.f.used {
		if s == p.f.vacated {
			continue
		}
		id := p.f.slots[s]
		note := "R=" + bit(p.ref[id])
		if s == p.f.hand {
			note = ">" + note
		}
		out = append(out, Frame{Page: id, Note: note})
	}
	return out, fmt.Sprintf("hand at frame %d", p.f.hand)
}

// Inspect lists pages by counter, smallest (the next victim) first; the
// note is the counter and R.
func (p *nfu) Inspect() ([]Frame, string) {
	out := p.f.inspect("c=")
	for i := range out {
		out[i].Note += " R=" + bit(p.r[out[i].Page])
	}
	return out, ""
}

// Inspect lists pages by counter, smallest first, then by load; the note
// is the 8-bit counter in binary and R.
func (p *aging) Inspect() ([]Frame, string) {
	var out []Frame
	for c := range p.groups {
		out = append(out, listOrder(&p.l, &p.groups[c], true, func(id PageID) string {
			return fmt.Sprintf("c=%08b R=%s", p.counter[id], bit(p.r[id]))
		})...)
	}
	return out, ""
}

// Inspect lists frames in slot order with R and the time of last use; the
// frame under the hand is marked with ">".
func (p *wsclock) Inspect() ([]Frame, string) {
	var out []Frame
	for s := range p.f.used {
		if s == p.f.vacated {
			continue
		}
		note := fmt.Sprintf("R=%s last=%d", bit(p.refSet(s)), p.last[s])
		if s == p.f.hand {
			note = ">" + note
		}
		out = append(out, Frame{Page: p.f.slots[s], Note: note})
	}
	return out, fmt.Sprintf("hand at frame %d, tau %d", p.f.hand, p.tau)
}

// Inspect lists T1 then T2, each least recent first; the note is the list.
// The policy note gives the target p and the ghost lists' sizes.
func (a *arc) Inspect() ([]Frame, string) {
	out := listOrder(&a.l, &a.lists[arcT1], true, func(PageID) string { return "T1" })
	out = append(out, listOrder(&a.l, &a.lists[arcT2], true, func(PageID) string { return "T2" })...)
	return out, fmt.Sprintf("p=%d |B1|=%d |B2|=%d", a.p, a.len(arcB1), a.len(arcB2))
}

// Inspect lists the queue oldest first with each page's visited bit; the
// page under the hand is marked with ">".
func (p *sieve) Inspect() ([]Frame, string) {
	hand := p.hand
	if hand == nilPage {
		hand = p.q.tail
	}
	return listOrder(&p.l, &p.q, true, func(id PageID) string {
		note := "v=" + bit(p.visited[id])
		if id == hand {
			note = ">" + note
		}
		return note
	}), ""
}

// Inspect lists S then M, each oldest first; the note is the queue and the
// frequency. The policy note gives the ghost queue's size.
func (p *s3fifo) Inspect() ([]Frame, string) {
	out := listOrder(&p.l, &p.s, true, func(id PageID) string { return fmt.Sprintf("S f=%d", p.freq[id]) })
	out = append(out, listOrder(&p.l, &p.m, true, func(id PageID) string { return fmt.Sprintf("M f=%d", p.freq[id]) })...)
	return out, fmt.Sprintf("|G|=%d", p.ghost.n)
}
