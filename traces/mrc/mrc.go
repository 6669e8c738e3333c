// Package mrc computes LRU miss-ratio curves from traces in one pass:
// Mattson's stack distances (Mattson, Gecsei, Slutz and Traiger, IBM Systems
// Journal 1970) counted with a Fenwick tree, O(log d) per access for d
// distinct pages, and SHARDS spatial sampling with its SHARDS-adj
// correction for huge traces (Waldspurger, Park, Garthwaite and Ahmad,
// "Efficient MRC Construction with SHARDS", FAST 2015).
//
// The stack distance of an access is one plus the number of distinct pages
// accessed since the previous access to the same page (infinite for a first
// access). LRU with k frames hits exactly the accesses of distance at most
// k, so one histogram of distances gives the faults of LRU at every frame
// count at once.
package mrc

import (
	"errors"
	"fmt"
	"io"
	"math"
	"slices"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// Curve is a miss-ratio curve: a histogram of stack distances.
type Curve struct {
	// Accesses is the number of accesses measured (sampled ones, with
	// sampling).
	Accesses uint64
	// Cold is the number of first accesses to a page (infinite distance):
	// with sampling, the number of pages sampled.
	Cold uint64
	// Hist[d] is the number of accesses of stack distance d (Hist[0] is
	// unused), among the sampled pages: with sampling, a distance d stands
	// for d/Rate in the whole trace, so memory follows the sampled pages.
	Hist []uint64
	// Rate is the sampling rate, 1 for an exact curve.
	Rate float64
	// Seed is the seed of the sampling hash (0 for an exact curve).
	Seed uint64
	// Total is the number of accesses of the whole trace (equal to
	// Accesses when exact).
	Total uint64

	// above[k] caches the accesses of distance above k (suffix sums).
	above []uint64
}

// Distinct returns the number of distinct pages (estimated, with sampling).
func (c *Curve) Distinct() uint64 { return uint64(float64(c.Cold)/c.Rate + 0.5) }

// Expected returns the number of accesses a sample at Rate holds on
// average, Rate × Total: what SHARDS-adj normalises by.
func (c *Curve) Expected() float64 { return c.Rate * float64(c.Total) }

// Resolution returns the smallest frame count the curve says anything
// about: 1 exact, about 1/Rate frames with sampling (a sampled distance of
// 1 stands for 1/Rate frames; below that, every access counts as a miss).
func (c *Curve) Resolution() int {
	if c.Rate >= 1 {
		return 1
	}
	return int(math.Ceil(1 / c.Rate))
}

// MinSampledPages is the number of sampled pages below which a sampled
// curve's errors are large (see [Curve.SmallSample]): SHARDS's error falls
// with the square root of the pages sampled, and below about a thousand it
// can reach tens of percentage points on skewed traces.
const MinSampledPages = 1000

// SmallSample reports whether the curve is sampled from fewer than
// [MinSampledPages] pages: too few for its estimates to be trusted.
func (c *Curve) SmallSample() bool { return c.Rate < 1 && c.Cold < MinSampledPages }

func (c *Curve) suffix() {
	if c.above != nil {
		return
	}
	c.above = make([]uint64, len(c.Hist)+1)
	for d := len(c.Hist) - 1; d >= 0; d-- {
		c.above[d] = c.above[d+1] + c.Hist[d]
	}
	// above[k] must count distances > k: shift by one.
	c.above = c.above[1:]
}

// missed returns the measured accesses that miss with frames frames: cold
// ones, and those whose distance (scaled by 1/Rate) exceeds frames; and the
// sampled distance k that frames stands for.
func (c *Curve) missed(frames int) (m uint64, k int) {
	c.suffix()
	k = frames
	if c.Rate < 1 && frames >= 1 {
		// A sampled distance d has d-1 sampled pages between the two
		// accesses, standing for (d-1)/Rate pages of the whole trace:
		// it hits when 1 + (d-1)/Rate <= frames, that is when
		// d <= 1 + floor((frames-1)*Rate).
		k = 1 + int(float64(frames-1)*c.Rate)
	}
	m = c.Cold
	if k < len(c.above) {
		m += c.above[max(k, 0)]
	}
	return m, k
}

// Misses returns the accesses that LRU with frames frames misses, cold
// misses included. With sampling it is the estimated miss ratio times the
// accesses of the whole trace, rounded.
func (c *Curve) Misses(frames int) uint64 {
	if c.Rate == 1 {
		m, _ := c.missed(frames)
		return m
	}
	return uint64(c.MissRatio(frames)*float64(c.Total) + 0.5)
}

// MissRatio returns the fraction of accesses that LRU with frames frames
// misses. With sampling it is SHARDS-adj's estimate (Waldspurger et al.,
// section 3.3): the sample's misses over the expected sample size
// Rate × Total, where the difference between the expected and the actual
// sample size counts as accesses of the smallest distance (which miss
// below [Curve.Resolution] frames and hit from it on). It is 0 for an
// empty trace, and for a sample that holds nothing.
func (c *Curve) MissRatio(frames int) float64 {
	if c.Rate == 1 {
		if c.Accesses == 0 {
			return 0
		}
		m, _ := c.missed(frames)
		return float64(m) / float64(c.Accesses)
	}
	if c.Accesses == 0 {
		return 0 // nothing sampled: no estimate
	}
	m, k := c.missed(frames)
	miss := float64(m)
	if k < 1 {
		miss += c.Expected() - float64(c.Accesses)
	}
	return min(max(miss/c.Expected(), 0), 1)
}

// Options configure [Compute]. A nil *Options means an exact curve.
type Options struct {
	// Rate samples pages at this rate (0 < Rate <= 1) by a hash of the page
	// number: every access to a sampled page counts, others are skipped.
	// Zero or one means no sampling.
	Rate float64
	// Seed seeds the sampling hash: another seed samples other pages. Zero
	// means [DefaultSeed].
	Seed uint64
	// Progress, if not nil, is called now and then with the accesses read.
	Progress func(uint64)
}

// DefaultSeed is the sampling hash's seed when none is given.
const DefaultSeed = 0x9e3779b97f4a7c15

// ErrRate is matched by the error for a sampling rate outside
// [MinRate, 1].
var ErrRate = errors.New("sampling rate must be in [2^-24, 1]")

// MinRate is the smallest sampling rate: pages are sampled by 24 bits of a
// hash.
const MinRate = 1.0 / (1 << 24)

// Compute reads r to its end and returns its curve. A reader of dense ids
// ([traces.DenseReader], a vmt trace) gives them to the stack as they are,
// with no hash table of page numbers.
func Compute(r traces.Reader, opts *Options) (*Curve, error) {
	rate := 1.0
	seed := uint64(DefaultSeed)
	var progress func(uint64)
	if opts != nil {
		if opts.Rate != 0 {
			rate = opts.Rate
		}
		if opts.Seed != 0 {
			seed = opts.Seed
		}
		progress = opts.Progress
	}
	if !(rate >= MinRate && rate <= 1) {
		return nil, fmt.Errorf("rate %v: %w", rate, ErrRate)
	}
	s := newStack()
	c := &Curve{Rate: rate}
	if rate < 1 {
		c.Seed = seed
	}
	threshold := uint64(rate * (1 << 24))
	key := hash(seed)
	sampled := func(page arch.PageNum) bool { return hash(hash(uint64(page))^key)>>40 < threshold }
	dr, dense := r.(traces.DenseReader)
	if dense {
		if ok, err := dr.Dense(); err != nil || !ok {
			dense = false // not dense, or a bad header that Read reports
		}
	}
	// in[id] says whether a dense id's page is sampled, decided once.
	var in []bool
	buf := make([]traces.Access, 1<<14)
	ids := make([]uint32, len(buf))
	for {
		var n int
		var err error
		if dense {
			n, err = dr.ReadDense(buf)
		} else {
			n, err = r.Read(buf)
		}
		if !dense && rate == 1 {
			s.ids.IDs(buf[:n], ids) // numbered in a batch
		}
		for i, a := range buf[:n] {
			var d uint64
			switch {
			case !dense && rate == 1:
				d = s.accessID(ids[i], int(ids[i]) == len(s.last))
			case dense && rate == 1:
				d = s.accessID(uint32(a.Page), int(a.Page) == len(s.last))
			case dense:
				id := int(a.Page)
				if id == len(in) {
					in = append(in, sampled(dr.Pages()[id]))
				}
				if !in[id] {
					continue
				}
				d = s.access(a.Page) // renumbered among the sampled pages
			case rate < 1 && !sampled(a.Page):
				continue
			default:
				d = s.access(a.Page)
			}
			c.Accesses++
			if d == 0 {
				c.Cold++
				continue
			}
			if d >= uint64(len(c.Hist)) {
				c.Hist = slices.Grow(c.Hist, int(d)+1-len(c.Hist))[:d+1]
			}
			c.Hist[d]++
		}
		c.Total += uint64(n)
		if progress != nil && n > 0 {
			progress(c.Total)
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	if rate == 1 {
		c.Total = c.Accesses
	}
	return c, nil
}

// hash mixes a page number (SplitMix64's finaliser) for sampling. It maps
// 0 to 0, so Compute hashes twice with a key made of the seed in between:
// page 0 (the hottest of many traces) is then sampled no more often than
// another, and two seeds sample unrelated sets of pages (a key xor-ed in
// before a single hash would only swap the pages whose numbers differ in
// the key's bits).
func hash(x uint64) uint64 {
	x ^= x >> 30
	x *= 0xbf58476d1ce4e5b9
	x ^= x >> 27
	x *= 0x94d049bb133111eb
	return x ^ x>>31
}

// stack computes stack distances: a Fenwick tree over time positions holds
// a mark at the last access of each page; the distance of an access is one
// plus the marks after the page's previous position. Positions are
// renumbered (compacted) when they run out, so memory follows the distinct
// pages, not the trace.
type stack struct {
	ids   *traces.Dense
	last  []uint32 // position of each page's last access, by dense id
	tree  []int32  // Fenwick tree, 1-based
	now   uint32   // next position
	marks int32
}

func newStack() *stack {
	return &stack{ids: traces.NewDense(), tree: make([]int32, 1<<16+1)}
}

func (s *stack) add(pos uint32, v int32) {
	for i := int(pos) + 1; i < len(s.tree); i += i & -i {
		s.tree[i] += v
	}
}

// prefix returns the marks at positions <= pos.
func (s *stack) prefix(pos uint32) int32 {
	var sum int32
	for i := int(pos) + 1; i > 0; i -= i & -i {
		sum += s.tree[i]
	}
	return sum
}

// access records an access to page and returns its stack distance, or 0
// for a first access.
func (s *stack) access(page arch.PageNum) uint64 {
	id, added := s.ids.ID(page)
	return s.accessID(id, added)
}

// accessID is access for a page numbered densely already: id, which is
// new (len(s.last)) if added.
func (s *stack) accessID(id uint32, added bool) uint64 {
	if int(s.now) == len(s.tree)-1 {
		s.compact()
	}
	var d uint64
	if added {
		s.last = append(s.last, s.now)
	} else {
		p := s.last[id]
		d = uint64(s.marks-s.prefix(p)) + 1
		s.add(p, -1)
		s.marks--
		s.last[id] = s.now
	}
	s.add(s.now, 1)
	s.marks++
	s.now++
	return d
}

// compact renumbers the live marks 0, 1, 2... in order, growing the tree if
// they fill more than half of it. Positions are unique, so ordering them is
// a pass over the old positions, not a sort.
func (s *stack) compact() {
	byPos := make([]uint32, s.now)
	for i := range byPos {
		byPos[i] = ^uint32(0)
	}
	for id, pos := range s.last {
		byPos[pos] = uint32(id)
	}
	size := len(s.tree) - 1
	if 2*len(s.last) > size {
		size = 4 * len(s.last)
	}
	clear(s.tree)
	s.tree = slices.Grow(s.tree[:0], size+1)[:size+1]
	n := uint32(0)
	for _, id := range byPos {
		if id == ^uint32(0) {
			continue
		}
		s.last[id] = n
		n++
		s.tree[n] = 1
	}
	// Build the Fenwick tree in O(n).
	for i := 1; i < len(s.tree); i++ {
		if j := i + (i & -i); j < len(s.tree) {
			s.tree[j] += s.tree[i]
		}
	}
	s.now = n
}
