// expect: failed: maps shared anonymous memory before fork
/* Each process maps its own shared anonymous memory after the fork: nothing is shared. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h>

int main(void) {
	long ps = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IOLBF, 0);
	int go[2];
	pipe(go);
	pid_t c = fork();
	char *p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	memset(p, 'a', 2 * ps);
	if (c == 0) {
		char x;
		read(go[0], &x, 1);
		printf("%.10s\n%.10s\n", p, p + ps);
		memset(p, 'c', ps);
		exit(0);
	}
	memset(p + ps, 'b', ps);
	write(go[1], "g", 1);
	wait(NULL);
	printf("%.10s\n", p);
	munmap(p, 2 * ps);
	return 0;
}
