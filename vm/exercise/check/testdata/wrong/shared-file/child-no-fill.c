// expect: failed: the child fills page 1 with 'c'
/* The child prints but never fills page 1 with 'c'. */
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
	char *a = malloc(2 * ps);
	memset(a, 'a', 2 * ps);
	int fd = open("file", O_RDWR | O_CREAT | O_TRUNC, 0644);
	write(fd, a, 2 * ps);
	p = mmap(NULL, 2 * ps, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	int go[2];
	pipe(go);
	pid_t c = fork();
	if (c == 0) {
		char x;
		read(go[0], &x, 1);
		printf("%.10s\n%.10s\n", p, p + ps);
		exit(0);
	}
	memset(p + ps, 'b', ps);
	write(go[1], "g", 1);
	wait(NULL);
	printf("%.10s\n", p);
	munmap(p, 2 * ps);
	return 0;
}
