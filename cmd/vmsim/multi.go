package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/pager/multi"
	"vmsim/traces"
	"vmsim/traces/gen"
)

// modelFlags are the flags of the many-process model that multi and thrash
// share.
type modelFlags struct {
	policy     string
	scope      string
	alloc      string
	control    string
	quantum    int
	accessTime time.Duration
	faultTime  time.Duration
	tau        int
	pffWindow  int
	pffUpper   float64
	pffLower   float64
	seed       uint64
	tick       uint64
	wsclockTau uint64
	mode       string
	mechanism  string
	output     string
	plot       string
	plotFlags
}

// addModelFlags declares the model's flags; scopes and controls take a
// list when many is set (thrash).
func addModelFlags(cmd *cobra.Command, f *modelFlags, many bool) {
	fl := cmd.Flags()
	fl.StringVarP(&f.policy, "policy", "p", "lru", "replacement `POLICY`: "+strings.Join(pager.Policies(), ", "))
	scope, control := "global", "none"
	scopeHelp := "replacement scope: global (a victim may be any process's page) or local (the faulting process's own)"
	controlHelp := "load control: none, ws (the working set: suspend a process whose working set does not fit) or pff (page-fault frequency, local scope)"
	if many {
		scope, control = "global,local", "none,ws,pff"
		scopeHelp = "replacement scopes, a comma list: global, local"
		controlHelp = "load controls, a comma list: none, ws, pff (pff with local scope only)"
	}
	fl.StringVar(&f.scope, "scope", scope, scopeHelp)
	fl.StringVar(&f.alloc, "alloc", "equal", "local scope: the fixed allocation (and PFF's start), equal or proportional (to each process's pages)")
	fl.StringVar(&f.control, "load-control", control, controlHelp)
	fl.IntVar(&f.quantum, "quantum", multi.DefaultQuantum, "the round robin's time slice in `ACCESSES`")
	fl.DurationVar(&f.accessTime, "access-time", multi.DefaultAccessTime, "processor time of one access")
	fl.DurationVar(&f.faultTime, "fault-time", multi.DefaultFaultTime, "time the paging device takes per fault (one at a time)")
	fl.IntVar(&f.tau, "tau", multi.DefaultTau, "--load-control ws: the working-set window in each process's own `ACCESSES`")
	fl.IntVar(&f.pffWindow, "pff-window", multi.DefaultPFFWindow, "--load-control pff: the `ACCESSES` over which a process's fault rate is measured")
	fl.Float64Var(&f.pffUpper, "pff-upper", multi.DefaultPFFUpper, "--load-control pff: above this fault rate (faults per access) a process gets a frame more")
	fl.Float64Var(&f.pffLower, "pff-lower", multi.DefaultPFFLower, "--load-control pff: below this fault rate a process gives a frame back")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random policy")
	fl.Uint64Var(&f.tick, "tick", 0, "nfu and aging: accesses between clock ticks (0: one tick per frames accesses)")
	fl.Uint64Var(&f.wsclockTau, "wsclock-tau", 0, "wsclock: the policy's own window in accesses (0: 2 × frames)")
	fl.StringVar(&f.mode, "mode", "sim", "sim (count only) or real (one real region per process, faults caught in user space)")
	fl.StringVar(&f.mechanism, "mechanism", "mprotect", "real mode: "+strings.Join(live.Mechanisms(), ", "))
	fl.StringVarP(&f.output, "output", "o", "table", "table, json (JSON Lines) or csv")
}

// check validates the model's flags and returns the configuration they
// give (scope and control as given, for one of each), and the mechanism.
func (f modelFlags) check(cmd *cobra.Command, frames int) (multi.Config, live.Mechanism, error) {
	cfg := multi.Config{
		Policy: f.policy, Frames: frames, Quantum: f.quantum, AccessTime: f.accessTime, FaultTime: f.faultTime,
		Tau: f.tau, PFFWindow: f.pffWindow, PFFUpper: f.pffUpper, PFFLower: f.pffLower,
		PolicyOptions: pager.Options{Seed: f.seed, Tick: f.tick, Tau: f.wsclockTau},
	}
	if _, err := pager.NewPolicy(f.policy, pager.Options{}); err != nil {
		return cfg, 0, usageErrorf(cmd, "--policy: %v", err)
	}
	var err error
	if cfg.Allocation, err = multi.ParseAllocation(f.alloc); err != nil {
		return cfg, 0, usageErrorf(cmd, "--alloc: %v", err)
	}
	fl := cmd.Flags()
	positive := map[string]int{"quantum": f.quantum, "tau": f.tau, "pff-window": f.pffWindow}
	for _, name := range []string{"quantum", "tau", "pff-window"} {
		if positive[name] < 1 {
			return cfg, 0, usageErrorf(cmd, "--%s %d: want at least 1 access", name, positive[name])
		}
	}
	if f.accessTime <= 0 || f.faultTime < 0 {
		return cfg, 0, usageErrorf(cmd, "--access-time %v and --fault-time %v: want a positive access time and a fault time of 0 or more", f.accessTime, f.faultTime)
	}
	if !(f.pffLower > 0 && f.pffLower < f.pffUpper && f.pffUpper <= 1) {
		return cfg, 0, usageErrorf(cmd, "--pff-lower %v and --pff-upper %v: want 0 < lower < upper <= 1 fault per access", f.pffLower, f.pffUpper)
	}
	var mech live.Mechanism
	switch f.mode {
	case "sim":
		if fl.Changed("mechanism") {
			return cfg, 0, usageErrorf(cmd, "--mechanism applies to --mode real only")
		}
	case "real":
		if mech, err = live.ParseMechanism(f.mechanism); err != nil {
			return cfg, 0, usageErrorf(cmd, "--mechanism: %v", err)
		}
	default:
		return cfg, 0, usageErrorf(cmd, "--mode %q: want sim or real", f.mode)
	}
	return cfg, mech, nil
}

// checkSetting refuses the flags that do not apply to a scope and a
// control, naming both.
func (f modelFlags) checkSetting(cmd *cobra.Command, scopes []multi.Scope, controls []multi.Control) error {
	fl := cmd.Flags()
	if fl.Changed("alloc") && !slices.Contains(scopes, multi.Local) {
		return usageErrorf(cmd, "--alloc applies to --scope local only: global replacement has no allocations")
	}
	if fl.Changed("tau") && !slices.Contains(controls, multi.WorkingSet) {
		return usageErrorf(cmd, "--tau applies to --load-control ws only (the policy wsclock's window is --wsclock-tau)")
	}
	for _, name := range []string{"pff-window", "pff-upper", "pff-lower"} {
		if fl.Changed(name) && !slices.Contains(controls, multi.PFF) {
			return usageErrorf(cmd, "--%s applies to --load-control pff only", name)
		}
	}
	return nil
}

type multiFlags struct {
	modelFlags
	traceFlags
	frames   string
	maxMem   string
	steps    bool
	timeline bool
}

func newMulti() *cobra.Command {
	var f multiFlags
	cmd := &cobra.Command{
		Use:   "multi -f FRAMES [flags] TRACE...",
		Short: "Many processes sharing one memory: scheduling, replacement scope, load control",
		Long: `multi runs each TRACE as a process, with its own page numbers (page 5 of one
process is not page 5 of another), all sharing --frames frames, and prints one
row per process and a total.

A TRACE is a file, - for standard input, or a generated process
gen:KIND[,key=value...] with the keys of vmsim gen (n, pages, writes, seed,
alpha, ws, phase): gen:loop,pages=30,n=5000 is a loop over 30 pages.

One processor runs the processes in a round robin with a quantum of --quantum
accesses; each access costs --access-time; a process that faults waits for the
paging device, which serves one fault at a time for --fault-time each, while
the others run. CPU utilisation is the time spent running accesses over the
elapsed time.

--scope global: one policy over all frames, a victim may be any process's page.
--scope local: each process has its own frames (--alloc equal or proportional
to its pages) and its own policy; the victim is its own page.

--load-control ws: Denning's working set. A process runs only while its
working set W(t, tau) (its distinct pages of its last --tau accesses) fits in
the frames the others' working sets leave; otherwise it is suspended, its
pages released, and it resumes when its working set fits. With local scope
each process is allocated frames for its working set.
--load-control pff (local scope): at each fault, a process whose fault rate
over its last --pff-window accesses is above --pff-upper gets one more frame
(suspended if none is free); below --pff-lower it gives one back.
docs/policies.md has every rule.

Columns: FAULTS, then EVICTED (the process's pages evicted), BY-OTHERS (of
those, for another process), STOLE (other processes' pages evicted for it),
RELEASED (at suspensions), SUSP (suspensions), and its times in ms: RUN,
PAGE-WAIT (for the paging device), READY (for the processor), SUSPENDED, END.

--steps prints the run event by event instead (every access, with the pages in
memory after it); --timeline prints accesses and faults over time.`,
		Example: `  vmsim multi -f 30 a.pages b.pages
  vmsim multi -f 60 --scope local --alloc proportional gen:loop,pages=40,n=20000 gen:zipf,pages=500,n=20000
  vmsim multi -f 60 --load-control ws --tau 500 gen:loop,pages=40,n=20000 gen:loop,pages=40,n=20000,seed=2
  vmsim multi -f 3 -p fifo --quantum 2 --access-time 1ms --fault-time 2ms --steps a.pages b.pages
  vmsim multi -f 60 --mode real --mechanism uffd -o json a.pages b.pages`,
		Args: minArgs(1, "TRACE (a file, - for standard input, or gen:KIND,...)"),
		RunE: func(cmd *cobra.Command, args []string) error { return runMulti(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.frames, "frames", "f", "", "the `FRAMES` of the memory all processes share (required)")
	fl.BoolVar(&f.steps, "steps", false, "print the run event by event")
	fl.BoolVar(&f.timeline, "timeline", false, "print accesses and faults over time")
	fl.StringVar(&f.plot, "plot", "", "also draw each process's fault rate over time to `FILE` (.svg or .png)")
	addPlotFlags(cmd, &f.plotFlags)
	addModelFlags(cmd, &f.modelFlags, false)
	addTraceFlags(cmd, &f.traceFlags)
	addMaxMemoryFlag(cmd, &f.maxMem, "the traces, all held whole,")
	return cmd
}

func runMulti(cmd *cobra.Command, f multiFlags, args []string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	if f.frames == "" {
		return usageErrorf(cmd, "--frames is required: the frames all processes share")
	}
	frames, err := parseFrameCount(f.frames)
	if err != nil {
		return usageErrorf(cmd, "--frames: %v", err)
	}
	cfg, mech, err := f.modelFlags.check(cmd, frames)
	if err != nil {
		return err
	}
	if cfg.Scope, err = multi.ParseScope(f.scope); err != nil {
		return usageErrorf(cmd, "--scope: %v", err)
	}
	if cfg.Control, err = multi.ParseControl(f.control); err != nil {
		return usageErrorf(cmd, "--load-control: %v", err)
	}
	if cfg.Control == multi.PFF && cfg.Scope == multi.Global {
		return usageErrorf(cmd, "--load-control pff needs --scope local: page-fault frequency adjusts each process's own allocation")
	}
	if err := f.modelFlags.checkSetting(cmd, []multi.Scope{cfg.Scope}, []multi.Control{cfg.Control}); err != nil {
		return err
	}
	if f.steps && f.timeline {
		return usageErrorf(cmd, "--steps and --timeline are two outputs: choose one")
	}
	formats := []string{"table", "json", "csv"}
	if f.steps {
		formats = []string{"table", "json"}
	}
	if err := checkOutput(cmd, f.output, formats, f.plot); err != nil {
		return err
	}
	if err := checkStdin(cmd, args); err != nil {
		return err
	}
	if err := cfg.Check(len(args)); err != nil {
		return usageErrorf(cmd, "%v", err)
	}
	budget, err := memoryBudget(f.maxMem)
	if err != nil {
		return usageErrorf(cmd, "--max-memory: %v", err)
	}
	trs, err := loadProcesses(cmd, args, f.traceFlags, budget)
	if err != nil {
		return err
	}
	var steps []multi.Event
	opts := &multi.RunOptions{}
	if f.steps {
		opts.Resident = true
		opts.Events = func(ev multi.Event) { steps = append(steps, ev) }
	}
	res, userFaults, err := runModel(cmd.Context(), trs, cfg, mech, f.mode, opts)
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	switch {
	case f.steps:
		err = writeSteps(w, f.output, trs, res, steps)
	case f.timeline:
		err = writeTimeline(w, f.output, res)
	default:
		err = writeProcesses(w, f.output, trs, res, f.mode, mech, userFaults)
	}
	if err != nil {
		return err
	}
	if f.plot != "" {
		return plotTimeline(f.plot, trs, res, f.plotFlags.options(cmd))
	}
	return nil
}

// checkStdin refuses more than one "-": standard input can be read once.
func checkStdin(cmd *cobra.Command, args []string) error {
	n := 0
	for _, a := range args {
		if a == "-" {
			n++
		}
	}
	if n > 1 {
		return usageErrorf(cmd, "standard input (-) can be read only once")
	}
	return nil
}

// runModel runs the processes in simulation, or on real memory (one region
// each) in real mode, and returns the result and, in real mode, each
// process's user faults.
func runModel(ctx context.Context, trs []*pager.Trace, cfg multi.Config, mech live.Mechanism, mode string, opts *multi.RunOptions) (*multi.Result, []uint64, error) {
	if mode != "real" {
		res, err := multi.Run(ctx, trs, cfg, opts)
		if err != nil {
			return nil, nil, err
		}
		return res, nil, nil
	}
	var sizes []int
	for _, tr := range trs {
		sizes = append(sizes, tr.Distinct())
	}
	regions, err := live.NewRegions(sizes, cfg.Frames, &live.Options{Mechanism: mech})
	if err != nil {
		return nil, nil, fmt.Errorf("real mode, %d frames: %w", cfg.Frames, err)
	}
	o := *opts
	o.Memory = regions
	res, err := multi.Run(ctx, trs, cfg, &o)
	var uf []uint64
	for k := range trs {
		uf = append(uf, regions.UserFaults(k))
	}
	if cerr := regions.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return nil, nil, fmt.Errorf("real mode: %w", err)
	}
	return res, uf, nil
}

// loadProcesses reads every TRACE: a file, "-", or gen:KIND,key=value...,
// all of them within budget bytes.
func loadProcesses(cmd *cobra.Command, args []string, f traceFlags, budget uint64) ([]*pager.Trace, error) {
	var trs []*pager.Trace
	var used uint64
	for _, arg := range args {
		if used >= budget {
			return nil, tooLarge(fmt.Errorf("%s: the traces before it take %s, the whole budget of %s: %w", arg, pager.Bytes(used), pager.Bytes(budget), pager.ErrTooLarge), "multi", "give fewer or shorter traces")
		}
		opts := &pager.LoadOptions{MaxBytes: budget - used}
		var tr *pager.Trace
		var err error
		if spec, ok := strings.CutPrefix(arg, "gen:"); ok {
			r, gerr := parseGenSpec(spec)
			if gerr != nil {
				return nil, usageErrorf(cmd, "%s: %v", arg, gerr)
			}
			tr, err = pager.Load(cmd.Context(), arg, r, opts)
		} else {
			tr, err = loadTrace(cmd.Context(), arg, f, cmd.InOrStdin(), opts)
		}
		if err != nil {
			return nil, tooLarge(err, "multi", "give fewer or shorter traces")
		}
		used += pager.LoadCost(uint64(tr.Len()), uint64(tr.Distinct()))
		trs = append(trs, tr)
	}
	return trs, nil
}

// parseGenSpec parses KIND[,key=value...] with the keys of vmsim gen.
func parseGenSpec(spec string) (traces.Reader, error) {
	parts := strings.Split(spec, ",")
	kind := parts[0]
	if gen.Describe(kind) == "" {
		return nil, fmt.Errorf("unknown kind %q (want %s)", kind, strings.Join(gen.Kinds(), ", "))
	}
	o := gen.Options{N: 1000, Pages: 100, Seed: 1, Alpha: 1}
	if kind == gen.Belady {
		o.N = 12
	}
	for _, kv := range parts[1:] {
		key, val, ok := strings.Cut(kv, "=")
		if !ok {
			return nil, fmt.Errorf("%q: want key=value", kv)
		}
		var err error
		switch key {
		case "n":
			o.N, err = strconv.ParseUint(val, 10, 64)
		case "pages":
			o.Pages, err = strconv.ParseUint(val, 10, 64)
		case "seed":
			o.Seed, err = strconv.ParseUint(val, 10, 64)
		case "ws":
			o.WorkingSet, err = strconv.ParseUint(val, 10, 64)
		case "phase":
			o.PhaseLen, err = strconv.ParseUint(val, 10, 64)
		case "writes":
			o.Writes, err = strconv.ParseFloat(val, 64)
		case "alpha":
			o.Alpha, err = strconv.ParseFloat(val, 64)
		default:
			return nil, fmt.Errorf("unknown key %q (want n, pages, writes, seed, alpha, ws, phase)", key)
		}
		if err != nil {
			return nil, fmt.Errorf("%s=%s: not a number", key, val)
		}
	}
	if o.N > 1<<28 {
		return nil, fmt.Errorf("n=%d: at most 2^28 accesses per process", o.N)
	}
	return gen.New(kind, &o)
}

// procName is the label of process k in tables: P1, P2...
func procName(k int) string { return "P" + strconv.Itoa(k+1) }

// ms formats a duration in milliseconds with two decimals.
func ms(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64)
}

// describe says what was run, in a line.
func describe(cfg multi.Config, n int) string {
	s := fmt.Sprintf("%d processes, %d frames, %s, %v replacement", n, cfg.Frames, cfg.Policy, cfg.Scope)
	if cfg.Scope == multi.Local && cfg.Control != multi.WorkingSet {
		s += fmt.Sprintf(" (%v allocation)", cfg.Allocation)
	}
	switch cfg.Control {
	case multi.None:
		s += ", no load control"
	case multi.WorkingSet:
		s += fmt.Sprintf(", working-set control (tau %d)", cfg.Tau)
	case multi.PFF:
		s += fmt.Sprintf(", PFF (window %d, upper %v, lower %v)", cfg.PFFWindow, cfg.PFFUpper, cfg.PFFLower)
	}
	return s + fmt.Sprintf("; quantum %d, access %v, fault %v", cfg.Quantum, cfg.AccessTime, cfg.FaultTime)
}

// procRow is one process (or the total) in -o json: the contract's
// counters plus the model's.
type procRow struct {
	Trace       string `json:"trace"`
	Process     string `json:"process"`
	Policy      string `json:"policy"`
	Frames      int    `json:"frames"`
	Scope       string `json:"scope"`
	Allocation  string `json:"allocation,omitempty"`
	LoadControl string `json:"load_control"`
	Mode        string `json:"mode"`
	pager.Stats
	EvictedByOthers uint64   `json:"evicted_by_others"`
	Stole           uint64   `json:"stole"`
	Released        uint64   `json:"released"`
	Suspensions     uint64   `json:"suspensions"`
	MaxResident     int      `json:"max_resident"`
	Allocated       int      `json:"allocated,omitempty"`
	RunMS           float64  `json:"run_ms"`
	PageWaitMS      float64  `json:"page_wait_ms"`
	ReadyMS         float64  `json:"ready_ms"`
	SuspendedMS     float64  `json:"suspended_ms"`
	EndMS           float64  `json:"end_ms"`
	Utilisation     *float64 `json:"cpu_utilisation,omitempty"`
	Throughput      *float64 `json:"throughput,omitempty"`
	DeviceBusy      *float64 `json:"device_utilisation,omitempty"`
	Mechanism       string   `json:"mechanism,omitempty"`
	UserFaults      *uint64  `json:"user_faults,omitempty"`
}

func msf(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func procRows(trs []*pager.Trace, res *multi.Result, mode string, mech live.Mechanism, userFaults []uint64) []procRow {
	cfg := res.Config
	base := procRow{Policy: cfg.Policy, Frames: cfg.Frames, Scope: cfg.Scope.String(), LoadControl: cfg.Control.String(), Mode: mode}
	if cfg.Scope == multi.Local && cfg.Control != multi.WorkingSet {
		base.Allocation = cfg.Allocation.String()
	}
	if mode == "real" {
		base.Mechanism = mech.String()
	}
	row := func(st multi.ProcStats) procRow {
		r := base
		r.Trace, r.Stats = st.Name, st.Stats
		r.EvictedByOthers, r.Stole, r.Released, r.Suspensions, r.MaxResident, r.Allocated = st.EvictedByOthers, st.Stole, st.Released, st.Suspensions, st.MaxResident, st.Frames
		r.RunMS, r.PageWaitMS, r.ReadyMS, r.SuspendedMS, r.EndMS = msf(st.Run), msf(st.PageWait), msf(st.Ready), msf(st.Suspended), msf(st.Finish)
		return r
	}
	var rows []procRow
	var totalUF uint64
	for k, st := range res.Procs {
		r := row(st)
		r.Process = procName(k)
		if userFaults != nil {
			uf := userFaults[k]
			r.UserFaults = &uf
			totalUF += uf
		}
		rows = append(rows, r)
	}
	t := row(res.Total)
	t.Trace, t.Process = "", "total"
	u, tp, d := res.Utilisation(), res.Throughput(), res.DeviceUtilisation()
	t.Utilisation, t.Throughput, t.DeviceBusy = &u, &tp, &d
	if userFaults != nil {
		t.UserFaults = &totalUF
	}
	return append(rows, t)
}

func writeProcesses(w io.Writer, format string, trs []*pager.Trace, res *multi.Result, mode string, mech live.Mechanism, userFaults []uint64) error {
	rows := procRows(trs, res, mode, mech, userFaults)
	real := userFaults != nil
	switch format {
	case "json":
		return writeJSONLines(w, rows)
	case "csv":
		cw := csv.NewWriter(w)
		head := []string{"trace", "process", "policy", "frames", "scope", "allocation", "load_control", "mode", "accesses", "reads", "writes", "hits", "faults",
			"evictions", "writebacks", "protection_faults", "evicted_by_others", "stole", "released", "suspensions", "max_resident", "allocated",
			"run_ms", "page_wait_ms", "ready_ms", "suspended_ms", "end_ms", "cpu_utilisation", "throughput", "device_utilisation"}
		if real {
			head = append(head, "mechanism", "user_faults")
		}
		cw.Write(head)
		f := func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }
		opt := func(v *float64) string {
			if v == nil {
				return ""
			}
			return strconv.FormatFloat(*v, 'f', 6, 64)
		}
		for _, r := range rows {
			rec := []string{r.Trace, r.Process, r.Policy, strconv.Itoa(r.Frames), r.Scope, r.Allocation, r.LoadControl, r.Mode,
				u(r.Accesses), u(r.Reads), u(r.Writes), u(r.Hits), u(r.Faults), u(r.Evictions), u(r.Writebacks), u(r.ProtectionFaults),
				u(r.EvictedByOthers), u(r.Stole), u(r.Released), u(r.Suspensions), strconv.Itoa(r.MaxResident), strconv.Itoa(r.Allocated),
				f(r.RunMS), f(r.PageWaitMS), f(r.ReadyMS), f(r.SuspendedMS), f(r.EndMS), opt(r.Utilisation), opt(r.Throughput), opt(r.DeviceBusy)}
			if real {
				rec = append(rec, r.Mechanism, u(*r.UserFaults))
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	cfg := res.Config
	fmt.Fprintf(w, "# %s\n", describe(cfg, len(trs)))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "PROC\tTRACE\tACCESSES\tFAULTS\tMISS%\tEVICTED\tBY-OTHERS\tSTOLE\tWRITEBACKS\tRELEASED\tSUSP\tRUN\tPAGE-WAIT\tREADY\tSUSPENDED\tEND\t"
	if real {
		head += "USER-FAULTS\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%s\t%d\t%d\t%.2f\t%d\t%d\t%d\t%d\t%d\t%d\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t",
			r.Process, r.Trace, r.Accesses, r.Faults, 100*r.MissRatio(), r.Evictions, r.EvictedByOthers, r.Stole, r.Writebacks,
			r.Released, r.Suspensions, r.RunMS, r.PageWaitMS, r.ReadyMS, r.SuspendedMS, r.EndMS)
		if real {
			line += u(*r.UserFaults) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "# times in ms; elapsed %s ms: CPU utilisation %.1f%%, throughput %.0f accesses/s, paging device busy %.1f%%\n",
		ms(res.Elapsed), 100*res.Utilisation(), res.Throughput(), 100*res.DeviceUtilisation())
	return nil
}

// stepLine is one event in --steps -o json.
type stepLine struct {
	TimeMS     float64  `json:"t_ms"`
	Event      string   `json:"event"`
	Process    string   `json:"process"`
	Index      *int     `json:"index,omitempty"`
	Page       *uint64  `json:"page,omitempty"`
	Write      bool     `json:"write,omitempty"`
	Result     string   `json:"result,omitempty"`
	Victim     string   `json:"victim,omitempty"`
	WroteBack  bool     `json:"written_back,omitempty"`
	UntilMS    *float64 `json:"until_ms,omitempty"`
	Pages      *int     `json:"pages,omitempty"`
	Need       *int     `json:"needs,omitempty"`
	WorkingSet *int     `json:"working_set,omitempty"`
	Frames     []string `json:"frames"`
}

func stepLines(res *multi.Result, steps []multi.Event) []stepLine {
	var out []stepLine
	for _, ev := range steps {
		l := stepLine{TimeMS: msf(ev.Time), Event: ev.Kind.String(), Process: procName(ev.Proc), Frames: []string{}}
		for _, rp := range ev.Resident {
			l.Frames = append(l.Frames, fmt.Sprintf("%s:%d", procName(rp.Proc), rp.Page))
		}
		if ev.VictimProc >= 0 {
			l.Victim, l.WroteBack = fmt.Sprintf("%s:%d", procName(ev.VictimProc), ev.VictimPage), ev.WroteBack
		}
		if res.Config.Control == multi.WorkingSet && ev.Kind != multi.Exit && ev.Kind != multi.Frames {
			w := ev.WorkingSet
			l.WorkingSet = &w
		}
		switch ev.Kind {
		case multi.Access:
			i, p := ev.Index, uint64(ev.Page)
			l.Index, l.Page, l.Write, l.Result = &i, &p, ev.Write, ev.Result.String()
			if ev.Result == pager.Miss {
				until := msf(ev.Until)
				l.UntilMS = &until
			}
		case multi.Suspend, multi.Exit, multi.Frames:
			n := ev.Pages
			l.Pages = &n
			if ev.Kind == multi.Suspend {
				need := ev.Need
				l.Need = &need
			}
		}
		out = append(out, l)
	}
	return out
}

func writeSteps(w io.Writer, format string, trs []*pager.Trace, res *multi.Result, steps []multi.Event) error {
	lines := stepLines(res, steps)
	if format == "json" {
		return writeJSONLines(w, lines)
	}
	var legend []string
	for k, tr := range trs {
		legend = append(legend, procName(k)+" = "+tr.Name())
	}
	fmt.Fprintf(w, "# %s\n# %s\n", strings.Join(legend, ", "), describe(res.Config, len(trs)))
	ws := res.Config.Control == multi.WorkingSet
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	head := "T(ms)\tPROC\t#\tPAGE\tR/W\tRESULT\tVICTIM\tUNTIL\t"
	if ws {
		head += "W\t"
	}
	fmt.Fprintln(tw, head+"FRAMES AFTER")
	for _, l := range lines {
		index, page, rw, result, until, wsCell := "", "", "", l.Event, "", ""
		if l.Page != nil {
			index, page, rw, result = strconv.Itoa(*l.Index), u(*l.Page), "R", l.Result
			if l.Write {
				rw = "W"
			}
		}
		if l.UntilMS != nil {
			until = strconv.FormatFloat(*l.UntilMS, 'f', 2, 64)
		}
		if l.WorkingSet != nil {
			wsCell = strconv.Itoa(*l.WorkingSet)
		}
		switch l.Event {
		case "suspend":
			what := "frames"
			if ws {
				what = "W"
			}
			result = fmt.Sprintf("suspended (%d released, needs %s %d)", *l.Pages, what, *l.Need)
		case "exit":
			result = fmt.Sprintf("exit (%d released)", *l.Pages)
		case "resume":
			result = "resumed"
		case "frames":
			result = fmt.Sprintf("allocation %d", *l.Pages)
		}
		victim := l.Victim
		if l.WroteBack {
			victim += " (written back)"
		}
		line := fmt.Sprintf("%.2f\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t", l.TimeMS, l.Process, index, page, rw, result, victim, until)
		if ws {
			line += wsCell + "\t"
		}
		fmt.Fprintln(tw, line+strings.Join(l.Frames, " "))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "# elapsed %s ms: CPU utilisation %.1f%%; %d accesses, %d faults, %d suspensions\n",
		ms(res.Elapsed), 100*res.Utilisation(), res.Total.Accesses, res.Total.Faults, res.Total.Suspensions)
	return nil
}

// timelineRow is one interval in --timeline -o json.
type timelineRow struct {
	FromMS      float64  `json:"from_ms"`
	ToMS        float64  `json:"to_ms"`
	Accesses    uint64   `json:"accesses"`
	Faults      uint64   `json:"faults"`
	FaultsPerS  float64  `json:"faults_per_s"`
	Utilisation float64  `json:"cpu_utilisation"`
	ProcFaults  []uint64 `json:"process_faults"`
}

func timelineRows(res *multi.Result) []timelineRow {
	tl := res.Timeline
	var out []timelineRow
	for i := range tl.Len() {
		r := timelineRow{FromMS: msf(time.Duration(i) * tl.Width), ToMS: msf(time.Duration(i+1) * tl.Width)}
		for k := range res.Procs {
			a, f := tl.At(i, k)
			r.Accesses += a
			r.Faults += f
			r.ProcFaults = append(r.ProcFaults, f)
		}
		r.FaultsPerS = float64(r.Faults) / tl.Width.Seconds()
		r.Utilisation = float64(time.Duration(r.Accesses)*res.Config.AccessTime) / float64(tl.Width)
		out = append(out, r)
	}
	return out
}

func writeTimeline(w io.Writer, format string, res *multi.Result) error {
	rows := timelineRows(res)
	switch format {
	case "json":
		return writeJSONLines(w, rows)
	case "csv":
		cw := csv.NewWriter(w)
		head := []string{"from_ms", "to_ms", "accesses", "faults", "faults_per_s", "cpu_utilisation"}
		for k := range res.Procs {
			head = append(head, strings.ToLower(procName(k))+"_faults")
		}
		cw.Write(head)
		for _, r := range rows {
			rec := []string{strconv.FormatFloat(r.FromMS, 'f', -1, 64), strconv.FormatFloat(r.ToMS, 'f', -1, 64), u(r.Accesses), u(r.Faults),
				strconv.FormatFloat(r.FaultsPerS, 'f', 1, 64), strconv.FormatFloat(r.Utilisation, 'f', 4, 64)}
			for _, f := range r.ProcFaults {
				rec = append(rec, u(f))
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "# %d intervals of %s ms; CPU%% is the share of the interval spent running accesses\n", len(rows), ms(res.Timeline.Width))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "FROM\tTO\tACCESSES\tFAULTS\tFAULTS/S\tCPU%\t"
	for k := range res.Procs {
		head += procName(k) + "\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%.2f\t%.2f\t%d\t%d\t%.0f\t%.1f\t", r.FromMS, r.ToMS, r.Accesses, r.Faults, r.FaultsPerS, 100*r.Utilisation)
		for _, f := range r.ProcFaults {
			line += u(f) + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

// plotTimeline draws each process's fault rate over time.
func plotTimeline(path string, trs []*pager.Trace, res *multi.Result, o plotOptions) error {
	rows := timelineRows(res)
	lines := make([]series, len(trs))
	for k, tr := range trs {
		lines[k].name = procName(k) + " " + tr.Name()
	}
	for _, r := range rows {
		mid := (r.FromMS + r.ToMS) / 2
		for k, f := range r.ProcFaults {
			lines[k].xs = append(lines[k].xs, mid)
			lines[k].ys = append(lines[k].ys, float64(f)/res.Timeline.Width.Seconds())
		}
	}
	return writePlotWith(path, "Fault rate over time: "+describeShort(res.Config), "time (ms)", "faults per second", lines, o)
}

func describeShort(cfg multi.Config) string {
	return fmt.Sprintf("%d frames, %s, %v, %v", cfg.Frames, cfg.Policy, cfg.Scope, cfg.Control)
}
