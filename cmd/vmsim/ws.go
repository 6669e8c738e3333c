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
	policy string
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
number of distinct pages referenced in the last tau accesses. With --policy
and --frames it also prints the resident pages of that pager at the same
instants: a fixed frame budget holds the same number of pages whatever the
program needs, while the working set grows and shrinks with its phases.`,
		Example: `  vmsim ws --tau 100 trace.pages
  vmsim ws --tau 500 -p lru -f 64 --plot ws.svg trace.pages`,
		Args: exactArgs(1, "TRACE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runWS(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.IntVar(&f.tau, "tau", 100, "working-set window `N` in accesses")
	fl.StringVarP(&f.policy, "policy", "p", "", "also show the resident pages of this `POLICY`")
	fl.IntVarP(&f.frames, "frames", "f", 0, "frames of --policy")
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
	if (f.policy == "") != (f.frames == 0) {
		return usageErrorf(cmd, "--policy and --frames go together: give both or neither")
	}
	if f.policy != "" {
		if _, err := pager.NewPolicy(f.policy, pager.Options{}); err != nil {
			return usageErrorf(cmd, "--policy: %v", err)
		}
		if f.frames < 1 {
			return usageErrorf(cmd, "--frames %d: must be at least 1", f.frames)
		}
	}
	if err := checkOutput(cmd, f.output, []string{"table", "json", "csv"}, f.plot); err != nil {
		return err
	}
	t, err := openTrace(path, f.traceFlags, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer t.close()
	tr, err := pager.Load(path, t.reader, nil)
	if err != nil {
		return err
	}
	n := tr.Len()
	w := traces.NewWorkingSet(f.tau)
	ws := make([]int, n)
	for i := range n {
		ws[i] = w.Access(tr.IDs[tr.Pages[i]])
	}
	var resident []int
	if f.policy != "" {
		resident = make([]int, n)
		cfg := pager.Config{Policy: f.policy, Frames: f.frames}
		if _, err := pager.Run(tr, cfg, func(i int, _ pager.Outcome, p *pager.Pager) { resident[i] = p.Used() }); err != nil {
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
		lines = append(lines, series{name: fmt.Sprintf("resident pages (%s, %d frames)", f.policy, f.frames)})
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
