package check

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"vmsim/vm/observe"
)

// Errors of the grader.
var (
	// ErrUnknownExercise is matched when an exercise name is not one of
	// [Names].
	ErrUnknownExercise = errors.New("unknown exercise")
	// ErrArgs is matched when arguments are given to a program whose
	// arguments the grader chooses (cp).
	ErrArgs = errors.New("the grader chooses this program's arguments")
	// ErrFailed is matched when a program failed a check.
	ErrFailed = errors.New("checks failed")
)

// Status is the outcome of one check.
type Status string

// The outcomes of a check.
const (
	// OK: the program does what the check asks.
	OK Status = "ok"
	// Failed: it does not; the explanation says why.
	Failed Status = "failed"
	// Warning: it works here, but not as the course asks, or not
	// everywhere; the explanation says why.
	Warning Status = "warning"
)

// Result is one check held against one program.
type Result struct {
	// Check is the check's name ([Check.Name]).
	Check string `json:"check"`
	// Status is ok, failed or warning.
	Status Status `json:"status"`
	// Evidence are the lines of the trace the verdict rests on: system
	// calls and signals as strace prints them, exits, what was read from
	// memory or disk.
	Evidence []string `json:"evidence"`
	// Explanation says, for a student, what the evidence shows and, when
	// the check failed or warns, what to do instead.
	Explanation string `json:"explanation"`
}

// Check is one expected behaviour of an exercise: a name, what mistake it
// catches, and how it is decided from a run.
type Check struct {
	// Name is short and says what is expected: "exactly one fault".
	Name string
	// Catches says which mistakes the check catches, for the docs.
	Catches string
	// eval decides the check from a run.
	eval func(r *run) Result
}

// Exercise is one exercise: its checks, in order, and how the program is
// run for them.
type Exercise struct {
	// Name is the exercise's name on the command line: "mprotect".
	Name string
	// Summary says in one line what the program must do.
	Summary string
	// Checks are the checks, in the order they are reported.
	Checks []Check
	// TakesArgs reports whether the program may be given arguments
	// (false: the grader chooses them, as for cp).
	TakesArgs bool
	// grade runs the program and evaluates the checks; nil means one run
	// (gradeOnce).
	grade func(ctx context.Context, ex *Exercise, exe string, o *Options) ([]Result, *observe.Trace, error)
}

// exercises are the exercises, in the order of the course.
var exercises = []*Exercise{mprotectExercise, remapExercise, sharedFileExercise, sharedAnonExercise, cpExercise}

// Names returns the exercises' names, in the order of the course.
func Names() []string {
	out := make([]string, len(exercises))
	for i, ex := range exercises {
		out[i] = ex.Name
	}
	return out
}

// Exercises returns the exercises, in the order of the course.
func Exercises() []*Exercise { return slices.Clone(exercises) }

// Lookup returns the exercise named name, or an error matching
// [ErrUnknownExercise] that lists the names.
func Lookup(name string) (*Exercise, error) {
	for _, ex := range exercises {
		if ex.Name == name {
			return ex, nil
		}
	}
	return nil, fmt.Errorf("%w %q (want one of %s)", ErrUnknownExercise, name, strings.Join(Names(), ", "))
}

// Options configure [Grade]. A nil *Options means the defaults.
type Options struct {
	// Args are the program's arguments; an exercise that chooses them
	// itself (TakesArgs false) refuses any with [ErrArgs].
	Args []string
	// Credential is who the program runs as when vmsim is root (nobody
	// if nil); see observe.Options.Credential.
	Credential *observe.Credential
	// Limits bound each run of the program; zero fields mean
	// observe's defaults.
	Limits observe.Limits
	// Kernel, if not nil, counts the kernel's own page faults of the
	// program's first process, reported beside the caught ones.
	Kernel Kernel
}

// Kernel counts the kernel's own page faults of one traced process.
type Kernel interface {
	// Start counts, from now on, the page faults of process pid (stopped
	// before its first instruction).
	Start(pid int) error
	// Stop ends the count and returns the faults, in the order the kernel
	// took them.
	Stop() ([]KernelFault, error)
}

// KernelFault is one page fault the kernel took for the traced process.
type KernelFault struct {
	// Addr is the faulting address.
	Addr uint64
	// Code is the x86 page fault error code: bit 0 a protection fault
	// (else the page was not present), bit 1 a write.
	Code uint16
}

func (k KernelFault) String() string {
	kind := "read"
	if k.Code&2 != 0 {
		kind = "write"
	}
	where := "not present"
	if k.Code&1 != 0 {
		where = "protection"
	}
	return fmt.Sprintf("kernel: page fault at %#x (error code %#x: %s, %s)", k.Addr, k.Code, kind, where)
}

// Report is every check of one exercise held against one program.
type Report struct {
	// Exercise is the exercise's name; Program the program as given.
	Exercise string `json:"exercise"`
	Program  string `json:"program"`
	// Results are the checks' results, in the exercise's order.
	Results []Result `json:"results"`
	// Stdout and Stderr are what the program printed (in its main run).
	Stdout string `json:"stdout"`
	Stderr string `json:"stderr"`
}

// Count returns how many results have status s.
func (r *Report) Count(s Status) int {
	n := 0
	for _, res := range r.Results {
		if res.Status == s {
			n++
		}
	}
	return n
}

// Passed reports whether no check failed (warnings pass).
func (r *Report) Passed() bool { return r.Count(Failed) == 0 }

// Result returns the result of the check named name.
func (r *Report) Result(name string) (Result, bool) {
	for _, res := range r.Results {
		if res.Check == name {
			return res, true
		}
	}
	return Result{}, false
}

// Grade runs the executable exe under the observer, as the exercise asks,
// and holds every check of ex against what it did.
//
// The error is for a program that could not be run at all (see
// observe.Run) or arguments the exercise refuses ([ErrArgs]); a program
// that runs and fails gets a Report with failed checks.
func Grade(ctx context.Context, ex *Exercise, exe string, opts *Options) (*Report, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	if !ex.TakesArgs && len(o.Args) > 0 {
		return nil, fmt.Errorf("exercise %s: %w (it runs the program on a corpus of its own)", ex.Name, ErrArgs)
	}
	grade := ex.grade
	if grade == nil {
		grade = gradeOnce
	}
	results, t, err := grade(ctx, ex, exe, &o)
	if err != nil {
		return nil, err
	}
	rep := &Report{Exercise: ex.Name, Program: exe, Results: results}
	if t != nil {
		rep.Stdout, rep.Stderr = t.Stdout.String(), t.Stderr.String()
	}
	return rep, nil
}

// gradeOnce runs the program once and evaluates every check on that run.
func gradeOnce(ctx context.Context, ex *Exercise, exe string, o *Options) ([]Result, *observe.Trace, error) {
	r, err := runProgram(ctx, exe, o.Args, o, nil)
	if err != nil {
		return nil, nil, err
	}
	var results []Result
	for _, c := range ex.Checks {
		results = append(results, evaluate(c, r))
	}
	if o.Kernel != nil {
		results = append(results, kernelCheck(r))
	}
	return results, r.t, nil
}

// evaluate runs one check and names its result.
func evaluate(c Check, r *run) Result {
	res := c.eval(r)
	res.Check = c.Name
	if res.Evidence == nil {
		res.Evidence = []string{}
	}
	return res
}

// CompileCheck is the name of the result of a program that does not
// compile (see [Failure]).
const CompileCheck = "compiles"

// RunCheck is the name of the result of a program that cannot be run.
const RunCheck = "runs"

// Failure returns the report of a program that could not be graded: it
// did not compile (check [CompileCheck]) or could not be run
// ([RunCheck]); why says what happened, evidence what was seen (the
// compiler's output).
func Failure(ex *Exercise, program, check, why string, evidence []string) *Report {
	if evidence == nil {
		evidence = []string{}
	}
	return &Report{Exercise: ex.Name, Program: program, Results: []Result{{Check: check, Status: Failed, Evidence: evidence, Explanation: why}}}
}
