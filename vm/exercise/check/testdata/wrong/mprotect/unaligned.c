// expect: failed: the handler mprotects the page PROT_READ|PROT_WRITE
/* mprotect of an address inside the page: EINVAL, nothing changes. */
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *p;
static long ps;

static void handler(int sig) {
	(void)sig;
	mprotect(p + 1, ps, PROT_READ | PROT_WRITE);
}

int main(void) {
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	sigaction(SIGBUS, &sa, NULL);
	p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	p[0] = 'c';
	printf("%c\n", p[0]);
	p[0] = 'd';
	printf("%c\n", p[0]);
	return 0;
}
