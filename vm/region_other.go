//go:build !linux

package vm

import (
	"os"

	"vmsim/vm/arch"
)

// NewAnonymous returns ErrNotSupported: real memory needs Linux.
func NewAnonymous(pages int, opts *Options) (*Region, error) {
	return nil, &Error{Op: "new anonymous region", Err: ErrNotSupported}
}

// NewShared returns ErrNotSupported: real memory needs Linux.
func NewShared(pages int, opts *Options) (*Region, error) {
	return nil, &Error{Op: "new shared region", Err: ErrNotSupported}
}

// NewFile returns ErrNotSupported: real memory needs Linux.
func NewFile(f *os.File, pages int, opts *FileOptions) (*Region, error) {
	return nil, &Error{Op: "new file region", Err: ErrNotSupported}
}

// Memfd returns ErrNotSupported: memfd_create is Linux-only.
func Memfd(name string, size int64) (*os.File, error) {
	return nil, &Error{Op: "memfd_create", Err: ErrNotSupported}
}

func (r *Region) Protect(p arch.PageNum, n int, prot arch.Prot) error { return ErrNotSupported }
func (r *Region) Drop(p arch.PageNum, n int) error                    { return ErrNotSupported }
func (r *Region) Remap(p arch.PageNum, n int, prot arch.Prot) error   { return ErrNotSupported }
func (r *Region) Reserve(p arch.PageNum, n int) error                 { return ErrNotSupported }
func (r *Region) Sync(p arch.PageNum, n int) error                    { return ErrNotSupported }
func (r *Region) Classify(a arch.Addr) arch.Signal                    { return arch.SignalUnknown }
func (r *Region) Unmap() error                                        { return ErrNotSupported }

// MapLimit returns ErrNotSupported.
func MapLimit() (int, error) { return 0, ErrNotSupported }

// MapCount returns ErrNotSupported.
func MapCount() (int, error) { return 0, ErrNotSupported }

func (r *Region) Allocated() (int64, error) { return 0, ErrNotSupported }

func rangeOfAlt(b []byte) arch.Range { return arch.Range{} }
