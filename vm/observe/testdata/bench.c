/*
 * The observer's benchmarks. argv[1] chooses, argv[2] is N:
 *   getppid   N getppid system calls
 *   faults    N faults on a PROT_NONE page, each resolved by a SIGSEGV
 *             handler that mprotects it PROT_READ|PROT_WRITE; main takes
 *             the access away again (mprotect PROT_NONE) after each
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static char *p;
static long ps;

static void handler(int sig) {
	(void)sig;
	mprotect(p, ps, PROT_READ | PROT_WRITE);
}

int main(int argc, char **argv) {
	long n = argc > 2 ? atol(argv[2]) : 0;
	if (argc > 1 && !strcmp(argv[1], "getppid")) {
		for (long i = 0; i < n; i++)
			getppid();
		return 0;
	}
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	for (long i = 0; i < n; i++) {
		*(volatile char *)p = 1;
		mprotect(p, ps, PROT_NONE);
	}
	return 0;
}
