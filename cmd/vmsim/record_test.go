package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// recordInput writes lines for sort to a temporary file.
func recordInput(t *testing.T) string {
	t.Helper()
	var b strings.Builder
	for i := range 200 {
		fmt.Fprintf(&b, "%d\n", (i*7919)%1000)
	}
	path := filepath.Join(t.TempDir(), "in.txt")
	require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o644))
	return path
}

// TestRecordEqualsLackeyText records sort under valgrind into a compressed
// vmt trace, keeping lackey's text of the same run, and replays both: the
// counts must be equal, with and without instruction fetches.
func TestRecordEqualsLackeyText(t *testing.T) {
	vmtest.RequireTool(t, "valgrind", "valgrind")
	in := recordInput(t)
	for _, noInstr := range []bool{false, true} {
		t.Run(fmt.Sprintf("no-instr=%v", noInstr), func(t *testing.T) {
			dir := t.TempDir()
			trace, text := filepath.Join(dir, "sort.vmt.zst"), filepath.Join(dir, "sort.lackey")
			args := []string{"record", "-o", trace, "--keep-text", text}
			replayFlags := []string{"replay", "-p", "lru,fifo,opt", "-f", "4,16,64", "-o", "json"}
			if noInstr {
				args = append(args, "--no-instr")
				replayFlags = append(replayFlags, "--no-instr")
			}
			out, errOut, code := vmsim(t, append(args, "--", "sort", "-n", in)...)
			require.Equal(t, 0, code, errOut)
			assert.True(t, strings.HasPrefix(out, "0\n"), "sort's own output passes through: %.40q", out)
			assert.Contains(t, errOut, "vmsim: record: ")
			raw, err := os.ReadFile(trace)
			require.NoError(t, err)
			assert.Equal(t, "\x28\xb5\x2f\xfd", string(raw[:4]), "zstd, as the name asks")
			lackey, err := os.ReadFile(text)
			require.NoError(t, err)
			assert.Greater(t, len(lackey), 20*len(raw), "the trace is far smaller than lackey's text")

			fromTrace, errOut, code := vmsim(t, append(replayFlags, trace)...)
			require.Equal(t, 0, code, errOut)
			fromText, errOut, code := vmsim(t, append(replayFlags, "--format", "lackey", text)...)
			require.Equal(t, 0, code, errOut)
			a, b := jsonRows(t, fromTrace), jsonRows(t, fromText)
			require.Len(t, a, 9)
			require.Len(t, b, 9)
			for i := range a {
				for _, k := range []string{"policy", "frames", "accesses", "reads", "writes", "faults", "evictions", "writebacks", "protection_faults"} {
					assert.Equal(t, b[i][k], a[i][k], "%s, row %d", k, i)
				}
			}
			assert.Greater(t, a[0]["accesses"], 10_000.0, "sort makes many accesses")
			assert.Greater(t, a[0]["writes"], 0.0)
		})
	}
}

// TestRecordFailures checks a program that fails (its trace is kept, the
// command fails with its status), a program that does not exist, and bad
// usage.
func TestRecordFailures(t *testing.T) {
	vmtest.RequireTool(t, "valgrind", "valgrind")
	dir := t.TempDir()
	trace := filepath.Join(dir, "false.vmt")
	_, errOut, code := vmsim(t, "record", "-o", trace, "--", "false")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "vmsim: record: false exited with status 1 under valgrind; the trace of its")
	got := readTrace(t, trace)
	assert.NotEmpty(t, got, "the trace of what it did is kept")

	_, errOut, code = vmsim(t, "record", "-o", filepath.Join(dir, "x.vmt"), "--", "no-such-program-here")
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "no-such-program-here")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Len(t, entries, 1, "no file left for a program that did not run")

	for _, tt := range []struct {
		args []string
		msg  string
	}{
		{[]string{"record"}, "needs the PROGRAM to run"},
		{[]string{"record", "-o", "-", "--", "true"}, "-o -: PROGRAM's own output goes to standard output"},
		{[]string{"record", "--page-size", "1000", "--", "true"}, "--page-size 1000"},
		{[]string{"record", "-o", "a.vmt", "--keep-text", "a.vmt", "--", "true"}, "--keep-text and -o name the same file"},
	} {
		_, errOut, code := vmsim(t, tt.args...)
		assert.Equal(t, 2, code, errOut)
		assert.Contains(t, errOut, tt.msg)
	}
}
