package check

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/observe"
)

// TestReferenceProgramsPass grades the reference C program of every
// exercise (docs/c): every check passes, with no warning.
func TestReferenceProgramsPass(t *testing.T) {
	for _, ex := range Exercises() {
		t.Run(ex.Name, func(t *testing.T) {
			t.Parallel()
			exe := build(t, reference(t, ex.Name))
			rep, err := Grade(context.Background(), ex, exe, nil)
			require.NoError(t, err)
			require.Len(t, rep.Results, len(ex.Checks), "one result per check")
			for i, res := range rep.Results {
				assert.Equal(t, ex.Checks[i].Name, res.Check, "in the exercise's order")
				assert.Equal(t, OK, res.Status, "%s: %s\n%s", res.Check, res.Explanation, strings.Join(res.Evidence, "\n"))
				assert.NotEmpty(t, res.Explanation, res.Check)
			}
			assert.True(t, rep.Passed())
		})
	}
}

// wrongSolution is one program of testdata/wrong, with the check it must
// not pass.
type wrongSolution struct {
	exercise, path string
	status         Status
	check          string
}

// wrongSolutions reads testdata/wrong/EXERCISE/*.c; each starts with a
// line "// expect: STATUS: CHECK".
func wrongSolutions(t *testing.T) []wrongSolution {
	t.Helper()
	var out []wrongSolution
	paths, err := filepath.Glob("testdata/wrong/*/*.c")
	require.NoError(t, err)
	for _, p := range paths {
		f, err := os.Open(p)
		require.NoError(t, err)
		sc := bufio.NewScanner(f)
		require.True(t, sc.Scan(), p)
		head, ok := strings.CutPrefix(sc.Text(), "// expect: ")
		f.Close()
		require.True(t, ok, "%s:1: want a first line \"// expect: STATUS: CHECK\"", p)
		status, check, ok := strings.Cut(head, ": ")
		require.True(t, ok, "%s:1: want \"// expect: STATUS: CHECK\", got %q", p, head)
		out = append(out, wrongSolution{exercise: filepath.Base(filepath.Dir(p)), path: p, status: Status(status), check: check})
	}
	return out
}

// TestWrongSolutionsFailTheirCheck grades the corpus of typical mistakes:
// each fails (or warns on) the one check it is meant to, and a warning
// alone does not fail the program.
func TestWrongSolutionsFailTheirCheck(t *testing.T) {
	sols := wrongSolutions(t)
	perExercise := map[string]int{}
	for _, s := range sols {
		perExercise[s.exercise]++
	}
	for _, ex := range Names() {
		assert.GreaterOrEqual(t, perExercise[ex], 6, "typical mistakes of %s", ex)
	}
	for _, s := range sols {
		t.Run(s.exercise+"/"+strings.TrimSuffix(filepath.Base(s.path), ".c"), func(t *testing.T) {
			t.Parallel()
			ex, err := Lookup(s.exercise)
			require.NoError(t, err)
			var names []string
			for _, c := range ex.Checks {
				names = append(names, c.Name)
			}
			require.Contains(t, names, s.check, "%s names a check of %s", s.path, s.exercise)
			rep, err := Grade(context.Background(), ex, build(t, s.path), nil)
			require.NoError(t, err)
			res, ok := rep.Result(s.check)
			require.True(t, ok)
			assert.Equal(t, s.status, res.Status, "%s: %s\n%s", res.Check, res.Explanation, strings.Join(res.Evidence, "\n"))
			assert.NotEmpty(t, res.Explanation)
			switch s.status {
			case Failed:
				assert.False(t, rep.Passed(), "a failed check fails the program")
			case Warning:
				for _, r := range rep.Results {
					assert.NotEqual(t, Failed, r.Status, "only a warning: %s: %s", r.Check, r.Explanation)
				}
				assert.True(t, rep.Passed(), "a warning does not fail the program")
			}
		})
	}
}

// firstFailed returns the first check that failed, as the class table
// shows it ("" if none).
func firstFailed(rep *Report) string {
	for _, res := range rep.Results {
		if res.Status == Failed {
			return res.Check
		}
	}
	return ""
}

// gradeFile grades the C file src as a solution of exercise name.
func gradeFile(t *testing.T, name, src string) *Report {
	t.Helper()
	ex, err := Lookup(name)
	require.NoError(t, err)
	rep, err := Grade(context.Background(), ex, build(t, src), nil)
	require.NoError(t, err)
	return rep
}

// TestSharedAnonMapPrivateIsItsOwnMapping grades MAP_PRIVATE|MAP_ANONYMOUS
// memory: the mapping check fails on the program's own mmap, not on one
// the dynamic loader made before main, and the checks of what the
// processes wrote read that memory, not the loader's.
func TestSharedAnonMapPrivateIsItsOwnMapping(t *testing.T) {
	rep := gradeFile(t, "shared-anon", "testdata/wrong/shared-anon/map-private.c")
	assert.Equal(t, "maps shared anonymous memory before fork", firstFailed(rep))
	maps, _ := rep.Result("maps shared anonymous memory before fork")
	assert.Contains(t, maps.Explanation, "MAP_PRIVATE|MAP_ANONYMOUS")
	fill, _ := rep.Result("the child fills page 1 with 'c'")
	assert.Equal(t, OK, fill.Status, "the child does memset(p, 'c', ps): %s\n%s", fill.Explanation, strings.Join(fill.Evidence, "\n"))
	ps := os.Getpagesize()
	mem, _ := rep.Result("the memory holds 'c' then 'b'")
	assert.Equal(t, Failed, mem.Status)
	require.Len(t, mem.Evidence, 1)
	assert.Contains(t, mem.Evidence[0], fmt.Sprintf("page 1 holds %d × 'a'; page 2 holds %d × 'b'", ps, ps), "the parent's own copy: its 'a's and its 'b's")
}

// TestFirstFailedCheckIsTheMistake grades wrong solutions whose mistake
// shows late in the run (a second fault, a fault loop vmsim stops): the
// first failed check, which the class table shows, is still the mistake.
func TestFirstFailedCheckIsTheMistake(t *testing.T) {
	for _, s := range wrongSolutions(t) {
		switch filepath.Base(s.path) {
		case "longjmp-twice.c", "never-updates-base.c":
		default:
			continue
		}
		t.Run(s.exercise+"/"+strings.TrimSuffix(filepath.Base(s.path), ".c"), func(t *testing.T) {
			t.Parallel()
			rep := gradeFile(t, s.exercise, s.path)
			assert.Equal(t, s.check, firstFailed(rep))
			res, _ := rep.Result("the handler stores 'A' in it")
			assert.Equal(t, OK, res.Status, "the handler does store 'A': %s\n%s", res.Explanation, strings.Join(res.Evidence, "\n"))
		})
	}
}

// TestStoppedBeforeMemoryIsReadWarns grades programs that vmsim stops
// (here, at the clock) before the memory a check reads could be read: the
// check cannot confirm, which is a warning, not a failure.
func TestStoppedBeforeMemoryIsReadWarns(t *testing.T) {
	for _, tt := range []struct{ exercise, src, check string }{
		{"remap", "testdata/stopped/remap-handler-waits.c", "the handler stores 'A' in it"},
		{"mprotect", "testdata/stopped/mprotect-waits.c", "reads 'c', writes 'd', reads 'd'"},
	} {
		t.Run(tt.exercise, func(t *testing.T) {
			t.Parallel()
			ex, err := Lookup(tt.exercise)
			require.NoError(t, err)
			rep, err := Grade(context.Background(), ex, build(t, tt.src), &Options{Limits: observe.Limits{Wall: 300 * time.Millisecond}})
			require.NoError(t, err)
			res, ok := rep.Result(tt.check)
			require.True(t, ok)
			assert.Equal(t, Warning, res.Status, "%s\n%s", res.Explanation, strings.Join(res.Evidence, "\n"))
			assert.Contains(t, res.Explanation, "Cannot confirm")
			assert.Contains(t, res.Explanation, "the program was stopped before")
			assert.Contains(t, res.Explanation, "vmsim stopped it: still running after")
			exit, _ := rep.Result("exits with status 0")
			assert.Equal(t, Failed, exit.Status, "vmsim had to stop it")
		})
	}
}
