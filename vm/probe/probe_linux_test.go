//go:build linux

package probe

import (
	"errors"
	"fmt"
	"maps"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm"
	"vmsim/vm/arch"
)

// testPages is the number of pages each scenario touches.
const testPages = 256

var sink byte

// scenario is one way vmsim makes or resolves faults, with the kernel
// faults each page costs, as measured on x86-64 (docs/kernel.md).
type scenario struct {
	name string
	// prepare maps the memory and puts it in its starting state (faults it
	// makes happen before the probe is opened). act then makes the
	// accesses and returns the faults caught in user space.
	prepare func(t *testing.T, n int) (ranges []Range, act func(t *testing.T) int)
	// perPage is the kernel faults that every page of each range takes,
	// by range label and error code.
	perPage map[string]map[ErrorCode]uint64
	// zeroPage is added to perPage where a read of fresh anonymous memory
	// maps the shared zero page (see TestZeroPage).
	zeroPage map[string]map[ErrorCode]uint64
	// user is the faults caught in user space per page.
	user int
}

// want returns the faults per page, given whether reads map the zero
// page.
func (sc scenario) want(zeroPage bool) map[string]map[ErrorCode]uint64 {
	w := map[string]map[ErrorCode]uint64{}
	for label, codes := range sc.perPage {
		w[label] = maps.Clone(codes)
	}
	if zeroPage {
		for label, codes := range sc.zeroPage {
			for code, k := range codes {
				w[label][code] += k
			}
		}
	}
	return w
}

func view(r *vm.Region) []Range { return []Range{{Label: "program view", Range: r.Range()}} }

// writeAll writes the first byte of every page of r, uncaught: r must
// allow it.
func writeAll(r *vm.Region) {
	b, ps := r.Bytes(), int(r.PageSize())
	for i := range r.Pages() {
		b[i*ps] = 1
	}
}

// catchAll makes one access of kind k to every page of r through pg's
// registry, and returns the user-space faults.
func catchAll(t *testing.T, pg *pager, k arch.AccessKind) int {
	t.Helper()
	reg := register(t, pg)
	b, ps := pg.r.Bytes(), int(pg.r.PageSize())
	before := pg.faults
	for i := range pg.r.Pages() {
		err := reg.Do(k, func() {
			if k == arch.AccessWrite {
				b[i*ps] = 1
			} else {
				sink = b[i*ps]
			}
		})
		require.NoError(t, err)
	}
	return pg.faults - before
}

var scenarios = []scenario{
	{
		name: "write fresh anonymous memory",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newAnonymous(t, n, arch.ProtReadWrite)
			return view(r), func(*testing.T) int { writeAll(r); return 0 }
		},
		perPage: map[string]map[ErrorCode]uint64{"program view": {0x6: 1}},
		user:    0,
	},
	{
		name: "PROT_NONE never touched, write caught, mprotect, retry",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newAnonymous(t, n, arch.ProtNone)
			return view(r), func(t *testing.T) int {
				return catchAll(t, &pager{r: r, grant: grantRW}, arch.AccessWrite)
			}
		},
		// The first fault finds no access in the VMA and becomes SIGSEGV;
		// after mprotect the retry faults again to populate the page.
		perPage: map[string]map[ErrorCode]uint64{"program view": {0x6: 2}},
		user:    1,
	},
	{
		name: "PROT_NONE never touched, read caught, then write caught",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newAnonymous(t, n, arch.ProtNone)
			return view(r), func(t *testing.T) int {
				pg := &pager{r: r, grant: grantReadThenWrite}
				return catchAll(t, pg, arch.AccessRead) + catchAll(t, pg, arch.AccessWrite)
			}
		},
		// Read: 0x4 (signal), 0x4 (populate, read-only). Write: 0x7
		// (signal on the read-only page). If the read mapped a page of its
		// own, mprotect makes it writable in place (an exclusive anonymous
		// page); if it mapped the shared zero page, the retry faults again
		// (0x7) to copy it.
		perPage:  map[string]map[ErrorCode]uint64{"program view": {0x4: 2, 0x7: 1}},
		zeroPage: map[string]map[ErrorCode]uint64{"program view": {0x7: 1}},
		user:     2,
	},
	{
		name: "written first, then PROT_NONE, write caught",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newAnonymous(t, n, arch.ProtReadWrite)
			writeAll(r)
			require.NoError(t, r.Protect(0, n, arch.ProtNone))
			return view(r), func(t *testing.T) int {
				return catchAll(t, &pager{r: r, grant: grantRW}, arch.AccessWrite)
			}
		},
		// A PROT_NONE page-table entry is not present to the CPU: 0x6. The
		// page stays, so mprotect restores it and the retry does not fault.
		perPage: map[string]map[ErrorCode]uint64{"program view": {0x6: 1}},
		user:    1,
	},
	{
		name: "written first, then PROT_READ, write caught",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newAnonymous(t, n, arch.ProtReadWrite)
			writeAll(r)
			require.NoError(t, r.Protect(0, n, arch.ProtRead))
			return view(r), func(t *testing.T) int {
				return catchAll(t, &pager{r: r, grant: grantRW}, arch.AccessWrite)
			}
		},
		perPage: map[string]map[ErrorCode]uint64{"program view": {0x7: 1}},
		user:    1,
	},
	{
		name: "memfd with two views, read then write via the program's view",
		prepare: func(t *testing.T, n int) ([]Range, func(*testing.T) int) {
			r := newShared(t, n)
			alt0, err := r.AltPage(0)
			require.NoError(t, err)
			second := arch.Range{Start: RangeOf(alt0).Start, End: RangeOf(alt0).Start + arch.Addr(r.Range().Length())}
			ranges := []Range{{Label: "program view", Range: r.Range()}, {Label: "second view", Range: second}}
			return ranges, func(t *testing.T) int {
				pg := &pager{r: r, grant: grantReadThenWrite, fill: func(p arch.PageNum) error {
					alt, err := r.AltPage(p)
					if err != nil {
						return err
					}
					alt[0] = byte(p) + 1
					return nil
				}}
				user := catchAll(t, pg, arch.AccessRead)
				// The fill went through the second view and is seen
				// through the program's.
				b, ps := r.Bytes(), int(r.PageSize())
				for i := range n {
					require.Equal(t, byte(i)+1, b[i*ps], "page %d", i)
				}
				return user + catchAll(t, pg, arch.AccessWrite)
			}
		},
		// Program's view: read 0x4 (signal), read 0x4 (map the page),
		// write 0x7 (signal; mprotect then makes the shared page writable
		// in place). Second view: the fill's write allocates the page.
		perPage: map[string]map[ErrorCode]uint64{
			"program view": {0x4: 2, 0x7: 1},
			"second view":  {0x6: 1},
		},
		user: 2,
	},
}

// TestScenarios checks the kernel's count of faults against the faults
// caught in user space, page by page, for each way vmsim resolves them.
func TestScenarios(t *testing.T) {
	zeroPage := readMapsZeroPage(t)
	for _, sc := range scenarios {
		for _, a := range attachModes {
			t.Run(fmt.Sprintf("%s/attach=%v", sc.name, a), func(t *testing.T) {
				ranges, act := sc.prepare(t, testPages)
				p := openProbe(t, &Options{Ranges: ranges, PerPage: true, Attach: a})
				require.Equal(t, a, p.Attach())
				user := act(t)
				c, err := p.Counts()
				require.NoError(t, err)

				assert.Equal(t, testPages*sc.user, user, "faults caught in user space")
				checkCounts(t, c, ranges, testPages, sc.want(zeroPage))
			})
		}
	}
}

// checkCounts asserts that every page of each range took exactly perPage
// faults and that the totals add up.
func checkCounts(t *testing.T, c Counts, ranges []Range, n int, perPage map[string]map[ErrorCode]uint64) {
	t.Helper()
	assert.Zero(t, c.Overflow)
	assert.Zero(t, c.Lost)
	require.Len(t, c.Ranges, len(ranges))
	var total Tally
	pages := 0
	for i, r := range ranges {
		var page, want Tally
		for code, k := range perPage[r.Label] {
			page.Add(code, k)
			want.Add(code, uint64(n)*k)
		}
		assert.Equal(t, r, c.Ranges[i].Range)
		assert.Equal(t, want, c.Ranges[i].Tally, "%s: %s, want %s", r.Label, c.Ranges[i].Codes(), want.Codes())
		for code, k := range want.ByCode {
			total.Add(ErrorCode(code), k)
		}
		if page.Faults == 0 {
			continue
		}
		bad := 0
		for p := range n {
			addr := r.Start + arch.Addr(p)*arch.Addr(arch.SystemPageSize())
			if got := c.Page(addr); got != page && bad < 3 {
				bad++
				assert.Equal(t, page.Codes(), got.Codes(), "%s page %d", r.Label, p)
			}
		}
		pages += n
	}
	assert.Equal(t, total, c.Total)
	assert.Len(t, c.Pages, pages, "pages that faulted")
	for _, pc := range c.Pages {
		require.Less(t, pc.Range, len(ranges))
		assert.True(t, ranges[pc.Range].Contains(pc.Addr), "page %v is in range %d", pc.Addr, pc.Range)
	}
}

// readMapsZeroPage finds out whether a read of fresh anonymous memory maps
// the shared zero page: then a write after the read faults again.
func readMapsZeroPage(t *testing.T) bool {
	t.Helper()
	requireProbePrivilege(t)
	zero, err := ZeroPageOnRead()
	skipIfNotSupported(t, err)
	require.NoError(t, err)
	return zero
}

// TestZeroPage reads then writes fresh anonymous pages. Whether the read
// maps the shared zero page (then the write faults again, 0x7) or a page
// of its own (no second fault) depends on the kernel's configuration: the
// test finds out from the first page and holds every page to it.
func TestZeroPage(t *testing.T) {
	for _, a := range attachModes {
		t.Run("attach="+a.String(), func(t *testing.T) {
			r := newAnonymous(t, testPages, arch.ProtReadWrite)
			p := openProbe(t, &Options{Ranges: view(r), PerPage: true, Attach: a})
			b, ps := r.Bytes(), int(r.PageSize())
			for i := range testPages {
				sink = b[i*ps]
				b[i*ps] = 1
			}
			c, err := p.Counts()
			require.NoError(t, err)
			first := c.Page(r.Addr(0))
			zeroPage := first.ByCode[0x7] == 1
			assert.Equal(t, readMapsZeroPage(t), zeroPage, "ZeroPageOnRead says what the first page shows")
			t.Logf("a read of fresh anonymous memory maps the shared zero page: %v", zeroPage)
			want := map[ErrorCode]uint64{0x4: 1}
			if zeroPage {
				want[0x7] = 1
			}
			checkCounts(t, c, view(r), testPages, map[string]map[ErrorCode]uint64{"program view": want})
		})
	}
}

// TestEvents checks the ordered trace: two faults per page, page after
// page, all from this thread, in time order, with the faulting
// instruction.
func TestEvents(t *testing.T) {
	for _, a := range attachModes {
		t.Run("attach="+a.String(), func(t *testing.T) {
			runtime.LockOSThread()
			defer runtime.UnlockOSThread()
			r := newAnonymous(t, testPages, arch.ProtNone)
			p := openProbe(t, &Options{Ranges: view(r), Events: true, Attach: a})
			user := catchAll(t, &pager{r: r, grant: grantRW}, arch.AccessWrite)
			require.Equal(t, testPages, user)
			events, err := p.ReadEvents(nil)
			require.NoError(t, err)
			require.Len(t, events, 2*testPages)
			tid := unix.Gettid()
			for i, e := range events {
				page := arch.PageNum(i / 2)
				assert.Equal(t, r.Addr(page), e.Address, "event %d", i)
				assert.Equal(t, ErrorCode(0x6), e.Code, "event %d", i)
				assert.Equal(t, tid, e.TID, "event %d", i)
				assert.Zero(t, e.Range)
				assert.NotZero(t, e.IP, "event %d", i)
				if i > 0 {
					assert.GreaterOrEqual(t, e.Time, events[i-1].Time, "event %d", i)
				}
				if i%2 == 1 {
					assert.Equal(t, events[i-1].IP, e.IP, "the retry runs the same store")
				}
			}
			more, err := p.ReadEvents(nil)
			require.NoError(t, err)
			assert.Empty(t, more, "the buffer was drained")
		})
	}
}

// TestLostAndOverflow fills a one-page ring buffer and a small per-page
// map: what does not fit is counted, never silently dropped.
func TestLostAndOverflow(t *testing.T) {
	for _, a := range attachModes {
		t.Run("attach="+a.String(), func(t *testing.T) {
			r := newAnonymous(t, testPages, arch.ProtReadWrite)
			const room = 16
			p := openProbe(t, &Options{Ranges: view(r), PerPage: true, MaxPages: room, Events: true, EventBuffer: 1, Attach: a})
			writeAll(r)
			c, err := p.Counts()
			require.NoError(t, err)
			assert.Equal(t, uint64(testPages), c.Total.Faults)
			assert.Len(t, c.Pages, room)
			assert.Equal(t, uint64(testPages-room), c.Overflow)
			events, err := p.ReadEvents(nil)
			require.NoError(t, err)
			assert.NotZero(t, c.Lost, "a one-page buffer holds fewer than %d events", testPages)
			assert.Equal(t, uint64(testPages), uint64(len(events))+c.Lost)
		})
	}
}

// TestResetAndSetRanges checks that Reset forgets everything and that
// SetRanges moves the watch.
func TestResetAndSetRanges(t *testing.T) {
	a := newAnonymous(t, 8, arch.ProtReadWrite)
	b := newAnonymous(t, 8, arch.ProtReadWrite)
	p := openProbe(t, &Options{Ranges: []Range{{Label: "a", Range: a.Range()}}, PerPage: true, Events: true})
	a.Bytes()[0] = 1
	c, err := p.Counts()
	require.NoError(t, err)
	require.Equal(t, uint64(1), c.Total.Faults)

	require.NoError(t, p.Reset())
	c, err = p.Counts()
	require.NoError(t, err)
	assert.Zero(t, c.Total.Faults)
	assert.Empty(t, c.Pages)
	events, err := p.ReadEvents(nil)
	require.NoError(t, err)
	assert.Empty(t, events)

	require.NoError(t, p.SetRanges([]Range{{Label: "b", Range: b.Range()}}))
	assert.Equal(t, "b", p.Ranges()[0].Label)
	a.Bytes()[int(a.PageSize())] = 1 // no longer watched
	b.Bytes()[0] = 1
	b.Bytes()[int(b.PageSize())] = 1
	c, err = p.Counts()
	require.NoError(t, err)
	assert.Equal(t, uint64(2), c.Total.Faults)
	rc, ok := c.Range("b")
	require.True(t, ok)
	assert.Equal(t, uint64(2), rc.Writes)
	assert.Len(t, c.Pages, 2)

	err = p.SetRanges([]Range{{Range: a.Range()}, {Range: a.Range()}})
	assert.ErrorIs(t, err, ErrBadRange)
}

func TestClosed(t *testing.T) {
	requireProbePrivilege(t)
	p, err := Open(&Options{Events: true})
	skipIfNotSupported(t, err)
	require.NoError(t, err)
	require.NoError(t, p.Close())
	assert.ErrorIs(t, p.Close(), ErrClosed)
	_, err = p.Counts()
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, p.Reset(), ErrClosed)
	_, err = p.ReadEvents(nil)
	assert.ErrorIs(t, err, ErrClosed)
	assert.ErrorIs(t, p.SetRanges(nil), ErrClosed)
}

func TestOpenErrors(t *testing.T) {
	_, err := Open(&Options{Ranges: []Range{{Range: arch.Range{Start: 2, End: 1}}}})
	assert.ErrorIs(t, err, ErrBadRange)
	_, err = Open(&Options{EventBuffer: 2 << 30})
	assert.Error(t, err, "an event buffer over 1 GiB")
	_, err = Open(&Options{MaxPages: -1})
	assert.Error(t, err, "a negative per-page capacity")
	_, err = Open(&Options{Attach: Attach(42)})
	var e *Error
	require.ErrorAs(t, err, &e)
	assert.False(t, errors.Is(err, ErrNotSupported) || errors.Is(err, ErrPermission))

	p := openProbe(t, nil)
	_, err = p.ReadEvents(nil)
	assert.Error(t, err, "events were not asked for")
	c, err := p.Counts()
	require.NoError(t, err)
	assert.Empty(t, c.Ranges)
	assert.Nil(t, c.Pages, "per-page counts were not asked for")
}

// TestAutoAttach checks that the default picks the tracepoint when tracefs
// is there.
func TestAutoAttach(t *testing.T) {
	p := openProbe(t, nil)
	if _, err := findTracefs(false); err == nil {
		assert.Equal(t, AttachTracepoint, p.Attach())
	} else {
		assert.Equal(t, AttachRawTracepoint, p.Attach())
	}
}

// TestHooksAgree attaches both hooks at once and compares their events:
// the raw tracepoint's arguments (address, regs, error_code) give what the
// tracepoint's record holds, fault for fault, down to regs->ip.
func TestHooksAgree(t *testing.T) {
	r := newShared(t, testPages)
	tp := openProbe(t, &Options{Ranges: view(r), Events: true, Attach: AttachTracepoint})
	raw := openProbe(t, &Options{Ranges: view(r), Events: true, Attach: AttachRawTracepoint})
	pg := &pager{r: r, grant: grantReadThenWrite}
	user := catchAll(t, pg, arch.AccessRead) + catchAll(t, pg, arch.AccessWrite)
	require.Equal(t, 2*testPages, user)

	a, err := tp.ReadEvents(nil)
	require.NoError(t, err)
	b, err := raw.ReadEvents(nil)
	require.NoError(t, err)
	require.Len(t, a, 3*testPages)
	require.Len(t, b, len(a))
	for i := range a {
		x, y := a[i], b[i]
		x.Time, y.Time = 0, 0 // each program reads the clock itself
		assert.Equal(t, x, y, "event %d", i)
	}
}

// TestKernelMode makes the kernel touch fresh pages on the process's
// behalf: pread(2) into them (a kernel-mode write, 0x2) and pwrite(2) out
// of others (a kernel-mode read, 0x0). Only Options.KernelMode counts
// those faults, with CodeUser clear.
func TestKernelMode(t *testing.T) {
	for _, a := range attachModes {
		for _, kernelMode := range []bool{false, true} {
			t.Run(fmt.Sprintf("attach=%v/kernel_mode=%v", a, kernelMode), func(t *testing.T) {
				r := newShared(t, 2*testPages)
				require.NoError(t, r.Protect(0, 2*testPages, arch.ProtReadWrite))
				p := openProbe(t, &Options{Ranges: view(r), PerPage: true, KernelMode: kernelMode, Attach: a})
				f, err := os.CreateTemp(t.TempDir(), "pages")
				require.NoError(t, err)
				defer f.Close()
				b, ps := r.Bytes(), int(r.PageSize())
				require.NoError(t, f.Truncate(int64(testPages*ps)))
				for i := range testPages {
					n, err := unix.Pread(int(f.Fd()), b[i*ps:(i+1)*ps], int64(i*ps))
					require.NoError(t, err)
					require.Equal(t, ps, n)
					n, err = unix.Pwrite(int(f.Fd()), b[(testPages+i)*ps:(testPages+i+1)*ps], int64(i*ps))
					require.NoError(t, err)
					require.Equal(t, ps, n)
				}
				c, err := p.Counts()
				require.NoError(t, err)
				if !kernelMode {
					assert.Zero(t, c.Total.Faults, "user-mode faults only: %s", c.Total.Codes())
					return
				}
				assert.Equal(t, c.Total.Faults, c.Total.Kernel, "kernel-mode faults only: %s", c.Total.Codes())
				for i := range testPages {
					in := c.Page(r.Addr(arch.PageNum(i)))
					assert.Equal(t, uint64(1), in.ByCode[0x2], "pread into page %d: a kernel-mode write, once", i)
					assert.Equal(t, in.Faults, in.ByCode[0x2], "pread into page %d: %s", i, in.Codes())
					// The write path of pwrite may fault the source in before
					// it copies with faults disabled: once or twice (twice on
					// Linux 6.18).
					out := c.Page(r.Addr(arch.PageNum(testPages + i)))
					assert.Contains(t, []uint64{1, 2}, out.ByCode[0x0], "pwrite out of page %d: kernel-mode reads", testPages+i)
					assert.Equal(t, out.Faults, out.ByCode[0x0], "pwrite out of page %d: %s", testPages+i, out.Codes())
				}
			})
		}
	}
}
