package vmtest

import (
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// childEnv marks the child process of [Unprivileged].
const childEnv = "VMSIM_VMTEST_UNPRIVILEGED"

// Nobody is the user and group id the child runs as.
const Nobody = 65534

// Unprivileged runs test t again, alone, in a child process that gives up
// root before the test body runs: it reports true in that child (the caller
// then makes its checks there, with t as usual), and false in the parent
// once the child has passed (a failing child fails t with its output).
//
// The parent must be root, else t is skipped: an unprivileged parent could
// not tell a dropped privilege from one it never had.
func Unprivileged(t *testing.T) bool {
	t.Helper()
	if os.Getenv(childEnv) == "1" {
		if os.Getuid() == 0 {
			require.NoError(t, dropPrivileges(), "drop privileges")
		}
		return true
	}
	RequireRoot(t, "to run a child that gives up root")
	runChild(t, childEnv)
	return false
}

// Child runs test t again, alone, in a child process with the same
// credentials: it reports true in that child, where the caller may change
// the whole process for good (install a seccomp filter) and make its
// checks, and false in the parent once the child has passed.
func Child(t *testing.T) bool {
	t.Helper()
	if os.Getenv(sameEnv) == "1" {
		return true
	}
	runChild(t, sameEnv)
	return false
}

// sameEnv marks the child process of [Child].
const sameEnv = "VMSIM_VMTEST_CHILD"

// runChild runs t alone in a child with env=1 and fails t if the child
// fails or did not run t.
func runChild(t *testing.T, env string) {
	t.Helper()
	args := []string{"-test.run=^" + t.Name() + "$", "-test.v", "-test.count=1"}
	if d, ok := t.Deadline(); ok {
		// A child that hangs times out first, and its report (which test,
		// every goroutine) reaches this test's failure, not lost when
		// the parent's own timeout kills both.
		if left := time.Until(d) - 30*time.Second; left > 0 {
			args = append(args, "-test.timeout="+left.String())
		}
	}
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), env+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child ran the test:\n%s", out)
	t.Logf("child:\n%s", out)
}
