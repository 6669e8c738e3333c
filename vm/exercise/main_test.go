package exercise

import (
	"fmt"
	"os"
	"os/exec"
	"testing"
)

// childEnv marks a run of the test binary as the second process of a
// two-process exercise: Go cannot fork, so the tests start their own binary
// again, as the vmsim command starts itself.
const childEnv = "VMSIM_EXERCISE_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) == "1" {
		if err := RunChild(os.Args[1:]); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// spawnSelf is the tests' Spawner: the test binary in child mode.
func spawnSelf(args []string) (*exec.Cmd, error) {
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	if os.Getenv("GORACE") == "" {
		// A race-enabled binary sleeps a second at exit by default.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	return cmd, nil
}
