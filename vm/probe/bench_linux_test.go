//go:build linux

package probe

import (
	"fmt"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// benchPages is the size of the benchmarks' regions: 64 MiB of 4 KiB
// pages, as in the reference measurements.
const benchPages = 16384

// benchProbes are the configurations benchmarked; "off" is no probe.
var benchProbes = []struct {
	name string
	opts *Options
}{
	{"probe=off", nil},
	{"probe=tracepoint/count=totals", &Options{Attach: AttachTracepoint}},
	{"probe=tracepoint/count=pages", &Options{Attach: AttachTracepoint, PerPage: true}},
	{"probe=tracepoint/count=pages+events", &Options{Attach: AttachTracepoint, PerPage: true, Events: true}},
	{"probe=raw_tracepoint/count=totals", &Options{Attach: AttachRawTracepoint}},
	{"probe=raw_tracepoint/count=pages", &Options{Attach: AttachRawTracepoint, PerPage: true}},
	{"probe=raw_tracepoint/count=pages+events", &Options{Attach: AttachRawTracepoint, PerPage: true, Events: true}},
}

// BenchmarkOpenClose measures loading and attaching the probe, and
// detaching and freeing it: one op is Open then Close, watching one
// region of benchPages pages. open-ns/op and close-ns/op split the time.
func BenchmarkOpenClose(b *testing.B) {
	r := newAnonymous(b, benchPages, arch.ProtReadWrite)
	for _, bp := range benchProbes[1:] {
		b.Run(bp.name, func(b *testing.B) {
			o := *bp.opts
			o.Ranges = view(r)
			b.ReportAllocs()
			var open, closing time.Duration
			requireProbePrivilege(b)
			for b.Loop() {
				t0 := time.Now()
				p, err := Open(&o)
				t1 := time.Now()
				skipIfNotSupported(b, err)
				require.NoError(b, err)
				require.NoError(b, p.Close())
				open += t1.Sub(t0)
				closing += time.Since(t1)
			}
			b.ReportMetric(float64(open.Nanoseconds())/float64(b.N), "open-ns/op")
			b.ReportMetric(float64(closing.Nanoseconds())/float64(b.N), "close-ns/op")
		})
	}
}

// threadCPU returns the CPU time of the calling thread.
func threadCPU(b *testing.B) time.Duration {
	var ts unix.Timespec
	require.NoError(b, unix.ClockGettime(unix.CLOCK_THREAD_CPUTIME_ID, &ts))
	return time.Duration(ts.Nano())
}

// faultBench runs one fault per op on benchPages pages, calling refresh
// (timer stopped) whenever the pages are used up, and reports ns/fault
// (wall) and cpu-ns/fault (the faulting thread's CPU time, which is where
// the probe runs).
func faultBench(b *testing.B, opts *Options, ranges []Range, refresh func(), fault func(i int)) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	var p *Probe
	if opts != nil {
		o := *opts
		o.Ranges = ranges
		p = openProbe(b, &o)
	}
	reset := func() {
		refresh()
		if p != nil {
			require.NoError(b, p.Reset())
		}
	}
	reset()
	var cpu time.Duration
	start := threadCPU(b)
	i := 0
	for b.Loop() {
		if i == benchPages {
			cpu += threadCPU(b) - start
			b.StopTimer()
			reset()
			i = 0
			b.StartTimer()
			start = threadCPU(b)
		}
		fault(i)
		i++
	}
	cpu += threadCPU(b) - start
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N), "ns/fault")
	b.ReportMetric(float64(cpu.Nanoseconds())/float64(b.N), "cpu-ns/fault")
	if p != nil {
		c, err := p.Counts()
		require.NoError(b, err)
		require.NotZero(b, c.Total.Faults, "the probe saw the faults")
	}
}

// BenchmarkFirstTouch measures a kernel first-touch fault (a write to a
// fresh page of anonymous memory, resolved by the kernel alone), without
// and with the probe.
func BenchmarkFirstTouch(b *testing.B) {
	for _, bp := range benchProbes {
		b.Run(bp.name, func(b *testing.B) {
			r := newAnonymous(b, benchPages, arch.ProtReadWrite)
			mem, ps := r.Bytes(), int(r.PageSize())
			faultBench(b, bp.opts, view(r),
				func() { require.NoError(b, r.Drop(0, benchPages)) },
				func(i int) { mem[i*ps] = 1 })
		})
	}
}

// BenchmarkCaughtFault measures a fault caught in user space (a write to a
// PROT_NONE page: SIGSEGV, recover, mprotect, retry), which costs two
// kernel faults, without and with the probe.
func BenchmarkCaughtFault(b *testing.B) {
	for _, bp := range benchProbes {
		b.Run(bp.name, func(b *testing.B) {
			r := newAnonymous(b, benchPages, arch.ProtNone)
			pg := &pager{r: r, grant: grantRW}
			reg := register(b, pg)
			mem, ps := r.Bytes(), int(r.PageSize())
			faultBench(b, bp.opts, view(r),
				func() {
					require.NoError(b, r.Protect(0, benchPages, arch.ProtNone))
					require.NoError(b, r.Drop(0, benchPages))
				},
				func(i int) {
					if err := reg.Do(arch.AccessWrite, func() { mem[i*ps] = 1 }); err != nil {
						b.Fatal(fmt.Errorf("page %d: %w", i, err))
					}
				})
		})
	}
}
