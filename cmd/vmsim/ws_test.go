package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestWS(t *testing.T) {
	// Two phases of 3 and 2 pages, window 4.
	out, errOut, code := vmsimIn(t, "1 2 3 1 2 3 7 8 7 8 7 8", "ws", "--tau", "4", "-f", "4", "--points", "12", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	rows := jsonRows(t, out)
	require.Len(t, rows, 12)
	var w, res []float64
	for _, r := range rows {
		w = append(w, r["working_set"].(float64))
		res = append(res, r["resident"].(float64))
	}
	// At t=6 the window (accesses 3..6) is 1 2 3 7: the phase change
	// briefly holds both working sets.
	assert.Equal(t, []float64{1, 2, 3, 3, 3, 3, 4, 4, 3, 2, 2, 2}, w)
	assert.Equal(t, []float64{1, 2, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4}, res)
}

func TestWSErrors(t *testing.T) {
	for _, args := range [][]string{
		{"ws", "--tau", "0", "-"},
		{"ws", "-f", "-3", "-"},
		{"ws", "--points", "0", "-"},
	} {
		_, errOut, code := vmsimIn(t, "1", args...)
		assert.Equal(t, 2, code, errOut)
	}
}

func TestReplayPlot(t *testing.T) {
	dir := t.TempDir()
	png := filepath.Join(dir, "faults.png")
	_, errOut, code := vmsimIn(t, "1,2,3,4,1,2,5,1,2,3,4,5", "replay", "-p", "fifo,lru", "-f", "1:6", "--plot", png, "-")
	require.Equal(t, 0, code, errOut)
	img, err := os.ReadFile(png)
	require.NoError(t, err)
	assert.Equal(t, "\x89PNG", string(img[:4]))
	_, errOut, code = vmsimIn(t, "1", "replay", "--plot", filepath.Join(dir, "x.gif"), "-")
	assert.Equal(t, 2, code)
	assert.Contains(t, errOut, "want a .svg or .png file")
}
