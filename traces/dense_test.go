package traces

import (
	"math/rand/v2"
	"testing"

	"vmsim/vm/arch"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// denseKeys returns keys that exercise every path of Dense: small ones
// (the direct array), ones that collide in their low bits, random ones and
// extremes (the hash table).
func denseKeys(n int, seed uint64) []arch.PageNum {
	rng := rand.New(rand.NewPCG(seed, seed))
	keys := make([]arch.PageNum, n)
	for i := range keys {
		var k uint64
		switch rng.IntN(5) {
		case 0:
			k = rng.Uint64()
		case 1:
			k = uint64(rng.IntN(5000)) << 32
		case 2:
			k = ^uint64(rng.IntN(10))
		case 3:
			k = uint64(rng.IntN(1 << 20)) // grows the direct array as ids come
		default:
			k = uint64(rng.IntN(100))
		}
		keys[i] = arch.PageNum(k)
	}
	return keys
}

// TestDense checks the numbering against a Go map across many resizes of
// both the direct array and the hash table.
func TestDense(t *testing.T) {
	m := NewDense()
	ref := map[arch.PageNum]uint32{}
	for _, k := range denseKeys(300_000, 5) {
		want, seen := ref[k]
		if !seen {
			want = uint32(len(ref))
			ref[k] = want
		}
		got, added := m.ID(k)
		require.Equal(t, !seen, added, "key %#x", k)
		require.Equal(t, want, got, "key %#x", k)
	}
	assert.Equal(t, len(ref), m.Len())
	assert.LessOrEqual(t, 2*m.hashed, len(m.slots), "load factor at most one half")
	assert.LessOrEqual(t, uint64(len(m.direct)), uint64(directPerID*m.n+minDirect), "direct array within its bound")
}

// TestDenseMovesKeysToTheDirectArray gives a page an id in the hash table
// while it is above the direct array, then grows the array over it: the
// page must keep its id.
func TestDenseMovesKeysToTheDirectArray(t *testing.T) {
	m := NewDense()
	const big = 1<<20 - 1
	id, added := m.ID(big)
	require.True(t, added)
	require.Equal(t, uint32(0), id)
	require.Equal(t, 1, m.hashed, "above the direct array at first")
	for k := range arch.PageNum(200_000) {
		m.ID(k)
	}
	id, added = m.ID(big)
	assert.False(t, added, "the page was seen")
	assert.Equal(t, uint32(0), id, "and keeps its id")
	assert.Greater(t, len(m.direct), big, "the direct array covers it now")
	assert.Equal(t, 0, m.hashed, "and the hash table holds nothing")
}

// TestDenseIDs checks that the batched lookup gives the ids of one-by-one
// lookups, new pages included, for batches of every size.
func TestDenseIDs(t *testing.T) {
	keys := denseKeys(200_000, 9)
	one := NewDense()
	want := make([]uint32, len(keys))
	for i, k := range keys {
		want[i], _ = one.ID(k)
	}
	batch := NewDense()
	got := make([]uint32, len(keys))
	as := make([]Access, len(keys))
	for i, k := range keys {
		as[i] = Access{Page: k}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < len(as); {
		n := min(len(as)-i, rng.IntN(100))
		batch.IDs(as[i:i+n], got[i:i+n])
		i += n
	}
	assert.Equal(t, want, got)
	assert.Equal(t, one.Len(), batch.Len())
}
