//go:build linux

package vm

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCUserfaultBaseline keeps the userfaultfd modes of bench/fault.c, the
// C floor of BenchmarkUserfault, compiling and correct: the program checks
// its own fault count (one per page) and exits 3 without userfaultfd.
func TestCUserfaultBaseline(t *testing.T) {
	cc, err := exec.LookPath("cc")
	if err != nil {
		t.Skip("no C compiler (cc) on PATH: install gcc to build bench/fault.c")
	}
	skipIfNoUserfault(t, CheckUserfault(Anonymous))
	bin := filepath.Join(t.TempDir(), "fault")
	out, err := exec.Command(cc, "-O2", "-o", bin, "../bench/fault.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, mode := range []string{"uffd", "uffd-wp"} {
		out, err := exec.Command(bin, mode, "64", "3").CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			t.Skipf("%s: %s", mode, out)
		}
		require.NoError(t, err, "%s: %s", mode, out)
		assert.Regexp(t, regexp.MustCompile(`^`+mode+`\t\d+ ns/fault\n$`), string(out))
	}
}
