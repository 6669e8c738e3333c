package main

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"strconv"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/traces"
)

type wsFlags struct {
	traceFlags
	tau    int
	frames int
	points int
	output string
	plot   string
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
	fl.IntVarP(&f.frames, "frames", "f", 0, "also show the resident pages of a pager with `N` frames")
	fl.IntVar(&f.points, "points", 50, "instants to print (the plot uses up to 1,000)")
	fl.StringVarP(&f.output, "output", "o", "table", "table, json (JSON Lines) or csv")
	fl.StringVar(&f.plot, "plot", "", "also draw the curves to `FILE` (.svg or .png)")
	addTraceFlags(cmd, &f.traceFlags)
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
	if f.frames < 0 {
		return usageErrorf(cmd, "--frames %d: must be at least 1 (or 0: none)", f.frames)
	}
	if err := checkOutput(cmd, f.output, []string{"table", "json", "csv"}, f.plot); err != nil {
		return err
	}
	t, err := openTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer t.close()
	tr, err := pager.Load(cmd.Context(), path, t.reader, nil)
	if err != nil {
		return err
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
	if f.frames > 0 {
		// A demand pager keeps every page it loaded until its frames are
		// full: the distinct pages so far, at most frames.
		resident = make([]int, n)
		seen := traces.NewDense()
		for i := range n {
			id, _ := tr.At(i)
			seen.ID(tr.PageNum(id))
			resident[i] = min(seen.Len(), f.frames)
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
		lines = append(lines, series{name: fmt.Sprintf("resident pages (%d frames)", f.frames)})
	}
	for _, i := range at {
		lines[0].xs, lines[0].ys = append(lines[0].xs, float64(i)), append(lines[0].ys, float64(ws[i]))
		if resident != nil {
			lines[1].xs, lines[1].ys = append(lines[1].xs, float64(i)), append(lines[1].ys, float64(resident[i]))
		}
	}
	return writePlot(f.plot, "Working set over time: "+path, "time (accesses)", "pages", lines)
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

func writeWS(cmd *cobra.Command, f wsFlags, n int, ws, resident []int, at []int) error {
	out := cmd.OutOrStdout()
	type point struct {
		Time     int  `json:"t"`
		WS       int  `json:"working_set"`
		Resident *int `json:"resident,omitempty"`
	}
	switch f.output {
	case "json":
		enc := json.NewEncoder(out)
		for _, i := range at {
			p := point{Time: i, WS: ws[i]}
			if resident != nil {
				p.Resident = &resident[i]
			}
			if err := enc.Encode(p); err != nil {
				return err
			}
		}
		return nil
	case "csv":
		cw := csv.NewWriter(out)
		head := []string{"t", "working_set"}
		if resident != nil {
			head = append(head, "resident")
		}
		cw.Write(head)
		for _, i := range at {
			rec := []string{strconv.Itoa(i), strconv.Itoa(ws[i])}
			if resident != nil {
				rec = append(rec, strconv.Itoa(resident[i]))
			}
			cw.Write(rec)
		}
		cw.Flush()
		return cw.Error()
	}
	fmt.Fprintf(out, "# %d accesses, window tau = %d accesses\n", n, f.tau)
	tw := tabwriter.NewWriter(out, 0, 0, 2, ' ', tabwriter.AlignRight)
	head := "T\tW(T,TAU)\t"
	if resident != nil {
		head += "RESIDENT\t"
	}
	fmt.Fprintln(tw, head)
	for _, i := range at {
		line := fmt.Sprintf("%d\t%d\t", i, ws[i])
		if resident != nil {
			line += fmt.Sprintf("%d\t", resident[i])
		}
		fmt.Fprintln(tw, line)
	}
	return tw.Flush()
}
