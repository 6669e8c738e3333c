package sweep

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// writeFiles writes name -> content under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		path := filepath.Join(dir, name)
		require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
		require.NoError(t, os.WriteFile(path, []byte(content), 0o644))
	}
}

func traceNames(ts []Trace) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Name)
	}
	return out
}

func TestResolve(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	writeFiles(t, dir, map[string]string{
		"b.pages": "1 2 3\n", "a.pages": "1 2\n", "sub/c.pages": "4\n", "sub/d.rw": "R 0x1000\n",
		"sub/list": "# the traces\n\nc.pages\n*.rw\n",
	})
	t.Run("paths and patterns, sorted by name, each once", func(t *testing.T) {
		got, err := Resolve([]string{"b.pages", "*.pages", "./a.pages"}, "")
		require.NoError(t, err)
		assert.Equal(t, []string{"a.pages", "b.pages"}, traceNames(got))
		assert.Equal(t, int64(4), got[0].Size)
		assert.Empty(t, got[0].SHA256, "not hashed yet")
	})
	t.Run("a manifest names traces relative to itself", func(t *testing.T) {
		got, err := Resolve([]string{"a.pages"}, "sub/list")
		require.NoError(t, err)
		assert.Equal(t, []string{"a.pages", "c.pages", "d.rw"}, traceNames(got))
		assert.Equal(t, filepath.Join("sub", "c.pages"), got[1].Path)
	})
	t.Run("a pattern that matches nothing", func(t *testing.T) {
		_, err := Resolve([]string{"*.vmt"}, "")
		assert.ErrorIs(t, err, ErrNoMatch)
	})
	t.Run("a manifest line that matches nothing names its line", func(t *testing.T) {
		writeFiles(t, dir, map[string]string{"bad.list": "a.pages\n\n*.vmt\n"})
		_, err := Resolve(nil, "bad.list")
		assert.ErrorIs(t, err, ErrNoMatch)
		var pe *ParseError
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "bad.list", pe.File)
		assert.Equal(t, 3, pe.Line)
	})
	t.Run("a missing file", func(t *testing.T) {
		_, err := Resolve([]string{"nothing.pages"}, "")
		assert.ErrorIs(t, err, os.ErrNotExist)
	})
	t.Run("a directory or a FIFO is not a trace a sweep can read twice", func(t *testing.T) {
		require.NoError(t, syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o600))
		for _, name := range []string{"sub", "fifo"} {
			_, err := Resolve([]string{name}, "")
			assert.ErrorIs(t, err, ErrNotRegular, name)
		}
	})
}

func TestHash(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a": "1 2 3\n"})
	tr := &Trace{Name: "a", Path: filepath.Join(dir, "a")}
	known := &Trace{Name: "k", Path: filepath.Join(dir, "missing"), SHA256: "kept"}
	require.NoError(t, Hash(context.Background(), []*Trace{tr, known}))
	sum := sha256.Sum256([]byte("1 2 3\n"))
	assert.Equal(t, hex.EncodeToString(sum[:]), tr.SHA256)
	assert.Equal(t, "kept", known.SHA256, "a trace already hashed is not read again")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	again := &Trace{Name: "a", Path: tr.Path}
	assert.ErrorIs(t, Hash(ctx, []*Trace{again}), context.Canceled)
}
