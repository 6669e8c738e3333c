/*
 * shared-anon: shared-file without a file: MAP_SHARED|MAP_ANONYMOUS memory
 * mapped before fork is shared by parent and child.
 *
 * The same scenario as shared-file.c: two pages of 'a'; the child waits;
 * the parent fills page 2 with 'b'; the child prints pages 1 and 2
 * (aaaaaaaaaa, bbbbbbbbbb) and fills page 1 with 'c'; the parent waits and
 * prints page 1 (cccccccccc); the memory then holds a page of 'c' and a
 * page of 'b'. It prints the lines of `vmsim exercise shared-anon` that
 * the scenario shares (vmsim, which cannot fork, passes a memfd instead).
 *
 * Fixed where the slides are incomplete: a pipe instead of sleep(1), a
 * waitpid before the parent reads, line-buffered stdout, every call
 * checked.
 *
 * Build and check: cc -o shared-anon shared-anon.c && vmsim check shared-anon shared-anon.c
 */
#define _GNU_SOURCE
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

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	long ps = sysconf(_SC_PAGESIZE);
	long size = 2 * ps;

	char *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED)
		die("mmap");
	printf("p = mmap(NULL, %ld, PROT_READ|PROT_WRITE, MAP_SHARED|MAP_ANONYMOUS, -1, 0) = %p\n", size, (void *)p);
	memset(p, 'a', size);
	printf("memset(p, 'a', %ld)\n", size);

	int go[2];
	if (pipe(go) != 0)
		die("pipe");
	pid_t child = fork();
	if (child < 0)
		die("fork");
	if (child == 0) {
		char c;
		close(go[1]);
		if (read(go[0], &c, 1) != 1)
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
	describe("memory: page 1: ", p, ps);
	describe("memory: page 2: ", p + ps, ps);
	if (munmap(p, size) != 0)
		die("munmap");
	printf("munmap(p, %ld)\n", size);
	return WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : 1;
}
