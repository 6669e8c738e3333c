package main

import (
	"encoding/csv"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

const (
	beladyPages   = "1,2,3,4,1,2,5,1,2,3,4,5"
	textbookPages = "7,0,1,2,0,3,0,4,2,3,0,3,2,1,2,0,1,7,0,1"
)

// traceFile writes a trace to a file of the test's and returns its path.
func traceFile(t *testing.T, text string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "t.pages")
	require.NoError(t, os.WriteFile(path, []byte(text), 0o644))
	return path
}

func TestStepTableDrawsFixedSlots(t *testing.T) {
	out, errOut, code := vmsimIn(t, beladyPages, "step", "-p", "fifo", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	require.Len(t, lines, 17, "title, two lines of layout, header, 12 rows, summary")
	assert.Equal(t, "# frames in fixed slots: a loaded page takes its victim's slot; 7* is dirty", lines[1])
	assert.Equal(t, "# [7] is the next victim; the policy's order: oldest load first", lines[2])
	lines = append(lines[:2], lines[3:]...)
	// 4 takes the slot of 1, its victim; 2 is loaded earliest now.
	assert.Regexp(t, `^3\s+4\s+R\s+fault\s+1\s+4\s+\[2\]\s+3$`, lines[6])
	assert.Regexp(t, `^7\s+1\s+R\s+hit\s+5\s+\[1\]\s+2$`, lines[10])
	assert.Regexp(t, `^11\s+5\s+R\s+hit\s+\[5\]\s+3\s+4$`, lines[14])
	assert.Equal(t, "# 12 accesses: 9 faults, 3 hits, 6 evictions, 0 written back, 0 protection faults", lines[15])
}

// TestStepTextbookSlots: after access 10 of the textbook string (index 9
// and index 10), the slots hold what the textbook's figures show, for
// FIFO, LRU and OPT.
func TestStepTextbookSlots(t *testing.T) {
	for _, tc := range []struct {
		policy      string
		row9, row10 string
	}{
		{"fifo", `4\s+2\s+3`, `0\s+2\s+3`},
		{"lru", `4\s+3\s+2`, `0\s+3\s+2`},
		{"opt", `2\s+4\s+3`, `2\s+0\s+3`},
	} {
		t.Run(tc.policy, func(t *testing.T) {
			out, errOut, code := vmsimIn(t, textbookPages, "step", "-p", tc.policy, "-f", "3", "--wide", "-")
			require.Equal(t, 0, code, errOut)
			// Notes in brackets and the next victim's brackets aside.
			clean := strings.NewReplacer("[", "", "]", "").Replace(out)
			clean = regexpNotes.ReplaceAllString(clean, "")
			assert.Regexp(t, `(?m)^9\s+3\s+R\s+\S+.*\s`+tc.row9+`$`, clean)
			assert.Regexp(t, `(?m)^10\s+0\s+R\s+\S+.*\s`+tc.row10+`$`, clean)
		})
	}
}

func TestStepQueueLayoutKeepsThePolicysOrder(t *testing.T) {
	out, errOut, code := vmsimIn(t, beladyPages, "step", "-p", "fifo", "-f", "3", "--layout", "queue", "-")
	require.Equal(t, 0, code, errOut)
	lines := strings.Split(strings.TrimSpace(out), "\n")
	assert.Equal(t, "# frames in the policy's order: oldest load first (the first is the next victim)", lines[1])
	assert.Regexp(t, `^3\s+4\s+R\s+fault\s+1\s+2 3 4$`, lines[6])
	assert.Regexp(t, `^11\s+5\s+R\s+hit\s+5 3 4$`, lines[14])
}

func TestStepClockShowsHandAndBits(t *testing.T) {
	out, errOut, code := vmsimIn(t, beladyPages, "step", "-p", "clock", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "; 7* is dirty; >7 is under the hand\n")
	// After 4 replaced 1 the hand points at frame 1, whose R bit it cleared.
	assert.Regexp(t, `(?m)^3\s+4\s+R\s+fault\s+1\s+4\(R=1\)\s+>2\(R=0\)\s+3\(R=0\)\s+hand at frame 1$`, out)
}

func TestStepGhostLists(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2 1 3 4 2", "step", "-p", "arc", "-f", "3", "-")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^4\s+4\s+R\s+fault\s+2\s+.*p=0 B1=\[2\] B2=\[\]$`, out)
	assert.Regexp(t, `(?m)^5\s+2\s+R\s+fault\s+3\s+.*p=1 B1=\[3\] B2=\[\]$`, out)
}

func TestStepLimitAndWrites(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2w 3 4 1 2 5 1 2 3 4 5", "step", "-p", "fifo", "-f", "3", "--limit", "5", "-")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^1\s+2\s+W\s+fault\s+1\s+2\*\s+-$`, out, "a dirty page is starred")
	assert.Regexp(t, `(?m)^4\s+1\s+R\s+fault\s+2 \(written back\)\s+4\s+1\s+\[3\]$`, out)
	assert.Contains(t, out, "# 5 accesses: 5 faults")
	assert.NotRegexp(t, `(?m)^5\s`, out)

	out, _, code = vmsimIn(t, "1 2 1w", "step", "-p", "lru", "-f", "2", "-o", "json", "-")
	require.Equal(t, 0, code)
	rows := jsonRows(t, out)
	require.Len(t, rows, 3)
	assert.Equal(t, "protection", rows[2]["result"])
	assert.Equal(t, []any{2.0, 1.0}, rows[2]["frames"], "least recently used first")
	assert.Equal(t, []any{1.0, 2.0}, rows[2]["slots"], "fixed slots")
	assert.Equal(t, []any{true, false}, rows[2]["dirty"])
	assert.Equal(t, 0.0, rows[2]["slot"])
}

func TestStepJSONGhosts(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2 3 4 5 6", "step", "-p", "s3fifo", "-f", "3", "-o", "json", "-")
	require.Equal(t, 0, code, errOut)
	rows := jsonRows(t, out)
	require.Len(t, rows, 6)
	assert.Equal(t, []any{map[string]any{"name": "G", "pages": []any{2.0, 3.0}}}, rows[5]["ghosts"])
	assert.Equal(t, []any{4.0, 5.0, 6.0}, rows[5]["slots"])
}

func TestStepCSV(t *testing.T) {
	out, errOut, code := vmsimIn(t, "1 2w 3", "step", "-p", "fifo", "-f", "2", "-o", "csv", "-")
	require.Equal(t, 0, code, errOut)
	recs, err := csv.NewReader(strings.NewReader(out)).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4)
	assert.Equal(t, []string{"index", "page", "write", "result", "victim", "written_back", "slot", "slots", "dirty", "frames", "notes", "state"}, recs[0])
	assert.Equal(t, []string{"2", "3", "false", "fault", "1", "false", "0", "3 2", "0 1", "2 3", "", ""}, recs[3])
}

var regexpNotes = regexp.MustCompile(`\([^)]*\)`)

// TestStepFitsOneHundredColumns: a wide table drops the notes to fit 100
// columns and says so; --wide keeps them.
func TestStepFitsOneHundredColumns(t *testing.T) {
	path := traceFile(t, "1 2 3 4 5 6 7 1 2 3 8 9 1 2")
	widest := func(out string) int {
		n := 0
		for _, l := range strings.Split(out, "\n") {
			n = max(n, utf8.RuneCountInString(l))
		}
		return n
	}
	out, errOut, code := vmsim(t, "step", "-p", "aging", "-f", "7", path)
	require.Equal(t, 0, code, errOut)
	assert.LessOrEqual(t, widest(out), 100)
	assert.Contains(t, out, "# the frames' notes and the state are left out to fit 100 columns: --wide shows them\n")
	assert.NotContains(t, out, "c=")

	out, errOut, code = vmsim(t, "step", "-p", "aging", "-f", "7", "--wide", path)
	require.Equal(t, 0, code, errOut)
	assert.Greater(t, widest(out), 100)
	assert.Contains(t, out, "(c=00000000 R=1)")
	assert.NotContains(t, out, "left out")

	// Frames past what fits are cut, and the header says so.
	out, errOut, code = vmsim(t, "step", "-p", "fifo", "-f", "40", "--hex", traceFile(t, strings.Repeat("0x7f0000 0x7f0001 0x7f0002 0x7f0003 0x7f0004 0x7f0005 0x7f0006 0x7f0007 0x7f0008 0x7f0009 0x7f000a 0x7f000b 0x7f000c 0x7f000d 0x7f000e 0x7f000f ", 3)))
	require.Equal(t, 0, code, errOut)
	assert.LessOrEqual(t, widest(out), 100)
	assert.Contains(t, out, "frames past the first are left out")
	assert.Regexp(t, `…\+\d+`, out)
}

func TestStepHex(t *testing.T) {
	out, errOut, code := vmsimIn(t, "0x7f001 0x7f002 0x7f001w 0x7f003", "step", "-p", "lru", "-f", "2", "--hex", "-")
	require.Equal(t, 0, code, errOut)
	assert.Regexp(t, `(?m)^3\s+0x7f003\s+R\s+fault\s+0x7f002\s+\[0x7f001\*\]\s+0x7f003$`, out)
}

func TestStepColour(t *testing.T) {
	out, _, code := vmsimIn(t, "1 1", "step", "-f", "1", "--color", "always", "-")
	require.Equal(t, 0, code)
	assert.Contains(t, out, ansiRed+"fault"+ansiReset)
	assert.Contains(t, out, ansiGreen+"hit"+ansiReset)
	out, _, code = vmsimIn(t, "1 1", "step", "-f", "1", "-")
	require.Equal(t, 0, code)
	assert.NotContains(t, out, "\x1b[", "no colour when standard output is not a terminal")

	for _, tc := range []struct {
		name    string
		mode    string
		tty     bool
		noColor string
		want    bool
	}{
		{"a terminal gets colour", "auto", true, "", true},
		{"NO_COLOR turns it off", "auto", true, "1", false},
		{"a pipe gets none", "auto", false, "", false},
		{"always overrides NO_COLOR", "always", false, "1", true},
		{"never means never", "never", true, "", false},
	} {
		t.Run(tc.name, func(t *testing.T) { assert.Equal(t, tc.want, useColor(tc.mode, tc.tty, tc.noColor)) })
	}
}

func TestStepQuiz(t *testing.T) {
	path := traceFile(t, beladyPages)
	// Right, right (f -), right, wrong (1 was evicted, not 2), right, then
	// an answer that is no answer (asked again), right, and the input ends.
	out, errOut, code := vmsimIn(t, "f\nf -\nfault\nf 2\nf 2\nyes\nm 3\n", "step", "-p", "fifo", "-f", "3", "--quiz", path)
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "0: page 1 (read). Hit/Miss? Evicts?   right: fault, evicts nothing (a frame was free); frames 1 - -\n")
	assert.Contains(t, out, "3: page 4 (read). Hit/Miss? Evicts?   wrong (you said fault, evicts 2): fault, evicts 1; frames 4 [2] 3\n")
	assert.Contains(t, out, `"yes": want h (hit) or f (fault)`)
	assert.Contains(t, out, "# no more answers: the rest, with their answers\n6: page 5 (R): fault, evicts 4; frames 5 [1] 2\n7: page 1 (R): hit;")
	assert.Contains(t, out, "# score: 5 of 6 right (12 accesses, 6 answered); fifo made 9 faults\n")

	out, errOut, code = vmsimIn(t, "f\nf\nf\nf 1\nh\n", "step", "-p", "lru", "-f", "3", "--quiz", "--limit", "5", traceFile(t, "1 2 3 4 4w"))
	require.Equal(t, 0, code, errOut)
	assert.Contains(t, out, "4: page 4 (write). Hit/Miss? Evicts?   right: hit;")
	assert.Contains(t, out, "# score: 5 of 5 right")
}

func TestStepQuizSheet(t *testing.T) {
	out, errOut, code := vmsimIn(t, beladyPages, "step", "-p", "fifo", "-f", "3", "--quiz", "--answers", "--limit", "4", "-")
	require.Equal(t, 0, code, errOut)
	questions, answers, ok := strings.Cut(out, "\n# answers\n")
	require.True(t, ok, out)
	assert.Regexp(t, `(?m)^#\s+PAGE\s+R/W\s+HIT/MISS\?\s+EVICTS\?$`, questions)
	assert.Regexp(t, `(?m)^3\s+4\s+R\s+____\s+____$`, questions)
	assert.NotRegexp(t, `(?m)^\d+\s+\d+\s+R\s+(fault|hit)`, questions)
	assert.Regexp(t, `(?m)^3\s+4\s+R\s+fault\s+1\s+4\s+\[2\]\s+3$`, answers)
}

func TestParseQuizAnswer(t *testing.T) {
	for _, tc := range []struct {
		in     string
		fault  bool
		victim int64 // -1: none
		bad    bool
	}{
		{"h", false, -1, false},
		{"HIT", false, -1, false},
		{"f", true, -1, false},
		{"fault -", true, -1, false},
		{"m 7", true, 7, false},
		{"f 0x10", true, 16, false},
		{"", false, 0, true},
		{"h 7", false, 0, true},
		{"f 7 8", false, 0, true},
		{"f seven", false, 0, true},
		{"maybe", false, 0, true},
	} {
		t.Run(tc.in, func(t *testing.T) {
			a, err := parseQuizAnswer(tc.in)
			if tc.bad {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tc.fault, a.fault)
			if tc.victim < 0 {
				assert.Nil(t, a.victim)
			} else {
				require.NotNil(t, a.victim)
				assert.Equal(t, uint64(tc.victim), uint64(*a.victim))
			}
		})
	}
}

func TestStepErrors(t *testing.T) {
	path := traceFile(t, "1")
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
		{[]string{"step", "-o", "xml", "-"}, `--output "xml"`},
		{[]string{"step", "--layout", "rows", "-"}, `--layout "rows": want slots or queue`},
		{[]string{"step", "--color", "pink", "-"}, `--color "pink"`},
		{[]string{"step", "--answers", path}, "--answers needs --quiz"},
		{[]string{"step", "--quiz", "-o", "json", path}, "--quiz and --output json cannot go together"},
		{[]string{"step", "--quiz", "-"}, "--quiz reads your answers from standard input, so TRACE cannot be - too"},
	} {
		t.Run(strings.Join(tt.args[1:], " "), func(t *testing.T) {
			_, errOut, code := vmsimIn(t, "1", tt.args...)
			assert.Equal(t, 2, code)
			assert.Contains(t, errOut, tt.msg)
		})
	}
}
