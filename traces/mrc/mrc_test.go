package mrc

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/traces/gen"
	"vmsim/vm/arch"
)

var (
	tracesReadAll = traces.ReadAll
	fromSlice     = traces.FromSlice
)

func TestStackDistancesByHand(t *testing.T) {
	// a b c a b b d a: distances inf inf inf 3 3 1 inf 3
	s := newStack()
	var got []uint64
	for _, p := range []arch.PageNum{1, 2, 3, 1, 2, 2, 4, 1} {
		got = append(got, s.access(p))
	}
	assert.Equal(t, []uint64{0, 0, 0, 3, 3, 1, 0, 3}, got)
}

func randomAccesses(seed uint64, n, pages int) []traces.Access {
	rng := rand.New(rand.NewPCG(seed, 7))
	as := make([]traces.Access, n)
	base := 0
	for i := range as {
		if rng.IntN(60) == 0 {
			base = rng.IntN(pages)
		}
		p := (base + int(rng.ExpFloat64()*8)) % pages
		if rng.IntN(6) == 0 {
			p = rng.IntN(pages)
		}
		as[i] = traces.Access{Page: arch.PageNum(p) * 977, Write: rng.IntN(4) == 0}
	}
	return as
}

// TestCurveEqualsLRUReplay: the curve at k frames is exactly LRU's faults
// with k frames, for every k, across compactions of the tree.
func TestCurveEqualsLRUReplay(t *testing.T) {
	seeds, n := uint64(4), 300_000
	if testing.Short() {
		seeds, n = 1, 60_000
	}
	for seed := range seeds {
		as := randomAccesses(seed, n, 3000)
		c, err := Compute(traces.FromSlice(as), nil)
		require.NoError(t, err)
		tr, err := pager.Load(context.Background(), "r", traces.FromSlice(as), nil)
		require.NoError(t, err)
		assert.Equal(t, uint64(tr.Distinct()), c.Cold)
		assert.Equal(t, uint64(len(as)), c.Accesses)
		var cfgs []pager.Config
		for k := 1; k <= tr.Distinct()+1; k += 1 + k/8 {
			cfgs = append(cfgs, pager.Config{Policy: "lru", Frames: k})
		}
		res, err := pager.Sweep(context.Background(), []*pager.Trace{tr}, cfgs, 0)
		require.NoError(t, err)
		for _, r := range res {
			require.Equal(t, r.Faults, c.Misses(r.Frames), "seed %d, %d frames", seed, r.Frames)
			assert.InDelta(t, r.MissRatio(), c.MissRatio(r.Frames), 1e-12)
		}
	}
}

// TestDenseInputGivesTheSameCurve computes curves from a vmt trace, whose
// reader gives dense ids that skip the hash table of page numbers, and from
// the same accesses as page numbers: exact and sampled, they must be equal.
func TestDenseInputGivesTheSameCurve(t *testing.T) {
	as := randomAccesses(3, 200_000, 5000)
	var buf bytes.Buffer
	w, err := traces.NewVMTWriter(&buf, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(as))
	require.NoError(t, w.Close())
	for _, rate := range []float64{1, 0.1} {
		want, err := Compute(traces.FromSlice(as), &Options{Rate: rate})
		require.NoError(t, err)
		r := traces.NewVMTReader(bytes.NewReader(buf.Bytes()), "t.vmt")
		dense, err := r.Dense()
		require.NoError(t, err)
		require.True(t, dense, "vmsim's writer writes dense ids")
		got, err := Compute(r, &Options{Rate: rate})
		require.NoError(t, err)
		assert.Equal(t, want.Accesses, got.Accesses, "rate %g", rate)
		assert.Equal(t, want.Cold, got.Cold, "rate %g", rate)
		assert.Equal(t, want.Hist, got.Hist, "rate %g", rate)
		assert.Equal(t, want.Total, got.Total, "rate %g", rate)
	}
}

func TestSampledCurveIsClose(t *testing.T) {
	as := randomAccesses(11, 400_000, 20000)
	exact, err := Compute(traces.FromSlice(as), nil)
	require.NoError(t, err)
	sampled, err := Compute(traces.FromSlice(as), &Options{Rate: 0.1})
	require.NoError(t, err)
	assert.Equal(t, uint64(len(as)), sampled.Total)
	assert.Less(t, sampled.Accesses, uint64(len(as))/5, "about a tenth is measured")
	for _, k := range []int{100, 1000, 5000, 15000} {
		assert.InDelta(t, exact.MissRatio(k), sampled.MissRatio(k), 0.05, "%d frames", k)
	}
	assert.InDelta(t, float64(exact.Distinct()), float64(sampled.Distinct()), 0.1*float64(exact.Distinct()))
}

// TestSampledCurveErrorBound holds SHARDS-adj's error under a stated bound
// on generated traces at rates 0.1 and 0.01. From 100/Rate frames (a
// hundred sampled pages' worth of stack) to the distinct pages, at frame
// counts 5% apart, |estimated - exact| miss ratio is at most 0.05 (mean
// 0.025) with 10,000 pages sampled or more, at most 0.09 (mean 0.075) with
// fewer (down to the 453 of the smallest sample here). The bounds are the largest errors measured over 20 hash
// seeds on these traces, of 2 M and of 0.5 M accesses (0.046 and 0.023,
// 0.078 and 0.069), with some room. Below 100/Rate frames errors are
// larger: up to 0.14 from 10/Rate, and up to 0.64 near the resolution
// (1/Rate frames) on zipf 1.2, whose curve falls fastest there; the error
// falls as the pages sampled grow, as about 2/sqrt(pages).
func TestSampledCurveErrorBound(t *testing.T) {
	n := uint64(2_000_000)
	if testing.Short() {
		n = 500_000
	}
	traces := []struct {
		name string
		kind string
		opts gen.Options
	}{
		{"zipf 1.0 over 1 M pages", gen.Zipf, gen.Options{N: n, Pages: 1e6, Alpha: 1.0, Seed: 1}},
		{"zipf 0.8 over 1 M pages", gen.Zipf, gen.Options{N: n, Pages: 1e6, Alpha: 0.8, Seed: 2}},
		{"zipf 1.2 over 1 M pages", gen.Zipf, gen.Options{N: n, Pages: 1e6, Alpha: 1.2, Seed: 3}},
		{"uniform over 100 k pages", gen.Uniform, gen.Options{N: n, Pages: 1e5, Seed: 4}},
		{"phases over 1 M pages", gen.Phases, gen.Options{N: n, Pages: 1e6, Seed: 5}},
	}
	for _, tt := range traces {
		r, err := gen.New(tt.kind, &tt.opts)
		require.NoError(t, err)
		as, err := tracesReadAll(r)
		require.NoError(t, err)
		exact, err := Compute(fromSlice(as), nil)
		require.NoError(t, err)
		for _, rate := range []float64{0.1, 0.01} {
			for seed := uint64(1); seed <= 3; seed++ {
				t.Run(fmt.Sprintf("%s/rate=%g/seed=%d", tt.name, rate, seed), func(t *testing.T) {
					c, err := Compute(fromSlice(as), &Options{Rate: rate, Seed: seed})
					require.NoError(t, err)
					require.Equal(t, int(math.Ceil(1/rate)), c.Resolution())
					bound, mean := 0.09, 0.075
					if c.Cold >= 10_000 {
						bound, mean = 0.05, 0.025
					}
					worst, sum, points := 0.0, 0.0, 0
					for f := float64(100 * c.Resolution()); f <= float64(exact.Distinct()); f *= 1.05 {
						e := math.Abs(c.MissRatio(int(f)) - exact.MissRatio(int(f)))
						worst = max(worst, e)
						sum += e
						points++
					}
					require.Greater(t, points, 10)
					assert.LessOrEqual(t, worst, bound, "largest error, %d pages sampled", c.Cold)
					assert.LessOrEqual(t, sum/float64(points), mean, "mean error, %d pages sampled", c.Cold)
				})
			}
		}
	}
}

// TestSamplingHashFixesNoPage checks that whether a page is sampled
// depends on the seed: the old hash mapped page 0, the hottest of every
// generated trace, to 0 and so sampled it at every rate.
func TestSamplingHashFixesNoPage(t *testing.T) {
	for _, page := range []arch.PageNum{0, 1, 1 << 63} {
		in := 0
		const seeds = 400
		for seed := uint64(1); seed <= seeds; seed++ {
			c, err := Compute(fromSlice([]traces.Access{{Page: page}}), &Options{Rate: 0.1, Seed: seed})
			require.NoError(t, err)
			in += int(c.Accesses)
		}
		assert.InDelta(t, 0.1*seeds, in, 20, "page %#x sampled under %d of %d seeds", page, in, seeds)
	}
}

// TestSHARDSAdjustment checks the correction by hand: a trace whose only
// sampled page holds far more accesses than the expected sample still
// gives miss ratios of at most 1, normalised by Rate × Total.
func TestSHARDSAdjustment(t *testing.T) {
	c := &Curve{Rate: 0.5, Total: 100, Accesses: 70, Cold: 10, Hist: []uint64{0, 40, 20}}
	// Expected sample 50, measured 70: the 20 too many come off the
	// first bucket. With 1 frame (sampled distance 1 hits), misses are
	// the 10 cold and the 20 of distance 2.
	assert.InDelta(t, 30.0/50, c.MissRatio(1), 1e-12)
	// 2 frames: 1 + floor(1*0.5) = 1, still only distance 1 hits.
	assert.InDelta(t, 30.0/50, c.MissRatio(2), 1e-12)
	// 3 frames: distance 2 hits too.
	assert.InDelta(t, 10.0/50, c.MissRatio(3), 1e-12)
	assert.Equal(t, uint64(20), c.Misses(3), "scaled to the 100 accesses")
	assert.Equal(t, 1.0, c.MissRatio(0), "no frame: every access misses")

	over := &Curve{Rate: 0.5, Total: 100, Accesses: 150, Cold: 80, Hist: []uint64{0, 70}}
	assert.Equal(t, 1.0, over.MissRatio(1), "clamped at 1")
	assert.Equal(t, 2, over.Resolution())
	assert.True(t, over.SmallSample(), "80 pages sampled")
}

func TestNothingSampled(t *testing.T) {
	// A 12-access trace at rate 2^-20 samples no page: no estimate, not a
	// NaN turned into a count.
	var as []traces.Access
	for i := range 12 {
		as = append(as, traces.Access{Page: arch.PageNum(i%5+1) * 4099})
	}
	c, err := Compute(traces.FromSlice(as), &Options{Rate: 1.0 / (1 << 20)})
	require.NoError(t, err)
	require.Zero(t, c.Accesses, "these pages hash outside a 2^-20 sample")
	assert.Equal(t, uint64(12), c.Total)
	assert.Zero(t, c.Misses(3))
	assert.Zero(t, c.MissRatio(3))
}

func TestRateErrors(t *testing.T) {
	for _, r := range []float64{-1, 1.5, 1e-9} {
		_, err := Compute(traces.FromSlice(nil), &Options{Rate: r})
		assert.ErrorIs(t, err, ErrRate)
	}
}

// BenchmarkExactMRC computes the exact curve of 10 M accesses over 1 M
// pages given as page numbers (numbered densely by the stack's hash table)
// and as a vmt trace (dense ids, no hash table).
func BenchmarkExactMRC(b *testing.B) {
	n := 10_000_000
	if testing.Short() {
		n = 100_000
	}
	as := randomAccesses(1, n, 1_000_000)
	var vmt bytes.Buffer
	w, err := traces.NewVMTWriter(&vmt, nil)
	if err != nil {
		b.Fatal(err)
	}
	if err := w.Write(as); err != nil {
		b.Fatal(err)
	}
	if err := w.Close(); err != nil {
		b.Fatal(err)
	}
	for _, input := range []string{"pages", "vmt"} {
		b.Run("input="+input, func(b *testing.B) {
			for b.Loop() {
				r := traces.FromSlice(as)
				if input == "vmt" {
					r = traces.NewVMTReader(bytes.NewReader(vmt.Bytes()), "b.vmt")
				}
				if _, err := Compute(r, nil); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(len(as))*float64(b.N)/b.Elapsed().Seconds(), "accesses/s")
		})
	}
}
