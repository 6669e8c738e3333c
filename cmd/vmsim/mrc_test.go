package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const textbook = "7 0 1 2 0 3 0 4 2 3 0 3 2 1 2 0 1 7 0 1"

func TestMRCEqualsReplay(t *testing.T) {
	out, errOut, code := vmsimIn(t, textbook, "mrc", "-f", "1:7", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	points := jsonRows(t, out)
	require.Len(t, points, 7)
	for _, p := range points {
		k := int(p["frames"].(float64))
		rout, _, code := vmsimIn(t, textbook, "replay", "-p", "lru", "-f", fmt.Sprint(k), "-o", "json", "-")
		require.Equal(t, 0, code)
		assert.Equal(t, jsonRows(t, rout)[0]["faults"], p["faults"], "%d frames", k)
		assert.Equal(t, 1.0, p["sample_rate"])
	}
	assert.Equal(t, 12.0, points[2]["faults"], "LRU, 3 frames: 12")
}

func TestMRCSamplingAndPlot(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "%d\n", (i*7919)%3000)
	}
	dir := t.TempDir()
	trace := filepath.Join(dir, "t.pages")
	require.NoError(t, os.WriteFile(trace, []byte(b.String()), 0o644))
	svg := filepath.Join(dir, "mrc.svg")
	out, errOut, code := vmsimIn(t, "", "mrc", "--sample", "0.5", "--plot", svg, trace)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "# SHARDS-adj sampling at rate 0.5 (seed ")
	assert.Regexp(t, `: \d+ pages and \d+ of 20000 accesses sampled; resolution 2 frames;`, out)
	assert.NotContains(t, errOut, "warning", "1,000 pages and more are sampled")
	img, err := os.ReadFile(svg)
	require.NoError(t, err)
	assert.Contains(t, string(img[:200]), "<svg")
	entries, _ := os.ReadDir(dir)
	assert.Len(t, entries, 2, "no temporary file left behind")

	png := filepath.Join(dir, "mrc.png")
	_, errOut, code = vmsimIn(t, "", "mrc", "--plot", png, trace)
	require.Equal(t, 0, code, errOut)
	img, err = os.ReadFile(png)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(img[:4]))
}

// TestMRCWarnsOnSmallSamples: a 368-page trace sampled at 0.01 once printed
// a curve of 100% misses with no word of warning.
func TestMRCWarnsOnSmallSamples(t *testing.T) {
	var b strings.Builder
	for i := range 20000 {
		fmt.Fprintf(&b, "%d\n", (i*7919)%368)
	}
	out, errOut, code := vmsimIn(t, b.String(), "mrc", "--sample", "0.01", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `^vmsim: mrc: warning: -: only \d+ pages sampled at rate 0.01, too few for the curve to be trusted`, errOut)
	rows := jsonRows(t, out)
	require.NotEmpty(t, rows)
	assert.Equal(t, 100.0, rows[0]["resolution"], "1/rate frames")
	assert.Equal(t, 100.0, rows[0]["frames"], "the default points start at the resolution")
	assert.Less(t, rows[0]["sampled_pages"], 100.0)

	out, errOut, code = vmsimIn(t, b.String(), "mrc", "-o", "json", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	assert.Empty(t, errOut, "an exact curve needs no warning")
	rows = jsonRows(t, out)
	assert.Equal(t, 368.0, rows[0]["sampled_pages"], "every page, when exact")
	assert.Equal(t, 1.0, rows[0]["resolution"])
}

func TestMRCErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		code int
		msg  string
	}{
		{[]string{"mrc", "--sample", "0", "-"}, 2, "--sample 0: the rate must be in [2^-24, 1]"},
		{[]string{"mrc", "--sample", "1e-9", "-"}, 2, "--sample 1e-09"},
		{[]string{"mrc", "--sample", "2", "-"}, 2, "--sample 2"},
		{[]string{"mrc", "--seed", "3", "-"}, 2, "--seed seeds the hash of --sample: give --sample too"},
		{[]string{"mrc", "--plot", "x.pdf", "-"}, 2, "want a .svg or .png file"},
		{[]string{"mrc", "-f", "0", "-"}, 2, "--frames"},
		{[]string{"mrc"}, 2, "needs 1 argument(s) (TRACE)"},
		{[]string{"mrc", "-", "-"}, 2, "needs 1 argument(s)"},
		{[]string{"mrc", "--plot", "/nonexistent/dir/x.svg", "-"}, 2, "no directory /nonexistent/dir"},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, errOut, code := vmsimIn(t, "1 2 3", tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.msg)
		})
	}
}
