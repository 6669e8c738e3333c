package probe_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestNoInitSideEffects keeps cilium's rlimit package out of the probe's
// dependencies: its init lowers RLIMIT_MEMLOCK and creates a BPF map, in
// every binary that imports it (the command line imports the probe).
// cilium's features package, which link imports, only fills tables at
// init.
func TestNoInitSideEffects(t *testing.T) {
	for _, goos := range []string{"linux", "darwin"} {
		t.Run(goos, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-deps", "vmsim/vm/probe")
			cmd.Env = append(cmd.Environ(), "GOOS="+goos)
			out, err := cmd.Output()
			require.NoError(t, err)
			deps := strings.Fields(string(out))
			require.Contains(t, deps, "vmsim/vm/probe")
			assert.NotContains(t, deps, "github.com/cilium/ebpf/rlimit")
			if goos != "linux" {
				for _, d := range deps {
					assert.False(t, strings.HasPrefix(d, "github.com/cilium/ebpf"), "the stub needs no eBPF: %s", d)
				}
			}
		})
	}
}
