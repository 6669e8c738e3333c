package main

import (
	"bufio"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/docs"
	"vmsim/vm/exercise/check"
	"vmsim/vm/vmtest"
)

// wrongDir holds the grader's corpus of wrong solutions.
const wrongDir = "../../vm/exercise/check/testdata/wrong"

func TestCheckReference(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	for _, name := range check.Names() {
		t.Run(name, func(t *testing.T) {
			out, errOut, code := vmsim(t, "check", name, "--reference")
			require.Equal(t, 0, code, "%s%s", out, errOut)
			ex, err := check.Lookup(name)
			require.NoError(t, err)
			for _, c := range ex.Checks {
				assert.Contains(t, out, "  ok       "+c.Name+"\n")
			}
			assert.Contains(t, out, fmt.Sprintf("reference/%s.c: ok (%d ok, 0 warnings, 0 failed)", name, len(ex.Checks)))
		})
	}
}

func TestCheckFailureExplains(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	out, errOut, code := vmsim(t, "check", "mprotect", filepath.Join(wrongDir, "mprotect", "prot-read.c"))
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "  FAILED   the handler mprotects the page PROT_READ|PROT_WRITE\n")
	assert.Contains(t, out, ", 4096, PROT_READ) = 0   (in the SIGSEGV handler)")
	assert.Contains(t, out, "why: The handler grants PROT_READ only")
	assert.Contains(t, errOut, "vmsim: check mprotect: ")
	assert.Contains(t, errOut, "prot-read.c: 5 of 8 checks failed\n")
	assert.Equal(t, 1, strings.Count(errOut, "\n"), "one error line")
}

func TestCheckProgramsThatCannotRun(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	dir := t.TempDir()
	broken := filepath.Join(dir, "broken.c")
	require.NoError(t, os.WriteFile(broken, []byte("int main(void) { return undeclared; }\n"), 0o644))
	// Executable, but not a program: execve fails with ENOEXEC.
	notProgram := filepath.Join(dir, "notes.txt")
	require.NoError(t, os.WriteFile(notProgram, []byte("hello"), 0o755))

	out, errOut, code := vmsim(t, "check", "mprotect", broken)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "broken.c", "the compiler's own words")
	assert.Contains(t, errOut, "undeclared")
	assert.Contains(t, out, "  FAILED   compiles\n")

	out, _, code = vmsim(t, "check", "mprotect", notProgram)
	assert.Equal(t, 1, code)
	assert.Contains(t, out, "  FAILED   runs\n")
	assert.Contains(t, strings.Join(strings.Fields(out), " "), "notes.txt could not be run: run "+notProgram+": exec format error", "the explanation names the program and why")
}

func TestCheckUsage(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no exercise", []string{"check"}, "needs an EXERCISE (mprotect, remap, shared-file, shared-anon, cp)"},
		{"unknown exercise", []string{"check", "mprotec", "a.c"}, `unknown exercise "mprotec"`},
		{"no program", []string{"check", "remap"}, "needs at least one PROGRAM"},
		{"arguments for cp", []string{"check", "cp", "cp.c", "--", "a", "b"}, "cp and -- ARGS cannot go together"},
		{"bad output", []string{"check", "remap", "a.c", "-o", "xml"}, `--output "xml": want table, json or csv`},
		{"no time", []string{"check", "remap", "a.c", "--timeout", "0s"}, "--timeout 0s: must be positive"},
		{"no jobs", []string{"check", "remap", "a.c", "-j", "0"}, "--jobs 0: must be at least 1"},
		{"never as root", []string{"check", "remap", "a.c", "--user", "root"}, "never runs as root"},
		{"no such user", []string{"check", "remap", "a.c", "--user", "no-such-user-here"}, "no such user"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, tt.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
		})
	}
}

func TestCheckJSON(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	out, errOut, code := vmsim(t, "check", "remap", "--reference", filepath.Join(wrongDir, "remap", "never-updates-base.c"), "-o", "json")
	require.Equal(t, 1, code, errOut)
	ex, err := check.Lookup("remap")
	require.NoError(t, err)
	var recs []checkRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r checkRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r), sc.Text())
		recs = append(recs, r)
	}
	require.Len(t, recs, 2*len(ex.Checks), "one object per check")
	for i, r := range recs {
		assert.Equal(t, "remap", r.Exercise)
		assert.Equal(t, ex.Checks[i%len(ex.Checks)].Name, r.Check)
		assert.NotEmpty(t, r.Explanation)
		assert.NotNil(t, r.Evidence)
		if i < len(ex.Checks) {
			assert.Equal(t, "reference/remap.c", r.Program)
			assert.Equal(t, check.OK, r.Status)
		}
	}
	var retry checkRecord
	for _, r := range recs[len(ex.Checks):] {
		if r.Check == "the read after the jump succeeds" {
			retry = r
		}
	}
	assert.Equal(t, check.Failed, retry.Status)
	assert.Contains(t, retry.Explanation, "base still points to the old address")
	assert.NotEmpty(t, retry.Evidence)
}

// expected reads the "// expect: STATUS: CHECK" line of a wrong solution.
func expected(t *testing.T, path string) (check.Status, string) {
	t.Helper()
	b, err := os.ReadFile(path)
	require.NoError(t, err)
	first, _, _ := strings.Cut(string(b), "\n")
	head, ok := strings.CutPrefix(first, "// expect: ")
	require.True(t, ok, path)
	status, name, _ := strings.Cut(head, ": ")
	return check.Status(status), name
}

// TestCheckClass grades a class of 30 submissions (8 with -short) with one
// command: the reference and the corpus of mprotect mistakes, again and
// again, into a gradebook.
func TestCheckClass(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	n := 30
	if testing.Short() {
		n = 8
	}
	ref, err := docs.Reference("mprotect")
	require.NoError(t, err)
	wrong, err := filepath.Glob(filepath.Join(wrongDir, "mprotect", "*.c"))
	require.NoError(t, err)
	require.NotEmpty(t, wrong)
	dir := t.TempDir()
	type want struct {
		result string
		check  string
		status check.Status
	}
	wants := map[string]want{}
	var args []string
	for i := range n {
		name := filepath.Join(dir, fmt.Sprintf("student%02d.c", i+1))
		var src []byte
		w := want{result: "ok"}
		if k := i % (len(wrong) + 1); k == len(wrong) {
			src = ref
		} else {
			src, err = os.ReadFile(wrong[k])
			require.NoError(t, err)
			w.status, w.check = expected(t, wrong[k])
			if w.status == check.Failed {
				w.result = "failed"
			}
		}
		require.NoError(t, os.WriteFile(name, src, 0o644))
		wants[name] = w
		args = append(args, name)
	}
	out, errOut, code := vmsim(t, append([]string{"check", "mprotect", "-o", "csv"}, args...)...)
	assert.Equal(t, 1, code, errOut)
	rows, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, n+1, "a header and a row per program")
	header := rows[0]
	col := map[string]int{}
	for i, h := range header {
		col[h] = i
	}
	ex, err := check.Lookup("mprotect")
	require.NoError(t, err)
	for _, c := range ex.Checks {
		require.Contains(t, col, c.Name, "a column per check")
	}
	for _, row := range rows[1:] {
		w, ok := wants[row[0]]
		require.True(t, ok, "row of %s", row[0])
		assert.Equal(t, w.result, row[col["result"]], row[0])
		if w.check != "" {
			assert.Equal(t, string(w.status), row[col[w.check]], "%s: %s", row[0], w.check)
		}
	}
	assert.Contains(t, errOut, fmt.Sprintf("programs failed"))

	// The table: one line per program, in the order given.
	out, _, _ = vmsim(t, append([]string{"check", "mprotect"}, args[:3]...)...)
	lines := strings.Split(out, "\n")
	require.Greater(t, len(lines), 4)
	assert.True(t, strings.HasPrefix(lines[0], "PROGRAM"))
	for i := range 3 {
		assert.True(t, strings.HasPrefix(lines[i+1], args[i]), lines[i+1])
	}
}

func TestCheckProgramArguments(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	out, errOut, code := vmsim(t, "check", "shared-file", "--reference", "--", "shared.bin")
	require.Equal(t, 0, code, "%s%s", out, errOut)
	assert.Contains(t, out, `openat(AT_FDCWD, "shared.bin", O_RDWR|O_CREAT|O_TRUNC, 0644)`)
	assert.Contains(t, out, "shared.bin on disk, after the program: page 1: 4096 × 'c'; page 2: 4096 × 'b'")
}

func TestCheckKernel(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	vmtest.RequireCapability(t, "to load the eBPF probe", "CAP_BPF", "CAP_PERFMON")
	out, errOut, code := vmsim(t, "check", "mprotect", "--reference", "--kernel")
	require.Equal(t, 0, code, "%s%s", out, errOut)
	assert.Contains(t, out, "  ok       "+check.KernelCheck+"\n")
	assert.Contains(t, out, "(error code 0x6: write, not present)")
	assert.Contains(t, out, "at the pages of the 1 fault(s) caught as signals")
}

// TestCheckUnprivileged grades as an ordinary user, as on a lab machine.
func TestCheckUnprivileged(t *testing.T) {
	// The child is this test again, not the vmsim command (see TestMain).
	t.Setenv(asVmsim, "")
	if !vmtest.Unprivileged(t) {
		return
	}
	vmtest.RequireTool(t, "cc", "gcc")
	out, errOut, code := vmsim(t, "check", "mprotect", "--reference")
	require.Equal(t, 0, code, "%s%s", out, errOut)
	assert.Contains(t, out, "reference/mprotect.c: ok")
	_, errOut, code = vmsim(t, "check", "mprotect", "--reference", "--user", "4242")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--user "4242" needs root`)
}

// TestCheckTimeout: a program that waits forever is stopped at --timeout,
// and its report says so.
func TestCheckTimeout(t *testing.T) {
	vmtest.RequireTool(t, "cc", "gcc")
	dir := t.TempDir()
	src := filepath.Join(dir, "waits.c")
	require.NoError(t, os.WriteFile(src, []byte("#include <unistd.h>\nint main(void) { for (;;) pause(); }\n"), 0o644))
	out, errOut, code := vmsim(t, "check", "remap", src, "--timeout", "300ms", "-o", "json")
	assert.Equal(t, 1, code, errOut)
	var exit checkRecord
	sc := bufio.NewScanner(strings.NewReader(out))
	for sc.Scan() {
		var r checkRecord
		require.NoError(t, json.Unmarshal(sc.Bytes(), &r))
		if r.Check == "exits with status 0" {
			exit = r
		}
	}
	assert.Equal(t, check.Failed, exit.Status)
	assert.Contains(t, exit.Evidence, "vmsim: stopped: still running after 300ms of wall-clock time (waiting forever?)")
	assert.Contains(t, exit.Explanation, "still running when vmsim's clock ran out")
}
