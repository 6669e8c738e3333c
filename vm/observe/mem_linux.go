//go:build linux

package observe

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// procMem reads a stopped tracee's memory through /proc/PID/mem, which
// (unlike process_vm_readv) also reads pages the tracee itself may not
// read: PROT_WRITE alone, PROT_NONE.
type procMem struct{ pid int }

func (m procMem) ReadAt(p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	f, err := os.Open("/proc/" + strconv.Itoa(m.pid) + "/mem")
	if err != nil {
		return 0, err
	}
	defer f.Close()
	n, err := f.ReadAt(p, int64(addr))
	if err != nil {
		return n, fmt.Errorf("read %d bytes at %#x of pid %d: %w", len(p), addr, m.pid, err)
	}
	return n, nil
}

// readv reads a tracee's memory with process_vm_readv: one system call,
// for the buffers of system calls, which the tracee can read.
func readv(pid int, p []byte, addr uint64) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	local := []unix.Iovec{{Base: &p[0]}}
	local[0].SetLen(len(p))
	remote := []unix.RemoteIovec{{Base: uintptr(addr), Len: len(p)}}
	n, err := unix.ProcessVMReadv(pid, local, remote, 0)
	if err != nil {
		return 0, fmt.Errorf("read %d bytes at %#x of pid %d: %w", len(p), addr, pid, os.NewSyscallError("process_vm_readv", err))
	}
	if n < len(p) {
		return n, fmt.Errorf("read %d bytes at %#x of pid %d: only %d readable", len(p), addr, pid, n)
	}
	return n, nil
}

// readBytes reads n bytes at addr, or nil.
func readBytes(pid int, addr uint64, n int) []byte {
	if addr == 0 || n <= 0 {
		return nil
	}
	b := make([]byte, n)
	got, _ := readv(pid, b, addr)
	return b[:got]
}

// readU64 reads a little-endian word at addr.
func readU64(pid int, addr uint64) (uint64, bool) {
	b := readBytes(pid, addr, 8)
	if len(b) < 8 {
		return 0, false
	}
	return binary.LittleEndian.Uint64(b), true
}

// readString reads a NUL-terminated string of at most max bytes at addr,
// a page at a time so that a string near the end of a mapping reads.
func readString(pid int, addr uint64, max int) string {
	if addr == 0 {
		return ""
	}
	var out []byte
	for len(out) < max {
		chunk := 4096 - int(addr%4096)
		chunk = min(chunk, max-len(out))
		b := readBytes(pid, addr, chunk)
		if i := bytes.IndexByte(b, 0); i >= 0 {
			return string(append(out, b[:i]...))
		}
		out = append(out, b...)
		if len(b) < chunk {
			break
		}
		addr += uint64(chunk)
	}
	return string(out)
}

// sigBlocked reads the blocked signals of thread tid of process tgid
// from /proc (SigBlk).
func sigBlocked(tgid, tid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(tgid) + "/task/" + strconv.Itoa(tid) + "/status")
	if err != nil {
		return 0, false
	}
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, "SigBlk:"); ok {
			m, err := strconv.ParseUint(strings.TrimSpace(v), 16, 64)
			return m, err == nil
		}
	}
	return 0, false
}

// loaderRange returns the addresses of the dynamic loader of process pid,
// stopped before its first instruction: then its only file mappings are
// the executable's and the loader's (the kernel maps both at execve), so
// the loader's are those of another file. Empty if it has none (a static
// program) or /proc cannot say.
func loaderRange(pid int) AddrRange {
	var exe unix.Stat_t
	if err := unix.Stat("/proc/"+strconv.Itoa(pid)+"/exe", &exe); err != nil {
		return AddrRange{}
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/maps")
	if err != nil {
		return AddrRange{}
	}
	var r AddrRange
	for _, line := range strings.Split(string(b), "\n") {
		// start-end perms offset dev inode path
		f := strings.Fields(line)
		if len(f) < 6 || strings.HasPrefix(f[5], "[") {
			continue // anonymous, the stack, the vDSO
		}
		if ino, err := strconv.ParseUint(f[4], 10, 64); err != nil || ino == 0 || ino == exe.Ino {
			continue
		}
		lo, hi, ok := strings.Cut(f[0], "-")
		start, err1 := strconv.ParseUint(lo, 16, 64)
		end, err2 := strconv.ParseUint(hi, 16, 64)
		if !ok || err1 != nil || err2 != nil {
			continue
		}
		if r.End == 0 || start < r.Start {
			r.Start = start
		}
		r.End = max(r.End, end)
	}
	return r
}
