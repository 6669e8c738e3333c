/*
 * cp: copy a file through mmap.
 *
 * Usage: cp SRC DST. The source is mapped PROT_READ, MAP_PRIVATE; the
 * destination is created, given the source's size with ftruncate, and
 * mapped PROT_READ|PROT_WRITE, MAP_SHARED; one memcpy copies, msync writes
 * back, both are unmapped. Like `vmsim cp SRC DST` it prints nothing on
 * success, and on failure one line on stderr and exit status 1.
 *
 * Fixed where the slides are incomplete:
 *   - an empty source is copied without mmap: a mapping of length 0 fails
 *     with EINVAL, yet a real cp makes an empty file;
 *   - the destination is opened O_RDWR, not O_WRONLY: a MAP_SHARED mapping
 *     with PROT_WRITE needs a descriptor open for reading too (EACCES);
 *   - it is sized before it is mapped: writing past the end of a file
 *     through a mapping raises SIGBUS;
 *   - a destination that is the source (same device and inode) is refused
 *     before O_TRUNC destroys it;
 *   - it gets the source's permission bits; every call is checked.
 *
 * Build and check: cc -o cp cp.c && vmsim check cp cp.c
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *src, *dst;

static void die(const char *what, const char *path) {
	fprintf(stderr, "cp: %s %s: %s\n", what, path, strerror(errno));
	exit(1);
}

int main(int argc, char **argv) {
	if (argc != 3) {
		fprintf(stderr, "usage: cp SRC DST\n");
		return 2;
	}
	src = argv[1];
	dst = argv[2];
	int in = open(src, O_RDONLY);
	if (in < 0)
		die("open", src);
	struct stat st, dt;
	if (fstat(in, &st) != 0)
		die("stat", src);
	if (!S_ISREG(st.st_mode)) {
		fprintf(stderr, "cp: %s: not a regular file\n", src);
		return 1;
	}
	if (stat(dst, &dt) == 0 && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
		fprintf(stderr, "cp: %s and %s are the same file\n", src, dst);
		return 1;
	}
	int out = open(dst, O_RDWR | O_CREAT | O_TRUNC, st.st_mode & 0777);
	if (out < 0)
		die("open", dst);
	if (st.st_size > 0) {
		if (ftruncate(out, st.st_size) != 0)
			die("ftruncate", dst);
		char *s = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, in, 0);
		if (s == MAP_FAILED)
			die("mmap", src);
		char *d = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, out, 0);
		if (d == MAP_FAILED)
			die("mmap", dst);
		memcpy(d, s, st.st_size);
		if (msync(d, st.st_size, MS_SYNC) != 0)
			die("msync", dst);
		munmap(s, st.st_size);
		munmap(d, st.st_size);
	}
	if (close(out) != 0)
		die("close", dst);
	close(in);
	return 0;
}
