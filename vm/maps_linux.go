//go:build linux

package vm

import (
	"errors"
	"fmt"
	"os"

	"golang.org/x/sys/unix"
)

// The kernel's memory areas (vm.max_map_count) and the memory that backs a
// region.

// withLimit turns an ENOMEM at the map count limit into ErrMapLimit.
func (r *Region) withLimit(err error) error {
	if err == nil {
		return nil
	}
	var e *Error
	if !errors.Is(err, unix.ENOMEM) || !errors.As(err, &e) {
		return err
	}
	limit, lerr := MapLimit()
	count, cerr := MapCount()
	if lerr != nil || cerr != nil || count < limit-16 {
		return err
	}
	e.Err = &mapLimitError{errno: e.Err, count: count, limit: limit}
	return e
}

// MapLimit returns vm.max_map_count: the most memory areas a process may
// have.
func MapLimit() (int, error) {
	b, err := os.ReadFile("/proc/sys/vm/max_map_count")
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscanf(string(b), "%d", &n); err != nil {
		return 0, fmt.Errorf("parse /proc/sys/vm/max_map_count: %w", err)
	}
	return n, nil
}

// MapCount returns the number of memory areas this process has now (the
// lines of /proc/self/maps).
func MapCount() (int, error) {
	b, err := os.ReadFile("/proc/self/maps")
	if err != nil {
		return 0, err
	}
	n := 0
	for _, c := range b {
		if c == '\n' {
			n++
		}
	}
	return n, nil
}

// Allocated returns the bytes of memory that back r now: the allocated
// blocks of the memfd or file (st_blocks), or, for anonymous memory, the
// resident pages of the view (mincore). A pager that releases evicted pages
// keeps it near frames × page size.
func (r *Region) Allocated() (int64, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.closed {
		return 0, &Error{Op: "allocated", Err: ErrClosed}
	}
	if r.fd >= 0 {
		var st unix.Stat_t
		if err := unix.Fstat(r.fd, &st); err != nil {
			return 0, &Error{Op: "fstat", Err: err}
		}
		return st.Blocks * 512, nil
	}
	vec := make([]byte, r.npages)
	if err := mincore(r.view, vec); err != nil {
		return 0, &Error{Op: "mincore", Range: r.Range(), Err: err}
	}
	n := int64(0)
	for _, v := range vec {
		n += int64(v & 1)
	}
	return n * int64(r.ps), nil
}
