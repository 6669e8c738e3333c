package traces_test

import (
	"bytes"
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

// TestOracleNextUsesDriveOPT replays the oracle Belady string through the
// engine, which takes OPT's next uses from the reader, and compares with the
// same string in the pages format, whose next uses the engine computes; the
// oracle trace counts positions from 1 (libCacheSim's traceConv) or from 0
// (other generators), detected.
func TestOracleNextUsesDriveOPT(t *testing.T) {
	for _, file := range []string{"testdata/belady.oracle", "testdata/belady-0based.oracle"} {
		t.Run(file, func(t *testing.T) { testOracleNextUsesDriveOPT(t, file) })
	}
}

func testOracleNextUsesDriveOPT(t *testing.T, file string) {
	cfgs := []pager.Config{{Policy: "opt", Frames: 3}, {Policy: "opt", Frames: 4}, {Policy: "fifo", Frames: 3}}
	replay := func(path string) []pager.Result {
		r, c, err := traces.Open(path, nil)
		require.NoError(t, err)
		defer c.Close()
		res, err := pager.Stream(context.Background(), path, r, cfgs, nil)
		require.NoError(t, err)
		return res
	}
	oracle := replay(file)
	pages := replay("testdata/belady.pages")
	require.Len(t, oracle, len(cfgs))
	for i := range cfgs {
		assert.Equal(t, pages[i].Faults, oracle[i].Faults, "%s with %d frames", cfgs[i].Policy, cfgs[i].Frames)
	}
	assert.Equal(t, uint64(7), oracle[0].Faults, "OPT, 3 frames")
	assert.Equal(t, uint64(6), oracle[1].Faults, "OPT, 4 frames")
	assert.Equal(t, uint64(9), oracle[2].Faults, "FIFO, 3 frames (I2)")
}

// TestLoadTakesDenseIDs loads a vmt trace, whose reader gives dense ids that
// Load takes without a hash table of page numbers, and the same accesses as
// page numbers: the traces must be equal, ids and page table included, and
// so must OPT's faults.
func TestLoadTakesDenseIDs(t *testing.T) {
	var as []traces.Access
	for i := range 50_000 {
		p := arch.PageNum((i*7919)%3001) * 4099
		if i%7 == 0 {
			p = arch.PageNum(i % 13)
		}
		as = append(as, traces.Access{Page: p, Write: i%3 == 0})
	}
	var buf bytes.Buffer
	w, err := traces.NewVMTWriter(&buf, nil)
	require.NoError(t, err)
	require.NoError(t, w.Write(as))
	require.NoError(t, w.Close())

	ctx := context.Background()
	want, err := pager.Load(ctx, "t", traces.FromSlice(as), nil)
	require.NoError(t, err)
	got, err := pager.Load(ctx, "t", traces.NewVMTReader(bytes.NewReader(buf.Bytes()), "t.vmt"), nil)
	require.NoError(t, err)
	require.Equal(t, want.Len(), got.Len())
	require.Equal(t, want.Distinct(), got.Distinct())
	for i := range want.Len() {
		wp, ww := want.At(i)
		gp, gw := got.At(i)
		require.Equal(t, wp, gp, "access %d", i)
		require.Equal(t, ww, gw, "access %d", i)
	}
	for id := range want.Distinct() {
		require.Equal(t, want.PageNum(pager.PageID(id)), got.PageNum(pager.PageID(id)), "id %d", id)
	}

	cfg := pager.Config{Policy: "opt", Frames: 100}
	a, err := pager.Simulate(ctx, want, cfg, nil)
	require.NoError(t, err)
	b, err := pager.Simulate(ctx, got, cfg, nil)
	require.NoError(t, err)
	assert.Equal(t, a.Stats, b.Stats)
}
