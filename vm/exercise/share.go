package exercise

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"

	"vmsim/vm"
	"vmsim/vm/arch"
)

// The two-process exercises (shared-file, shared-anon) share one scenario,
// the course's: a parent maps two pages filled with 'a'; a second process
// maps the same memory and waits; the parent fills page 2 with 'b' and lets
// the second process go; it prints the first bytes of pages 1 and 2 and
// fills page 1 with 'c'; the parent waits for it and prints page 1. What
// differs is the memory (a file, or a memfd) and how the two processes meet
// (a child started with pipes, or a peer started by hand that meets the
// parent at a FIFO).

// Errors of the two-process exercises.
var (
	// ErrNotWaiting is matched by the error of a peer started when no
	// parent is waiting for it.
	ErrNotWaiting = errors.New("no parent process is waiting")
	// ErrSecondProcess is matched by the parent's error when the child or
	// peer failed, or ended before it finished the scenario.
	ErrSecondProcess = errors.New("the second process did not finish")
	// ErrNoSpawner is returned when a child must be started and
	// ShareOptions.Spawn is nil.
	ErrNoSpawner = errors.New("no way to start the child process (ShareOptions.Spawn is nil)")
)

// Spawner returns the command that runs the second process of an exercise:
// this same program, started so that it calls [RunChild] with args. Go
// cannot fork (a forked Go runtime would lose its other threads), so the
// second process is a new run of the program, and the exercise passes it
// what fork would have inherited: descriptors, through exec.Cmd.ExtraFiles.
// The exercise sets ExtraFiles, Stdout and Stderr; the Spawner sets the
// rest.
type Spawner func(args []string) (*exec.Cmd, error)

// ShareOptions configure [SharedFile] and [SharedAnon]. A nil *ShareOptions
// is valid only with a peer-waiting SharedFile; every other run needs Spawn.
type ShareOptions struct {
	// Private maps the memory MAP_PRIVATE in both processes instead of
	// MAP_SHARED: neither sees the other's writes.
	Private bool
	// Spawn starts the child process.
	Spawn Spawner
	// File, for SharedFile only, is the file to create; the exercise then
	// waits for a peer started by hand ([SharedFilePeer] on the same file)
	// instead of starting a child. Empty means a temporary file and a
	// spawned child.
	File string
}

// pages is the size of the shared memory of the scenario, in pages.
const pages = 2

// peekLen is how many bytes of a page the processes print.
const peekLen = 10

func mapFlags(private bool) string {
	if private {
		return "MAP_PRIVATE"
	}
	return "MAP_SHARED"
}

// mapTwoPages maps f read-write, shared or private.
func mapTwoPages(f *os.File, private bool) (*vm.Region, error) {
	return vm.NewFile(f, pages, &vm.FileOptions{Shared: !private, Options: vm.Options{Prot: arch.ProtReadWrite}})
}

// fillFile writes n bytes of c to f at offset 0, with ordinary writes, as
// the C program does before it maps the file.
func fillFile(f *os.File, n int, c byte) error {
	_, err := f.WriteAt(bytes.Repeat([]byte{c}, n), 0)
	return err
}

// report is what the second process saw, parsed from its lines.
type report struct {
	mapping      string // "MAP_SHARED" or "MAP_PRIVATE"
	page1, page2 string
	// finished is set by the last line, "exit"; failed by an "error:" line.
	finished, failed bool
	// vmsim is set by any line in vmsim's words; foreign by the parent
	// for a peer that sent none: any other program.
	vmsim, foreign bool
}

func parseReport(lines []string) report {
	var rep report
	for _, l := range lines {
		known := true
		switch {
		case strings.HasPrefix(l, "mmap("):
			rep.mapping = "MAP_SHARED"
			if strings.Contains(l, "MAP_PRIVATE") {
				rep.mapping = "MAP_PRIVATE"
			}
		case strings.HasPrefix(l, "page 1: "):
			rep.page1 = strings.TrimPrefix(l, "page 1: ")
		case strings.HasPrefix(l, "page 2: "):
			rep.page2 = strings.TrimPrefix(l, "page 2: ")
		case l == "exit":
			rep.finished = true
		case strings.HasPrefix(l, "error: "):
			rep.failed = true
		case strings.HasPrefix(l, "fill page 1"):
		default:
			known = false
		}
		rep.vmsim = rep.vmsim || known
	}
	return rep
}

// mixed reports whether the second process mapped the memory the other
// way than the parent (private says how the parent did).
func (r report) mixed(private bool) bool {
	return !r.foreign && r.mapping != "" && r.mapping != mapFlags(private)
}

// outcome is what one run of the scenario showed.
type outcome struct {
	private bool
	// anyProcess is set when the second process was started by hand.
	anyProcess bool
	peer       report
	parent1    string // what the parent read on page 1 at the end
	content    []byte // the memory's content, read back with ordinary reads
	pageSize   int
}

// runParent is the parent's side of the scenario on the memory f, already
// filled with 'a'. It prints each step, reads f back after unmapping, and
// returns what it saw.
func runParent(ctx context.Context, w io.Writer, f *os.File, private bool, l link) (*outcome, error) {
	ps := int(arch.SystemPageSize())
	r, err := mapTwoPages(f, private)
	if err != nil {
		return nil, err
	}
	unmapped := false
	defer func() {
		if !unmapped {
			r.Unmap()
		}
	}()
	fmt.Fprintf(w, "p = mmap(NULL, %d, PROT_READ|PROT_WRITE, %s, fd, 0) = %v\n", pages*ps, mapFlags(private), r.Range().Start)
	if err := l.fork(ctx); err != nil {
		return nil, err
	}
	fmt.Fprintln(w, "parent: fill page 2 with 'b'")
	if err := fill(r, 1, 'b'); err != nil {
		return nil, err
	}
	lines, err := l.await(ctx)
	for _, line := range lines {
		fmt.Fprintf(w, "%s: %s\n", l.who(), line)
	}
	if err != nil {
		return nil, err
	}
	o := &outcome{private: private, anyProcess: l.anyProcess(), peer: parseReport(lines), pageSize: ps}
	if o.peer.failed {
		return nil, fmt.Errorf("%w: the %s failed (see its error above)", ErrSecondProcess, l.who())
	}
	if !o.peer.finished {
		if !l.anyProcess() || o.peer.vmsim {
			return nil, fmt.Errorf("%w: the %s ended before it finished: its report has no \"exit\" line", ErrSecondProcess, l.who())
		}
		// Any process may be the peer: one that is not vmsim reports
		// nothing, and what it did shows in the parent's page 1 and in
		// the file.
		o.peer.foreign = true
		fmt.Fprintf(w, "%s: (no report: the peer is not vmsim; the parent goes on with what it sees and what the file holds)\n", l.who())
	}
	if o.parent1, err = peek(r, 0, peekLen); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "parent: page 1: %s\n", o.parent1)
	unmapped = true
	if err := r.Unmap(); err != nil {
		return nil, err
	}
	fmt.Fprintf(w, "munmap(p, %d)\n", pages*ps)
	o.content = make([]byte, pages*ps)
	if _, err := f.ReadAt(o.content, 0); err != nil {
		return nil, fmt.Errorf("read back: %w", err)
	}
	return o, nil
}

// check prints and checks what the course says the scenario shows: with
// MAP_SHARED every write is seen by the other process and reaches the
// memory; with MAP_PRIVATE none is. A peer started by hand may map it the
// other way (a lesson: what each process sees is checked), or be another
// program that sends no report (what the parent sees and the file holds
// are checked).
func (o *outcome) check(c *checker, who, memory string) {
	ps := o.pageSize
	page1, page2 := o.content[:ps], o.content[ps:]
	fmt.Fprintf(c.w, "%s: page 1: %s\n", memory, describe(page1))
	fmt.Fprintf(c.w, "%s: page 2: %s\n", memory, describe(page2))
	a := strings.Repeat("a", peekLen)
	b, cc := strings.Repeat("b", peekLen), strings.Repeat("c", peekLen)
	switch {
	case o.peer.foreign && o.private:
		c.expect(memory+" page 2 keeps its 'a's: the parent's 'b' is in its private copy", AllBytes(page2, 'a'), "%s", describe(page2))
		return
	case o.peer.foreign:
		c.expect("the parent saw the "+who+"'s 'c' on page 1", o.parent1 == cc, "%q", o.parent1)
		c.expect(memory+" page 1 is all 'c'", AllBytes(page1, 'c'), "%s", describe(page1))
		c.expect(memory+" page 2 is all 'b'", AllBytes(page2, 'b'), "%s", describe(page2))
		return
	case o.anyProcess && o.peer.mixed(o.private) && !o.private:
		fmt.Fprintf(c.w, "lesson: the %s mapped it MAP_PRIVATE, the parent MAP_SHARED: each sees what the kernel shows it\n", who)
		c.expect("the "+who+" read 'a' on page 1", o.peer.page1 == a, "%q", o.peer.page1)
		c.expect("the "+who+" saw the parent's 'b' on page 2: a private page reads the file until it is written", o.peer.page2 == b, "%q", o.peer.page2)
		c.expect("the parent did not see the "+who+"'s 'c': it is in the "+who+"'s private copy", o.parent1 == a, "%q", o.parent1)
		c.expect(memory+" page 1 keeps its 'a's", AllBytes(page1, 'a'), "%s", describe(page1))
		c.expect(memory+" page 2 is all 'b'", AllBytes(page2, 'b'), "%s", describe(page2))
		return
	case o.anyProcess && o.peer.mixed(o.private):
		fmt.Fprintf(c.w, "lesson: the %s mapped it MAP_SHARED, the parent MAP_PRIVATE: each sees what the kernel shows it\n", who)
		c.expect("the "+who+" read 'a' on page 1", o.peer.page1 == a, "%q", o.peer.page1)
		c.expect("the "+who+" did not see the parent's 'b': it is in the parent's private copy", o.peer.page2 == a, "%q", o.peer.page2)
		c.expect("the parent saw the "+who+"'s 'c' on page 1: a private page reads the file until it is written", o.parent1 == cc, "%q", o.parent1)
		c.expect(memory+" page 1 is all 'c'", AllBytes(page1, 'c'), "%s", describe(page1))
		c.expect(memory+" page 2 keeps its 'a's", AllBytes(page2, 'a'), "%s", describe(page2))
		return
	}
	want := mapFlags(o.private)
	same := o.peer.mapping == want
	hint := ""
	if !same {
		hint = fmt.Sprintf(", want %s: start both with the same --private", want)
	}
	c.expect("the "+who+" mapped it the same way", same, "%s%s", o.peer.mapping, hint)
	c.expect("the "+who+" read 'a' on page 1", o.peer.page1 == a, "%q", o.peer.page1)
	if o.private {
		c.expect("the "+who+" did not see the parent's 'b' on page 2", o.peer.page2 == a, "%q", o.peer.page2)
		c.expect("the parent did not see the "+who+"'s 'c' on page 1", o.parent1 == a, "%q", o.parent1)
		c.expect(memory+" keeps its 'a's", AllBytes(o.content, 'a'), "%s", describe(o.content))
		return
	}
	c.expect("the "+who+" saw the parent's 'b' on page 2", o.peer.page2 == strings.Repeat("b", peekLen), "%q", o.peer.page2)
	c.expect("the parent saw the "+who+"'s 'c' on page 1", o.parent1 == strings.Repeat("c", peekLen), "%q", o.parent1)
	c.expect(memory+" page 1 is all 'c'", AllBytes(page1, 'c'), "%s", describe(page1))
	c.expect(memory+" page 2 is all 'b'", AllBytes(page2, 'b'), "%s", describe(page2))
}

// runSecond is the second process's side of the scenario on the memory f:
// map it, wait for the parent, print pages 1 and 2, fill page 1 with 'c'.
// Its lines go to w, which the parent reads.
func runSecond(w io.Writer, f *os.File, private bool, wait func() error) error {
	r, err := mapTwoPages(f, private)
	if err != nil {
		return err
	}
	defer r.Unmap()
	fmt.Fprintf(w, "mmap(NULL, %d, PROT_READ|PROT_WRITE, %s, fd, 0) = %v\n", r.Range().Length(), mapFlags(private), r.Range().Start)
	if wait != nil {
		if err := wait(); err != nil {
			return err
		}
	}
	for p := range arch.PageNum(pages) {
		s, err := peek(r, p, peekLen)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "page %d: %s\n", p+1, s)
	}
	fmt.Fprintln(w, "fill page 1 with 'c'")
	if err := fill(r, 0, 'c'); err != nil {
		return err
	}
	fmt.Fprintln(w, "exit")
	return nil
}
