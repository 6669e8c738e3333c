package main

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/traces"
	"vmsim/traces/gen"
	"vmsim/vm/arch"
)

func newGen() *cobra.Command {
	var opts gen.Options
	var out, to string
	var pageSize uint64
	var kindHelp strings.Builder
	for _, k := range gen.Kinds() {
		fmt.Fprintf(&kindHelp, "  %-8s %s\n", k, gen.Describe(k))
	}
	cmd := &cobra.Command{
		Use:   "gen KIND",
		Short: "Generate a synthetic trace",
		Long: `gen writes a synthetic trace of --n accesses to standard output, or to the
file -o (written under a temporary name and renamed once complete), in the
format --to. Each access writes with probability --writes. The same kind,
flags and --seed give byte-identical output on every platform.

Kinds:
` + kindHelp.String() + `
--n defaults to 1000 (12 for belady: the string once).`,
		Example: `  vmsim gen belady                         # 1 2 3 4 1 2 5 1 2 3 4 5
  vmsim gen loop --pages 5 --n 20 --writes 0.5 --seed 7
  vmsim gen zipf --n 10000000 --pages 100000 --alpha 1.1 -o zipf.vmt --to vmt
  vmsim gen phases --pages 4096 --ws 64 --phase 10000 --n 100000 -o phases.pages`,
		Args: exactArgs(1, "KIND"),
		RunE: func(cmd *cobra.Command, args []string) error {
			kind := args[0]
			if gen.Describe(kind) == "" {
				return usageErrorf(cmd, "unknown kind %q (want %s)", kind, strings.Join(gen.Kinds(), ", "))
			}
			flags := cmd.Flags()
			if kind == gen.Belady && !flags.Changed("n") {
				opts.N = 12
			}
			switch {
			case !(opts.Writes >= 0 && opts.Writes <= 1):
				return usageErrorf(cmd, "--writes %v: want a fraction from 0 to 1", opts.Writes)
			case opts.Pages == 0:
				return usageErrorf(cmd, "--pages 0: want at least 1 page")
			case kind == gen.Zipf && !(opts.Alpha >= 0 && opts.Alpha <= 100):
				return usageErrorf(cmd, "--alpha %v: want an exponent from 0 to 100", opts.Alpha)
			case kind == gen.Zipf && opts.Pages > gen.MaxZipfPages:
				return usageErrorf(cmd, "--pages %d: zipf draws from at most %d pages", opts.Pages, gen.MaxZipfPages)
			case kind == gen.Phases && opts.WorkingSet > opts.Pages:
				return usageErrorf(cmd, "--ws %d is larger than --pages %d: the working set is part of the pages", opts.WorkingSet, opts.Pages)
			case !contains(traces.WriterFormats(), to):
				return usageErrorf(cmd, "--to %s: cannot write that format (want %s)", to, strings.Join(traces.WriterFormats(), ", "))
			case checkPageSize(arch.PageSize(pageSize)) != nil:
				return usageErrorf(cmd, "--page-size %d: %v", pageSize, traces.ErrPageSize)
			}
			r, err := gen.New(kind, &opts)
			if err != nil {
				return usageErrorf(cmd, "%v", err)
			}
			wopts := &traces.WriterOptions{PageSize: arch.PageSize(pageSize), Count: opts.N}
			if err := writeTrace(cmd.Context(), cmd.OutOrStdout(), r, out, to, wopts); err != nil {
				return fmt.Errorf("gen: %w", err)
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.Uint64Var(&opts.N, "n", 1000, "number of accesses")
	f.Uint64Var(&opts.Pages, "pages", 100, "number of distinct pages (loop: the loop's length; ignored by belady)")
	f.Float64Var(&opts.Writes, "writes", 0, "fraction of accesses that write, from 0 to 1")
	f.Uint64Var(&opts.Seed, "seed", 1, "random seed")
	f.Float64Var(&opts.Alpha, "alpha", 1, "zipf exponent")
	f.Uint64Var(&opts.WorkingSet, "ws", 0, "phases: working set in pages (default pages/8)")
	f.Uint64Var(&opts.PhaseLen, "phase", 0, "phases: accesses per phase (default n/8)")
	f.StringVarP(&out, "out", "o", "-", "output `FILE` (- is standard output)")
	f.StringVar(&to, "to", traces.FormatPages, "output `FORMAT`: "+strings.Join(traces.WriterFormats(), ", "))
	f.Uint64Var(&pageSize, "page-size", uint64(traces.DefaultPageSize), "page size in `BYTES` (rw addresses, oracle sizes, vmt header)")
	return cmd
}
