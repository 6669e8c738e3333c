package multi

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// TestAllocate checks the fixed allocations worked by hand.
func TestAllocate(t *testing.T) {
	for _, tt := range []struct {
		name   string
		frames int
		how    Allocation
		sizes  []int
		want   []int
	}{
		{"equal, the first get the remainder", 10, Equal, []int{5, 50, 500}, []int{4, 3, 3}},
		{"equal, exact", 9, Equal, []int{1, 1, 1}, []int{3, 3, 3}},
		{"proportional, exact shares", 10, Proportional, []int{10, 30, 60}, []int{1, 3, 6}},
		// 62 frames over sizes 10, 127: shares 4.53 and 57.47.
		{"proportional, largest remainder", 62, Proportional, []int{10, 127}, []int{5, 57}},
		// Shares 0.1, 0.1, 0.1, 9.7: floors 0 0 0 9, the frame left to
		// 9.7's remainder, then one frame each from the largest.
		{"proportional, at least one each", 10, Proportional, []int{1, 1, 1, 97}, []int{1, 1, 1, 7}},
		{"proportional, ties to the first", 5, Proportional, []int{1, 1, 1, 1}, []int{2, 1, 1, 1}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, allocate(tt.frames, tt.how, tt.sizes))
		})
	}
}

// TestWindowIsTheWorkingSet holds the run's meter, look ahead included,
// to traces.WorkingSet, the definition of W(t, τ) that vmsim ws prints.
func TestWindowIsTheWorkingSet(t *testing.T) {
	for _, tau := range []int{1, 2, 7, 100, 5000} {
		t.Run(fmt.Sprintf("tau=%d", tau), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(uint64(tau), 1))
			const n, pages = 3000, 40
			w := newWindow(tau, pages, n)
			ref := traces.NewWorkingSet(min(tau, n))
			for i := range n {
				id := pager.PageID(rng.IntN(pages))
				if rng.IntN(3) == 0 {
					id = pager.PageID(rng.IntN(5))
				}
				ahead := w.peek(id)
				got := w.access(id)
				want := ref.Access(arch.PageNum(id))
				if got != want || ahead != got {
					t.Fatalf("access %d: W = %d, looked ahead %d, traces.WorkingSet %d", i, got, ahead, want)
				}
			}
		})
	}
}
