package pager

import (
	"context"
	"fmt"
	"testing"

	"vmsim/traces"

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

// TestInspectTypedFields: the typed fields say what the notes say, and the
// ghost lists hold the pages worked out by hand.
func TestInspectTypedFields(t *testing.T) {
	pages := func(tr *Trace, ids []PageID) []uint64 {
		out := []uint64{}
		for _, id := range ids {
			out = append(out, uint64(tr.PageNum(id)))
		}
		return out
	}
	last := func(t *testing.T, tr *Trace, policy string, frames int) Inspection {
		t.Helper()
		var in Inspection
		_, err := Steps(context.Background(), tr, Config{Policy: policy, Frames: frames}, func(s Step) { in = s.State })
		require.NoError(t, err)
		return in
	}
	t.Run("clock: the hand and the R bits", func(t *testing.T) {
		in := last(t, parse(t, "1 2 3 1 4"), "clock", 3)
		var hand []bool
		var refs []Bit
		for _, f := range in.Frames {
			hand, refs = append(hand, f.Hand), append(refs, f.Ref)
		}
		assert.Equal(t, []bool{false, true, false}, hand)
		assert.Equal(t, []Bit{BitSet, BitClear, BitClear}, refs)
		assert.False(t, in.VictimFirst)
	})
	t.Run("arc: a page evicted from T1 waits in B1, a ghost hit joins T2", func(t *testing.T) {
		tr := parse(t, "1 2 1 3 4")
		in := last(t, tr, "arc", 3)
		require.Len(t, in.Ghosts, 2)
		assert.Equal(t, []uint64{2}, pages(tr, in.Ghosts[0].Pages), "B1")
		assert.Equal(t, []uint64{}, pages(tr, in.Ghosts[1].Pages), "B2")
		var lists []string
		for _, f := range in.Frames {
			lists = append(lists, f.List)
		}
		assert.Equal(t, []string{"T1", "T1", "T2"}, lists)

		tr = parse(t, "1 2 1 3 4 2")
		in = last(t, tr, "arc", 3)
		assert.Equal(t, "B1", in.Ghosts[0].Name)
		assert.Equal(t, []uint64{3}, pages(tr, in.Ghosts[0].Pages), "3 left T1 for B1 to make room for 2")
		var fr []uint64
		for _, f := range in.Frames {
			fr = append(fr, uint64(tr.PageNum(f.Page)))
		}
		assert.Equal(t, []uint64{4, 1, 2}, fr)
		assert.Equal(t, "p=1", in.Note, "the ghost hit in B1 raised the target of T1")
	})
	t.Run("s3fifo: the ghost queue keeps the last pages evicted from S", func(t *testing.T) {
		tr := parse(t, "1 2 3 4 5 6")
		in := last(t, tr, "s3fifo", 3)
		require.Len(t, in.Ghosts, 1)
		assert.Equal(t, "G", in.Ghosts[0].Name)
		assert.Equal(t, []uint64{2, 3}, pages(tr, in.Ghosts[0].Pages), "1 was forgotten: G holds 2")
	})
	t.Run("opt: next uses, never as NoNext", func(t *testing.T) {
		in := last(t, parse(t, "1 2 3 1"), "opt", 3)
		require.Len(t, in.Frames, 3)
		for _, f := range in.Frames {
			assert.Equal(t, "next", f.KeyName)
			assert.Equal(t, uint64(traces.NoNext), f.Key, "nothing comes after the last access")
		}
		assert.True(t, in.VictimFirst)
	})
	t.Run("aging: the counter and R", func(t *testing.T) {
		in := last(t, parse(t, "1 2 1"), "aging", 2)
		for _, f := range in.Frames {
			assert.Equal(t, "c", f.KeyName)
			assert.Equal(t, fmt.Sprintf("c=%08b R=%s", f.Key, f.Ref), f.Note)
		}
	})
}
