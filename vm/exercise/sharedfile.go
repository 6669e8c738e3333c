package exercise

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"vmsim/vm/arch"
)

// SharedFile is the exercise where two processes map the same file: the
// parent creates a file of two pages of 'a' and maps it read-write
// (MAP_SHARED, or MAP_PRIVATE with opts.Private); a child maps it too and
// waits; the parent fills page 2 with 'b' and lets the child go; the child
// prints the first 10 bytes of pages 1 and 2 and fills page 1 with 'c'; the
// parent waits for the child and prints page 1. After unmapping, the file is
// read back with ordinary reads. The course expects, with MAP_SHARED, the
// child to print aaaaaaaaaa and bbbbbbbbbb, the parent cccccccccc, and the
// file to hold a page of 'c' then a page of 'b'; with MAP_PRIVATE nobody sees
// anybody's writes and the file keeps its 'a's.
//
// The child is started with opts.Spawn. With opts.File set, the exercise
// uses that file (created or truncated, like the C program's O_TRUNC) and
// waits instead for a peer started by hand: [SharedFilePeer] on the same
// file, in another process.
func SharedFile(ctx context.Context, w io.Writer, opts *ShareOptions) error {
	var o ShareOptions
	if opts != nil {
		o = *opts
	}
	path := o.File
	if path == "" {
		dir, err := os.MkdirTemp("", "vmsim-shared-file-")
		if err != nil {
			return err
		}
		defer os.RemoveAll(dir)
		path = filepath.Join(dir, "file")
	}
	ps := int(arch.SystemPageSize())
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	fmt.Fprintf(w, "fd = open(\"%s\", O_RDWR|O_CREAT|O_TRUNC, 0644)\n", path)
	if err := fillFile(f, pages*ps, 'a'); err != nil {
		return err
	}
	fmt.Fprintf(w, "write(fd, %d × 'a')\n", pages*ps)

	var l link
	if o.File == "" {
		args := []string{"shared-file", "--file", path}
		if o.Private {
			args = append(args, "--private")
		}
		l = &spawnLink{w: w, spawn: o.Spawn, args: args}
	} else {
		l = &fifoLink{w: w, file: path, private: o.Private}
	}
	defer l.close()
	out, err := runParent(ctx, w, f, o.Private, l)
	if err != nil {
		return fmt.Errorf("exercise shared-file: %w", err)
	}
	fmt.Fprintf(w, "pread(fd, buf, %d, 0): the file as read(2) sees it, after munmap\n", pages*ps)
	c := &checker{w: w}
	out.check(c, l.who(), "file")

	anyProcess := "Yes: the sharing comes from the file, not from fork. Any process that maps the same file MAP_SHARED sees and makes the same changes. Try it: " + unbroken("vmsim exercise shared-file --file /tmp/f") + " in one terminal, " + unbroken("vmsim exercise shared-file --peer /tmp/f") + " in another."
	if o.File != "" {
		anyProcess = "Yes, and this run shows it: the peer was started by hand, is no child of this process, and found the file by its path. The sharing comes from the file, not from fork."
	}
	other := unbroken("vmsim exercise shared-file --file /tmp/f") + " in one terminal, " + unbroken("vmsim exercise shared-file --peer /tmp/f") + " in another"
	page1, page2 := describe(out.content[:ps]), describe(out.content[ps:])
	switch {
	case out.peer.foreign:
		mode := "MAP_SHARED: a peer that maps the file MAP_SHARED and writes 'c' to page 1 shows in the parent's page 1 and in the file"
		if o.Private {
			mode = "MAP_PRIVATE: the parent's 'b' stayed in its own copy, and page 2 of the file keeps its 'a's; page 1 shows whatever the peer left in the file, since the parent never wrote it"
		}
		answers(w,
			answer{"What is displayed?", fmt.Sprintf("The peer is another program: it sent no report, so what it displayed is its own business. The parent displays %s for page 1.", out.parent1)},
			answer{"What does the file contain?", fmt.Sprintf("%s (page 1), %s (page 2).", page1, page2)},
			answer{"Can the child be any other process?", "Yes, and this run shows it: the peer is not even vmsim. It found the file by its path and the FIFO next to it; the parent maps the file " + mode + "."},
		)
		explainText(w,
			"The sharing is the file's, not vmsim's: whatever program maps the file MAP_SHARED reaches the same pages of the page cache, and its stores are in the parent's view of those pages and in the file at once.",
		)
		return c.err("shared-file")
	case out.peer.mixed(o.Private) && !o.Private:
		answers(w,
			answer{"What is displayed?", fmt.Sprintf("The peer displays %s and %s: its private mapping reads the file's pages until it writes them, so it sees the parent's 'b'. The parent displays %s for page 1: the peer's 'c' went to the peer's private copy.", out.peer.page1, out.peer.page2, out.parent1)},
			answer{"What does the file contain?", fmt.Sprintf("%s (page 1), %s (page 2): the parent's shared write reached the file, the peer's private one did not.", page1, page2)},
		)
		explainText(w,
			"The parent maps the file MAP_SHARED and the peer MAP_PRIVATE: a lesson, not a failure. A private mapping is copy on write: until the peer writes a page, it maps the file's own page, and so sees the parent's 'b' on page 2; its first write to page 1 copies that page into memory of its own, so its 'c' is seen by no one else and never reaches the file.",
		)
		return c.err("shared-file")
	case out.peer.mixed(o.Private):
		answers(w,
			answer{"What is displayed?", fmt.Sprintf("The peer displays %s and %s: the parent's 'b' is in the parent's private copy. The parent displays %s for page 1: it never wrote page 1, so its private mapping still reads the file's page, where the peer's shared 'c' is.", out.peer.page1, out.peer.page2, out.parent1)},
			answer{"What does the file contain?", fmt.Sprintf("%s (page 1), %s (page 2): the peer's shared write reached the file, the parent's private one did not.", page1, page2)},
		)
		explainText(w,
			"The parent maps the file MAP_PRIVATE and the peer MAP_SHARED: a lesson, not a failure. The parent's write to page 2 copied that page into memory of its own, so the peer and the file keep 'a' there; page 1, which the parent never wrote, is still the file's page in both mappings, so the parent sees the peer's 'c'.",
		)
		return c.err("shared-file")
	}
	if o.Private {
		answers(w,
			answer{"What is displayed?", fmt.Sprintf("The %s displays %s for page 1 and %s for page 2: the parent's 'b' went to the parent's private copy of page 2. The parent then displays %s for page 1: the %s's 'c' went to the %s's own copy.", l.who(), out.peer.page1, out.peer.page2, out.parent1, l.who(), l.who())},
			answer{"What does the file contain?", fmt.Sprintf("%s (page 1), %s (page 2): the file never changes. A MAP_PRIVATE write copies the page (copy on write) into memory of the process alone; msync does not write it back either.", describe(out.content[:ps]), describe(out.content[ps:]))},
			answer{"Can the child be any other process?", "It can be, but with MAP_PRIVATE there is nothing to share: each process sees the file as it was, plus its own writes. Try it: " + other + ", both with --private."},
			answer{"Can the same be done without a file?", "Yes, with MAP_SHARED: " + unbroken("vmsim exercise shared-anon") + ". " + unbroken("vmsim exercise shared-anon --private") + " shows the private anonymous case."},
		)
		explainText(w,
			"MAP_PRIVATE maps the file's pages copy-on-write: a process reads the page cache's page until it writes, and its first write to a page copies that page into anonymous memory of its own. The parent's 'b' and the child's 'c' are each in a private copy that the other process cannot see and that never goes back to the file, which keeps its 'a's.",
			"(A private page that a process has not written yet still shows the file: had someone written the file through a shared mapping or write(2), the process could see it. POSIX leaves that unspecified; Linux shows it.)",
		)
		return c.err("shared-file")
	}
	answers(w,
		answer{"What is displayed?", fmt.Sprintf("The %s displays %s for page 1 and %s for page 2: it sees the parent's 'b' at once, with no msync and no system call. The parent then displays %s for page 1: the %s's 'c'.", l.who(), out.peer.page1, out.peer.page2, out.parent1, l.who())},
		answer{"What does the file contain?", fmt.Sprintf("%s (page 1), %s (page 2): both processes' writes reached the file, as read(2) shows after munmap.", describe(out.content[:ps]), describe(out.content[ps:]))},
		answer{"Can the child be any other process?", anyProcess},
		answer{"Can the same be done without a file?", "Yes: shared anonymous memory, mapped MAP_SHARED|MAP_ANONYMOUS before fork, or a memfd passed to the other process: " + unbroken("vmsim exercise shared-anon") + "."},
	)
	explainText(w,
		"A MAP_SHARED mapping of a file maps the file's own pages in the page cache: the parent's mapping, the child's and read(2) all reach the same physical pages. A store by one process is visible to the other at once. msync is not what makes it visible; it only writes the pages to the disk.",
		"In C the child inherits the mapping through fork. Go cannot fork (the runtime's other threads would not follow), so vmsim starts itself again (os.Executable, in a hidden child mode) and the child maps the file by the path its parent gives it. The result is the same because the sharing is the file's, not the process tree's.",
		"Where the course sleeps, vmsim uses pipes passed with exec.Cmd.ExtraFiles: the child blocks reading one until the parent has written page 2, and the parent reads the child's report on the other until end of file, which comes when the child exits: that is the parent's wait(). The order is the same on every run.",
	)
	return c.err("shared-file")
}

// SharedFilePeer is the other process of [SharedFile] run with a File,
// started by hand in another terminal: it maps file by its path (MAP_SHARED,
// or MAP_PRIVATE if private), prints the first 10 bytes of pages 1 and 2,
// fills page 1 with 'c' and reports to the waiting parent through the FIFO
// file.peer. It fails with an error matching [ErrNotWaiting] if no parent is
// waiting on file.
func SharedFilePeer(ctx context.Context, w io.Writer, file string, private bool) error {
	fifo, err := openAsPeer(file)
	if err != nil {
		return fmt.Errorf("exercise shared-file --peer: %w", err)
	}
	defer fifo.Close()
	fmt.Fprintf(w, "open(\"%s\", O_WRONLY): a parent is waiting there\n", fifoPath(file))
	f, err := os.OpenFile(file, os.O_RDWR, 0)
	if err != nil {
		fmt.Fprintf(fifo, "error: %v\n", err)
		return fmt.Errorf("exercise shared-file --peer: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(w, "fd = open(\"%s\", O_RDWR)\n", file)
	var seen strings.Builder
	tee := io.MultiWriter(&prefixWriter{w: w, prefix: "peer: "}, fifo, &seen)
	if err := runSecond(tee, f, private, nil); err != nil {
		fmt.Fprintf(fifo, "error: %v\n", err)
		return fmt.Errorf("exercise shared-file --peer: %w", err)
	}
	if err := fifo.Close(); err != nil {
		return fmt.Errorf("exercise shared-file --peer: report to the parent: %w", err)
	}
	fmt.Fprintln(w, "close the FIFO: the parent reads end of file and goes on")
	rep := parseReport(splitLines([]byte(seen.String())))
	c := &checker{w: w}
	a, b := strings.Repeat("a", peekLen), strings.Repeat("b", peekLen)
	c.expect("page 1 is the parent's 'a'", rep.page1 == a, "%q", rep.page1)
	// The peer cannot know how the parent maps the file: page 2 says it.
	// 'b' is the parent's shared write; 'a' means the parent's 'b' is in
	// a private copy of its own.
	c.expect("page 2 is the parent's 'b' (a shared parent) or 'a' (a private one)", rep.page2 == a || rep.page2 == b, "%q", rep.page2)
	switch {
	case private && rep.page2 == b:
		explainText(w,
			"This process is no child of the parent: it found the file by its path and mapped it MAP_PRIVATE, while the parent maps it MAP_SHARED: a lesson, not a failure. A private mapping reads the file's pages until the process writes them, so this process sees the parent's 'b'; its own 'c' goes to a copy of its own, which the parent never sees and the file never gets.",
		)
	case private:
		explainText(w,
			"This process is no child of the parent: it found the file by its path and mapped it MAP_PRIVATE. It reads the file's pages, which still hold 'a' because the parent's 'b' went to the parent's private copy, and its own 'c' goes to a copy of its own. The parent prints what it sees and checks the file.",
		)
	case rep.page2 == a:
		explainText(w,
			"This process is no child of the parent: it found the file by its path and mapped it MAP_SHARED, while the parent maps it MAP_PRIVATE: a lesson, not a failure. The parent's 'b' is in the parent's private copy, so page 2 of the file, which this process maps, still holds 'a'; this process's 'c' reaches the file, and the parent, which never wrote page 1, sees it there.",
		)
	default:
		explainText(w,
			"This process is no child of the parent: it found the file by its path and mapped it. With MAP_SHARED it maps the same page-cache pages as the parent, so it sees the parent's 'b' and the parent sees its 'c'. The parent prints what it sees and checks the file.",
		)
	}
	return c.err("shared-file --peer")
}

// prefixWriter writes each line with a prefix. Writes must be whole lines.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p *prefixWriter) Write(b []byte) (int, error) {
	for _, l := range splitLines(b) {
		if _, err := fmt.Fprintln(p.w, p.prefix+l); err != nil {
			return 0, err
		}
	}
	return len(b), nil
}
