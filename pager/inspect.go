package pager

import "fmt"

// Frame is one resident page as a step table shows it: its note, as the
// table prints it, and the same state in typed fields, for a program that
// draws it.
type Frame struct {
	Page PageID
	// Note is a short annotation: a reference bit, a counter, a list name.
	// A leading ">" marks the page under the hand.
	Note string
	// Hand reports whether the policy's hand (clock, wsclock, sieve) is at
	// this page: where the next search for a victim starts.
	Hand bool
	// List names the list or queue that holds the page, for the policies
	// that keep several: arc's T1 and T2, s3fifo's S and M; "" otherwise.
	List string
	// Ref is the page's reference bit (clock, nfu, aging, wsclock) or
	// sieve's visited bit; BitNone for the policies that keep none.
	Ref Bit
	// Key is the number the policy orders or judges the page by, named by
	// KeyName: lfu's uses ("n"), nfu's and aging's counters ("c"),
	// s3fifo's frequency ("f"), opt's next use ("next", an access index, or
	// [traces.NoNext] for never), wsclock's time of last use ("last", an
	// access index). KeyName "" means none.
	Key     uint64
	KeyName string
}

// Bit is a bit a policy keeps per page, or the lack of one.
type Bit uint8

// Values of a Bit.
const (
	// BitNone means the policy keeps no such bit.
	BitNone Bit = iota
	// BitClear is a clear bit (0).
	BitClear
	// BitSet is a set bit (1).
	BitSet
)

func bitOf(b bool) Bit {
	if b {
		return BitSet
	}
	return BitClear
}

func (b Bit) String() string {
	switch b {
	case BitClear:
		return "0"
	case BitSet:
		return "1"
	}
	return ""
}

// Inspector is implemented by every policy here, for step tables: Inspect
// returns the resident pages in the policy's own order (documented per
// policy; the next victim first where the policy has an order of victims)
// and a note on the policy's state as a whole ("" if none). It allocates:
// it is not for the hot path.
type Inspector interface {
	Inspect() (frames []Frame, note string)
}

// ghostKeeper is implemented by the policies that remember pages they no
// longer hold.
type ghostKeeper interface {
	ghosts() []List
}

// List is a named list of pages.
type List struct {
	Name  string
	Pages []PageID
}

// Inspection is a policy's whole state after an access, as a step table or
// the classroom page shows it.
type Inspection struct {
	// Frames are the resident pages in the policy's order (see
	// [Inspector]); Order says what that order is.
	Frames []Frame
	// Note is the policy's state as a whole ("hand at frame 1"), "" if
	// none.
	Note string
	// Ghosts are the lists of pages the policy remembers without holding
	// them (arc's B1 and B2, s3fifo's G), each in the order they are
	// forgotten, the next to go first; nil for the policies that keep none.
	Ghosts []List
	// Order says in words what the order of Frames is ("oldest load
	// first").
	Order string
	// VictimFirst reports whether Frames[0] is the page the policy evicts
	// at the next fault (fifo, lru, mru, lfu, opt): true only where that
	// follows from the order alone.
	VictimFirst bool
}

// orders says, per policy, what the order of its Inspect is and whether
// its first page is the next victim.
var orders = map[string]struct {
	order       string
	victimFirst bool
}{
	"fifo":       {"oldest load first", true},
	"lru":        {"least recently used first", true},
	"mru":        {"most recently used first", true},
	"lfu":        {"fewest uses first, ties least recently used first", true},
	"random":     {"the order the victim is drawn from", false},
	"clock":      {"frame order; the hand marks where the search starts", false},
	"clock-cold": {"frame order; the hand marks where the search starts", false},
	"nfu":        {"smallest counter first", false},
	"aging":      {"smallest counter first, then oldest load", false},
	"wsclock":    {"frame order; the hand marks where the search starts", false},
	"opt":        {"farthest next use first", true},
	"arc":        {"T1 then T2, each least recent first", false},
	"sieve":      {"oldest first; the hand marks where the search starts", false},
	"s3fifo":     {"queue S then queue M, each oldest first", false},
}

// Inspect returns the state of p, which must be one of this package's
// policies (from [NewPolicy]); ok is false for any other policy.
func Inspect(p Policy) (in Inspection, ok bool) {
	i, ok := p.(Inspector)
	if !ok {
		return Inspection{}, false
	}
	in.Frames, in.Note = i.Inspect()
	if g, ok := p.(ghostKeeper); ok {
		in.Ghosts = g.ghosts()
	}
	o := orders[p.Name()]
	in.Order, in.VictimFirst = o.order, o.victimFirst
	return in, true
}

// Order returns what the order of the named policy's frames is, in words,
// and whether the first is its next victim (see [Inspection]).
func Order(policy string) (order string, victimFirst bool) {
	o := orders[policy]
	return o.order, o.victimFirst
}

func listOrder(l *links, q *list, fromTail bool, frame func(*Frame)) []Frame {
	var out []Frame
	id := q.head
	if fromTail {
		id = q.tail
	}
	for id != nilPage {
		f := Frame{Page: id}
		if frame != nil {
			frame(&f)
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

// listPages returns the pages of q from its tail (oldest) to its head.
func listPages(l *links, q *list) []PageID {
	out := []PageID{}
	for id := q.tail; id != nilPage; id = l.prev(id) {
		out = append(out, id)
	}
	return out
}

// handNote prefixes a hand's mark to a note.
func handNote(f *Frame) {
	if f.Hand {
		f.Note = ">" + f.Note
	}
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
func (p *lfu) Inspect() ([]Frame, string) { return p.f.inspect("n"), "" }

func (f *freqBuckets) inspect(name string) []Frame {
	var out []Frame
	for b := f.first; b >= 0; b = f.buckets[b].next {
		c := f.buckets[b].count
		out = append(out, listOrder(&f.l, &f.buckets[b].q, true, func(fr *Frame) {
			fr.Key, fr.KeyName = uint64(c), name
			fr.Note = fmt.Sprintf("%s=%d", name, c)
		})...)
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
		f := Frame{Page: id, Ref: bitOf(p.ref[id]), Hand: s == p.f.hand}
		f.Note = "R=" + f.Ref.String()
		handNote(&f)
		out = append(out, f)
	}
	return out, fmt.Sprintf("hand at frame %d", p.f.hand)
}

// Inspect lists pages by counter, smallest (the next victim) first; the
// note is the counter and R.
func (p *nfu) Inspect() ([]Frame, string) {
	out := p.f.inspect("c")
	for i := range out {
		out[i].Ref = bitOf(p.r[out[i].Page])
		out[i].Note += " R=" + out[i].Ref.String()
	}
	return out, ""
}

// Inspect lists pages by counter, smallest first, then by load; the note
// is the 8-bit counter in binary and R.
func (p *aging) Inspect() ([]Frame, string) {
	var out []Frame
	for c := range p.groups {
		out = append(out, listOrder(&p.l, &p.groups[c], true, func(f *Frame) {
			f.Key, f.KeyName, f.Ref = uint64(p.counter[f.Page]), "c", bitOf(p.r[f.Page])
			f.Note = fmt.Sprintf("c=%08b R=%s", p.counter[f.Page], f.Ref)
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
		f := Frame{Page: p.f.slots[s], Ref: bitOf(p.refSet(s)), Key: p.last[s], KeyName: "last", Hand: s == p.f.hand}
		f.Note = fmt.Sprintf("R=%s last=%d", f.Ref, p.last[s])
		handNote(&f)
		out = append(out, f)
	}
	return out, fmt.Sprintf("hand at frame %d, tau %d", p.f.hand, p.tau)
}

// Inspect lists T1 then T2, each least recent first; the note is the list.
// The policy note gives the target size p of T1; the ghost lists B1 and B2
// are in [Inspection.Ghosts].
func (a *arc) Inspect() ([]Frame, string) {
	in := func(name string) func(*Frame) { return func(f *Frame) { f.Note, f.List = name, name } }
	out := listOrder(&a.l, &a.lists[arcT1], true, in("T1"))
	out = append(out, listOrder(&a.l, &a.lists[arcT2], true, in("T2"))...)
	return out, fmt.Sprintf("p=%d", a.p)
}

// ghosts returns B1 and B2, each least recent (the next dropped) first.
func (a *arc) ghosts() []List {
	return []List{{"B1", listPages(&a.l, &a.lists[arcB1])}, {"B2", listPages(&a.l, &a.lists[arcB2])}}
}

// Inspect lists the queue oldest first with each page's visited bit; the
// page under the hand is marked with ">".
func (p *sieve) Inspect() ([]Frame, string) {
	hand := p.hand
	if hand == nilPage {
		hand = p.q.tail
	}
	return listOrder(&p.l, &p.q, true, func(f *Frame) {
		f.Ref, f.Hand = bitOf(p.visited[f.Page]), f.Page == hand
		f.Note = "v=" + f.Ref.String()
		handNote(f)
	}), ""
}

// Inspect lists S then M, each oldest first; the note is the queue and the
// frequency. The ghost queue G is in [Inspection.Ghosts].
func (p *s3fifo) Inspect() ([]Frame, string) {
	in := func(name string) func(*Frame) {
		return func(f *Frame) {
			f.List, f.Key, f.KeyName = name, uint64(p.freq[f.Page]), "f"
			f.Note = fmt.Sprintf("%s f=%d", name, p.freq[f.Page])
		}
	}
	out := listOrder(&p.l, &p.s, true, in("S"))
	out = append(out, listOrder(&p.l, &p.m, true, in("M"))...)
	return out, ""
}

// ghosts returns the ghost queue G, oldest (the next dropped) first.
func (p *s3fifo) ghosts() []List { return []List{{"G", listPages(&p.g, &p.ghost)}} }
