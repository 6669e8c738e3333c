package main

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStepTable(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1,2,3,4,1,2,5,1,2,3,4,5", "step", "-p", "fifo", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 15, "title, header, 12 rows, summary")
	assert.Regexp(t, `^3\s+4\s+R\s+fault\s+1\s+2 3 4$`, lines[5])
	assert.Regexp(t, `^7\s+1\s+R\s+hit\s+1 2 5$`, lines[9])
	assert.Regexp(t, `^11\s+5\s+R\s+hit\s+5 3 4$`, lines[13])
	assert.Equal(t, "# 12 accesses: 9 faults, 3 hits, 6 evictions, 0 written back, 0 protection faults", lines[14])
}

func TestStepClockShowsHandAndBits(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1,2,3,4,1,2,5,1,2,3,4,5", "step", "-p", "clock", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	// After 4 replaced 1 the hand points at frame 1, whose R bit it cleared.
	assert.Regexp(t, `(?m)^3\s+4\s+R\s+fault\s+1\s+4\(R=1\) >2\(R=0\) 3\(R=0\)\s+hand at frame 1$`, out)
}

func TestStepLimitAndWrites(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2w 3 4 1 2 5 1 2 3 4 5", "step", "-p", "fifo", "-f", "3", "--limit", "5", "-")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^4\s+1\s+R\s+fault\s+2 \(written back\)\s+3 4 1$`, out)
	assert.Contains(t, out, "# 5 accesses: 5 faults")
	assert.NotRegexp(t, `(?m)^5\s`, out)

	out, _, code = vmsimIn(t, "1 2 1w", "step", "-p", "lru", "-f", "2", "-o", "json", "-")
	require.Equal(t, 0, code)
	rows := jsonRows(t, out)
	require.Len(t, rows, 3)
	assert.Equal(t, "protection", rows[2]["result"])
	assert.Equal(t, []any{2.0, 1.0}, rows[2]["frames"], "least recently used first")
}

func TestStepErrors(t *testing.T) {
	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"step", "-p", "nope", "-"}, `--policy: "nope"`},
		{[]string{"step", "-f", "0", "-"}, "--frames: 0 frames: must be at least 1"},
		// The words of replay's parser, and exit status 2, for a budget
		// past the largest.
		{[]string{"step", "-f", "1000000000", "-"}, "--frames: 1000000000 frames: at most 67108864"},
		{[]string{"step", "-f", "3,4", "-"}, `--frames: "3,4": want one frame count`},
		{[]string{"step", "--limit", "-1", "-"}, "--limit -1"},
		{[]string{"step", "-o", "csv", "-"}, `--output "csv"`},
	} {
		_, errOut, code := vmsimIn(t, "1", tt.args...)
		assert.Equal(t, 2, code)
		assert.Contains(t, errOut, tt.msg)
	}
}
