package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"strings"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/vm"
	"vmsim/vm/arch"
	"vmsim/vm/probe"
)

// kernelFaults are the kernel's own page faults during a run (JSON field
// kernel_faults).
type kernelFaults struct {
	// Source is "ebpf" (the probe: faults on the watched views only) or
	// "perf" (without privilege: every user-mode fault of the replaying
	// thread, not split by view or kind).
	Source     string     `json:"source"`
	Total      uint64     `json:"total"`
	NotPresent uint64     `json:"not_present"`
	Protection uint64     `json:"protection"`
	Program    viewFaults `json:"program_view"`
	Second     viewFaults `json:"second_view"`
	// Minflt and Majflt are getrusage's counts for the replaying thread:
	// they miss the faults that became signals.
	Minflt uint64 `json:"rusage_minflt"`
	Majflt uint64 `json:"rusage_majflt"`
}

type viewFaults struct {
	NotPresent uint64 `json:"not_present"`
	Protection uint64 `json:"protection"`
}

// kernelMeter counts the kernel's faults around runs: with the eBPF probe,
// or, when the probe cannot load, with the thread's perf counters.
type kernelMeter struct {
	probe *probe.Probe
}

// openKernelMeter opens the probe; without privilege or support it says so
// on stderr, once, and falls back to perf counters.
func openKernelMeter(stderr io.Writer) (*kernelMeter, error) {
	p, err := probe.Open(&probe.Options{Attach: probe.AttachRawTracepoint})
	if errors.Is(err, probe.ErrPermission) || errors.Is(err, probe.ErrNotSupported) {
		fmt.Fprintf(stderr, "vmsim: --kernel: %v; counting this thread's faults with perf counters instead (totals only)\n", oneLine(err))
		return &kernelMeter{}, nil
	}
	if err != nil {
		return nil, err
	}
	return &kernelMeter{probe: p}, nil
}

func (k *kernelMeter) Close() error {
	if k.probe != nil {
		return k.probe.Close()
	}
	return nil
}

// measure runs fn on a locked OS thread and counts the kernel's faults on
// the views during it (program, and second if it is not empty).
func (k *kernelMeter) measure(program, second arch.Range, fn func() error) (*kernelFaults, error) {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	if k.probe != nil {
		rs := []probe.Range{{Label: "program", Range: program}}
		if !second.Empty() {
			rs = append(rs, probe.Range{Label: "second", Range: second})
		}
		if err := k.probe.SetRanges(rs); err != nil {
			return nil, err
		}
	}
	c, err := probe.OpenCounters()
	if err != nil {
		return nil, err
	}
	defer c.Close()
	before, err := c.Read()
	if err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		return nil, err
	}
	after, err := c.Read()
	if err != nil {
		return nil, err
	}
	d := after.Sub(before)
	kf := &kernelFaults{Source: "perf", Minflt: d.ThreadMinor, Majflt: d.ThreadMajor}
	if k.probe == nil {
		if !d.Perf {
			return nil, fmt.Errorf("--kernel: neither the eBPF probe nor perf counters are available: %v", c.PerfErr())
		}
		kf.Total = d.Faults
		return kf, nil
	}
	counts, err := k.probe.Counts()
	if err != nil {
		return nil, err
	}
	kf.Source = "ebpf"
	kf.Total, kf.NotPresent, kf.Protection = counts.Total.Faults, counts.Total.NotPresent, counts.Total.Protection
	if r, ok := counts.Range("program"); ok {
		kf.Program = viewFaults{r.NotPresent, r.Protection}
	}
	if r, ok := counts.Range("second"); ok {
		kf.Second = viewFaults{r.NotPresent, r.Protection}
	}
	return kf, nil
}

// replayKernel runs a trace on plain memory: read-write anonymous pages with
// no frame budget and no fault caught in user space, so the kernel's own
// demand paging serves every first touch.
func replayKernel(t *pager.Trace, k *kernelMeter) (row, error) {
	region, err := vm.NewAnonymous(max(t.Distinct(), 1), &vm.Options{Prot: arch.ProtReadWrite})
	if err != nil {
		return row{}, err
	}
	defer region.Unmap()
	view, shift := region.Bytes(), region.PageSize().Shift()
	kf, err := k.measure(region.Range(), arch.Range{}, func() error {
		var s byte
		for i := range t.Len() {
			id, write := t.At(i)
			off := uint64(id) << shift
			if write {
				view[off] = byte(i)
			} else {
				s += view[off]
			}
		}
		kernelSink = s
		return nil
	})
	if err != nil {
		return row{}, err
	}
	st := pager.Stats{Accesses: uint64(t.Len())}
	for i := range t.Len() {
		if _, w := t.At(i); w {
			st.Writes++
		}
	}
	st.Reads = st.Accesses - st.Writes
	st.Faults, st.ProtectionFaults = kf.NotPresent, kf.Protection
	if kf.Source == "perf" {
		st.Faults = kf.Total
	}
	st.Hits = st.Accesses - min(st.Faults, st.Accesses)
	return row{Result: pager.Result{Trace: t.Name(), Policy: "kernel", Frames: t.Distinct(), Stats: st}, Mode: "kernel", KernelFaults: kf}, nil
}

// kernelSink keeps replayed loads from being optimised away.
var kernelSink byte

// measureReal runs a real-mode replay under the meter.
func measureReal(ctx context.Context, lp *live.Pager, src pager.Source, k *kernelMeter) (live.Stats, *kernelFaults, error) {
	var st live.Stats
	kf, err := k.measure(lp.Range(), lp.SecondView(), func() error {
		var err error
		st, err = lp.Replay(ctx, src)
		return err
	})
	return st, kf, err
}

// kernelObserver is an exercise.Observer that counts the kernel's faults on
// what the exercise watches: with the probe, per label and error code; with
// perf counters, the thread's total.
type kernelObserver struct {
	meter    *kernelMeter
	ranges   []probe.Range
	counters *probe.Counters
	before   probe.Sample
}

// newKernelObserver opens the meter; the caller must have locked its
// goroutine to its thread (the perf fallback counts one thread).
func newKernelObserver(stderr io.Writer) (*kernelObserver, error) {
	m, err := openKernelMeter(stderr)
	if err != nil {
		return nil, err
	}
	o := &kernelObserver{meter: m}
	if m.probe == nil {
		if o.counters, err = probe.OpenCounters(); err != nil {
			m.Close()
			return nil, err
		}
	}
	return o, nil
}

func (o *kernelObserver) Close() error {
	if o.counters != nil {
		o.counters.Close()
	}
	return o.meter.Close()
}

// Watch implements exercise.Observer.
func (o *kernelObserver) Watch(label string, r arch.Range) error {
	if o.meter.probe == nil {
		var err error
		o.before, err = o.counters.Read()
		return err
	}
	o.ranges = append(o.ranges, probe.Range{Label: label, Range: r})
	return o.meter.probe.SetRanges(o.ranges)
}

// Report implements exercise.Observer.
func (o *kernelObserver) Report(w io.Writer, explain map[string]string) error {
	fmt.Fprintln(w, "\nThe kernel's own page faults (--kernel):")
	if o.meter.probe == nil {
		after, err := o.counters.Read()
		if err != nil {
			return err
		}
		d := after.Sub(o.before)
		fmt.Fprintf(w, "  this thread: %d faults (perf: every user-mode fault of the thread, not only the exercise's page), %d of them signals\n", d.Faults, d.Signals())
		return nil
	}
	c, err := o.meter.probe.Counts()
	if err != nil {
		return err
	}
	for _, r := range o.ranges {
		rc, _ := c.Range(r.Label)
		fmt.Fprintf(w, "  %s: %d kernel faults (%d not present, %d protection); error codes %s\n", r.Label, rc.Faults, rc.NotPresent, rc.Protection, describeCodes(rc.Tally))
		if e := explain[r.Label]; e != "" {
			fmt.Fprintf(w, "  why: %s\n", e)
		}
	}
	return nil
}

// describeCodes spells error codes out: "0x6 (write, not present) x2".
func describeCodes(t probe.Tally) string {
	var parts []string
	for code, n := range t.ByCode {
		if n == 0 {
			continue
		}
		c := probe.ErrorCode(code)
		kind := "read"
		if c.Write() {
			kind = "write"
		}
		where := "not present"
		if c.Present() {
			where = "present: protection"
		}
		parts = append(parts, fmt.Sprintf("%#x (%s, %s) x%d", code, kind, where, n))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}
