//go:build linux

package vmtest

import (
	"fmt"
	"syscall"

	"golang.org/x/sys/unix"
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

// capabilities numbers the capabilities tests ask for by name.
var capabilities = map[string]uint{
	"CAP_SYS_ADMIN":    unix.CAP_SYS_ADMIN,
	"CAP_SYS_PTRACE":   unix.CAP_SYS_PTRACE,
	"CAP_SETUID":       unix.CAP_SETUID,
	"CAP_SETGID":       unix.CAP_SETGID,
	"CAP_DAC_OVERRIDE": unix.CAP_DAC_OVERRIDE,
	"CAP_BPF":          unix.CAP_BPF,
	"CAP_PERFMON":      unix.CAP_PERFMON,
	"CAP_IPC_LOCK":     unix.CAP_IPC_LOCK,
	"CAP_SYS_RESOURCE": unix.CAP_SYS_RESOURCE,
}

// HasCapability reports whether the calling thread has the named
// capability ("CAP_BPF") in its effective set. It panics on a name it does
// not know: that is a bug in the test.
func HasCapability(name string) bool {
	bit, ok := capabilities[name]
	if !ok {
		panic("vmtest: unknown capability " + name)
	}
	hdr := unix.CapUserHeader{Version: unix.LINUX_CAPABILITY_VERSION_3}
	var data [2]unix.CapUserData
	if err := unix.Capget(&hdr, &data[0]); err != nil {
		return false
	}
	return data[bit/32].Effective&(1<<(bit%32)) != 0
}
