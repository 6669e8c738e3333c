package main

import (
	"context"
	"fmt"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/traces"
)

type wsFlags struct {
	traceFlags
	outputFlags
	tau    int
	maxMem string
	frames string
	points int
}

func newWS() *cobra.Command {
	var f wsFlags
	cmd := &cobra.Command{
		Use:   "ws [flags] TRACE",
		Short: "Working-set size W(t, tau) and resident pages over time",
		Long: `ws follows TRACE (a file, or - for standard input) through time and prints, at
--points evenly spaced instants, Denning's working-set size W(t, tau): the
number of distinct pages referenced in the last tau accesses. With --frames
it also prints the resident pages of a demand pager with that many frames at
the same instants (whatever its policy: it holds every page it has loaded
until the frames are full, then exactly that many): a fixed frame budget
holds the same number of pages whatever the program needs, while the
working set grows and shrinks with its phases.`,
		Example: `  vmsim ws --tau 100 trace.pages
  vmsim ws --tau 500 -f 64 --plot ws.svg trace.pages`,
		Args: exactArgs(1, "TRACE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runWS(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.tau, "tau", 100, "working-set window `N` in accesses")
	fl.StringVarP(&f.frames, "frames", "f", "", "also show the resident pages of a pager with `N` frames")
	fl.IntVar(&f.points, "points", 50, "instants to print (the plot uses up to 1,000)")
	addOutputFlags(cmd, &f.outputFlags, []string{"table", "json", "csv"}, "the curves")
	addTraceFlags(cmd, &f.traceFlags)
	addMaxMemoryFlag(cmd, &f.maxMem, "the trace held whole")
	return cmd
}

func runWS(cmd *cobra.Command, f wsFlags, path string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	if f.tau < 1 {
		return usageErrorf(cmd, "--tau %d: must be at least 1", f.tau)
	}
	if f.points < 1 {
		return usageErrorf(cmd, "--points %d: must be at least 1", f.points)
	}
	budget, err := memoryBudget(f.maxMem)
	if err != nil {
		return usageErrorf(cmd, "--max-memory: %v", err)
	}
	frames := 0
	if f.frames != "" {
		var err error
		if frames, err = parseFrameCount(f.frames); err != nil {
			return usageErrorf(cmd, "--frames: %v", err)
		}
	}
	if err := f.outputFlags.check(cmd); err != nil {
		return err
	}
	t, err := openTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer t.close()
	tr, err := pager.Load(cmd.Context(), path, t.reader, &pager.LoadOptions{MaxBytes: budget})
	if err != nil {
		return tooLarge(err, "ws", "cut the trace")
	}
	n := tr.Len()
	// A window or more instants than the trace has change nothing: clamp
	// them, so that a huge flag costs no memory.
	w := traces.NewWorkingSet(min(f.tau, max(n, 1)))
	f.points = min(f.points, max(n, 1))
	ws := make([]int, n)
	for i := range n {
		id, _ := tr.At(i)
		ws[i] = w.Access(tr.PageNum(id))
	}
	var resident []int
	if frames > 0 {
		// What a demand pager with that budget holds after each access
		// (whatever its policy: every page it loaded until the frames are
		// full, then exactly that many).
		if resident, err = residentPages(cmd.Context(), tr, frames); err != nil {
			return err
		}
	}
	if err := writeWS(cmd, f, n, ws, resident, instants(n, f.points)); err != nil {
		return err
	}
	if f.plot == "" {
		return nil
	}
	at := instants(n, 1000)
	lines := []series{{name: fmt.Sprintf("W(t, %d)", f.tau)}}
	if resident != nil {
		lines = append(lines, series{name: fmt.Sprintf("resident pages (%d frames)", frames)})
	}
	for _, i := range at {
		lines[0].xs, lines[0].ys = append(lines[0].xs, float64(i)), append(lines[0].ys, float64(ws[i]))
		if resident != nil {
			lines[1].xs, lines[1].ys = append(lines[1].xs, float64(i)), append(lines[1].ys, float64(resident[i]))
		}
	}
	return writePlotWith(f.plot, "Working set over time: "+path, "time (accesses)", "pages", lines, f.plotFlags.options(cmd))
}

// instants returns up to k evenly spaced indexes of n, always the last.
func instants(n, k int) []int {
	if n == 0 {
		return nil
	}
	var out []int
	for j := 1; j <= k; j++ {
		i := n*j/k - 1
		if i >= 0 && (len(out) == 0 || out[len(out)-1] != i) {
			out = append(out, i)
		}
	}
	return out
}

// residentPages replays tr through a pager with frames frames and returns
// its resident pages after each access.
func residentPages(ctx context.Context, tr *pager.Trace, frames int) ([]int, error) {
	resident := make([]int, 0, tr.Len())
	_, err := pager.Simulate(ctx, tr, pager.Config{Policy: "fifo", Frames: frames}, func(_ int, _ pager.Outcome, p *pager.Pager) {
		resident = append(resident, p.Used())
	})
	return resident, err
}

func writeWS(cmd *cobra.Command, f wsFlags, n int, ws, resident []int, at []int) error {
	t := &table{cols: []column{
		{head: "T", key: "t", in: inAll},
		{head: "W(T,TAU)", key: "working_set", in: inAll},
		{head: "RESIDENT", key: "resident", in: inAll, optional: true},
	}}
	for _, i := range at {
		var res any
		if resident != nil {
			res = resident[i]
		}
		t.add(i, ws[i], res)
	}
	out := cmd.OutOrStdout()
	if f.output == "table" {
		fmt.Fprintf(out, "# %d accesses, window tau = %d accesses\n", n, f.tau)
	}
	return t.write(out, f.output)
}
