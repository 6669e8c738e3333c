package main

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/traces"
	"vmsim/vm/arch"
)

type stepFlags struct {
	traceFlags
	policy string
	frames string
	limit  int
	seed   uint64
	tick   uint64
	tau    uint64
	output string
}

func newStep() *cobra.Command {
	var f stepFlags
	cmd := &cobra.Command{
		Use:   "step -p POLICY -f N [flags] TRACE",
		Short: "The textbook table: one row per access, with the frames after it",
		Long: `step replays TRACE (a file, or - for standard input) through one policy and
frame count and prints the table a textbook draws: for each access its index,
page, R or W, whether it hit, faulted or was a protection fault (the first
write to a clean resident page), the page evicted (and whether it was written
back), and the resident pages after it, in the policy's own order with the
next victim first where the policy has one:

  fifo         oldest load first
  lru / mru    least / most recently used first
  lfu          fewest uses first (n=count), ties least recently used first
  clock        frame order, R bits, > marks the frame under the hand
  nfu, aging   smallest counter first (c=counter, aging in binary), R bits
  wsclock      frame order, R bits and time of last use, > the hand
  opt          farthest next use first (next=access index)
  arc          T1 then T2, least recent first; p and the ghost lists' sizes
  sieve        oldest first, visited bits, > the hand
  s3fifo       small queue S then main queue M, oldest first, frequencies

--limit shows the first N accesses of a long trace.`,
		Example: `  echo 1,2,3,4,1,2,5,1,2,3,4,5 | vmsim step -p fifo -f 3 -
  vmsim step -p clock -f 4 --limit 20 trace.pages`,
		Args: exactArgs(1, "TRACE"),
		RunE: func(cmd *cobra.Command, args []string) error { return runStep(cmd, f, args[0]) },
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.policy, "policy", "p", "fifo", "the `POLICY`")
	fl.StringVarP(&f.frames, "frames", "f", "3", "the number of frames `N`")
	fl.IntVar(&f.limit, "limit", 0, "show only the first `N` accesses (0: all)")
	fl.Uint64Var(&f.seed, "seed", 1, "seed of the random policy")
	fl.Uint64Var(&f.tick, "tick", 0, "nfu and aging: accesses between clock ticks (0: one tick per frames accesses)")
	fl.Uint64Var(&f.tau, "tau", 0, "wsclock: working-set window in accesses (0: 2 × frames)")
	fl.StringVarP(&f.output, "output", "o", "table", "table or json (JSON Lines, one object per access)")
	addTraceFlags(cmd, &f.traceFlags)
	return cmd
}

// stepRow is one access of the table.
type stepRow struct {
	Index     int            `json:"index"`
	Page      arch.PageNum   `json:"page"`
	Write     bool           `json:"write"`
	Result    string         `json:"result"`
	Victim    *arch.PageNum  `json:"victim,omitempty"`
	WroteBack bool           `json:"written_back,omitempty"`
	Frames    []arch.PageNum `json:"frames"`
	Notes     []string       `json:"notes,omitempty"`
	State     string         `json:"state,omitempty"`
}

func runStep(cmd *cobra.Command, f stepFlags, path string) error {
	if err := f.traceFlags.check(cmd); err != nil {
		return err
	}
	if _, err := pager.NewPolicy(f.policy, pager.Options{}); err != nil {
		return usageErrorf(cmd, "--policy: %v", err)
	}
	frames, err := parseFrameCount(f.frames)
	if err != nil {
		return usageErrorf(cmd, "--frames: %v", err)
	}
	if f.limit < 0 {
		return usageErrorf(cmd, "--limit %d: must be 0 (all) or more", f.limit)
	}
	if err := checkOutput(cmd, f.output, []string{"table", "json"}, ""); err != nil {
		return err
	}
	t, err := openTrace(cmd.Context(), path, f.traceFlags, cmd.InOrStdin())
	if err != nil {
		return err
	}
	defer t.close()
	var r traces.Reader = t.reader
	if f.limit > 0 && f.policy != "opt" {
		// opt needs the whole trace for next uses; the others only the
		// accesses shown.
		r = limited(t.reader, uint64(f.limit))
	}
	tr, err := pager.Load(cmd.Context(), path, r, nil)
	if err != nil {
		return err
	}
	cfg := pager.Config{Policy: f.policy, Frames: frames, Options: pager.Options{Seed: f.seed, Tick: f.tick, Tau: f.tau}}
	var rows []stepRow
	res, err := pager.Simulate(cmd.Context(), tr, cfg, func(i int, o pager.Outcome, p *pager.Pager) {
		if f.limit > 0 && i >= f.limit {
			return
		}
		id, write := tr.At(i)
		row := stepRow{Index: i, Page: tr.PageNum(id), Write: write, Result: o.Kind.String()}
		if o.Evicted {
			v := tr.PageNum(o.Victim)
			row.Victim, row.WroteBack = &v, o.WroteBack
		}
		frames, state := p.Policy().(pager.Inspector).Inspect()
		for _, fr := range frames {
			row.Frames = append(row.Frames, tr.PageNum(fr.Page))
			row.Notes = append(row.Notes, fr.Note)
		}
		if slicesAllEmpty(row.Notes) {
			row.Notes = nil
		}
		row.State = state
		rows = append(rows, row)
	})
	if err != nil {
		return err
	}
	w := cmd.OutOrStdout()
	if f.output == "json" {
		enc := json.NewEncoder(w)
		for _, r := range rows {
			if err := enc.Encode(r); err != nil {
				return err
			}
		}
		return nil
	}
	return writeStepTable(w, f, res, rows)
}

func slicesAllEmpty(s []string) bool {
	for _, v := range s {
		if v != "" {
			return false
		}
	}
	return true
}

func writeStepTable(w io.Writer, f stepFlags, res pager.Result, rows []stepRow) error {
	fmt.Fprintf(w, "# %s, %d frames: %s\n", f.policy, res.Frames, pager.Summary(f.policy))
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	hasState := false
	for _, r := range rows {
		hasState = hasState || r.State != ""
	}
	head := "#\tPAGE\tR/W\tRESULT\tVICTIM\tFRAMES AFTER"
	if hasState {
		head += "\tSTATE"
	}
	fmt.Fprintln(tw, head)
	for _, r := range rows {
		rw := "R"
		if r.Write {
			rw = "W"
		}
		victim := ""
		if r.Victim != nil {
			victim = u(uint64(*r.Victim))
			if r.WroteBack {
				victim += " (written back)"
			}
		}
		cells := make([]string, len(r.Frames))
		for i, p := range r.Frames {
			cells[i] = u(uint64(p))
			if r.Notes != nil && r.Notes[i] != "" {
				if strings.HasPrefix(r.Notes[i], ">") {
					cells[i] = ">" + cells[i] + "(" + r.Notes[i][1:] + ")"
				} else {
					cells[i] += "(" + r.Notes[i] + ")"
				}
			}
		}
		line := fmt.Sprintf("%d\t%d\t%s\t%s\t%s\t%s", r.Index, r.Page, rw, r.Result, victim, strings.Join(cells, " "))
		if hasState {
			line += "\t" + r.State
		}
		fmt.Fprintln(tw, line)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	shown := ""
	if f.limit > 0 && int(res.Accesses) > len(rows) {
		shown = fmt.Sprintf(" (first %d shown)", len(rows))
	}
	fmt.Fprintf(w, "# %d accesses%s: %d faults, %d hits, %d evictions, %d written back, %d protection faults\n",
		res.Accesses, shown, res.Faults, res.Hits, res.Evictions, res.Writebacks, res.ProtectionFaults)
	return nil
}
