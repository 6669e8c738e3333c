package probe

import (
	"fmt"
	"strings"

	"vmsim/vm/arch"
)

// MaxRanges is the most address ranges one probe watches.
const MaxRanges = 8

// Range is a labelled address range whose faults the probe counts.
type Range struct {
	// Label names the range in counts and reports ("program view",
	// "second view"). It may be empty.
	Label string
	arch.Range
}

// String prints the label and the addresses.
func (r Range) String() string {
	if r.Label == "" {
		return r.Range.String()
	}
	return r.Label + " " + r.Range.String()
}

// checkRanges validates ranges as [Open] and [Probe.SetRanges] accept them.
func checkRanges(rs []Range) error {
	if len(rs) > MaxRanges {
		return fmt.Errorf("%d ranges, at most %d: %w", len(rs), MaxRanges, ErrBadRange)
	}
	for i, r := range rs {
		if r.Empty() || !r.WellFormed() {
			return fmt.Errorf("range %v: %w", r, ErrBadRange)
		}
		for _, o := range rs[:i] {
			if r.Overlaps(o.Range) {
				return fmt.Errorf("range %v overlaps %v: %w", r, o, ErrBadRange)
			}
		}
	}
	return nil
}

// Attach says how the probe hooks the kernel's page-fault path.
type Attach uint8

// Ways to attach.
const (
	// AttachAuto uses the tracepoint when tracefs is there (mounting it if
	// it is not mounted and the process may), else the raw tracepoint.
	AttachAuto Attach = iota
	// AttachTracepoint attaches a BPF_PROG_TYPE_TRACEPOINT program to
	// exceptions:page_fault_user; its record layout is read from tracefs
	// and checked before loading.
	AttachTracepoint
	// AttachRawTracepoint attaches a BPF_PROG_TYPE_RAW_TRACEPOINT program
	// to page_fault_user; it reads the tracepoint's arguments (address,
	// regs, error_code) and needs no tracefs.
	AttachRawTracepoint
)

// String returns "auto", "tracepoint" or "raw_tracepoint".
func (a Attach) String() string {
	switch a {
	case AttachAuto:
		return "auto"
	case AttachTracepoint:
		return "tracepoint"
	case AttachRawTracepoint:
		return "raw_tracepoint"
	}
	return fmt.Sprintf("Attach(%d)", uint8(a))
}

// Options configure [Open]. A nil *Options means the defaults: no ranges
// (set them later with [Probe.SetRanges]), totals only, no events.
type Options struct {
	// Ranges are the address ranges whose faults are counted, at most
	// MaxRanges, non-overlapping. Faults elsewhere, and faults of other
	// processes, are dropped in the kernel.
	Ranges []Range
	// PerPage also counts faults per page and error code in a hash map
	// ([Counts.Pages]). It costs a hash update per fault.
	PerPage bool
	// MaxPages is the capacity of the per-page map, in (page, error code)
	// entries. Zero means three entries per page of Ranges, at least 1024
	// and at most 1<<18; at most 1<<32-1 when set. Faults that find the map
	// full are counted in [Counts.Overflow].
	MaxPages int
	// Events streams every counted fault through a BPF ring buffer, in the
	// order the kernel saw them ([Probe.ReadEvents]). Needs Linux 5.8.
	Events bool
	// EventBuffer is the ring buffer's size in bytes, rounded up to a
	// power-of-two number of pages; at most 1 GiB. Zero means 4 MiB (about
	// 100,000 events). Events that find it full are counted in
	// [Counts.Lost].
	EventBuffer int
	// Attach chooses the hook; zero is AttachAuto.
	Attach Attach
	// KernelMode also counts the faults the kernel takes in kernel mode on
	// the ranges (the tracepoint exceptions:page_fault_kernel, filtered the
	// same way): a system call that reads or writes the memory, as
	// pread(2) into a page or pwrite(2) out of one does, faults there on
	// the process's behalf. Their error codes have [CodeUser] clear
	// ([Tally.Kernel]). Without it only user-mode faults are counted.
	KernelMode bool
	// PID is the process whose faults count; zero means this process.
	// Another process (a traced program) needs no more privilege than
	// this one.
	PID int
}

// Tally counts faults by kind.
type Tally struct {
	// Faults is the number of faults.
	Faults uint64
	// NotPresent and Protection split Faults on CodePresent.
	NotPresent, Protection uint64
	// Reads and Writes split Faults on CodeWrite.
	Reads, Writes uint64
	// Kernel counts the faults taken in kernel mode (CodeUser clear; only
	// with Options.KernelMode), on behalf of a system call.
	Kernel uint64
	// ByCode counts faults by error code (masked to NumCodes).
	ByCode [NumCodes]uint64
}

// Add counts n faults with error code c.
func (t *Tally) Add(c ErrorCode, n uint64) {
	c &= NumCodes - 1
	t.Faults += n
	t.ByCode[c] += n
	if c.Present() {
		t.Protection += n
	} else {
		t.NotPresent += n
	}
	if c.Write() {
		t.Writes += n
	} else {
		t.Reads += n
	}
	if !c.User() {
		t.Kernel += n
	}
}

// Codes lists the error codes counted, in increasing order, as "0x4:2 0x7:1".
func (t Tally) Codes() string {
	var b strings.Builder
	for c, n := range t.ByCode {
		if n == 0 {
			continue
		}
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		fmt.Fprintf(&b, "%#x:%d", c, n)
	}
	return b.String()
}

// RangeCounts are the counts of one watched range.
type RangeCounts struct {
	Range
	Tally
}

// PageCounts are the counts of one page.
type PageCounts struct {
	// Addr is the address of the page's first byte.
	Addr arch.Addr
	// Range is the index in the probe's ranges of the range that held the
	// page when it faulted.
	Range int
	Tally
}

// Counts are the kernel's page faults on the watched ranges since [Open] or
// the last [Probe.Reset].
type Counts struct {
	// Total sums all ranges.
	Total Tally
	// Ranges are per range, in the order they were given.
	Ranges []RangeCounts
	// Pages are per page, sorted by address; nil unless Options.PerPage.
	Pages []PageCounts
	// Overflow is the number of faults the per-page map had no room for;
	// they are in Total and Ranges but not in Pages.
	Overflow uint64
	// Lost is the number of events dropped because the ring buffer was
	// full; they are counted everywhere else.
	Lost uint64
}

// Range returns the counts of the range labelled label, or false.
func (c Counts) Range(label string) (RangeCounts, bool) {
	for _, r := range c.Ranges {
		if r.Label == label {
			return r, true
		}
	}
	return RangeCounts{}, false
}

// Page returns the counts of the page at address a (rounded down to its
// page by the caller), or a zero Tally.
func (c Counts) Page(a arch.Addr) Tally {
	lo, hi := 0, len(c.Pages)
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if c.Pages[m].Addr < a {
			lo = m + 1
		} else {
			hi = m
		}
	}
	if lo < len(c.Pages) && c.Pages[lo].Addr == a {
		return c.Pages[lo].Tally
	}
	return Tally{}
}

// Event is one fault as the kernel saw it, streamed when Options.Events is
// set.
type Event struct {
	// Time is when the probe ran, in nanoseconds of CLOCK_MONOTONIC
	// (bpf_ktime_get_ns).
	Time uint64
	// Address is the faulting address.
	Address arch.Addr
	// IP is the address of the faulting instruction.
	IP arch.Addr
	// TID is the faulting thread.
	TID int
	// Code is the error code (16 low bits).
	Code ErrorCode
	// Range is the index of the watched range that holds Address.
	Range int
}
