//go:build linux

package mmapcp

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/require"
)

// benchBytesEnv sets the size of the file BenchmarkCopy copies; the default
// (64 MiB, 4 MiB with -short) keeps "go test -bench . -benchtime 1x" quick.
// bench/cp.sh sets 1 GiB.
const benchBytesEnv = "VMSIM_CP_BENCH_BYTES"

// BenchmarkCopy copies one file, in the page cache (written just before,
// never dropped), with each method in the same process. Before each copy
// the previous one is removed and sync(2) flushes the dirty pages, outside
// the timer, so that no copy pays for another's writeback.
func BenchmarkCopy(b *testing.B) {
	size := int64(64 << 20)
	if testing.Short() {
		size = 4 << 20
	}
	if s := os.Getenv(benchBytesEnv); s != "" {
		n, err := strconv.ParseInt(s, 10, 64)
		require.NoError(b, err, benchBytesEnv)
		size = n
	}
	dir := b.TempDir()
	src := filepath.Join(dir, "src")
	f, err := os.Create(src)
	require.NoError(b, err)
	chunk := content(1<<20, 1)
	for left := size; left > 0; left -= int64(len(chunk)) {
		_, err := f.Write(chunk[:min(int64(len(chunk)), left)])
		require.NoError(b, err)
	}
	require.NoError(b, f.Close())

	methods := []struct {
		name string
		copy func(dst string) error
	}{
		{"method=mmap/msync=yes", func(dst string) error {
			_, err := Copy(context.Background(), src, dst, nil)
			return err
		}},
		{"method=mmap/msync=no", func(dst string) error {
			_, err := Copy(context.Background(), src, dst, &Options{NoSync: true})
			return err
		}},
		{"method=io.Copy", func(dst string) error {
			_, err := Copy(context.Background(), src, dst, &Options{Method: Stream})
			return err
		}},
		{"method=read-write-128KiB", func(dst string) error { return readWriteCopy(src, dst) }},
	}
	for _, m := range methods {
		b.Run(m.name, func(b *testing.B) {
			dst := filepath.Join(dir, "dst")
			b.SetBytes(size)
			b.ReportAllocs()
			for b.Loop() {
				// Each copy starts as bench/cp.sh's runs do: no previous
				// copy, no dirty pages left to write back.
				b.StopTimer()
				os.Remove(dst)
				syscall.Sync()
				b.StartTimer()
				if err := m.copy(dst); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// readWriteCopy is the plain loop of read(2) and write(2) with a 128 KiB
// buffer (coreutils' size), with the kernel's copy offload hidden from
// io.CopyBuffer.
func readWriteCopy(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	buf := make([]byte, 128<<10)
	if _, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, buf); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
