package exercise

import (
	"context"
	"fmt"
	"io"
	"os"

	"vmsim/vm"
	"vmsim/vm/arch"
)

// memfdName names the memory of [SharedAnon] in /proc/PID/maps.
const memfdName = "vmsim-shared-anon"

// SharedAnon is [SharedFile] without a file: the memory is a memfd, an
// anonymous memory file, that the parent passes to the child as a file
// descriptor. It is the Go counterpart of a MAP_SHARED|MAP_ANONYMOUS mapping
// made before fork. The same pages are filled and the same checks made; the
// memory is read back with pread on the memfd after unmapping.
//
// With opts.Private both processes map the memfd MAP_PRIVATE, which is what
// a MAP_PRIVATE|MAP_ANONYMOUS mapping becomes across fork: each process
// starts from the same content and writes to copies of its own.
func SharedAnon(ctx context.Context, w io.Writer, opts *ShareOptions) error {
	var o ShareOptions
	if opts != nil {
		o = *opts
	}
	ps := int(arch.SystemPageSize())
	f, err := vm.Memfd(memfdName, int64(pages*ps))
	if err != nil {
		return fmt.Errorf("exercise shared-anon: %w", err)
	}
	defer f.Close()
	fmt.Fprintf(w, "fd = memfd_create(\"%s\", MFD_CLOEXEC); ftruncate(fd, %d)\n", memfdName, pages*ps)
	if err := fillFile(f, pages*ps, 'a'); err != nil {
		return err
	}
	fmt.Fprintf(w, "write(fd, %d × 'a')\n", pages*ps)
	args := []string{"shared-anon"}
	if o.Private {
		args = append(args, "--private")
	}
	l := &spawnLink{w: w, spawn: o.Spawn, args: args, extra: []*os.File{f}}
	defer l.close()
	out, err := runParent(ctx, w, f, o.Private, l)
	if err != nil {
		return fmt.Errorf("exercise shared-anon: %w", err)
	}
	fmt.Fprintf(w, "pread(fd, buf, %d, 0): the memory as read(2) sees it, after munmap\n", pages*ps)
	c := &checker{w: w}
	out.check(c, "child", "memory")
	if o.Private {
		answers(w,
			answer{"What is displayed?", fmt.Sprintf("The child displays %s for page 1 and %s for page 2, and the parent %s for page 1: with private memory no write crosses from one process to the other.", out.peer.page1, out.peer.page2, out.parent1)},
			answer{"Why is private anonymous memory not shared?", "After fork a MAP_PRIVATE|MAP_ANONYMOUS mapping is copy on write: parent and child start with the same content, and the first write of either to a page gives that process a copy of its own. That is how fork can be fast and still give the child a separate address space."},
		)
		explainText(w,
			"Both processes map the memfd MAP_PRIVATE. The memfd plays the part of the memory as it was at fork: both read its 'a's, and each write copies the page into memory of the writer alone, so the child never sees 'b', the parent never sees 'c', and the memfd keeps its 'a's.",
			"A real MAP_PRIVATE|MAP_ANONYMOUS mapping could not even be shown this way from Go: vmsim starts its child with exec, which replaces the address space, so the child would not inherit the mapping at all. Memory that must outlive exec must have a descriptor: a file or a memfd.",
		)
		return c.err("shared-anon")
	}
	answers(w,
		answer{"What is displayed?", fmt.Sprintf("The same as with a file: the child displays %s and %s, the parent %s.", out.peer.page1, out.peer.page2, out.parent1)},
		answer{"What does the memory contain?", fmt.Sprintf("%s (page 1), %s (page 2), as pread on the memfd shows after munmap. Nothing is written to any disk.", describe(out.content[:ps]), describe(out.content[ps:]))},
		answer{"Can the same be done without a file?", "Yes: this run had no file. In C, mmap(NULL, size, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) before fork gives memory that parent and child share. Only related processes can share it that way; a memfd can be passed to any process (exec, or a UNIX socket)."},
	)
	explainText(w,
		"In the kernel, MAP_SHARED|MAP_ANONYMOUS memory is an unnamed file in tmpfs (shmem): fork gives the child a mapping of the same pages. memfd_create returns the same kind of file, but as a descriptor: the parent passes it to its child with exec.Cmd.ExtraFiles (descriptor 5 here), the child maps it MAP_SHARED, and both map the same pages. Go needs that because it cannot fork: exec replaces the address space, and only descriptors survive it.",
		"Run it with --private to see why a MAP_PRIVATE|MAP_ANONYMOUS mapping is not shared.",
	)
	return c.err("shared-anon")
}
