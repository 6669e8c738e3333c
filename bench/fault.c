/*
 * fault.c: the C baselines for vmsim's fault benchmarks.
 *
 *   handler   a SIGSEGV handler (sigaction, SA_SIGINFO) that mprotects the
 *             faulting page read-write; the faulting write restarts.
 *   longjmp   the handler mprotects, then siglongjmps back to a sigsetjmp
 *             point before the write, which is retried.
 *   kernel    the kernel's own first-touch fault on plain anonymous memory.
 *
 * Each mode writes one byte to each of PAGES fresh pages per round, ROUNDS
 * rounds, and prints the median nanoseconds per fault over the rounds.
 *
 * Usage: fault MODE [PAGES] [ROUNDS]
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

static long page;
static sigjmp_buf env;
static int use_longjmp;
static volatile long faults;

static void on_segv(int sig, siginfo_t *si, void *ctx) {
	(void)sig;
	(void)ctx;
	char *p = (char *)((uintptr_t)si->si_addr & ~(uintptr_t)(page - 1));
	if (mprotect(p, page, PROT_READ | PROT_WRITE) != 0)
		abort();
	faults++;
	if (use_longjmp)
		siglongjmp(env, 1);
}

static double now(void) {
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp(const void *a, const void *b) {
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

int main(int argc, char **argv) {
	if (argc < 2) {
		fprintf(stderr, "usage: %s handler|longjmp|kernel [pages] [rounds]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	long pages = argc > 2 ? atol(argv[2]) : 16384;
	int rounds = argc > 3 ? atoi(argv[3]) : 9;
	page = sysconf(_SC_PAGESIZE);
	int kernel = strcmp(mode, "kernel") == 0;
	use_longjmp = strcmp(mode, "longjmp") == 0;
	if (!kernel && !use_longjmp && strcmp(mode, "handler") != 0) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);

	double *ns = calloc(rounds, sizeof *ns);
	for (int r = 0; r < rounds; r++) {
		int prot = kernel ? PROT_READ | PROT_WRITE : PROT_NONE;
		char *mem = mmap(NULL, pages * page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(mem, pages * page, MADV_NOHUGEPAGE);
		faults = 0;
		double t0 = now();
		for (volatile long i = 0; i < pages; i++) {
			if (use_longjmp)
				sigsetjmp(env, 1);
			mem[i * page] = 1;
		}
		ns[r] = (now() - t0) / pages;
		if (!kernel && faults != pages) {
			fprintf(stderr, "expected %ld faults, got %ld\n", pages, faults);
			return 1;
		}
		munmap(mem, pages * page);
	}
	qsort(ns, rounds, sizeof *ns, cmp);
	printf("%s\t%.0f ns/fault\n", mode, ns[rounds / 2]);
	return 0;
}
