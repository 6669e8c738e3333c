// Package gen generates synthetic access traces: sequential sweeps, loops,
// uniform and zipf draws, shifting working sets, and Belady's anomaly
// string.
//
// A generator is a [traces.Reader]: it streams, so a trace of any length
// needs no more memory than its kind's tables (zipf: 12 bytes a page).
// The same kind, options and seed give the same accesses on every platform
// and Go release: the random numbers come from a SplitMix64 written out in
// this package and are turned into pages with integer arithmetic; the only
// floating point (the zipf weights) uses basic operations rounded one by
// one, never the math package's Exp or Log.
package gen

import (
	"errors"
	"fmt"
	"io"
	"math/bits"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// Kinds of generators.
const (
	// Seq sweeps Pages pages in order once, N/Pages accesses to each page
	// in a row: a scan of an array.
	Seq = "seq"
	// Loop cycles over Pages pages, one access each: 0, 1, ..., k-1, 0, 1...
	Loop = "loop"
	// Uniform draws each page uniformly from Pages pages.
	Uniform = "uniform"
	// Zipf draws page p (0-based) with probability proportional to
	// 1/(p+1)^Alpha.
	Zipf = "zipf"
	// Phases draws uniformly from a working set of WorkingSet pages, placed
	// at random among Pages pages, and moves it every PhaseLen accesses.
	Phases = "phases"
	// Belady repeats 1,2,3,4,1,2,5,1,2,3,4,5: with FIFO, 3 frames fault 9
	// times and 4 frames 10 times. Pages is ignored.
	Belady = "belady"
)

var kinds = []struct{ name, what string }{
	{Seq, "a sequential sweep of --pages pages, n/pages accesses to each in a row"},
	{Loop, "cycles over --pages pages: 0, 1, ..., k-1, 0, 1, ..."},
	{Uniform, "pages drawn uniformly from --pages pages"},
	{Zipf, "page p drawn with probability proportional to 1/(p+1)^alpha"},
	{Phases, "uniform draws from a working set of --ws pages that moves every --phase accesses"},
	{Belady, "Belady's anomaly string 1,2,3,4,1,2,5,1,2,3,4,5, repeated to n"},
}

// Kinds returns the names of the generators.
func Kinds() []string {
	names := make([]string, len(kinds))
	for i, k := range kinds {
		names[i] = k.name
	}
	return names
}

// Describe returns a one-line description of a kind, or "".
func Describe(kind string) string {
	for _, k := range kinds {
		if k.name == kind {
			return k.what
		}
	}
	return ""
}

// MaxZipfPages bounds Pages for zipf, whose table takes 12 bytes a page.
const MaxZipfPages = 1 << 26

// ErrOption is wrapped by the errors for an unknown kind or a bad option.
var ErrOption = errors.New("bad generator option")

// Options configures a generator. Fields that a kind does not use are
// ignored.
type Options struct {
	// N is the number of accesses.
	N uint64
	// Pages is the number of distinct pages to draw from (for loop, the
	// length of the loop). It must be at least 1 (Belady aside).
	Pages uint64
	// Writes is the fraction of accesses that write, from 0 to 1. Each
	// access writes independently with this probability.
	Writes float64
	// Seed selects the random sequence.
	Seed uint64
	// Alpha is zipf's exponent, from 0 (uniform) to 100; the zero value
	// means 0. 1 is the classic zipf.
	Alpha float64
	// WorkingSet is the phases' working set in pages, at most Pages; 0
	// means Pages/8, at least 1.
	WorkingSet uint64
	// PhaseLen is the length of a phase in accesses; 0 means N/8, at least
	// 1.
	PhaseLen uint64
}

// New returns a generator of kind (one of [Kinds]) as a reader of N
// accesses. The error for an unknown kind or an option out of range wraps
// [ErrOption] and names the option.
func New(kind string, opts *Options) (traces.Reader, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if !(o.Writes >= 0 && o.Writes <= 1) {
		return nil, fmt.Errorf("%w: Writes %v: want a fraction from 0 to 1", ErrOption, o.Writes)
	}
	if kind != Belady && o.Pages == 0 {
		return nil, fmt.Errorf("%w: Pages 0: %s needs at least 1 page", ErrOption, kind)
	}
	g := &generator{
		n:      o.N,
		writes: stream(o.Seed, 2),
		// Writes is exact when scaled by 2^53 (a power of two); a 53-bit
		// draw below it writes.
		threshold: uint64(float64(o.Writes * (1 << 53))),
	}
	rng := stream(o.Seed, 1)
	switch kind {
	case Seq:
		n, pages := o.N, o.Pages
		g.page = func(i uint64) uint64 {
			hi, lo := bits.Mul64(i, pages)
			q, _ := bits.Div64(hi, lo, n) // i < n, so hi < n
			return q
		}
	case Loop:
		pages := o.Pages
		g.page = func(i uint64) uint64 { return i % pages }
	case Uniform:
		pages := o.Pages
		g.page = func(uint64) uint64 { return rng.below(pages) }
	case Zipf:
		if !(o.Alpha >= 0 && o.Alpha <= 100) {
			return nil, fmt.Errorf("%w: Alpha %v: want an exponent from 0 to 100", ErrOption, o.Alpha)
		}
		if o.Pages > MaxZipfPages {
			return nil, fmt.Errorf("%w: Pages %d: zipf draws from at most %d pages", ErrOption, o.Pages, MaxZipfPages)
		}
		z := newZipf(o.Pages, o.Alpha)
		g.page = func(uint64) uint64 { return z.rank(rng.next() >> 2) }
	case Phases:
		ws, plen := o.WorkingSet, o.PhaseLen
		if ws == 0 {
			ws = max(o.Pages/8, 1)
		}
		if ws > o.Pages {
			return nil, fmt.Errorf("%w: WorkingSet %d: larger than Pages %d", ErrOption, ws, o.Pages)
		}
		if plen == 0 {
			plen = max(o.N/8, 1)
		}
		var base uint64
		g.page = func(i uint64) uint64 {
			if i%plen == 0 {
				base = rng.below(o.Pages - ws + 1)
			}
			return base + rng.below(ws)
		}
	case Belady:
		s := [...]uint64{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5}
		g.page = func(i uint64) uint64 { return s[i%uint64(len(s))] }
	default:
		return nil, fmt.Errorf("%w: unknown kind %q (want one of %v)", ErrOption, kind, Kinds())
	}
	return g, nil
}

// generator is the Reader of every kind: page gives the page of access i,
// writes decides the write bits.
type generator struct {
	i, n      uint64
	page      func(i uint64) uint64
	writes    splitMix64
	threshold uint64
}

// Read implements traces.Reader.
func (g *generator) Read(out []traces.Access) (int, error) {
	if g.i >= g.n {
		return 0, io.EOF
	}
	k := int(min(uint64(len(out)), g.n-g.i))
	for j := range out[:k] {
		out[j] = traces.Access{Page: arch.PageNum(g.page(g.i)), Write: g.writes.next()>>11 < g.threshold}
		g.i++
	}
	return k, nil
}
