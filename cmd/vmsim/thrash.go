package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/pager/multi"
)

type thrashFlags struct {
	modelFlags
	traceFlags
	frames   int
	max      int
	maxMem   string
	workload multi.Workload
}

func newThrash() *cobra.Command {
	var f thrashFlags
	w := multi.Workload{}.WithDefaults()
	cmd := &cobra.Command{
		Use:   "thrash [flags] [TRACE...]",
		Short: "The thrashing curve: CPU utilisation against the degree of multiprogramming",
		Long: `thrash draws the textbook figure from real runs: for each replacement scope and
load control it runs 1, 2, ... --max processes on --frames frames (as vmsim
multi does) and prints the processor's utilisation and the paging device's
against the number of processes (-o json and csv add the throughput, and
more).

With no TRACE it runs built-in processes: each loops over a window of about
--ws pages that slides one page every --slide accesses, --n accesses long
(a program walking an array in loops), generated with --workload-seed. Alone,
a process waits for its faults a third of the time; a few fill the processor
while one waits; once their windows no longer fit in memory, every access
faults and utilisation collapses, unless load control suspends processes
first. With TRACEs, the first N of them are the N processes.

--plot draws utilisation (%) against the number of processes, a line per
scope and control. --mode real runs every point on real memory, one region
per process (slow where it thrashes: every access is then a real fault).`,
		Example: `  vmsim thrash
  vmsim thrash --plot thrash.svg
  vmsim thrash --scope global --load-control none,ws -o csv
  vmsim thrash -f 60 --max 6 a.pages b.pages c.pages d.pages e.pages f.pages`,
		RunE: func(cmd *cobra.Command, args []string) error { return runThrash(cmd, f, args) },
	}
	fl := cmd.Flags()
	fl.IntVarP(&f.frames, "frames", "f", 100, "the `FRAMES` all processes share")
	fl.IntVar(&f.max, "max", 0, "the largest number of processes (0: every process: 10 built-in, or one per TRACE)")
	fl.IntVar(&f.workload.WorkingSet, "ws", w.WorkingSet, "built-in processes: mean window in `PAGES`")
	fl.IntVar(&f.workload.Slide, "slide", w.Slide, "built-in processes: `ACCESSES` between two slides of a window")
	fl.IntVar(&f.workload.Accesses, "n", w.Accesses, "built-in processes: `ACCESSES` of each")
	fl.Uint64Var(&f.workload.Seed, "workload-seed", 1, "built-in processes: the seed of their windows and starting points")
	fl.StringVar(&f.plot, "plot", "", "also draw utilisation against the number of processes to `FILE` (.svg or .png)")
	addPlotFlags(cmd, &f.plotFlags)
	addModelFlags(cmd, &f.modelFlags, true)
	addTraceFlags(cmd, &f.traceFlags)
	addMaxMemoryFlag(cmd, &f.maxMem, "the TRACE arguments, all held whole,")
	return cmd
}

// setting is one line of the figure: a scope and a load control.
type setting struct {
	scope   multi.Scope
	control multi.Control
}

func (s setting) String() string { return s.scope.String() + "/" + s.control.String() }

// thrashPoint is one run of the figure, as -o json gives it.
type thrashPoint struct {
	Scope       string  `json:"scope"`
	LoadControl string  `json:"load_control"`
	Processes   int     `json:"processes"`
	Frames      int     `json:"frames"`
	Policy      string  `json:"policy"`
	Mode        string  `json:"mode"`
	Utilisation float64 `json:"cpu_utilisation"`
	Throughput  float64 `json:"throughput"`
	DeviceBusy  float64 `json:"device_utilisation"`
	ElapsedMS   float64 `json:"elapsed_ms"`
	Accesses    uint64  `json:"accesses"`
	Faults      uint64  `json:"faults"`
	Suspensions uint64  `json:"suspensions"`
}

func runThrash(cmd *cobra.Command, f thrashFlags, args []string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	if f.frames < 1 || f.frames > pager.MaxFrames {
		return usageErrorf(cmd, "--frames %d: want 1 to %d", f.frames, pager.MaxFrames)
	}
	cfg, mech, err := f.modelFlags.check(cmd, f.frames)
	if err != nil {
		return err
	}
	var scopes []multi.Scope
	for _, s := range strings.Split(f.scope, ",") {
		sc, err := multi.ParseScope(strings.TrimSpace(s))
		if err != nil {
			return usageErrorf(cmd, "--scope: %v", err)
		}
		scopes = append(scopes, sc)
	}
	var controls []multi.Control
	for _, s := range strings.Split(f.control, ",") {
		c, err := multi.ParseControl(strings.TrimSpace(s))
		if err != nil {
			return usageErrorf(cmd, "--load-control: %v", err)
		}
		controls = append(controls, c)
	}
	var settings []setting
	for _, s := range scopes {
		for _, c := range controls {
			if c == multi.PFF && s == multi.Global {
				continue // page-fault frequency adjusts local allocations only
			}
			settings = append(settings, setting{s, c})
		}
	}
	if len(settings) == 0 {
		return usageErrorf(cmd, "--load-control pff needs --scope local: page-fault frequency adjusts each process's own allocation")
	}
	if err := f.modelFlags.checkSetting(cmd, scopes, controls); err != nil {
		return err
	}
	if err := checkOutput(cmd, f.output, []string{"table", "json", "csv"}, f.plot); err != nil {
		return err
	}
	fl := cmd.Flags()
	var trs []*pager.Trace
	about := ""
	if len(args) == 0 {
		if f.workload.WorkingSet < 1 || f.workload.Slide < 1 || f.workload.Accesses < 1 {
			return usageErrorf(cmd, "--ws %d, --slide %d and --n %d: want positive sizes", f.workload.WorkingSet, f.workload.Slide, f.workload.Accesses)
		}
		if f.workload.Accesses > 1<<24 {
			return usageErrorf(cmd, "--n %d: at most 2^24 accesses per process", f.workload.Accesses)
		}
		f.workload.Processes = f.max // 0: the default, 10
		if trs, err = f.workload.Traces(); err != nil {
			return usageErrorf(cmd, "%v", err)
		}
		about = f.workload.String()
	} else {
		for _, name := range []string{"ws", "slide", "n", "workload-seed"} {
			if fl.Changed(name) {
				return usageErrorf(cmd, "--%s describes the built-in processes: it does not apply with TRACE arguments", name)
			}
		}
		if err := checkStdin(cmd, args); err != nil {
			return err
		}
		budget, err := memoryBudget(f.maxMem)
		if err != nil {
			return usageErrorf(cmd, "--max-memory: %v", err)
		}
		if trs, err = loadProcesses(cmd, args, f.traceFlags, budget); err != nil {
			return err
		}
		about = fmt.Sprintf("%d processes: %s", len(trs), strings.Join(args, " "))
	}
	n := f.max
	if n == 0 {
		n = len(trs)
	}
	if n < 1 || n > len(trs) {
		return usageErrorf(cmd, "--max %d: want 1 to the %d processes given", f.max, len(trs))
	}
	for _, s := range settings {
		c := cfg
		c.Scope, c.Control = s.scope, s.control
		if err := c.Check(n); err != nil {
			return usageErrorf(cmd, "%v: %v", s, err)
		}
	}
	points, err := thrashRuns(cmd.Context(), trs[:n], cfg, settings, mech, f.mode)
	if err != nil {
		return err
	}
	if err := writeThrash(cmd.OutOrStdout(), f.output, about, cfg, settings, points); err != nil {
		return err
	}
	if f.plot == "" {
		return nil
	}
	lines := make([]series, len(settings))
	for i, s := range settings {
		// "global, ws" rather than the table's "global/ws", which the plot
		// would take for a path.
		lines[i].name = strings.Replace(s.String(), "/", ", ", 1)
		for _, p := range points[i] {
			lines[i].xs = append(lines[i].xs, float64(p.Processes))
			lines[i].ys = append(lines[i].ys, 100*p.Utilisation)
		}
	}
	// Utilisation is a percentage: the axis goes to 100, so that a curve's
	// collapse reads against the whole.
	o := f.plotFlags.options(cmd)
	o.yMax = 100
	return writePlotWith(f.plot, fmt.Sprintf("Thrashing: %d frames, %s", cfg.Frames, cfg.Policy), "processes (degree of multiprogramming)", "CPU utilisation (%)", lines, o)
}

// thrashRuns runs every setting with 1, 2... len(trs) processes: in
// simulation on every processor at once, in real mode one after the other.
func thrashRuns(ctx context.Context, trs []*pager.Trace, cfg multi.Config, settings []setting, mech live.Mechanism, mode string) ([][]thrashPoint, error) {
	n := len(trs)
	points := make([][]thrashPoint, len(settings))
	for i := range points {
		points[i] = make([]thrashPoint, n)
	}
	errs := make([]error, len(settings)*n)
	workers := runtime.GOMAXPROCS(0)
	if mode == "real" {
		workers = 1
	}
	err := runJobs(ctx, len(errs), workers, func(j int) {
		s, k := settings[j/n], j%n+1
		c := cfg
		c.Scope, c.Control = s.scope, s.control
		res, _, err := runModel(ctx, trs[:k], c, mech, mode, &multi.RunOptions{})
		if err != nil {
			errs[j] = fmt.Errorf("%v, %d processes: %w", s, k, err)
			return
		}
		points[j/n][k-1] = thrashPoint{
			Scope: s.scope.String(), LoadControl: s.control.String(), Processes: k, Frames: c.Frames, Policy: c.Policy, Mode: mode,
			Utilisation: res.Utilisation(), Throughput: res.Throughput(), DeviceBusy: res.DeviceUtilisation(), ElapsedMS: msf(res.Elapsed),
			Accesses: res.Total.Accesses, Faults: res.Total.Faults, Suspensions: res.Total.Suspensions,
		}
	})
	if err != nil {
		return nil, err
	}
	for _, err := range errs {
		if err != nil {
			return nil, err
		}
	}
	return points, nil
}

func writeThrash(w io.Writer, format, about string, cfg multi.Config, settings []setting, points [][]thrashPoint) error {
	switch format {
	case "json":
		return writeJSONLines(w, slices.Concat(points...))
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"scope", "load_control", "processes", "frames", "policy", "mode", "cpu_utilisation", "throughput", "device_utilisation", "elapsed_ms", "accesses", "faults", "suspensions"})
		for _, line := range points {
			for _, p := range line {
				cw.Write([]string{p.Scope, p.LoadControl, strconv.Itoa(p.Processes), strconv.Itoa(p.Frames), p.Policy, p.Mode,
					strconv.FormatFloat(p.Utilisation, 'f', 6, 64), strconv.FormatFloat(p.Throughput, 'f', 1, 64), strconv.FormatFloat(p.DeviceBusy, 'f', 6, 64),
					strconv.FormatFloat(p.ElapsedMS, 'f', -1, 64), u(p.Accesses), u(p.Faults), u(p.Suspensions)})
			}
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(w, "# %s\n", about)
	alloc := ""
	for _, s := range settings {
		if s.scope == multi.Local && s.control != multi.WorkingSet {
			alloc = fmt.Sprintf(", %v allocation", cfg.Allocation)
		}
	}
	fmt.Fprintf(w, "# %d frames, %s%s; quantum %d, access %v, fault %v\n", cfg.Frames, cfg.Policy, alloc, cfg.Quantum, cfg.AccessTime, cfg.FaultTime)
	table := func(title string, cell func(thrashPoint) string) error {
		fmt.Fprintf(w, "# %s\n", title)
		tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
		head := "N\t"
		for _, s := range settings {
			head += s.String() + "\t"
		}
		fmt.Fprintln(tw, head)
		for k := range points[0] {
			line := strconv.Itoa(k+1) + "\t"
			for i := range settings {
				line += cell(points[i][k]) + "\t"
			}
			fmt.Fprintln(tw, line)
		}
		return tw.Flush()
	}
	if err := table("CPU utilisation (%) against the number of processes N", func(p thrashPoint) string {
		return strconv.FormatFloat(100*p.Utilisation, 'f', 1, 64)
	}); err != nil {
		return err
	}
	// Every access costs the same processor time: throughput is
	// utilisation times a constant, and needs no table of its own.
	fmt.Fprintf(w, "# throughput: utilisation × %.0f accesses per second (-o json or csv give it)\n", float64(time.Second)/float64(cfg.AccessTime))
	return table("paging device busy (%)", func(p thrashPoint) string {
		return strconv.FormatFloat(100*p.DeviceBusy, 'f', 1, 64)
	})
}

// demoThrash is the demo's step: the figure for global replacement with
// and without the working-set control, and a check of its shape.
func demoThrash(cmd *cobra.Command) error {
	trs, err := multi.Workload{Seed: 1}.Traces() // vmsim thrash's
	if err != nil {
		return err
	}
	cfg := multi.Config{Policy: "lru", Frames: 100}.WithDefaults()
	settings := []setting{{multi.Global, multi.None}, {multi.Global, multi.WorkingSet}}
	points, err := thrashRuns(cmd.Context(), trs, cfg, settings, 0, "sim")
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "N\tCPU% "+settings[0].String()+"\tCPU% "+settings[1].String()+"\t")
	for k := range trs {
		fmt.Fprintf(tw, "%d\t%.1f\t%.1f\t\n", k+1, 100*points[0][k].Utilisation, 100*points[1][k].Utilisation)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	best := func(ps []thrashPoint) (int, float64) {
		at := 0
		for i, p := range ps {
			if p.Utilisation > ps[at].Utilisation {
				at = i
			}
		}
		return at, ps[at].Utilisation
	}
	at, peak := best(points[0])
	ok := at > 0 && points[0][len(trs)-1].Utilisation < peak/2
	wsAt, wsPeak := best(points[1])
	for _, p := range points[1][wsAt:] {
		ok = ok && p.Utilisation > 0.75*wsPeak
	}
	status := "ok"
	if !ok {
		status = "FAILED"
	}
	fmt.Fprintf(w, "check: without load control utilisation peaks at %d processes (%.1f%%) and collapses; with the working-set control it stays above three quarters of its peak: %s\n", at+1, 100*peak, status)
	if !ok {
		return fmt.Errorf("demo: the thrashing curve did not show as expected")
	}
	return nil
}
