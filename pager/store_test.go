package pager

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/arch"
)

const testPS = arch.PageSize(4096)

func page(fill byte) []byte { return bytes.Repeat([]byte{fill}, int(testPS)) }

func TestZeroStore(t *testing.T) {
	buf := page(9)
	require.NoError(t, ZeroStore{}.ReadPage(3, buf))
	assert.Equal(t, page(0), buf)
	assert.ErrorIs(t, ZeroStore{}.WritePage(3, buf), ErrReadOnly)
}

func TestFileStore(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "backing"))
	require.NoError(t, err)
	defer f.Close()
	_, err = f.Write(append(page('a'), 'b', 'b')) // one page and two bytes
	require.NoError(t, err)
	s := NewFileStore(f, testPS)

	buf := page(0)
	require.NoError(t, s.ReadPage(0, buf))
	assert.Equal(t, page('a'), buf)
	require.NoError(t, s.ReadPage(1, buf))
	assert.Equal(t, append([]byte{'b', 'b'}, make([]byte, testPS-2)...), buf, "past the end reads zeros")
	require.NoError(t, s.ReadPage(5, buf))
	assert.Equal(t, page(0), buf)

	require.NoError(t, s.WritePage(3, page('z')))
	require.NoError(t, s.Close())
	got, err := os.ReadFile(f.Name())
	require.NoError(t, err)
	assert.Equal(t, page('z'), got[3*testPS:4*testPS], "written at page 3's offset")
	assert.Len(t, got, 4*int(testPS))
}

func TestSwapStore(t *testing.T) {
	dir := t.TempDir()
	s, err := NewSwapStore(dir, testPS)
	require.NoError(t, err)
	entries, _ := os.ReadDir(dir)
	assert.Empty(t, entries, "the swap file is unlinked at once")

	buf := page(7)
	require.NoError(t, s.ReadPage(1000, buf))
	assert.Equal(t, page(0), buf, "never written: zeros")
	require.NoError(t, s.WritePage(1000, page('s')))
	require.NoError(t, s.ReadPage(1000, buf))
	assert.Equal(t, page('s'), buf)
	require.NoError(t, s.ReadPage(999, buf))
	assert.Equal(t, page(0), buf)
	require.NoError(t, s.Close())
	assert.Error(t, s.WritePage(1, page(1)), "closed")
}

func TestZeroer(t *testing.T) {
	s, err := NewSwapStore(t.TempDir(), testPS)
	require.NoError(t, err)
	defer s.Close()
	assert.True(t, s.IsZero(4))
	require.NoError(t, s.WritePage(4, page(1)))
	assert.False(t, s.IsZero(4))
	assert.True(t, ZeroStore{}.IsZero(4))
}
