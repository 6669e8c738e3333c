package vmtest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"vmsim/vm/arch"
)

// RequireEnv names the environment variable under which nothing may be
// missing: with RequireEnv=1 (CI sets it, as root, on a machine with every
// package installed) each skip of this package fails the test instead, so
// that a lost privilege or feature cannot turn the suite green by skipping.
const RequireEnv = "VMSIM_REQUIRE_PRIVILEGE"

// Required reports whether the environment demands every privilege,
// kernel feature and tool (see [RequireEnv]).
func Required() bool { return os.Getenv(RequireEnv) == "1" }

// Missing is the one skip of vmsim's tests: it skips tb because what is
// missing (a privilege, a kernel feature, a tool: the words of a person
// who must install or grant it), or fails tb when [Required].
func Missing(tb testing.TB, what string) {
	tb.Helper()
	if Required() {
		tb.Fatalf("missing %s (%s=1: nothing may be missing here)", what, RequireEnv)
	}
	tb.Skipf("missing %s", what)
}

// SkipIfNotSupported skips tb when err says that the kernel lacks a feature
// (it wraps [arch.ErrNotSupported]), with err's own words for what is
// missing; it fails tb on a bare ErrNotSupported that does not say what is
// missing, and does nothing for any other error (nil included): the caller
// checks those. A missing privilege is not a missing feature: a test that
// needs one says so first, with [RequireRoot] or [RequireCapability].
func SkipIfNotSupported(tb testing.TB, err error) {
	tb.Helper()
	if !errors.Is(err, arch.ErrNotSupported) {
		return
	}
	if err.Error() == arch.ErrNotSupported.Error() {
		tb.Fatalf("%q does not say what is missing", err)
	}
	Missing(tb, err.Error())
}

// RequireRoot skips tb (see [Missing]) unless the process runs as root;
// why says what the test needs root for ("CAP_BPF and CAP_PERFMON, to load
// the eBPF probe").
func RequireRoot(tb testing.TB, why string) {
	tb.Helper()
	if os.Geteuid() != 0 {
		Missing(tb, "root ("+why+")")
	}
}

// RequireTool skips tb (see [Missing]) unless the program name is on PATH;
// pkg names the Debian package that provides it.
func RequireTool(tb testing.TB, name, pkg string) string {
	tb.Helper()
	path, err := exec.LookPath(name)
	if err != nil {
		Missing(tb, name+" on PATH (apt-get install "+pkg+")")
	}
	return path
}

// RequireCapability skips tb (see [Missing]) unless the process has every
// named capability ("CAP_BPF", "CAP_PERFMON") in its effective set; why
// says what for.
func RequireCapability(tb testing.TB, why string, names ...string) {
	tb.Helper()
	var lacking []string
	for _, n := range names {
		if !HasCapability(n) {
			lacking = append(lacking, n)
		}
	}
	if len(lacking) > 0 {
		Missing(tb, strings.Join(lacking, " and ")+" ("+why+"; run as root)")
	}
}
