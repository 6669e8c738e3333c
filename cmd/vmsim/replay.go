package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/live"
)

type replayFlags struct {
	traceFlags
	policies  string
	frames    string
	mode      string
	mechanism string
	seed      uint64
	tick      uint64
	tau       uint64
	output    string
	plot      string
	kernel    bool
}

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

Counters: faults are accesses to a page that is not resident (cold ones
included); protection faults are first writes to a clean resident page; a
write that faults loads its page dirty at once. Writebacks are dirty
victims saved to the backing store.

The pages format: page numbers (decimal or 0x hex) separated by spaces or
commas, each optionally followed by w (write) or r (read); # comments.

Policies: ` + strings.Join(pager.Policies(), ", ") + ` (or all).`,
		Example: `  echo 1,2,3,4,1,2,5,1,2,3,4,5 | vmsim replay -p fifo -f 3,4 -
  vmsim replay -p all -f 4:64:4 -o csv trace.pages
  vmsim replay --mode real --mechanism remap -p lru -f 8 -o json trace.pages`,
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
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random policy")
	fl.Uint64Var(&f.tick, "tick", 0, "nfu and aging: accesses between clock ticks (0: one tick per frames accesses)")
	fl.Uint64Var(&f.tau, "tau", 0, "wsclock: working-set window in accesses (0: 2 × frames)")
	fl.StringVarP(&f.output, "output", "o", "table", "table, json (JSON Lines) or csv")
	fl.StringVar(&f.plot, "plot", "", "also draw faults against frames, a line per policy, to `FILE` (.svg or .png)")
	addTraceFlags(cmd, &f.traceFlags)
	return cmd
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
	var mech live.Mechanism
	switch f.mode {
	case "sim":
		if cmd.Flags().Changed("mechanism") {
			return usageErrorf(cmd, "--mechanism applies to --mode real only")
		}
	case "real":
		if mech, err = live.ParseMechanism(f.mechanism); err != nil {
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
	if err := checkOutput(cmd, f.output, []string{"table", "json", "csv"}, f.plot); err != nil {
		return err
	}
	if stdins := len(args) - len(slices.DeleteFunc(slices.Clone(args), func(a string) bool { return a == "-" })); stdins > 1 {
		return usageErrorf(cmd, "standard input (-) can be read only once")
	}
	opts := pager.Options{Seed: f.seed, Tick: f.tick, Tau: f.tau}
	var cfgs []pager.Config
	for _, p := range policies {
		for _, n := range frames {
			cfgs = append(cfgs, pager.Config{Policy: p, Frames: n, Options: opts})
		}
	}
	var meter *kernelMeter
	if f.kernel || f.mode == "kernel" {
		if meter, err = openKernelMeter(cmd.ErrOrStderr()); err != nil {
			return err
		}
		defer meter.Close()
	}
	var rows []row
	if f.mode == "kernel" {
		for _, path := range args {
			t, err := loadTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
			if err != nil {
				return err
			}
			r, err := replayKernel(t, meter)
			if err != nil {
				return err
			}
			rows = append(rows, r)
		}
	} else if f.mode == "sim" {
		for _, path := range args {
			results, err := streamTrace(cmd, path, f.traceFlags, cfgs)
			if err != nil {
				return err
			}
			for _, r := range results {
				rows = append(rows, row{Result: r, Mode: "sim"})
			}
		}
	} else {
		for _, path := range args {
			t, err := loadTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
			if err != nil {
				return err
			}
			for _, cfg := range cfgs {
				r, err := replayReal(cmd, t, cfg, mech, meter)
				if err != nil {
					return err
				}
				rows = append(rows, r)
			}
		}
	}
	if err := writeRows(cmd.OutOrStdout(), f.output, rows); err != nil {
		return err
	}
	if f.plot != "" {
		return plotFaults(f.plot, rows, len(args) > 1)
	}
	return nil
}

// plotFaults draws faults against frames, one line per trace and policy.
func plotFaults(path string, rows []row, manyTraces bool) error {
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
	return writePlot(path, title, "frames", "faults", lines)
}

// streamTrace replays one trace through every configuration, decoding it
// once, with a progress bar on a terminal.
func streamTrace(cmd *cobra.Command, path string, f traceFlags, cfgs []pager.Config) ([]pager.Result, error) {
	t, err := openTrace(cmd.Context(), path, f, cmd.InOrStdin())
	if err != nil {
		return nil, err
	}
	defer t.close()
	bar := newProgress(cmd.ErrOrStderr(), t.size, "replay "+path)
	defer bar.done()
	return pager.Stream(cmd.Context(), path, t.reader, cfgs, &pager.StreamOptions{
		Progress: func(uint64) { bar.set(t.read.Load()) },
	})
}

// replayReal replays one configuration on real memory, under the kernel
// meter if not nil.
func replayReal(cmd *cobra.Command, t *pager.Trace, cfg pager.Config, mech live.Mechanism, meter *kernelMeter) (row, error) {
	if err := ctxErr(cmd.Context()); err != nil {
		return row{}, err
	}
	pol, err := pager.NewPolicy(cfg.Policy, cfg.Options)
	if err != nil {
		return row{}, err
	}
	lp, err := live.New(max(t.Distinct(), 1), pol, cfg.Frames, &live.Options{Mechanism: mech})
	if err != nil {
		return row{}, fmt.Errorf("real mode, %d frames: %w", cfg.Frames, err)
	}
	var st live.Stats
	var kf *kernelFaults
	src := t.Source(0, pager.NeedsNext(cfg.Policy))
	if meter != nil {
		st, kf, err = measureReal(cmd.Context(), lp, src, meter)
	} else {
		st, err = lp.Replay(cmd.Context(), src)
	}
	if cerr := lp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return row{}, fmt.Errorf("real mode, %s, %s, %d frames: %w", t.Name(), cfg.Policy, cfg.Frames, err)
	}
	uf := st.UserFaults
	return row{Result: pager.Result{Trace: t.Name(), Policy: cfg.Policy, Frames: cfg.Frames, Stats: st.Stats}, Mode: "real", Mechanism: mech.String(), UserFaults: &uf, KernelFaults: kf}, nil
}

// row is one line of output: the contract of -o json (DESIGN.md).
type row struct {
	pager.Result
	Mode         string
	Mechanism    string
	UserFaults   *uint64
	KernelFaults *kernelFaults
}

// MarshalJSON flattens the result with the contract's lower-case names.
func (r row) MarshalJSON() ([]byte, error) {
	type flat struct {
		Trace  string `json:"trace"`
		Policy string `json:"policy"`
		Frames int    `json:"frames"`
		Mode   string `json:"mode"`
		pager.Stats
		MissRatio    float64       `json:"miss_ratio"`
		Mechanism    string        `json:"mechanism,omitempty"`
		UserFaults   *uint64       `json:"user_faults,omitempty"`
		KernelFaults *kernelFaults `json:"kernel_faults,omitempty"`
	}
	return json.Marshal(flat{r.Trace, r.Policy, r.Frames, r.Mode, r.Stats, r.MissRatio(), r.Mechanism, r.UserFaults, r.KernelFaults})
}

func writeRows(w io.Writer, format string, rows []row) error {
	real := slices.ContainsFunc(rows, func(r row) bool { return r.UserFaults != nil })
	kern := slices.ContainsFunc(rows, func(r row) bool { return r.KernelFaults != nil })
	kernelCells := func(r row) []string {
		k := r.KernelFaults
		if k == nil {
			return []string{"-", "-", "-", "-"}
		}
		if k.Source == "perf" {
			return []string{u(k.Total) + " (perf, all)", "-", u(k.Minflt), u(k.Majflt)}
		}
		return []string{
			fmt.Sprintf("%d (%d+%d)", k.Program.NotPresent+k.Program.Protection, k.Program.NotPresent, k.Program.Protection),
			fmt.Sprintf("%d (%d+%d)", k.Second.NotPresent+k.Second.Protection, k.Second.NotPresent, k.Second.Protection),
			u(k.Minflt), u(k.Majflt),
		}
	}
	userFaults := func(r row) string {
		if r.UserFaults == nil {
			return "-"
		}
		return u(*r.UserFaults)
	}
	switch format {
	case "json":
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(w)
		head := []string{"trace", "policy", "frames", "mode", "accesses", "reads", "writes", "hits", "faults", "evictions", "writebacks", "protection_faults", "miss_ratio"}
		if real {
			head = append(head, "mechanism", "user_faults")
		}
		if kern {
			head = append(head, "kernel_source", "kernel_faults", "kernel_not_present", "kernel_protection", "kernel_program_view", "kernel_second_view", "rusage_minflt", "rusage_majflt")
		}
		cw.Write(head)
		for _, r := range rows {
			rec := []string{r.Trace, r.Policy, strconv.Itoa(r.Frames), r.Mode, u(r.Accesses), u(r.Reads), u(r.Writes), u(r.Hits), u(r.Faults), u(r.Evictions), u(r.Writebacks), u(r.ProtectionFaults), strconv.FormatFloat(r.MissRatio(), 'f', 6, 64)}
			if real {
				rec = append(rec, r.Mechanism, userFaults(r))
			}
			if k := r.KernelFaults; kern && k != nil {
				rec = append(rec, k.Source, u(k.Total), u(k.NotPresent), u(k.Protection), u(k.Program.NotPresent+k.Program.Protection), u(k.Second.NotPresent+k.Second.Protection), u(k.Minflt), u(k.Majflt))
			} else if kern {
				rec = append(rec, "", "", "", "", "", "", "", "")
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "TRACE\tPOLICY\tFRAMES\tMODE\tACCESSES\tHITS\tFAULTS\tMISS%\tEVICTIONS\tWRITEBACKS\tPROT-FAULTS\t"
	if real {
		head += "USER-FAULTS\t"
	}
	if kern {
		head += "KERNEL-FAULTS\tSECOND-VIEW\tMINFLT\tMAJFLT\t"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		line := fmt.Sprintf("%s\t%s\t%d\t%s\t%d\t%d\t%d\t%.2f\t%d\t%d\t%d\t", r.Trace, r.Policy, r.Frames, r.Mode, r.Accesses, r.Hits, r.Faults, 100*r.MissRatio(), r.Evictions, r.Writebacks, r.ProtectionFaults)
		if real {
			line += userFaults(r) + "\t"
		}
		if kern {
			line += strings.Join(kernelCells(r), "\t") + "\t"
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}

func u(v uint64) string { return strconv.FormatUint(v, 10) }
