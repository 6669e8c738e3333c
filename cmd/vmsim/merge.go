package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"vmsim/pager/sweep"
	"vmsim/traces"
)

type mergeFlags struct {
	specFlags
	traces []string
	out    string
}

// mergeShown is how many examples a problem line gives.
const mergeShown = 3

func newMerge() *cobra.Command {
	var f mergeFlags
	cmd := &cobra.Command{
		Use:   "merge [flags] RESULTS...",
		Short: "Check that the shards of a sweep hold every job once, and merge them",
		Long: `merge reads the JSON Lines files that the shards of a vmsim sweep wrote (RESULTS:
files, glob patterns that vmsim expands, or - for standard input), checks them against the jobs of that sweep, and
writes one record per job, sorted by trace, policy and frames, to standard
output or to --out FILE (written under a temporary name and renamed once
complete).

The sweep is told as it was run: its traces with --manifest or --trace (a
path or glob pattern, repeated), and the same --policy, --frames, --seed,
--tick, --tau, --format, --page-size, --no-instr and --limit. merge hashes
every trace to know every job's id.

It checks every line (see vmsim sweep --help for the fields; the id must be
the one its fields give) and then that each job of the sweep has a record,
that no record is of a job outside it, and that records of the same job
agree. Each class of problem is one line on standard error, with the first
few cases, and merge exits with 1 writing nothing. Not problems, said on
standard error: an incomplete last line of a file (a shard stopped in the
middle of writing it: its job is missing unless another record has it);
copies of a record with the same counts (a file given twice, two traces
with the same bytes), of which one is kept.

Records are matched to jobs by id, and named as the sweep names the trace:
a trace renamed since, or a copy of another, is still the same job.`,
		Example: `  vmsim merge -m traces.list -p all -f 4:64:4 -o all.jsonl results/shard-*.jsonl
  vmsim merge --trace 'traces/*.pages' -p lru,opt -f 8,16 shard-0.jsonl shard-1.jsonl
  cat results/*.jsonl | vmsim merge -m traces.list -p lru -f 8 - > all.jsonl`,
		Args: minArgs(1, "RESULTS file (the shards' output, or - for standard input)"),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runMerge(cmd, f, args)
		},
	}
	addSpecFlags(cmd, &f.specFlags)
	fl := cmd.Flags()
	fl.StringArrayVar(&f.traces, "trace", nil, "a trace of the sweep: a `PATH` or glob pattern (repeat it)")
	fl.StringVarP(&f.out, "out", "o", "-", "write the merged records to `FILE` (- is standard output)")
	return cmd
}

func runMerge(cmd *cobra.Command, f mergeFlags, args []string) error {
	if _, err := f.configs(cmd); err != nil {
		return err
	}
	if len(f.traces) == 0 && f.manifest == "" {
		return usageErrorf(cmd, "which sweep? give its traces with --manifest FILE or --trace PATH, and its flags")
	}
	stdins := 0
	for _, a := range args {
		if a == "-" {
			stdins++
		}
	}
	if stdins > 1 {
		return usageErrorf(cmd, "standard input (-) can be read only once")
	}
	spec, err := f.spec(cmd, f.traces)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	all := make([]*sweep.Trace, len(spec.Traces))
	for i := range spec.Traces {
		all[i] = &spec.Traces[i]
	}
	if err := sweep.Hash(cmd.Context(), all); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	jobs, same := spec.Jobs()
	paths, err := expandResults(args)
	if err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	var files []*sweep.File
	for _, path := range paths {
		got, err := readResults(cmd, path)
		if err != nil {
			return fmt.Errorf("merge: %w", err)
		}
		files = append(files, got)
	}
	rep := sweep.Merge(jobs, files)

	stderr := cmd.ErrOrStderr()
	for _, t := range spec.Traces {
		if first, ok := same[t.Name]; ok {
			fmt.Fprintf(stderr, "vmsim: merge: %s has the same bytes as %s: its jobs are %s's\n", t.Name, first, first)
		}
	}
	for _, where := range rep.Torn {
		fmt.Fprintf(stderr, "vmsim: merge: %s: an incomplete last line (the run that wrote it was stopped in the middle): ignored\n", where)
	}
	if rep.Duplicates > 0 {
		fmt.Fprintf(stderr, "vmsim: merge: %s dropped as copies of others (the same job with the same counts)\n", count(rep.Duplicates, "record"))
	}
	if !rep.OK() {
		return fmt.Errorf("merge: %s: nothing written", strings.Join(mergeProblems(stderr, rep, len(jobs)), ", "))
	}
	if err := writeRecords(cmd.OutOrStdout(), f.out, rep.Records); err != nil {
		return fmt.Errorf("merge: %w", err)
	}
	fmt.Fprintf(stderr, "vmsim: merge: %s, each once, from %s\n", count(len(rep.Records), "job"), count(len(files), "file"))
	return nil
}

// expandResults expands the glob patterns among RESULTS, as a shell
// would, except that a pattern that matches nothing is an error.
func expandResults(args []string) ([]string, error) {
	var out []string
	for _, a := range args {
		if a == "-" || !strings.ContainsAny(a, "*?[") {
			out = append(out, a)
			continue
		}
		m, err := filepath.Glob(a)
		if err != nil {
			return nil, fmt.Errorf("pattern %q: %w", a, err)
		}
		if len(m) == 0 {
			return nil, fmt.Errorf("%w %q", sweep.ErrNoMatch, a)
		}
		out = append(out, m...)
	}
	return out, nil
}

// readResults reads one results file, or standard input for "-".
func readResults(cmd *cobra.Command, path string) (*sweep.File, error) {
	if path == "-" {
		return sweep.Read(cmd.InOrStdin(), "standard input")
	}
	file, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer file.Close()
	return sweep.Read(file, path)
}

// mergeProblems prints one line per class of problem of rep and returns
// the classes in a few words each.
func mergeProblems(w io.Writer, rep *sweep.Report, jobs int) []string {
	var classes []string
	if n := len(rep.Damaged); n > 0 {
		var ex []string
		for _, d := range rep.Damaged[:min(n, mergeShown)] {
			ex = append(ex, d.Error())
		}
		fmt.Fprintf(w, "vmsim: merge: %s: %s%s\n", count(n, "damaged line"), strings.Join(ex, "; "), more(n))
		classes = append(classes, count(n, "damaged line"))
	}
	if n := len(rep.Missing); n > 0 {
		var ex []string
		for _, j := range rep.Missing[:min(n, mergeShown)] {
			ex = append(ex, describeJob(j))
		}
		fmt.Fprintf(w, "vmsim: merge: missing %d of %s: %s%s\n", n, count(jobs, "job"), strings.Join(ex, ", "), more(n))
		classes = append(classes, fmt.Sprintf("%d missing", n))
	}
	if n := len(rep.Unknown); n > 0 {
		var ex []string
		for _, l := range rep.Unknown[:min(n, mergeShown)] {
			ex = append(ex, l.Where()+" "+describeJob(l.JobOf()))
		}
		fmt.Fprintf(w, "vmsim: merge: %s of jobs outside this sweep (another sweep's, or other flags than merge's): %s%s\n", count(n, "record"), strings.Join(ex, ", "), more(n))
		classes = append(classes, fmt.Sprintf("%d unknown", n))
	}
	if n := len(rep.Conflicts); n > 0 {
		var ex []string
		for _, c := range rep.Conflicts[:min(n, mergeShown)] {
			var says []string
			for _, l := range c {
				says = append(says, fmt.Sprintf("%s says %d faults", l.Where(), l.Faults))
			}
			ex = append(ex, describeJob(c[0].JobOf())+": "+strings.Join(says, ", "))
		}
		fmt.Fprintf(w, "vmsim: merge: %s with records that disagree: %s%s\n", count(n, "job"), strings.Join(ex, "; "), more(n))
		classes = append(classes, fmt.Sprintf("%d in conflict", n))
	}
	return classes
}

// more says how many examples were left out of a problem line.
func more(n int) string {
	if n <= mergeShown {
		return ""
	}
	return fmt.Sprintf(" and %d more", n-mergeShown)
}

// describeJob names a job for a person: its id, trace, policy and frames.
func describeJob(j sweep.Job) string {
	return fmt.Sprintf("job %s (%s, %s, %d frames)", j.ID(), j.Trace, j.Policy, j.Frames)
}

// count returns "1 thing" or "n things".
func count(n int, thing string) string { return fmt.Sprintf("%d %s", n, plural(n, thing)) }

// writeRecords writes records as JSON Lines to stdout ("-") or to path,
// through a temporary file renamed once complete.
func writeRecords(stdout io.Writer, path string, recs []sweep.Record) error {
	var b []byte
	for _, r := range recs {
		b = r.AppendLine(b)
	}
	if path == "-" {
		_, err := stdout.Write(b)
		return err
	}
	f, err := traces.CreateAtomic(path)
	if err != nil {
		return err
	}
	defer f.Abort()
	if _, err := f.Write(b); err != nil {
		return err
	}
	return f.Commit()
}
