package pager

import (
	"errors"
	"fmt"
	"io"
	"os"
	"sync"

	"vmsim/vm/arch"
)

// Store keeps the contents of pages while they are out of memory: the
// backing store of real mode. Pages are numbered as in the region they back.
// Implementations are safe for concurrent use on different pages.
//
// Neither method may retain buf after it returns (as for io.Reader and
// io.Writer): buf is the page itself, in real memory that the pager drops
// or hands to the program right after the call.
type Store interface {
	// ReadPage fills buf, exactly one page, with page p's contents.
	ReadPage(p arch.PageNum, buf []byte) error
	// WritePage saves buf, exactly one page, as page p's contents. When it
	// fails, the previous contents must still be readable.
	WritePage(p arch.PageNum, buf []byte) error
	// Close releases the store.
	Close() error
}

// Zeroer is implemented by stores that know which pages read as zeros. Real
// mode keeps the frames of non-resident pages empty (zero), so it can skip
// the fill of such a page: the kernel hands out a zero page on first touch.
type Zeroer interface {
	// IsZero reports whether page p reads as zeros.
	IsZero(p arch.PageNum) bool
}

// ErrReadOnly is matched by the error of a write to a store that cannot
// keep data.
var ErrReadOnly = errors.New("store cannot keep written pages")

// ZeroStore backs anonymous memory that is never written back: every page
// reads as zeros, and a write is an error (a dirty page would be lost).
type ZeroStore struct{}

// ReadPage fills buf with zeros.
func (ZeroStore) ReadPage(_ arch.PageNum, buf []byte) error {
	clear(buf)
	return nil
}

// WritePage refuses: see [ErrReadOnly].
func (ZeroStore) WritePage(p arch.PageNum, _ []byte) error {
	return fmt.Errorf("write page %d: %w", p, ErrReadOnly)
}

// Close does nothing.
func (ZeroStore) Close() error { return nil }

// IsZero reports true: every page reads as zeros.
func (ZeroStore) IsZero(arch.PageNum) bool { return true }

// FileStore reads page p from byte p × page size of a file and writes it
// back there: a file mapped into memory. Bytes past the end of the file read
// as zeros; writing extends the file.
type FileStore struct {
	f  *os.File
	ps arch.PageSize
}

// NewFileStore returns a store over f, with pages of ps bytes. The store
// does not close f.
func NewFileStore(f *os.File, ps arch.PageSize) *FileStore { return &FileStore{f: f, ps: ps} }

func (s *FileStore) offset(p arch.PageNum) (int64, error) {
	off, ok := s.ps.Bytes(uint64(p))
	if !ok || off > 1<<62 {
		return 0, fmt.Errorf("page %d: offset overflows", p)
	}
	return int64(off), nil
}

// ReadPage reads page p; the part past the end of the file reads as zeros.
func (s *FileStore) ReadPage(p arch.PageNum, buf []byte) error {
	off, err := s.offset(p)
	if err != nil {
		return err
	}
	n, err := s.f.ReadAt(buf, off)
	if err == io.EOF {
		clear(buf[n:])
		return nil
	}
	if err != nil {
		return fmt.Errorf("read page %d of %s: %w", p, s.f.Name(), err)
	}
	return nil
}

// WritePage writes page p at its offset.
func (s *FileStore) WritePage(p arch.PageNum, buf []byte) error {
	off, err := s.offset(p)
	if err != nil {
		return err
	}
	if _, err := s.f.WriteAt(buf, off); err != nil {
		return fmt.Errorf("write page %d of %s: %w", p, s.f.Name(), err)
	}
	return nil
}

// Close flushes the file to disk; the caller closes it.
func (s *FileStore) Close() error { return s.f.Sync() }

// SwapStore holds dirty pages of anonymous memory in a temporary file, as
// swap space does: a page never written reads as zeros. The file is unlinked
// as soon as it is created, so it disappears when the store is closed or the
// process dies.
type SwapStore struct {
	f  *os.File
	ps arch.PageSize

	mu sync.Mutex
	// written has bit p set once page p was written: a bit a page (a map
	// took about 40 bytes for each). Protected by mu.
	written []uint64
}

// writtenLocked reports whether page p was written. The caller holds mu.
func (s *SwapStore) writtenLocked(p arch.PageNum) bool {
	w := p / 64
	return w < arch.PageNum(len(s.written)) && s.written[w]&(1<<(p%64)) != 0
}

// NewSwapStore creates a swap file in dir ("" for the system's temporary
// directory) for pages of ps bytes.
func NewSwapStore(dir string, ps arch.PageSize) (*SwapStore, error) {
	f, err := os.CreateTemp(dir, "vmsim-swap-*")
	if err != nil {
		return nil, fmt.Errorf("swap store: %w", err)
	}
	if err := os.Remove(f.Name()); err != nil {
		f.Close()
		return nil, fmt.Errorf("swap store: %w", err)
	}
	return &SwapStore{f: f, ps: ps}, nil
}

// ReadPage reads page p, or zeros if it was never written.
func (s *SwapStore) ReadPage(p arch.PageNum, buf []byte) error {
	s.mu.Lock()
	w := s.writtenLocked(p)
	s.mu.Unlock()
	if !w {
		clear(buf)
		return nil
	}
	off, ok := s.ps.Bytes(uint64(p))
	if !ok {
		return fmt.Errorf("swap: page %d: offset overflows", p)
	}
	if _, err := s.f.ReadAt(buf, int64(off)); err != nil {
		return fmt.Errorf("swap: read page %d: %w", p, err)
	}
	return nil
}

// WritePage saves page p.
func (s *SwapStore) WritePage(p arch.PageNum, buf []byte) error {
	off, ok := s.ps.Bytes(uint64(p))
	if !ok {
		return fmt.Errorf("swap: page %d: offset overflows", p)
	}
	if _, err := s.f.WriteAt(buf, int64(off)); err != nil {
		return fmt.Errorf("swap: write page %d: %w", p, err)
	}
	s.mu.Lock()
	if w := int(p / 64); w >= len(s.written) {
		s.written = growTo(s.written, max(w+1, 2*len(s.written)), 0)
	}
	s.written[p/64] |= 1 << (p % 64)
	s.mu.Unlock()
	return nil
}

// IsZero reports whether page p was never written.
func (s *SwapStore) IsZero(p arch.PageNum) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return !s.writtenLocked(p)
}

// Close closes (and so frees) the swap file.
func (s *SwapStore) Close() error { return s.f.Close() }
