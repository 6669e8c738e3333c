package pager

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestInspectListsTheResidentSet: every policy inspects, listing exactly the
// resident pages, after every access of a random trace.
func TestInspectListsTheResidentSet(t *testing.T) {
	tr := randomTrace(1, 400, 30, 0.3)
	for _, name := range Policies() {
		for _, frames := range []int{1, 4, 9} {
			_, err := Simulate(context.Background(), tr, Config{Policy: name, Frames: frames, Options: Options{Seed: 2}}, func(i int, o Outcome, p *Pager) {
				in, ok := p.Policy().(Inspector)
				require.True(t, ok, "%s inspects", name)
				fr, _ := in.Inspect()
				require.Len(t, fr, p.Used(), "%s/%d at %d", name, frames, i)
				seen := map[PageID]bool{}
				for _, f := range fr {
					assert.True(t, p.Resident(f.Page), "%s lists non-resident page %d", name, f.Page)
					assert.False(t, seen[f.Page], "%s lists page %d twice", name, f.Page)
					seen[f.Page] = true
				}
			})
			require.NoError(t, err)
		}
	}
}

// TestInspectOrder checks the orders the step table shows, worked by hand.
func TestInspectOrder(t *testing.T) {
	pages := func(fr []Frame, tr *Trace) []uint64 {
		var out []uint64
		for _, f := range fr {
			out = append(out, uint64(tr.PageNum(f.Page)))
		}
		return out
	}
	tr := parse(t, "1 2 3 1 4")
	for _, tc := range []struct {
		policy string
		want   []uint64
		notes  []string
		note   string
	}{
		{"fifo", []uint64{2, 3, 4}, nil, ""},
		{"lru", []uint64{3, 1, 4}, nil, ""},
		// At t4 the most recently used page is 1 (hit at t3): mru evicts it.
		{"mru", []uint64{4, 3, 2}, nil, ""},
		{"clock", []uint64{4, 2, 3}, []string{"R=1", ">R=0", "R=0"}, "hand at frame 1"},
		{"lfu", []uint64{3, 4, 1}, []string{"n=1", "n=1", "n=2"}, ""},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			var fr []Frame
			var note string
			_, err := Simulate(context.Background(), tr, Config{Policy: tc.policy, Frames: 3}, func(i int, o Outcome, p *Pager) {
				fr, note = p.Policy().(Inspector).Inspect()
			})
			require.NoError(t, err)
			assert.Equal(t, tc.want, pages(fr, tr))
			if tc.notes != nil {
				var notes []string
				for _, f := range fr {
					notes = append(notes, f.Note)
				}
				assert.Equal(t, tc.notes, notes)
			}
			assert.Equal(t, tc.note, note)
		})
	}
}
