package probe

import (
	"errors"
	"fmt"
	"runtime"
	"strings"
)

// Source says what counted the faults of a [Measurement].
type Source string

// The sources of a measurement.
const (
	// SourceProbe is the eBPF probe: the faults on each watched range, by
	// error code, user and kernel mode (Options.KernelMode).
	SourceProbe Source = "ebpf"
	// SourcePerf is the measuring thread's perf counters: every user-mode
	// fault of the thread, wherever it is, not split by range or kind.
	SourcePerf Source = "perf"
)

// MeterOptions configure [OpenMeter]. A nil *MeterOptions means the
// defaults.
type MeterOptions struct {
	// Attach chooses the probe's hook; zero is AttachAuto.
	Attach Attach
	// NoProbe does not try the probe: perf counters only.
	NoProbe bool
}

// Meter measures the kernel's own page faults while a function runs: with
// the eBPF probe when this process may load it, else with the perf counters
// of the measuring thread. It is the measurement policy of vmsim's
// --kernel, in one place: try the probe, fall back in plain words, and
// never report a measurement that did not happen.
//
// A Meter measures one window at a time ([Meter.Start] or [Meter.Measure]).
type Meter struct {
	probe *Probe
	// fallback is why the probe is not used; nil with the probe.
	fallback error
}

// NoCounterError is returned by [OpenMeter] when neither the probe nor the
// perf counters can be opened: no kernel fault count can be had at all. It
// matches [ErrPermission] or [ErrNotSupported] as its causes do.
type NoCounterError struct {
	// Probe is why the probe could not be opened (nil with
	// MeterOptions.NoProbe); Perf is why the perf counters could not.
	Probe, Perf error
}

// Error says, in one line, that nothing could count, and why.
func (e *NoCounterError) Error() string {
	var b strings.Builder
	b.WriteString("no kernel page-fault counter could be opened: ")
	if e.Probe != nil {
		b.WriteString(probeWords(e.Probe))
		b.WriteString(", and ")
	}
	b.WriteString("the perf counters were refused: ")
	b.WriteString(perfWords(e.Perf))
	return b.String()
}

// Unwrap returns both causes.
func (e *NoCounterError) Unwrap() []error {
	var errs []error
	for _, err := range []error{e.Probe, e.Perf} {
		if err != nil {
			errs = append(errs, err)
		}
	}
	return errs
}

// OpenMeter opens the probe, counting kernel-mode faults too. Where the
// probe is refused for privilege ([ErrPermission]) or support
// ([ErrNotSupported]), the meter falls back to perf counters
// ([Meter.Fallback] says why, [Meter.Notice] says it to a person), after
// checking that they can be opened; if they cannot either, it fails with a
// [*NoCounterError]. Other errors are returned as they are.
func OpenMeter(opts *MeterOptions) (*Meter, error) {
	var o MeterOptions
	if opts != nil {
		o = *opts
	}
	var probeErr error
	if !o.NoProbe {
		p, err := Open(&Options{Attach: o.Attach, KernelMode: true})
		if err == nil {
			return &Meter{probe: p}, nil
		}
		if !errors.Is(err, ErrPermission) && !errors.Is(err, ErrNotSupported) {
			return nil, err
		}
		probeErr = err
	}
	if err := perfAvailable(); err != nil {
		if errors.Is(err, ErrPermission) || errors.Is(err, ErrNotSupported) {
			return nil, &NoCounterError{Probe: probeErr, Perf: err}
		}
		return nil, err
	}
	m := &Meter{fallback: probeErr}
	if m.fallback == nil {
		m.fallback = errors.New("the probe was not asked for")
	}
	return m, nil
}

// perfAvailable opens and closes the calling thread's perf counters: nil
// if they can be opened, else why not.
func perfAvailable() error {
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	c, err := OpenCounters()
	if err != nil {
		return err
	}
	defer c.Close()
	return c.PerfErr()
}

// Source returns what the meter counts with.
func (m *Meter) Source() Source {
	if m.probe != nil {
		return SourceProbe
	}
	return SourcePerf
}

// Fallback returns why the meter counts with perf counters instead of the
// probe, or nil when it uses the probe. It matches ErrPermission or
// ErrNotSupported.
func (m *Meter) Fallback() error { return m.fallback }

// Notice returns one line for a person that says the probe is not used,
// why, and what is counted instead; empty when the probe is used.
func (m *Meter) Notice() string {
	if m.probe != nil {
		return ""
	}
	return probeWords(m.fallback) + "; counting the faults of the measuring thread with perf counters instead (totals only, not split by view or kind)"
}

// probeWords says in plain words why the probe could not be opened.
func probeWords(err error) string {
	var e *Error
	switch {
	case errors.As(err, &e) && errors.Is(err, ErrPermission) && e.Missing != "":
		return "the eBPF probe needs root: " + e.Missing
	case errors.As(err, &e) && errors.Is(err, ErrPermission):
		return "the eBPF probe was refused (" + strings.TrimPrefix(e.Error(), "kernel probe: ") + ")"
	case errors.As(err, &e) && errors.Is(err, ErrNotSupported) && e.Missing != "":
		return "the eBPF probe cannot run here: it needs " + e.Missing
	}
	return "the eBPF probe cannot run here (" + oneLine(err.Error()) + ")"
}

// perfWords says in plain words why the perf counters could not be
// opened.
func perfWords(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Missing != "" {
		s := "they need " + e.Missing
		if e.Hint != "" {
			s += "; " + e.Hint
		}
		return s
	}
	return oneLine(err.Error())
}

// Close releases the probe, if any.
func (m *Meter) Close() error {
	if m.probe != nil {
		return m.probe.Close()
	}
	return nil
}

// Measurement is what a [Meter] counted over one window.
type Measurement struct {
	// Source is what counted.
	Source Source
	// Counts are the probe's counts per watched range (user and kernel
	// mode); zero when Source is SourcePerf.
	Counts Counts
	// Thread is the change of the measuring thread's counters over the
	// window: perf's (with SourcePerf, Thread.Perf is always true) and
	// getrusage's.
	Thread Sample
}

// Faults returns every fault counted: the probe's total over the ranges,
// or with perf every user-mode fault of the thread.
func (m *Measurement) Faults() uint64 {
	if m.Source == SourceProbe {
		return m.Counts.Total.Faults
	}
	return m.Thread.Faults
}

// Range returns the probe's counts of the range labelled label; false with
// perf counters, which have no ranges, or for an unknown label.
func (m *Measurement) Range(label string) (RangeCounts, bool) {
	if m.Source != SourceProbe {
		return RangeCounts{}, false
	}
	return m.Counts.Range(label)
}

// Window is one measurement under way, on the OS thread of the goroutine
// that started it (see [Meter.Start]).
type Window struct {
	m        *Meter
	ranges   []Range
	counters *Counters
	before   Sample
	stopped  bool
}

// Start begins a window that watches ranges (at most [MaxRanges]; empty
// ones are left out): it locks the calling goroutine to its OS thread (the
// perf counters count one thread) until [Window.Stop], which must run on
// the same goroutine. The accesses to be measured must be made on that
// goroutine.
func (m *Meter) Start(ranges ...Range) (*Window, error) {
	runtime.LockOSThread()
	c, err := OpenCounters()
	if err != nil {
		runtime.UnlockOSThread()
		return nil, err
	}
	if m.probe == nil && c.PerfErr() != nil {
		c.Close()
		runtime.UnlockOSThread()
		return nil, &NoCounterError{Probe: m.fallback, Perf: c.PerfErr()}
	}
	w := &Window{m: m, counters: c}
	for _, r := range ranges {
		if !r.Empty() {
			w.ranges = append(w.ranges, r)
		}
	}
	if err := w.restart(); err != nil {
		c.Close()
		runtime.UnlockOSThread()
		return nil, err
	}
	return w, nil
}

// restart sets the probe's ranges (which resets its counts), then samples
// the thread's counters: the window counts from here, and the system calls
// that set the ranges are not in it.
func (w *Window) restart() error {
	if w.m.probe != nil {
		if err := w.m.probe.SetRanges(w.ranges); err != nil {
			return err
		}
	}
	var err error
	w.before, err = w.counters.Read()
	return err
}

// Watch adds r to the ranges the window counts (at most [MaxRanges]) and
// starts the count again: a window counts from its last Watch, on every
// range (the perf counters have no ranges at all).
func (w *Window) Watch(r Range) error {
	if w.stopped {
		return &Error{Op: "watch", Err: ErrClosed}
	}
	if !r.Empty() {
		w.ranges = append(w.ranges, r)
	}
	return w.restart()
}

// Stop ends the window, returns what was counted since it started or
// since its last Watch, and unlocks the goroutine from its thread. Later
// calls fail with ErrClosed.
func (w *Window) Stop() (*Measurement, error) {
	if w.stopped {
		return nil, &Error{Op: "stop", Err: ErrClosed}
	}
	w.stopped = true
	defer runtime.UnlockOSThread()
	defer w.counters.Close()
	after, err := w.counters.Read()
	if err != nil {
		return nil, err
	}
	ms := &Measurement{Source: w.m.Source(), Thread: after.Sub(w.before)}
	if w.m.probe == nil {
		if !ms.Thread.Perf {
			return nil, fmt.Errorf("perf counters stopped counting: %w", w.counters.PerfErr())
		}
		return ms, nil
	}
	if ms.Counts, err = w.m.probe.Counts(); err != nil {
		return nil, err
	}
	return ms, nil
}

// Measure runs fn on the calling goroutine, locked to its OS thread, and
// counts the kernel's faults during it: with the probe, on each of ranges
// (at most [MaxRanges], empty ones left out); with perf, every user-mode
// fault of the thread. fn's error is returned as it is, with no
// measurement.
func (m *Meter) Measure(ranges []Range, fn func() error) (*Measurement, error) {
	w, err := m.Start(ranges...)
	if err != nil {
		return nil, err
	}
	if err := fn(); err != nil {
		w.Stop()
		return nil, err
	}
	return w.Stop()
}
