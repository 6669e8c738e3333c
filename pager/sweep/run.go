package sweep

import (
	"context"
	"errors"
	"io"

	"vmsim/pager"
	"vmsim/traces"
)

// RunOptions tell [Run] how to read traces and where records go.
type RunOptions struct {
	Decoding
	// Open opens a trace for reading, as Decoding says (Limit included).
	// The Closer is called once the pass is over.
	Open func(ctx context.Context, t *Trace) (traces.Reader, io.Closer, error)
	// Done reports whether a job is done already (its record is in the
	// resumed file); nil means none is.
	Done func(id string) bool
	// Emit receives each unit's records as soon as its pass is over, in
	// the order of records; an error stops Run.
	Emit func([]Record) error
	// Stream tunes each pass; nil means the defaults.
	Stream *pager.StreamOptions
	// Started, if not nil, is called before each pass with the unit and
	// the number of its jobs that run.
	Started func(u Unit, jobs int)
}

// Summary counts what [Run] did.
type Summary struct {
	// Jobs are all the jobs of the units; Done those skipped as already
	// done; Same those skipped as another trace's with the same bytes; Ran
	// those run and emitted. Jobs - Done - Same - Ran are left when Run
	// stops early.
	Jobs, Done, Same, Ran int
	// Passes are the passes over traces made.
	Passes int
}

// Run runs the jobs of units (one shard's), unit after unit, one pass over
// the trace for each unit through [pager.Stream]. The units' traces must
// be hashed. A job that is done, or that an earlier unit of the same bytes
// has, is skipped; a unit with no job left is not read.
//
// When ctx is done, Run stops at the next batch of accesses with ctx's
// error: the records emitted so far are whole units (and, for a trace read
// whole, the runs of the unit under way that finished).
func Run(ctx context.Context, units []Unit, o RunOptions) (Summary, error) {
	var sum Summary
	for _, u := range units {
		sum.Jobs += len(u.Configs)
	}
	claimed := map[string]bool{}
	for _, u := range units {
		var todo []Job
		for _, j := range u.Jobs(o.Decoding) {
			id := j.ID()
			switch {
			case o.Done != nil && o.Done(id):
				sum.Done++
			case claimed[id]:
				sum.Same++
			default:
				claimed[id] = true
				todo = append(todo, j)
			}
		}
		if len(todo) == 0 {
			continue
		}
		if err := ctx.Err(); err != nil {
			return sum, err
		}
		if o.Started != nil {
			o.Started(u, len(todo))
		}
		recs, err := pass(ctx, u.Trace, todo, o)
		sum.Passes++
		if len(recs) > 0 {
			if eerr := o.Emit(recs); eerr != nil {
				return sum, eerr
			}
			sum.Ran += len(recs)
		}
		if err != nil {
			return sum, err
		}
	}
	return sum, nil
}

// pass replays one trace through the configurations of jobs and returns
// their records; on cancellation, those of the runs that finished.
func pass(ctx context.Context, t *Trace, jobs []Job, o RunOptions) ([]Record, error) {
	r, closer, err := o.Open(ctx, t)
	if err != nil {
		return nil, err
	}
	cfgs := make([]pager.Config, len(jobs))
	for i, j := range jobs {
		cfgs[i] = j.Config
	}
	results, err := pager.Stream(ctx, t.Name, r, cfgs, o.Stream)
	if cerr := closer.Close(); err == nil {
		err = cerr
	}
	if err != nil && !errors.Is(err, ctx.Err()) {
		return nil, err
	}
	if err == nil {
		recs := make([]Record, len(jobs))
		for i, res := range results {
			recs[i] = NewRecord(jobs[i], res.Stats)
		}
		return recs, nil
	}
	// Cancelled: a trace read whole gives the runs that finished, in
	// order. Policy and frames say which each is, unless two
	// configurations differ only in their options.
	type key struct {
		policy string
		frames int
	}
	at := map[key]int{}
	for i, j := range jobs {
		k := key{j.Policy, j.Frames}
		if _, dup := at[k]; dup {
			return nil, err
		}
		at[k] = i
	}
	var recs []Record
	for _, res := range results {
		if i, ok := at[key{res.Policy, res.Frames}]; ok {
			recs = append(recs, NewRecord(jobs[i], res.Stats))
		}
	}
	return recs, err
}
