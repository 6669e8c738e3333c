package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/sweep"
	"vmsim/traces"
)

// specFlags are the flags that say which jobs a sweep has: its traces
// (with the arguments), how they are read, its policies and frame counts.
// sweep and merge share them, so that merge checks the sweep that ran.
type specFlags struct {
	traceFlags
	policyOptions
	policies, frames, manifest string
	limit                      uint64
}

// addSpecFlags declares the flags of specFlags.
func addSpecFlags(cmd *cobra.Command, f *specFlags) {
	fl := cmd.Flags()
	fl.StringVarP(&f.manifest, "manifest", "m", "", "a `FILE` that lists traces, one path or glob pattern a line, relative to the file's directory (# comments)")
	fl.StringVarP(&f.policies, "policy", "p", "fifo,lru,opt", "comma-separated `POLICIES`, or all")
	fl.StringVarP(&f.frames, "frames", "f", "3", "frame counts: `LIST` like 3,4,8 or a range FROM:TO[:STEP]")
	fl.Uint64Var(&f.limit, "limit", 0, "replay only the first `N` accesses of each trace (0: all)")
	addPolicyOptions(cmd, &f.policyOptions)
	addTraceFlags(cmd, &f.traceFlags)
}

// configs checks the flags and returns the sweep's configurations, in the
// order of records.
func (f specFlags) configs(cmd *cobra.Command) ([]pager.Config, error) {
	if err := f.traceFlags.check(cmd); err != nil {
		return nil, err
	}
	policies, err := pager.ParsePolicies(f.policies)
	if err != nil {
		return nil, usageErrorf(cmd, "--policy: %v", err)
	}
	frames, err := parseFrames(f.frames)
	if err != nil {
		return nil, usageErrorf(cmd, "--frames: %v", err)
	}
	if n := len(policies) * len(frames); n > maxRuns {
		return nil, usageErrorf(cmd, "--policy and --frames make %d jobs per trace (%d policies × %d frame counts), more than %d: choose a coarser --frames range", n, len(policies), len(frames), maxRuns)
	}
	var cfgs []pager.Config
	for _, p := range policies {
		for _, n := range frames {
			cfgs = append(cfgs, pager.Config{Policy: p, Frames: n, Options: f.policyOptions.options()})
		}
	}
	return sweep.SortConfigs(cfgs), nil
}

// decoding returns how the sweep reads its traces.
func (f specFlags) decoding() sweep.Decoding {
	return sweep.Decoding{Format: f.format, PageSize: f.pageSize, NoInstr: f.noInstr, Limit: f.limit}
}

// spec checks the flags and finds the traces (paths and patterns, and
// those of --manifest).
func (f specFlags) spec(cmd *cobra.Command, paths []string) (*sweep.Spec, error) {
	cfgs, err := f.configs(cmd)
	if err != nil {
		return nil, err
	}
	if len(paths) == 0 && f.manifest == "" {
		return nil, usageErrorf(cmd, "no traces: give TRACE arguments (paths or quoted glob patterns) or --manifest FILE")
	}
	for _, p := range paths {
		if p == "-" {
			return nil, usageErrorf(cmd, "a sweep reads files, not standard input (-): it reads each trace twice, to hash it and to replay it")
		}
	}
	ts, err := sweep.Resolve(paths, f.manifest)
	if err != nil {
		return nil, err
	}
	return &sweep.Spec{Traces: ts, Configs: cfgs, Decoding: f.decoding()}, nil
}

type sweepFlags struct {
	specFlags
	shard     string
	resume    string
	plan      bool
	maxMemory string
}

func newSweep() *cobra.Command { return sweepCommand(new(sweepFlags)) }

// sweepCommand is vmsim sweep with its flags parsed into f.
func sweepCommand(f *sweepFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "sweep [flags] [TRACE...]",
		Short: "Replay many traces through many policies, as shards that many machines can share",
		Long: `sweep replays every TRACE (paths, glob patterns that vmsim expands, and the
traces of --manifest) through every policy of --policy with every frame count
of --frames, in simulation, and writes one JSON line per job: one trace, one
policy, one frame count.

Each job has an id that depends only on the trace's bytes (their SHA-256), the
options that read it (--format, --page-size, --no-instr, --limit) and the
configuration (policy, frames, --seed, --tick, --tau): not on file names, nor
on the order of the arguments. So a sweep can be cut in parts that machines
run independently, and put back together by vmsim merge.

--shard I/N runs part I of N (from 0): every job is in exactly one part,
whatever N. The partition reads only the traces' names and sizes, so every
task of a job array, given the same traces and flags, computes the same one.
A trace stays whole in one part, read once for all its configurations,
unless it alone is more than a part's share of the work. Parts are balanced
by bytes × configurations.

Output: JSON Lines on standard output, or appended to FILE with --resume
FILE. --resume FILE first reads FILE (it need not exist), skips every job
whose record is in it, and appends the others, each trace's records in one
write followed by a sync: the same command line starts a shard and restarts
it after a kill, a time limit or a node failure. An incomplete last line
(a kill in the middle of a write) is cut off, with a message; a damaged line
before it stops the run.

Ctrl-C or SIGTERM (what Slurm sends at the time limit) stops a sweep at its
next batch of accesses: the records of the traces finished are on disk, and
vmsim exits with 130 or 143. --plan prints the whole partition into the N
shards of --shard, and runs nothing.

Records: job, then the fields of vmsim replay -o json (trace, policy, frames,
mode, accesses, reads, writes, hits, faults, evictions, writebacks,
protection_faults, miss_ratio), then sha256, seed, tick, tau, format,
page_size, no_instr, limit. See docs/cluster.md for Slurm
job arrays and Kubernetes Indexed Jobs.`,
		Example: `  vmsim sweep -p all -f 4:64:4 traces/*.vmt > results.jsonl
  vmsim sweep -m traces.list -p lru,opt -f 8,16 --shard 0/4 --resume shard-0.jsonl
  vmsim sweep -m traces.list -p all -f 4:64:4 --shard 0/8 --plan
  vmsim merge -m traces.list -p lru,opt -f 8,16 -o all.jsonl shard-*.jsonl`,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSweep(cmd, *f, args)
		},
	}
	addSpecFlags(cmd, &f.specFlags)
	fl := cmd.Flags()
	fl.StringVar(&f.shard, "shard", "0/1", "run part `I/N` of the sweep (I from 0 to N-1)")
	fl.StringVar(&f.resume, "resume", "", "append records to `FILE`, skipping the jobs whose records it has (it need not exist)")
	fl.BoolVar(&f.plan, "plan", false, "print the partition into the N shards of --shard (each shard's passes over traces) and run nothing")
	fl.StringVar(&f.maxMemory, "max-memory", "", "the most memory a trace read whole may take (opt without next uses): a `SIZE` like 4GiB (default: half of this machine's memory)")
	return cmd
}

// checkSweep checks a sweep's command line without reading any file.
func checkSweep(cmd *cobra.Command, f sweepFlags) (sweep.Shard, uint64, error) {
	if _, err := f.configs(cmd); err != nil {
		return sweep.Shard{}, 0, err
	}
	shard, err := sweep.ParseShard(f.shard)
	if err != nil {
		return sweep.Shard{}, 0, usageErrorf(cmd, "--shard: %v", err)
	}
	if f.plan && f.resume != "" {
		return sweep.Shard{}, 0, usageErrorf(cmd, "--plan and --resume: --plan runs nothing, so it has nothing to resume")
	}
	budget, err := memoryBudget(f.maxMemory)
	if err != nil {
		return sweep.Shard{}, 0, usageErrorf(cmd, "--max-memory: %v", err)
	}
	return shard, budget, nil
}

func runSweep(cmd *cobra.Command, f sweepFlags, args []string) error {
	shard, budget, err := checkSweep(cmd, f)
	if err != nil {
		return err
	}
	spec, err := f.spec(cmd, args)
	if err != nil {
		return err
	}
	parts := spec.Partition(shard.Count)
	if f.plan {
		return writePlan(cmd.OutOrStdout(), parts)
	}
	units := parts[shard.Index]
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	emit := func(recs []sweep.Record) error {
		var b []byte
		for _, r := range recs {
			b = r.AppendLine(b)
		}
		_, err := cmd.OutOrStdout().Write(b)
		return err
	}
	var done map[string]bool
	if f.resume != "" {
		// Before hashing: a damaged file stops the run at once.
		out, got, err := sweep.OpenLog(f.resume)
		if err != nil {
			return err
		}
		defer out.Close()
		if got.Torn > 0 {
			fmt.Fprintf(stderr, "vmsim: sweep: %s:%d: an incomplete last line (the run that wrote it was stopped in the middle): cut off, its job runs again\n", f.resume, got.Torn)
		}
		done = make(map[string]bool, len(got.Records))
		for _, r := range got.Records {
			done[r.Job] = true
		}
		emit = out.Append
	}
	var own []*sweep.Trace
	for _, u := range units {
		own = append(own, u.Trace)
	}
	if err := sweep.Hash(ctx, own); err != nil {
		return err
	}

	var cur struct {
		t   *openedTrace
		bar *progress
	}
	sum, err := sweep.Run(ctx, units, sweep.RunOptions{
		Decoding: spec.Decoding,
		Done:     func(id string) bool { return done[id] },
		Emit:     emit,
		Open: func(ctx context.Context, t *sweep.Trace) (traces.Reader, io.Closer, error) {
			ot, err := openTrace(ctx, t.Path, f.traceFlags, nil)
			if err != nil {
				return nil, nil, err
			}
			if f.limit > 0 {
				ot.reader = limited(ot.reader, f.limit)
			}
			cur.t, cur.bar = ot, newProgress(stderr, ot.size, "sweep "+t.Name)
			return ot.reader, closerFunc(func() error { cur.bar.done(); return ot.close() }), nil
		},
		Stream: &pager.StreamOptions{
			Progress: func(uint64) { cur.bar.set(cur.t.read.Load()) },
			Load:     &pager.LoadOptions{MaxBytes: budget},
		},
	})
	if err == nil || isInterrupt(err) {
		fmt.Fprintf(stderr, "vmsim: sweep: shard %v: %s\n", shard, describeRun(sum, f.resume))
	}
	if errors.Is(err, pager.ErrTooLarge) {
		return fmt.Errorf("%w; opt needs the whole trace in memory: raise --max-memory, drop opt from --policy, or replay the first N accesses with --limit N", err)
	}
	return err
}

// describeRun says what a shard did, in a few words.
func describeRun(s sweep.Summary, resume string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: %d run", count(s.Jobs, "job"), s.Ran)
	if s.Done > 0 {
		fmt.Fprintf(&b, ", %d already in %s", s.Done, resume)
	}
	if s.Same > 0 {
		fmt.Fprintf(&b, ", %d the same as another trace's (same bytes)", s.Same)
	}
	if left := s.Jobs - s.Ran - s.Done - s.Same; left > 0 {
		fmt.Fprintf(&b, ", %d left", left)
	}
	return b.String()
}

// writePlan prints the partition: one row per unit (one pass over one
// trace), shard by shard.
func writePlan(w io.Writer, parts [][]sweep.Unit) error {
	t := &table{cols: []column{
		{head: "SHARD", in: inTable}, {head: "TRACE", in: inTable}, {head: "PART", in: inTable}, {head: "JOBS", in: inTable}, {head: "BYTES", in: inTable},
	}}
	for i, units := range parts {
		if len(units) == 0 {
			t.add(i, "-", "-", 0, 0)
		}
		for _, u := range units {
			t.add(i, u.Trace.Name, fmt.Sprintf("%d/%d", u.Part+1, u.Parts), len(u.Configs), u.Trace.Size)
		}
	}
	return t.write(w, "table")
}
