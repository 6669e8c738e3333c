//go:build !linux

package vm

import "vmsim/vm/arch"

// CheckUserfault returns ErrNotSupported: userfaultfd is Linux's.
func CheckUserfault(k Kind) error { return &Error{Op: "userfaultfd", Err: ErrNotSupported} }

// Fill returns ErrNotSupported.
func (r *Region) Fill(p arch.PageNum, src []byte, prot arch.Prot) error { return ErrNotSupported }

// WriteProtect returns ErrNotSupported.
func (r *Region) WriteProtect(p arch.PageNum, n int, wp bool) error { return ErrNotSupported }
