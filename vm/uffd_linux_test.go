//go:build linux

package vm

import (
	"bufio"
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/faults"
	"vmsim/vm/arch"
	"vmsim/vm/vmtest"
)

// skipIfNoUserfault skips on a wrapped ErrNotSupported (the kernel lacks
// userfaultfd or a feature), naming what is missing
// ([vmtest.SkipIfNotSupported]); any other error fails.
func skipIfNoUserfault(tb testing.TB, err error) {
	tb.Helper()
	if err == nil {
		return
	}
	if errors.Is(err, ErrNotSupported) {
		var ue *UserfaultError
		require.ErrorAs(tb, err, &ue, "ErrNotSupported comes with the reason")
		vmtest.SkipIfNotSupported(tb, err)
	}
	require.NoError(tb, err)
}

func newUserfaultRegion(t *testing.T, kind Kind, pages int) *Region {
	t.Helper()
	var r *Region
	var err error
	switch kind {
	case Anonymous:
		r, err = NewAnonymous(pages, &Options{Userfault: true})
	case Shared:
		r, err = NewShared(pages, &Options{Userfault: true})
	}
	skipIfNoUserfault(t, err)
	t.Cleanup(func() { r.Unmap() })
	return r
}

// fault returns the fault a touch raised, or nil.
func fault(t *testing.T, r *Region, off int, write bool) *faults.Fault {
	t.Helper()
	err := touch(r, off, write)
	if err == nil {
		return nil
	}
	var f *faults.Fault
	require.ErrorAs(t, err, &f)
	return f
}

// kernelAreas counts the memory areas of /proc/self/maps inside rg.
func kernelAreas(t *testing.T, rg arch.Range) int {
	t.Helper()
	b, err := os.ReadFile("/proc/self/maps")
	require.NoError(t, err)
	n := 0
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		lo, hi, ok := strings.Cut(strings.Fields(sc.Text())[0], "-")
		require.True(t, ok)
		start, err := strconv.ParseUint(lo, 16, 64)
		require.NoError(t, err)
		end, err := strconv.ParseUint(hi, 16, 64)
		require.NoError(t, err)
		if rg.Overlaps(arch.Range{Start: arch.Addr(start), End: arch.Addr(end)}) {
			n++
		}
	}
	return n
}

func filled(c byte) []byte { return bytes.Repeat([]byte{c}, int(arch.SystemPageSize())) }

// TestUserfaultLifecycle walks a page through every state of the uffd
// mechanism and checks what the kernel does at each step: faults are
// SIGBUS at the exact address, write-protect faults too, a dropped page is
// missing again, and nothing splits the view.
func TestUserfaultLifecycle(t *testing.T) {
	ps := int(arch.SystemPageSize())
	for _, kind := range []Kind{Anonymous, Shared} {
		t.Run(kind.String(), func(t *testing.T) {
			r := newUserfaultRegion(t, kind, 8)
			info, ok := r.Userfault()
			require.True(t, ok)
			assert.True(t, r.IsUserfault())
			assert.Equal(t, "userfaultfd(2)", info.Source, "the system call comes first")
			assert.NotZero(t, info.Features&uffdFeatureSIGBUS)

			f := fault(t, r, 5, false)
			require.NotNil(t, f, "a missing page faults on read")
			assert.Equal(t, r.Addr(0)+5, f.Address)
			assert.Equal(t, arch.SIGBUS, r.Classify(f.Address))
			require.NotNil(t, fault(t, r, 2*ps+9, true), "and on write")

			require.NoError(t, r.Fill(0, filled('A'), arch.ProtRead))
			assert.Nil(t, fault(t, r, 5, false), "a filled page reads")
			assert.Equal(t, byte('A'), r.Bytes()[ps-1])
			f = fault(t, r, 7, true)
			require.NotNil(t, f, "a write-protected page faults on write")
			assert.Equal(t, r.Addr(0)+7, f.Address, "write-protect faults are SIGBUS at the exact address too")

			require.NoError(t, r.WriteProtect(0, 1, false))
			assert.Nil(t, fault(t, r, 7, true), "unprotected, the write goes through")
			require.NoError(t, r.WriteProtect(0, 1, true))
			assert.NotNil(t, fault(t, r, 8, true), "protected again")
			assert.Nil(t, fault(t, r, 8, false), "reads are unaffected")
			assert.Equal(t, byte(1), r.Bytes()[7], "the write before the protection is kept")

			require.NoError(t, r.Fill(1, filled('B'), arch.ProtReadWrite))
			assert.Nil(t, fault(t, r, ps+3, true), "filled writable")
			err := r.Fill(1, filled('C'), arch.ProtRead)
			require.ErrorIs(t, err, unix.EEXIST, "a present page cannot be filled")
			assert.Equal(t, byte('B'), r.Bytes()[ps], "and keeps its data")

			require.NoError(t, r.Drop(0, 2))
			assert.NotNil(t, fault(t, r, 0, false), "a dropped page is missing again")
			assert.NotNil(t, fault(t, r, ps, false))
			require.NoError(t, r.Fill(0, filled('D'), arch.ProtRead))
			assert.Equal(t, byte('D'), r.Bytes()[7], "refilled from the new contents")

			// Two pages at once, and a range protection across pages in
			// different states: still one memory area.
			require.NoError(t, r.Fill(4, append(filled('E'), filled('F')...), arch.ProtRead))
			assert.Equal(t, byte('F'), r.Bytes()[5*ps])
			require.NoError(t, r.WriteProtect(4, 1, false))
			assert.Equal(t, 1, kernelAreas(t, r.Range()), "userfaultfd changes page tables, not memory areas")
			assert.Equal(t, 1, r.Mappings())

			require.NoError(t, r.Unmap())
			assert.ErrorIs(t, r.Fill(0, filled(0), arch.ProtRead), ErrClosed)
			assert.ErrorIs(t, r.WriteProtect(0, 1, true), ErrClosed)
		})
	}
}

// TestUserfaultDropOnMemfd shows why a Shared region punches a hole: after
// madvise(MADV_DONTNEED) alone the page is still in the memfd and the next
// touch maps it back without a fault, so the pager would never hear of it.
func TestUserfaultDropOnMemfd(t *testing.T) {
	r := newUserfaultRegion(t, Shared, 1)
	require.NoError(t, r.Fill(0, filled('M'), arch.ProtRead))
	require.NoError(t, unix.Madvise(r.Bytes(), unix.MADV_DONTNEED))
	assert.Nil(t, fault(t, r, 0, false), "MADV_DONTNEED leaves the page in the memfd: no fault")
	assert.Equal(t, byte('M'), r.Bytes()[0])
	require.NoError(t, r.Drop(0, 1))
	assert.NotNil(t, fault(t, r, 0, false), "a punched hole is missing")
}

// TestUserfaultSplitsNothing fills and protects pages one by one across a
// region far larger than vm.max_map_count allows mprotect to split: the
// view stays one memory area.
func TestUserfaultSplitsNothing(t *testing.T) {
	limit, err := MapLimit()
	require.NoError(t, err)
	pages := 2*limit + 10
	r := newUserfaultRegion(t, Anonymous, pages)
	before, err := MapCount()
	require.NoError(t, err)
	zero := filled(0)
	for p := 0; p < pages; p += 2 {
		require.NoError(t, r.Fill(arch.PageNum(p), zero, arch.ProtRead))
		if p%4 == 0 {
			require.NoError(t, r.WriteProtect(arch.PageNum(p), 1, false))
		}
	}
	after, err := MapCount()
	require.NoError(t, err)
	assert.Equal(t, 1, kernelAreas(t, r.Range()))
	assert.InDelta(t, before, after, 8, "no area was added for %d alternating pages", pages/2)
	n, err := r.Allocated()
	require.NoError(t, err)
	assert.Equal(t, int64((pages+1)/2)*int64(r.PageSize()), n)
}

func TestUserfaultMisuse(t *testing.T) {
	ps := int(arch.SystemPageSize())
	r := newUserfaultRegion(t, Anonymous, 4)
	plain := newShared(t, 2, nil)
	f := tempFile(t, ps, 'f')
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"fill a region without userfaultfd", plain.Fill(0, filled(0), arch.ProtRead), ErrNoUserfault},
		{"protect a region without userfaultfd", plain.WriteProtect(0, 1, true), ErrNoUserfault},
		{"fill part of a page", r.Fill(0, make([]byte, 100), arch.ProtRead), ErrUnaligned},
		{"fill with no access", r.Fill(0, filled(0), arch.ProtNone), ErrBadProt},
		{"fill past the end", r.Fill(3, make([]byte, 2*ps), arch.ProtRead), ErrOutOfRange},
		{"protect past the end", r.WriteProtect(4, 1, true), ErrOutOfRange},
		{"remap over a registered page", r.Remap(0, 1, arch.ProtRead), ErrUserfault},
		{"reserve over a registered page", r.Reserve(0, 1), ErrUserfault},
		{"reserve mode", func() error { _, err := NewShared(1, &Options{Userfault: true, Reserve: true}); return err }(), ErrUserfault},
		{"file region", func() error { _, err := NewFile(f, 1, &FileOptions{Options: Options{Userfault: true}}); return err }(), ErrNotSupported},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, tt.err, tt.want)
			var e *Error
			assert.ErrorAs(t, tt.err, &e, "errors name the operation")
		})
	}
}

// TestUserfaultSources gets the descriptor each way as root, and checks
// the error when neither way exists.
func TestUserfaultSources(t *testing.T) {
	skipIfNoUserfault(t, CheckUserfault(Anonymous))
	t.Run("device", func(t *testing.T) {
		if _, err := os.Stat(userfaultDevice); err != nil {
			vmtest.Missing(t, userfaultDevice+" (Linux 6.1): "+err.Error())
		}
		vmtest.RequireRoot(t, "read-write access to "+userfaultDevice)
		setHooks(t, false, userfaultDevice)
		r := newUserfaultRegion(t, Anonymous, 1)
		info, _ := r.Userfault()
		assert.Equal(t, "/dev/userfaultfd", info.Source)
		assert.NotNil(t, fault(t, r, 0, false), "faults are SIGBUS whichever way")
	})
	t.Run("neither", func(t *testing.T) {
		setHooks(t, false, filepath.Join(t.TempDir(), "no-such-device"))
		_, err := NewAnonymous(1, &Options{Userfault: true})
		require.Error(t, err)
		assert.ErrorIs(t, err, ErrNotSupported)
		assert.ErrorIs(t, err, unix.ENOENT)
		assert.NotErrorIs(t, err, os.ErrPermission)
		var ue *UserfaultError
		require.ErrorAs(t, err, &ue)
		assert.Contains(t, err.Error(), "no-such-device")
	})
	t.Run("features named", func(t *testing.T) {
		e := &UserfaultError{Missing: featureList(uffdFeatureSIGBUS | uffdFeatureWPShmem)}
		assert.ErrorIs(t, e, ErrNotSupported)
		assert.Contains(t, e.Error(), "UFFD_FEATURE_SIGBUS, UFFD_FEATURE_WP_HUGETLBFS_SHMEM")
	})
}

func setHooks(t *testing.T, syscall bool, device string) {
	t.Helper()
	oldS, oldD := userfaultSyscall, userfaultDevice
	userfaultSyscall, userfaultDevice = syscall, device
	t.Cleanup(func() { userfaultSyscall, userfaultDevice = oldS, oldD })
}

// TestUserfaultUnprivileged runs in a child process as nobody: the
// user-mode-only system call still works (vm.unprivileged_userfaultfd=0
// does not apply to it), the root-only device does not, and once a seccomp
// filter refuses the system call, as container runtimes do, the error says
// it is a permission and names every way to get one.
func TestUserfaultUnprivileged(t *testing.T) {
	if !vmtest.Unprivileged(t) {
		return
	}
	require.NotZero(t, os.Getuid(), "the child runs unprivileged")
	r, err := NewAnonymous(2, &Options{Userfault: true})
	skipIfNoUserfault(t, err)
	info, _ := r.Userfault()
	assert.Equal(t, "userfaultfd(2)", info.Source)
	assert.NotNil(t, fault(t, r, 0, true), "an unprivileged process pages with userfaultfd")
	require.NoError(t, r.Fill(0, filled('u'), arch.ProtReadWrite))
	assert.Nil(t, fault(t, r, 0, true))
	require.NoError(t, r.Unmap())

	require.NoError(t, vmtest.DenyUserfaultfd())
	_, err = NewAnonymous(2, &Options{Userfault: true})
	require.Error(t, err)
	assert.ErrorIs(t, err, os.ErrPermission)
	assert.NotErrorIs(t, err, ErrNotSupported, "a permission, not a missing feature")
	assert.ErrorIs(t, err, unix.EPERM, "from the filter")
	var ue *UserfaultError
	require.ErrorAs(t, err, &ue)
	if _, serr := os.Stat(userfaultDevice); serr == nil {
		assert.ErrorIs(t, ue.Device, unix.EACCES, "the device is root's")
	}
	for _, want := range []string{"userfaultfd(2)", "/dev/userfaultfd", "vm.unprivileged_userfaultfd", "seccomp"} {
		assert.Contains(t, err.Error(), want)
	}
	assert.ErrorIs(t, CheckUserfault(Anonymous), os.ErrPermission)

	// The other mechanisms do not need it.
	s, err := NewShared(2, nil)
	require.NoError(t, err)
	defer s.Unmap()
	require.NoError(t, s.Protect(0, 1, arch.ProtReadWrite))
	assert.NoError(t, touch(s, 0, true))
}
