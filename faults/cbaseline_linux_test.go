//go:build linux

package faults

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// TestCBaselineBuildsAndCounts keeps bench/fault.c, the C baseline of
// BenchmarkFault, compiling and correct: it checks its own fault count.
func TestCBaselineBuildsAndCounts(t *testing.T) {
	cc := vmtest.RequireTool(t, "cc", "gcc")
	bin := filepath.Join(t.TempDir(), "fault")
	out, err := exec.Command(cc, "-O2", "-o", bin, "../bench/fault.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, mode := range []string{"kernel", "handler", "longjmp"} {
		out, err := exec.Command(bin, mode, "64", "3").CombinedOutput()
		require.NoError(t, err, "%s: %s", mode, out)
		assert.Regexp(t, regexp.MustCompile(`^`+mode+`\t\d+ ns/fault\n$`), string(out))
	}
	err = exec.Command(bin, "bogus").Run()
	var ee *exec.ExitError
	require.ErrorAs(t, err, &ee)
	assert.Equal(t, 2, ee.ExitCode())
}
