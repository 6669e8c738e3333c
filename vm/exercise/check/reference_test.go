package check

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/exercise"
	"vmsim/vm/mmapcp"
)

var (
	addrRE = regexp.MustCompile(`0x[0-9a-f]+`)
	pidRE  = regexp.MustCompile(`pid \d+`)
)

// scenario returns the lines of an exercise's output up to its checks,
// with addresses and process ids replaced, without the lines that drop
// says exist only in one of the two programs.
func scenario(out string, drop ...string) []string {
	var lines []string
	for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
		if strings.HasPrefix(l, "check: ") || l == "" {
			break
		}
		skip := false
		for _, d := range drop {
			skip = skip || strings.HasPrefix(l, d)
		}
		if !skip {
			lines = append(lines, pidRE.ReplaceAllString(addrRE.ReplaceAllString(l, "ADDR"), "pid N"))
		}
	}
	return lines
}

// same asserts that the C program's scenario is the Go one, and not empty.
func same(t *testing.T, goLines, cLines []string) {
	t.Helper()
	require.GreaterOrEqual(t, len(goLines), 6, "the scenario has its lines")
	assert.Equal(t, goLines, cLines)
}

// runC runs a built reference program plainly (no tracer) in dir.
func runC(t *testing.T, exe, dir string, args ...string) string {
	t.Helper()
	cmd := exec.Command(exe, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	return string(out)
}

// TestReferenceOutputIsTheExercises holds each reference C program to
// what vmsim exercise NAME prints: the same lines, the same answers. What
// Go must do differently because it cannot fork is left out, and said.
func TestReferenceOutputIsTheExercises(t *testing.T) {
	ctx := context.Background()
	t.Run("mprotect", func(t *testing.T) {
		var goOut bytes.Buffer
		require.NoError(t, exercise.Mprotect(&goOut, nil))
		c := runC(t, build(t, reference(t, "mprotect")), t.TempDir())
		same(t, scenario(goOut.String()), scenario(c))
	})
	t.Run("remap", func(t *testing.T) {
		var goOut bytes.Buffer
		require.NoError(t, exercise.Remap(&goOut, nil))
		c := runC(t, build(t, reference(t, "remap")), t.TempDir())
		same(t, scenario(goOut.String()), scenario(c))
	})
	t.Run("shared-file", func(t *testing.T) {
		var goOut bytes.Buffer
		require.NoError(t, exercise.SharedFile(ctx, &goOut, &exercise.ShareOptions{Spawn: spawnSelf}))
		tmp := regexp.MustCompile(`"[^"]*/vmsim-shared-file-\d+/file"`)
		// The C program opens the file it is given; vmsim's child maps it
		// again by its path (Go cannot fork, so the child inherits no
		// mapping): that line is Go's alone.
		dir := filepath.Join(t.TempDir(), "vmsim-shared-file-1")
		require.NoError(t, os.Mkdir(dir, 0o755))
		c := runC(t, build(t, reference(t, "shared-file")), dir, filepath.Join(dir, "file"))
		norm := func(out string) []string { return scenario(tmp.ReplaceAllString(out, `"TMP/file"`), "child: mmap(") }
		same(t, norm(goOut.String()), norm(c))
	})
	t.Run("shared-anon", func(t *testing.T) {
		var goOut bytes.Buffer
		require.NoError(t, exercise.SharedAnon(ctx, &goOut, &exercise.ShareOptions{Spawn: spawnSelf}))
		c := runC(t, build(t, reference(t, "shared-anon")), t.TempDir())
		// vmsim passes a memfd where C maps MAP_SHARED|MAP_ANONYMOUS
		// memory before fork: the setup lines differ (the memfd, the
		// child's own mmap of it, reading it back after munmap); the
		// scenario and what the memory holds are the same.
		setup := []string{"fd = memfd_create(", "write(fd,", "p = mmap(", "memset(p,", "child: mmap(", "munmap(", "pread("}
		same(t, scenario(goOut.String(), setup...), scenario(c, setup...))
		assert.Contains(t, c, "p = mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) = 0x")
	})
	t.Run("cp", func(t *testing.T) {
		exe := build(t, reference(t, "cp"))
		ps := os.Getpagesize()
		for _, c := range cpCases {
			t.Run(c.check, func(t *testing.T) {
				// The same corpus, in two directories: one for the C
				// program, one for vmsim cp.
				var dirs [2]string
				for i := range dirs {
					dirs[i] = t.TempDir()
					require.NoError(t, c.setup(ps)(dirs[i]))
				}
				cmd := exec.Command(exe, c.args...)
				cmd.Dir = dirs[0]
				cErr := cmd.Run()
				t.Chdir(dirs[1])
				_, goErr := mmapcp.Copy(ctx, c.args[0], c.args[1], nil)
				assert.Equal(t, goErr == nil, cErr == nil, "both succeed or both fail: vmsim cp %v, cp.c %v", goErr, cErr)
				for _, name := range []string{"src", c.args[1]} {
					a, aErr := os.ReadFile(filepath.Join(dirs[0], name))
					b, bErr := os.ReadFile(filepath.Join(dirs[1], name))
					assert.Equal(t, bErr == nil, aErr == nil, "%s exists after both or neither", name)
					assert.True(t, bytes.Equal(a, b), "%s: cp.c leaves %d bytes, vmsim cp %d", name, len(a), len(b))
				}
			})
		}
	})
}
