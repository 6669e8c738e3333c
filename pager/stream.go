package pager

import (
	"context"
	"errors"
	"fmt"
	"io"
	"runtime"
	"sync"
	"sync/atomic"

	"vmsim/traces"
	"vmsim/vm/arch"
)

// StreamOptions tune [Stream]. A nil *StreamOptions means the defaults.
type StreamOptions struct {
	// Workers is the number of goroutines that simulate; zero means one
	// per CPU (at most one per configuration). Decoding runs on one more.
	Workers int
	// ChunkSize is the number of accesses decoded at a time; zero means
	// 65,536.
	ChunkSize int
	// Progress, if not nil, is called from the decoding goroutine with the
	// number of accesses decoded so far.
	Progress func(accesses uint64)
	// Context, if not nil, stops the replay (with its error) when done.
	Context context.Context
}

// Stream replays the trace read from r through every configuration in
// simulation, decoding each access once: chunks of decoded accesses are
// shared by all configurations, which run in parallel. Memory does not grow
// with the length of the trace, only with its distinct pages; but a
// configuration that needs next uses (opt) makes Stream read the whole trace
// into memory first (13 bytes per access), unless r supplies them
// ([traces.NextReader]).
func Stream(name string, r traces.Reader, cfgs []Config, opts *StreamOptions) ([]Result, error) {
	var o StreamOptions
	if opts != nil {
		o = *opts
	}
	if o.ChunkSize <= 0 {
		o.ChunkSize = 1 << 16
	}
	if o.Workers <= 0 {
		o.Workers = runtime.GOMAXPROCS(0)
	}
	o.Workers = max(1, min(o.Workers, len(cfgs)))
	pols := make([]Policy, len(cfgs))
	needNext := false
	for i, cfg := range cfgs {
		pol, err := NewPolicy(cfg.Policy, cfg.Options)
		if err != nil {
			return nil, err
		}
		if nn, ok := pol.(NeedsNext); ok && nn.NeedsNext() {
			needNext = true
		}
		pols[i] = pol
	}
	nr, hasNext := r.(traces.NextReader)
	if needNext && !hasNext {
		t, err := Load(name, r, o.Progress)
		if err != nil {
			return nil, err
		}
		return Sweep([]*Trace{t}, cfgs, o.Workers)
	}
	// Pagers (and their per-frame arrays) only for the streaming path.
	pagers := make([]*Pager, len(cfgs))
	for i, cfg := range cfgs {
		var err error
		if pagers[i], err = New(pols[i], cfg.Frames, nil); err != nil {
			return nil, err
		}
	}
	if !needNext {
		hasNext = false
	}
	// A dense trace gives ids already: no hash table of page numbers.
	dr, dense := r.(traces.DenseReader)
	if dense {
		if ok, err := dr.Dense(); err != nil || !ok {
			dense = false // not dense, or a bad header that Read reports
		}
	}

	// The decoder fills chunks from a pool and hands each to every worker;
	// the last worker done with a chunk returns it to the pool.
	type shared struct {
		Chunk
		pending atomic.Int32
	}
	const depth = 4
	pool := make(chan *shared, depth)
	for range depth {
		c := &shared{}
		c.Pages = make([]PageID, 0, o.ChunkSize)
		c.Writes = make([]bool, 0, o.ChunkSize)
		if hasNext {
			c.Next = make([]uint64, 0, o.ChunkSize)
		}
		pool <- c
	}
	inputs := make([]chan *shared, o.Workers)
	var wg sync.WaitGroup
	for w := range inputs {
		inputs[w] = make(chan *shared, depth)
		wg.Go(func() {
			for c := range inputs[w] {
				for j := w; j < len(pagers); j += o.Workers {
					pagers[j].Run(&c.Chunk)
				}
				if c.pending.Add(-1) == 0 {
					pool <- c
				}
			}
		})
	}

	ids := traces.NewDense()
	distinct := 0 // of a dense trace
	buf := make([]traces.Access, o.ChunkSize)
	var nextBuf []uint64
	if hasNext {
		nextBuf = make([]uint64, o.ChunkSize)
	}
	var start uint64
	var err error
	for err == nil {
		if o.Context != nil {
			if err = o.Context.Err(); err != nil {
				break
			}
		}
		var n int
		switch {
		case hasNext:
			n, err = nr.ReadNext(buf, nextBuf)
		case dense:
			n, err = dr.ReadDense(buf)
		default:
			n, err = r.Read(buf)
		}
		if n == 0 {
			continue
		}
		c := <-pool
		c.Pages, c.Writes = c.Pages[:n], c.Writes[:n]
		if dense {
			for i, a := range buf[:n] {
				if a.Page >= arch.PageNum(distinct) {
					if a.Page != arch.PageNum(distinct) || distinct == maxPages {
						err = fmt.Errorf("%s: dense id %d after %d pages: %w", name, a.Page, distinct, errNotDense)
						n = i
						break
					}
					distinct++
				}
				c.Pages[i] = PageID(a.Page)
				c.Writes[i] = a.Write
			}
			c.Pages, c.Writes = c.Pages[:n], c.Writes[:n]
			c.Distinct = distinct
		} else {
			if ids.Len() > maxPages-n {
				err = fmt.Errorf("%s: more than %d distinct pages", name, maxPages)
				n = 0
			}
			c.Pages, c.Writes = c.Pages[:n], c.Writes[:n]
			ids.IDs(buf[:n], c.Pages)
			for i, a := range buf[:n] {
				c.Writes[i] = a.Write
			}
			c.Distinct = ids.Len()
		}
		if hasNext {
			c.Next = append(c.Next[:0], nextBuf[:n]...)
		}
		c.Start = start
		start += uint64(n)
		c.pending.Store(int32(o.Workers))
		for _, in := range inputs {
			in <- c
		}
		if o.Progress != nil {
			o.Progress(start)
		}
	}
	for _, in := range inputs {
		close(in)
	}
	wg.Wait()
	if !errors.Is(err, io.EOF) {
		return nil, err
	}
	results := make([]Result, len(cfgs))
	for i, cfg := range cfgs {
		results[i] = Result{Trace: name, Policy: cfg.Policy, Frames: cfg.Frames, Stats: pagers[i].Stats()}
	}
	return results, nil
}

// errNotDense is wrapped by the error for a dense reader whose ids skip.
var errNotDense = errors.New("ids must be given in order")

// maxPages is the most distinct pages a trace may have: ids are uint32.
const maxPages = 1<<32 - 2

// Load reads a whole trace into memory with dense page ids (5 bytes per
// access, plus next uses if r supplies them). A reader that knows its count
// ([traces.Counter]) gets its memory sized once: growing slices by appending
// would hold old and new arrays at once.
func Load(name string, r traces.Reader, progress func(uint64)) (*Trace, error) {
	b := NewBuilder(name)
	if c, ok := r.(traces.Counter); ok {
		// A header can lie (or be damaged): trust it up to 2^27 accesses
		// (640 MiB of ids and flags); past that, slices grow as read.
		if n, ok := c.Count(); ok {
			n = min(n, 1<<27)
			b.t.Pages = make([]PageID, 0, n)
			b.t.Writes = make([]bool, 0, n)
		}
	}
	buf := make([]traces.Access, 1<<16)
	nr, hasNext := r.(traces.NextReader)
	var next, nextBuf []uint64
	if hasNext {
		nextBuf = make([]uint64, len(buf))
	}
	dr, dense := r.(traces.DenseReader)
	if dense {
		if ok, err := dr.Dense(); err != nil || !ok || hasNext {
			dense = false // not dense, or a bad header that Read reports
		}
	}
	for {
		var n int
		var err error
		switch {
		case hasNext:
			n, err = nr.ReadNext(buf, nextBuf)
			next = append(next, nextBuf[:n]...)
		case dense:
			n, err = dr.ReadDense(buf)
		default:
			n, err = r.Read(buf)
		}
		if b.ids.Len() > maxPages-n {
			return nil, fmt.Errorf("%s: more than %d distinct pages", name, maxPages)
		}
		if dense {
			if derr := b.addDense(buf[:n], dr.Pages()); derr != nil {
				return nil, fmt.Errorf("%s: %w", name, derr)
			}
		} else {
			b.addBatch(buf[:n])
		}
		if progress != nil && n > 0 {
			progress(uint64(b.t.Len()))
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, err
		}
	}
	t := b.Trace()
	if hasNext {
		if err := t.SetNext(next); err != nil {
			return nil, err
		}
	}
	return t, nil
}
