package check

import (
	"fmt"
	"path/filepath"
	"strings"

	"vmsim/vm/exercise"
	"vmsim/vm/observe"
)

// The two-process exercises. shared-file: the parent writes two pages of
// 'a' to a file, maps it MAP_SHARED read-write and forks; the child waits;
// the parent fills page 2 with 'b'; the child prints pages 1 and 2
// (aaaaaaaaaa, bbbbbbbbbb) and fills page 1 with 'c'; the parent waits and
// prints page 1 (cccccccccc); the file ends as a page of 'c' and a page of
// 'b'. shared-anon: the same with MAP_SHARED|MAP_ANONYMOUS memory mapped
// before the fork.
var sharedFileExercise = &Exercise{
	Name:      "shared-file",
	Summary:   "parent and child map one file MAP_SHARED: pages of 'a', 'b', 'c'",
	TakesArgs: true,
	Checks: []Check{
		{"writes two pages of 'a' to the file", "a file that does not hold two pages of 'a' before it is mapped", fileFilled},
		{"maps the file MAP_SHARED, read and write", "MAP_PRIVATE (explained: each process sees only its own writes, the file keeps its 'a's), a read-only mapping, a mapping shorter than two pages", func(r *run) Result { return sharedMaps(r, false) }},
		{"forks a child", "no second process", sharedForks},
		{"the child prints aaaaaaaaaa and bbbbbbbbbb", "a child that reads page 2 before the parent wrote 'b' (no wait, or MAP_PRIVATE), a child that prints nothing", func(r *run) Result { return childPrints(r, false) }},
		{"the child fills page 1 with 'c'", "a child whose page 1 does not hold 'c' at its end (read from its memory)", func(r *run) Result { return childFills(r, false) }},
		{"the parent waits for the child, then prints cccccccccc", "a parent that reads page 1 without waiting (no wait), or that does not see the child's 'c' (MAP_PRIVATE)", func(r *run) Result { return parentWaits(r, false) }},
		{"the file holds 'c' then 'b' on disk", "a file whose pages are not one page of 'c' then one of 'b' after the program (MAP_PRIVATE keeps the 'a's)", fileOnDisk},
		{"exits with status 0", "a crash, a failure status, a child that fails, a program vmsim had to stop", sharedExit},
	},
}

var sharedAnonExercise = &Exercise{
	Name:      "shared-anon",
	Summary:   "the same without a file: MAP_SHARED|MAP_ANONYMOUS before fork",
	TakesArgs: true,
	Checks: []Check{
		{"maps shared anonymous memory before fork", "MAP_PRIVATE|MAP_ANONYMOUS (explained: after fork each process writes to its own copy), memory mapped after the fork, less than two pages", func(r *run) Result { return sharedMaps(r, true) }},
		{"forks a child", "no second process", sharedForks},
		{"the child prints aaaaaaaaaa and bbbbbbbbbb", "a child that reads page 2 before the parent wrote 'b', or that does not see it (MAP_PRIVATE)", func(r *run) Result { return childPrints(r, true) }},
		{"the child fills page 1 with 'c'", "a child whose page 1 does not hold 'c' at its end (read from its memory)", func(r *run) Result { return childFills(r, true) }},
		{"the parent waits for the child, then prints cccccccccc", "a parent that reads page 1 without waiting, or that does not see the child's 'c' (MAP_PRIVATE)", func(r *run) Result { return parentWaits(r, true) }},
		{"the memory holds 'c' then 'b'", "parent's memory that is not a page of 'c' then one of 'b' when it unmaps it or exits (read from its memory)", anonMemory},
		{"exits with status 0", "a crash, a failure status, a child that fails, a program vmsim had to stop", sharedExit},
	},
}

// privateWhy explains MAP_PRIVATE in the two-process exercises.
func privateWhy(anon bool) string {
	if anon {
		return "The memory is mapped MAP_PRIVATE|MAP_ANONYMOUS: after fork it is copy on write, so the first write of each process to a page gives that process a copy of its own. The parent's 'b' and the child's 'c' stay in the process that wrote them. Map it MAP_SHARED|MAP_ANONYMOUS."
	}
	return "The file is mapped MAP_PRIVATE: the first write of a process to a page copies it into memory of that process alone (copy on write), so the parent's 'b' and the child's 'c' stay in the process that wrote them and never reach the file, which keeps its 'a's. Map it MAP_SHARED."
}

// sharedMapping returns the mapping of the scenario: of the file (the
// first process's mapping of a file it opened, at least two pages), or
// anonymous; shared ones first. It may be the child's own. The dynamic
// loader's mappings are not the program's: its private anonymous ones
// (two pages and more, before main) are no MAP_PRIVATE mistake.
func (r *run) sharedMapping(anon bool) *mapping {
	var best *mapping
	procs := append([]int{r.t.PID}, r.children()...)
	for _, pid := range procs {
		for _, m := range mappingsOf(r.t, pid, len(r.t.Events), false) {
			if m.inherited || m.length < 2*r.ps || r.byLoader(m) {
				continue
			}
			if anon != m.anonymous() {
				continue
			}
			if !anon {
				p := r.pathOf(m.ev)
				if p == "" || filepath.IsAbs(p) {
					continue // a library, or outside the working directory
				}
			}
			if best == nil || (m.shared() && !best.shared()) {
				best = m
			}
		}
	}
	return best
}

func sharedMaps(r *run, anon bool) Result {
	m := r.sharedMapping(anon)
	what := "the file"
	if anon {
		what = "anonymous memory"
	}
	if m == nil {
		why := "No mapping of two pages of a file the program opened: the parent must mmap(NULL, 2 * pagesize, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0)."
		if anon {
			why = "No anonymous mapping of two pages: the parent must mmap(NULL, 2 * pagesize, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) before it forks."
		}
		return Result{Status: Failed, Explanation: why}
	}
	ev := []string{line(m.ev)}
	switch {
	case !m.shared():
		return Result{Status: Failed, Evidence: ev, Explanation: privateWhy(anon)}
	case m.prot&(protRead|protWrite) != protRead|protWrite:
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("%s is mapped %s: both processes read and write it, so it must be PROT_READ|PROT_WRITE.", strings.ToUpper(what[:1])+what[1:], observe.ProtString(m.prot))}
	}
	forks := r.children()
	if len(forks) > 0 {
		_, at := parentOf(r.t, forks[0])
		if m.ev.TGID != r.t.PID || m.ev.Seq > at {
			if anon {
				ev = append(ev, line(&r.t.Events[at]))
				return Result{Status: Failed, Evidence: ev, Explanation: "The anonymous memory is mapped after the fork: each process then has a mapping of its own, and they share nothing. Shared anonymous memory is inherited: map it before fork."}
			}
			return Result{Status: OK, Evidence: ev, Explanation: "The file is mapped MAP_SHARED after the fork, by each process: that works too, since the sharing comes from the file (any process that maps it MAP_SHARED shares its pages)."}
		}
	}
	if anon {
		return Result{Status: OK, Evidence: ev, Explanation: "The parent maps two pages MAP_SHARED|MAP_ANONYMOUS, read and write, before the fork: the child inherits the same pages."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The parent maps two pages of the file MAP_SHARED, read and write: both processes reach the file's pages in the page cache."}
}

func fileFilled(r *run) Result {
	m := r.sharedMapping(false)
	var path string
	if m != nil {
		path = r.pathOf(m.ev)
	} else {
		for _, e := range r.t.Syscalls(r.t.PID, "") {
			sc := e.Syscall
			if !isOpen(sc.Name) || !sc.OK() {
				continue
			}
			// O_CREAT is in the flags: openat's third argument, open's
			// second; creat always creates.
			flags := sc.Args[1]
			if sc.Name == "openat" {
				flags = sc.Args[2]
			}
			if sc.Name == "creat" || flags&oCreat != 0 {
				path = clean(r.t.Dir, sc.Path)
				break
			}
		}
	}
	if path == "" {
		return Result{Status: Failed, Explanation: "The program creates no file: it must open one (O_RDWR|O_CREAT|O_TRUNC) and write two pages of 'a' to it."}
	}
	var ev []string
	total := uint64(0)
	allA := true
	for _, e := range r.t.Syscalls(r.t.PID, "write") {
		if r.pathOf(e) != path || !e.Syscall.OK() || (m != nil && e.Seq > m.ev.Seq) {
			continue
		}
		total += uint64(e.Syscall.Ret)
		allA = allA && exercise.AllBytes(e.Syscall.Data, 'a')
		ev = append(ev, line(e))
	}
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		if isOpen(e.Syscall.Name) && e.Syscall.OK() && clean(r.t.Dir, e.Syscall.Path) == path {
			ev = append([]string{line(e)}, ev...)
			break
		}
	}
	switch {
	case total < 2*r.ps:
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("Only %d bytes were written to %s before it was mapped; the exercise writes two pages (%d bytes) of 'a', so that both pages of the mapping have data behind them.", total, path, 2*r.ps)}
	case !allA:
		return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The bytes written to %s are not all 'a'.", path)}
	}
	return Result{Status: OK, Evidence: ev, Explanation: fmt.Sprintf("%d bytes of 'a' are written to %s before it is mapped.", total, path)}
}

func sharedForks(r *run) Result {
	kids := r.children()
	if len(kids) == 0 {
		return Result{Status: Failed, Explanation: "The program never forks: the exercise needs a second process that shares the memory."}
	}
	_, at := parentOf(r.t, kids[0])
	return Result{Status: OK, Evidence: []string{line(&r.t.Events[at])}, Explanation: fmt.Sprintf("The parent forks a child (pid %d).", kids[0])}
}

func firstChild(r *run) int {
	if kids := r.children(); len(kids) > 0 {
		return kids[0]
	}
	return 0
}

// writes returns the output writes (descriptors 1 and 2) of process pid.
func (r *run) writes(pid int) []*observe.Event {
	var out []*observe.Event
	for _, e := range r.t.Syscalls(pid, "write") {
		if fd := e.Syscall.Int(0); fd == 1 || fd == 2 {
			out = append(out, e)
		}
	}
	return out
}

const tenA, tenB, tenC = "aaaaaaaaaa", "bbbbbbbbbb", "cccccccccc"

func childPrints(r *run, anon bool) Result {
	child := firstChild(r)
	if child == 0 {
		return Result{Status: Failed, Explanation: "No child (see the fork check)."}
	}
	out := r.output(child)
	ev := lines(r.writes(child), 4)
	i := strings.Index(out, tenA)
	if i >= 0 && strings.Contains(out[i+len(tenA):], tenB) {
		return Result{Status: OK, Evidence: ev, Explanation: "The child printed aaaaaaaaaa (page 1, as the parent left it) then bbbbbbbbbb: it saw the parent's 'b' on page 2, through the shared mapping, with no system call."}
	}
	m := r.sharedMapping(anon)
	switch {
	case out == "":
		return Result{Status: Failed, Evidence: ev, Explanation: "The child printed nothing: it must print the first 10 bytes of page 1 and of page 2."}
	case m != nil && !m.shared():
		return Result{Status: Failed, Evidence: ev, Explanation: privateWhy(anon)}
	case i >= 0 && strings.Count(out, tenA) >= 2:
		return Result{Status: Failed, Evidence: ev, Explanation: "The child printed aaaaaaaaaa for page 2: it read page 2 before the parent wrote 'b'. The child must wait until the parent has written (the course sleeps; a pipe the child reads until the parent writes to it is exact)."}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: fmt.Sprintf("The child's output %q does not have aaaaaaaaaa then bbbbbbbbbb.", truncate(out, 80))}
}

func childFills(r *run, anon bool) Result {
	child := firstChild(r)
	if child == 0 {
		return Result{Status: Failed, Explanation: "No child (see the fork check)."}
	}
	m := r.sharedMapping(anon)
	if m == nil {
		return Result{Status: Failed, Explanation: "No mapping to fill (see the mapping check)."}
	}
	addr := m.addr
	if m.ev.TGID != r.t.PID && m.ev.TGID != child {
		return Result{Status: Failed, Explanation: "The child has no mapping of the memory."}
	}
	b, at, ok := r.memory(child, addr, r.ps, m.ev.Seq)
	if !ok {
		return Result{Status: Failed, Explanation: "The child's page 1 could not be read from its memory before it ended (did it exit?)."}
	}
	ev := []string{memoryLine(r, at, "page 1 holds "+describe(b))}
	if !exercise.AllBytes(b, 'c') {
		return Result{Status: Failed, Evidence: ev, Explanation: "At its end the child's page 1 does not hold 'c' only: the child must fill the whole page with 'c' (memset(p, 'c', pagesize))."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "At its end the child's page 1 holds 'c' in every byte (read from its memory)."}
}

func parentWaits(r *run, anon bool) Result {
	child := firstChild(r)
	if child == 0 {
		return Result{Status: Failed, Explanation: "No child (see the fork check)."}
	}
	var wait *observe.Event
	for _, e := range r.t.Syscalls(r.t.PID, "") {
		sc := e.Syscall
		if (sc.Name == "wait4" && sc.Ret == int64(child)) || (sc.Name == "waitid" && sc.OK()) {
			wait = e
			break
		}
	}
	var printed *observe.Event
	for _, e := range r.writes(r.t.PID) {
		if strings.Contains(string(e.Syscall.Data), tenC) {
			printed = e
			break
		}
	}
	var ev []string
	for _, e := range []*observe.Event{wait, printed} {
		if e != nil {
			ev = append(ev, line(e))
		}
	}
	m := r.sharedMapping(anon)
	switch {
	case wait == nil:
		return Result{Status: Failed, Evidence: append(ev, lines(r.writes(r.t.PID), 3)...), Explanation: "The parent never waits for the child (no wait or waitpid returned it): it may read page 1 before the child has written 'c', and what it prints depends on which process runs first. Call wait(&status) (or waitpid) before reading page 1."}
	case printed == nil && m != nil && !m.shared():
		return Result{Status: Failed, Evidence: append(ev, lines(r.writes(r.t.PID), 3)...), Explanation: privateWhy(anon)}
	case printed == nil:
		return Result{Status: Failed, Evidence: append(ev, lines(r.writes(r.t.PID), 3)...), Explanation: "The parent never printed cccccccccc: after the wait, page 1 holds the child's 'c', and the parent prints its first 10 bytes."}
	case printed.Seq < wait.Syscall.Returned:
		return Result{Status: Failed, Evidence: ev, Explanation: "The parent printed page 1 before its wait returned: it must wait for the child first."}
	}
	return Result{Status: OK, Evidence: ev, Explanation: "The parent waited for the child, then printed cccccccccc: the child's writes to page 1 are in the parent's view of the same pages."}
}

func fileOnDisk(r *run) Result {
	m := r.sharedMapping(false)
	if m == nil {
		return Result{Status: Failed, Explanation: "No file mapping (see the mapping check)."}
	}
	path := r.pathOf(m.ev)
	b, ok := r.files[path]
	if !ok {
		return Result{Status: Failed, Explanation: fmt.Sprintf("The file %s is not there after the program ended.", path)}
	}
	ps := int(r.ps)
	if len(b) < 2*ps {
		return Result{Status: Failed, Evidence: []string{fmt.Sprintf("%s on disk: %d bytes: %s", path, len(b), describe(b))}, Explanation: "The file is shorter than two pages."}
	}
	ev := []string{fmt.Sprintf("%s on disk, after the program: page 1: %s; page 2: %s", path, describe(b[:ps]), describe(b[ps:2*ps]))}
	if exercise.AllBytes(b[:ps], 'c') && exercise.AllBytes(b[ps:2*ps], 'b') {
		return Result{Status: OK, Evidence: ev, Explanation: "The file holds a page of 'c' then a page of 'b': both processes' writes through the mapping reached the file, with no write(2) and no msync."}
	}
	if !m.shared() {
		return Result{Status: Failed, Evidence: ev, Explanation: privateWhy(false)}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: "The file should hold a page of 'c' (the child's) then a page of 'b' (the parent's)."}
}

func anonMemory(r *run) Result {
	m := r.sharedMapping(true)
	if m == nil {
		return Result{Status: Failed, Explanation: "No anonymous mapping (see the mapping check)."}
	}
	b, at, ok := r.memory(r.t.PID, m.addr, 2*r.ps, m.ev.Seq)
	if !ok {
		return Result{Status: Failed, Explanation: "The parent's memory could not be read when it unmapped it or exited."}
	}
	ps := int(r.ps)
	ev := []string{memoryLine(r, at, fmt.Sprintf("page 1 holds %s; page 2 holds %s", describe(b[:ps]), describe(b[ps:])))}
	if exercise.AllBytes(b[:ps], 'c') && exercise.AllBytes(b[ps:], 'b') {
		return Result{Status: OK, Evidence: ev, Explanation: "In the parent, page 1 holds the child's 'c' and page 2 its own 'b': the two processes share the pages."}
	}
	if !m.shared() {
		return Result{Status: Failed, Evidence: ev, Explanation: privateWhy(true)}
	}
	return Result{Status: Failed, Evidence: ev, Explanation: "The parent's memory should hold a page of 'c' (the child's) then a page of 'b' (its own)."}
}

func sharedExit(r *run) Result {
	res := r.exitCheck(r.t.PID, "parent")
	if res.Status != OK {
		return res
	}
	if child := firstChild(r); child != 0 {
		c := r.exitCheck(child, "child")
		if c.Status != OK {
			return c
		}
		res.Evidence = append(res.Evidence, c.Evidence...)
		res.Explanation = "The parent and the child exit with status 0."
	}
	return res
}
