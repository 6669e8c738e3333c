// expect: failed: the first write faults at the page
/* Prints what a right program prints, without ever touching the page. */
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
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	printf("c\n");
	printf("d\n");
	return 0;
}
