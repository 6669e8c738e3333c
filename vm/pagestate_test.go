package vm

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestPageStatesMatchAnArray: the chunked table answers as a plain array
// would, for random changes, and runs counts as a scan does.
func TestPageStatesMatchAnArray(t *testing.T) {
	const n = 3*chunkPages + 17
	s := newPageStates(n, 3)
	ref := make([]pageState, n)
	for i := range ref {
		ref[i] = 3
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20_000 {
		i, v := rng.IntN(n), pageState(rng.IntN(4))
		s.set(i, v)
		ref[i] = v
		lo := rng.IntN(n)
		hi := min(n, lo+rng.IntN(40))
		want := 0
		for j := lo; j < hi; j++ {
			if j == lo || ref[j] != ref[j-1] {
				want++
			}
		}
		require.Equal(t, want, s.runs(lo, hi), "runs of [%d, %d)", lo, hi)
	}
	for i := range ref {
		require.Equal(t, ref[i], s.get(i), "page %d", i)
	}
}

// TestPageStatesCostWhatChanges: a table for 2^26 pages holds only the
// chunks that were changed (a real-mode region that reserves room for a
// streamed trace took 64 MiB before it held one page).
func TestPageStatesCostWhatChanges(t *testing.T) {
	s := newPageStates(1<<26, 0)
	s.set(5, 1)
	s.set(chunkPages+1, 0) // back to the default: no chunk needed
	s.set(1<<25, 2)
	allocated := 0
	for _, c := range s.chunks {
		if c != nil {
			allocated++
		}
	}
	assert.Equal(t, 2, allocated)
	assert.Equal(t, pageState(1), s.get(5))
	assert.Equal(t, pageState(2), s.get(1<<25))
	assert.Equal(t, pageState(0), s.get(1<<25+1))
}
