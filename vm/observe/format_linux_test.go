//go:build linux

package observe

import (
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestFormatSyscall(t *testing.T) {
	enosys := -int64(syscall.EINVAL)
	act := &Sigaction{Handler: 0x401196, Flags: SASiginfo | SARestorer, Restorer: 0x7f0000001000, Mask: 1<<(syscall.SIGBUS-1) | 1<<(syscall.SIGSEGV-1)}
	set := uint64(1 << (syscall.SIGSEGV - 1))
	exited := WaitStatus(7 << 8)
	tests := []struct {
		name string
		sc   Syscall
		want string
	}{
		{"mmap of a PROT_NONE page", Syscall{Name: "mmap", Args: [6]uint64{0, 4096, 0, 0x22, ^uint64(0), 0}, Ret: 0x7f0000002000, Done: true},
			"mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = 0x7f0000002000"},
		{"mmap of a file, shared", Syscall{Name: "mmap", Args: [6]uint64{0, 8192, 3, 1, 3, 0}, Ret: 0x7f0000002000, Done: true},
			"mmap(NULL, 8192, PROT_READ|PROT_WRITE, MAP_SHARED, 3, 0) = 0x7f0000002000"},
		{"a failed mprotect says its errno", Syscall{Name: "mprotect", Args: [6]uint64{0x7f0000002001, 4096, 3}, Ret: enosys, Done: true},
			"mprotect(0x7f0000002001, 4096, PROT_READ|PROT_WRITE) = -1 EINVAL (invalid argument)"},
		{"write shows its data", Syscall{Name: "write", Args: [6]uint64{1, 0x1000, 4}, Data: []byte("c\nd\n"), Ret: 4, Done: true},
			`write(1, "c\nd\n", 4) = 4`},
		{"long data is cut", Syscall{Name: "write", Args: [6]uint64{3, 0x1000, 8192}, Data: make([]byte, 40), Ret: 8192, Done: true},
			`write(3, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"..., 8192) = 8192`},
		{"rt_sigaction shows the action", Syscall{Name: "rt_sigaction", Args: [6]uint64{11, 0x1000, 0, 8}, Action: act, Done: true},
			"rt_sigaction(SIGSEGV, {sa_handler=0x401196, sa_mask=[BUS SEGV], sa_flags=SA_SIGINFO|SA_RESTORER, sa_restorer=0x7f0000001000}, NULL, 8) = 0"},
		{"rt_sigprocmask shows the set", Syscall{Name: "rt_sigprocmask", Args: [6]uint64{2, 0x1000, 0, 8}, Set: &set, Done: true},
			"rt_sigprocmask(SIG_SETMASK, [SEGV], NULL, 8) = 0"},
		{"wait4 shows the status", Syscall{Name: "wait4", Args: [6]uint64{^uint64(0), 0x1000, 0, 0}, Status: &exited, Ret: 42, Done: true},
			"wait4(-1, [{WIFEXITED(s) && WEXITSTATUS(s) == 7}], 0, NULL) = 42"},
		{"openat with O_CREAT shows the mode", Syscall{Name: "openat", Args: [6]uint64{uint64(0xffffff9c), 0x1000, 0x241, 0o644}, Path: "file", Ret: 3, Done: true},
			`openat(AT_FDCWD, "file", O_WRONLY|O_CREAT|O_TRUNC, 0644) = 3`},
		{"lseek", Syscall{Name: "lseek", Args: [6]uint64{4, 4095, 0}, Ret: 4095, Done: true}, "lseek(4, 4095, SEEK_SET) = 4095"},
		{"exit_group never returns", Syscall{Name: "exit_group", Args: [6]uint64{0}}, "exit_group(0) = ?"},
		{"an unknown call prints raw arguments", Syscall{Name: "syscall_999", Args: [6]uint64{1, 2, 3, 4, 5, 6}, Ret: 0, Done: true},
			"syscall_999(0x1, 0x2, 0x3, 0x4, 0x5, 0x6) = 0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.sc.String()) })
	}
}

func TestFormatSignal(t *testing.T) {
	tests := []struct {
		name string
		s    Signal
		want string
	}{
		{"a write fault delivered to a handler", Signal{Signo: syscall.SIGSEGV, Code: 2, Addr: 0x7f0000002000, Handler: 0x401196, Access: Access{Known: true, Code: 6}},
			"--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_ACCERR, si_addr=0x7f0000002000} --- (write access; to the handler at 0x401196)"},
		{"SIGBUS past the end of a file", Signal{Signo: syscall.SIGBUS, Code: 2, Addr: 0x7f0000003000},
			"--- SIGBUS {si_signo=SIGBUS, si_code=BUS_ADRERR, si_addr=0x7f0000003000} ---"},
		{"a signal sent by a process", Signal{Signo: syscall.SIGSEGV, Code: -6, SenderPID: 42},
			"--- SIGSEGV {si_signo=SIGSEGV, si_code=SI_TKILL, si_pid=42, si_uid=0} ---"},
		{"a fault with the signal blocked", Signal{Signo: syscall.SIGSEGV, Code: 1, Addr: 0x1000, Blocked: true},
			"--- SIGSEGV {si_signo=SIGSEGV, si_code=SEGV_MAPERR, si_addr=0x1000} --- (blocked)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { assert.Equal(t, tt.want, tt.s.String()) })
	}
	assert.True(t, (&Signal{Signo: syscall.SIGSEGV, Code: 2}).IsFault())
	assert.False(t, (&Signal{Signo: syscall.SIGSEGV, Code: -6}).IsFault(), "tgkill is not a fault")
	assert.False(t, (&Signal{Signo: syscall.SIGSEGV, Code: 0x80}).IsFault(), "SI_KERNEL is not a page fault")
	assert.False(t, (&Signal{Signo: syscall.SIGCHLD, Code: 1}).IsFault())
}

func TestExitAndWaitStatus(t *testing.T) {
	assert.Equal(t, "+++ exited with 0 +++", (&Exit{}).String())
	assert.Equal(t, "+++ killed by SIGSEGV (core dumped) +++", (&Exit{Signaled: true, Signal: syscall.SIGSEGV, Core: true}).String())
	assert.Equal(t, "+++ killed by vmsim (SIGKILL) +++", (&Exit{Signaled: true, Signal: syscall.SIGKILL, ByTracer: true}).String())
	assert.True(t, (&Exit{}).OK())
	assert.False(t, (&Exit{Code: 1}).OK())
	assert.False(t, (*Exit)(nil).OK())
	ws := WaitStatus(syscall.SIGBUS)
	assert.True(t, ws.Signaled())
	assert.Equal(t, "[{WIFSIGNALED(s) && WTERMSIG(s) == SIGBUS}]", ws.String())
}
