//go:build linux

package vm

import (
	"testing"

	"vmsim/faults"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// benchPages is how many pages a userfaultfd benchmark maps at a time.
const benchPages = 16384

// BenchmarkUserfault measures one userfaultfd fault round trip through
// package faults, the Go counterpart of bench/fault.c's uffd modes:
//
//   - fault=missing/write: a write to a missing page raises SIGBUS, the
//     handler fills it writable (UFFDIO_COPY), the write is retried;
//   - fault=missing/read: the same for a read, the page filled
//     write-protected (UFFDIO_COPY_MODE_WP), as the pager loads clean pages;
//   - fault=write-protect: a write to a page filled write-protected raises
//     SIGBUS, the handler lifts the protection (UFFDIO_WRITEPROTECT): the
//     cost of dirty tracking per written page.
//
// Compare with faults.BenchmarkFault (mprotect) and
// faults.BenchmarkKernelFirstTouch (bench/mechanisms.sh prints the table).
func BenchmarkUserfault(b *testing.B) {
	ps := int(arch.SystemPageSize())
	zero := make([]byte, ps)
	for _, c := range []struct {
		name  string
		write bool
		wp    bool
	}{
		{"fault=missing/write", true, false},
		{"fault=missing/read", false, false},
		{"fault=write-protect", true, true},
	} {
		b.Run(c.name, func(b *testing.B) {
			var (
				r    *Region
				next int
				reg  faults.Registry
				all  []byte
			)
			if c.wp {
				all = make([]byte, benchPages*ps)
			}
			fill := arch.ProtRead
			if c.write {
				fill = arch.ProtReadWrite
			}
			h := faults.HandlerFunc(func(f *faults.Fault) error {
				p, _ := r.PageOf(f.Address)
				if c.wp {
					return r.WriteProtect(p, 1, false)
				}
				return r.Fill(p, zero, fill)
			})
			fresh := func() {
				b.StopTimer()
				defer b.StartTimer()
				if r != nil {
					reg.Unregister(r.Range())
					r.Unmap()
				}
				var err error
				if r, err = NewAnonymous(benchPages, &Options{Userfault: true}); err != nil {
					vmtest.SkipIfNotSupported(b, err)
					b.Fatal(err)
				}
				if c.wp {
					if err := r.Fill(0, all, arch.ProtRead); err != nil {
						b.Fatal(err)
					}
				}
				if err := reg.Register(r.Range(), h); err != nil {
					b.Fatal(err)
				}
				next = 0
			}
			defer func() {
				if r != nil {
					r.Unmap()
				}
			}()
			n := 0
			b.ReportAllocs()
			for b.Loop() {
				if r == nil || next == benchPages {
					fresh()
				}
				mem := r.view[next*ps : next*ps+1]
				next++
				var err error
				if c.write {
					err = reg.Do(arch.AccessWrite, func() { mem[0] = 1 })
				} else {
					err = reg.Do(arch.AccessRead, func() { sink = mem[0] })
				}
				if err != nil {
					b.Fatal(err)
				}
				n++
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/fault")
		})
	}
}
