// Package mmapcp copies a file through mmap, as the classic exercise of an
// operating systems course does, and handles the edges a real cp meets.
//
// # The course's steps
//
// [Copy] opens the source read-only and maps it PROT_READ, MAP_PRIVATE;
// creates the destination, gives it the source's size (ftruncate, or the
// course's lseek to size-1 and a one-byte write: [Options.SizeWith]) and maps
// it PROT_READ|PROT_WRITE, MAP_SHARED; copies the bytes from one mapping to
// the other; msyncs the destination; unmaps both and closes both files.
//
// The destination must be open O_RDWR, not O_WRONLY: a MAP_SHARED mapping
// with PROT_WRITE needs a descriptor open for reading and writing (mmap
// fails with EACCES otherwise; every mapping can be read). And it must be
// MAP_SHARED: the writes to a MAP_PRIVATE mapping go to private copies of
// the pages and never reach the file.
//
// # The edges
//
//   - An empty source is copied without mmap: a mapping of length 0 is
//     invalid (EINVAL).
//   - A source whose size is not to be trusted, a file of /proc (0 bytes,
//     whatever it holds) or /sys (a page) or another pseudo file system, or
//     any file that says 0 bytes while a read returns data, is copied by
//     read and write until the end of file, never mapped: never an empty
//     copy. A read error is returned as an *os.PathError that names it.
//   - A sparse source keeps its holes: only the parts that lseek(SEEK_DATA)
//     and lseek(SEEK_HOLE) say hold data are mapped and copied, into a
//     destination that ftruncate made all hole, so a 1 GiB file with a
//     page of data takes a page on the destination's file system, as with
//     GNU cp.
//   - A cancelled context stops the copy at the next window (or chunk) and
//     returns the context's error; the temporary file is removed, as on
//     every failure. vmsim cancels it on SIGINT, SIGTERM and SIGHUP.
//   - A file larger than memory is copied in windows of [Options.Window]
//     bytes ([DefaultWindow], 64 MiB), each mapped, copied, synced and
//     unmapped before the next: the address space and the memory used stay
//     bounded whatever the file's size.
//   - A source that another process truncates during the copy makes the
//     reads of the pages past its new end raise SIGBUS. Every access to
//     mapped memory runs through package faults, so the SIGBUS becomes a
//     [*TruncatedError] (matching [ErrTruncated]), never a crash; and since
//     a truncation inside the last page raises no SIGBUS (the tail of that
//     page reads as zeros), the source's size is checked again after each
//     window. Never a silent short copy.
//   - A fault on the destination (the file system is full: the pages of the
//     file that ftruncate made have no blocks yet) is a [*WriteFaultError].
//   - A destination that is the source, under any path (a hard link, a
//     symbolic link, another spelling), is refused with [ErrSameFile]:
//     device and inode are compared, as cp does. Truncating it would destroy
//     the data before it is read.
//   - A source or an existing destination that is not a regular file (a
//     directory, a FIFO, a device) is refused with [ErrNotRegular]; the
//     source is opened non-blocking so that a FIFO cannot hang the copy.
//     A destination that is a directory receives the source under its own
//     name, as with cp.
//   - The destination is written under a temporary name in its own
//     directory and renamed over DST only once complete, so a failure never
//     leaves a partial DST, and an existing DST stays untouched until then.
//     It gets the source's permission bits. The temporary name is
//     ".BASE.vmsim-cp-" and digits ([TempPattern]).
//
// [Options.Method] selects [Stream] to copy the same way but with io.Copy
// instead of mmap (which, between two files, lets the kernel copy with
// copy_file_range): the comparison of docs/performance.md.
package mmapcp
