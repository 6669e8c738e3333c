package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"vmsim/docs"
	"vmsim/vm/arch"
	"vmsim/vm/exercise"
	"vmsim/vm/exercise/check"
	"vmsim/vm/observe"
	"vmsim/vm/probe"
)

type checkFlags struct {
	output    string
	reference bool
	kernel    bool
	user      string
	timeout   time.Duration
	jobs      int
	verbose   bool
}

func newCheck() *cobra.Command {
	var f checkFlags
	cmd := &cobra.Command{
		Use:   "check EXERCISE PROGRAM... [-- ARGS]",
		Short: "Grade a student's C solution of an mmap exercise by watching it run",
		Long: `check runs each PROGRAM under ptrace and holds what it does against what the
exercise asks: the system calls it makes (with their arguments and results),
the signals it gets (with si_code and si_addr), which calls ran inside its
handler, its memory before it unmaps or exits, the files it leaves. Printing
the expected lines is not enough: a program that never faults fails.

EXERCISE is one of ` + strings.Join(check.Names(), ", ") + `.
PROGRAM is a C file, compiled with the system compiler ($CC, else cc) into a
temporary directory (its errors are shown as they are), or an executable.
Several PROGRAMs grade a class: one summary table, then what failed. ARGS,
after --, are passed to every program (not to cp, which the grader runs on a
corpus of its own: an empty file, one byte, one page, one page and a byte,
4 MiB of random bytes, a sparse file, a missing source, an unwritable
destination directory, source = destination).

Each check says ok, FAILED or warning, names its evidence (the trace's
lines, as strace prints them) and, when it does not pass, explains why. The
exit status is 0 if no check failed (warnings pass), 1 if one did or a
program could not be run, 2 for bad usage.

A student's program is untrusted. It runs in a fresh temporary directory,
removed afterwards, in a process group of its own, bounded in CPU time,
memory, file size, open files, processes, output and wall-clock time; a
fault that repeats forever is stopped and explained; every process it made
is killed at the end. As root, vmsim runs it as --user (nobody by default),
never as root. No privilege is needed: tracing one's own child is allowed.

-o json writes one JSON object per check (program, exercise, check, status,
evidence, explanation); -o csv one row per program for a gradebook, with
the status of every check. --kernel (root: eBPF) adds the kernel's own page
faults of the program beside the ones it caught. --reference adds vmsim's
reference solution (docs/c) to the programs, as a control.`,
		Example: `  vmsim check mprotect mprotect.c
  vmsim check remap ./remap                      # an executable
  vmsim check mprotect submissions/*.c           # a class: a summary table
  vmsim check cp submissions/*.c -o csv > grades.csv
  vmsim check shared-file --reference alice.c    # beside the reference solution
  vmsim check mprotect --kernel mprotect.c       # as root: the kernel's faults too
  vmsim check shared-file prog.c -- /tmp/file    # arguments for the program`,
		Args: func(cmd *cobra.Command, args []string) error { return nil },
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, f, args)
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&f.output, "output", "o", "table", "table, json (JSON Lines, one object per check) or csv (one row per program)")
	fl.BoolVar(&f.reference, "reference", false, "also grade vmsim's reference solution of EXERCISE (docs/c), first")
	fl.BoolVar(&f.kernel, "kernel", false, "also count the kernel's own page faults of each program (eBPF: needs root)")
	fl.StringVar(&f.user, "user", "", "as root, the `USER` (name or uid) the programs run as (default nobody)")
	fl.DurationVar(&f.timeout, "timeout", observe.DefaultWall, "wall-clock limit of each run of a program")
	fl.IntVarP(&f.jobs, "jobs", "j", runtime.NumCPU(), "programs graded at once")
	fl.BoolVarP(&f.verbose, "verbose", "v", false, "every check of every program, with its explanation (a class prints only what did not pass)")
	return cmd
}

// submission is one program to grade, and its report once graded.
type submission struct {
	// name is the program as the user gave it ("reference/mprotect.c" for
	// --reference).
	name string
	// path is the file: a C source or an executable.
	path   string
	report *check.Report
}

func runCheck(cmd *cobra.Command, f checkFlags, all []string) error {
	args, progArgs := all, []string(nil)
	if dash := cmd.ArgsLenAtDash(); dash >= 0 {
		args, progArgs = all[:dash], all[dash:]
	}
	if len(args) == 0 {
		return usageErrorf(cmd, "needs an EXERCISE (%s) and at least one PROGRAM", strings.Join(check.Names(), ", "))
	}
	ex, err := check.Lookup(args[0])
	if err != nil {
		return usageErrorf(cmd, "%v", err)
	}
	programs := args[1:]
	if len(programs) == 0 && !f.reference {
		return usageErrorf(cmd, "needs at least one PROGRAM (a .c file or an executable), or --reference")
	}
	if len(progArgs) > 0 && !ex.TakesArgs {
		return usageErrorf(cmd, "%s and -- ARGS cannot go together: the grader runs %s on a corpus of its own and chooses its arguments", ex.Name, ex.Name)
	}
	switch f.output {
	case "table", "json", "csv":
	default:
		return usageErrorf(cmd, "--output %q: want table, json or csv", f.output)
	}
	if f.timeout <= 0 {
		return usageErrorf(cmd, "--timeout %v: must be positive", f.timeout)
	}
	if f.jobs < 1 {
		return usageErrorf(cmd, "--jobs %d: must be at least 1", f.jobs)
	}
	cred, err := parseUser(f.user)
	if err != nil {
		return usageErrorf(cmd, "--user %q: %v", f.user, err)
	}
	if cred != nil && os.Geteuid() != 0 {
		return usageErrorf(cmd, "--user %q needs root: without it the programs run as you", f.user)
	}
	if f.kernel {
		// Fail at once, not once per program, if the probe cannot load.
		p, err := probe.Open(&probe.Options{Attach: probe.AttachRawTracepoint})
		if err != nil {
			return fmt.Errorf("check --kernel: %w", err)
		}
		p.Close()
	}

	var subs []*submission
	tmp, err := os.MkdirTemp("", "vmsim-check-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(tmp)
	if f.reference {
		src, err := docs.Reference(ex.Name)
		if err != nil {
			return err
		}
		dir := filepath.Join(tmp, "reference")
		if err := os.Mkdir(dir, 0o755); err != nil {
			return err
		}
		p := filepath.Join(dir, ex.Name+".c")
		if err := os.WriteFile(p, src, 0o644); err != nil {
			return err
		}
		subs = append(subs, &submission{name: "reference/" + ex.Name + ".c", path: p})
	}
	for _, p := range programs {
		subs = append(subs, &submission{name: p, path: p})
	}

	opts := &check.Options{Args: progArgs, Credential: cred, Limits: observe.Limits{Wall: f.timeout}}
	ctx := cmd.Context()
	stderr := cmd.ErrOrStderr()
	var stderrMu sync.Mutex
	err = runJobs(ctx, len(subs), f.jobs, func(i int) {
		s := subs[i]
		dir := filepath.Join(tmp, strconv.Itoa(i))
		s.report = gradeOne(ctx, ex, s, dir, opts, f.kernel, func(out []byte) {
			stderrMu.Lock()
			defer stderrMu.Unlock()
			stderr.Write(out)
		})
	})
	if err != nil {
		return err
	}

	w := cmd.OutOrStdout()
	switch f.output {
	case "json":
		err = writeCheckJSON(w, subs)
	case "csv":
		err = writeCheckCSV(w, ex, subs, f.kernel)
	default:
		if len(subs) == 1 {
			err = writeReport(w, subs[0], true, f.verbose)
		} else {
			err = writeClass(w, subs, f.verbose)
		}
	}
	if err != nil {
		return err
	}
	failed := 0
	for _, s := range subs {
		if !s.report.Passed() {
			failed++
		}
	}
	if failed > 0 {
		if len(subs) == 1 {
			return &checkFailed{fmt.Sprintf("check %s: %s: %d of %d checks failed", ex.Name, subs[0].name, subs[0].report.Count(check.Failed), len(subs[0].report.Results))}
		}
		return &checkFailed{fmt.Sprintf("check %s: %d of %d programs failed", ex.Name, failed, len(subs))}
	}
	return nil
}

// checkFailed is the error of a check that a program failed: exit status
// 1, after the report.
type checkFailed struct{ msg string }

func (e *checkFailed) Error() string { return e.msg }

func (e *checkFailed) Unwrap() error { return check.ErrFailed }

// gradeOne builds (if it is C) and grades one program. A program that does
// not compile or cannot be run gets a report that says so; the compiler's
// output goes to showCompiler as it is.
func gradeOne(ctx context.Context, ex *check.Exercise, s *submission, dir string, opts *check.Options, kernel bool, showCompiler func([]byte)) *check.Report {
	exe := s.path
	if _, err := os.Stat(s.path); err != nil {
		return check.Failure(ex, s.name, check.RunCheck, fmt.Sprintf("%s cannot be read: %v.", s.name, err), nil)
	}
	if strings.HasSuffix(s.path, ".c") {
		if err := os.Mkdir(dir, 0o755); err != nil {
			return check.Failure(ex, s.name, check.CompileCheck, err.Error(), nil)
		}
		built, err := check.Build(ctx, s.path, dir)
		var ce *check.CompileError
		switch {
		case errors.As(err, &ce):
			showCompiler(ce.Output)
			evidence := strings.Split(strings.TrimRight(string(ce.Output), "\n"), "\n")
			if len(evidence) > 10 {
				evidence = append(evidence[:10], fmt.Sprintf("... and %d more lines", len(evidence)-10))
			}
			return check.Failure(ex, s.name, check.CompileCheck, fmt.Sprintf("%s does not compile (%s): fix the errors the compiler shows.", s.name, check.Compiler()), evidence)
		case err != nil:
			return check.Failure(ex, s.name, check.CompileCheck, err.Error(), nil)
		}
		exe = built
	}
	o := *opts
	if kernel {
		o.Kernel = &probeKernel{}
	}
	rep, err := check.Grade(ctx, ex, exe, &o)
	if err != nil {
		return check.Failure(ex, s.name, check.RunCheck, fmt.Sprintf("%s could not be run: %s", s.name, oneLine(err)), nil)
	}
	rep.Program = s.name
	return rep
}

// parseUser reads --user: a user name or a numeric uid (whose group is
// its passwd entry's, or the same number). Empty means the default.
func parseUser(s string) (*observe.Credential, error) {
	if s == "" {
		return nil, nil
	}
	var u *user.User
	var err error
	if n, perr := strconv.ParseUint(s, 10, 32); perr == nil {
		if u, err = user.LookupId(s); err != nil {
			return &observe.Credential{UID: uint32(n), GID: uint32(n)}, nil
		}
	} else if u, err = user.Lookup(s); err != nil {
		return nil, fmt.Errorf("no such user")
	}
	uid, err1 := strconv.ParseUint(u.Uid, 10, 32)
	gid, err2 := strconv.ParseUint(u.Gid, 10, 32)
	if err1 != nil || err2 != nil {
		return nil, fmt.Errorf("user %s has ids that are not numbers", s)
	}
	if uid == 0 {
		return nil, fmt.Errorf("a student's program never runs as root")
	}
	return &observe.Credential{UID: uint32(uid), GID: uint32(gid)}, nil
}

// statusWord prints a status in a report: failures stand out.
func statusWord(s check.Status) string {
	if s == check.Failed {
		return "FAILED"
	}
	return string(s)
}

// resultLine is a report's last line: "failed (5 ok, 1 warning, 2 failed)".
func resultLine(r *check.Report) string {
	word := "ok"
	if !r.Passed() {
		word = "FAILED"
	}
	return fmt.Sprintf("%s (%d ok, %d %s, %d failed)", word, r.Count(check.OK), r.Count(check.Warning), plural(r.Count(check.Warning), "warning"), r.Count(check.Failed))
}

func plural(n int, word string) string {
	if n == 1 {
		return word
	}
	return word + "s"
}

// writeReport prints one program's checks that did not pass, with their
// evidence and why; with showOK the ok ones too, and with explainOK why
// they are ok.
func writeReport(w io.Writer, s *submission, showOK, explainOK bool) error {
	r := s.report
	fmt.Fprintf(w, "%s: vmsim check %s\n", s.name, r.Exercise)
	for _, res := range r.Results {
		if !showOK && res.Status == check.OK {
			continue
		}
		fmt.Fprintf(w, "  %-7s  %s\n", statusWord(res.Status), res.Check)
		for _, e := range res.Evidence {
			fmt.Fprintf(w, "           | %s\n", e)
		}
		if res.Status != check.OK || explainOK {
			for i, l := range exercise.Wrap(res.Explanation, 76) {
				prefix := "                "
				if i == 0 {
					prefix = "           why: "
				}
				fmt.Fprintln(w, prefix+l)
			}
		}
	}
	_, err := fmt.Fprintf(w, "%s: %s\n", s.name, resultLine(r))
	return err
}

// writeClass prints the summary table of a class, then what did not pass
// (every check with verbose).
func writeClass(w io.Writer, subs []*submission, verbose bool) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "PROGRAM\tRESULT\tOK\tWARNINGS\tFAILED\tFIRST FAILED CHECK")
	for _, s := range subs {
		r := s.report
		first := ""
		for _, res := range r.Results {
			if res.Status == check.Failed {
				first = res.Check
				break
			}
		}
		word := "ok"
		if !r.Passed() {
			word = "FAILED"
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%d\t%d\t%s\n", s.name, word, r.Count(check.OK), r.Count(check.Warning), r.Count(check.Failed), first)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	for _, s := range subs {
		if !verbose && s.report.Count(check.OK) == len(s.report.Results) {
			continue
		}
		fmt.Fprintln(w)
		if err := writeReport(w, s, verbose, verbose); err != nil {
			return err
		}
	}
	return nil
}

// checkRecord is one line of -o json.
type checkRecord struct {
	Program  string `json:"program"`
	Exercise string `json:"exercise"`
	check.Result
}

func writeCheckJSON(w io.Writer, subs []*submission) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	for _, s := range subs {
		for _, res := range s.report.Results {
			if err := enc.Encode(checkRecord{Program: s.name, Exercise: s.report.Exercise, Result: res}); err != nil {
				return err
			}
		}
	}
	return nil
}

// writeCheckCSV writes a gradebook: one row per program, the status of
// each check in a column of its own.
func writeCheckCSV(w io.Writer, ex *check.Exercise, subs []*submission, kernel bool) error {
	cw := csv.NewWriter(w)
	header := []string{"program", "result", "ok", "warnings", "failed", "first_failed"}
	var names []string
	for _, c := range ex.Checks {
		names = append(names, c.Name)
	}
	if kernel {
		names = append(names, check.KernelCheck)
	}
	cw.Write(append(header, names...))
	for _, s := range subs {
		r := s.report
		first := ""
		for _, res := range r.Results {
			if res.Status == check.Failed {
				first = res.Check
				break
			}
		}
		word := "ok"
		if !r.Passed() {
			word = "failed"
		}
		row := []string{s.name, word, strconv.Itoa(r.Count(check.OK)), strconv.Itoa(r.Count(check.Warning)), strconv.Itoa(r.Count(check.Failed)), first}
		for _, n := range names {
			res, ok := r.Result(n)
			if !ok {
				row = append(row, "not run")
				continue
			}
			row = append(row, string(res.Status))
		}
		cw.Write(row)
	}
	cw.Flush()
	return cw.Error()
}

// probeKernel is check.Kernel on the eBPF probe: the page faults of one
// traced process, anywhere in its user address space, as events.
type probeKernel struct {
	p *probe.Probe
}

// userSpace is every address a user mapping can have on x86-64.
var userSpace = arch.Range{Start: 0x1000, End: 1 << 47}

func (k *probeKernel) Start(pid int) error {
	p, err := probe.Open(&probe.Options{PID: pid, Ranges: []probe.Range{{Label: "user", Range: userSpace}}, Events: true, Attach: probe.AttachRawTracepoint})
	if err != nil {
		return err
	}
	k.p = p
	return nil
}

func (k *probeKernel) Stop() ([]check.KernelFault, error) {
	if k.p == nil {
		return nil, nil
	}
	defer k.p.Close()
	evs, err := k.p.ReadEvents(nil)
	if err != nil {
		return nil, err
	}
	out := make([]check.KernelFault, len(evs))
	for i, e := range evs {
		out[i] = check.KernelFault{Addr: uint64(e.Address), Code: uint16(e.Code)}
	}
	return out, nil
}
