package live

import (
	"context"
	"fmt"
	"testing"

	"vmsim/pager"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// sweep returns a trace that touches pages pages once each, in order.
func sweep(pages int, write bool) *pager.Trace {
	bld := pager.NewBuilder("sweep")
	for p := range pages {
		bld.Add(arch.PageNum(p), write)
	}
	return bld.Trace()
}

// benchReplay replays a sweep over pages distinct pages, one access each,
// with frames frames, and reports the nanoseconds per access (every access
// faults). With before, that trace is replayed first, outside the timer.
func benchReplay(b *testing.B, mech Mechanism, pages, frames int, before, tr *pager.Trace) {
	accesses := 0
	for b.Loop() {
		b.StopTimer()
		pol, _ := pager.NewPolicy("fifo", pager.Options{})
		lp, err := New(pages, pol, frames, &Options{Mechanism: mech})
		if err != nil {
			vmtest.SkipIfNotSupported(b, err)
			b.Fatal(err)
		}
		want := pages
		if before != nil {
			if _, err := lp.Replay(context.Background(), replaySource(before, lp)); err != nil {
				b.Fatal(err)
			}
			want += pages
		}
		b.StartTimer()
		st, err := lp.Replay(context.Background(), replaySource(tr, lp))
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if int(st.UserFaults) != want {
			b.Fatalf("%d user faults for %d pages", st.UserFaults, pages)
		}
		lp.Close()
		b.StartTimer()
		accesses += pages
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(accesses), "ns/fault")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReal measures real-mode paging per fault, for each mechanism:
//
//   - cold: a read of a page never touched, with free frames;
//   - cold-write: the same for a write (the page loads dirty and writable);
//   - protection: a write to a resident clean page (the pages were read
//     first, outside the timer): the cost of dirty tracking per written
//     page;
//   - evict-clean: a read fault that first evicts a clean page;
//   - evict-dirty: a write fault that first evicts a dirty page and writes
//     it back to the swap store.
//
// evict-clean minus cold is the cost of a clean eviction, evict-dirty minus
// cold-write that of a dirty one. Compare with faults.BenchmarkFault and
// vm.BenchmarkUserfault: bench/mechanisms.sh prints them side by side.
func BenchmarkReal(b *testing.B) {
	const pages = 4096
	reads, writes := sweep(pages, false), sweep(pages, true)
	for _, mech := range mechanisms {
		for _, c := range []struct {
			name       string
			frames     int
			before, tr *pager.Trace
		}{
			{"cold", pages, nil, reads},
			{"cold-write", pages, nil, writes},
			{"protection", pages, reads, writes},
			{"evict-clean", 64, nil, reads},
			{"evict-dirty", 64, nil, writes},
		} {
			b.Run(fmt.Sprintf("mechanism=%s/%s", mech, c.name), func(b *testing.B) {
				benchReplay(b, mech, pages, c.frames, c.before, c.tr)
			})
		}
	}
}
