package vmtest

import (
	"os"
	"os/exec"
	"testing"

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
	cmd := exec.Command(os.Args[0], "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), childEnv+"=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "unprivileged child:\n%s", out)
	require.Contains(t, string(out), "--- PASS: "+t.Name(), "the child ran the test:\n%s", out)
	t.Logf("unprivileged child:\n%s", out)
	return false
}
