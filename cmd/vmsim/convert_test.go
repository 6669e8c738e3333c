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

func readTrace(t *testing.T, path string) []traces.Access {
	t.Helper()
	r, c, err := traces.Open(path, nil)
	require.NoError(t, err)
	defer c.Close()
	as, err := traces.ReadAll(r)
	require.NoError(t, err)
	return as
}

// TestConvertChains converts a trace with writes through every format and
// back to pages; only oracle loses the write bits.
func TestConvertChains(t *testing.T) {
	const src = "7,0,1,2w,0,3,0,4w,2,3,0,3w,2,1,2,0,1,7,0,1\n"
	tests := []struct {
		name      string
		chain     []string
		keepsBits bool
	}{
		{"pages, vmt, pages", []string{"vmt", "pages"}, true},
		{"pages, rw, vmt, rw, pages", []string{"rw", "vmt", "rw", "pages"}, true},
		{"pages, vmt, oracle, pages", []string{"vmt", "oracle", "pages"}, false},
		{"pages, oracle, vmt, rw, pages", []string{"oracle", "vmt", "rw", "pages"}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			in := filepath.Join(dir, "0.pages")
			require.NoError(t, os.WriteFile(in, []byte(src), 0o644))
			want := readTrace(t, in)
			for i, format := range tt.chain {
				out := filepath.Join(dir, strings.Repeat("x", i+1)+"."+format)
				_, errOut, code := vmsim(t, "convert", in, out, "--to", format)
				require.Equal(t, 0, code, errOut)
				in = out
			}
			got := readTrace(t, in)
			if !tt.keepsBits {
				for i := range want {
					want[i].Write = false
				}
			}
			assert.Equal(t, want, got)
			text, err := os.ReadFile(in)
			require.NoError(t, err)
			assert.Equal(t, 20, strings.Count(string(text), "\n"), "one access a line")
		})
	}
}

func TestConvertStdinStdout(t *testing.T) {
	out, errOut, code := vmsimIn(t, "R 0x1000\nW 0x3000\n", "convert", "-", "-", "--to", "pages")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "1\n3w\n", out)

	out, errOut, code = vmsimIn(t, "1 2w\n", "convert", "-", "-", "--to", "rw", "--page-size", "8192")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "R 0x2000\nW 0x4000\n", out)
}

func TestConvertLackey(t *testing.T) {
	lackey := "==1== Lackey\nI  1000,4\n L 2ffc,8\n S 5000,8\n"
	out, errOut, code := vmsimIn(t, lackey, "convert", "-", "-", "--to", "pages")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "1\n2\n3\n5w\n", out)
	out, errOut, code = vmsimIn(t, lackey, "convert", "-", "-", "--to", "pages", "--no-instr")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "2\n3\n5w\n", out)
}

func TestConvertKeepsVMTPageSize(t *testing.T) {
	dir := t.TempDir()
	vmt := filepath.Join(dir, "t.vmt")
	_, errOut, code := vmsimIn(t, "1 2w", "convert", "-", vmt, "--to", "vmt", "--page-size", "65536")
	require.Equal(t, 0, code, errOut)
	out, errOut, code := vmsim(t, "convert", vmt, "-", "--to", "rw")
	require.Equal(t, 0, code, errOut)
	assert.Equal(t, "R 0x10000\nW 0x20000\n", out, "rw addresses use the vmt header's page size")
}

func TestConvertErrors(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.pages")
	require.NoError(t, os.WriteFile(good, []byte("1 2 3"), 0o644))
	bad := filepath.Join(dir, "bad.pages")
	require.NoError(t, os.WriteFile(bad, []byte("1 2\n3 x4\n"), 0o644))
	out := filepath.Join(dir, "out.vmt")
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no arguments", []string{"convert"}, 2, "needs 2 argument(s) (IN OUT)"},
		{"no --to", []string{"convert", good, out}, 2, "--to is needed"},
		{"unwritable format", []string{"convert", good, out, "--to", "lackey"}, 2, "--to lackey: cannot write that format"},
		{"unknown input format", []string{"convert", good, out, "--to", "vmt", "--from", "csv"}, 2, "--from csv: unknown trace format"},
		{"--from and --format disagree", []string{"convert", good, out, "--to", "vmt", "--from", "rw", "--format", "pages"}, 2, "--from rw and --format pages disagree"},
		{"bad page size", []string{"convert", good, out, "--to", "vmt", "--page-size", "1000"}, 2, "--page-size 1000: page size must be a power of two"},
		{"missing input", []string{"convert", filepath.Join(dir, "nope"), out, "--to", "vmt"}, 1, "no such file or directory"},
		{"malformed input", []string{"convert", bad, out, "--to", "vmt"}, 1, bad + `:2: "x4": syntax error`},
		{"wrong format named", []string{"convert", good, out, "--to", "pages", "--format", "vmt"}, 1, "bad header"},
		{"unwritable output", []string{"convert", good, filepath.Join(dir, "no", "such", "dir"), "--to", "vmt"}, 1, "no such file or directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, tt.args...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "errors are one line")
			_, err := os.Stat(out)
			assert.ErrorIs(t, err, os.ErrNotExist, "a failed conversion leaves no output")
			entries, err := os.ReadDir(dir)
			require.NoError(t, err)
			assert.Len(t, entries, 2, "and no temporary file")
		})
	}
}

// TestConvertCompressesByExtension checks that an output named .gz or .zst
// is compressed (it once was plain text under a .gz name) and reads back.
func TestConvertCompressesByExtension(t *testing.T) {
	dir := t.TempDir()
	in := filepath.Join(dir, "in.pages")
	require.NoError(t, os.WriteFile(in, []byte("7 0 1 2w 0 3\n"), 0o644))
	want := readTrace(t, in)
	for _, tt := range []struct{ name, magic string }{{"out.pages.gz", "\x1f\x8b"}, {"out.vmt.zst", "\x28\xb5\x2f\xfd"}} {
		t.Run(tt.name, func(t *testing.T) {
			out := filepath.Join(dir, tt.name)
			format := strings.Split(tt.name, ".")[1]
			_, errOut, code := vmsim(t, "convert", in, out, "--to", format)
			require.Equal(t, 0, code, errOut)
			raw, err := os.ReadFile(out)
			require.NoError(t, err)
			assert.True(t, strings.HasPrefix(string(raw), tt.magic), "starts with the compressor's magic")
			assert.Equal(t, want, readTrace(t, out))
		})
	}
}
