//go:build linux

package mmapcp

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var methods = []Method{Mmap, Stream}

// TestPseudoFileSources copies files of /proc and /sys, whose sizes say
// nothing of their contents (0 bytes, or a page): the copy holds what a
// read returns, never an empty file or a page of zeros.
func TestPseudoFileSources(t *testing.T) {
	for _, src := range []string{"/proc/version", "/proc/self/cmdline", "/sys/devices/system/cpu/online"} {
		for _, m := range methods {
			t.Run(src+"/"+m.String(), func(t *testing.T) {
				want, err := os.ReadFile(src)
				require.NoError(t, err)
				require.NotEmpty(t, want)
				dir := t.TempDir()
				dst := filepath.Join(dir, "copy")
				var trace strings.Builder
				st, err := Copy(context.Background(), src, dst, &Options{Method: m, Trace: &trace})
				require.NoError(t, err)
				got, err := os.ReadFile(dst)
				require.NoError(t, err)
				if src == "/proc/self/cmdline" {
					assert.NotEmpty(t, got, "another process's, but never empty")
				} else {
					assert.Equal(t, string(want), string(got))
				}
				assert.Equal(t, int64(len(got)), st.Bytes)
				assert.Contains(t, trace.String(), "the size is not to be trusted")
				assert.Empty(t, leftovers(t, dir))
			})
		}
	}
}

// TestUnreadableSysFile: a file of /sys that refuses to be read is an
// error that names it, and leaves nothing behind.
func TestUnreadableSysFile(t *testing.T) {
	const src = "/sys/bus/pci/rescan" // write-only, even for root
	if _, err := os.Stat(src); err != nil {
		t.Logf("no %s here: %v", src, err)
		return
	}
	dir := t.TempDir()
	_, err := Copy(context.Background(), src, filepath.Join(dir, "copy"), nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), src)
	assert.Empty(t, leftovers(t, dir))
	_, serr := os.Stat(filepath.Join(dir, "copy"))
	assert.ErrorIs(t, serr, os.ErrNotExist)
}

// TestSparseSource copies a 1 GiB file with one page of data in its
// middle and one at its end: the destination keeps the holes (it takes
// the blocks of two pages, not 1 GiB), as GNU cp's does, and reads the
// same.
func TestSparseSource(t *testing.T) {
	const size = 1 << 30
	for _, m := range methods {
		for _, w := range []int64{0, 4 * ps} {
			t.Run(m.String()+"/window="+map[bool]string{true: "default", false: "4 pages"}[w == 0], func(t *testing.T) {
				dir := t.TempDir()
				src, dst := filepath.Join(dir, "sparse"), filepath.Join(dir, "copy")
				f, err := os.Create(src)
				require.NoError(t, err)
				page := content(ps, 9)
				_, err = f.WriteAt(page, size/2)
				require.NoError(t, err)
				_, err = f.WriteAt(page[:100], size-100)
				require.NoError(t, err)
				require.NoError(t, f.Close())
				srcBlocks := blocks(t, src)
				if srcBlocks*512 > 1<<20 {
					t.Logf("this file system does not keep holes (%d blocks): nothing to compare", srcBlocks)
					return
				}

				var trace strings.Builder
				st, err := Copy(context.Background(), src, dst, &Options{Method: m, Window: w, Trace: &trace})
				require.NoError(t, err)
				assert.Equal(t, int64(size), st.Bytes)
				info, err := os.Stat(dst)
				require.NoError(t, err)
				assert.Equal(t, int64(size), info.Size())
				assert.LessOrEqual(t, blocks(t, dst), srcBlocks+16, "the holes stay holes")
				assert.Contains(t, trace.String(), "SEEK_DATA")

				out, err := os.Open(dst)
				require.NoError(t, err)
				defer out.Close()
				got := make([]byte, ps)
				_, err = out.ReadAt(got, size/2)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(page, got), "the data in the middle")
				_, err = out.ReadAt(got[:100], size-100)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(page[:100], got[:100]), "the data at the end")
				_, err = out.ReadAt(got, size/4)
				require.NoError(t, err)
				assert.True(t, bytes.Equal(make([]byte, ps), got), "a hole reads zeros")
			})
		}
	}
}

// blocks returns the 512-byte blocks allocated to path.
func blocks(t *testing.T, path string) int64 {
	t.Helper()
	info, err := os.Stat(path)
	require.NoError(t, err)
	return info.Sys().(*syscall.Stat_t).Blocks
}

// TestSymlinkToSourceMessage: a destination that is a symbolic link to the
// source is refused, and the message names the link as it was typed, then
// what it points to, not the source twice.
func TestSymlinkToSourceMessage(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, src, []byte("data"), 0o644)
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("src", link))
	_, err := Copy(context.Background(), src, link, nil)
	require.ErrorIs(t, err, ErrSameFile)
	assert.Contains(t, err.Error(), src+" and "+link+" (a symbolic link to "+src+")")
	assert.Equal(t, 1, strings.Count(err.Error(), link))
}

// TestCancelled: a copy whose context is cancelled, before or during the
// copy, returns the context's error and leaves no temporary file and no
// destination.
func TestCancelled(t *testing.T) {
	for _, m := range methods {
		t.Run(m.String(), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			writeFile(t, src, content(8*ps, 3), 0o644)

			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := Copy(ctx, src, dst, &Options{Method: m})
			assert.ErrorIs(t, err, context.Canceled)
			assert.Empty(t, leftovers(t, dir))

			ctx, cancel = context.WithCancel(context.Background())
			defer cancel()
			windows := 0
			_, err = Copy(ctx, src, dst, &Options{Method: m, Window: ps, Progress: func(done, total int64) error {
				windows++
				if windows == 3 {
					assert.NotEmpty(t, leftovers(t, dir), "the temporary file is there during the copy")
					cancel()
				}
				return nil
			}})
			assert.ErrorIs(t, err, context.Canceled)
			assert.Equal(t, 3, windows, "the copy stops at the next window")
			assert.Empty(t, leftovers(t, dir))
			_, serr := os.Stat(dst)
			assert.ErrorIs(t, serr, os.ErrNotExist)
		})
	}
}

func TestTempPattern(t *testing.T) {
	dir := t.TempDir()
	dst := filepath.Join(dir, "dst")
	assert.Equal(t, filepath.Join(dir, ".dst.vmsim-cp-*"), TempPattern(dst))
	tmp, err := os.CreateTemp(dir, ".dst"+tempMark)
	require.NoError(t, err)
	tmp.Close()
	m, err := filepath.Glob(TempPattern(dst))
	require.NoError(t, err)
	assert.Equal(t, []string{tmp.Name()}, m)
}
