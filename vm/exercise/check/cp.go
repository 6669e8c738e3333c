package check

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"vmsim/vm/exercise"
	"vmsim/vm/observe"
)

// The cp exercise: cp SRC DST built on mmap. The grader runs the program
// on a corpus of its own, one run per case, and compares what it leaves
// with what a real cp would; on the largest case it also looks at how the
// program copies.
var cpExercise = &Exercise{
	Name:    "cp",
	Summary: "cp SRC DST built on mmap, run on a corpus of edge cases",
	grade:   gradeCp,
}

// cpCase is one run of the corpus.
type cpCase struct {
	check, catches string
	// args are the program's arguments, relative to its directory.
	args []string
	// source is the content of src, if the case has one; sparse makes
	// it a file with a hole of that many bytes first.
	source func(ps int) []byte
	sparse int
	// expect is what a real cp does.
	expect cpExpect
	// realCp says it, for a student.
	realCp string
}

type cpExpect uint8

const (
	// expectCopy: DST is a byte-for-byte copy, exit status 0.
	expectCopy cpExpect = iota
	// expectFailNoDst: a failure status, and no DST.
	expectFailNoDst
	// expectSourceKept: SRC unchanged (and a failure status).
	expectSourceKept
)

// bigCase is the case whose run shows how the program copies.
const bigCase = 4

var cpCases = []cpCase{
	{check: "copies an empty file", catches: "mmap of length 0, which fails with EINVAL: a cp that gives up on an empty source", args: []string{"src", "dst"},
		source: func(int) []byte { return []byte{} }, realCp: "A real cp creates an empty DST and exits with status 0 (mmap(..., 0, ...) fails with EINVAL: an empty file must be copied without mapping it)."},
	{check: "copies 1 byte", catches: "a copy of the wrong length (rounded to a page, or off by one)", args: []string{"src", "dst"},
		source: func(int) []byte { return []byte("x") }, realCp: "A real cp makes a DST of 1 byte, the same byte."},
	{check: "copies exactly one page", catches: "a copy that stops short of, or runs past, a page boundary", args: []string{"src", "dst"},
		source: func(ps int) []byte { return pattern(ps, 1) }, realCp: "A real cp makes a DST of one page, byte for byte."},
	{check: "copies one page and 1 byte", catches: "a copy that forgets the last, partial page", args: []string{"src", "dst"},
		source: func(ps int) []byte { return pattern(ps+1, 2) }, realCp: "A real cp makes a DST of one page and one byte, byte for byte."},
	{check: "copies 4 MiB of random bytes", catches: "a copy that is not byte for byte (random data has every byte value, NUL included)", args: []string{"src", "dst"},
		source: func(int) []byte { return random(4<<20+3, 42) }, realCp: "A real cp makes a DST of the same size, byte for byte."},
	{check: "copies a sparse file", catches: "a copy of a file with a hole (the hole reads as zeros)", args: []string{"src", "dst"},
		source: func(int) []byte { return []byte("the end of a sparse file\n") }, sparse: 1 << 20, realCp: "A real cp makes a DST that reads the same: the hole as zeros, then the data."},
	{check: "fails on a missing source", catches: "a cp that does not check open's result, or creates DST anyway", args: []string{"missing", "dst"},
		expect: expectFailNoDst, realCp: "A real cp says \"cannot stat 'missing': No such file or directory\", creates nothing and exits with status 1."},
	{check: "fails on an unwritable destination directory", catches: "a cp that ignores a failed open of DST and maps or writes anyway", args: []string{"src", "ro/dst"},
		source: func(int) []byte { return []byte("data\n") }, expect: expectFailNoDst, realCp: "A real cp says \"cannot create regular file 'ro/dst': Permission denied\" and exits with status 1."},
	{check: "refuses source = destination", catches: "a cp that opens DST with O_TRUNC first and destroys the source", args: []string{"src", "src"},
		source: func(int) []byte { return []byte("copy me onto myself\n") }, expect: expectSourceKept, realCp: "A real cp compares device and inode, says \"'src' and 'src' are the same file\", leaves the file alone and exits with status 1."},
}

// The checks of how the program copies, decided on the run of bigCase.
var cpHowChecks = []Check{
	{"maps the source", "a cp that never maps SRC", cpMapsSource},
	{"maps the destination MAP_SHARED with PROT_WRITE", "MAP_PRIVATE (the writes never reach the file), a read-only mapping, a DST opened O_WRONLY (mmap fails with EACCES)", cpMapsDest},
	{"copies through memory", "a cp built on read and write instead of mmap (the bytes moved by system calls are counted)", cpThroughMemory},
	{"sizes the destination before writing it", "a DST mapped while still empty: writing to it raises SIGBUS", cpSizes},
}

func init() {
	for i := range cpCases {
		c := &cpCases[i]
		cpExercise.Checks = append(cpExercise.Checks, Check{Name: c.check, Catches: c.catches, eval: c.eval})
	}
	cpExercise.Checks = append(cpExercise.Checks, cpHowChecks...)
}

// pattern returns n bytes that differ from page to page.
func pattern(n int, seed byte) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('a' + (i/7+int(seed))%26)
	}
	return b
}

// random returns n random bytes, the same for the same seed.
func random(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	b := make([]byte, n)
	for i := 0; i < n; i += 8 {
		v := r.Uint64()
		for j := 0; j < 8 && i+j < n; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return b
}

// content is the whole source of a case, the hole included.
func (c *cpCase) content(ps int) []byte {
	if c.source == nil {
		return nil
	}
	return append(make([]byte, c.sparse), c.source(ps)...)
}

func (c *cpCase) setup(ps int) func(dir string) error {
	return func(dir string) error {
		if c.source != nil {
			f, err := os.OpenFile(filepath.Join(dir, "src"), os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
			if err != nil {
				return err
			}
			_, err = f.WriteAt(c.source(ps), int64(c.sparse))
			if cerr := f.Close(); err == nil {
				err = cerr
			}
			if err != nil {
				return err
			}
		}
		if c.args[1] == "ro/dst" {
			return os.Mkdir(filepath.Join(dir, "ro"), 0o555)
		}
		return nil
	}
}

func gradeCp(ctx context.Context, ex *Exercise, exe string, o *Options) ([]Result, *observe.Trace, error) {
	ps := os.Getpagesize()
	var results []Result
	var big *run
	for i := range cpCases {
		c := &cpCases[i]
		oo := *o
		if i != bigCase {
			oo.Kernel = nil
		}
		r, err := runProgram(ctx, exe, c.args, &oo, &hooks{setup: c.setup(ps), files: []string{"src", "dst", "ro/dst"}})
		if err != nil {
			return nil, nil, err
		}
		r.cp = c
		results = append(results, evaluate(ex.Checks[i], r))
		if i == bigCase {
			big = r
		}
	}
	for _, c := range cpHowChecks {
		results = append(results, evaluate(c, big))
	}
	if o.Kernel != nil {
		results = append(results, kernelCheck(big))
	}
	return results, big.t, nil
}

// eval decides a case from its run.
func (c *cpCase) eval(r *run) Result {
	ps := int(r.ps)
	want := c.content(ps)
	exit := r.exitEvent(r.t.PID)
	ok := exit != nil && exit.Exit.OK()
	did := r.cpDid()
	ev := r.cpEvidence()
	if r.t.Stopped != nil {
		return Result{Status: Failed, Evidence: append(ev, r.stopEvidence()...), Explanation: c.realCp + " " + stopText(r.t.Stopped)}
	}
	switch c.expect {
	case expectCopy:
		got, exists := r.files["dst"]
		switch {
		case !exists:
			return Result{Status: Failed, Evidence: ev, Explanation: c.realCp + " The program " + did + " and left no DST."}
		case !bytes.Equal(got, want):
			ev = append(ev, "dst: "+compareBytes(got, want))
			return Result{Status: Failed, Evidence: ev, Explanation: c.realCp + " The program " + did + ", and DST differs: " + compareBytes(got, want) + "."}
		case !ok:
			return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("%s DST is right (%d bytes), but the program %s: a script that runs it would believe the copy failed.", c.realCp, len(want), did)}
		}
		return Result{Status: OK, Evidence: ev, Explanation: fmt.Sprintf("DST is a copy of SRC, %d bytes, byte for byte, and the exit status is 0.", len(want))}
	case expectFailNoDst:
		dst := c.args[1]
		_, exists := r.files[dst]
		switch {
		case ok:
			return Result{Status: Failed, Evidence: ev, Explanation: c.realCp + " The program exited with status 0: a script that runs it would believe the copy was made."}
		case exists:
			return Result{Status: Failed, Evidence: ev, Explanation: c.realCp + " The program failed but left a " + dst + " behind."}
		}
		return Result{Status: OK, Evidence: ev, Explanation: "The program fails (status " + exitWord(exit) + ") and creates nothing, as a real cp does."}
	}
	// expectSourceKept
	got, exists := r.files["src"]
	switch {
	case !exists || !bytes.Equal(got, want):
		desc := "is gone"
		if exists {
			desc = "now holds " + describe(got)
		}
		return Result{Status: Failed, Evidence: ev, Explanation: c.realCp + " The program destroyed the file: it " + desc + " instead of " + fmt.Sprintf("%d bytes", len(want)) + ". Opening DST with O_TRUNC emptied SRC before it was read; compare the two files' device and inode (stat) before opening DST."}
	case ok:
		return Result{Status: Warning, Evidence: ev, Explanation: c.realCp + " The program left the file intact but exited with status 0."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The program leaves the file intact and fails, as a real cp does."}
}

func exitWord(ev *observe.Event) string {
	if ev == nil {
		return "unknown"
	}
	if ev.Exit.Signaled {
		return "killed by " + observe.SignalName(ev.Exit.Signal)
	}
	return fmt.Sprint(ev.Exit.Code)
}

// cpDid says in words what the program did: its exit and the first call
// on SRC or DST that failed, or its crash.
func (r *run) cpDid() string {
	exit := r.exitEvent(r.t.PID)
	var parts []string
	if f := r.cpFailedCall(); f != nil {
		parts = append(parts, "got "+f.Syscall.String())
	}
	if s := r.lastSignal(r.t.PID); s != nil && s.Signal.IsFault() {
		parts = append(parts, fmt.Sprintf("was killed by %s at %#x (%s)", observe.SignalName(s.Signal.Signo), s.Signal.Addr, s.Signal.CodeName()))
	} else if exit != nil {
		if exit.Exit.Signaled {
			parts = append(parts, "was killed by "+observe.SignalName(exit.Exit.Signal))
		} else {
			parts = append(parts, fmt.Sprintf("exited with status %d", exit.Exit.Code))
		}
	}
	return strings.Join(parts, " and ")
}

// cpFailedCall returns the first failed call of the first process on a
// path of the corpus (open, mmap, ftruncate, ...), or nil.
func (r *run) cpFailedCall() *observe.Event {
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		sc := e.Syscall
		if !sc.Done || sc.OK() {
			continue
		}
		switch sc.Name {
		case "open", "openat", "creat":
			if p := clean(r.t.Dir, sc.Path); p == "src" || p == "dst" || p == "missing" || p == "ro/dst" {
				return e
			}
		case "mmap", "ftruncate", "lseek", "write", "read", "msync", "fallocate":
			if p := r.pathOf(e); p != "" || sc.Name == "mmap" {
				if sc.Name == "mmap" && p == "" && sc.Args[3]&mapAnonymous != 0 {
					continue
				}
				return e
			}
		}
	}
	return nil
}

// cpEvidence is the evidence of a case: the calls on the corpus's files
// that matter, the crash, the exit, the first line of stderr.
func (r *run) cpEvidence() []string {
	var out []string
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		sc := e.Syscall
		p := r.pathOf(e)
		switch sc.Name {
		case "open", "openat", "creat":
			p = clean(r.t.Dir, sc.Path)
		case "mmap", "ftruncate", "lseek", "msync", "fallocate":
		case "write", "read":
			if sc.OK() {
				continue // the data moved is the business of another check
			}
		default:
			continue
		}
		if p == "src" || p == "dst" || p == "missing" || p == "ro/dst" || (sc.Name == "mmap" && !sc.OK()) {
			out = append(out, line(e))
		}
	}
	if len(out) > 8 {
		out = append(out[:8], fmt.Sprintf("... and %d more", len(out)-8))
	}
	if s := r.lastSignal(r.t.PID); s != nil && s.Signal.IsFault() {
		out = append(out, line(s))
	}
	if ex := r.exitEvent(r.t.PID); ex != nil {
		out = append(out, line(ex))
	}
	if errOut := strings.TrimSpace(r.t.Stderr.String()); errOut != "" {
		first, _, _ := strings.Cut(errOut, "\n")
		out = append(out, "stderr: "+truncate(first, 100))
	}
	return out
}

// compareBytes says how got differs from want.
func compareBytes(got, want []byte) string {
	if len(got) != len(want) {
		return fmt.Sprintf("%d bytes, want %d", len(got), len(want))
	}
	for i := range got {
		if got[i] != want[i] {
			return fmt.Sprintf("%d bytes as it should, but byte %d is %s, want %s", len(got), i, exercise.QuoteByte(got[i]), exercise.QuoteByte(want[i]))
		}
	}
	return "the same"
}

// mapsOf returns the successful mmaps of the first process of path.
func (r *run) mapsOf(path string) []*observe.Event {
	var out []*observe.Event
	for _, e := range r.t.Syscalls(r.t.PID, "mmap") {
		if r.pathOf(e) == path {
			out = append(out, e)
		}
	}
	return out
}

func cpMapsSource(r *run) Result {
	ms := r.mapsOf("src")
	for _, e := range ms {
		if e.Syscall.OK() && e.Syscall.Args[2]&protRead != 0 {
			return Result{Status: OK, Evidence: []string{line(e)}, Explanation: "SRC is mapped readable: its bytes are read through memory."}
		}
	}
	if len(ms) > 0 {
		return Result{Status: Failed, Evidence: lines(ms, 3), Explanation: fmt.Sprintf("The mmap of SRC failed: %s.", errnoText("mmap", ms[0].Syscall.Errno()))}
	}
	return Result{Status: Failed, Explanation: "SRC is never mapped (run on the 4 MiB case): a cp built on mmap maps it PROT_READ, MAP_PRIVATE or MAP_SHARED."}
}

func cpMapsDest(r *run) Result {
	ms := r.mapsOf("dst")
	for _, e := range ms {
		a := e.Syscall.Args
		if !e.Syscall.OK() {
			continue
		}
		switch {
		case a[3]&mapType != mapShared && a[3]&mapType != 0x3:
			return Result{Status: Failed, Evidence: []string{line(e)}, Explanation: "DST is mapped MAP_PRIVATE: writes to a private mapping go to copies of the pages in the process's own memory and never reach the file, which stays as ftruncate left it (zeros). Map it MAP_SHARED."}
		case a[2]&protWrite == 0:
			return Result{Status: Failed, Evidence: []string{line(e)}, Explanation: "DST is mapped without PROT_WRITE: the copy into it faults."}
		}
		return Result{Status: OK, Evidence: []string{line(e)}, Explanation: "DST is mapped MAP_SHARED with PROT_WRITE: what is stored in the mapping is stored in the file."}
	}
	if len(ms) > 0 {
		return Result{Status: Failed, Evidence: lines(ms, 3), Explanation: fmt.Sprintf("The mmap of DST failed: %s.", errnoText("mmap", ms[0].Syscall.Errno()))}
	}
	return Result{Status: Failed, Explanation: "DST is never mapped (run on the 4 MiB case): a cp built on mmap maps it PROT_READ|PROT_WRITE, MAP_SHARED, and copies into it."}
}

func cpThroughMemory(r *run) Result {
	size := uint64(len(r.cp.content(int(r.ps))))
	var moved uint64
	var ev []*observe.Event
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		sc := e.Syscall
		if !sc.OK() {
			continue
		}
		p := r.pathOf(e)
		switch sc.Name {
		case "read", "write", "pread64", "pwrite64", "readv", "writev":
			if p != "src" && p != "dst" {
				continue
			}
		case "sendfile", "copy_file_range", "splice":
		default:
			continue
		}
		moved += uint64(sc.Ret)
		ev = append(ev, e)
	}
	summary := fmt.Sprintf("%d of the %d bytes went through read, write and the like", moved, size)
	evidence := append(lines(ev, 3), summary)
	if moved > max(r.ps, size/16) {
		return Result{Status: Failed, Evidence: evidence, Explanation: fmt.Sprintf("The program moved %d bytes with system calls for a %d-byte file: it copies with read and write (or sendfile), not through memory. The exercise maps both files and copies with memcpy, with no system call per block.", moved, size)}
	}
	return Result{Status: OK, Evidence: evidence, Explanation: "Almost nothing went through read and write: the data was copied through the mappings."}
}

func cpSizes(r *run) Result {
	size := uint64(len(r.cp.content(int(r.ps))))
	dstMap := r.mapsOf("dst")
	limit := len(r.t.Events)
	if len(dstMap) > 0 {
		limit = dstMap[0].Seq
	}
	var ev []string
	var lseekAt *observe.Event
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		if e.Seq >= limit || r.pathOf(e) != "dst" || !e.Syscall.OK() {
			continue
		}
		sc := e.Syscall
		switch sc.Name {
		case "ftruncate", "fallocate":
			n := sc.Args[1]
			if sc.Name == "fallocate" {
				n = sc.Args[2] + sc.Args[3]
			}
			if n >= size {
				return Result{Status: OK, Evidence: []string{line(e)}, Explanation: fmt.Sprintf("DST is given its size with %s before it is mapped: the mapping has file behind every page.", sc.Name)}
			}
			ev = append(ev, line(e))
		case "lseek":
			if uint64(sc.Ret) == size-1 {
				lseekAt = e
			}
		case "write", "pwrite64":
			if lseekAt != nil && sc.Ret >= 1 {
				return Result{Status: OK, Evidence: []string{line(lseekAt), line(e)}, Explanation: "DST is given its size by an lseek to size-1 and a one-byte write, the course's way, before it is mapped."}
			}
		}
	}
	var bus *observe.Event
	for _, s := range r.faults(r.t.PID) {
		if s.Signal.Signo == 7 { // SIGBUS
			bus = s
		}
	}
	if len(dstMap) == 0 {
		if bus == nil {
			return Result{Status: OK, Evidence: ev, Explanation: "DST is not mapped, so there is nothing to size before mapping (see the mapping checks)."}
		}
	}
	if bus != nil {
		ev = append(ev, lines(dstMap, 1)...)
		ev = append(ev, line(bus))
		return Result{Status: Failed, Evidence: ev, Explanation: "DST was mapped while it was still empty, and the copy into it raised SIGBUS (BUS_ADRERR): a mapping of a file reaches only the pages the file has, and writing past its end is an error, not a way to extend it. Give DST its size first: ftruncate(out, size), or lseek(out, size - 1, SEEK_SET) and write one byte."}
	}
	return Result{Status: Failed, Evidence: append(ev, lines(dstMap, 1)...), Explanation: "DST is mapped before it is given its size (no ftruncate, no lseek and write): writing to the mapping past the end of the file raises SIGBUS."}
}
