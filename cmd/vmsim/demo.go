package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"vmsim/pager"
	"vmsim/pager/live"
	"vmsim/vm/arch"
	"vmsim/vm/exercise"
)

func newDemo() *cobra.Command {
	return &cobra.Command{
		Use:   "demo",
		Short: "A short guided run on built-in data, on real memory",
		Long: `demo needs no arguments: it runs the first exercises on real memory, with a
few lines of explanation each, and checks them (exit status 1 if a check fails).`,
		Example: `  vmsim demo`,
		Args:    noArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			w := cmd.OutOrStdout()
			fmt.Fprintln(w, "== 1. A fault caught in user space, resolved with mprotect")
			fmt.Fprintln(w, "A page starts PROT_NONE: the first write faults, a handler grants access, the write retries.")
			fmt.Fprintln(w)
			if err := exercise.Mprotect(w, nil); err != nil {
				return err
			}
			if err := ctxErr(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "== 2. A handler that maps the missing page and jumps back")
			fmt.Fprintln(w, "Nothing is mapped at base: the read faults, the handler maps a page there, the read retries.")
			fmt.Fprintln(w)
			if err := exercise.Remap(w, nil); err != nil {
				return err
			}
			if err := ctxErr(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "== 3. Demand paging, simulated and on real memory")
			fmt.Fprintln(w, "Belady's string 1,2,3,4,1,2,5,1,2,3,4,5 under FIFO: with 4 frames it faults more than with 3.")
			fmt.Fprintln(w, "In real mode every access is a real load on a region that starts PROT_NONE, and every")
			fmt.Fprintln(w, "fault is a real hardware fault caught in user space (USER-FAULTS).")
			fmt.Fprintln(w)
			if err := demoPaging(cmd); err != nil {
				return err
			}
			if err := ctxErr(cmd.Context()); err != nil {
				return err
			}
			fmt.Fprintln(w)
			fmt.Fprintln(w, "== 4. Many processes, one memory: thrashing (vmsim thrash)")
			fmt.Fprintln(w, "1 to 10 processes of 20-page loops on 100 frames: utilisation rises, then collapses once the")
			fmt.Fprintln(w, "loops no longer fit; the working-set control suspends processes instead.")
			fmt.Fprintln(w)
			return demoThrash(cmd)
		},
	}
}

// demoPaging replays Belady's string in both modes and checks the anomaly.
func demoPaging(cmd *cobra.Command) error {
	b := pager.NewBuilder("belady")
	for _, p := range []arch.PageNum{1, 2, 3, 4, 1, 2, 5, 1, 2, 3, 4, 5} {
		b.Add(p, false)
	}
	t := b.Trace()
	var rows []row
	for _, frames := range []int{3, 4} {
		cfg := pager.Config{Policy: "fifo", Frames: frames}
		sim, err := pager.Simulate(cmd.Context(), t, cfg, nil)
		if err != nil {
			return err
		}
		real, err := replayReal(cmd.Context(), t.Name(), t.Distinct(), t.Source(0, false), cfg, live.Mprotect, nil)
		if err != nil {
			return err
		}
		rows = append(rows, row{Result: sim, Mode: "sim"}, real)
	}
	w := cmd.OutOrStdout()
	if err := writeRows(w, "table", rows); err != nil {
		return err
	}
	ok := rows[0].Faults == 9 && rows[2].Faults == 10 && rows[1].Faults == 9 && rows[3].Faults == 10 &&
		*rows[1].UserFaults == 9 && *rows[3].UserFaults == 10
	status := "ok"
	if !ok {
		status = "FAILED"
	}
	fmt.Fprintf(w, "check: FIFO faults 9 with 3 frames and 10 with 4, in both modes: %s\n", status)
	if !ok {
		return fmt.Errorf("demo: Belady's anomaly did not show as expected")
	}
	return nil
}
