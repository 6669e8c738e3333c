//go:build linux

package mmapcp

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/vm/vmtest"
)

// fullFSEnv runs the test binary as the child of TestDestinationFileSystemFull:
// its value is a directory to mount a tiny tmpfs on.
const fullFSEnv = "VMSIM_MMAPCP_FULL_FS"

func TestMain(m *testing.M) {
	if dir := os.Getenv(fullFSEnv); dir != "" {
		if err := copyToFullFS(dir); err != nil {
			fmt.Println(err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// copyToFullFS runs in a mount namespace of its own: it mounts a 64 KiB
// tmpfs and copies 1 MiB into it. ftruncate succeeds (the file is sparse);
// the writes through the mapping then find no room, and the kernel sends
// SIGBUS. It prints the error the copy returned.
func copyToFullFS(dir string) error {
	if err := unix.Mount("", "/", "", unix.MS_REC|unix.MS_PRIVATE, ""); err != nil {
		return fmt.Errorf("setup: make mounts private: %w", err)
	}
	full := filepath.Join(dir, "full")
	if err := os.Mkdir(full, 0o755); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	if err := unix.Mount("tmpfs", full, "tmpfs", 0, "size=64k"); err != nil {
		return fmt.Errorf("setup: mount tmpfs: %w", err)
	}
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, content(1<<20, 9), 0o644); err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	dst := filepath.Join(full, "dst")
	_, err := Copy(context.Background(), src, dst, nil)
	var wf *WriteFaultError
	fmt.Printf("error: %v\n", err)
	fmt.Printf("write fault: %v\n", errors.As(err, &wf))
	_, serr := os.Lstat(dst)
	fmt.Printf("destination exists: %v\n", serr == nil)
	left, _ := filepath.Glob(filepath.Join(full, ".*"))
	fmt.Printf("left over: %d\n", len(left))
	return nil
}

// TestDestinationFileSystemFull fills a real file system during the copy:
// a fault on the destination's mapping must become an error too.
func TestDestinationFileSystemFull(t *testing.T) {
	vmtest.RequireCapability(t, "a mount namespace and a small tmpfs", "CAP_SYS_ADMIN")
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), fullFSEnv+"="+t.TempDir())
	if os.Getenv("GORACE") == "" {
		// A race-enabled binary sleeps a second at exit by default.
		cmd.Env = append(cmd.Env, "GORACE=atexit_sleep_ms=0")
	}
	cmd.SysProcAttr = &syscall.SysProcAttr{Unshareflags: syscall.CLONE_NEWNS}
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "SIGBUS writing offset")
	assert.Contains(t, string(out), "the file system is full")
	assert.Contains(t, string(out), "write fault: true")
	assert.Contains(t, string(out), "destination exists: false")
	assert.Contains(t, string(out), "left over: 0")
}
