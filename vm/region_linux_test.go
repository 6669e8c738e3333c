//go:build linux

package vm

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"vmsim/faults"
	"vmsim/vm/arch"
)

var sink byte

func newShared(t *testing.T, pages int, opts *Options) *Region {
	t.Helper()
	r, err := NewShared(pages, opts)
	require.NoError(t, err)
	t.Cleanup(func() { r.Unmap() })
	return r
}

// touch reads (or writes) byte off of r and returns the fault, if any.
func touch(r *Region, off int, write bool) error {
	return faults.Catch(func() {
		if write {
			r.Bytes()[off] = 1
		} else {
			sink = r.Bytes()[off]
		}
	})
}

func TestLifecycle(t *testing.T) {
	ps := int(arch.SystemPageSize())
	for _, kind := range []Kind{Anonymous, Shared, FileShared, FilePrivate} {
		t.Run(kind.String(), func(t *testing.T) {
			var r *Region
			var err error
			switch kind {
			case Anonymous:
				r, err = NewAnonymous(4, nil)
			case Shared:
				r, err = NewShared(4, nil)
			default:
				f := tempFile(t, 4*ps, 'f')
				r, err = NewFile(f, 4, &FileOptions{Shared: kind == FileShared})
			}
			require.NoError(t, err)
			assert.Equal(t, kind, r.Kind())
			assert.Equal(t, 4, r.Pages())
			assert.Equal(t, uint64(4*ps), r.Range().Length())
			assert.Equal(t, r.Range().Start+arch.Addr(2*ps), r.Addr(2))
			p, ok := r.PageOf(r.Addr(3) + 5)
			assert.True(t, ok)
			assert.Equal(t, arch.PageNum(3), p)
			_, ok = r.PageOf(r.Range().End)
			assert.False(t, ok)
			assert.Equal(t, 1, r.Mappings())

			assert.Error(t, touch(r, 0, false), "pages start PROT_NONE")
			require.NoError(t, r.Protect(1, 1, arch.ProtReadWrite))
			assert.Equal(t, 3, r.Mappings(), "one page in the middle splits the view in three")
			require.NoError(t, touch(r, ps+1, true))
			got, err := r.Prot(1)
			require.NoError(t, err)
			assert.Equal(t, arch.ProtReadWrite, got)
			require.NoError(t, r.Protect(0, 4, arch.ProtRead))
			assert.Equal(t, 1, r.Mappings())
			require.NoError(t, touch(r, 3*ps, false))
			assert.Error(t, touch(r, 3*ps, true), "read-only")

			require.NoError(t, r.Unmap())
			assert.ErrorIs(t, r.Protect(0, 1, arch.ProtRead), ErrClosed)
			assert.ErrorIs(t, r.Drop(0, 1), ErrClosed)
			_, err = r.Page(0)
			assert.ErrorIs(t, err, ErrClosed)
			assert.ErrorIs(t, r.Unmap(), ErrClosed)
		})
	}
}

func tempFile(t *testing.T, size int, fill byte) *os.File {
	t.Helper()
	f, err := os.Create(filepath.Join(t.TempDir(), "backing"))
	require.NoError(t, err)
	t.Cleanup(func() { f.Close() })
	b := make([]byte, size)
	for i := range b {
		b[i] = fill
	}
	_, err = f.Write(b)
	require.NoError(t, err)
	return f
}

func TestMisuse(t *testing.T) {
	r := newShared(t, 4, nil)
	f := tempFile(t, 8192, 'x')
	tests := []struct {
		name string
		err  error
		want error
	}{
		{"zero pages", func() error { _, err := NewAnonymous(0, nil); return err }(), ErrZeroLength},
		{"negative pages", func() error { _, err := NewShared(-1, nil); return err }(), ErrZeroLength},
		{"unaligned file offset", func() error { _, err := NewFile(f, 1, &FileOptions{Offset: 100}); return err }(), ErrUnaligned},
		{"bad protection", func() error { _, err := NewAnonymous(1, &Options{Prot: 0x40}); return err }(), ErrBadProt},
		{"page past the end", r.Protect(4, 1, arch.ProtRead), ErrOutOfRange},
		{"range past the end", r.Protect(3, 2, arch.ProtRead), ErrOutOfRange},
		{"zero-length protect", r.Protect(0, 0, arch.ProtRead), ErrZeroLength},
		{"drop out of range", r.Drop(9, 1), ErrOutOfRange},
		{"remap out of range", r.Remap(5, 1, arch.ProtRead), ErrOutOfRange},
		{"huge page number", r.Protect(^arch.PageNum(0), 2, arch.ProtRead), ErrOutOfRange},
		{"reserve mode without backing", func() error { _, err := NewAnonymous(1, &Options{Reserve: true}); return err }(), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			require.Error(t, tt.err)
			if tt.want != nil {
				assert.ErrorIs(t, tt.err, tt.want)
			}
			var e *Error
			assert.ErrorAs(t, tt.err, &e, "errors name the operation")
		})
	}
	_, err := r.AltPage(4)
	assert.ErrorIs(t, err, ErrOutOfRange)
	a, err := NewAnonymous(1, nil)
	require.NoError(t, err)
	defer a.Unmap()
	_, err = a.AltPage(0)
	assert.ErrorIs(t, err, ErrNoAltView)
}

func TestErrorWrapsErrno(t *testing.T) {
	r := newShared(t, 1, nil)
	// mprotect(PROT_EXEC) on a memfd works; a system error is easier to get
	// from a file mapped read-only and then asked to be writable and shared.
	f, err := os.Open(tempFile(t, 4096, 'r').Name())
	require.NoError(t, err)
	defer f.Close()
	fr, err := NewFile(f, 1, &FileOptions{Shared: true, Options: Options{Prot: arch.ProtRead}})
	require.NoError(t, err)
	defer fr.Unmap()
	assert.False(t, fr.HasAltView(), "a read-only file gets no second view")
	err = fr.Protect(0, 1, arch.ProtReadWrite)
	require.ErrorIs(t, err, unix.EACCES)
	assert.Contains(t, err.Error(), "mprotect [0x")
	_ = r
}

func TestSecondViewSeesTheProgramsWrites(t *testing.T) {
	r := newShared(t, 2, &Options{Prot: arch.ProtReadWrite})
	ps := int(r.PageSize())
	r.Bytes()[ps+7] = 'z'
	alt, err := r.AltPage(1)
	require.NoError(t, err)
	assert.Equal(t, byte('z'), alt[7])

	// The second view stays writable while the program's view denies access:
	// fill through it, then grant.
	require.NoError(t, r.Protect(0, 1, arch.ProtNone))
	alt0, err := r.AltPage(0)
	require.NoError(t, err)
	copy(alt0, "filled")
	assert.Error(t, touch(r, 0, false))
	require.NoError(t, r.Protect(0, 1, arch.ProtRead))
	assert.Equal(t, "filled", string(r.Bytes()[:6]))
}

func TestDrop(t *testing.T) {
	ps := int(arch.SystemPageSize())
	t.Run("shared punches a hole", func(t *testing.T) {
		r := newShared(t, 2, &Options{Prot: arch.ProtReadWrite})
		r.Bytes()[0], r.Bytes()[ps] = 1, 2
		require.NoError(t, r.Drop(0, 1))
		assert.Equal(t, byte(0), r.Bytes()[0])
		assert.Equal(t, byte(2), r.Bytes()[ps], "the other page keeps its data")
		alt, _ := r.AltPage(0)
		assert.Equal(t, byte(0), alt[0], "both views see the hole")
	})
	t.Run("anonymous reads back zeros", func(t *testing.T) {
		r, err := NewAnonymous(1, &Options{Prot: arch.ProtReadWrite})
		require.NoError(t, err)
		defer r.Unmap()
		r.Bytes()[9] = 9
		require.NoError(t, r.Drop(0, 1))
		assert.Equal(t, byte(0), r.Bytes()[9])
	})
	t.Run("private file reads back the file", func(t *testing.T) {
		f := tempFile(t, ps, 'p')
		r, err := NewFile(f, 1, &FileOptions{Options: Options{Prot: arch.ProtReadWrite}})
		require.NoError(t, err)
		defer r.Unmap()
		r.Bytes()[0] = 'X'
		require.NoError(t, r.Drop(0, 1))
		assert.Equal(t, byte('p'), r.Bytes()[0])
	})
	t.Run("shared file keeps its data", func(t *testing.T) {
		f := tempFile(t, ps, 's')
		r, err := NewFile(f, 1, &FileOptions{Shared: true, Options: Options{Prot: arch.ProtReadWrite}})
		require.NoError(t, err)
		defer r.Unmap()
		r.Bytes()[0] = 'Y'
		require.NoError(t, r.Drop(0, 1))
		assert.Equal(t, byte('Y'), r.Bytes()[0])
		b := make([]byte, 1)
		_, err = f.ReadAt(b, 0)
		require.NoError(t, err)
		assert.Equal(t, byte('Y'), b[0])
	})
}

func TestRemapAndReserve(t *testing.T) {
	r := newShared(t, 3, &Options{Reserve: true})
	alt, err := r.AltPage(1)
	require.NoError(t, err)
	copy(alt, "backing")
	assert.Error(t, touch(r, int(r.PageSize()), false), "reserved pages fault")
	require.NoError(t, r.Remap(1, 1, arch.ProtRead))
	assert.Equal(t, 3, r.Mappings())
	p, _ := r.Page(1)
	assert.Equal(t, "backing", string(p[:7]), "the backing page appears in place")
	require.NoError(t, r.Reserve(1, 1))
	assert.Equal(t, 1, r.Mappings())
	assert.Error(t, touch(r, int(r.PageSize()), false))
	assert.Equal(t, "backing", string(alt[:7]), "the backing keeps its data")

	a, err := NewAnonymous(1, nil)
	require.NoError(t, err)
	defer a.Unmap()
	require.NoError(t, a.Remap(0, 1, arch.ProtReadWrite))
	a.Bytes()[0] = 'A'
	assert.Equal(t, byte('A'), a.Bytes()[0], "anonymous remap maps a fresh page")
}

func TestClassify(t *testing.T) {
	ps := int(arch.SystemPageSize())
	f := tempFile(t, ps, 'e')
	r, err := NewFile(f, 2, &FileOptions{Shared: true, Options: Options{Prot: arch.ProtRead}})
	require.NoError(t, err)
	defer r.Unmap()
	require.NoError(t, touch(r, 0, false))
	err = touch(r, ps+3, false)
	var fault *faults.Fault
	require.ErrorAs(t, err, &fault, "touching beyond the end of the file faults")
	assert.Equal(t, r.Addr(1)+3, fault.Address)
	assert.Equal(t, arch.SIGBUS, r.Classify(fault.Address))
	assert.Equal(t, arch.SIGSEGV, r.Classify(r.Addr(0)))
	assert.Equal(t, arch.SignalUnknown, r.Classify(r.Range().End))
}

// TestMapLimit splits a region page by page until the kernel refuses, in a
// child process: at the limit the Go runtime's own mappings can fail too.
func TestMapLimit(t *testing.T) {
	if os.Getenv("VMSIM_MAPLIMIT_CHILD") == "1" {
		mapLimitChild()
		return
	}
	limit, err := MapLimit()
	require.NoError(t, err)
	count, err := MapCount()
	require.NoError(t, err)
	assert.Greater(t, limit, count)
	if testing.Short() {
		t.Skip("-short: the split-until-refused child takes a second")
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestMapLimit$", "-test.v")
	cmd.Env = append(os.Environ(), "VMSIM_MAPLIMIT_CHILD=1")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s", out)
	assert.Contains(t, string(out), "refused with ErrMapLimit")
}

func mapLimitChild() {
	limit, _ := MapLimit()
	r, err := NewShared(limit+1000, nil)
	if err != nil {
		fmt.Println("setup:", err)
		os.Exit(1)
	}
	for p := 0; p < r.Pages(); p += 2 {
		err := r.Protect(arch.PageNum(p), 1, arch.ProtRead)
		if err == nil {
			continue
		}
		if !isMapLimit(err) {
			fmt.Println("unexpected error:", err)
			os.Exit(1)
		}
		count, _ := MapCount()
		if count > limit-MapHeadroom/2 {
			fmt.Printf("refused too late: %d mappings, limit %d\n", count, limit)
			os.Exit(1)
		}
		// The runtime still has room: allocate and collect.
		junk := make([][]byte, 0, 256)
		for range 256 {
			junk = append(junk, make([]byte, 1<<20))
		}
		runtime.GC()
		fmt.Printf("refused with ErrMapLimit at %d mappings (%d in the region, limit %d): %v\n", count, r.Mappings(), limit, err)
		// Joining the split areas back gives the mappings back.
		if err := r.Protect(0, r.Pages(), arch.ProtNone); err != nil || r.Mappings() != 1 {
			fmt.Println("rejoin:", err, r.Mappings())
			os.Exit(1)
		}
		if err := r.Protect(1, 1, arch.ProtRead); err != nil {
			fmt.Println("after rejoin:", err)
			os.Exit(1)
		}
		_ = len(junk)
		return
	}
	fmt.Println("never refused")
	os.Exit(1)
}

func isMapLimit(err error) bool { return errors.Is(err, ErrMapLimit) }

func TestMapAt(t *testing.T) {
	hole, err := NewAnonymous(2, nil)
	require.NoError(t, err)
	at := hole.Range().Start
	require.NoError(t, hole.Unmap())

	r, err := NewAnonymous(1, &Options{At: at, Prot: arch.ProtReadWrite})
	require.NoError(t, err)
	defer r.Unmap()
	assert.Equal(t, at, r.Range().Start)
	_, err = NewAnonymous(1, &Options{At: at})
	assert.ErrorIs(t, err, unix.EEXIST, "never replaces a mapping")
	_, err = NewAnonymous(1, &Options{At: at + 1})
	assert.ErrorIs(t, err, ErrUnaligned)
}

func TestAllocated(t *testing.T) {
	ps := int64(arch.SystemPageSize())
	r := newShared(t, 16, &Options{Prot: arch.ProtReadWrite})
	n, err := r.Allocated()
	require.NoError(t, err)
	assert.Zero(t, n, "nothing touched yet")
	for p := range 5 {
		r.Bytes()[int64(p)*ps] = 1
	}
	n, err = r.Allocated()
	require.NoError(t, err)
	assert.Equal(t, 5*ps, n)
	require.NoError(t, r.Drop(0, 2))
	n, err = r.Allocated()
	require.NoError(t, err)
	assert.Equal(t, 3*ps, n, "dropped pages are released")

	a, err := NewAnonymous(8, &Options{Prot: arch.ProtReadWrite})
	require.NoError(t, err)
	defer a.Unmap()
	a.Bytes()[0], a.Bytes()[3*ps] = 1, 1
	n, err = a.Allocated()
	require.NoError(t, err)
	assert.Equal(t, 2*ps, n)
}

func TestMemfd(t *testing.T) {
	ps := int(arch.SystemPageSize())
	f, err := Memfd("vmsim-test", int64(2*ps))
	require.NoError(t, err)
	defer f.Close()
	st, err := f.Stat()
	require.NoError(t, err)
	assert.Equal(t, int64(2*ps), st.Size())
	flags, err := unix.FcntlInt(f.Fd(), unix.F_GETFD, 0)
	require.NoError(t, err)
	assert.NotZero(t, flags&unix.FD_CLOEXEC, "not inherited by exec unless passed on purpose")

	// Two shared mappings of the memfd see each other's writes; a private
	// one does not.
	a, err := NewFile(f, 2, &FileOptions{Shared: true, Options: Options{Prot: arch.ProtReadWrite}})
	require.NoError(t, err)
	defer a.Unmap()
	b, err := NewFile(f, 2, &FileOptions{Shared: true, Options: Options{Prot: arch.ProtReadWrite}})
	require.NoError(t, err)
	defer b.Unmap()
	p, err := NewFile(f, 2, &FileOptions{Options: Options{Prot: arch.ProtReadWrite}})
	require.NoError(t, err)
	defer p.Unmap()
	a.Bytes()[ps] = 'm'
	assert.Equal(t, byte('m'), b.Bytes()[ps])
	p.Bytes()[0] = 'p'
	assert.Equal(t, byte(0), a.Bytes()[0], "a private mapping's write stays private")
	got := make([]byte, 1)
	_, err = f.ReadAt(got, int64(ps))
	require.NoError(t, err)
	assert.Equal(t, byte('m'), got[0], "ordinary reads see the shared write")

	_, err = Memfd("bad", -1)
	assert.ErrorIs(t, err, ErrOutOfRange)
}
