package vm

import (
	"errors"
	"fmt"

	"vmsim/vm/arch"
)

// Errors for misuse of regions and for missing support.
var (
	ErrZeroLength = errors.New("zero length")
	ErrUnaligned  = errors.New("offset not aligned to the page size")
	ErrOutOfRange = errors.New("page out of range")
	// ErrClosed is matched by operations on an unmapped region.
	ErrClosed    = arch.ErrClosed
	ErrNoAltView = errors.New("region has no second view")
	ErrBadProt   = errors.New("invalid protection")
	// ErrNotSupported is matched when the kernel lacks a feature
	// (userfaultfd, one of its features, Linux itself).
	ErrNotSupported = arch.ErrNotSupported
	// ErrMapLimit is matched by errors from mmap and mprotect when the
	// process has used up vm.max_map_count memory areas.
	ErrMapLimit = errors.New("too many memory mappings (vm.max_map_count)")
)

// Error reports a failed operation on a range of memory.
type Error struct {
	// Op is the operation: "mmap", "mprotect", "madvise", ...
	Op string
	// Range is the address range it applied to (empty for whole-object
	// operations such as memfd_create).
	Range arch.Range
	// Err is the cause: an errno, or one of this package's sentinels.
	Err error
}

func (e *Error) Error() string {
	if e.Range == (arch.Range{}) {
		return e.Op + ": " + e.Err.Error()
	}
	return fmt.Sprintf("%s %v: %v", e.Op, e.Range, e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

// mapLimitError is an ENOMEM that came from the map count limit.
type mapLimitError struct {
	errno        error
	count, limit int
}

func (e *mapLimitError) Error() string {
	return fmt.Sprintf("%v: %d mappings in use, vm.max_map_count is %d", e.errno, e.count, e.limit)
}

func (e *mapLimitError) Unwrap() []error { return []error{e.errno, ErrMapLimit} }
