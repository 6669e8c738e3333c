package traces

import (
	"math/rand/v2"
	"testing"

	"vmsim/vm/arch"

	"github.com/stretchr/testify/assert"
)

func TestWorkingSetByHand(t *testing.T) {
	// tau 3: windows of 1 2 1 3 3 3 4: {1} {1,2} {1,2} {2,1,3} {1,3} {3} {3,4}
	w := NewWorkingSet(3)
	var got []int
	for _, p := range []uint64{1, 2, 1, 3, 3, 3, 4} {
		got = append(got, w.Access(arch.PageNum(p)))
	}
	assert.Equal(t, []int{1, 2, 2, 3, 2, 1, 2}, got)
}

func TestWorkingSetMatchesBruteForce(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 1))
	for _, tau := range []int{1, 2, 7, 50} {
		w := NewWorkingSet(tau)
		var pages []uint64
		for i := range 2000 {
			p := uint64(rng.IntN(30))
			pages = append(pages, p)
			seen := map[uint64]bool{}
			for j := max(0, i-tau+1); j <= i; j++ {
				seen[pages[j]] = true
			}
			assert.Equal(t, len(seen), w.Access(arch.PageNum(p)), "tau %d, t %d", tau, i)
		}
	}
}
