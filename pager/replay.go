package pager

import (
	"context"
	"runtime"
	"sync"
)

// Config is one run: a policy and a frame budget.
type Config struct {
	Policy string
	Frames int
	Options
}

// needsNext reports whether the run's policy reads next uses.
func (c Config) needsNext() bool { return NeedsNext(c.Policy) }

// Result is the outcome of one run.
type Result struct {
	Trace  string
	Policy string
	Frames int
	Stats
}

// newPager returns a simulation pager for cfg. A budget of more frames than
// the trace has distinct pages (when distinct is known, > 0) behaves
// exactly as one of distinct frames, since no page is ever evicted: the
// policy's tables are sized for what can be resident.
func newPager(cfg Config, distinct int) (*Pager, error) {
	pol, err := NewPolicy(cfg.Policy, cfg.Options)
	if err != nil {
		return nil, err
	}
	frames := cfg.Frames
	if distinct > 0 && frames > distinct && frames <= MaxFrames {
		frames = distinct
	}
	return New(pol, frames, nil)
}

// Simulate replays t through a fresh pager in simulation. If step is not
// nil, it is called after each access with the access's index, its outcome
// and the pager, which it must not change (for step tables); without it the
// accesses run in batches. Simulate stops with ctx's error when ctx is done,
// checked every batch of accesses (every 1,024 with step).
func Simulate(ctx context.Context, t *Trace, cfg Config, step func(i int, o Outcome, p *Pager)) (Result, error) {
	p, err := newPager(cfg, t.Distinct())
	if err != nil {
		return Result{}, err
	}
	res := Result{Trace: t.Name(), Policy: cfg.Policy, Frames: cfg.Frames}
	withNext := cfg.needsNext()
	if step == nil {
		if err := p.Replay(ctx, t.Source(0, withNext)); err != nil {
			return Result{}, err
		}
		res.Stats = p.Stats()
		return res, nil
	}
	for i := range t.Len() {
		if i%1024 == 0 {
			if err := ctx.Err(); err != nil {
				return Result{}, err
			}
		}
		r := Ref{Page: t.pages[i], Write: t.writes[i], Time: uint64(i)}
		if withNext {
			r.Next = t.NextUses()[i]
		}
		o, err := p.Access(r)
		if err != nil {
			return Result{}, err
		}
		step(i, o, p)
	}
	res.Stats = p.Stats()
	return res, nil
}

// Sweep runs every configuration on every trace, in simulation, on up to
// workers goroutines (0 means one per CPU). Results come in the order
// trace by trace, then configuration by configuration. The traces are
// shared by every worker: they are immutable.
//
// When ctx is done Sweep stops starting runs, lets the ones under way stop
// at their next batch, and returns the runs that finished, in the same
// order, with ctx's error: they are valid results.
func Sweep(ctx context.Context, traces []*Trace, cfgs []Config, workers int) ([]Result, error) {
	if workers <= 0 {
		workers = runtime.GOMAXPROCS(0)
	}
	for _, cfg := range cfgs {
		if _, err := NewPolicy(cfg.Policy, cfg.Options); err != nil {
			return nil, err
		}
	}
	results := make([]Result, len(traces)*len(cfgs))
	errs := make([]error, len(results))
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range min(workers, len(results)) {
		wg.Go(func() {
			for j := range jobs {
				t, cfg := traces[j/len(cfgs)], cfgs[j%len(cfgs)]
				results[j], errs[j] = Simulate(ctx, t, cfg, nil)
			}
		})
	}
	for j := range results {
		if ctx.Err() != nil {
			errs[j] = ctx.Err()
			continue
		}
		jobs <- j
	}
	close(jobs)
	wg.Wait()
	var done []Result
	for j, err := range errs {
		if err == nil {
			done = append(done, results[j])
			continue
		}
		if ctx.Err() == nil || err != ctx.Err() {
			return nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		return done, err
	}
	return done, nil
}
