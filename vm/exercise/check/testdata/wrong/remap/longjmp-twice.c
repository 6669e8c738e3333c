// expect: failed: SIGSEGV is unblocked after the jump
/* signal() and a plain longjmp leave SIGSEGV blocked: the second fault kills the program. */
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
	char *q = mmap(base, ps, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
	q[0] = 'A';
	longjmp(plain, 1);
}

int main(void) {
	ps = sysconf(_SC_PAGESIZE);
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = handler;
	signal(SIGSEGV, handler);
	base = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	char *second = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	munmap(base, ps);
	munmap(second, ps);
	setjmp(plain);
	printf("base[0] = %c\n", base[0]);
	if (base != second) {
		base = second;
		setjmp(plain);
		printf("base[0] = %c\n", base[0]);
	}
	return 0;
}
