//go:build linux

package probe

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"
	"golang.org/x/sys/unix"

	"vmsim/vm/arch"
)

// Defaults and bounds of Options.
const (
	defaultEventBuffer = 4 << 20
	maxEventBuffer     = 1 << 30
	minPages           = 1024
	maxPages           = 1 << 18
	pagesPerPage       = 3
)

// hintRoot is what to do about missing privilege.
const hintRoot = "run it as root (sudo) or give the binary cap_bpf,cap_perfmon+ep (probe.Counters works without privilege)"

// Probe counts the kernel's own page faults on address ranges of this
// process, with an eBPF program on the page_fault_user tracepoint. Its
// methods are safe for concurrent use.
type Probe struct {
	attach  Attach
	ps      arch.PageSize
	ncpu    int
	perPage bool

	// mu guards the fields below.
	mu     sync.Mutex
	closed bool
	ranges []Range
	prog   *ebpf.Program
	link   link.Link
	// rangesMap is an array of one entry: MaxRanges (start, end) pairs.
	rangesMap *ebpf.Map
	// totals is a per-CPU array of totalsSlots counters.
	totals *ebpf.Map
	// pages is the per-page hash, or nil.
	pages *ebpf.Map
	// events is the ring buffer and reader its consumer, or nil.
	events *ebpf.Map
	reader *ringbuf.Reader
	rec    ringbuf.Record
}

// pageKey is the per-page map's key, laid out as the program writes it
// (fields exported for cilium's binary marshalling).
type pageKey struct {
	// Page is the address of the page's first byte.
	Page uint64
	// Code is the error code, masked to NumCodes.
	Code uint32
	// Range is the index of the watched range.
	Range uint32
}

// Open loads the probe and attaches it. It counts from now on, for every
// thread of this process (or of opts.PID), the faults whose address lies
// in opts.Ranges.
//
// Errors are [*Error]s: without privilege they match [ErrPermission], on a
// kernel without the tracepoint, eBPF or the ring buffer (Options.Events)
// [ErrNotSupported]; a bad range matches [ErrBadRange].
func Open(opts *Options) (*Probe, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if err := checkRanges(o.Ranges); err != nil {
		return nil, &Error{Op: "open", Err: err}
	}
	if o.EventBuffer < 0 || o.EventBuffer > maxEventBuffer {
		return nil, &Error{Op: "open", Err: fmt.Errorf("event buffer of %d bytes: want 0 to %d", o.EventBuffer, maxEventBuffer)}
	}
	if o.MaxPages < 0 || o.MaxPages > math.MaxUint32 {
		return nil, &Error{Op: "open", Err: fmt.Errorf("per-page map of %d entries: want 0 to %d", o.MaxPages, uint32(math.MaxUint32))}
	}
	caps, err := effectiveCaps()
	if err != nil {
		return nil, &Error{Op: "read capabilities", Err: err}
	}
	if !caps.canTrace() {
		return nil, &Error{
			Op:      "load eBPF program",
			Missing: caps.missing() + " (or CAP_SYS_ADMIN), which this process lacks",
			Kind:    ErrPermission,
			Hint:    hintRoot,
		}
	}
	raiseMemlock()

	p := &Probe{
		attach:  o.Attach,
		ps:      arch.SystemPageSize(),
		perPage: o.PerPage,
		ranges:  slices.Clone(o.Ranges),
	}
	var lay layout
	switch o.Attach {
	case AttachAuto, AttachTracepoint:
		lay, err = readLayout(caps.has(capSysAdmin))
		switch {
		case err == nil:
			p.attach = AttachTracepoint
		case errors.Is(err, errLayout):
			return nil, &Error{Op: "check tracepoint layout", Kind: ErrNotSupported, Err: err}
		case o.Attach == AttachAuto:
			p.attach = AttachRawTracepoint
		default:
			return nil, &Error{
				Op:      "read tracepoint format",
				Missing: "tracefs and the exceptions:page_fault_user event (x86 kernels)",
				Kind:    ErrNotSupported,
				Err:     err,
				Hint:    "mount tracefs (mount -t tracefs nodev /sys/kernel/tracing) or use the raw tracepoint",
			}
		}
	case AttachRawTracepoint:
	default:
		return nil, &Error{Op: "open", Err: fmt.Errorf("unknown attach mode %v", o.Attach)}
	}
	if err := p.load(o, lay); err != nil {
		p.closeLocked()
		return nil, err
	}
	return p, nil
}

// load creates the maps and the program, then attaches it.
func (p *Probe) load(o Options, lay layout) error {
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return &Error{Op: "count CPUs", Err: err}
	}
	p.ncpu = ncpu
	p.rangesMap, err = ebpf.NewMap(&ebpf.MapSpec{
		Name:       "vmsim_ranges",
		Type:       ebpf.Array,
		KeySize:    4,
		ValueSize:  MaxRanges * rangeSlot,
		MaxEntries: 1,
	})
	if err != nil {
		return kernelError("create ranges map", "", err)
	}
	if err := p.putRangesLocked(p.ranges); err != nil {
		return err
	}
	p.totals, err = ebpf.NewMap(&ebpf.MapSpec{
		Name:       "vmsim_totals",
		Type:       ebpf.PerCPUArray,
		KeySize:    4,
		ValueSize:  8,
		MaxEntries: totalsSlots,
	})
	if err != nil {
		return kernelError("create totals map", "", err)
	}
	tgid := os.Getpid()
	if o.PID > 0 {
		tgid = o.PID
	}
	spec := progSpec{
		raw:    p.attach == AttachRawTracepoint,
		lay:    lay,
		tgid:   uint32(tgid),
		ps:     p.ps,
		ranges: p.rangesMap.FD(),
		totals: p.totals.FD(),
		pages:  -1,
		events: -1,
	}
	if o.PerPage {
		p.pages, err = ebpf.NewMap(&ebpf.MapSpec{
			Name:       "vmsim_pages",
			Type:       ebpf.Hash,
			KeySize:    pageKeySize,
			ValueSize:  8,
			MaxEntries: uint32(p.pageCapacity(o)),
		})
		if err != nil {
			return kernelError("create per-page map", "", err)
		}
		spec.pages = p.pages.FD()
	}
	if o.Events {
		p.events, err = ebpf.NewMap(&ebpf.MapSpec{
			Name:       "vmsim_events",
			Type:       ebpf.RingBuf,
			MaxEntries: uint32(ringSize(o.EventBuffer, p.ps)),
		})
		if err != nil {
			return kernelError("create ring buffer", "the BPF ring buffer (Linux 5.8)", err)
		}
		p.reader, err = ringbuf.NewReader(p.events)
		if err != nil {
			return kernelError("map ring buffer", "", err)
		}
		spec.events = p.events.FD()
	}
	insns, err := spec.instructions()
	if err != nil {
		return &Error{Op: "build eBPF program", Err: err}
	}
	typ := ebpf.TracePoint
	if spec.raw {
		typ = ebpf.RawTracepoint
	}
	p.prog, err = ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:         "vmsim_faults",
		Type:         typ,
		Instructions: insns,
		License:      "Dual MIT/GPL",
	})
	if err != nil {
		return kernelError("load eBPF program", "", err)
	}
	if spec.raw {
		p.link, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: "page_fault_user", Program: p.prog})
		if err != nil {
			return kernelError("attach raw tracepoint page_fault_user", "the raw tracepoint page_fault_user (x86 kernels, Linux 4.17)", err)
		}
		return nil
	}
	p.link, err = link.Tracepoint("exceptions", "page_fault_user", p.prog, nil)
	if err != nil {
		return kernelError("attach tracepoint exceptions:page_fault_user", "the tracepoint exceptions:page_fault_user (x86 kernels)", err)
	}
	return nil
}

// pageCapacity sizes the per-page map.
func (p *Probe) pageCapacity(o Options) int {
	if o.MaxPages > 0 {
		return o.MaxPages
	}
	var pages uint64
	for _, r := range o.Ranges {
		pages += p.ps.PagesRoundUp(r.Length())
	}
	return int(min(max(pages*pagesPerPage, minPages), maxPages))
}

// ringSize rounds n bytes (at most maxEventBuffer) up to a power-of-two
// number of pages, as the kernel requires of a ring buffer.
func ringSize(n int, ps arch.PageSize) int {
	if n <= 0 {
		n = defaultEventBuffer
	}
	n = min(n, maxEventBuffer)
	size := int(ps)
	for size < n {
		size <<= 1
	}
	return size
}

// kernelError explains a failed eBPF call: missing support, missing
// privilege (saying what, not cilium's guess about RLIMIT_MEMLOCK), or
// something else.
func kernelError(op, needs string, err error) error {
	switch {
	case errors.Is(err, ebpf.ErrNotSupported):
		return &Error{Op: op, Missing: needs, Kind: ErrNotSupported, Err: err}
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		errno := unix.EPERM
		if errors.Is(err, unix.EACCES) {
			errno = unix.EACCES
		}
		caps, cerr := effectiveCaps()
		if cerr == nil && !caps.canTrace() {
			return &Error{Op: op, Missing: caps.missing() + " (or CAP_SYS_ADMIN), which this process lacks", Kind: ErrPermission, Err: errno, Hint: hintRoot}
		}
		hint := "the process has CAP_BPF and CAP_PERFMON, so kernel lockdown or a security module (SELinux, AppArmor) refused it"
		if rel, maj, min := kernelRelease(); maj < 5 || (maj == 5 && min < 11) {
			hint += ", or RLIMIT_MEMLOCK, which Linux " + rel + " charges BPF memory to"
		}
		// cilium's own message would blame RLIMIT_MEMLOCK whatever the
		// kernel: keep the errno only.
		return &Error{Op: op, Kind: ErrPermission, Err: errno, Hint: hint}
	case errors.Is(err, unix.ENOENT) && needs != "":
		return &Error{Op: op, Missing: needs, Kind: ErrNotSupported, Err: err}
	}
	return &Error{Op: op, Err: err}
}

// Attach returns how the probe is attached: AttachTracepoint or
// AttachRawTracepoint.
func (p *Probe) Attach() Attach { return p.attach }

// Ranges returns the ranges watched now.
func (p *Probe) Ranges() []Range {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.ranges)
}

// SetRanges replaces the watched ranges and resets the counts (a range's
// counters are kept by its index). Faults that happen while it runs may be
// counted under the old or the new ranges.
func (p *Probe) SetRanges(rs []Range) error {
	if err := checkRanges(rs); err != nil {
		return &Error{Op: "set ranges", Err: err}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &Error{Op: "set ranges", Err: ErrClosed}
	}
	n := max(len(p.ranges), len(rs))
	if err := p.putRangesLocked(rs); err != nil {
		return err
	}
	p.ranges = slices.Clone(rs)
	return p.resetLocked(n)
}

func (p *Probe) putRangesLocked(rs []Range) error {
	v := make([]byte, MaxRanges*rangeSlot)
	for i, r := range rs {
		binary.NativeEndian.PutUint64(v[i*rangeSlot:], uint64(r.Start))
		binary.NativeEndian.PutUint64(v[i*rangeSlot+8:], uint64(r.End))
	}
	if err := p.rangesMap.Put(uint32(0), v); err != nil {
		return kernelError("set ranges", "", err)
	}
	return nil
}

// Reset sets every count to zero, forgets the per-page counts and discards
// the events not read yet. Faults that happen while it runs may or may not
// be counted.
func (p *Probe) Reset() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &Error{Op: "reset", Err: ErrClosed}
	}
	return p.resetLocked(len(p.ranges))
}

// resetLocked zeroes the totals of the first n ranges and the special
// slots, empties the per-page map and drains the ring buffer.
func (p *Probe) resetLocked(n int) error {
	zero := make([]uint64, p.ncpu)
	keys := make([]uint32, 0, n*NumCodes+2)
	for k := range uint32(n * NumCodes) {
		keys = append(keys, k)
	}
	keys = append(keys, lostSlot, overflowSlot)
	for _, k := range keys {
		if err := p.totals.Put(k, zero); err != nil {
			return kernelError("reset totals", "", err)
		}
	}
	if p.pages != nil {
		var (
			k     pageKey
			v     uint64
			batch []pageKey
		)
		it := p.pages.Iterate()
		for it.Next(&k, &v) {
			batch = append(batch, k)
		}
		if err := it.Err(); err != nil {
			return kernelError("list per-page counts", "", err)
		}
		for _, k := range batch {
			if err := p.pages.Delete(k); err != nil && !errors.Is(err, ebpf.ErrKeyNotExist) {
				return kernelError("reset per-page counts", "", err)
			}
		}
	}
	if p.reader != nil {
		if _, err := p.readEventsLocked(nil, true); err != nil {
			return err
		}
	}
	return nil
}

// Counts returns the faults counted since Open or the last Reset. Faults
// that happen while it runs may or may not be in the result.
func (p *Probe) Counts() (Counts, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return Counts{}, &Error{Op: "counts", Err: ErrClosed}
	}
	var c Counts
	vals := make([]uint64, p.ncpu)
	sum := func(k uint32) (uint64, error) {
		if err := p.totals.Lookup(k, &vals); err != nil {
			return 0, kernelError("read totals", "", err)
		}
		var s uint64
		for _, v := range vals {
			s += v
		}
		return s, nil
	}
	c.Ranges = make([]RangeCounts, len(p.ranges))
	for i, r := range p.ranges {
		c.Ranges[i].Range = r
		for code := range NumCodes {
			n, err := sum(uint32(i*NumCodes + code))
			if err != nil {
				return Counts{}, err
			}
			if n != 0 {
				c.Ranges[i].Add(ErrorCode(code), n)
				c.Total.Add(ErrorCode(code), n)
			}
		}
	}
	var err error
	if c.Lost, err = sum(lostSlot); err != nil {
		return Counts{}, err
	}
	if c.Overflow, err = sum(overflowSlot); err != nil {
		return Counts{}, err
	}
	if p.pages == nil {
		return c, nil
	}
	byPage := map[uint64]*PageCounts{}
	var (
		k pageKey
		v uint64
	)
	it := p.pages.Iterate()
	for it.Next(&k, &v) {
		pc := byPage[k.Page]
		if pc == nil {
			pc = &PageCounts{Addr: arch.Addr(k.Page), Range: int(k.Range)}
			byPage[k.Page] = pc
		}
		pc.Add(ErrorCode(k.Code), v)
	}
	if err := it.Err(); err != nil {
		return Counts{}, kernelError("read per-page counts", "", err)
	}
	c.Pages = make([]PageCounts, 0, len(byPage))
	for _, pc := range byPage {
		c.Pages = append(c.Pages, *pc)
	}
	slices.SortFunc(c.Pages, func(a, b PageCounts) int {
		switch {
		case a.Addr < b.Addr:
			return -1
		case a.Addr > b.Addr:
			return 1
		}
		return 0
	})
	return c, nil
}

// ReadEvents returns the events in the ring buffer, oldest first, without
// waiting for more, and appends them to dst. Events were recorded when the
// faulting thread was still in the kernel: every fault of a thread that has
// returned to user space is there (or counted in Counts.Lost). It fails
// unless Options.Events was set.
func (p *Probe) ReadEvents(dst []Event) ([]Event, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return dst, &Error{Op: "read events", Err: ErrClosed}
	}
	if p.reader == nil {
		return dst, &Error{Op: "read events", Err: errors.New("the probe was opened without Options.Events")}
	}
	return p.readEventsLocked(dst, false)
}

// readEventsLocked drains the ring buffer into dst, or drops what it reads
// if discard is set.
func (p *Probe) readEventsLocked(dst []Event, discard bool) ([]Event, error) {
	p.reader.SetDeadline(time.Now())
	for {
		err := p.reader.ReadInto(&p.rec)
		if errors.Is(err, os.ErrDeadlineExceeded) {
			return dst, nil
		}
		if err != nil {
			return dst, kernelError("read events", "", err)
		}
		if discard {
			continue
		}
		b := p.rec.RawSample
		if len(b) < eventSize {
			return dst, &Error{Op: "read events", Err: fmt.Errorf("short record of %d bytes", len(b))}
		}
		dst = append(dst, Event{
			Time:    binary.NativeEndian.Uint64(b[0:]),
			Address: arch.Addr(binary.NativeEndian.Uint64(b[8:])),
			IP:      arch.Addr(binary.NativeEndian.Uint64(b[16:])),
			TID:     int(binary.NativeEndian.Uint32(b[24:])),
			Code:    ErrorCode(binary.NativeEndian.Uint16(b[28:])),
			Range:   int(b[30]),
		})
	}
}

// Close detaches the probe and frees its maps. Later calls fail with
// ErrClosed.
func (p *Probe) Close() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return &Error{Op: "close", Err: ErrClosed}
	}
	return p.closeLocked()
}

func (p *Probe) closeLocked() error {
	p.closed = true
	var errs []error
	closeIt := func(c interface{ Close() error }) {
		if err := c.Close(); err != nil {
			errs = append(errs, err)
		}
	}
	// Detach first, so that nothing writes to the maps being freed.
	if p.link != nil {
		closeIt(p.link)
	}
	if p.prog != nil {
		closeIt(p.prog)
	}
	if p.reader != nil {
		closeIt(p.reader)
	}
	for _, m := range []*ebpf.Map{p.events, p.pages, p.totals, p.rangesMap} {
		if m != nil {
			closeIt(m)
		}
	}
	if len(errs) > 0 {
		return &Error{Op: "close", Err: errors.Join(errs...)}
	}
	return nil
}
