package multi

import (
	"fmt"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/traces/gen"
	"vmsim/vm/arch"
)

// Workload describes the built-in processes of the thrashing figure. Each
// process is a program walking an array in loops: it loops over a window of
// consecutive pages, and the window slides one page further every Slide
// accesses. The windows' lengths are drawn between three quarters and five
// quarters of WorkingSet, and the processes start at random points of a
// slide, so that they do not fault in step. The zero value of each field
// means its default, and the same fields give the same traces on every
// platform: the random numbers are package gen's, seeded with Seed.
//
// Alone, a process faults once a slide, 5 ms for every 1,000 accesses of
// 10 µs at the default costs, and so runs two thirds of the time; two or
// more fill the processor while one waits; a loop over more pages than it
// holds faults at every access under lru, so once the windows no longer
// fit in memory the processor starves.
type Workload struct {
	// Processes is the number of processes; 0 means 10.
	Processes int
	// WorkingSet is the windows' mean length in pages; 0 means 20.
	WorkingSet int
	// Slide is the number of accesses between two slides of a window; 0
	// means 1,000.
	Slide int
	// Accesses is each process's length; 0 means 80,000.
	Accesses int
	// Seed selects the windows' lengths and the starting points.
	Seed uint64
}

// WithDefaults returns w with every zero field set to its default.
func (w Workload) WithDefaults() Workload {
	if w.Processes == 0 {
		w.Processes = 10
	}
	if w.WorkingSet == 0 {
		w.WorkingSet = 20
	}
	if w.Slide == 0 {
		w.Slide = 1000
	}
	if w.Accesses == 0 {
		w.Accesses = 80_000
	}
	return w
}

// String describes the workload in a line.
func (w Workload) String() string {
	w = w.WithDefaults()
	return fmt.Sprintf("%d processes of %d accesses, each a loop over %d±%d pages sliding one page every %d accesses (seed %d)",
		w.Processes, w.Accesses, w.WorkingSet, w.WorkingSet/4, w.Slide, w.Seed)
}

// Traces returns the processes' traces, named P1, P2...
func (w Workload) Traces() ([]*pager.Trace, error) {
	w = w.WithDefaults()
	switch {
	case w.Processes < 1 || w.WorkingSet < 1 || w.Slide < 1 || w.Accesses < 1:
		return nil, fmt.Errorf("%w: workload %+v: every size must be positive", ErrConfig, w)
	case uint64(w.Processes)*uint64(w.Accesses) > 1<<28:
		return nil, fmt.Errorf("%w: workload of more than 2^28 accesses", ErrConfig)
	}
	lo := w.WorkingSet - w.WorkingSet/4
	lens, err := draws(w.Processes, uint64(w.WorkingSet/2+1), w.Seed)
	if err != nil {
		return nil, err
	}
	offsets, err := draws(w.Processes, uint64(w.Slide), w.Seed^0x9e3779b97f4a7c15)
	if err != nil {
		return nil, err
	}
	var out []*pager.Trace
	for k := range w.Processes {
		loop, off := lo+int(lens[k]), int(offsets[k])
		b := pager.NewBuilder(fmt.Sprintf("P%d", k+1))
		b.Grow(w.Accesses)
		for i := range w.Accesses {
			b.Add(arch.PageNum((i+off)/w.Slide+i%loop), false)
		}
		out = append(out, b.Trace())
	}
	return out, nil
}

// draws returns n numbers drawn uniformly from [0, below).
func draws(n int, below, seed uint64) ([]arch.PageNum, error) {
	r, err := gen.New(gen.Uniform, &gen.Options{N: uint64(n), Pages: below, Seed: seed})
	if err != nil {
		return nil, err
	}
	buf := make([]traces.Access, n)
	got, err := r.Read(buf)
	if err != nil || got != n {
		return nil, fmt.Errorf("drawing %d numbers: got %d: %v", n, got, err)
	}
	out := make([]arch.PageNum, n)
	for i, a := range buf {
		out[i] = a.Page
	}
	return out, nil
}
