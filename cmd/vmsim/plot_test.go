package main

import (
	"fmt"
	"image/color"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/pager"
)

// curve returns a series y = f(x) at x = 1..n.
func curve(name string, n int, f func(x float64) float64) series {
	s := series{name: name}
	for x := 1; x <= n; x++ {
		s.xs = append(s.xs, float64(x))
		s.ys = append(s.ys, f(float64(x)))
	}
	return s
}

func TestAutoLogAxes(t *testing.T) {
	spike := curve("lru", 5000, func(x float64) float64 { return 1 / x })
	straight := curve("lru", 5000, func(x float64) float64 { return 1 - x/5000 + 0.001 })
	short := curve("lru", 50, func(x float64) float64 { return 1 / x })
	floor := curve("lru", 1000, func(x float64) float64 { return math.Max(1-x/100, 0.004) })
	tests := []struct {
		name       string
		lines      []series
		logX, logY bool
	}{
		{"a spike at the left over three decades: both log", []series{spike}, true, true},
		{"a straight fall: linear", []series{straight}, false, false},
		{"under two decades of frames: linear x", []series{short}, false, false},
		{"a fall onto a flat floor: linear y", []series{floor}, false, false},
		{"one line that moves across the range keeps x linear", []series{spike, straight}, false, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.logX, autoLogX(tt.lines), "x")
			assert.Equal(t, tt.logY, autoLogY(tt.lines), "y")
		})
	}
}

// TestEveryPolicyHasItsOwnStyle: 14 policies on one plot, and the same
// policy of two traces, must be told apart by colour or dashes.
func TestEveryPolicyHasItsOwnStyle(t *testing.T) {
	type look struct {
		c      color.Color
		dashes string
	}
	seen := map[look]int{}
	for i := range 21 {
		c, d, _ := lineStyle(i)
		l := look{c, fmt.Sprint(d)}
		_, dup := seen[l]
		assert.False(t, dup, "style %d repeats style %d", i, seen[l])
		seen[l] = i
	}
	var lines []series
	for _, p := range pager.Policies() {
		lines = append(lines, series{name: "a.vmt: " + p}, series{name: "b.vmt: " + p})
	}
	idx := styleIndexes(lines)
	used := map[int]bool{}
	for i, k := range idx {
		assert.False(t, used[k], "line %q shares a style", lines[i].name)
		used[k] = true
	}
	assert.Equal(t, idx[2], 1, "lru (the second policy) keeps its own style")
	assert.Equal(t, styleIndexes([]series{{name: "opt (real)"}})[0], styleIndexes([]series{{name: "lru"}, {name: "opt"}})[1],
		"a policy looks the same in every plot")
}

func TestIntTicks(t *testing.T) {
	for _, r := range [][2]float64{{1, 6}, {1, 64}, {0, 29999}, {1, 914714}, {100, 100}, {3, 4}} {
		ticks := intTicks(r[0], r[1])
		labelled := 0
		for _, tk := range ticks {
			assert.Equal(t, math.Trunc(tk.Value), tk.Value, "range %v: tick at %v", r, tk.Value)
			if tk.Label != "" {
				labelled++
			}
		}
		assert.GreaterOrEqual(t, labelled, 1, "range %v", r)
		if r[1]-r[0] >= 3 {
			assert.GreaterOrEqual(t, labelled, 2, "range %v", r)
			assert.LessOrEqual(t, labelled, 11, "range %v", r)
		}
	}
	var labels []string
	for _, tk := range intTicks(0, 29999) {
		if tk.Label != "" {
			labels = append(labels, tk.Label)
		}
	}
	assert.Equal(t, []string{"0", "5k", "10k", "15k", "20k", "25k"}, labels, "one unit for the axis")
}

func TestShortPaths(t *testing.T) {
	assert.Equal(t, "LRU miss-ratio curve: t.pages (SHARDS-adj, rate 0.5)", shortPaths("LRU miss-ratio curve: /tmp/x/t.pages (SHARDS-adj, rate 0.5)"))
	assert.Equal(t, "c.vmt: lru", shortPaths("../a/b/c.vmt: lru"))
	assert.Equal(t, "W(t, 1000)", shortPaths("W(t, 1000)"))
}

// TestPlotsForPapers draws a miss-ratio curve and a replay of every policy:
// the title names the trace without its directories, a spike at the left
// gets log axes unless told otherwise, and a legend widens the image
// beside the data rather than covering it.
func TestPlotsForPapers(t *testing.T) {
	dir := t.TempDir()
	// Seven hot pages, and one access in ten to one of 5,000 others: the
	// curve falls at once, then hardly moves.
	var b strings.Builder
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range 50000 {
		p := i % 7
		if i%10 == 0 {
			p = 7 + rng.IntN(5000)
		}
		fmt.Fprintf(&b, "%d\n", p)
	}
	trace := filepath.Join(dir, "spiky.pages")
	require.NoError(t, os.WriteFile(trace, []byte(b.String()), 0o644))

	svg := func(args ...string) string {
		t.Helper()
		_, errOut, code := vmsim(t, args...)
		require.Equal(t, 0, code, errOut)
		data, err := os.ReadFile(args[len(args)-2])
		require.NoError(t, err)
		return string(data)
	}
	auto := svg("mrc", "--plot", filepath.Join(dir, "auto.svg"), trace)
	assert.Contains(t, auto, "LRU miss-ratio curve: spiky.pages")
	assert.NotContains(t, auto, dir, "no directories in the title")
	assert.Contains(t, auto, ">1000<", "log x ticks at powers of ten")
	assert.Contains(t, auto, ">100<")
	assert.Contains(t, auto, ">0.5<", "a linear y axis: the curve spans one decade only")

	logY := svg("mrc", "--log-y", "--plot", filepath.Join(dir, "logy.svg"), trace)
	assert.Contains(t, logY, ">0.1<", "log y ticks at powers of ten")
	assert.NotContains(t, logY, ">0.5<")

	linear := svg("mrc", "--log-x=false", "--log-y=false", "--plot", filepath.Join(dir, "linear.svg"), trace)
	assert.NotContains(t, linear, ">0.01<")
	assert.Contains(t, linear, ">1000<", "whole-number frames on a linear axis")
	assert.NotContains(t, linear, ">1e+03<")

	all := svg("replay", "-p", "all", "-f", "1:40", "--plot", filepath.Join(dir, "all.svg"), trace)
	for _, p := range pager.Policies() {
		assert.Contains(t, all, ">"+p+"<", "legend entry for %s", p)
	}
	width := func(s string) float64 {
		m := regexp.MustCompile(`<svg[^>]*width="([0-9.]+)pt"`).FindStringSubmatch(s)
		require.NotNil(t, m, "svg width")
		w, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return w
	}
	assert.Equal(t, 576.0, width(auto), "a lone line: 8 inches, no legend")
	assert.Greater(t, width(all), 576.0+40, "the legend takes a column of its own")

	// Every command that plots takes the axis flags: replay's curves of
	// faults against frames, for one, on a log x axis when asked.
	logReplay := svg("replay", "-p", "lru,lfu", "-f", "1:400:8", "--log-x", "--plot", filepath.Join(dir, "replay.svg"), trace)
	assert.Contains(t, logReplay, ">100<", "log x ticks at powers of ten")
	assert.NotContains(t, logReplay, ">200<", "no linear ticks")
	linReplay := svg("replay", "-p", "lru,lfu", "-f", "1:400:8", "--log-x=false", "--plot", filepath.Join(dir, "replay-lin.svg"), trace)
	assert.Contains(t, linReplay, ">200<")

	for _, args := range [][]string{{"mrc", "--log-x"}, {"replay", "-f", "3", "--log-y"}, {"ws", "--log-x"}, {"multi", "-f", "3", "--log-x"}, {"thrash", "--log-y"}} {
		_, errOut, code := vmsim(t, append(args, trace)...)
		assert.Equal(t, 2, code, "%v", args)
		assert.Contains(t, errOut, "sets an axis of --plot: give --plot too", "%v", args)
	}
}
