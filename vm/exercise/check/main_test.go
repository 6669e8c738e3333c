package check

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"vmsim/docs"
	"vmsim/vm/exercise"
	"vmsim/vm/vmtest"
)

// childEnv marks a run of the test binary as the second process of a
// two-process exercise of package exercise (the reference outputs).
const childEnv = "VMSIM_CHECK_EXERCISE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := exercise.RunChild(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// spawnSelf starts this test binary as the child of a two-process
// exercise.
func spawnSelf(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1", "GORACE=atexit_sleep_ms=0")
	return cmd, nil
}

var (
	buildMu  sync.Mutex
	buildDir string
	builds   = map[string]*built{}
)

// built is one compiled C file.
type built struct {
	once sync.Once
	exe  string
	err  error
}

// tempDir returns the directory the tests build in, made once.
func tempDir(t testing.TB) string {
	t.Helper()
	buildMu.Lock()
	defer buildMu.Unlock()
	if buildDir == "" {
		dir, err := os.MkdirTemp("", "vmsim-check-test-")
		require.NoError(t, err)
		buildDir = dir
	}
	return buildDir
}

// build compiles a C file once per test binary and returns the
// executable.
func build(t testing.TB, src string) string {
	t.Helper()
	vmtest.RequireTool(t, "cc", "gcc")
	root := tempDir(t)
	buildMu.Lock()
	b, ok := builds[src]
	if !ok {
		b = &built{}
		builds[src] = b
	}
	n := len(builds)
	buildMu.Unlock()
	b.once.Do(func() {
		dir := filepath.Join(root, fmt.Sprint(n))
		if b.err = os.Mkdir(dir, 0o755); b.err == nil {
			b.exe, b.err = Build(context.Background(), src, dir)
		}
	})
	require.NoError(t, b.err)
	return b.exe
}

// reference writes the reference program of an exercise to a file and
// returns its path.
func reference(t testing.TB, name string) string {
	t.Helper()
	src, err := docs.Reference(name)
	require.NoError(t, err)
	p := filepath.Join(tempDir(t), name+".c")
	buildMu.Lock()
	defer buildMu.Unlock()
	if _, err := os.Stat(p); err != nil {
		require.NoError(t, os.WriteFile(p, src, 0o644))
	}
	return p
}
