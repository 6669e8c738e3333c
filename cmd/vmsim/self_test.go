package main

import (
	"os"
	"os/exec"
	"testing"
)

// asVmsim makes a run of the test binary behave as the vmsim command: the
// exercises start "this program" again (os.Executable) for their second
// process, and tests start separate vmsim processes, without a go build.
const asVmsim = "VMSIM_TEST_AS_VMSIM"

func TestMain(m *testing.M) {
	if os.Getenv(asVmsim) == "1" {
		main()
		os.Exit(0)
	}
	// Every process these tests start, directly or through an exercise,
	// is vmsim.
	os.Setenv(asVmsim, "1")
	if os.Getenv("GORACE") == "" {
		// A race-enabled binary sleeps a second at exit by default.
		os.Setenv("GORACE", "atexit_sleep_ms=0")
	}
	os.Exit(m.Run())
}

// vmsimCommand returns a command that runs vmsim with args in a separate
// process.
func vmsimCommand(args ...string) *exec.Cmd {
	return exec.Command(os.Args[0], args...)
}
