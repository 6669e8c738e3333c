// expect: failed: the child prints aaaaaaaaaa and bbbbbbbbbb
/* The child does not wait for the parent's 'b', and the parent is slow to write it. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	long ps = sysconf(_SC_PAGESIZE);
	char *p;
	setvbuf(stdout, NULL, _IOLBF, 0);
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(p, 'a', 2 * ps);
	int go[2];
	pipe(go);
	pid_t c = fork();
	if (c == 0) {
		char x;
		(void)x;
		printf("%.10s\n%.10s\n", p, p + ps);
		memset(p, 'c', ps);
		exit(0);
	}
	usleep(200000);
	memset(p + ps, 'b', ps);
	write(go[1], "g", 1);
	wait(NULL);
	printf("%.10s\n", p);
	munmap(p, 2 * ps);
	return 0;
}
