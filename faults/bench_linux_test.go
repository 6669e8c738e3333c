//go:build linux

package faults

import (
	"syscall"
	"testing"

	"vmsim/vm/arch"
)

// benchPages is how many fresh pages a benchmark maps at a time.
const benchPages = 16384

// freshPages hands out pages that have never been touched, mapping a new
// batch (outside the timer) when one runs out.
type freshPages struct {
	b    *testing.B
	prot int
	mem  []byte
	next int
}

func (f *freshPages) page() []byte {
	if f.mem == nil || f.next == benchPages {
		f.b.StopTimer()
		if f.mem != nil {
			syscall.Munmap(f.mem)
		}
		var err error
		f.mem, err = syscall.Mmap(-1, 0, benchPages*pageSize, f.prot, syscall.MAP_PRIVATE|syscall.MAP_ANON|syscall.MAP_NORESERVE)
		if err != nil {
			f.b.Fatal(err)
		}
		if err := syscall.Madvise(f.mem, syscall.MADV_NOHUGEPAGE); err != nil {
			f.b.Fatal(err)
		}
		f.next = 0
		f.b.StartTimer()
	}
	p := f.mem[f.next*pageSize : (f.next+1)*pageSize]
	f.next++
	return p
}

func (f *freshPages) close() {
	if f.mem != nil {
		syscall.Munmap(f.mem)
	}
}

// BenchmarkFault measures one caught fault round trip: a write to a fresh
// PROT_NONE page faults, the registry dispatches to a handler that
// mprotects the page read-write, and the write is retried.
func BenchmarkFault(b *testing.B) {
	fresh := &freshPages{b: b, prot: syscall.PROT_NONE}
	defer fresh.close()
	reg := &Registry{}
	var cur []byte
	h := HandlerFunc(func(f *Fault) error { return syscall.Mprotect(cur, syscall.PROT_READ|syscall.PROT_WRITE) })
	// One area covering the whole address space above the zero page: the
	// batches move, the handler only ever sees the current page.
	if err := reg.Register(arch.Range{Start: 0x10000, End: ^arch.Addr(0)}, h); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	faults := 0
	for b.Loop() {
		cur = fresh.page()
		if err := reg.Do(arch.AccessWrite, func() { cur[0] = 1 }); err != nil {
			b.Fatal(err)
		}
		faults++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(faults), "ns/fault")
}

// BenchmarkKernelFirstTouch is the floor: the kernel's own first-touch fault
// on plain anonymous memory, with nothing in user space.
func BenchmarkKernelFirstTouch(b *testing.B) {
	fresh := &freshPages{b: b, prot: syscall.PROT_READ | syscall.PROT_WRITE}
	defer fresh.close()
	n := 0
	for b.Loop() {
		fresh.page()[0] = 1
		n++
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/fault")
}

// BenchmarkLoopAccess measures a load through the hot-loop form when the
// page is resident, against the same loop unguarded: the guard is set once per
// Loop call, so each access costs what it costs unguarded. Progress (i) lives
// outside the guarded function, as Loop requires.
func BenchmarkLoopAccess(b *testing.B) {
	const pages = 64
	mem, err := syscall.Mmap(-1, 0, pages*pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Munmap(mem)
	for i := range mem {
		mem[i] = byte(i)
	}
	reg := &Registry{}
	if err := reg.Register(rangeOf(mem), HandlerFunc(func(*Fault) error { return nil })); err != nil {
		b.Fatal(err)
	}
	const perCall = 1 << 16
	mask := len(mem) - 1
	run := func(b *testing.B, guard func(body func()) error) {
		accesses := 0
		for b.Loop() {
			i := 0
			err := guard(func() {
				var sum byte
				for ; i < perCall; i++ {
					sum += mem[(i<<6)&mask]
				}
				sink += sum
			})
			if err != nil {
				b.Fatal(err)
			}
			accesses += perCall
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(accesses), "ns/access")
	}
	b.Run("guard=loop", func(b *testing.B) {
		run(b, func(body func()) error { return reg.Loop(body, nil) })
	})
	b.Run("guard=none", func(b *testing.B) {
		run(b, func(body func()) error { body(); return nil })
	})
}

// BenchmarkGuardedAccess is the other extreme: one guard per access (Do
// around a single load), the cost the hot-loop form avoids.
func BenchmarkGuardedAccess(b *testing.B) {
	mem, err := syscall.Mmap(-1, 0, pageSize, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		b.Fatal(err)
	}
	defer syscall.Munmap(mem)
	reg := &Registry{}
	if err := reg.Register(rangeOf(mem), HandlerFunc(func(*Fault) error { return nil })); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if err := reg.Do(arch.AccessRead, func() { sink += mem[i&(pageSize-1)] }); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
