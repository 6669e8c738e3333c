package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// vmsimIn runs the command line with stdin.
func vmsimIn(t *testing.T, stdin string, args ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	root := newRoot()
	root.SetArgs(args)
	root.SetIn(strings.NewReader(stdin))
	root.SetOut(&stdout)
	root.SetErr(&stderr)
	err := root.ExecuteContext(context.Background())
	code := 0
	if err != nil {
		code = exitCode(err)
		stderr.WriteString("vmsim: " + oneLine(err) + "\n")
	}
	return stdout.String(), stderr.String(), code
}

func jsonRows(t *testing.T, out string) []map[string]any {
	t.Helper()
	var rows []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), line)
		rows = append(rows, m)
	}
	return rows
}

func TestReplayTextbook(t *testing.T) {
	out, errOut, code := vmsimIn(t, "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1", "replay", "-p", "fifo,lru,opt", "-f", "3", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	rows := jsonRows(t, out)
	require.Len(t, rows, 3)
	want := map[string]float64{"fifo": 15, "lru": 12, "opt": 9}
	for _, r := range rows {
		assert.Equal(t, want[r["policy"].(string)], r["faults"], r["policy"])
		for _, field := range []string{"trace", "policy", "frames", "mode", "accesses", "reads", "writes", "hits", "faults", "evictions", "writebacks", "protection_faults"} {
			assert.Contains(t, r, field)
		}
		assert.Equal(t, "sim", r["mode"])
		assert.Equal(t, "-", r["trace"])
		assert.NotContains(t, r, "user_faults", "simulation catches no fault")
	}
}

func TestReplayRealMode(t *testing.T) {
	for _, mech := range []string{"mprotect", "remap"} {
		t.Run(mech, func(t *testing.T) {
			out, errOut, code := vmsimIn(t, "1 2 3 4 1 2 5 1 2 3 4 5\n5w 4w", "replay", "--mode", "real", "--mechanism", mech, "-p", "fifo", "-f", "3,4", "-o", "json", "-")
			require.Equal(t, 0, code, errOut)
			rows := jsonRows(t, out)
			require.Len(t, rows, 2)
			// 5w and 4w at the end write clean resident pages: two
			// protection faults, no fault.
			assert.Equal(t, 9.0, rows[0]["faults"])
			assert.Equal(t, 2.0, rows[0]["protection_faults"])
			assert.Equal(t, 11.0, rows[0]["user_faults"], "faults + protection faults, all caught")
			assert.Equal(t, "real", rows[0]["mode"])
			assert.Equal(t, mech, rows[0]["mechanism"])
			assert.Equal(t, 10.0, rows[1]["faults"], "Belady's anomaly, in real memory")
			assert.Equal(t, 12.0, rows[1]["user_faults"])
		})
	}
}

func TestReplayOutputs(t *testing.T) {
	path := filepath.Join(t.TempDir(), "belady.pages")
	require.NoError(t, os.WriteFile(path, []byte("# Belady\n1 2 3 4 1 2 5 1 2 3 4 5\n"), 0o644))
	out, _, code := vmsimIn(t, "", "replay", "-p", "fifo", "-f", "3:4", "-o", "csv", path)
	require.Equal(t, 0, code)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 3)
	assert.Equal(t, "trace,policy,frames,mode,accesses,reads,writes,hits,faults,evictions,writebacks,protection_faults,miss_ratio", lines[0])
	assert.Equal(t, path+",fifo,3,sim,12,12,0,3,9,6,0,0,0.750000", lines[1])
	assert.Equal(t, path+",fifo,4,sim,12,12,0,2,10,6,0,0,0.833333", lines[2])

	out, _, code = vmsimIn(t, "", "replay", "-p", "lru", "-f", "3", path)
	require.Equal(t, 0, code)
	assert.Contains(t, out, "FAULTS")
	assert.Regexp(t, `lru\s+3\s+sim\s+12\s+2\s+10\s+83.33`, out)
}

func TestReplayErrors(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "bad.pages")
	require.NoError(t, os.WriteFile(bad, []byte("1 2\n3 x4 5\n"), 0o644))
	tests := []struct {
		name  string
		stdin string
		args  []string
		code  int
		msg   string
	}{
		{"malformed token names file:line", "", []string{"replay", bad}, 1, bad + `:2: "x4": syntax error: expected a page number`},
		{"malformed stdin", "1 2 3,,zz", []string{"replay", "-"}, 1, `-:1: "zz"`},
		{"zero frames", "1", []string{"replay", "-f", "0", "-"}, 2, "--frames: 0 frames: must be at least 1"},
		{"negative range", "1", []string{"replay", "-f", "5:2", "-"}, 2, "--frames: range"},
		{"unknown policy", "1", []string{"replay", "-p", "lru,belady", "-"}, 2, `--policy: "belady"`},
		{"unknown mechanism", "1", []string{"replay", "--mode", "real", "--mechanism", "magic", "-"}, 2, `--mechanism: "magic"`},
		{"mechanism without real mode", "1", []string{"replay", "--mechanism", "remap", "-"}, 2, "--mechanism applies to --mode real only"},
		{"unknown mode", "1", []string{"replay", "--mode", "dream", "-"}, 2, `--mode "dream"`},
		{"unknown output", "1", []string{"replay", "-o", "xml", "-"}, 2, `--output "xml"`},
		{"no trace", "", []string{"replay"}, 2, "needs at least 1 TRACE"},
		{"stdin twice", "1", []string{"replay", "-", "-"}, 2, "read only once"},
		{"missing file", "", []string{"replay", "/nonexistent/trace"}, 1, "no such file"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := vmsimIn(t, tt.stdin, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.msg)
			assert.Empty(t, out)
		})
	}
}

func TestParseFrames(t *testing.T) {
	tests := []struct {
		in   string
		want []int
		err  string
	}{
		{"3", []int{3}, ""},
		{"3,4,8", []int{3, 4, 8}, ""},
		{"4:16:4", []int{4, 8, 12, 16}, ""},
		{"1:3,2,10", []int{1, 2, 3, 10}, ""},
		{"0", nil, "at least 1"},
		{"3,", nil, "empty item"},
		{"a", nil, "not a number"},
		{"1:2:3:4", nil, "FROM:TO"},
		{"1:10:0", nil, "step"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseFrames(tt.in)
			if tt.err != "" {
				assert.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestInterruptStopsReading: once the context is done (Ctrl-C), reading a
// trace stops with its error, for the streaming path and for the paths that
// load the whole trace first (opt, mrc, step).
func TestInterruptStopsReading(t *testing.T) {
	path := filepath.Join(t.TempDir(), "t.pages")
	require.NoError(t, os.WriteFile(path, []byte(strings.Repeat("1 2 3 4\n", 1000)), 0o644))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, args := range [][]string{
		{"replay", "-p", "lru", path},
		{"replay", "-p", "opt", path},
		{"mrc", path},
		{"step", path},
	} {
		err := run(ctx, args, io.Discard, io.Discard)
		assert.ErrorIs(t, err, context.Canceled, "%v", args)
		assert.Equal(t, 1, exitCode(err))
	}
}

// loopTrace writes a trace of 20,000 accesses that loop over 100 pages
// (260 KB held whole) and returns its path.
func loopTrace(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "loop.pages")
	var b strings.Builder
	for i := range 20_000 {
		fmt.Fprintf(&b, "%d\n", i%100)
	}
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestReplayBoundedByTheUser: memory follows what the user asked for, not
// the input. A run count past the bound is refused before anything runs; a
// trace that opt would hold whole past --max-memory is refused with what to
// do; real mode without opt streams the same trace within that budget.
func TestReplayBoundedByTheUser(t *testing.T) {
	path := loopTrace(t)

	_, errOut, code := vmsimIn(t, "1 2 3", "replay", "-p", "all", "-f", "1:1000000", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "make 14000000 runs (14 policies × 1000000 frame counts), more than 10000")

	// 20,000 accesses take 260 KB whole: a budget of 100KB refuses opt.
	_, errOut, code = vmsimIn(t, "", "replay", "-p", "opt", "-f", "10", "--max-memory", "100KB", path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "over the budget of 97.7 KiB")
	assert.Contains(t, errOut, "raise --max-memory, drop opt from --policy, or replay the first N accesses with --limit N")

	// The same budget holds for every other policy, in both modes: they
	// stream.
	for _, mode := range []string{"sim", "real"} {
		out, errOut, code := vmsimIn(t, "", "replay", "--mode", mode, "-p", "fifo,lru", "-f", "10,100", "--max-memory", "100KB", "-o", "json", path)
		require.Equal(t, 0, code, errOut)
		rows := jsonRows(t, out)
		require.Len(t, rows, 4)
		assert.Equal(t, 20_000.0, rows[0]["faults"], "%s: a loop of 100 pages in 10 frames always faults", mode)
		assert.Equal(t, 100.0, rows[1]["faults"], "%s: in 100 frames only the cold misses", mode)
	}

	// --limit replays the first N accesses, opt included.
	out, errOut, code := vmsimIn(t, "", "replay", "-p", "opt,fifo", "-f", "100", "--limit", "150", "--max-memory", "100KB", "-o", "json", path)
	require.Equal(t, 0, code, errOut)
	for _, r := range jsonRows(t, out) {
		assert.Equal(t, 150.0, r["accesses"])
		assert.Equal(t, 100.0, r["faults"])
	}
}

// TestEveryLoaderBounded: step, ws, multi and thrash hold whole traces too,
// and refuse past --max-memory (by default half of the machine's memory)
// with what to do, before they have read the rest.
func TestEveryLoaderBounded(t *testing.T) {
	path := loopTrace(t)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"step", "-p", "fifo", "-f", "3", path}, "step holds the whole trace in memory: raise --max-memory, or show the first N accesses with --limit N"},
		{[]string{"step", "-p", "opt", "-f", "3", "--limit", "10", path}, "opt reads it all for next uses, whatever --limit"},
		{[]string{"ws", "--tau", "10", path}, "ws holds the whole trace in memory: raise --max-memory, or cut the trace"},
		{[]string{"multi", "-f", "10", path, path}, "multi holds the whole trace in memory: raise --max-memory, or give fewer or shorter traces"},
		{[]string{"thrash", "-f", "10", path, path}, "over the budget of 97.7 KiB"},
	} {
		_, errOut, code := vmsimIn(t, "", append(tt.args, "--max-memory", "100KB")...)
		assert.Equal(t, 1, code, "%v: %s", tt.args, errOut)
		assert.Contains(t, errOut, "over the budget of 97.7 KiB", tt.args)
		assert.Contains(t, errOut, tt.want, tt.args)
	}
	// Two traces of 130 KB each: the first fits in 200KB, the second not.
	_, errOut, code := vmsimIn(t, "", "multi", "-f", "10", "--max-memory", "200KB", path, path)
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "over the budget of", "the second trace gets what the first left")
	// Within the default budget they run.
	out, errOut, code := vmsimIn(t, "", "step", "-p", "fifo", "-f", "3", "--limit", "4", "-o", "json", path)
	require.Equal(t, 0, code, errOut)
	assert.Len(t, jsonRows(t, out), 4)
	_, errOut, code = vmsimIn(t, "", "ws", "--max-memory", "4XB", path)
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--max-memory: "4XB": unknown unit "XB"`)
}

func TestMemoryBudgetFlag(t *testing.T) {
	for in, want := range map[string]uint64{"4GiB": 4 << 30, "500MB": 500e6, "100kb": 100e3, "2g": 2 << 30, "1048576": 1 << 20} {
		got, err := memoryBudget(in)
		require.NoError(t, err, in)
		assert.Equal(t, want, got, in)
	}
	for _, in := range []string{"4XB", "-1", "GiB", "0", "99999999999999999999TiB"} {
		_, err := memoryBudget(in)
		assert.Error(t, err, in)
	}
	def, err := memoryBudget("")
	require.NoError(t, err)
	assert.Greater(t, def, uint64(0))
	_, errOut, code := vmsimIn(t, "1", "replay", "--max-memory", "4XB", "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, `--max-memory: "4XB": unknown unit "XB"`)
}

// TestRealRunCheckedBeforeItStarts: a frame budget that the map limit
// cannot hold is refused before the first run, with the largest that fits,
// not after some rows were made and lost.
func TestRealRunCheckedBeforeItStarts(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2 3 4 5", "replay", "--mode", "real", "-p", "fifo", "-f", "3,10000000", "-")
	assert.Equal(t, 1, code)
	assert.Empty(t, out)
	assert.Contains(t, errOut, "10000000 frames need up to 20000004 memory areas")
	assert.Contains(t, errOut, "--mechanism uffd has no such bound")
}
