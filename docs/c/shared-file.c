/*
 * shared-file: two processes map one file MAP_SHARED and see each other's
 * writes.
 *
 * The parent writes two pages of 'a' to a file and maps it read-write,
 * MAP_SHARED; it forks; the child (which inherits the mapping) waits; the
 * parent fills page 2 with 'b' and lets the child go; the child prints the
 * first 10 bytes of pages 1 and 2 (aaaaaaaaaa, bbbbbbbbbb) and fills page 1
 * with 'c'; the parent waits for it and prints page 1 (cccccccccc). After
 * munmap the file, read back with pread, holds a page of 'c' then a page of
 * 'b'. It prints what `vmsim exercise shared-file` prints.
 *
 * The file is argv[1], or "file" in the current directory.
 *
 * Fixed where the slides are incomplete:
 *   - a pipe instead of sleep(1): the child blocks reading it until the
 *     parent has written page 2, so the order is the same on every run;
 *   - the parent waits for the child (waitpid) before it reads page 1;
 *   - stdout is line-buffered, so that the fork does not copy unwritten
 *     output into the child;
 *   - every call is checked.
 *
 * Build and check: cc -o shared-file shared-file.c && vmsim check shared-file shared-file.c
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

static void die(const char *what) {
	perror(what);
	exit(1);
}

/* describe prints n bytes as runs: "4096 × 'c'". */
static void describe(const char *label, const char *b, long n) {
	printf("%s", label);
	for (long i = 0; i < n;) {
		long j = i;
		while (j < n && b[j] == b[i])
			j++;
		if (b[i] == 0)
			printf("%s%ld × 0", i ? ", " : "", j - i);
		else
			printf("%s%ld × '%c'", i ? ", " : "", j - i, b[i]);
		i = j;
	}
	printf("\n");
}

int main(int argc, char **argv) {
	const char *path = argc > 1 ? argv[1] : "file";
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ps = sysconf(_SC_PAGESIZE);
	long size = 2 * ps;

	int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (fd < 0)
		die("open");
	printf("fd = open(\"%s\", O_RDWR|O_CREAT|O_TRUNC, 0644)\n", path);
	char *a = malloc(size);
	memset(a, 'a', size);
	if (write(fd, a, size) != size)
		die("write");
	printf("write(fd, %ld × 'a')\n", size);

	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED)
		die("mmap");
	printf("p = mmap(NULL, %ld, PROT_READ|PROT_WRITE, MAP_SHARED, fd, 0) = %p\n", size, (void *)p);

	int go[2];
	if (pipe(go) != 0)
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1) /* wait for the parent's 'b' */
			_exit(1);
		printf("child: page 1: %.10s\n", p);
		printf("child: page 2: %.10s\n", p + ps);
		printf("child: fill page 1 with 'c'\n");
		memset(p, 'c', ps);
		printf("child: exit\n");
		exit(0);
	}
	close(go[0]);
	printf("fork(): the child (pid %d) maps the same memory and waits on a pipe\n", (int)child);
	printf("parent: fill page 2 with 'b'\n");
	memset(p + ps, 'b', ps);
	printf("parent: write to the pipe to let the child go; wait(&status)\n");
	if (write(go[1], "g", 1) != 1)
		die("write");
	int status;
	if (waitpid(child, &status, 0) != child)
		die("waitpid");
	printf("parent: page 1: %.10s\n", p);
	if (munmap(p, size) != 0)
		die("munmap");
	printf("munmap(p, %ld)\n", size);

	if (pread(fd, a, size, 0) != size)
		die("pread");
	printf("pread(fd, buf, %ld, 0): the file as read(2) sees it, after munmap\n", size);
	describe("file: page 1: ", a, ps);
	describe("file: page 2: ", a + ps, ps);
	close(fd);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
