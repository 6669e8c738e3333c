package arch_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// pure are the packages that must stay portable: they never touch the
// operating system's memory calls, the real-memory packages or eBPF.
var pure = []string{
	"vmsim/vm/arch",
	"vmsim/faults",
	"vmsim/pager",
	"vmsim/traces/...",
}

var forbidden = []string{
	"golang.org/x/sys/unix",
	"github.com/cilium/ebpf",
	"vmsim/vm", // and its sub-packages, but for vm/arch
	"vmsim/pager/live",
}

// TestLayering enforces the direction of imports of docs/design.md.
func TestLayering(t *testing.T) {
	for _, pkg := range pure {
		t.Run(pkg, func(t *testing.T) {
			cmd := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}: {{join .Deps " "}}`, pkg)
			cmd.Dir = "../.."
			out, err := cmd.Output()
			require.NoError(t, err)
			for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
				name, deps, _ := strings.Cut(line, ": ")
				if strings.Contains(name, "matched no packages") || name == "" {
					continue
				}
				for _, dep := range strings.Fields(deps) {
					if dep == "vmsim/vm/arch" {
						continue
					}
					for _, bad := range forbidden {
						assert.False(t, dep == bad || strings.HasPrefix(dep, bad+"/"), "%s imports %s", name, dep)
					}
				}
			}
		})
	}
}
