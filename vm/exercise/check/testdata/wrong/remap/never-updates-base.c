// expect: failed: the read after the jump succeeds
/* The handler maps a page elsewhere, stores 'A' there, but base still points to the hole. */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static sigjmp_buf env;
static jmp_buf plain;
static char *volatile base;
static long ps;

static void handler(int sig) {
	(void)sig;
	char *q = mmap(NULL, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	q[0] = 'A';
	siglongjmp(env, 1);
}

int main(void) {
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	sigaction(SIGSEGV, &sa, NULL);
	base = (char *)0x10000000; /* nothing is mapped this low */
	sigsetjmp(env, 1);
	printf("base[0] = %c\n", base[0]);
	return 0;
}
