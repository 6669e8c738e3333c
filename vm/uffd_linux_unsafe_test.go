//go:build linux

package vm

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"unsafe"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"vmsim/vm/vmtest"
)

// TestUserfaultABI checks the ioctl numbers and structure sizes, which
// golang.org/x/sys/unix does not provide, against the C header; the
// kernel accepting them (the other tests) checks them at run time.
func TestUserfaultABI(t *testing.T) {
	cc := vmtest.RequireTool(t, "cc", "gcc")
	src := filepath.Join(t.TempDir(), "abi.c")
	require.NoError(t, os.WriteFile(src, []byte(`#include <stdio.h>
#include <sys/ioctl.h>
#include <linux/userfaultfd.h>
int main(void) {
	printf("%lu %lu %lu %lu %lu\n", (unsigned long)USERFAULTFD_IOC_NEW, (unsigned long)UFFDIO_API,
		(unsigned long)UFFDIO_REGISTER, (unsigned long)UFFDIO_COPY, (unsigned long)UFFDIO_WRITEPROTECT);
	printf("%zu %zu %zu %zu\n", sizeof(struct uffdio_api), sizeof(struct uffdio_register),
		sizeof(struct uffdio_copy), sizeof(struct uffdio_writeprotect));
	printf("%d %d %llu %llu %d %d %d %d\n", UFFD_FEATURE_SIGBUS, UFFD_FEATURE_PAGEFAULT_FLAG_WP,
		UFFDIO_REGISTER_MODE_MISSING, UFFDIO_REGISTER_MODE_WP, UFFD_USER_MODE_ONLY,
		UFFD_FEATURE_MISSING_SHMEM, UFFD_FEATURE_WP_HUGETLBFS_SHMEM, _UFFDIO_WRITEPROTECT);
	return 0;
}
`), 0o644))
	if out, err := exec.Command(cc, "-E", "-include", "linux/userfaultfd.h", "-o", os.DevNull, "-x", "c", os.DevNull).CombinedOutput(); err != nil {
		vmtest.Missing(t, "<linux/userfaultfd.h> to compare with (apt-get install linux-libc-dev): "+strings.TrimSpace(string(out)))
	}
	bin := filepath.Join(t.TempDir(), "abi")
	out, err := exec.Command(cc, "-o", bin, src).CombinedOutput()
	require.NoError(t, err, "%s", out)
	out, err = exec.Command(bin).Output()
	require.NoError(t, err)
	want := fmt.Sprintf("%d %d %d %d %d\n%d %d %d %d\n%d %d %d %d %d %d %d %d\n",
		userfaultfdIocNew, uffdioAPINr, uffdioRegisterNr, uffdioCopyNr, uffdioWriteprotNr,
		unsafe.Sizeof(uffdioAPI{}), unsafe.Sizeof(uffdioRegister{}), unsafe.Sizeof(uffdioCopy{}), unsafe.Sizeof(uffdioWriteprotect{}),
		uffdFeatureSIGBUS, uffdFeatureFlagWP, uffdRegisterMissing, uffdRegisterWP, uffdUserModeOnly,
		uffdFeatureMissShmem, uffdFeatureWPShmem, 6)
	assert.Equal(t, want, string(out))
	assert.Equal(t, uint64(1)<<6, uint64(uffdioWriteprotectBit))
}
