/*
 * Signal handlers, for the observer's tests. argv[1] chooses:
 *   return    SIGSEGV handler mprotects the page and returns: the write
 *             restarts; prints the error code the handler read from its
 *             ucontext and the page's address
 *   siglong   handler maps nothing, siglongjmps to a sigsetjmp(env, 1)
 *             point: the mask is restored
 *   long      signal() handler, plain longjmp to a setjmp point: SIGSEGV
 *             stays blocked; a second fault then kills the process
 *   loop      handler does nothing: the write faults forever
 *   raise     raise(SIGSEGV) with a handler: not a fault
 *   bus       only a SIGBUS handler: the SIGSEGV kills the process
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <ucontext.h>
#include <unistd.h>

static char *p;
static long ps;
static volatile long err = -1;
static sigjmp_buf senv;
static jmp_buf env;

static void on_return(int sig, siginfo_t *si, void *ctx) {
	ucontext_t *uc = ctx;
	err = uc->uc_mcontext.gregs[REG_ERR];
	mprotect(p, ps, PROT_READ | PROT_WRITE);
}
static void on_siglong(int sig) { siglongjmp(senv, 1); }
static void on_long(int sig) { longjmp(env, 1); }
static void on_nothing(int sig) {}

static void install(int sig, void (*h)(int, siginfo_t *, void *), void (*h1)(int)) {
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	if (h) {
		sa.sa_sigaction = h;
		sa.sa_flags = SA_SIGINFO;
	} else {
		sa.sa_handler = h1;
	}
	sigaction(sig, &sa, NULL);
}

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "return";
	ps = sysconf(_SC_PAGESIZE);
	setvbuf(stdout, NULL, _IONBF, 0);
	p = mmap(NULL, ps, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!strcmp(mode, "return")) {
		install(SIGSEGV, on_return, NULL);
		p[0] = 'c';
		printf("%p %ld %c\n", (void *)p, err, p[0]);
	} else if (!strcmp(mode, "siglong")) {
		install(SIGSEGV, NULL, on_siglong);
		if (sigsetjmp(senv, 1) == 0)
			p[0] = 'c';
		printf("jumped\n");
		return 0;
	} else if (!strcmp(mode, "long")) {
		signal(SIGSEGV, on_long);
		if (setjmp(env) == 0)
			p[0] = 'c';
		printf("jumped\n");
		p[1] = 'd'; /* SIGSEGV is still blocked: this kills */
		printf("not reached\n");
	} else if (!strcmp(mode, "loop")) {
		install(SIGSEGV, NULL, on_nothing);
		p[0] = 'c';
	} else if (!strcmp(mode, "raise")) {
		install(SIGSEGV, NULL, on_nothing);
		raise(SIGSEGV);
		printf("raised\n");
	} else if (!strcmp(mode, "bus")) {
		install(SIGBUS, NULL, on_nothing);
		p[0] = 'c';
	}
	return 0;
}
