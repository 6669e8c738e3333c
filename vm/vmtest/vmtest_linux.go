//go:build linux

package vmtest

import (
	"fmt"
	"syscall"
)

// dropPrivileges makes every thread of the process user and group nobody,
// with no supplementary groups: the capabilities go with the user id.
func dropPrivileges() error {
	if err := syscall.Setgroups(nil); err != nil {
		return fmt.Errorf("setgroups: %w", err)
	}
	if err := syscall.Setgid(Nobody); err != nil {
		return fmt.Errorf("setgid: %w", err)
	}
	if err := syscall.Setuid(Nobody); err != nil {
		return fmt.Errorf("setuid: %w", err)
	}
	return nil
}
