package main

import (
	"context"
	"fmt"
	"io"
	"strings"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/pager/plain"
	"vmsim/vm/arch"
	"vmsim/vm/probe"
)

// kernelFaults are the kernel's own page faults during a run (JSON field
// kernel_faults): a probe.Measurement in the output's terms.
type kernelFaults struct {
	// Source is "ebpf" (the probe: faults on the watched views only, user
	// and kernel mode) or "perf" (without privilege: every user-mode fault
	// of the replaying thread, not split by view or kind).
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

// Labels of the views in a measurement of real mode.
const (
	programView = "program"
	secondView  = "second"
)

// newKernelFaults converts a measurement whose program's view is labelled
// program (and second view, if any, secondView).
func newKernelFaults(ms *probe.Measurement, program string) *kernelFaults {
	kf := &kernelFaults{Source: string(ms.Source), Total: ms.Faults(), Minflt: ms.Thread.ThreadMinor, Majflt: ms.Thread.ThreadMajor}
	if ms.Source != probe.SourceProbe {
		return kf
	}
	kf.NotPresent, kf.Protection = ms.Counts.Total.NotPresent, ms.Counts.Total.Protection
	if r, ok := ms.Range(program); ok {
		kf.Program = viewFaults{r.NotPresent, r.Protection}
	}
	if r, ok := ms.Range(secondView); ok {
		kf.Second = viewFaults{r.NotPresent, r.Protection}
	}
	return kf
}

// kernelMeter is the meter of --kernel and --mode kernel.
type kernelMeter = probe.Meter

// openKernelMeter opens the meter: the probe, or perf counters with one
// line on stderr that says why; an error when nothing can count.
func openKernelMeter(stderr io.Writer) (*kernelMeter, error) {
	m, err := probe.OpenMeter(nil)
	if err != nil {
		return nil, err
	}
	if n := m.Notice(); n != "" {
		fmt.Fprintf(stderr, "vmsim: %s\n", n)
	}
	return m, nil
}

// replayKernel runs a trace on plain memory (--mode kernel) and gives the
// row of the output contract: policy "kernel", and frames the pages it ran
// on (all of them: the kernel pages with no budget).
func replayKernel(ctx context.Context, t *pager.Trace, m *kernelMeter) (row, error) {
	res, err := plain.Replay(ctx, t, m)
	if err != nil {
		return row{}, err
	}
	st := pager.Stats{
		Accesses:         res.Accesses,
		Reads:            res.Reads,
		Writes:           res.Writes,
		Faults:           res.FirstTouches(),
		ProtectionFaults: res.ProtectionFaults(),
	}
	st.Hits = st.Accesses - min(st.Faults, st.Accesses)
	return row{Result: pager.Result{Trace: res.Trace, Policy: "kernel", Frames: res.Pages, Stats: st}, Mode: "kernel", KernelFaults: newKernelFaults(res.Kernel, plain.Label)}, nil
}

// measureReal runs a real-mode replay under the meter, watching the
// program's view and the second view.
func measureReal(ctx context.Context, lp *live.Pager, src pager.Source, m *kernelMeter) (live.Stats, *kernelFaults, error) {
	var st live.Stats
	ms, err := m.Measure([]probe.Range{{Label: programView, Range: lp.Range()}, {Label: secondView, Range: lp.SecondView()}}, func() error {
		var err error
		st, err = lp.Replay(ctx, src)
		return err
	})
	if err != nil {
		return st, nil, err
	}
	return st, newKernelFaults(ms, programView), nil
}

// kernelObserver is an exercise.Observer that counts the kernel's faults on
// what the exercise watches: with the probe, per label and error code; with
// perf counters, the thread's total.
type kernelObserver struct {
	meter  *probe.Meter
	window *probe.Window
	labels []string
}

// newKernelObserver opens the meter and starts its window, which locks the
// calling goroutine to its thread until Report or Close.
func newKernelObserver(stderr io.Writer) (*kernelObserver, error) {
	m, err := openKernelMeter(stderr)
	if err != nil {
		return nil, err
	}
	w, err := m.Start()
	if err != nil {
		m.Close()
		return nil, err
	}
	return &kernelObserver{meter: m, window: w}, nil
}

func (o *kernelObserver) Close() error {
	if o.window != nil {
		o.window.Stop()
	}
	return o.meter.Close()
}

// Watch implements exercise.Observer.
func (o *kernelObserver) Watch(label string, r arch.Range) error {
	o.labels = append(o.labels, label)
	return o.window.Watch(probe.Range{Label: label, Range: r})
}

// Report implements exercise.Observer.
func (o *kernelObserver) Report(w io.Writer, explain map[string]string) error {
	ms, err := o.window.Stop()
	o.window = nil
	if err != nil {
		return err
	}
	fmt.Fprintln(w, "\nThe kernel's own page faults (--kernel):")
	if ms.Source != probe.SourceProbe {
		fmt.Fprintf(w, "  this thread: %d faults (perf counters: every user-mode fault of the thread, not only the exercise's page), %d of them signals\n", ms.Thread.Faults, ms.Thread.Signals())
		return nil
	}
	for _, label := range o.labels {
		rc, _ := ms.Range(label)
		fmt.Fprintf(w, "  %s: %d kernel faults (%d not present, %d protection); error codes %s\n", label, rc.Faults, rc.NotPresent, rc.Protection, describeCodes(rc.Tally))
		if e := explain[label]; e != "" {
			fmt.Fprintf(w, "  why: %s\n", e)
		}
	}
	return nil
}

// describeCodes spells error codes out: "0x6 (write, not present) x2",
// with "kernel mode" for the faults a system call took.
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
		if !c.User() {
			where += ", kernel mode"
		}
		parts = append(parts, fmt.Sprintf("%#x (%s, %s) x%d", code, kind, where, n))
	}
	if parts == nil {
		return "none"
	}
	return strings.Join(parts, ", ")
}
