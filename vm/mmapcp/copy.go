package mmapcp

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"golang.org/x/sys/unix"

	"vmsim/faults"
	"vmsim/vm"
	"vmsim/vm/arch"
)

// DefaultWindow is the number of bytes of each file mapped at once when
// [Options.Window] is zero: 64 MiB.
const DefaultWindow = 64 << 20

// Errors of [Copy]. Failures of the system calls are returned as
// *os.PathError or *vm.Error wrapping the errno.
var (
	ErrSameFile   = errors.New("source and destination are the same file")
	ErrNotRegular = errors.New("not a regular file")
	ErrTruncated  = errors.New("source shrank during the copy")
	ErrBadWindow  = errors.New("window is not a positive multiple of the page size")
)

// tempMark is in the name of every temporary file of a copy.
const tempMark = ".vmsim-cp-"

// TempPattern returns the filepath.Glob pattern of the temporary files a
// copy to dst (a file, not a directory) writes before it renames one over
// dst: a copy removes its own on every failure and on cancellation, and
// this finds any that a killed process left.
func TempPattern(dst string) string {
	return filepath.Join(filepath.Dir(dst), "."+filepath.Base(dst)+tempMark+"*")
}

// SizeMethod is how the destination gets its size before it is mapped.
type SizeMethod uint8

// Ways to give the destination its size.
const (
	// Ftruncate calls ftruncate(fd, size).
	Ftruncate SizeMethod = iota
	// Lseek moves to size-1 and writes one byte, as the course does: the
	// file then ends at size, and the bytes before it read as zeros.
	Lseek
)

// String names the method as the command line does: "ftruncate" or "lseek".
func (m SizeMethod) String() string {
	switch m {
	case Ftruncate:
		return "ftruncate"
	case Lseek:
		return "lseek"
	}
	return fmt.Sprintf("SizeMethod(%d)", uint8(m))
}

// Method is how the bytes are copied.
type Method uint8

// Copy methods.
const (
	// Mmap maps both files and copies between the mappings.
	Mmap Method = iota
	// Stream copies with io.Copy: on Linux, between two files, the kernel
	// copies with copy_file_range and no byte passes through the program.
	Stream
)

// String names the method: "mmap" or "io.Copy".
func (m Method) String() string {
	switch m {
	case Mmap:
		return "mmap"
	case Stream:
		return "io.Copy"
	}
	return fmt.Sprintf("Method(%d)", uint8(m))
}

// Options configure [Copy]. A nil *Options means the defaults.
type Options struct {
	// Method is how the bytes are copied; the zero value is Mmap.
	Method Method
	// Window is the number of bytes of each file mapped at once (copied at
	// once, for Stream), a multiple of the page size. Zero means
	// DefaultWindow.
	Window int64
	// SizeWith is how the destination gets its size; the zero value is
	// Ftruncate. Mmap only.
	SizeWith SizeMethod
	// NoSync skips msync after each window. The data still reaches the file
	// (the page cache is the file), but it is not on the disk yet when
	// Copy returns. Mmap only.
	NoSync bool
	// Trace, if not nil, receives one line for each step, in the words of
	// the C program.
	Trace io.Writer
	// Progress, if not nil, is called after each window is copied with the
	// bytes copied so far (the offset reached: the holes of a sparse source
	// count as copied) and the total; the total is -1 for a source whose
	// size is not to be trusted (a file of /proc). An error stops the copy
	// and is returned.
	Progress func(copied, total int64) error
}

// Stats describe a finished copy.
type Stats struct {
	// Dest is the path written: DST, or DST/base(SRC) when DST is a
	// directory.
	Dest string
	// Bytes is the number of bytes copied.
	Bytes int64
	// Windows is the number of windows copied (zero for an empty file).
	Windows int
}

// TruncatedError reports a source that shrank while it was copied. It
// matches [ErrTruncated], and unwraps to the [*faults.Fault] when the
// shrinking was caught as a SIGBUS.
type TruncatedError struct {
	// Path is the source.
	Path string
	// Size is the source's size when the copy started, in bytes.
	Size int64
	// Now is its size when the copy found it short, in bytes.
	Now int64
	// Fault is the SIGBUS that revealed it, or nil if the size check after
	// a window did (a truncation inside the last page of a window raises
	// no SIGBUS: the tail of that page reads as zeros).
	Fault *faults.Fault
	// Offset is the offset in the source of the faulting access: a byte
	// past the new end that the copy touched, not necessarily the first
	// (memmove may copy the end of a block first). Meaningful only with a
	// Fault.
	Offset int64
}

// Error says what shrank, how it was found, and the sizes.
func (e *TruncatedError) Error() string {
	if e.Fault != nil {
		return fmt.Sprintf("%s: %v (%v reading offset %d: it has %d bytes now, it had %d)", e.Path, ErrTruncated, e.Fault.Signal, e.Offset, e.Now, e.Size)
	}
	return fmt.Sprintf("%s: %v (it has %d bytes now, it had %d)", e.Path, ErrTruncated, e.Now, e.Size)
}

// Is reports whether target is ErrTruncated.
func (e *TruncatedError) Is(target error) bool { return target == ErrTruncated }

// Unwrap returns the fault, if any.
func (e *TruncatedError) Unwrap() error {
	if e.Fault == nil {
		return nil
	}
	return e.Fault
}

// WriteFaultError reports a fault on a write to the destination's mapping:
// the file system could not give the page a block (it is full), or another
// process truncated the destination. It unwraps to the [*faults.Fault].
type WriteFaultError struct {
	// Path is the destination (written under a temporary name, removed).
	Path string
	// Offset is the offset of the faulting access in the destination.
	Offset int64
	// Fault is the fault.
	Fault *faults.Fault
}

// Error says where the write faulted and the likely causes.
func (e *WriteFaultError) Error() string {
	return fmt.Sprintf("%s: %v writing offset %d through the mapping: the file system is full, or the file was truncated", e.Path, e.Fault.Signal, e.Offset)
}

// Unwrap returns the fault.
func (e *WriteFaultError) Unwrap() error { return e.Fault }

// Copy copies the file src to dst. It returns what it copied, or an error
// that leaves dst as it was (absent, or with its old content). See the
// package documentation for the steps and the edges.
func Copy(ctx context.Context, src, dst string, opts *Options) (Stats, error) {
	var o Options
	if opts != nil {
		o = *opts
	}
	ps := int64(arch.SystemPageSize())
	if o.Window == 0 {
		o.Window = DefaultWindow
	}
	if o.Window < 0 || o.Window%ps != 0 {
		return Stats{}, fmt.Errorf("window %d (page size %d): %w", o.Window, ps, ErrBadWindow)
	}
	c := &copier{o: o, ps: ps, src: src}
	return c.run(ctx, dst)
}

// copier is one copy in progress.
type copier struct {
	o   Options
	ps  int64
	src string
	dst string
	in  *os.File
	tmp *os.File
	// size is the source's size when the copy started.
	size int64
}

func (c *copier) trace(format string, args ...any) {
	if c.o.Trace != nil {
		fmt.Fprintf(c.o.Trace, format+"\n", args...)
	}
}

func (c *copier) run(ctx context.Context, dst string) (st Stats, err error) {
	// O_NONBLOCK: opening a FIFO for reading would otherwise wait for a
	// writer. It changes nothing for a regular file.
	in, err := os.OpenFile(c.src, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return st, err
	}
	defer in.Close()
	c.in = in
	info, err := in.Stat()
	if err != nil {
		return st, err
	}
	if !info.Mode().IsRegular() {
		return st, &os.PathError{Op: "copy", Path: c.src, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kindOf(info.Mode()))}
	}
	c.size = info.Size()
	c.trace("in = open(%q, O_RDONLY); fstat: %d bytes, mode %#o", c.src, c.size, info.Mode().Perm())
	if err := ctx.Err(); err != nil {
		return st, err
	}
	// A file of /proc or /sys says 0 bytes, or a page, whatever it holds:
	// mapping that size would copy nothing, or zeros.
	unsized, first, err := c.sizeUntrusted()
	if err != nil {
		return st, err
	}

	if dst, err = c.destination(dst, info); err != nil {
		return st, err
	}
	st.Dest = dst
	c.dst = dst

	tmp, err := os.CreateTemp(filepath.Dir(dst), "."+filepath.Base(dst)+tempMark)
	if err != nil {
		return st, err
	}
	c.tmp = tmp
	renamed := false
	defer func() {
		if !renamed {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	// O_RDWR, not O_WRONLY: see the package documentation.
	c.trace("out = open(%q, O_RDWR|O_CREAT|O_EXCL, 0600): a temporary name next to %s", tmp.Name(), filepath.Base(dst))
	if err := tmp.Chmod(info.Mode().Perm()); err != nil {
		return st, err
	}
	c.trace("fchmod(out, %#o): the source's mode", info.Mode().Perm())

	switch {
	case unsized != "":
		c.trace("the size is not to be trusted: %s; read(in) and write(out) until the end of file, no mmap", unsized)
		st.Windows, err = c.unsizedCopy(ctx, first)
	case c.o.Method == Mmap:
		st.Windows, err = c.mmapCopy(ctx)
	case c.o.Method == Stream:
		st.Windows, err = c.streamCopy(ctx)
	default:
		err = fmt.Errorf("unknown copy method %v", c.o.Method)
	}
	if err != nil {
		return st, err
	}

	// Never a short copy: the destination has the size the source had.
	tinfo, err := tmp.Stat()
	if err != nil {
		return st, err
	}
	if tinfo.Size() != c.size {
		return st, fmt.Errorf("%s: %d bytes written, want %d", tmp.Name(), tinfo.Size(), c.size)
	}
	if err := tmp.Close(); err != nil {
		return st, err
	}
	c.trace("close(out); close(in)")
	if err := ctx.Err(); err != nil {
		return st, err
	}
	if err := os.Rename(tmp.Name(), dst); err != nil {
		return st, err
	}
	renamed = true
	c.trace("rename(%q, %q)", tmp.Name(), dst)
	st.Bytes = c.size
	return st, nil
}

// destination resolves dst as cp does (a directory receives the file under
// the source's name; a symbolic link is written through) and refuses a
// destination that is the source or not a regular file.
func (c *copier) destination(dst string, src fs.FileInfo) (string, error) {
	if info, err := os.Stat(dst); err == nil && info.IsDir() {
		dst = filepath.Join(dst, filepath.Base(c.src))
	}
	// typed is the destination as the user named it, for the messages.
	typed := dst
	if l, err := os.Lstat(dst); err == nil && l.Mode()&fs.ModeSymlink != 0 {
		target, err := filepath.EvalSymlinks(dst)
		if err != nil {
			return "", fmt.Errorf("not writing through the dangling symbolic link %s: %w", dst, err)
		}
		dst = target
	}
	info, err := os.Stat(dst)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return dst, nil
	case err != nil:
		return "", err
	case os.SameFile(src, info) && typed != dst:
		return "", fmt.Errorf("%s and %s (a symbolic link to %s): %w (device and inode are equal)", c.src, typed, dst, ErrSameFile)
	case os.SameFile(src, info):
		return "", fmt.Errorf("%s and %s: %w (device and inode are equal)", c.src, dst, ErrSameFile)
	case !info.Mode().IsRegular():
		return "", &os.PathError{Op: "copy to", Path: dst, Err: fmt.Errorf("%w (%s): it would be replaced, not written", ErrNotRegular, kindOf(info.Mode()))}
	}
	return dst, nil
}

// mmapCopy is the course's copy, window by window.
func (c *copier) mmapCopy(ctx context.Context) (int, error) {
	if c.size == 0 {
		c.trace("the source is empty: nothing to map (mmap of length 0 fails with EINVAL)")
		return 0, nil
	}
	switch c.o.SizeWith {
	case Ftruncate:
		if err := c.tmp.Truncate(c.size); err != nil {
			return 0, err
		}
		c.trace("ftruncate(out, %d)", c.size)
	case Lseek:
		if _, err := c.tmp.Seek(c.size-1, io.SeekStart); err != nil {
			return 0, err
		}
		if _, err := c.tmp.Write([]byte{0}); err != nil {
			return 0, err
		}
		c.trace("lseek(out, %d, SEEK_SET); write(out, \"\", 1)", c.size-1)
	default:
		return 0, fmt.Errorf("unknown size method %v", c.o.SizeWith)
	}
	extents, err := c.dataExtents()
	if err != nil {
		return 0, err
	}
	windows := 0
	for _, e := range extents {
		for off := e.off; off < e.end; off += c.o.Window {
			n := min(c.o.Window, e.end-off)
			windows++
			if err := c.window(off, n, windows); err != nil {
				return windows, err
			}
			// A truncation inside the last page of a window raises no
			// SIGBUS: its tail reads as zeros. The size tells.
			info, err := c.in.Stat()
			if err != nil {
				return windows, err
			}
			if info.Size() < c.size {
				return windows, &TruncatedError{Path: c.src, Size: c.size, Now: info.Size()}
			}
			if err := ctx.Err(); err != nil {
				return windows, err
			}
			if c.o.Progress != nil {
				if err := c.o.Progress(off+n, c.size); err != nil {
					return windows, err
				}
			}
		}
	}
	return windows, nil
}

// extent is a part of the source that holds data: [off, end), off a
// multiple of the page size.
type extent struct{ off, end int64 }

// dataExtents lists the parts of the source that hold data, from
// lseek(SEEK_DATA) and lseek(SEEK_HOLE), widened to whole pages: a copy of
// those alone leaves the holes of a sparse source as holes in the
// destination, which ftruncate made all hole, as GNU cp does. Where the
// file system cannot tell (EINVAL), the whole file is data.
func (c *copier) dataExtents() ([]extent, error) {
	whole := []extent{{0, c.size}}
	var ex []extent
	for off := int64(0); off < c.size; {
		d, err := c.in.Seek(off, unix.SEEK_DATA)
		if errors.Is(err, unix.ENXIO) {
			break // only a hole from off to the end
		}
		if errors.Is(err, unix.EINVAL) || errors.Is(err, unix.EOPNOTSUPP) {
			return whole, nil
		}
		if err != nil {
			return nil, err
		}
		if d >= c.size {
			break
		}
		h, err := c.in.Seek(d, unix.SEEK_HOLE)
		if err != nil {
			return nil, err
		}
		d = d &^ (c.ps - 1)
		h = min((h+c.ps-1)&^(c.ps-1), c.size)
		if n := len(ex); n > 0 && d <= ex[n-1].end {
			ex[n-1].end = max(ex[n-1].end, h)
		} else {
			ex = append(ex, extent{d, h})
		}
		off = h
	}
	if _, err := c.in.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	prev := int64(0)
	for _, e := range ex {
		if e.off > prev {
			c.trace("hole [%d, %d): lseek(in, %d, SEEK_DATA) skips it, the destination keeps it", prev, e.off, prev)
		}
		prev = e.end
	}
	if prev < c.size {
		c.trace("hole [%d, %d): lseek(in, %d, SEEK_DATA) skips it, the destination keeps it", prev, c.size, prev)
	}
	return ex, nil
}

// window copies n bytes at offset off.
func (c *copier) window(off, n int64, i int) error {
	pages := int((n + c.ps - 1) / c.ps)
	src, err := vm.NewFile(c.in, pages, &vm.FileOptions{Offset: off, Options: vm.Options{Prot: arch.ProtRead, HugePages: true}})
	if err != nil {
		return err
	}
	defer src.Unmap()
	dst, err := vm.NewFile(c.tmp, pages, &vm.FileOptions{Shared: true, Offset: off, Options: vm.Options{Prot: arch.ProtReadWrite, HugePages: true}})
	if err != nil {
		return err
	}
	defer dst.Unmap()
	c.trace("window %d: offset %d, %d bytes", i, off, n)
	c.trace("  src = mmap(NULL, %d, PROT_READ, MAP_PRIVATE, in, %d)", n, off)
	c.trace("  dst = mmap(NULL, %d, PROT_READ|PROT_WRITE, MAP_SHARED, out, %d)", n, off)

	reg := &faults.Registry{}
	if err := reg.Register(src.Range(), refuse{r: src}); err != nil {
		return err
	}
	if err := reg.Register(dst.Range(), refuse{r: dst, readWrite: true}); err != nil {
		return err
	}
	s, d := src.Bytes()[:n], dst.Bytes()[:n]
	err = reg.Do(arch.AccessUnspecified, func() { copy(d, s) })
	var f *faults.Fault
	if errors.As(err, &f) {
		if src.Range().Contains(f.Address) {
			te := &TruncatedError{Path: c.src, Size: c.size, Now: -1, Fault: f, Offset: off + int64(f.Address-src.Range().Start)}
			if info, err := c.in.Stat(); err == nil {
				te.Now = info.Size()
			}
			return te
		}
		if dst.Range().Contains(f.Address) {
			at := off + int64(f.Address-dst.Range().Start)
			return &WriteFaultError{Path: c.dst, Offset: at, Fault: f}
		}
	}
	if err != nil {
		return err
	}
	c.trace("  memcpy(dst, src, %d)", n)
	if !c.o.NoSync {
		if err := dst.Sync(0, pages); err != nil {
			return err
		}
		c.trace("  msync(dst, %d, MS_SYNC)", n)
	}
	if err := src.Unmap(); err != nil {
		return err
	}
	if err := dst.Unmap(); err != nil {
		return err
	}
	c.trace("  munmap(src, %d); munmap(dst, %d)", n, n)
	return nil
}

// refuse is the fault handler of a copy: a fault in a mapping is never
// resolved, it stops the copy.
type refuse struct {
	r *vm.Region
	// readWrite is set for a mapping that allows every access: a fault
	// there is never a protection fault (SIGSEGV) but a page the kernel
	// could not provide (SIGBUS), wherever the page lies.
	readWrite bool
}

func (h refuse) HandleFault(f *faults.Fault) error { return f }

// Classify tells the signal: the region knows which pages lie past the end
// of the file.
func (h refuse) Classify(a arch.Addr) arch.Signal {
	if h.readWrite {
		return arch.SIGBUS
	}
	return h.r.Classify(a)
}

// streamCopy copies with io.Copy, window by window like mmapCopy, exactly
// the source's starting size, and leaves its holes as holes too.
func (c *copier) streamCopy(ctx context.Context) (int, error) {
	if err := c.tmp.Truncate(c.size); err != nil {
		return 0, err
	}
	extents, err := c.dataExtents()
	if err != nil {
		return 0, err
	}
	windows := 0
	for _, e := range extents {
		if _, err := c.in.Seek(e.off, io.SeekStart); err != nil {
			return windows, err
		}
		if _, err := c.tmp.Seek(e.off, io.SeekStart); err != nil {
			return windows, err
		}
		for off := e.off; off < e.end; off += c.o.Window {
			n := min(c.o.Window, e.end-off)
			windows++
			copied, err := io.CopyN(c.tmp, c.in, n)
			if errors.Is(err, io.EOF) {
				te := &TruncatedError{Path: c.src, Size: c.size, Now: off + copied}
				if info, err := c.in.Stat(); err == nil {
					te.Now = info.Size()
				}
				return windows, te
			}
			if err != nil {
				return windows, err
			}
			c.trace("window %d: io.Copy(out, in): %d bytes at offset %d", windows, n, off)
			if err := ctx.Err(); err != nil {
				return windows, err
			}
			if c.o.Progress != nil {
				if err := c.o.Progress(off+n, c.size); err != nil {
					return windows, err
				}
			}
		}
	}
	// A source that shrank inside a hole the copy skipped.
	if info, err := c.in.Stat(); err == nil && info.Size() < c.size {
		return windows, &TruncatedError{Path: c.src, Size: c.size, Now: info.Size()}
	}
	return windows, nil
}

// unsizedChunk is what unsizedCopy reads at once.
const unsizedChunk = 1 << 20

// pseudoFS are the file systems whose sizes say nothing of what a read
// returns: a file of /proc reports 0 bytes, one of /sys a page.
var pseudoFS = map[int64]string{
	unix.PROC_SUPER_MAGIC:    "proc",
	unix.SYSFS_MAGIC:         "sysfs",
	unix.DEBUGFS_MAGIC:       "debugfs",
	unix.TRACEFS_MAGIC:       "tracefs",
	unix.SECURITYFS_MAGIC:    "securityfs",
	unix.CGROUP_SUPER_MAGIC:  "cgroup",
	unix.CGROUP2_SUPER_MAGIC: "cgroup2",
	0x62656570:               "configfs", // CONFIGFS_MAGIC, which x/sys/unix lacks
	unix.EFIVARFS_MAGIC:      "efivarfs",
	unix.BPF_FS_MAGIC:        "bpf",
	unix.PSTOREFS_MAGIC:      "pstore",
}

// sizeUntrusted says why the source's size cannot be trusted ("" if it
// can): it lies on a pseudo file system, or it says 0 bytes and a read
// returns data. The data read to find out is returned, to be copied first.
// A read error is returned as it is: an *os.PathError that names the
// source (a file of /sys that refuses to be read).
func (c *copier) sizeUntrusted() (string, []byte, error) {
	var sfs unix.Statfs_t
	if err := unix.Fstatfs(int(c.in.Fd()), &sfs); err == nil {
		if name, ok := pseudoFS[int64(sfs.Type)]; ok {
			return "a file of " + name + ", whose sizes are not its contents'", nil, nil
		}
	}
	if c.size != 0 {
		return "", nil, nil
	}
	buf := make([]byte, 64<<10)
	n, err := c.in.Read(buf)
	switch {
	case n > 0:
		return "fstat says 0 bytes, but read returns data", buf[:n], nil
	case err == nil, errors.Is(err, io.EOF):
		return "", nil, nil
	}
	return "", nil, err
}

// unsizedCopy copies by read and write until the end of file, first the
// bytes already read, checking ctx after each chunk. It sets c.size to
// what it copied.
func (c *copier) unsizedCopy(ctx context.Context, first []byte) (int, error) {
	copied := int64(0)
	if len(first) > 0 {
		if _, err := c.tmp.Write(first); err != nil {
			return 1, err
		}
		copied = int64(len(first))
	}
	buf := make([]byte, unsizedChunk)
	for {
		if err := ctx.Err(); err != nil {
			return 1, err
		}
		n, err := c.in.Read(buf)
		if n > 0 {
			if _, werr := c.tmp.Write(buf[:n]); werr != nil {
				return 1, werr
			}
			copied += int64(n)
			if c.o.Progress != nil {
				if err := c.o.Progress(copied, -1); err != nil {
					return 1, err
				}
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return 1, err
		}
	}
	c.size = copied
	c.trace("read %d bytes until the end of file; write(out) each", copied)
	return 1, nil
}

// kindOf names the kind of a file that is not regular.
func kindOf(m fs.FileMode) string {
	switch {
	case m.IsDir():
		return "a directory"
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a block device"
	case m&fs.ModeSymlink != 0:
		return "a symbolic link"
	}
	return "not a regular file"
}
