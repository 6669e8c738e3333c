//go:build linux

package faults

import (
	"errors"
	"os"
	"os/exec"
	"runtime"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

var pageSize = os.Getpagesize()

// sink keeps loads in tests from being optimised away.
var sink byte

// mapNone maps n PROT_NONE anonymous pages for one test. The faults package
// uses the standard library only, so its tests map memory with syscall.
func mapNone(t testing.TB, n int) []byte {
	t.Helper()
	b, err := syscall.Mmap(-1, 0, n*pageSize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	require.NoError(t, err)
	t.Cleanup(func() { syscall.Munmap(b) })
	return b
}

func rangeOf(b []byte) arch.Range {
	a := arch.Addr(unsafe.Pointer(unsafe.SliceData(b)))
	return arch.Range{Start: a, End: a + arch.Addr(len(b))}
}

func addrOf(b []byte, i int) arch.Addr { return rangeOf(b).Start + arch.Addr(i) }

// protector resolves each fault by granting prot to the faulting page, and
// records the faults it saw.
type protector struct {
	mem   []byte
	prot  func(f *Fault) int
	mu    sync.Mutex
	seen  []Fault
	count atomic.Int64
}

func (p *protector) HandleFault(f *Fault) error {
	p.count.Add(1)
	p.mu.Lock()
	p.seen = append(p.seen, *f)
	p.mu.Unlock()
	off := int(f.Address-rangeOf(p.mem).Start) &^ (pageSize - 1)
	return syscall.Mprotect(p.mem[off:off+pageSize], p.prot(f))
}

func readWrite(*Fault) int { return syscall.PROT_READ | syscall.PROT_WRITE }

// byAccess grants read for reads (and undeclared accesses), read-write for
// writes: the read-then-upgrade rule.
func byAccess(f *Fault) int {
	if f.Access == arch.AccessWrite {
		return syscall.PROT_READ | syscall.PROT_WRITE
	}
	return syscall.PROT_READ
}

func newRegistry(t *testing.T, mem []byte, h Handler) *Registry {
	t.Helper()
	reg := &Registry{}
	require.NoError(t, reg.Register(rangeOf(mem), h))
	return reg
}

func TestCatchReturnsFaultWithAddress(t *testing.T) {
	mem := mapNone(t, 2)
	err := Catch(func() { sink = mem[pageSize+123] })
	var f *Fault
	require.ErrorAs(t, err, &f)
	assert.Equal(t, addrOf(mem, pageSize+123), f.Address, "plain loads fault at the exact byte")
	assert.Equal(t, uintptr(f.Address), f.Addr())
	assert.Equal(t, arch.SignalUnknown, f.Signal, "Catch cannot tell the signal")
	assert.NoError(t, Catch(func() {}), "no fault, no error")
}

func TestCatchRestoresSetting(t *testing.T) {
	mem := mapNone(t, 1)
	old := debug.SetPanicOnFault(false)
	defer debug.SetPanicOnFault(old)
	require.Error(t, Catch(func() { mem[0] = 1 }))
	assert.False(t, debug.SetPanicOnFault(false), "the previous setting (false) is restored")
	debug.SetPanicOnFault(true)
	require.Error(t, Catch(func() { mem[0] = 1 }))
	assert.True(t, debug.SetPanicOnFault(false), "the previous setting (true) is restored")
}

func TestResolveByMprotectAndRetry(t *testing.T) {
	mem := mapNone(t, 1)
	h := &protector{mem: mem, prot: readWrite}
	reg := newRegistry(t, mem, h)
	runs := 0
	err := reg.Do(arch.AccessWrite, func() {
		runs++
		mem[10] = 'c'
	})
	require.NoError(t, err)
	assert.Equal(t, int64(1), h.count.Load(), "exactly one fault")
	assert.Equal(t, 2, runs, "the function ran again after the handler")
	assert.Equal(t, byte('c'), mem[10])
	assert.Equal(t, arch.AccessWrite, h.seen[0].Access, "the declared kind reaches the handler")
	assert.Equal(t, addrOf(mem, 10), h.seen[0].Address)
}

func TestReadThenUpgrade(t *testing.T) {
	mem := mapNone(t, 1)
	readable := false
	h := &protector{mem: mem, prot: func(f *Fault) int {
		// The handler knows the page state: a fault on a readable page
		// must be a write. This is how pagers find dirty pages.
		if readable {
			return syscall.PROT_READ | syscall.PROT_WRITE
		}
		readable = true
		return syscall.PROT_READ
	}}
	reg := newRegistry(t, mem, h)
	// Generic code that does not declare its kind: the first fault is
	// treated as a read, the retried write faults again on the read-only page.
	err := reg.Do(arch.AccessUnspecified, func() { mem[7] = 'w' })
	require.NoError(t, err)
	assert.Equal(t, int64(2), h.count.Load(), "read, then upgrade: two faults")
	assert.Equal(t, byte('w'), mem[7])
	assert.Equal(t, h.seen[0].Address, h.seen[1].Address)
	assert.Equal(t, arch.AccessUnspecified, h.seen[1].Access)
}

func TestFaultOutsideEveryAreaPropagates(t *testing.T) {
	owned := mapNone(t, 1)
	other := mapNone(t, 1)
	reg := newRegistry(t, owned, &protector{mem: owned, prot: readWrite})
	var v any
	func() {
		defer func() { v = recover() }()
		_ = reg.Do(arch.AccessRead, func() { sink = other[0] })
	}()
	require.NotNil(t, v, "a fault nobody owns panics")
	re, ok := v.(runtime.Error)
	require.True(t, ok, "the runtime's own value is re-raised, got %T", v)
	a, ok := re.(interface{ Addr() uintptr })
	require.True(t, ok)
	assert.Equal(t, uintptr(addrOf(other, 0)), a.Addr())
}

func TestNilDereferenceStillPanics(t *testing.T) {
	var p *[64]byte
	var v any
	func() {
		defer func() { v = recover() }()
		_ = Catch(func() { sink = p[3] })
	}()
	require.NotNil(t, v)
	_, hasAddr := v.(interface{ Addr() uintptr })
	assert.False(t, hasAddr, "a nil dereference carries no address")
	assert.ErrorContains(t, v.(error), "nil pointer dereference")
}

func TestOtherPanicsPropagateUnchanged(t *testing.T) {
	mem := mapNone(t, 1)
	reg := newRegistry(t, mem, &protector{mem: mem, prot: readWrite})
	sentinel := errors.New("not a fault")
	assert.PanicsWithValue(t, sentinel, func() { _ = reg.Do(arch.AccessRead, func() { panic(sentinel) }) })
	assert.PanicsWithValue(t, "boom", func() { _ = Catch(func() { panic("boom") }) })
}

func TestUnresolvedFaultIsAnErrorNotAHang(t *testing.T) {
	mem := mapNone(t, 1)
	reg := newRegistry(t, mem, HandlerFunc(func(*Fault) error { return nil })) // grants nothing
	reg.MaxRetries = 5
	err := reg.Do(arch.AccessWrite, func() { mem[5] = 1 })
	require.ErrorIs(t, err, ErrUnresolved)
	var ue *UnresolvedError
	require.ErrorAs(t, err, &ue)
	assert.Equal(t, addrOf(mem, 5), ue.Fault.Address)
	assert.Equal(t, 5, ue.Retries)
}

func TestHandlerErrorStopsTheCall(t *testing.T) {
	mem := mapNone(t, 1)
	cause := errors.New("store failed")
	reg := newRegistry(t, mem, HandlerFunc(func(*Fault) error { return cause }))
	err := reg.Do(arch.AccessRead, func() { sink = mem[0] })
	assert.ErrorIs(t, err, cause)
}

func TestLoopResumesAtTheFaultingAccess(t *testing.T) {
	const pages = 16
	mem := mapNone(t, pages)
	h := &protector{mem: mem, prot: byAccess}
	reg := newRegistry(t, mem, h)
	visits := make([]int, pages)
	i := 0
	err := reg.Loop(func() {
		for ; i < pages; i++ {
			visits[i]++
			mem[i*pageSize+1] = byte(i)
		}
	}, func(f *Fault) { f.Access = arch.AccessWrite })
	require.NoError(t, err)
	assert.Equal(t, int64(pages), h.count.Load(), "one fault per page: the kind was declared")
	for p := range pages {
		// The faulting index runs twice (before and after the fault), no
		// other index is repeated: the loop did not restart.
		assert.Equal(t, 2, visits[p], "page %d", p)
		assert.Equal(t, byte(p), mem[p*pageSize+1])
	}
}

// TestLoopCarriesItsCookie: what a Loop call attaches to its faults reaches
// the handler with them and no other call's faults: concurrent loops over one
// area each hand the handler their own per-call state, with no shared field.
func TestLoopCarriesItsCookie(t *testing.T) {
	const pages, workers = 64, 4
	mem := mapNone(t, pages)
	h := &protector{mem: mem, prot: readWrite}
	reg := newRegistry(t, mem, h)
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			i := w
			errs <- reg.Loop(func() {
				for ; i < pages; i += workers {
					mem[i*pageSize] = byte(w)
				}
			}, func(f *Fault) { f.Access, f.Cookie = arch.AccessWrite, [2]int{w, i} })
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	require.Len(t, h.seen, pages, "one fault per page")
	for _, f := range h.seen {
		c, ok := f.Cookie.([2]int)
		require.True(t, ok, "every fault carries its loop's cookie")
		w, i := c[0], c[1]
		assert.Equal(t, w, i%workers, "page %d faulted in loop %d's cookie", i, w)
		assert.Equal(t, rangeOf(mem).Start+arch.Addr(i*pageSize), f.Address, "the cookie names the faulting access")
	}
}

func TestSIGBUSBeyondEndOfFile(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "short")
	require.NoError(t, err)
	defer f.Close()
	require.NoError(t, f.Truncate(int64(pageSize)))
	mem, err := syscall.Mmap(int(f.Fd()), 0, 2*pageSize, syscall.PROT_READ, syscall.MAP_SHARED)
	require.NoError(t, err)
	defer syscall.Munmap(mem)
	sink = mem[0] // inside the file: fine
	err = Catch(func() { sink = mem[pageSize+9] })
	var fault *Fault
	require.ErrorAs(t, err, &fault)
	assert.Equal(t, addrOf(mem, pageSize+9), fault.Address)
}

type classified struct {
	HandlerFunc
	sig arch.Signal
}

func (c classified) Classify(arch.Addr) arch.Signal { return c.sig }

func TestClassifierFillsSignal(t *testing.T) {
	mem := mapNone(t, 1)
	var got arch.Signal
	reg := newRegistry(t, mem, classified{HandlerFunc: func(f *Fault) error {
		got = f.Signal
		return syscall.Mprotect(mem, syscall.PROT_READ)
	}, sig: arch.SIGSEGV})
	require.NoError(t, reg.Do(arch.AccessRead, func() { sink = mem[0] }))
	assert.Equal(t, arch.SIGSEGV, got)
}

func TestManyGoroutinesFaulting(t *testing.T) {
	const pages, workers = 64, 8
	mem := mapNone(t, pages)
	var mu sync.Mutex
	granted := make([]bool, pages)
	var faults atomic.Int64
	reg := newRegistry(t, mem, HandlerFunc(func(f *Fault) error {
		faults.Add(1)
		p := int(f.Address-rangeOf(mem).Start) / pageSize
		mu.Lock()
		defer mu.Unlock()
		if granted[p] {
			return nil // another goroutine resolved it first
		}
		granted[p] = true
		return syscall.Mprotect(mem[p*pageSize:(p+1)*pageSize], syscall.PROT_READ|syscall.PROT_WRITE)
	}))
	errs := make(chan error, 2*workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(2)
		go func() { // different pages: each worker owns pages w, w+workers, ...
			defer wg.Done()
			i := w
			errs <- reg.Loop(func() {
				for ; i < pages; i += workers {
					mem[i*pageSize+w] = byte(w + 1)
				}
			}, func(f *Fault) { f.Access = arch.AccessWrite })
		}()
		go func() { // the same page: all workers write byte 100+w of page 0
			defer wg.Done()
			errs <- reg.Do(arch.AccessWrite, func() { mem[100+w] = byte(w + 1) })
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	for i := range pages {
		w := i % workers
		assert.Equal(t, byte(w+1), mem[i*pageSize+w], "page %d", i)
	}
	for w := range workers {
		assert.Equal(t, byte(w+1), mem[100+w])
	}
	assert.GreaterOrEqual(t, faults.Load(), int64(pages), "every page faulted at least once")
	assert.LessOrEqual(t, faults.Load(), int64(pages+workers), "page 0 faults at most once per worker")
}

func TestRegistry(t *testing.T) {
	reg := &Registry{}
	h := HandlerFunc(func(*Fault) error { return nil })
	require.NoError(t, reg.Register(arch.Range{Start: 0x10000, End: 0x20000}, h))
	require.NoError(t, reg.Register(arch.Range{Start: 0x30000, End: 0x40000}, h))
	require.NoError(t, reg.Register(arch.Range{Start: 0x20000, End: 0x30000}, h), "touching neighbours do not overlap")

	tests := []struct {
		name string
		r    arch.Range
		want error
	}{
		{"overlaps start", arch.Range{Start: 0x8000, End: 0x10001}, ErrOverlap},
		{"inside", arch.Range{Start: 0x31000, End: 0x32000}, ErrOverlap},
		{"empty", arch.Range{Start: 0x50000, End: 0x50000}, ErrEmptyRange},
		{"ill-formed", arch.Range{Start: 0x60000, End: 0x50000}, ErrEmptyRange},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.ErrorIs(t, reg.Register(tt.r, h), tt.want) })
	}

	_, r, ok := reg.Lookup(0x2ffff)
	assert.True(t, ok)
	assert.Equal(t, arch.Range{Start: 0x20000, End: 0x30000}, r)
	_, _, ok = reg.Lookup(0x40000)
	assert.False(t, ok, "end is excluded")
	_, _, ok = reg.Lookup(0xffff)
	assert.False(t, ok)

	assert.ErrorIs(t, reg.Unregister(arch.Range{Start: 0x20000, End: 0x28000}), ErrNotRegistered, "only exact ranges unregister")
	require.NoError(t, reg.Unregister(arch.Range{Start: 0x20000, End: 0x30000}))
	_, _, ok = reg.Lookup(0x25000)
	assert.False(t, ok)
}

func TestRegistryConcurrentUse(t *testing.T) {
	reg := &Registry{}
	h := HandlerFunc(func(*Fault) error { return nil })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 200 {
				r := arch.Range{Start: arch.Addr((w*1000 + i + 1) * 0x1000), End: arch.Addr((w*1000+i+1)*0x1000 + 0x800)}
				if err := reg.Register(r, h); err != nil {
					t.Error(err)
					return
				}
				if _, got, ok := reg.Lookup(r.Start + 1); !ok || got != r {
					t.Errorf("lookup %v: got %v %v", r, got, ok)
				}
				if err := reg.Unregister(r); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	assert.Empty(t, reg.load())
}

// faultyFunction is the frame a crash must show.
//
//go:noinline
func faultyFunction(b []byte) { b[0] = 1 }

// TestUnownedFaultCrashesAtItsSource: a fault nobody owns crashes the
// process as a bare fault would, with the signal and the faulting frame in
// the trace (I4: real bugs crash loudly, and say where).
func TestUnownedFaultCrashesAtItsSource(t *testing.T) {
	if os.Getenv("VMSIM_FAULTS_CRASH") == "1" {
		mem, _ := syscall.Mmap(-1, 0, pageSize, syscall.PROT_NONE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
		reg := &Registry{}
		_ = reg.Do(arch.AccessWrite, func() { faultyFunction(mem) })
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestUnownedFaultCrashesAtItsSource$")
	cmd.Env = append(os.Environ(), "VMSIM_FAULTS_CRASH=1")
	out, err := cmd.CombinedOutput()
	require.Error(t, err, "the process must crash")
	assert.Contains(t, string(out), "[signal SIGSEGV")
	assert.Contains(t, string(out), "faults.faultyFunction")
}
