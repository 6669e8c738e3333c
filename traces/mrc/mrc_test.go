package mrc

import (
	"context"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
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

func BenchmarkExactMRC(b *testing.B) {
	n := 10_000_000
	if testing.Short() {
		n = 100_000
	}
	as := randomAccesses(1, n, 1_000_000)
	for b.Loop() {
		if _, err := Compute(traces.FromSlice(as), nil); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(len(as))*float64(b.N)/b.Elapsed().Seconds(), "accesses/s")
}
