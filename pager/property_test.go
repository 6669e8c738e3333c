package pager

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"vmsim/vm/arch"

	"github.com/stretchr/testify/assert"
)

// randomTrace returns n accesses over pages pages, a fraction writes of them
// writes, with some locality (a working set that drifts).
func randomTrace(seed uint64, n, pages int, writes float64) *Trace {
	rng := rand.New(rand.NewPCG(seed, 0))
	b := NewBuilder(fmt.Sprintf("random-%d", seed))
	base := 0
	for range n {
		if rng.IntN(50) == 0 {
			base = rng.IntN(pages)
		}
		p := (base + int(rng.ExpFloat64()*3)) % pages
		if rng.IntN(10) == 0 {
			p = rng.IntN(pages)
		}
		b.Add(arch.PageNum(p)*0x1000+7, rng.Float64() < writes)
	}
	return b.Trace()
}

// TestOptIsOptimal: no policy faults less than OPT (I2).
// seeds returns n, or fewer in -short mode (the race detector's run).
func seeds(n uint64) uint64 {
	if testing.Short() {
		return max(1, n/5)
	}
	return n
}

func TestOptIsOptimal(t *testing.T) {
	for seed := range seeds(20) {
		tr := randomTrace(seed, 2000, 40, 0.3)
		for _, frames := range []int{1, 2, 5, 13, 39, 40} {
			best, _ := simulate(t, tr, Config{Policy: "opt", Frames: frames})
			for _, name := range Policies() {
				st, _ := simulate(t, tr, Config{Policy: name, Frames: frames, Options: Options{Seed: seed}})
				assert.GreaterOrEqual(t, st.Faults, best.Faults, "seed %d, %d frames: %s beats opt", seed, frames, name)
			}
		}
	}
}

// TestLRUIsAStackAlgorithm: LRU never faults more with more frames (I2);
// nor does OPT.
func TestLRUIsAStackAlgorithm(t *testing.T) {
	for seed := range seeds(20) {
		tr := randomTrace(seed, 2000, 40, 0)
		for _, name := range []string{"lru", "opt"} {
			prev := ^uint64(0)
			for frames := 1; frames <= 41; frames++ {
				st, _ := simulate(t, tr, Config{Policy: name, Frames: frames})
				assert.LessOrEqual(t, st.Faults, prev, "seed %d, %s, %d frames", seed, name, frames)
				prev = st.Faults
			}
			assert.Equal(t, uint64(tr.Distinct()), prev, "with a frame per page only cold misses remain")
		}
	}
}

// TestEveryPolicyKeepsTheBooks runs every policy over random traces: the
// pager's own checks (in simulate) and the counters' identities hold.
func TestEveryPolicyKeepsTheBooks(t *testing.T) {
	for seed := range seeds(10) {
		tr := randomTrace(seed, 3000, 100, 0.25)
		for _, name := range Policies() {
			for _, frames := range []int{1, 3, 10, 64, 100, 200} {
				st, victims := simulate(t, tr, Config{Policy: name, Frames: frames, Options: Options{Seed: seed}})
				assert.Equal(t, st.Accesses, st.Hits+st.Faults, "%s/%d", name, frames)
				assert.Equal(t, st.Accesses, st.Reads+st.Writes)
				assert.Equal(t, uint64(len(victims)), st.Evictions)
				assert.Equal(t, st.Faults-min(st.Faults, uint64(frames)), st.Evictions, "%s/%d: every fault past the first frames evicts", name, frames)
				assert.LessOrEqual(t, st.Writebacks, st.Evictions)
				assert.GreaterOrEqual(t, st.Faults, uint64(tr.Distinct()), "cold misses")
			}
		}
	}
}

// TestFastLoopCountsLikeAccess: the engine's hot loop (Run without a step
// function) counts exactly as Pager.Access does.
func TestFastLoopCountsLikeAccess(t *testing.T) {
	for seed := range seeds(5) {
		tr := randomTrace(seed, 5000, 300, 0.3)
		for _, name := range Policies() {
			for _, frames := range []int{1, 7, 64, 299} {
				cfg := Config{Policy: name, Frames: frames, Options: Options{Seed: seed}}
				slow, _ := simulate(t, tr, cfg)
				fast, err := Simulate(context.Background(), tr, cfg, nil)
				assert.NoError(t, err)
				assert.Equal(t, slow, fast.Stats, "%s/%d", name, frames)
			}
		}
	}
}
