package main

import (
	"context"
	"encoding/csv"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
	"vmsim/pager/multi"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// writeFiles writes name → contents into a new directory and returns the
// paths, in the order of names.
func writeFiles(t *testing.T, files ...string) []string {
	t.Helper()
	dir := t.TempDir()
	var paths []string
	for i := 0; i < len(files); i += 2 {
		p := filepath.Join(dir, files[i])
		require.NoError(t, os.WriteFile(p, []byte(files[i+1]), 0o644))
		paths = append(paths, p)
	}
	return paths
}

// TestMultiHandWorked runs the case of pager/multi's hand-worked schedule
// through the command line: one row per process and a total, in JSON.
func TestMultiHandWorked(t *testing.T) {
	paths := writeFiles(t, "a.pages", "1 2 1", "b.pages", "7 7 8")
	out, errOut, code := vmsim(t, append([]string{"multi", "-f", "3", "-p", "fifo", "--quantum", "2", "--access-time", "1ms", "--fault-time", "2ms", "-o", "json"}, paths...)...)
	require.Equal(t, 0, code, errOut)
	rows := jsonRows(t, out)
	require.Len(t, rows, 3)
	for _, r := range rows {
		for _, field := range []string{"trace", "process", "policy", "frames", "scope", "load_control", "mode", "accesses", "reads", "writes", "hits", "faults",
			"evictions", "writebacks", "protection_faults", "evicted_by_others", "stole", "released", "suspensions", "run_ms", "page_wait_ms", "ready_ms", "end_ms"} {
			assert.Contains(t, r, field)
		}
		assert.Equal(t, "sim", r["mode"])
		assert.Equal(t, "global", r["scope"])
		assert.NotContains(t, r, "user_faults")
	}
	assert.Equal(t, []any{"P1", 3.0, 1.0, 8.0, 11.0}, []any{rows[0]["process"], rows[0]["faults"], rows[0]["evicted_by_others"], rows[0]["page_wait_ms"], rows[0]["end_ms"]})
	assert.Equal(t, []any{"P2", 2.0, 1.0, 5.0, 9.0}, []any{rows[1]["process"], rows[1]["faults"], rows[1]["stole"], rows[1]["page_wait_ms"], rows[1]["end_ms"]})
	assert.Equal(t, "total", rows[2]["process"])
	assert.Equal(t, 5.0, rows[2]["faults"])
	assert.InDelta(t, 6.0/11, rows[2]["cpu_utilisation"], 1e-9)
	assert.InDelta(t, 10.0/11, rows[2]["device_utilisation"], 1e-9)
	assert.InDelta(t, 6/0.011, rows[2]["throughput"], 1e-6)
}

// TestMultiRealModeAgrees: --mode real gives the simulation's counts, and
// every fault and protection fault of each process was caught on its own
// region.
func TestMultiRealModeAgrees(t *testing.T) {
	paths := writeFiles(t, "a.pages", strings.Repeat("1 2w 3 4 1 5 2 ", 30), "b.pages", strings.Repeat("9 8 9w 7 6 ", 40))
	for _, mech := range []string{"mprotect", "remap", "uffd"} {
		for _, setting := range [][]string{{"--scope", "global"}, {"--scope", "local", "--load-control", "pff"}, {"--load-control", "ws", "--tau", "20"}} {
			t.Run(mech+"/"+strings.Join(setting, " "), func(t *testing.T) {
				args := append([]string{"multi", "-f", "6", "-p", "clock", "-o", "json"}, setting...)
				sim, errOut, code := vmsim(t, append(args, paths...)...)
				require.Equal(t, 0, code, errOut)
				real, errOut, code := vmsim(t, append(append(args, "--mode", "real", "--mechanism", mech), paths...)...)
				if code != 0 && mech == "uffd" && strings.Contains(errOut, "userfaultfd") {
					vmtest.Missing(t, strings.TrimSpace(errOut))
				}
				require.Equal(t, 0, code, errOut)
				simRows, realRows := jsonRows(t, sim), jsonRows(t, real)
				require.Len(t, realRows, 3)
				for i, r := range realRows {
					assert.Equal(t, "real", r["mode"])
					assert.Equal(t, mech, r["mechanism"])
					assert.Equal(t, r["faults"].(float64)+r["protection_faults"].(float64), r["user_faults"], "row %d", i)
					for _, field := range []string{"accesses", "faults", "evictions", "writebacks", "protection_faults", "released", "suspensions", "end_ms"} {
						assert.Equal(t, simRows[i][field], r[field], "row %d: %s", i, field)
					}
				}
			})
		}
	}
}

func TestMultiOutputs(t *testing.T) {
	paths := writeFiles(t, "a.pages", "1 2 1", "b.pages", "7 7 8")
	base := []string{"multi", "-f", "3", "-p", "fifo", "--quantum", "2", "--access-time", "1ms", "--fault-time", "2ms"}
	t.Run("csv", func(t *testing.T) {
		out, errOut, code := vmsim(t, append(append(base, "-o", "csv"), paths...)...)
		require.Equal(t, 0, code, errOut)
		recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
		require.NoError(t, err)
		require.Len(t, recs, 4)
		assert.Equal(t, []string{"trace", "process", "policy"}, recs[0][:3])
		assert.Equal(t, "total", recs[3][1])
	})
	t.Run("steps json", func(t *testing.T) {
		out, errOut, code := vmsim(t, append(append(base, "--steps", "-o", "json"), paths...)...)
		require.Equal(t, 0, code, errOut)
		rows := jsonRows(t, out)
		require.Len(t, rows, 8, "6 accesses and 2 exits")
		assert.Equal(t, "P2:7", rows[5]["victim"])
		assert.Equal(t, []any{"P1:2", "P2:8", "P1:1"}, rows[5]["frames"])
		assert.Equal(t, "exit", rows[7]["event"])
	})
	t.Run("timeline json", func(t *testing.T) {
		out, errOut, code := vmsim(t, append(append(base, "--timeline", "-o", "json"), paths...)...)
		require.Equal(t, 0, code, errOut)
		rows := jsonRows(t, out)
		var acc, faults float64
		for _, r := range rows {
			acc += r["accesses"].(float64)
			faults += r["faults"].(float64)
		}
		assert.Equal(t, []float64{6, 5}, []float64{acc, faults})
		assert.Equal(t, 12.0, rows[len(rows)-1]["to_ms"], "the timeline covers the 11 ms of the run")
	})
	t.Run("plot", func(t *testing.T) {
		svg := filepath.Join(t.TempDir(), "faults.svg")
		_, errOut, code := vmsim(t, append(append(base, "--plot", svg), paths...)...)
		require.Equal(t, 0, code, errOut)
		b, err := os.ReadFile(svg)
		require.NoError(t, err)
		assert.Contains(t, string(b), "<svg")
		assert.Contains(t, string(b), "faults per second")
	})
	t.Run("generated processes", func(t *testing.T) {
		out, errOut, code := vmsim(t, "multi", "-f", "10", "-o", "json", "gen:loop,pages=8,n=100", "gen:uniform,pages=20,n=50,seed=3,writes=0.5")
		require.Equal(t, 0, code, errOut)
		rows := jsonRows(t, out)
		assert.Equal(t, "gen:loop,pages=8,n=100", rows[0]["trace"])
		assert.Equal(t, 100.0, rows[0]["accesses"])
		assert.Equal(t, 50.0, rows[1]["accesses"])
		assert.Greater(t, rows[1]["writes"], 0.0)
	})
}

// TestMultiUsage: bad flags and impossible combinations exit 2 with one
// line naming what is wrong (both flags of a combination).
func TestMultiUsage(t *testing.T) {
	paths := writeFiles(t, "a.pages", "1 2 1", "b.pages", "7 7 8")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"no frames", []string{}, []string{"--frames is required"}},
		{"pff with global scope", []string{"-f", "4", "--load-control", "pff"}, []string{"--load-control pff", "--scope local"}},
		{"alloc with global scope", []string{"-f", "4", "--alloc", "proportional"}, []string{"--alloc", "--scope local"}},
		{"tau without ws", []string{"-f", "4", "--tau", "10"}, []string{"--tau", "--load-control ws", "--wsclock-tau"}},
		{"pff threshold without pff", []string{"-f", "4", "--scope", "local", "--pff-upper", "0.5"}, []string{"--pff-upper", "--load-control pff"}},
		{"thresholds the wrong way", []string{"-f", "4", "--scope", "local", "--load-control", "pff", "--pff-upper", "0.001"}, []string{"--pff-lower", "--pff-upper"}},
		{"two outputs", []string{"-f", "4", "--steps", "--timeline"}, []string{"--steps", "--timeline"}},
		{"steps in csv", []string{"-f", "4", "--steps", "-o", "csv"}, []string{"--output"}},
		{"mechanism in simulation", []string{"-f", "4", "--mechanism", "uffd"}, []string{"--mechanism", "--mode real"}},
		{"local with fewer frames than processes", []string{"-f", "1", "--scope", "local"}, []string{"at least one frame", "1 frames for 2 processes"}},
		{"unknown scope", []string{"-f", "4", "--scope", "regional"}, []string{"--scope", "regional"}},
		{"unknown policy", []string{"-f", "4", "-p", "lrux"}, []string{"--policy", "lrux"}},
		{"zero quantum", []string{"-f", "4", "--quantum", "0"}, []string{"--quantum 0"}},
		{"bad generated process", nil, []string{"gen:loop,pages=x", "not a number"}},
		{"unknown generator key", nil, []string{"gen:loop,size=3", "unknown key"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"multi"}, tt.args...)
			switch tt.name {
			case "bad generated process":
				args = append(args, "-f", "4", "gen:loop,pages=x")
			case "unknown generator key":
				args = append(args, "-f", "4", "gen:loop,size=3")
			default:
				args = append(args, paths...)
			}
			_, errOut, code := vmsim(t, args...)
			assert.Equal(t, 2, code, errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line: %s", errOut)
			assert.True(t, strings.HasPrefix(errOut, "vmsim: multi: "), errOut)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
	_, errOut, code := vmsim(t, "multi", "-f", "4", filepath.Join(t.TempDir(), "missing.pages"))
	assert.Equal(t, 1, code, "a missing file is a failure, not bad usage")
	assert.Contains(t, errOut, "missing.pages")
}

// TestThrashWiring: the figure's rows are multi runs of the first N
// processes, for each setting asked; the plot is written.
func TestThrashWiring(t *testing.T) {
	svg := filepath.Join(t.TempDir(), "thrash.svg")
	out, errOut, code := vmsim(t, "thrash", "--scope", "global,local", "--load-control", "none,pff", "--max", "3", "--n", "4000", "-o", "json", "--plot", svg)
	require.Equal(t, 0, code, errOut)
	rows := jsonRows(t, out)
	require.Len(t, rows, 9, "global/none, local/none, local/pff (pff needs local scope) × 3")
	trs, err := multi.Workload{Accesses: 4000, Seed: 1, Processes: 10}.Traces()
	require.NoError(t, err)
	for _, r := range rows {
		cfg := multi.Config{Policy: "lru", Frames: 100}
		cfg.Scope, _ = multi.ParseScope(r["scope"].(string))
		cfg.Control, _ = multi.ParseControl(r["load_control"].(string))
		n := int(r["processes"].(float64))
		res, err := multi.Run(context.Background(), trs[:n], cfg, nil)
		require.NoError(t, err)
		assert.InDelta(t, res.Utilisation(), r["cpu_utilisation"], 1e-12, "%v", r)
		assert.Equal(t, float64(res.Total.Faults), r["faults"])
	}
	b, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Contains(t, string(b), "CPU utilisation (%)")
	assert.Contains(t, string(b), "local, pff")
	assert.Contains(t, string(b), "#0072B2", "the colour-blind-safe palette of every plot")

	paths := writeFiles(t, "a.pages", strings.Repeat("1 2 3 ", 50), "b.pages", strings.Repeat("4 5 ", 80))
	out, errOut, code = vmsim(t, append([]string{"thrash", "-f", "4", "--scope", "global", "--load-control", "none", "-o", "csv"}, paths...)...)
	require.Equal(t, 0, code, errOut)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 3, "a header and one row per number of processes")
	tr := pager.NewBuilder("a")
	for range 50 {
		for _, p := range []arch.PageNum{1, 2, 3} {
			tr.Add(p, false)
		}
	}
	res, err := multi.Run(context.Background(), []*pager.Trace{tr.Trace()}, multi.Config{Policy: "lru", Frames: 4}, nil)
	require.NoError(t, err)
	assert.Equal(t, u(res.Total.Faults), recs[1][11])
}

func TestThrashUsage(t *testing.T) {
	paths := writeFiles(t, "a.pages", "1 2 1")
	for _, tt := range []struct {
		name string
		args []string
		want []string
	}{
		{"only an impossible setting", []string{"--scope", "global", "--load-control", "pff"}, []string{"--load-control pff", "--scope local"}},
		{"more processes than traces", append([]string{"--max", "3"}, paths...), []string{"--max 3"}},
		{"workload flag with traces", append([]string{"--ws", "10"}, paths...), []string{"--ws", "TRACE"}},
		{"no frames", []string{"-f", "0"}, []string{"--frames 0"}},
		{"unknown control", []string{"--load-control", "none,magic"}, []string{"magic"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, append([]string{"thrash"}, tt.args...)...)
			assert.Equal(t, 2, code, errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), errOut)
			for _, w := range tt.want {
				assert.Contains(t, errOut, w)
			}
		})
	}
}
