//go:build !linux

package vmtest

import "errors"

var errLinux = errors.New("vmtest: Linux only")

func dropPrivileges() error { return errLinux }

// DenyUserfaultfd fails: seccomp is Linux's.
func DenyUserfaultfd() error { return errLinux }

// DenyKernelCounters fails: seccomp is Linux's.
func DenyKernelCounters() error { return errLinux }

// HasCapability reports false: capabilities are Linux's.
func HasCapability(name string) bool { return false }
