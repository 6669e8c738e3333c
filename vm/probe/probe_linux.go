//go:build linux

package probe

import (
	"errors"
	"fmt"
	"math"
	"os"
	"slices"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/cilium/ebpf/ringbuf"

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

// Probe counts the kernel's own page faults on address ranges of this
// process, with an eBPF program on the page_fault_user tracepoint. Its
// methods are safe for concurrent use.
type Probe struct {
	attach  Attach
	ps      arch.PageSize
	ncpu    int
	perPage bool
	// kernelMode is Options.KernelMode.
	kernelMode bool

	// mu guards the fields below.
	mu     sync.Mutex
	closed bool
	ranges []Range
	prog   *ebpf.Program
	// links attach prog: to page_fault_user, then page_fault_kernel if
	// Options.KernelMode.
	links []link.Link
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
	if o.Attach > AttachRawTracepoint {
		return nil, &Error{Op: "open", Err: fmt.Errorf("unknown attach mode %v", o.Attach)}
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
		attach:     o.Attach,
		ps:         arch.SystemPageSize(),
		perPage:    o.PerPage,
		kernelMode: o.KernelMode,
		ranges:     slices.Clone(o.Ranges),
	}
	var lay layout
	switch o.Attach {
	case AttachAuto, AttachTracepoint:
		lay, err = readLayout(caps.has(capSysAdmin), p.tracepoints()...)
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
	for _, ev := range p.tracepoints() {
		var l link.Link
		if spec.raw {
			l, err = link.AttachRawTracepoint(link.RawTracepointOptions{Name: ev, Program: p.prog})
			if err != nil {
				return kernelError("attach raw tracepoint "+ev, "the raw tracepoint "+ev+" (x86 kernels, Linux 4.17)", err)
			}
		} else {
			l, err = link.Tracepoint("exceptions", ev, p.prog, nil)
			if err != nil {
				return kernelError("attach tracepoint exceptions:"+ev, "the tracepoint exceptions:"+ev+" (x86 kernels)", err)
			}
		}
		p.links = append(p.links, l)
	}
	return nil
}

// tracepoints names the tracepoints the program goes on.
func (p *Probe) tracepoints() []string {
	if p.kernelMode {
		return []string{"page_fault_user", "page_fault_kernel"}
	}
	return []string{"page_fault_user"}
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

// Attach returns how the probe is attached: AttachTracepoint or
// AttachRawTracepoint.
func (p *Probe) Attach() Attach { return p.attach }

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
	for _, l := range p.links {
		closeIt(l)
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
