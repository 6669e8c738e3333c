package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/traces"
)

func TestGenKinds(t *testing.T) {
	tests := []struct {
		name  string
		args  []string
		lines int
		want  string
	}{
		{"belady once by default", []string{"gen", "belady"}, 12, "1\n2\n3\n4\n1\n2\n5\n1\n2\n3\n4\n5\n"},
		{"belady twice", []string{"gen", "belady", "--n", "24"}, 24, ""},
		{"loop", []string{"gen", "loop", "--pages", "3", "--n", "7"}, 7, "0\n1\n2\n0\n1\n2\n0\n"},
		{"seq", []string{"gen", "seq", "--pages", "2", "--n", "4"}, 4, "0\n0\n1\n1\n"},
		{"all writes", []string{"gen", "loop", "--pages", "2", "--n", "3", "--writes", "1"}, 3, "0w\n1w\n0w\n"},
		{"uniform", []string{"gen", "uniform", "--n", "500"}, 500, ""},
		{"zipf", []string{"gen", "zipf", "--n", "500", "--alpha", "1.2"}, 500, ""},
		{"phases", []string{"gen", "phases", "--n", "500", "--ws", "4", "--phase", "50"}, 500, ""},
		{"rw output", []string{"gen", "loop", "--pages", "2", "--n", "2", "--to", "rw", "--page-size", "8192"}, 2, "R 0x0\nR 0x2000\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, errOut, code := vmsim(t, tt.args...)
			require.Equal(t, 0, code, errOut)
			assert.Equal(t, tt.lines, strings.Count(out, "\n"))
			if tt.want != "" {
				assert.Equal(t, tt.want, out)
			}
		})
	}
}

func TestGenSeed(t *testing.T) {
	a, _, _ := vmsim(t, "gen", "zipf", "--seed", "5", "--writes", "0.3")
	b, _, _ := vmsim(t, "gen", "zipf", "--seed", "5", "--writes", "0.3")
	c, _, _ := vmsim(t, "gen", "zipf", "--seed", "6", "--writes", "0.3")
	assert.Equal(t, a, b, "same seed, same output")
	assert.NotEqual(t, a, c)
}

// TestGenToFile writes each format to a file and checks that it reads back
// as the pages output.
func TestGenToFile(t *testing.T) {
	args := []string{"gen", "uniform", "--n", "300", "--pages", "50", "--writes", "0.4", "--seed", "3"}
	text, errOut, code := vmsim(t, args...)
	require.Equal(t, 0, code, errOut)
	want, err := traces.ReadAll(traces.NewPagesReader(strings.NewReader(text), "stdout"))
	require.NoError(t, err)
	for _, format := range traces.WriterFormats() {
		t.Run(format, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out")
			out, errOut, code := vmsim(t, append(args, "-o", path, "--to", format)...)
			require.Equal(t, 0, code, errOut)
			assert.Empty(t, out)
			got := readTrace(t, path)
			if format == traces.FormatOracle {
				require.Len(t, got, len(want))
				for i := range want {
					assert.Equal(t, want[i].Page, got[i].Page)
				}
				return
			}
			assert.Equal(t, want, got)
		})
	}
}

func TestGenVMTHeaderHasCount(t *testing.T) {
	path := filepath.Join(t.TempDir(), "z.vmt")
	_, errOut, code := vmsim(t, "gen", "zipf", "--n", "1234", "-o", path, "--to", "vmt")
	require.Equal(t, 0, code, errOut)
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	h, err := traces.NewVMTReader(f, path).Header()
	require.NoError(t, err)
	assert.True(t, h.CountKnown())
	assert.Equal(t, uint64(1234), h.Count)
}

func TestGenUsageErrors(t *testing.T) {
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no kind", []string{"gen"}, "needs 1 argument(s) (KIND)"},
		{"unknown kind", []string{"gen", "gauss"}, `unknown kind "gauss"`},
		{"writes above 1", []string{"gen", "loop", "--writes", "1.5"}, "--writes 1.5: want a fraction from 0 to 1"},
		{"no pages", []string{"gen", "uniform", "--pages", "0"}, "--pages 0"},
		{"negative alpha", []string{"gen", "zipf", "--alpha", "-1"}, "--alpha -1"},
		{"working set above pages", []string{"gen", "phases", "--pages", "4", "--ws", "8"}, "--ws 8 is larger than --pages 4"},
		{"unwritable format", []string{"gen", "loop", "--to", "lackey"}, "--to lackey: cannot write that format"},
		{"bad page size", []string{"gen", "loop", "--page-size", "3"}, "--page-size 3"},
		{"negative n", []string{"gen", "loop", "--n", "-1"}, `invalid argument "-1" for "--n"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, tt.args...)
			assert.Equal(t, 2, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "errors are one line")
		})
	}
}

func TestGenUnwritableOutput(t *testing.T) {
	_, errOut, code := vmsim(t, "gen", "loop", "-o", filepath.Join(t.TempDir(), "no", "dir", "x"))
	assert.Equal(t, 1, code)
	assert.Contains(t, errOut, "vmsim: gen: ")
}
