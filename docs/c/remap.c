/*
 * remap: a handler that maps the missing page and jumps back.
 *
 * base points where nothing is mapped (a page mapped and unmapped again).
 * Reading base[0] raises SIGSEGV (SEGV_MAPERR); the handler maps a fresh
 * page there, stores 'A' in it and siglongjmps back to the sigsetjmp point
 * before the read, which runs again and reads 'A'. It prints what `vmsim
 * exercise remap` prints.
 *
 * Fixed where the slides are incomplete:
 *   - sigsetjmp(env, 1) and siglongjmp: while the handler runs SIGSEGV is
 *     blocked; a plain longjmp (after a setjmp that saved no mask) leaves
 *     it blocked, and the next fault would kill the program;
 *   - MAP_FIXED_NOREPLACE: the handler never maps over something that
 *     took the hole meanwhile; if something did, it maps the page
 *     elsewhere and moves base, which the read after the jump reads again
 *     (base is volatile: it changes between sigsetjmp and siglongjmp);
 *   - a handler for SIGBUS too, and the handler's mmap checked.
 *
 * Build and check: cc -o remap remap.c && vmsim check remap remap.c
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

static sigjmp_buf env;
static char *volatile base;
static char *hole;
static long pagesize;

static void say(const char *format, ...) {
	char buf[256];
	va_list ap;
	va_start(ap, format);
	int n = vsnprintf(buf, sizeof buf, format, ap);
	va_end(ap);
	if (n > 0)
		write(STDOUT_FILENO, buf, n < (int)sizeof buf ? n : (int)sizeof buf - 1);
}

static void handler(int sig, siginfo_t *si, void *ctx) {
	(void)sig;
	(void)ctx;
	say("  handler: caught a fault at %p (read access): nothing mapped there\n", si->si_addr);
	char *q = mmap(hole, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0);
	if (q == MAP_FAILED || q != hole) {
		/* Something took the hole: map anywhere and move base. */
		if (q != MAP_FAILED)
			munmap(q, pagesize);
		q = mmap(NULL, pagesize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (q == MAP_FAILED)
			_exit(1);
		say("  handler: %p was taken; mapped a page at %p and set base to it\n", (void *)hole, (void *)q);
		base = q;
	}
	say("  handler: mmap(%p, %ld, PROT_READ|PROT_WRITE, MAP_PRIVATE|MAP_ANONYMOUS|MAP_FIXED_NOREPLACE, -1, 0) = %p\n", (void *)hole, pagesize, (void *)q);
	q[0] = 'A';
	say("  handler: base[0] = 'A'; jump back to the faulting read\n");
	siglongjmp(env, 1);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	pagesize = sysconf(_SC_PAGESIZE);

	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = handler;
	sa.sa_flags = SA_SIGINFO;
	sigemptyset(&sa.sa_mask);
	if (sigaction(SIGSEGV, &sa, NULL) != 0 || sigaction(SIGBUS, &sa, NULL) != 0) {
		perror("sigaction");
		return 1;
	}

	/* An address with nothing mapped: map a page and unmap it again. */
	hole = mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (hole == MAP_FAILED || munmap(hole, pagesize) != 0) {
		perror("mmap");
		return 1;
	}
	base = hole;
	printf("base = %p (nothing is mapped there)\n", (void *)base);

	if (sigsetjmp(env, 1) == 0)
		printf("read base[0]\n");
	char c = base[0]; /* faults the first time; after the jump, reads 'A' */
	printf("base[0] = %c\n", c);
	return 0;
}
