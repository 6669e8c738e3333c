//go:build linux

package plain

import (
	"context"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/vm/arch"
	"vmsim/vm/probe"
	"vmsim/vm/vmtest"
)

// trace builds a trace from page numbers, each followed by w for a write.
func trace(t *testing.T, s string) *pager.Trace {
	t.Helper()
	b := pager.NewBuilder("test")
	for _, tok := range strings.Fields(s) {
		n, err := strconv.ParseUint(strings.TrimSuffix(tok, "w"), 10, 64)
		require.NoError(t, err)
		b.Add(arch.PageNum(n), strings.HasSuffix(tok, "w"))
	}
	return b.Trace()
}

// textbook has 6 distinct pages; pages 1, 2 and 6 are read before they
// are written, 4 and 5 written first, 3 only read.
const textbook = "1 2 3 1 2 3 4w 5w 4 5 1w 2w 6 6w"

// TestReplayProbe is the kernel's demand paging as the probe sees it: one
// not-present fault per distinct page (the cold misses of any policy with
// enough frames), and one protection fault per page read before it is
// written when reads map the shared zero page (asked of this kernel, not
// assumed).
func TestReplayProbe(t *testing.T) {
	vmtest.RequireRoot(t, "CAP_BPF and CAP_PERFMON, to load the eBPF probe")
	zero, err := probe.ZeroPageOnRead()
	vmtest.SkipIfNotSupported(t, err)
	require.NoError(t, err)
	m, err := probe.OpenMeter(nil)
	require.NoError(t, err)
	defer m.Close()
	require.Equal(t, probe.SourceProbe, m.Source())

	res, err := Replay(context.Background(), trace(t, textbook), m)
	require.NoError(t, err)
	assert.Equal(t, "test", res.Trace)
	assert.Equal(t, 6, res.Pages)
	assert.Equal(t, uint64(14), res.Accesses)
	assert.Equal(t, uint64(5), res.Writes)
	assert.Equal(t, uint64(9), res.Reads)
	assert.Equal(t, uint64(6), res.FirstTouches(), "one first touch per distinct page")
	want := uint64(0)
	if zero {
		want = 3 // pages 1, 2 and 6
	}
	assert.Equal(t, want, res.ProtectionFaults(), "zero page on read: %v", zero)
	rc, ok := res.Kernel.Range(Label)
	require.True(t, ok)
	assert.Equal(t, rc.NotPresent+rc.Protection, rc.Faults)
	assert.Zero(t, rc.Kernel, "no system call touched the region")
}

// TestReplayPerf: with perf counters the first touches are every fault of
// the replaying thread: at least one per distinct page; protection faults
// cannot be told apart.
func TestReplayPerf(t *testing.T) {
	m, err := probe.OpenMeter(&probe.MeterOptions{NoProbe: true})
	if err != nil {
		vmtest.Missing(t, "perf events ("+err.Error()+")")
	}
	defer m.Close()
	res, err := Replay(context.Background(), trace(t, textbook), m)
	require.NoError(t, err)
	assert.Equal(t, probe.SourcePerf, res.Kernel.Source)
	assert.GreaterOrEqual(t, res.FirstTouches(), uint64(6))
	assert.Zero(t, res.ProtectionFaults())
}

// TestReplayCancelled: a cancelled context stops the replay before it
// maps anything.
func TestReplayCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := Replay(ctx, trace(t, textbook), nil)
	assert.ErrorIs(t, err, context.Canceled)
}
