package pager

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// slotColumns returns the slots after each fault, as page numbers (-1 for
// a free slot): the columns a textbook draws.
func slotColumns(t *testing.T, tr *Trace, policy string, frames int) [][]int {
	t.Helper()
	var cols [][]int
	_, err := Steps(context.Background(), tr, Config{Policy: policy, Frames: frames}, func(s Step) {
		if s.Kind != Miss {
			return
		}
		col := make([]int, len(s.Slots))
		for i, p := range s.Slots {
			col[i] = -1
			if p != NoPage {
				col[i] = int(tr.PageNum(p))
			}
		}
		cols = append(cols, col)
	})
	require.NoError(t, err)
	return cols
}

// TestStepsDrawTheTextbookFrames: on the textbook string with 3 frames, the
// fixed slots after each fault are the columns of the textbook's figures
// for FIFO, LRU and OPT (Silberschatz, Galvin and Gagne, figures 10.12,
// 10.14 and 10.15).
func TestStepsDrawTheTextbookFrames(t *testing.T) {
	tr := parse(t, textbookString)
	for _, tc := range []struct {
		policy string
		want   [][]int
	}{
		{"fifo", [][]int{{7, -1, -1}, {7, 0, -1}, {7, 0, 1}, {2, 0, 1}, {2, 3, 1}, {2, 3, 0}, {4, 3, 0}, {4, 2, 0}, {4, 2, 3}, {0, 2, 3}, {0, 1, 3}, {0, 1, 2}, {7, 1, 2}, {7, 0, 2}, {7, 0, 1}}},
		{"lru", [][]int{{7, -1, -1}, {7, 0, -1}, {7, 0, 1}, {2, 0, 1}, {2, 0, 3}, {4, 0, 3}, {4, 0, 2}, {4, 3, 2}, {0, 3, 2}, {1, 3, 2}, {1, 0, 2}, {1, 0, 7}}},
		{"opt", [][]int{{7, -1, -1}, {7, 0, -1}, {7, 0, 1}, {2, 0, 1}, {2, 0, 3}, {2, 4, 3}, {2, 0, 3}, {2, 0, 1}, {7, 0, 1}}},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			assert.Equal(t, tc.want, slotColumns(t, tr, tc.policy, 3))
		})
	}
}

// TestStepsKeepPagesInPlace: for every policy on a random trace with
// writes, the slots hold exactly the resident pages, a loaded page takes
// its victim's slot (or the first free one), a resident page never moves,
// the dirty bits are the pager's, and the totals run.
func TestStepsKeepPagesInPlace(t *testing.T) {
	tr := randomTrace(3, 300, 12, 0.3)
	for _, name := range Policies() {
		for _, frames := range []int{1, 4, 7} {
			var prev *Step
			res, err := Steps(context.Background(), tr, Config{Policy: name, Frames: frames, Options: Options{Seed: 5}}, func(s Step) {
				require.Len(t, s.Slots, frames)
				require.Equal(t, s.Page, s.Slots[s.Slot], "%s/%d at %d: the page is in its slot", name, frames, s.Index)
				resident := map[PageID]bool{}
				for _, f := range s.State.Frames {
					resident[f.Page] = true
				}
				inSlots := 0
				for i, p := range s.Slots {
					if p == NoPage {
						assert.False(t, s.Dirty[i])
						continue
					}
					inSlots++
					assert.True(t, resident[p], "%s/%d at %d: slot %d holds page %d, not resident", name, frames, s.Index, i, p)
				}
				assert.Equal(t, len(resident), inSlots, "%s/%d at %d", name, frames, s.Index)
				if prev != nil {
					for i, p := range prev.Slots {
						switch {
						case i == s.Slot && s.Kind == Miss:
							if s.Evicted {
								assert.Equal(t, s.Victim, p, "%s/%d at %d: the loaded page takes its victim's slot", name, frames, s.Index)
							} else {
								assert.Equal(t, NoPage, p, "%s/%d at %d: the loaded page takes a free slot", name, frames, s.Index)
							}
						default:
							assert.Equal(t, p, s.Slots[i], "%s/%d at %d: slot %d changed", name, frames, s.Index, i)
						}
					}
					assert.Equal(t, prev.Stats.Accesses+1, s.Stats.Accesses)
				}
				if s.Write {
					assert.True(t, s.Dirty[s.Slot], "%s/%d at %d: a written page is dirty", name, frames, s.Index)
				}
				prev = &s
			})
			require.NoError(t, err)
			require.NotNil(t, prev)
			assert.Equal(t, res.Stats, prev.Stats, "the last step's totals are the run's")
		}
	}
}

// TestSlotLayoutFirstFreeSlot: a loaded page that evicted nothing takes the
// lowest free slot; with no slot free, Place says so.
func TestSlotLayoutFirstFreeSlot(t *testing.T) {
	l := NewSlotLayout(2)
	assert.Equal(t, 0, l.Place(5, Outcome{Kind: Miss}))
	assert.Equal(t, 1, l.Place(6, Outcome{Kind: Miss}))
	assert.Equal(t, 0, l.Place(5, Outcome{Kind: Hit}))
	assert.Equal(t, -1, l.Place(7, Outcome{Kind: Miss}))
	assert.Equal(t, 1, l.Place(8, Outcome{Kind: Miss, Evicted: true, Victim: 6}))
	assert.Equal(t, []PageID{5, 8}, l.Slots())
}
