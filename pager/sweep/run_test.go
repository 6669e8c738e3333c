package sweep

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/traces"
)

// runSpec is a sweep of three small traces in dir (c a copy of a) through
// three policies and two frame counts, hashed.
func runSpec(t *testing.T) *Spec {
	t.Helper()
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a.pages": "1 2 3 4 1 2 5 1 2 3 4 5\n",
		"b.pages": "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1\n",
		"c.pages": "1 2 3 4 1 2 5 1 2 3 4 5\n",
	})
	ts, err := Resolve([]string{filepath.Join(dir, "*.pages")}, "")
	require.NoError(t, err)
	var cfgs []pager.Config
	for _, p := range []string{"opt", "fifo", "lru"} {
		for _, f := range []int{3, 4} {
			cfgs = append(cfgs, pager.Config{Policy: p, Frames: f})
		}
	}
	s := &Spec{Traces: ts, Configs: SortConfigs(cfgs)}
	all := make([]*Trace, len(s.Traces))
	for i := range s.Traces {
		all[i] = &s.Traces[i]
	}
	require.NoError(t, Hash(context.Background(), all))
	return s
}

// opener opens traces as files, counting the passes.
type opener struct{ opened []string }

func (o *opener) open(_ context.Context, t *Trace) (traces.Reader, io.Closer, error) {
	o.opened = append(o.opened, filepath.Base(t.Name))
	return traces.Open(t.Path, nil)
}

// simulate is the result of one job by another road: the trace loaded
// whole and replayed alone.
func simulate(t *testing.T, s *Spec, j Job) pager.Stats {
	t.Helper()
	for _, tr := range s.Traces {
		if tr.Name != j.Trace {
			continue
		}
		r, c, err := traces.Open(tr.Path, nil)
		require.NoError(t, err)
		defer c.Close()
		loaded, err := pager.Load(context.Background(), tr.Name, r, nil)
		require.NoError(t, err)
		res, err := pager.Simulate(context.Background(), loaded, j.Config, nil)
		require.NoError(t, err)
		return res.Stats
	}
	t.Fatalf("no trace %s", j.Trace)
	return pager.Stats{}
}

// TestRunGivesEachJobItsResult: each unit's records come in one emit, in
// the order of records, each with the counts of the job run alone; a trace
// with the bytes of one before it is not read at all.
func TestRunGivesEachJobItsResult(t *testing.T) {
	s := runSpec(t)
	var o opener
	var emits [][]Record
	sum, err := Run(context.Background(), s.Partition(1)[0], RunOptions{
		Open: o.open,
		Emit: func(r []Record) error { emits = append(emits, r); return nil },
	})
	require.NoError(t, err)
	assert.Equal(t, Summary{Jobs: 18, Same: 6, Ran: 12, Passes: 2}, sum)
	assert.Equal(t, []string{"a.pages", "b.pages"}, o.opened, "c.pages has a.pages's bytes")
	require.Len(t, emits, 2)
	jobs, same := s.Jobs()
	assert.Len(t, same, 1)
	var got []Record
	for _, e := range emits {
		got = append(got, e...)
	}
	require.Len(t, got, len(jobs))
	for i, j := range jobs {
		assert.Equal(t, NewRecord(j, simulate(t, s, j)), got[i], "job %d: %s %s %d", i, j.Trace, j.Policy, j.Frames)
	}
	// The textbook's answers (invariant I2), as a check on the check.
	assert.Equal(t, uint64(9), got[0].Faults, "fifo, 3 frames, Belady's string")
	assert.Equal(t, uint64(10), got[1].Faults, "fifo, 4 frames, Belady's string")
}

// TestRunSkipsWhatIsDone: jobs already done are not run; a unit with none
// left is not read.
func TestRunSkipsWhatIsDone(t *testing.T) {
	s := runSpec(t)
	jobs, _ := s.Jobs()
	done := map[string]bool{}
	for _, j := range jobs {
		if strings.HasSuffix(j.Trace, "a.pages") || j.Policy == "lru" {
			done[j.ID()] = true
		}
	}
	var o opener
	var got []Record
	sum, err := Run(context.Background(), s.Partition(1)[0], RunOptions{
		Open: o.open,
		Done: func(id string) bool { return done[id] },
		Emit: func(r []Record) error { got = append(got, r...); return nil },
	})
	require.NoError(t, err)
	assert.Equal(t, []string{"b.pages"}, o.opened, "a.pages is done, and so is c.pages: its jobs are a.pages's")
	assert.Equal(t, 4, len(got), "b.pages: fifo and opt at 3 and 4 frames")
	assert.Equal(t, Summary{Jobs: 18, Done: 14, Ran: 4, Passes: 1}, sum)
}

// TestRunStopsBetweenUnits: cancelled once a unit is emitted, Run stops
// before the next pass with ctx's error; what it emitted is whole units.
func TestRunStopsBetweenUnits(t *testing.T) {
	s := runSpec(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var o opener
	var emits [][]Record
	sum, err := Run(ctx, s.Partition(1)[0], RunOptions{
		Open: o.open,
		Emit: func(r []Record) error { emits = append(emits, r); cancel(); return nil },
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, []string{"a.pages"}, o.opened)
	require.Len(t, emits, 1)
	assert.Len(t, emits[0], 6)
	assert.Equal(t, Summary{Jobs: 18, Ran: 6, Passes: 1}, sum, "12 left")
}

// TestRunReportsFailures: a trace that cannot be opened, or an emit that
// fails, stops Run with that error.
func TestRunReportsFailures(t *testing.T) {
	s := runSpec(t)
	_, err := Run(context.Background(), s.Partition(1)[0], RunOptions{
		Open: func(context.Context, *Trace) (traces.Reader, io.Closer, error) { return nil, nil, os.ErrPermission },
		Emit: func([]Record) error { return nil },
	})
	assert.ErrorIs(t, err, os.ErrPermission)
	var o opener
	_, err = Run(context.Background(), s.Partition(1)[0], RunOptions{
		Open: o.open,
		Emit: func([]Record) error { return io.ErrShortWrite },
	})
	assert.ErrorIs(t, err, io.ErrShortWrite)
	assert.Len(t, o.opened, 1)
}
