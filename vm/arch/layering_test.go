package arch_test

import (
	"os/exec"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// rule is what one package of the graph of docs/design.md may import.
type rule struct {
	// imports are the vmsim packages it may import directly.
	imports []string
	// third are the third-party packages (path prefixes) it may import
	// directly; anything else outside the standard library is refused.
	third []string
	// never are packages (path prefixes, "vmsim/vm" covering vmsim/vm/...
	// but for the exceptions of except) that may not be among its
	// dependencies, however indirect: the directions the docs state in
	// words.
	never []string
	// future marks a package that does not exist yet: its rule holds from
	// the day it does, and its absence is no failure.
	future bool
}

// Dependencies that the portable packages never have, and that "vm
// imports no policy" and "pager/multi imports no vm" forbid.
var (
	osSide     = []string{"golang.org/x/sys/unix", "github.com/cilium/ebpf", "vmsim/vm", "vmsim/pager/live", "vmsim/pager/plain"}
	policySide = []string{"vmsim/pager", "vmsim/traces", "vmsim/cmd"}
	cli        = []string{"vmsim/cmd", "github.com/spf13/cobra"}
)

// except are the packages that a prefix in never does not cover: vm/arch
// is the vocabulary every package shares.
var except = []string{"vmsim/vm/arch"}

// graph is the whole import graph of docs/design.md, as data: each vmsim
// package, existing or to come. A package missing here fails the test, so
// a new package comes with its rule.
var graph = map[string]rule{
	// The words: standard library only.
	"vmsim/vm/arch": {never: osSide},
	// The trap: standard library and the words.
	"vmsim/faults": {imports: []string{"vmsim/vm/arch"}, never: osSide},
	// Input: pure Go.
	"vmsim/traces":     {imports: []string{"vmsim/vm/arch"}, third: []string{"github.com/klauspost/compress"}, never: osSide},
	"vmsim/traces/gen": {imports: []string{"vmsim/traces", "vmsim/vm/arch"}, never: osSide},
	"vmsim/traces/mrc": {imports: []string{"vmsim/traces", "vmsim/vm/arch"}, never: osSide},
	// The decision core: pure Go, faults only for the Handler interface.
	"vmsim/pager": {imports: []string{"vmsim/traces", "vmsim/vm/arch", "vmsim/faults"}, never: osSide},
	// The mechanism: real memory, and no policy.
	"vmsim/vm":          {imports: []string{"vmsim/vm/arch", "vmsim/faults"}, third: []string{"golang.org/x/sys/unix"}, never: append([]string{"github.com/cilium/ebpf"}, policySide...)},
	"vmsim/vm/exercise": {imports: []string{"vmsim/vm", "vmsim/vm/arch", "vmsim/faults"}, third: []string{"golang.org/x/sys/unix"}, never: append([]string{"github.com/cilium/ebpf", "vmsim/vm/probe"}, policySide...)},
	"vmsim/vm/mmapcp":   {imports: []string{"vmsim/vm", "vmsim/vm/arch", "vmsim/faults"}, third: []string{"golang.org/x/sys/unix"}, never: append([]string{"github.com/cilium/ebpf"}, policySide...)},
	// Ground truth: eBPF and perf, on the words only.
	"vmsim/vm/probe": {imports: []string{"vmsim/vm/arch"}, third: []string{"github.com/cilium/ebpf", "golang.org/x/sys/unix"}, never: append([]string{"vmsim/vm/exercise", "vmsim/vm/mmapcp", "vmsim/faults"}, policySide...)},
	// Test helpers: what the tests of vm and above need.
	"vmsim/vm/vmtest": {imports: []string{"vmsim/vm/arch"}, third: []string{"github.com/stretchr/testify", "golang.org/x/sys/unix"}, never: append([]string{"github.com/cilium/ebpf", "vmsim/vm/probe"}, policySide...)},
	// The observer: ptrace events; it knows nothing of exercises.
	"vmsim/vm/observe": {imports: []string{"vmsim/vm", "vmsim/vm/arch"}, third: []string{"golang.org/x/sys/unix"}, never: append([]string{"vmsim/vm/exercise"}, policySide...)},
	// The grader: checks as data against the observer's events;
	// no CLI.
	"vmsim/vm/exercise/check": {imports: []string{"vmsim/vm/exercise", "vmsim/vm/observe", "vmsim/vm", "vmsim/vm/arch", "vmsim/faults"}, third: []string{"golang.org/x/sys/unix"}, never: cli},
	// The binding: real-memory paging.
	// pagertest holds the modes of the pager to one another in tests.
	"vmsim/pager/pagertest": {imports: []string{"vmsim/pager"}, never: osSide},
	"vmsim/pager/live":      {imports: []string{"vmsim/pager", "vmsim/vm", "vmsim/vm/arch", "vmsim/faults", "vmsim/traces"}, never: append([]string{"github.com/cilium/ebpf", "vmsim/vm/probe"}, cli...)},
	// The kernel's own paging of a trace on plain memory.
	"vmsim/pager/plain": {imports: []string{"vmsim/pager", "vmsim/vm", "vmsim/vm/arch", "vmsim/vm/probe"}, never: append([]string{"vmsim/pager/live", "vmsim/faults"}, cli...)},
	// Many processes: the one step function, and no vm.
	"vmsim/pager/multi": {imports: []string{"vmsim/pager", "vmsim/traces", "vmsim/traces/gen", "vmsim/vm/arch"}, never: append(slices.Clone(osSide), cli...)},
	// Sweeps: job ids, shards, resumable records, merging; pure Go, no
	// scheduler and no CLI.
	"vmsim/pager/sweep": {imports: []string{"vmsim/pager", "vmsim/traces", "vmsim/vm/arch"}, never: append(slices.Clone(osSide), cli...)},

	// The documentation's programs (docs/c), embedded: std only.
	"vmsim/docs": {never: append(slices.Clone(osSide), policySide...)},
	// The front: wiring, everything.
	"vmsim/cmd/vmsim": {
		imports: []string{"vmsim/pager", "vmsim/pager/live", "vmsim/pager/plain", "vmsim/pager/multi", "vmsim/pager/sweep", "vmsim/traces", "vmsim/traces/gen", "vmsim/traces/mrc", "vmsim/vm", "vmsim/vm/arch", "vmsim/vm/exercise", "vmsim/vm/exercise/check", "vmsim/vm/observe", "vmsim/vm/mmapcp", "vmsim/vm/probe", "vmsim/faults", "vmsim/cmd/vmsim/web", "vmsim/docs"},
		third:   []string{"github.com/spf13/cobra", "github.com/schollz/progressbar", "golang.org/x/term", "gonum.org/v1/plot", "golang.org/x/sys/unix"},
	},
	// The classroom: HTTP over the step function, the page embedded; no
	// policy logic of its own. It runs real memory and the exercises as the
	// CLI does, but reaches the kernel's counts only through what the front
	// hands it (no eBPF of its own).
	"vmsim/cmd/vmsim/web": {
		imports: []string{"vmsim/pager", "vmsim/pager/live", "vmsim/traces", "vmsim/traces/gen", "vmsim/traces/mrc", "vmsim/vm/arch", "vmsim/vm/exercise"},
		never:   []string{"github.com/cilium/ebpf", "vmsim/vm/probe", "vmsim/cmd/vmsim"},
	},
}

// pkgInfo is what go list says of one package.
type pkgInfo struct {
	path          string
	imports, deps []string
}

// listPackages runs go list on every package of the module.
func listPackages(t *testing.T) map[string]pkgInfo {
	t.Helper()
	cmd := exec.Command("go", "list", "-e", "-f", `{{.ImportPath}}|{{join .Imports " "}}|{{join .Deps " "}}`, "./...")
	cmd.Dir = "../.."
	out, err := cmd.Output()
	require.NoError(t, err)
	pkgs := map[string]pkgInfo{}
	for _, line := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		f := strings.Split(line, "|")
		require.Len(t, f, 3, "go list line %q", line)
		pkgs[f[0]] = pkgInfo{path: f[0], imports: strings.Fields(f[1]), deps: strings.Fields(f[2])}
	}
	return pkgs
}

// standard reports whether path is in the standard library: its first
// element has no dot, and it is not ours.
func standard(path string) bool {
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".") && first != "vmsim"
}

// under reports whether path is prefix or below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// violations returns what p does against r, one sentence each.
func violations(p pkgInfo, r rule) []string {
	var bad []string
	for _, imp := range p.imports {
		switch {
		case standard(imp):
		case under(imp, "vmsim"):
			if !slices.Contains(r.imports, imp) {
				bad = append(bad, p.path+" may not import "+imp)
			}
		default:
			if !slices.ContainsFunc(r.third, func(pre string) bool { return under(imp, pre) }) {
				bad = append(bad, p.path+" may not import the third-party "+imp)
			}
		}
	}
	for _, dep := range p.deps {
		if slices.Contains(except, dep) {
			continue
		}
		for _, never := range r.never {
			if under(dep, never) {
				bad = append(bad, p.path+" depends on "+dep+", which its rule forbids ("+never+")")
			}
		}
	}
	return bad
}

// TestLayering enforces the direction of imports of docs/design.md on
// every package of the module: direct imports from the graph's lists, and
// none of the dependencies a rule forbids, however indirect.
func TestLayering(t *testing.T) {
	pkgs := listPackages(t)
	require.Contains(t, pkgs, "vmsim/vm/arch", "go list found the module")
	for path := range pkgs {
		_, ok := graph[path]
		assert.True(t, ok, "%s has no rule in the graph: add one here and in docs/design.md", path)
	}
	for path, r := range graph {
		t.Run(path, func(t *testing.T) {
			p, ok := pkgs[path]
			if !ok {
				assert.True(t, r.future, "%s is in the graph but does not exist: mark it future, or drop it", path)
				return
			}
			assert.Empty(t, violations(p, r))
		})
	}
}

// TestLayeringCatches checks the checks on made-up packages: a forbidden
// direct import, an unlisted third-party import and a forbidden indirect
// dependency are each seen; vm/arch, the shared words, is never one.
func TestLayeringCatches(t *testing.T) {
	p := pkgInfo{path: "vmsim/pager", imports: []string{"fmt", "vmsim/vm", "example.com/x"}, deps: []string{"fmt", "vmsim/vm", "vmsim/vm/arch", "golang.org/x/sys/unix"}}
	assert.Equal(t, []string{
		"vmsim/pager may not import vmsim/vm",
		"vmsim/pager may not import the third-party example.com/x",
		"vmsim/pager depends on vmsim/vm, which its rule forbids (vmsim/vm)",
		"vmsim/pager depends on golang.org/x/sys/unix, which its rule forbids (golang.org/x/sys/unix)",
	}, violations(p, graph["vmsim/pager"]))
	multi := pkgInfo{path: "vmsim/pager/multi", imports: []string{"vmsim/pager"}, deps: []string{"vmsim/pager", "vmsim/pager/live", "vmsim/vm"}}
	assert.Len(t, violations(multi, graph["vmsim/pager/multi"]), 2, "pager/multi reaches no vm, even through live")
	check := pkgInfo{path: "vmsim/vm/exercise/check", imports: []string{"vmsim/vm/exercise", "github.com/spf13/cobra"}, deps: []string{"github.com/spf13/cobra"}}
	assert.Len(t, violations(check, graph["vmsim/vm/exercise/check"]), 2, "the grader has no CLI")
	observe := pkgInfo{path: "vmsim/vm/observe", imports: []string{"vmsim/vm"}, deps: []string{"vmsim/vm", "vmsim/vm/exercise"}}
	assert.Len(t, violations(observe, graph["vmsim/vm/observe"]), 1, "the observer knows no exercise")
	assert.Empty(t, violations(pkgInfo{path: "vmsim/faults", imports: []string{"runtime/debug", "vmsim/vm/arch"}, deps: []string{"vmsim/vm/arch"}}, graph["vmsim/faults"]))
	assert.False(t, standard("golang.org/x/sys/unix"))
	assert.False(t, under("vmsim/vmtest", "vmsim/vm"))
}
