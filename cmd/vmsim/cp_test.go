package main

import (
	"bytes"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestCp(t *testing.T) {
	ps := os.Getpagesize()
	tests := []struct {
		name string
		size int
		args []string
		want []string // lines of -v output
	}{
		{"mmap copy, sized with ftruncate", 3*ps + 7, []string{"-v"}, []string{"ftruncate(out, " + strconv.Itoa(3*ps+7) + ")", "msync(dst", "copied " + strconv.Itoa(3*ps+7) + " bytes", "(mmap, 1 window(s))"}},
		{"sized with lseek", ps + 1, []string{"-v", "--size-with", "lseek"}, []string{"lseek(out, " + strconv.Itoa(ps) + `, SEEK_SET); write(out, "", 1)`}},
		{"in windows of a page", 3*ps + 7, []string{"-v", "--window", strconv.Itoa(ps)}, []string{"window 4: offset " + strconv.Itoa(3*ps) + ", 7 bytes", "(mmap, 4 window(s))"}},
		{"without msync", ps, []string{"-v", "--sync=false"}, []string{"memcpy(dst, src, " + strconv.Itoa(ps) + ")"}},
		{"empty source", 0, []string{"-v"}, []string{"nothing to map (mmap of length 0 fails with EINVAL)", "copied 0 bytes"}},
		{"io.Copy", 2*ps + 3, []string{"-v", "--method", "io"}, []string{"window 1: io.Copy(out, in): " + strconv.Itoa(2*ps+3) + " bytes at offset 0", "(io.Copy, 1 window(s))"}},
		{"quiet by default", ps, nil, nil},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			data := make([]byte, tt.size)
			r := rand.New(rand.NewPCG(uint64(i), 1))
			for j := range data {
				data[j] = byte(r.Uint32())
			}
			require.NoError(t, os.WriteFile(src, data, 0o600))
			require.NoError(t, os.Chmod(src, 0o751))

			out, errOut, code := vmsim(t, append(append([]string{"cp"}, tt.args...), src, dst)...)
			require.Equal(t, 0, code, errOut)
			got, err := os.ReadFile(dst)
			require.NoError(t, err)
			assert.True(t, bytes.Equal(data, got), "the copy equals the source")
			info, err := os.Stat(dst)
			require.NoError(t, err)
			assert.Equal(t, os.FileMode(0o751), info.Mode().Perm())
			for _, w := range tt.want {
				assert.Contains(t, out, w)
			}
			if tt.args == nil {
				assert.Empty(t, out, "cp prints nothing on success")
			}
			assert.Empty(t, errOut)
		})
	}
}

func TestCpErrors(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	require.NoError(t, os.WriteFile(src, []byte("data"), 0o644))
	require.NoError(t, os.Symlink(src, filepath.Join(dir, "link")))
	tests := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"one argument", []string{src}, 2, "needs 2 argument(s) (SRC DST), got 1"},
		{"bad size method", []string{"--size-with", "seek", src, "x"}, 2, `--size-with "seek": want ftruncate or lseek`},
		{"window not a multiple of the page size", []string{"--window", "1000", src, "x"}, 2, "must be a positive multiple of the page size"},
		{"window not a size", []string{"--window", "lots", src, "x"}, 2, "not a size"},
		{"bad method", []string{"--method", "dd", src, "x"}, 2, "want mmap or io"},
		{"the same file through a symbolic link", []string{src, filepath.Join(dir, "link")}, 1, "source and destination are the same file"},
		{"missing source", []string{filepath.Join(dir, "missing"), filepath.Join(dir, "x")}, 1, "no such file or directory"},
		{"a directory as source", []string{dir, filepath.Join(t.TempDir(), "x")}, 1, "not a regular file (a directory)"},
		{"destination under a regular file", []string{src, filepath.Join(src, "x")}, 1, "not a directory"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, errOut, code := vmsim(t, append([]string{"cp"}, tt.args...)...)
			assert.Equal(t, tt.code, code, errOut)
			assert.Contains(t, errOut, tt.want)
			assert.True(t, strings.HasPrefix(errOut, "vmsim: cp"), errOut)
			assert.Equal(t, 1, strings.Count(errOut, "\n"), "one line")
		})
	}
	got, err := os.ReadFile(src)
	require.NoError(t, err)
	assert.Equal(t, "data", string(got), "the source is intact")
}

func TestParseBytes(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		ok   bool
	}{
		{"4096", 4096, true},
		{"64MiB", 64 << 20, true},
		{"64m", 64 << 20, true},
		{"1G", 1 << 30, true},
		{"8KiB", 8 << 10, true},
		{"MiB", 0, false},
		{"1.5M", 0, false},
		{"99999999999999G", 0, false},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseBytes(tt.in)
			if !tt.ok {
				assert.Error(t, err)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestCpSignalLeavesNothing sends a real signal to a real vmsim cp in the
// middle of a copy (a file copied a page at a time): it stops, exits 1,
// and leaves neither its temporary file nor a destination.
func TestCpSignalLeavesNothing(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			src, dst := filepath.Join(dir, "src"), filepath.Join(dir, "dst")
			block := make([]byte, 1<<20)
			for i := range block {
				block[i] = byte(i%251) + 1
			}
			f, err := os.Create(src)
			require.NoError(t, err)
			for range 32 {
				_, err := f.Write(block)
				require.NoError(t, err)
			}
			require.NoError(t, f.Close())
			temporaries := func() []string {
				m, err := filepath.Glob(filepath.Join(dir, ".dst.vmsim-cp-*"))
				require.NoError(t, err)
				return m
			}

			cmd := vmsimCommand("cp", "--window", strconv.Itoa(os.Getpagesize()), src, dst)
			// A file, not a buffer: the child writes it directly, with no
			// goroutine of ours copying while the test reads.
			errFile, err := os.Create(filepath.Join(t.TempDir(), "stderr"))
			require.NoError(t, err)
			defer errFile.Close()
			cmd.Stderr = errFile
			stderr := func() string {
				b, _ := os.ReadFile(errFile.Name())
				return string(b)
			}
			require.NoError(t, cmd.Start())
			deadline := time.Now().Add(10 * time.Second)
			for len(temporaries()) == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			require.NotEmpty(t, temporaries(), "the copy started: %s", stderr())
			require.NoError(t, cmd.Process.Signal(sig))
			err = cmd.Wait()
			var ee *exec.ExitError
			require.ErrorAs(t, err, &ee, "vmsim cp stopped: %s", stderr())
			assert.Equal(t, 128+int(sig), ee.ExitCode(), "exit status 128+N, stopped, not killed by the signal: %s", stderr())
			assert.Contains(t, stderr(), "vmsim: interrupted")
			assert.Empty(t, temporaries(), "no temporary file left")
			_, serr := os.Stat(dst)
			assert.ErrorIs(t, serr, os.ErrNotExist, "no destination")
		})
	}
}

// TestCpProcFile: a file of /proc says 0 bytes; the copy holds what a read
// returns, not an empty file.
func TestCpProcFile(t *testing.T) {
	dst := filepath.Join(t.TempDir(), "version")
	_, errOut, code := vmsim(t, "cp", "/proc/version", dst)
	require.Equal(t, 0, code, errOut)
	want, err := os.ReadFile("/proc/version")
	require.NoError(t, err)
	got, err := os.ReadFile(dst)
	require.NoError(t, err)
	assert.NotEmpty(t, got)
	assert.Equal(t, string(want), string(got))
}
