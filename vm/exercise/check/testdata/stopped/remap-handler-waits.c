/* The handler maps the page and stores 'A', then waits forever: vmsim
 * stops the program before the handler ends, unmaps or exits. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static char *volatile base;
static long ps;

static void handler(int sig) {
	(void)sig;
	char *q = mmap(base, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (q == MAP_FAILED)
		_exit(1);
	q[0] = 'A';
	for (;;)
		pause();
	siglongjmp(env, 1);
}

int main(void) {
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	base = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(base, ps);
	sigsetjmp(env, 1);
	printf("base[0] = %c\n", base[0]);
	return 0;
}
