package multi_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/multi"
)

func peak(us []float64) (int, float64) {
	at := 0
	for i, u := range us {
		if u > us[at] {
			at = i
		}
	}
	return at, us[at]
}

// TestThrashingCurve holds the built-in workload to the textbook figure,
// for several seeds: with no load control, under global and local
// replacement, utilisation rises with the degree of multiprogramming,
// peaks past one process, and falls by more than half once the windows no
// longer fit (10 processes of 15- to 25-page loops on 100 frames); with
// the working-set control, and with PFF, it rises too, and past its peak
// never falls below three quarters of it. In -short mode (the race detector's run) one seed,
// global replacement, and the degrees 1 to 6 and 10.
func TestThrashingCurve(t *testing.T) {
	type setting struct {
		scope   multi.Scope
		control multi.Control
	}
	settings := []setting{
		{multi.Global, multi.None}, {multi.Local, multi.None},
		{multi.Global, multi.WorkingSet}, {multi.Local, multi.WorkingSet}, {multi.Local, multi.PFF},
	}
	degrees := []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	if testing.Short() {
		settings = []setting{{multi.Global, multi.None}, {multi.Global, multi.WorkingSet}}
		degrees = []int{1, 2, 3, 4, 5, 6, 10}
	}
	for seed := range seeds(4) {
		trs, err := multi.Workload{Seed: seed + 1}.Traces()
		require.NoError(t, err)
		for _, c := range settings {
			t.Run(fmt.Sprintf("seed=%d/%v/%v", seed+1, c.scope, c.control), func(t *testing.T) {
				var us []float64
				for _, n := range degrees {
					res, err := multi.Run(context.Background(), trs[:n], multi.Config{Policy: "lru", Frames: 100, Scope: c.scope, Control: c.control}, nil)
					require.NoError(t, err)
					us = append(us, res.Utilisation())
				}
				at, best := peak(us)
				last := us[len(us)-1]
				if c.control == multi.None {
					assert.Greater(t, at, 0, "the peak is past one process: %.3f", us)
					assert.Greater(t, best, 1.2*us[0], "utilisation rises: %.3f", us)
					assert.Less(t, last, best/2, "and collapses: %.3f", us)
					return
				}
				assert.Greater(t, best, 1.2*us[0], "utilisation rises: %.3f", us)
				for i, u := range us[at:] {
					assert.Greater(t, u, 0.75*best, "%d processes: no collapse: %.3f", degrees[at+i], us)
				}
			})
		}
	}
}

// TestWorkloadIsDeterministic: the same workload gives the same traces,
// another seed others; each process loops over a window of 15 to 25 pages
// that slides a page every 1,000 accesses.
func TestWorkloadIsDeterministic(t *testing.T) {
	a, err := multi.Workload{Seed: 3}.Traces()
	require.NoError(t, err)
	b, err := multi.Workload{Seed: 3}.Traces()
	require.NoError(t, err)
	c, err := multi.Workload{Seed: 4}.Traces()
	require.NoError(t, err)
	require.Len(t, a, 10)
	same := true
	for k := range a {
		require.Equal(t, 80_000, a[k].Len())
		for i := range a[k].Len() {
			pa, _ := a[k].At(i)
			pb, _ := b[k].At(i)
			require.Equal(t, a[k].PageNum(pa), b[k].PageNum(pb))
			pc, _ := c[k].At(i)
			same = same && a[k].PageNum(pa) == c[k].PageNum(pc)
		}
		assert.Equal(t, fmt.Sprintf("P%d", k+1), a[k].Name())
		// The window's length plus one page per slide, the last maybe not.
		loop := a[k].Distinct() - 80
		assert.True(t, loop >= 15 && loop <= 26, "process %d: %d pages", k, a[k].Distinct())
	}
	assert.False(t, same, "another seed, other windows")
	_, err = multi.Workload{Slide: -1}.Traces()
	assert.ErrorIs(t, err, multi.ErrConfig)
}

// TestHandWorkedSchedule pins the scheduler's rules on a case worked by
// hand: global fifo, 3 frames, quantum 2, accesses of 1 ms and faults of
// 2 ms served one at a time. A = 1 2 1, B = 7 7 8.
//
//	t=0  A 1 fault (device 1-3)      t=1  B 7 fault (device 3-5)
//	t=3  A 2 fault (device 5-7)      t=5  B 7 hit; t=6 B 8 fault, evicts A's 1 (device 7-9)
//	t=7  A 1 fault, evicts B's 7 (device 9-11)
//	t=9  B done (its page 8 released); t=11 A done (2 and 1 released)
func TestHandWorkedSchedule(t *testing.T) {
	trs := []*pager.Trace{parse("A", "1 2 1"), parse("B", "7 7 8")}
	var got []string
	events := func(ev multi.Event) {
		s := fmt.Sprintf("%v %v %c", ev.Time, ev.Kind, 'A'+ev.Proc)
		switch ev.Kind {
		case multi.Access:
			s += fmt.Sprintf(" %d %v", ev.Page, ev.Result)
			if ev.VictimProc >= 0 {
				s += fmt.Sprintf(" evicts %c%d", 'A'+ev.VictimProc, ev.VictimPage)
			}
			if ev.Result == pager.Miss {
				s += fmt.Sprintf(" until %v", ev.Until)
			}
		case multi.Exit:
			s += fmt.Sprintf(" releases %d", ev.Pages)
		}
		got = append(got, s)
	}
	ms := time.Millisecond
	res, err := multi.Run(context.Background(), trs, multi.Config{Policy: "fifo", Frames: 3, Quantum: 2, AccessTime: ms, FaultTime: 2 * ms}, &multi.RunOptions{Events: events})
	require.NoError(t, err)
	assert.Equal(t, []string{
		"0s access A 1 fault until 3ms",
		"1ms access B 7 fault until 5ms",
		"3ms access A 2 fault until 7ms",
		"5ms access B 7 hit",
		"6ms access B 8 fault evicts A1 until 9ms",
		"7ms access A 1 fault evicts B7 until 11ms",
		"9ms exit B releases 1",
		"11ms exit A releases 2",
	}, got)
	assert.Equal(t, 11*ms, res.Elapsed)
	assert.InDelta(t, 6.0/11, res.Utilisation(), 1e-9)
	assert.Equal(t, 10*ms, res.DeviceBusy)
	a, b := res.Procs[0], res.Procs[1]
	assert.Equal(t, []time.Duration{3 * ms, 8 * ms, 0}, []time.Duration{a.Run, a.PageWait, a.Ready}, "A: running, waiting for pages, ready")
	assert.Equal(t, []time.Duration{3 * ms, 5 * ms, 1 * ms}, []time.Duration{b.Run, b.PageWait, b.Ready}, "B")
	assert.Equal(t, []uint64{3, 1, 1, 1}, []uint64{a.Faults, a.Evictions, a.EvictedByOthers, a.Stole})
	assert.Equal(t, []uint64{2, 1, 1, 1}, []uint64{b.Faults, b.Evictions, b.EvictedByOthers, b.Stole})
}
