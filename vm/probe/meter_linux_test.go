//go:build linux

package probe

import (
	"errors"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// measureWrites measures writes to every page of a fresh read-write
// region, watched as "region".
func measureWrites(t *testing.T, m *Meter) (*Measurement, *int) {
	t.Helper()
	r := newAnonymous(t, testPages, arch.ProtReadWrite)
	b, ps := r.Bytes(), int(r.PageSize())
	ran := 0
	ms, err := m.Measure([]Range{{Label: "region", Range: r.Range()}, {Label: "none"}}, func() error {
		for i := range testPages {
			b[i*ps] = 1
		}
		ran++
		return nil
	})
	require.NoError(t, err)
	return ms, &ran
}

// TestMeterProbe: as root the meter uses the probe and counts per range.
func TestMeterProbe(t *testing.T) {
	requireProbePrivilege(t)
	m, err := OpenMeter(nil)
	skipIfNotSupported(t, err)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, SourceProbe, m.Source())
	assert.NoError(t, m.Fallback())
	assert.Empty(t, m.Notice())
	ms, ran := measureWrites(t, m)
	assert.Equal(t, 1, *ran)
	assert.Equal(t, SourceProbe, ms.Source)
	rc, ok := ms.Range("region")
	require.True(t, ok)
	assert.Equal(t, uint64(testPages), rc.ByCode[0x6], rc.Codes())
	assert.Equal(t, uint64(testPages), ms.Faults(), "the empty range is left out")
	assert.True(t, ms.Thread.Perf, "the thread's counters come along")

	failed := errors.New("fn failed")
	_, err = m.Measure(nil, func() error { return failed })
	assert.ErrorIs(t, err, failed)
}

// TestMeterPerf: with NoProbe (and without privilege) the meter counts
// the thread's faults with perf counters, and says so in plain words.
func TestMeterPerf(t *testing.T) {
	m, err := OpenMeter(&MeterOptions{NoProbe: true})
	if errors.Is(err, ErrPermission) {
		vmtest.Missing(t, "perf events ("+err.Error()+")")
	}
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, SourcePerf, m.Source())
	ms, _ := measureWrites(t, m)
	assert.Equal(t, SourcePerf, ms.Source)
	assert.GreaterOrEqual(t, ms.Faults(), uint64(testPages), "every fault of the thread: the region's and the runtime's")
	_, ok := ms.Range("region")
	assert.False(t, ok, "perf has no ranges")
}

// TestMeterUnprivileged: without privilege the meter falls back to perf,
// with one plain line that names what is missing and no Go API.
func TestMeterUnprivileged(t *testing.T) {
	if os.Geteuid() == 0 && !vmtest.Unprivileged(t) {
		return
	}
	m, err := OpenMeter(nil)
	require.NoError(t, err)
	defer m.Close()
	assert.Equal(t, SourcePerf, m.Source())
	assert.ErrorIs(t, m.Fallback(), ErrPermission)
	n := m.Notice()
	t.Logf("notice: %s", n)
	assert.Contains(t, n, "needs root")
	assert.Contains(t, n, "CAP_BPF")
	assert.Contains(t, n, "perf counters instead")
	for _, not := range []string{"probe.", "Counters", "MEMLOCK", "\n"} {
		assert.NotContains(t, n, not)
	}
	ms, _ := measureWrites(t, m)
	assert.GreaterOrEqual(t, ms.Faults(), uint64(testPages))
}

// TestMeterNoCounter refuses bpf(2) and perf_event_open(2) with a seccomp
// filter, as a container can, root or not: nothing can count, and the
// meter says so and why, instead of a measurement of zero.
func TestMeterNoCounter(t *testing.T) {
	if !vmtest.Child(t) {
		return
	}
	require.NoError(t, vmtest.DenyKernelCounters())
	m, err := OpenMeter(nil)
	require.Error(t, err)
	assert.Nil(t, m)
	var nc *NoCounterError
	require.ErrorAs(t, err, &nc)
	assert.ErrorIs(t, err, ErrPermission)
	msg := err.Error()
	t.Logf("the error: %s", msg)
	assert.Contains(t, msg, "no kernel page-fault counter could be opened")
	assert.Contains(t, msg, "eBPF probe")
	assert.Contains(t, msg, "seccomp")
	assert.NotContains(t, msg, "at most 2 (it is 2)", "the advice does not contradict itself")
	assert.NotContains(t, msg, "probe.")
	assert.NotContains(t, msg, "\n")

	_, err = OpenMeter(&MeterOptions{NoProbe: true})
	require.ErrorAs(t, err, &nc)
	assert.Nil(t, nc.Probe)
}
