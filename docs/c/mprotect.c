/*
 * mprotect: a handler that grants access, and the write restarts.
 *
 * One page is mapped PROT_NONE. Writing 'c' to it raises SIGSEGV; the
 * handler mprotects the page PROT_READ|PROT_WRITE and returns, and the
 * kernel restarts the write, which now succeeds. Then 'c' is read, 'd'
 * written and read: no further fault. It prints what `vmsim exercise
 * mprotect` prints.
 *
 * Fixed where the slides are incomplete:
 *   - handlers for SIGBUS as well as SIGSEGV: other systems (and file
 *     mappings here) raise SIGBUS for the same mistake;
 *   - PROT_READ with PROT_WRITE: the program reads the page after writing
 *     it, and only x86 makes a write-only page readable;
 *   - the handler's mprotect is checked: if it fails, the restarted write
 *     would fault forever, so the handler says so and exits;
 *   - the handler writes with write(2): printf is not async-signal-safe.
 *
 * Build and check: cc -o mprotect mprotect.c && vmsim check mprotect mprotect.c
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static char *p;
static long pagesize;
/* What main is doing, for the handler's message where the CPU does not
 * say (x86-64 does: the page fault's error code). */
static const char *volatile doing = "write";

/* say writes a formatted line with write(2), safe in a handler. */
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
	const char *access = doing;
#if defined(__x86_64__)
	ucontext_t *uc = ctx;
	access = (uc->uc_mcontext.gregs[REG_ERR] & 2) ? "write" : "read";
#endif
	say("  handler: received %s at %p (%s access)\n", sig == SIGBUS ? "SIGBUS" : "SIGSEGV", si->si_addr, access);
	int r = mprotect(p, pagesize, PROT_READ | PROT_WRITE);
	say("  handler: mprotect(p, %ld, PROT_READ|PROT_WRITE) = %d\n", pagesize, r);
	if (r != 0)
		_exit(1); /* returning would restart the access forever */
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

	p = mmap(NULL, pagesize, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (p == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	printf("p = mmap(NULL, %ld, PROT_NONE, MAP_PRIVATE|MAP_ANONYMOUS, -1, 0) = %p\n", pagesize, (void *)p);

	printf("write 'c' to p[0]\n");
	doing = "write";
	*(volatile char *)p = 'c'; /* faults once; the handler grants access */
	doing = "read";
	printf("read p[0] = '%c'\n", *(volatile char *)p);
	printf("write 'd' to p[0]\n");
	doing = "write";
	*(volatile char *)p = 'd';
	doing = "read";
	printf("read p[0] = '%c'\n", *(volatile char *)p);
	return 0;
}
