package traces

import (
	"math/rand/v2"
	"testing"

	"vmsim/vm/arch"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestDense checks the table against a Go map on keys that collide in their
// low bits, random keys and extremes, across many resizes.
func TestDense(t *testing.T) {
	m := NewDense()
	ref := map[uint64]uint32{}
	rng := rand.New(rand.NewPCG(5, 5))
	for range 300_000 {
		var k uint64
		switch rng.IntN(4) {
		case 0:
			k = rng.Uint64()
		case 1:
			k = uint64(rng.IntN(5000)) << 32
		case 2:
			k = ^uint64(rng.IntN(10))
		default:
			k = uint64(rng.IntN(100))
		}
		want, seen := ref[k]
		if !seen {
			want = uint32(len(ref))
			ref[k] = want
		}
		got, added := m.ID(arch.PageNum(k))
		require.Equal(t, !seen, added, "key %#x", k)
		require.Equal(t, want, got, "key %#x", k)
	}
	assert.Equal(t, len(ref), m.Len())
	assert.LessOrEqual(t, 2*m.n, len(m.slots), "load factor at most one half")
}
