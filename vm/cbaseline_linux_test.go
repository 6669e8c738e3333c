//go:build linux

package vm

import (
	"errors"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// TestCUserfaultBaseline keeps the userfaultfd modes of bench/fault.c, the
// C floor of BenchmarkUserfault, compiling and correct: the program checks
// its own fault count (one per page) and exits 3 without userfaultfd.
func TestCUserfaultBaseline(t *testing.T) {
	cc := vmtest.RequireTool(t, "cc", "gcc")
	skipIfNoUserfault(t, CheckUserfault(Anonymous))
	bin := filepath.Join(t.TempDir(), "fault")
	out, err := exec.Command(cc, "-O2", "-o", bin, "../bench/fault.c").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, mode := range []string{"uffd", "uffd-wp"} {
		out, err := exec.Command(bin, mode, "64", "3").CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) && ee.ExitCode() == 3 {
			vmtest.Missing(t, "userfaultfd for bench/fault.c "+mode+" ("+strings.TrimSpace(string(out))+")")
		}
		require.NoError(t, err, "%s: %s", mode, out)
		assert.Regexp(t, regexp.MustCompile(`^`+mode+`\t\d+ ns/fault\n$`), string(out))
	}
}
