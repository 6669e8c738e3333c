package pager

import (
	"context"
	"errors"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"vmsim/traces"
)

// StreamOptions tune [Stream]. A nil *StreamOptions means the defaults.
type StreamOptions struct {
	// Workers is the number of goroutines that simulate; zero means one
	// per CPU (at most one per configuration). Decoding runs on one more.
	Workers int
	// ChunkSize is the number of accesses decoded at a time; zero means
	// 65,536 for each pager a worker runs, up to 16 of them.
	ChunkSize int
	// Progress, if not nil, is called from the decoding goroutine with the
	// number of accesses decoded so far.
	Progress func(accesses uint64)
	// Load bounds the memory of a trace that must be read whole (see
	// [Stream]); nil means no bound.
	Load *LoadOptions
}

// Stream replays the trace read from r through every configuration in
// simulation, decoding each access once: batches of decoded accesses are
// shared by all configurations, which run in parallel. Memory does not grow
// with the length of the trace, only with its distinct pages; but a
// configuration that needs next uses (opt) makes Stream read the whole
// trace into memory first ([Load], bounded by opts.Load), unless r supplies
// them ([traces.NextReader]).
//
// When ctx is done, Stream stops at the next batch with ctx's error; the
// results of a trace read whole are those of [Sweep].
func Stream(ctx context.Context, name string, r traces.Reader, cfgs []Config, opts *StreamOptions) ([]Result, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Workers = max(1, min(o.Workers, len(cfgs)))
	needNext := false
	for _, cfg := range cfgs {
		if _, err := NewPolicy(cfg.Policy, cfg.Options); err != nil {
			return nil, err
		}
		needNext = needNext || cfg.needsNext()
	}
	if _, hasNext := r.(traces.NextReader); needNext && !hasNext {
		lo := LoadOptions{Progress: o.Progress}
		if o.Load != nil {
			lo = *o.Load
			lo.Progress = o.Progress
		}
		t, err := Load(ctx, name, r, &lo)
		if err != nil {
			return nil, err
		}
		return Sweep(ctx, []*Trace{t}, cfgs, o.Workers)
	}
	pagers := make([]*Pager, len(cfgs))
	for i, cfg := range cfgs {
		var err error
		if pagers[i], err = newPager(cfg, 0); err != nil {
			return nil, err
		}
	}
	if o.ChunkSize <= 0 {
		// Each worker runs its pagers one after the other on a batch. With
		// several, each pager's tables (megabytes on a large trace) are
		// pushed out of the cache by the others' at every switch: larger
		// batches make fewer switches. Up to 16 times the default: a
		// million accesses a batch, about 40 MB with the decoder's buffer
		// and the pool's four batches (70 MB with next uses), beside the
		// pagers' own tables, which are the larger part of such a run.
		perWorker := (len(pagers) + o.Workers - 1) / o.Workers
		o.ChunkSize = defaultBatch * min(perWorker, 16)
	}
	dec := NewDecoder(name, r, &DecoderOptions{BatchSize: o.ChunkSize, Next: needNext, Progress: o.Progress})
	if err := streamBatches(ctx, dec, pagers, o.Workers); err != nil {
		return nil, err
	}
	results := make([]Result, len(cfgs))
	for i, cfg := range cfgs {
		results[i] = Result{Trace: name, Policy: cfg.Policy, Frames: cfg.Frames, Stats: pagers[i].Stats()}
	}
	return results, nil
}

// streamBatches decodes batches from dec and hands each to every worker;
// worker w runs pagers w, w+workers, ... on it. The last worker done with a
// batch returns it to the pool.
func streamBatches(ctx context.Context, dec *Decoder, pagers []*Pager, workers int) error {
	type shared struct {
		Batch
		pending atomic.Int32
	}
	const depth = 4
	pool := make(chan *shared, depth)
	for range depth {
		pool <- &shared{}
	}
	inputs := make([]chan *shared, workers)
	var wg sync.WaitGroup
	for w := range inputs {
		inputs[w] = make(chan *shared, depth)
		wg.Go(func() {
			for c := range inputs[w] {
				for j := w; j < len(pagers); j += workers {
					// A simulation pager has no Backend: run cannot fail.
					pagers[j].run(&c.Batch)
				}
				if c.pending.Add(-1) == 0 {
					pool <- c
				}
			}
		})
	}
	var err error
	for {
		if err = ctx.Err(); err != nil {
			break
		}
		c := <-pool
		if err = dec.Fill(&c.Batch); err != nil {
			break
		}
		c.pending.Store(int32(workers))
		for _, in := range inputs {
			in <- c
		}
	}
	for _, in := range inputs {
		close(in)
	}
	wg.Wait()
	if errors.Is(err, io.EOF) {
		return nil
	}
	return err
}
