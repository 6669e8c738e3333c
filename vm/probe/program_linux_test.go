//go:build linux

package probe

import (
	"fmt"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// TestInstructions checks every variant of the program for opcodes the
// asm package could not encode (a double-word StoreImm is one) and for
// jumps to labels that do not exist, without loading it.
func TestInstructions(t *testing.T) {
	for _, raw := range []bool{false, true} {
		for _, pages := range []int{-1, 4} {
			for _, events := range []int{-1, 5} {
				name := fmt.Sprintf("raw=%v/pages=%v/events=%v", raw, pages >= 0, events >= 0)
				t.Run(name, func(t *testing.T) {
					s := progSpec{raw: raw, lay: wantLayout, tgid: 1234, ps: arch.PageSize(4096), ranges: 1, totals: 2, pages: pages, events: events}
					insns, err := s.instructions()
					require.NoError(t, err)
					syms, err := insns.SymbolOffsets()
					require.NoError(t, err)
					for i, ins := range insns {
						assert.NotEqual(t, asm.InvalidOpCode, ins.OpCode, "instruction %d: %v", i, ins)
						if ref := ins.Reference(); ref != "" && !ins.IsLoadFromMap() {
							_, ok := syms[ref]
							assert.True(t, ok, "instruction %d jumps to missing label %q", i, ref)
						}
					}
				})
			}
		}
	}
	_, err := progSpec{tgid: 1 << 31}.instructions()
	assert.Error(t, err, "a tgid that does not fit an immediate")
}

func TestRingSize(t *testing.T) {
	ps := arch.PageSize(4096)
	tests := []struct{ in, want int }{
		{0, defaultEventBuffer},
		{1, 4096},
		{4096, 4096},
		{4097, 8192},
		{3 * 4096, 4 * 4096},
		{1 << 20, 1 << 20},
		{1<<30 + 1, 1 << 30},
		{1 << 62, 1 << 30},
	}
	for _, tt := range tests {
		got := ringSize(tt.in, ps)
		assert.Equal(t, tt.want, got, "ringSize(%d)", tt.in)
		pages := got / int(ps)
		assert.Zero(t, pages&(pages-1), "a power-of-two number of pages")
	}
}

func TestPageCapacity(t *testing.T) {
	p := &Probe{ps: 4096}
	rs := func(pages int) []Range {
		return []Range{{Range: arch.Range{Start: 0x10000, End: 0x10000 + arch.Addr(pages*4096)}}}
	}
	assert.Equal(t, minPages, p.pageCapacity(Options{Ranges: rs(10)}))
	assert.Equal(t, 3000*pagesPerPage, p.pageCapacity(Options{Ranges: rs(3000)}))
	assert.Equal(t, maxPages, p.pageCapacity(Options{Ranges: rs(1 << 20)}))
	assert.Equal(t, 7, p.pageCapacity(Options{Ranges: rs(10), MaxPages: 7}))
}

func TestKernelError(t *testing.T) {
	err := kernelError("create ring buffer", "the BPF ring buffer (Linux 5.8)", fmt.Errorf("creating map: %w", ebpf.ErrNotSupported))
	assert.ErrorIs(t, err, ErrNotSupported)
	assert.ErrorIs(t, err, ebpf.ErrNotSupported, "cilium's error stays in the chain")
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.Equal(t, "the BPF ring buffer (Linux 5.8)", e.Missing)

	err = kernelError("attach raw tracepoint page_fault_user", "the raw tracepoint page_fault_user", fmt.Errorf("raw tracepoint: %w", unix.ENOENT))
	assert.ErrorIs(t, err, ErrNotSupported)

	err = kernelError("create totals map", "", fmt.Errorf("map create: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM))
	assert.ErrorIs(t, err, ErrPermission)
	assert.ErrorIs(t, err, unix.EPERM)
	assert.NotContains(t, err.Error(), "MEMLOCK may be too low", "cilium's guess is not repeated")

	err = kernelError("load eBPF program", "", unix.EINVAL)
	assert.NotErrorIs(t, err, ErrPermission)
	assert.NotErrorIs(t, err, ErrNotSupported)
	assert.ErrorIs(t, err, unix.EINVAL)
}
