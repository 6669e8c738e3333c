/* A right solution that prints 'c' and 'd', then waits forever: vmsim
 * stops it before it unmaps the page or exits. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *p;
static long ps;

static void handler(int sig) {
	(void)sig;
	mprotect(p, ps, PROT_READ | PROT_WRITE);
}

int main(void) {
	setvbuf(stdout, NULL, _IONBF, 0);
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	*(volatile char *)p = 'c';
	printf("read p[0] = '%c'\n", *(volatile char *)p);
	*(volatile char *)p = 'd';
	printf("read p[0] = '%c'\n", *(volatile char *)p);
	for (;;)
		pause();
}
