//go:build linux

package mmapcp

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/faults"
	"vmsim/vm/arch"
)

var ps = int64(arch.SystemPageSize())

// content returns n bytes that differ from page to page and from seed to
// seed, so that a misplaced window or a zero page shows.
func content(n int64, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, 7))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32()) | 1 // never 0: a zero read from a hole shows
	}
	return b
}

func writeFile(t *testing.T, path string, b []byte, mode fs.FileMode) {
	t.Helper()
	require.NoError(t, os.WriteFile(path, b, mode))
	require.NoError(t, os.Chmod(path, mode)) // whatever the umask
}

// leftovers returns the temporary files a copy left in dir.
func leftovers(t *testing.T, dir string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, ".*.vmsim-cp-*"))
	require.NoError(t, err)
	return m
}

func TestCopy(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		opts    Options
		windows int
	}{
		{"one byte", 1, Options{}, 1},
		{"a page less one byte", ps - 1, Options{}, 1},
		{"exactly a page", ps, Options{}, 1},
		{"a page and one byte", ps + 1, Options{}, 1},
		{"several windows, the last one partial", 5*ps + ps/2, Options{Window: 2 * ps}, 3},
		{"windows that fit exactly", 4 * ps, Options{Window: 2 * ps}, 2},
		{"a window of one page", 3*ps + 10, Options{Window: ps}, 4},
		{"sized with lseek and a one-byte write", 3*ps + 10, Options{SizeWith: Lseek, Window: 2 * ps}, 2},
		{"without msync", 3*ps + 10, Options{NoSync: true}, 1},
		{"io.Copy", 3*ps + 10, Options{Method: Stream}, 1},
		{"io.Copy in windows", 3*ps + 10, Options{Method: Stream, Window: ps}, 4},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			want := content(tt.size, uint64(i))
			writeFile(t, src, want, 0o640)

			st, err := Copy(context.Background(), src, dst, &tt.opts)
			require.NoError(t, err)
			assert.Equal(t, Stats{Dest: dst, Bytes: tt.size, Windows: tt.windows}, st)
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(want, got), "the copy differs from the source")
			info, err := os.Stat(dst)
			require.NoError(t, err)
			assert.Equal(t, fs.FileMode(0o640), info.Mode(), "the mode is the source's")
			assert.Empty(t, leftovers(t, dir))
		})
	}
}

func TestCopyEmpty(t *testing.T) {
	for _, opts := range []Options{{SizeWith: Ftruncate}, {SizeWith: Lseek}, {Method: Stream}} {
		t.Run(opts.Method.String()+"/"+opts.SizeWith.String(), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			writeFile(t, src, nil, 0o600)
			var trace bytes.Buffer
			opts.Trace = &trace
			st, err := Copy(context.Background(), src, dst, &opts)
			require.NoError(t, err)
			assert.Equal(t, Stats{Dest: dst}, st)
			info, err := os.Stat(dst)
			require.NoError(t, err)
			assert.Zero(t, info.Size())
			if opts.Method == Mmap {
				assert.Contains(t, trace.String(), "nothing to map (mmap of length 0 fails with EINVAL)")
				assert.NotContains(t, trace.String(), "mmap(NULL")
			}
		})
	}
}

func TestCopyTrace(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, content(3*ps, 1), 0o644)
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"ftruncate", Options{Window: 2 * ps}, []string{fmt.Sprintf("ftruncate(out, %d)", 3*ps), fmt.Sprintf("window 2: offset %d, %d bytes", 2*ps, ps), fmt.Sprintf("msync(dst, %d, MS_SYNC)", ps)}},
		{"lseek", Options{SizeWith: Lseek}, []string{fmt.Sprintf(`lseek(out, %d, SEEK_SET); write(out, "", 1)`, 3*ps-1), fmt.Sprintf("memcpy(dst, src, %d)", 3*ps)}},
		{"no sync", Options{NoSync: true}, []string{fmt.Sprintf("memcpy(dst, src, %d)", 3*ps)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var trace bytes.Buffer
			tt.opts.Trace = &trace
			_, err := Copy(context.Background(), src, dst, &tt.opts)
			require.NoError(t, err)
			for _, w := range tt.want {
				assert.Contains(t, trace.String(), w)
			}
			assert.Equal(t, tt.opts.NoSync, !bytes.Contains(trace.Bytes(), []byte("msync")))
			assert.Contains(t, trace.String(), "rename(")
		})
	}
}

func TestCopyProgressCountsWindows(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	size := 5*ps + 100
	writeFile(t, src, content(size, 2), 0o644)
	var seen [][2]int64
	_, err := Copy(context.Background(), src, dst, &Options{Window: 2 * ps, Progress: func(done, total int64) error {
		seen = append(seen, [2]int64{done, total})
		return nil
	}})
	require.NoError(t, err)
	assert.Equal(t, [][2]int64{{2 * ps, size}, {4 * ps, size}, {size, size}}, seen)
}

// TestSourceTruncatedDuringCopy truncates the source between two windows,
// as another process could at any time, through the progress hook: the copy
// must fail clearly, leave no destination, and never crash.
func TestSourceTruncatedDuringCopy(t *testing.T) {
	tests := []struct {
		name    string
		size    int64
		truncTo int64
		method  Method
		sigbus  bool
		oldDst  bool
	}{
		{"to a window boundary: SIGBUS in the next window", 6 * ps, 2 * ps, Mmap, true, false},
		{"inside the next window: SIGBUS on its missing pages", 6 * ps, 3 * ps, Mmap, true, false},
		{"inside the last page: no SIGBUS, the size check catches it", 4*ps + 2000, 4*ps + 1000, Mmap, false, false},
		{"an existing destination keeps its content", 6 * ps, 2 * ps, Mmap, true, true},
		{"io.Copy: end of file comes early", 6 * ps, 3 * ps, Stream, false, false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			writeFile(t, src, content(tt.size, uint64(i)), 0o644)
			if tt.oldDst {
				writeFile(t, dst, []byte("old content"), 0o644)
			}
			windows := 0
			_, err := Copy(context.Background(), src, dst, &Options{Method: tt.method, Window: 2 * ps, Progress: func(done, total int64) error {
				windows++
				if windows == 1 || (windows == 2 && tt.truncTo > 4*ps) {
					return os.Truncate(src, tt.truncTo)
				}
				return nil
			}})
			require.ErrorIs(t, err, ErrTruncated)
			var te *TruncatedError
			require.ErrorAs(t, err, &te)
			assert.Equal(t, src, te.Path)
			assert.Equal(t, tt.size, te.Size)
			assert.Equal(t, tt.truncTo, te.Now)
			if tt.sigbus {
				var f *faults.Fault
				require.ErrorAs(t, err, &f, "the SIGBUS is in the error chain")
				assert.Equal(t, arch.SIGBUS, f.Signal)
				assert.GreaterOrEqual(t, te.Offset, ps*((tt.truncTo+ps-1)/ps), "the fault is past the new end's page")
				assert.Less(t, te.Offset, tt.size)
				assert.Contains(t, err.Error(), "SIGBUS reading offset")
			} else {
				assert.Nil(t, te.Fault)
			}
			got, err := os.ReadFile(dst)
			if tt.oldDst {
				require.NoError(t, err)
				assert.Equal(t, "old content", string(got))
			} else {
				assert.ErrorIs(t, err, fs.ErrNotExist, "no partial destination")
			}
			assert.Empty(t, leftovers(t, dir))
		})
	}
}

func TestSameFileIsRefused(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	want := content(2*ps, 3)
	writeFile(t, src, want, 0o644)
	require.NoError(t, os.Link(src, filepath.Join(dir, "hardlink")))
	require.NoError(t, os.Symlink(src, filepath.Join(dir, "symlink")))
	require.NoError(t, os.Mkdir(filepath.Join(dir, "sub"), 0o755))
	tests := []struct {
		name string
		dst  string
	}{
		{"the same path", src},
		{"another spelling", filepath.Join(dir, "sub", "..", ".", "src")},
		{"a hard link", filepath.Join(dir, "hardlink")},
		{"a symbolic link to the source", filepath.Join(dir, "symlink")},
		{"the source's directory", dir},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Copy(context.Background(), src, tt.dst, nil)
			assert.ErrorIs(t, err, ErrSameFile)
			got, rerr := os.ReadFile(src)
			require.NoError(t, rerr)
			assert.True(t, bytes.Equal(want, got), "the source is intact")
			assert.Empty(t, leftovers(t, dir))
		})
	}
	t.Run("the copy goes through a symbolic link source too", func(t *testing.T) {
		_, err := Copy(context.Background(), filepath.Join(dir, "symlink"), filepath.Join(dir, "hardlink"), nil)
		assert.ErrorIs(t, err, ErrSameFile)
	})
}

func TestNotRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	require.NoError(t, unix.Mkfifo(fifo, 0o644))
	src := filepath.Join(dir, "src")
	writeFile(t, src, []byte("data"), 0o644)
	tests := []struct {
		name     string
		src, dst string
		what     string
	}{
		{"the source is a directory", dir, filepath.Join(t.TempDir(), "x"), "a directory"},
		{"the source is a FIFO with no writer: no hang", fifo, filepath.Join(t.TempDir(), "x"), "a FIFO"},
		{"the source is a character device", "/dev/zero", filepath.Join(t.TempDir(), "x"), "a character device"},
		{"the destination is a FIFO: it is not replaced", src, fifo, "a FIFO"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Copy(context.Background(), tt.src, tt.dst, nil)
			assert.ErrorIs(t, err, ErrNotRegular)
			var pe *os.PathError
			assert.ErrorAs(t, err, &pe)
			assert.Contains(t, err.Error(), tt.what)
		})
	}
	info, err := os.Lstat(fifo)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&fs.ModeNamedPipe, "the FIFO is still there")
}

func TestDestinationDirectoryReceivesTheFile(t *testing.T) {
	dir, out := t.TempDir(), t.TempDir()
	src := filepath.Join(dir, "name.bin")
	want := content(ps+5, 4)
	writeFile(t, src, want, 0o600)
	st, err := Copy(context.Background(), src, out, nil)
	require.NoError(t, err)
	assert.Equal(t, filepath.Join(out, "name.bin"), st.Dest)
	got, err := os.ReadFile(st.Dest)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got))
}

func TestExistingDestinationIsReplaced(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	want := content(ps/2, 5)
	writeFile(t, src, want, 0o604)
	writeFile(t, dst, content(3*ps, 6), 0o666)
	link := filepath.Join(dir, "link")
	require.NoError(t, os.Symlink("dst", link))

	_, err := Copy(context.Background(), src, link, nil)
	require.NoError(t, err)
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.True(t, bytes.Equal(want, got), "written through the symbolic link, shorter than before")
	info, err := os.Lstat(link)
	require.NoError(t, err)
	assert.NotZero(t, info.Mode()&fs.ModeSymlink, "the link is still a link")

	_, err = Copy(context.Background(), src, filepath.Join(dir, "dangling"), nil)
	require.NoError(t, err, "a plain new name is fine")
	require.NoError(t, os.Symlink("nowhere", filepath.Join(dir, "dangling-link")))
	_, err = Copy(context.Background(), src, filepath.Join(dir, "dangling-link"), nil)
	assert.ErrorIs(t, err, fs.ErrNotExist, "no writing through a dangling link")
}

func TestMissingAndUnwritable(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	writeFile(t, src, []byte("data"), 0o644)
	tests := []struct {
		name     string
		src, dst string
		want     error
	}{
		{"missing source", filepath.Join(dir, "missing"), filepath.Join(dir, "x"), fs.ErrNotExist},
		{"destination under a regular file", src, filepath.Join(src, "x"), syscall.ENOTDIR},
		{"destination directory missing", src, filepath.Join(dir, "no", "x"), fs.ErrNotExist},
		{"destination in /proc, where nobody creates files", src, "/proc/vmsim-cp-test", fs.ErrNotExist},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Copy(context.Background(), tt.src, tt.dst, nil)
			assert.ErrorIs(t, err, tt.want)
			_, serr := os.Lstat(tt.dst)
			assert.Error(t, serr, "nothing created")
		})
	}
}

// withoutDAC runs fn on a thread of its own that lacks the capabilities
// that let root ignore file permissions (CAP_DAC_OVERRIDE,
// CAP_DAC_READ_SEARCH, CAP_FOWNER), so that permissions stop it as they
// stop any user. Capabilities belong to a thread: the thread is locked to
// fn's goroutine and never unlocked, so it exits with it.
func withoutDAC(t *testing.T, fn func()) {
	t.Helper()
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread()
		hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
		var data [2]unix.CapUserData
		if err := unix.Capget(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		for _, c := range []uint{unix.CAP_DAC_OVERRIDE, unix.CAP_DAC_READ_SEARCH, unix.CAP_FOWNER} {
			data[c/32].Effective &^= 1 << (c % 32)
		}
		if err := unix.Capset(&hdr, &data[0]); err != nil {
			errc <- err
			return
		}
		fn()
		errc <- nil
	}()
	require.NoError(t, <-errc, "drop capabilities")
}

func TestPermissionsStopTheCopy(t *testing.T) {
	dir := t.TempDir()
	unreadable := filepath.Join(dir, "unreadable")
	writeFile(t, unreadable, []byte("secret"), 0o000)
	readable := filepath.Join(dir, "readable")
	writeFile(t, readable, []byte("data"), 0o644)
	locked := filepath.Join(dir, "locked")
	require.NoError(t, os.Mkdir(locked, 0o555))
	tests := []struct {
		name     string
		src, dst string
	}{
		{"unreadable source", unreadable, filepath.Join(dir, "x")},
		{"unwritable destination directory", readable, filepath.Join(locked, "x")},
	}
	if os.Geteuid() == 0 {
		// The test proves something only if root could copy otherwise.
		_, err := Copy(context.Background(), unreadable, filepath.Join(locked, "as-root"), nil)
		require.NoError(t, err, "root ignores the permissions")
		require.NoError(t, os.Remove(filepath.Join(locked, "as-root")))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			withoutDAC(t, func() { _, err = Copy(context.Background(), tt.src, tt.dst, nil) })
			assert.ErrorIs(t, err, fs.ErrPermission)
			var pe *os.PathError
			assert.ErrorAs(t, err, &pe)
			_, serr := os.Lstat(tt.dst)
			assert.ErrorIs(t, serr, fs.ErrNotExist)
			assert.Empty(t, leftovers(t, locked))
		})
	}
}

func TestBadWindow(t *testing.T) {
	for _, w := range []int64{-ps, ps / 2, ps + 1} {
		_, err := Copy(context.Background(), "a", "b", &Options{Window: w})
		assert.ErrorIs(t, err, ErrBadWindow, "window %d", w)
	}
}

func TestCancelStopsBetweenWindows(t *testing.T) {
	dir := t.TempDir()
	src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
	writeFile(t, src, content(4*ps, 8), 0o644)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stop := errors.New("stop")
	_, err := Copy(ctx, src, dst, &Options{Window: ps, Progress: func(done, total int64) error {
		if done == 2*ps {
			cancel()
		}
		if done > 2*ps {
			return stop
		}
		return nil
	}})
	assert.ErrorIs(t, err, context.Canceled)
	_, err = os.Stat(dst)
	assert.ErrorIs(t, err, fs.ErrNotExist)
	assert.Empty(t, leftovers(t, dir))
}
