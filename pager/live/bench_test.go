package live

import (
	"fmt"
	"testing"

	"vmsim/pager"
)

// benchReplay replays a sweep over pages distinct pages, one access each,
// with frames frames, and reports the nanoseconds per access (every access
// faults).
func benchReplay(b *testing.B, mech Mechanism, pages, frames int, write bool) {
	bld := pager.NewBuilder("sweep")
	for p := range pages {
		bld.Add(uint64(p), write)
	}
	tr := bld.Trace()
	accesses := 0
	for b.Loop() {
		b.StopTimer()
		pol, _ := pager.NewPolicy("fifo", pager.Options{})
		lp, err := New(pages, pol, frames, &Options{Mechanism: mech})
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		st, err := lp.Replay(tr)
		if err != nil {
			b.Fatal(err)
		}
		b.StopTimer()
		if int(st.UserFaults) != pages {
			b.Fatalf("%d user faults for %d pages", st.UserFaults, pages)
		}
		lp.Close()
		b.StartTimer()
		accesses += pages
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(accesses), "ns/fault")
	b.ReportMetric(0, "ns/op")
}

// BenchmarkReal measures real-mode paging per fault: a cold fault with free
// frames (read, or write: the page loads dirty), a fault that first evicts a
// clean page, and one that evicts a dirty page and writes it back to the
// swap store. Compare with faults.BenchmarkFault (bench/pager.sh prints
// the ratios).
func BenchmarkReal(b *testing.B) {
	const pages = 4096
	for _, mech := range []Mechanism{Mprotect, Remap} {
		for _, c := range []struct {
			name   string
			frames int
			write  bool
		}{
			{"cold", pages, false},
			{"evict-clean", 64, false},
			{"evict-dirty", 64, true},
		} {
			b.Run(fmt.Sprintf("mechanism=%s/%s", mech, c.name), func(b *testing.B) {
				benchReplay(b, mech, pages, c.frames, c.write)
			})
		}
	}
}
