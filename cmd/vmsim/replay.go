package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/traces"
)

type replayFlags struct {
	traceFlags
	policyOptions
	outputFlags
	policies  string
	frames    string
	mode      string
	mechanism string
	kernel    bool
	limit     uint64
	maxMemory string
}

// maxRuns bounds the runs of one replay (policies × frame counts): each is
// a pager kept for the whole trace. Past it, a miss-ratio curve (mrc) says
// more for LRU, and a coarser --frames range for the others.
const maxRuns = 10_000

// realPages is the region real mode reserves when it streams a trace whose
// distinct pages are not known in advance: address space only (256 GiB of 4
// KiB pages), of which only the frames are ever in memory.
const realPages = 1 << 26

func newReplay() *cobra.Command {
	var f replayFlags
	cmd := &cobra.Command{
		Use:   "replay [flags] TRACE...",
		Short: "Replay page traces through replacement policies, simulated or on real memory",
		Long: `replay runs each TRACE (a file, or - for standard input) through every policy of
--policy with every frame count of --frames, and prints one row per run.

--mode sim (the default) only counts. --mode real replays the trace on real
memory: a region of one page per distinct page of the trace, every page
PROT_NONE at first; each access is a real load or store, each fault a real
hardware fault caught in user space (user_faults). The same pager decides in
both modes, so faults, evictions, writebacks and protection_faults agree.
--mode kernel touches plain memory and lets the kernel page it, counting its
faults with eBPF (as root) or perf counters.

Counters: faults are accesses to a page that is not resident (cold ones
included); protection faults are first writes to a clean resident page; a
write that faults loads its page dirty at once. Writebacks are dirty
victims saved to the backing store.

Memory: a replay keeps what the policies need per page, not the trace,
except opt (Belady's optimal), which needs each access's next use: unless
the format carries them (oracle), opt reads the whole trace into memory
first, 13 bytes per access, up to --max-memory. --limit N replays only the
first N accesses.

Ctrl-C (or SIGTERM, SIGHUP) stops a replay at its next batch of accesses:
the rows already finished are printed, and vmsim exits with 130 (143, 129).

The pages format: page numbers (decimal or 0x hex) separated by spaces or
commas, each optionally followed by w (write) or r (read); # comments.

Policies: ` + strings.Join(pager.Policies(), ", ") + ` (or all).`,
		Example: `  echo 1,2,3,4,1,2,5,1,2,3,4,5 | vmsim replay -p fifo -f 3,4 -
  vmsim replay -p all -f 4:64:4 -o csv trace.pages
  vmsim replay --mode real --mechanism remap -p lru -f 8 -o json trace.pages
  vmsim replay -p opt -f 1000 --max-memory 2GiB big.vmt.zst`,
		Args: minArgs(1, "TRACE (a file, or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runReplay(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.policies, "policy", "p", "fifo,lru,opt", "comma-separated `POLICIES`, or all")
	fl.StringVarP(&f.frames, "frames", "f", "3", "frame counts: `LIST` like 3,4,8 or a range FROM:TO[:STEP]")
	fl.StringVar(&f.mode, "mode", "sim", "sim (count only), real (real memory, faults caught in user space) or kernel (plain memory: the kernel's own demand paging, counted with eBPF)")
	fl.BoolVar(&f.kernel, "kernel", false, "real mode: also count the kernel's own page faults (eBPF as root, else perf counters)")
	fl.StringVar(&f.mechanism, "mechanism", "mprotect", "real mode: "+strings.Join(live.Mechanisms(), ", ")+" (uffd: userfaultfd, no per-page mappings, so no vm.max_map_count bound)")
	fl.Uint64Var(&f.limit, "limit", 0, "replay only the first `N` accesses of each trace (0: all)")
	fl.StringVar(&f.maxMemory, "max-memory", "", "most memory a trace read whole may take (opt without next uses), like 4GiB or 500MB (default: half of this machine's memory)")
	addPolicyOptions(cmd, &f.policyOptions)
	addOutputFlags(cmd, &f.outputFlags, []string{"table", "json", "csv"}, "faults against frames, a line per policy,")
	addTraceFlags(cmd, &f.traceFlags)
	return cmd
}

// replayRun is what one replay command does, checked.
type replayRun struct {
	cmd    *cobra.Command
	flags  replayFlags
	cfgs   []pager.Config
	mech   live.Mechanism
	budget uint64
	meter  *kernelMeter
}

func runReplay(cmd *cobra.Command, f replayFlags, args []string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	policies, err := pager.ParsePolicies(f.policies)
	if err != nil {
		return usageErrorf(cmd, "--policy: %v", err)
	}
	frames, err := parseFrames(f.frames)
	if err != nil {
		return usageErrorf(cmd, "--frames: %v", err)
	}
	if n := len(policies) * len(frames); n > maxRuns {
		return usageErrorf(cmd, "--policy and --frames make %d runs (%d policies × %d frame counts), more than %d: choose a coarser --frames range, or use vmsim mrc for LRU at every frame count", n, len(policies), len(frames), maxRuns)
	}
	run := &replayRun{cmd: cmd, flags: f}
	switch f.mode {
	case "sim":
		if cmd.Flags().Changed("mechanism") {
			return usageErrorf(cmd, "--mechanism applies to --mode real only")
		}
	case "real":
		if run.mech, err = live.ParseMechanism(f.mechanism); err != nil {
			return usageErrorf(cmd, "--mechanism: %v", err)
		}
	case "kernel":
		for _, name := range []string{"policy", "frames", "mechanism", "kernel", "seed", "tick", "tau"} {
			if cmd.Flags().Changed(name) {
				return usageErrorf(cmd, "--%s does not apply to --mode kernel: the kernel pages plain memory with its own policy and no frame budget", name)
			}
		}
	default:
		return usageErrorf(cmd, "--mode %q: want sim, real or kernel", f.mode)
	}
	if f.kernel && f.mode != "real" {
		return usageErrorf(cmd, "--kernel needs --mode real (simulation has no memory for the kernel to fault on)")
	}
	if err := f.outputFlags.check(cmd); err != nil {
		return err
	}
	if stdins := len(args) - len(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-" })); stdins > 1 {
		return usageErrorf(cmd, "standard input (-) can be read only once")
	}
	if run.budget, err = memoryBudget(f.maxMemory); err != nil {
		return usageErrorf(cmd, "--max-memory: %v", err)
	}
	for _, p := range policies {
		for _, n := range frames {
			run.cfgs = append(run.cfgs, pager.Config{Policy: p, Frames: n, Options: f.policyOptions.options()})
		}
	}
	if f.mode == "real" {
		// Check the largest budget once, so that the run cannot stop half
		// way at the map limit with finished rows lost.
		if err := live.CheckRun(run.mech, realPages, slices.Max(frames)); err != nil {
			return fmt.Errorf("real mode: %w", err)
		}
	}
	if f.kernel || f.mode == "kernel" {
		if run.meter, err = openKernelMeter(cmd.ErrOrStderr()); err != nil {
			return err
		}
		defer run.meter.Close()
	}
	var rows []row
	for _, path := range args {
		var got []row
		var err error
		switch f.mode {
		case "sim":
			got, err = run.sim(path)
		case "real":
			got, err = run.real(path)
		case "kernel":
			got, err = run.plainCell(path)
		}
		rows = append(rows, got...)
		if err != nil {
			if isInterrupt(err) && len(rows) > 0 {
				// The rows that finished are valid: print them.
				if werr := writeRows(cmd.OutOrStdout(), f.output, rows); werr != nil {
					return werr
				}
			}
			return run.explain(err)
		}
	}
	if err := writeRows(cmd.OutOrStdout(), f.output, rows); err != nil {
		return err
	}
	if f.plot != "" {
		return plotFaults(f.plot, rows, len(args) > 1, f.plotFlags.options(cmd))
	}
	return nil
}

// explain adds what to do to an error a user can act on.
func (r *replayRun) explain(err error) error {
	if errors.Is(err, pager.ErrTooLarge) {
		return fmt.Errorf("%w; opt needs the whole trace in memory: raise --max-memory, drop opt from --policy, or replay the first N accesses with --limit N", err)
	}
	return err
}

// open opens a trace for reading, cut at --limit accesses.
func (r *replayRun) open(path string) (*openedTrace, error) {
	t, err := openTrace(r.cmd.Context(), path, r.flags.traceFlags, r.cmd.InOrStdin())
	if err != nil {
		return nil, err
	}
	if r.flags.limit > 0 {
		t.reader = limited(t.reader, r.flags.limit)
	}
	return t, nil
}

// load reads a whole trace into memory, within the budget, with a progress
// bar on a terminal.
func (r *replayRun) load(path string) (*pager.Trace, error) {
	t, err := r.open(path)
	if err != nil {
		return nil, err
	}
	defer t.close()
	bar := newProgress(r.cmd.ErrOrStderr(), t.size, "load "+path)
	defer bar.done()
	return pager.Load(r.cmd.Context(), path, t.reader, &pager.LoadOptions{
		MaxBytes: r.budget,
		Progress: func(uint64) { bar.set(t.read.Load()) },
	})
}

// sim replays one trace through every configuration, decoding it once.
func (r *replayRun) sim(path string) ([]row, error) {
	t, err := r.open(path)
	if err != nil {
		return nil, err
	}
	defer t.close()
	bar := newProgress(r.cmd.ErrOrStderr(), t.size, "replay "+path)
	defer bar.done()
	results, err := pager.Stream(r.cmd.Context(), path, t.reader, r.cfgs, &pager.StreamOptions{
		Progress: func(uint64) { bar.set(t.read.Load()) },
		Load:     &pager.LoadOptions{MaxBytes: r.budget},
	})
	rows := make([]row, len(results))
	for i, res := range results {
		rows[i] = row{Result: res, Mode: "sim"}
	}
	return rows, err
}

// real replays one trace on real memory, configuration by configuration.
// It streams the trace (reading it again for each configuration) unless a
// policy needs next uses or the trace is standard input read by several
// configurations: then it reads it whole once.
func (r *replayRun) real(path string) ([]row, error) {
	whole := path == "-" && len(r.cfgs) > 1
	for _, cfg := range r.cfgs {
		whole = whole || pager.NeedsNext(cfg.Policy)
	}
	var t *pager.Trace
	if whole {
		var err error
		if t, err = r.load(path); err != nil {
			return nil, err
		}
	}
	var rows []row
	for _, cfg := range r.cfgs {
		if err := r.cmd.Context().Err(); err != nil {
			return rows, err
		}
		var rw row
		var err error
		if t != nil {
			bar := newCountProgress(r.cmd.ErrOrStderr(), int64(t.Len()), "real "+cfg.Policy+" "+path)
			src := &progressSource{Source: t.Source(0, pager.NeedsNext(cfg.Policy)), bar: bar}
			rw, err = replayReal(r.cmd.Context(), path, t.Distinct(), src, cfg, r.mech, r.meter)
			bar.done()
		} else {
			rw, err = r.realStream(path, cfg)
		}
		if err != nil {
			return rows, err
		}
		rows = append(rows, rw)
	}
	return rows, nil
}

// realStream replays one configuration on real memory as the trace is
// read.
func (r *replayRun) realStream(path string, cfg pager.Config) (row, error) {
	t, err := r.open(path)
	if err != nil {
		return row{}, err
	}
	defer t.close()
	bar := newProgress(r.cmd.ErrOrStderr(), t.size, "real "+cfg.Policy+" "+path)
	defer bar.done()
	dec := pager.NewDecoder(path, t.reader, &pager.DecoderOptions{Progress: func(uint64) { bar.set(t.read.Load()) }})
	return replayReal(r.cmd.Context(), path, realPages, dec, cfg, r.mech, r.meter)
}

// progressSource reports the accesses given so far to a progress bar.
type progressSource struct {
	pager.Source
	bar  *progress
	done int64
}

func (s *progressSource) Next() (*pager.Batch, error) {
	b, err := s.Source.Next()
	if b != nil {
		s.done += int64(b.Len())
		s.bar.set(s.done)
	}
	return b, err
}

// plain replays one trace on plain memory, the kernel's demand paging.
func (r *replayRun) plainCell(path string) ([]row, error) {
	t, err := r.load(path)
	if err != nil {
		return nil, err
	}
	rw, err := replayKernel(r.cmd.Context(), t, r.meter)
	if err != nil {
		return nil, err
	}
	return []row{rw}, nil
}

// replayReal replays the accesses of src on a region of pages pages, under
// the kernel meter if not nil.
func replayReal(ctx context.Context, name string, pages int, src pager.Source, cfg pager.Config, mech live.Mechanism, meter *kernelMeter) (row, error) {
	pol, err := pager.NewPolicy(cfg.Policy, cfg.Options)
	if err != nil {
		return row{}, err
	}
	lp, err := live.New(max(pages, 1), pol, cfg.Frames, &live.Options{Mechanism: mech})
	if err != nil {
		return row{}, fmt.Errorf("real mode, %d frames: %w", cfg.Frames, err)
	}
	var st live.Stats
	var kf *kernelFaults
	if meter != nil {
		st, kf, err = measureReal(ctx, lp, src, meter)
	} else {
		st, err = lp.Replay(ctx, src)
	}
	if cerr := lp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		if isInterrupt(err) {
			return row{}, err
		}
		return row{}, fmt.Errorf("real mode, %s, %s, %d frames: %w", name, cfg.Policy, cfg.Frames, err)
	}
	uf := st.UserFaults
	return row{Result: pager.Result{Trace: name, Policy: cfg.Policy, Frames: cfg.Frames, Stats: st.Stats}, Mode: "real", Mechanism: mech.String(), UserFaults: &uf, KernelFaults: kf}, nil
}

// plotFaults draws faults against frames, one line per trace and policy.
func plotFaults(path string, rows []row, manyTraces bool, o plotOptions) error {
	var lines []series
	index := map[string]int{}
	for _, r := range rows {
		name := r.Policy
		if manyTraces {
			name = r.Trace + ": " + r.Policy
		}
		if r.Mode == "real" {
			name += " (real)"
		}
		i, ok := index[name]
		if !ok {
			i = len(lines)
			index[name] = i
			lines = append(lines, series{name: name})
		}
		lines[i].xs = append(lines[i].xs, float64(r.Frames))
		lines[i].ys = append(lines[i].ys, float64(r.Faults))
	}
	title := "Faults against frames"
	if !manyTraces && len(rows) > 0 {
		title += ": " + rows[0].Trace
	}
	return writePlotWith(path, title, "frames", "faults", lines, o)
}

// row is one line of output: the contract of -o json (DESIGN.md).
type row struct {
	pager.Result
	Mode         string
	Mechanism    string
	UserFaults   *uint64
	KernelFaults *kernelFaults
}

// replayColumns are replay's columns in every format (the JSON names are a
// contract: DESIGN.md).
var replayColumns = []column{
	{head: "TRACE", key: "trace", in: inAll},
	{head: "POLICY", key: "policy", in: inAll},
	{head: "FRAMES", key: "frames", in: inAll},
	{head: "MODE", key: "mode", in: inAll},
	{head: "ACCESSES", key: "accesses", in: inAll},
	{key: "reads", in: inJSON | inCSV},
	{key: "writes", in: inJSON | inCSV},
	{head: "HITS", key: "hits", in: inAll},
	{head: "FAULTS", key: "faults", in: inAll},
	{head: "MISS%", in: inTable, cell: percent},
	{head: "EVICTIONS", key: "evictions", in: inAll},
	{head: "WRITEBACKS", key: "writebacks", in: inAll},
	{head: "PROT-FAULTS", key: "protection_faults", in: inAll},
	{key: "miss_ratio", in: inJSON | inCSV},
	{key: "mechanism", in: inJSON | inCSV, optional: true},
	{head: "USER-FAULTS", key: "user_faults", in: inAll, optional: true},
	{key: "kernel_faults", in: inJSON, optional: true},
	{head: "KERNEL-FAULTS", key: "kernel_source", in: inTable | inCSV, optional: true, cell: kernelCell(0), csvCell: kernelField(0)},
	{key: "kernel_faults", in: inCSV, optional: true, csvCell: kernelField(1)},
	{key: "kernel_not_present", in: inCSV, optional: true, csvCell: kernelField(2)},
	{key: "kernel_protection", in: inCSV, optional: true, csvCell: kernelField(3)},
	{key: "kernel_program_view", in: inCSV, optional: true, csvCell: kernelField(4)},
	{head: "SECOND-VIEW", key: "kernel_second_view", in: inTable | inCSV, optional: true, cell: kernelCell(1), csvCell: kernelField(5)},
	{head: "MINFLT", key: "rusage_minflt", in: inTable | inCSV, optional: true, cell: kernelCell(2), csvCell: kernelField(6)},
	{head: "MAJFLT", key: "rusage_majflt", in: inTable | inCSV, optional: true, cell: kernelCell(3), csvCell: kernelField(7)},
}

// kernelCell formats the i-th kernel column of the table.
func kernelCell(i int) func(any) string {
	return func(v any) string {
		k := v.(*kernelFaults)
		if k.Source == "perf" {
			return []string{u(k.Total) + " (perf, all)", "-", u(k.Minflt), u(k.Majflt)}[i]
		}
		return []string{
			fmt.Sprintf("%d (%d+%d)", k.Program.NotPresent+k.Program.Protection, k.Program.NotPresent, k.Program.Protection),
			fmt.Sprintf("%d (%d+%d)", k.Second.NotPresent+k.Second.Protection, k.Second.NotPresent, k.Second.Protection),
			u(k.Minflt), u(k.Majflt),
		}[i]
	}
}

// kernelField formats the i-th kernel column of CSV.
func kernelField(i int) func(any) string {
	return func(v any) string {
		k := v.(*kernelFaults)
		return []string{k.Source, u(k.Total), u(k.NotPresent), u(k.Protection), u(k.Program.NotPresent + k.Program.Protection), u(k.Second.NotPresent + k.Second.Protection), u(k.Minflt), u(k.Majflt)}[i]
	}
}

func writeRows(w io.Writer, format string, rows []row) error {
	t := &table{cols: replayColumns}
	for _, r := range rows {
		var mech, uf, kf any
		if r.Mechanism != "" {
			mech = r.Mechanism
		}
		if r.UserFaults != nil {
			uf = *r.UserFaults
		}
		if r.KernelFaults != nil {
			kf = r.KernelFaults
		}
		t.add(r.Trace, r.Policy, r.Frames, r.Mode, r.Accesses, r.Reads, r.Writes, r.Hits, r.Faults, r.MissRatio(),
			r.Evictions, r.Writebacks, r.ProtectionFaults, r.MissRatio(), mech, uf, kf, kf, kf, kf, kf, kf, kf, kf, kf)
	}
	return t.write(w, format)
}

// limited returns r cut after n accesses, keeping the optional interfaces
// the engine looks for (next uses, dense ids) when r has them.
func limited(r traces.Reader, n uint64) traces.Reader {
	l := &limitReader{r: r, n: n}
	if nr, ok := r.(traces.NextReader); ok {
		return &limitNextReader{limitReader: l, nr: nr}
	}
	return l
}
