// Package plain replays a trace on plain memory: anonymous read-write
// pages, one per distinct page of the trace, with no frame budget and no
// fault caught in user space, so that the kernel's own demand paging serves
// every first touch (vmsim replay --mode kernel). A [probe.Meter] counts
// what the kernel did.
//
// It is the third way to replay a trace, beside the pure simulation of
// package pager and the real-memory paging of package pager/live, and it
// shares neither's result type: the kernel has no policy and no frame
// budget to report, only its own faults.
package plain

import (
	"context"
	"fmt"
	"runtime"

	"vmsim/pager"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/probe"
)

// Label is the label of the region's range in the measurement.
const Label = "plain"

// Result is one replay on plain memory.
type Result struct {
	// Trace is the trace's name.
	Trace string
	// Pages is the memory the trace ran on, in pages: one per distinct
	// page of the trace, every one of them available (no budget).
	Pages int
	// Accesses, Reads and Writes count the trace's accesses.
	Accesses, Reads, Writes uint64
	// Kernel is what the meter counted while the trace ran.
	Kernel *probe.Measurement
}

// FirstTouches returns the faults that mapped a page: not-present faults
// on the region, with the probe. With perf counters, which do not tell one
// fault from another nor the region from the rest of the thread, it
// returns every user-mode fault of the replaying thread.
func (r *Result) FirstTouches() uint64 {
	if rc, ok := r.Kernel.Range(Label); ok {
		return rc.NotPresent
	}
	return r.Kernel.Faults()
}

// ProtectionFaults returns the protection faults on the region (a write to
// a page that a read mapped to the shared zero page); 0 with perf
// counters, which cannot tell.
func (r *Result) ProtectionFaults() uint64 {
	rc, _ := r.Kernel.Range(Label)
	return rc.Protection
}

// Replay runs t on plain memory under m: each access is a load or a store
// to its page. It stops with ctx's error when ctx is done, checked every
// 65,536 accesses.
func Replay(ctx context.Context, t *pager.Trace, m *probe.Meter) (*Result, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	region, err := vm.NewAnonymous(max(t.Distinct(), 1), &vm.Options{Prot: arch.ProtReadWrite})
	if err != nil {
		return nil, fmt.Errorf("plain memory for %s: %w", t.Name(), err)
	}
	defer region.Unmap()
	view, shift := region.Bytes(), region.PageSize().Shift()
	res := &Result{Trace: t.Name(), Pages: t.Distinct(), Accesses: uint64(t.Len())}
	res.Kernel, err = m.Measure([]probe.Range{{Label: Label, Range: region.Range()}}, func() error {
		var sum byte // what the loads read: kept alive so they stay
		for i := range t.Len() {
			if i%(1<<16) == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			id, write := t.At(i)
			off := uint64(id) << shift
			if write {
				view[off] = byte(i)
				res.Writes++
			} else {
				sum += view[off]
			}
		}
		runtime.KeepAlive(sum)
		return nil
	})
	if err != nil {
		return nil, err
	}
	res.Reads = res.Accesses - res.Writes
	return res, nil
}
