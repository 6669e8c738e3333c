/*
 * fault.c: the C baselines for vmsim's fault benchmarks.
 *
 *   handler   a SIGSEGV handler (sigaction, SA_SIGINFO) that mprotects the
 *             faulting page read-write; the faulting write restarts.
 *   longjmp   the handler mprotects, then siglongjmps back to a sigsetjmp
 *             point before the write, which is retried.
 *   kernel    the kernel's own first-touch fault on plain anonymous memory.
 *   uffd      anonymous memory registered with userfaultfd, missing-page
 *             mode, UFFD_FEATURE_SIGBUS: the first touch raises SIGBUS; the
 *             handler fills the page with UFFDIO_COPY; the write restarts.
 *   uffd-wp   the same memory, every page filled write-protected
 *             (UFFDIO_COPY_MODE_WP) before the clock starts: the write
 *             raises SIGBUS; the handler clears the protection with
 *             UFFDIO_WRITEPROTECT (dirty tracking, per written page).
 *
 * The uffd modes exit with status 3 when userfaultfd is not available.
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
#include <errno.h>
#include <fcntl.h>
#include <linux/userfaultfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static long page;
static sigjmp_buf env;
static int use_longjmp;
static volatile long faults;
static int uffd = -1;
static char *zeros;

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

/* on_bus resolves a userfaultfd fault: a missing page is filled, a
 * write-protected one is made writable. */
static int wp_mode;
static void on_bus(int sig, siginfo_t *si, void *ctx) {
	(void)sig;
	(void)ctx;
	uintptr_t p = (uintptr_t)si->si_addr & ~(uintptr_t)(page - 1);
	if (wp_mode) {
		struct uffdio_writeprotect wp = {.range = {p, page}, .mode = 0};
		if (ioctl(uffd, UFFDIO_WRITEPROTECT, &wp) != 0)
			abort();
	} else {
		struct uffdio_copy c = {.dst = p, .src = (uintptr_t)zeros, .len = page, .mode = UFFDIO_COPY_MODE_DONTWAKE};
		if (ioctl(uffd, UFFDIO_COPY, &c) != 0)
			abort();
	}
	faults++;
}

/* uffd_open returns a userfaultfd with SIGBUS delivery and write-protect
 * support, or exits with status 3. */
static int uffd_open(void) {
	int fd = syscall(SYS_userfaultfd, O_CLOEXEC | UFFD_USER_MODE_ONLY);
	if (fd < 0) {
		fprintf(stderr, "userfaultfd: %s\n", strerror(errno));
		exit(3);
	}
	struct uffdio_api api = {.api = UFFD_API, .features = UFFD_FEATURE_SIGBUS | UFFD_FEATURE_PAGEFAULT_FLAG_WP};
	if (ioctl(fd, UFFDIO_API, &api) != 0) {
		fprintf(stderr, "UFFDIO_API: %s\n", strerror(errno));
		exit(3);
	}
	return fd;
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
		fprintf(stderr, "usage: %s handler|longjmp|kernel|uffd|uffd-wp [pages] [rounds]\n", argv[0]);
		return 2;
	}
	const char *mode = argv[1];
	long pages = argc > 2 ? atol(argv[2]) : 16384;
	int rounds = argc > 3 ? atoi(argv[3]) : 9;
	page = sysconf(_SC_PAGESIZE);
	int kernel = strcmp(mode, "kernel") == 0;
	use_longjmp = strcmp(mode, "longjmp") == 0;
	wp_mode = strcmp(mode, "uffd-wp") == 0;
	int use_uffd = wp_mode || strcmp(mode, "uffd") == 0;
	if (!kernel && !use_longjmp && !use_uffd && strcmp(mode, "handler") != 0) {
		fprintf(stderr, "unknown mode %s\n", mode);
		return 2;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_sigaction = on_segv;
	sa.sa_flags = SA_SIGINFO | SA_NODEFER;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGSEGV, &sa, NULL);
	sa.sa_sigaction = on_bus;
	sigaction(SIGBUS, &sa, NULL);
	if (use_uffd) {
		uffd = uffd_open();
		/* Pages of zeros to fill from: one for uffd, all of them for the
		 * untimed write-protected fill of uffd-wp. */
		zeros = mmap(NULL, (wp_mode ? pages : 1) * page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
		if (zeros == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
	}

	double *ns = calloc(rounds, sizeof *ns);
	for (int r = 0; r < rounds; r++) {
		int prot = kernel || use_uffd ? PROT_READ | PROT_WRITE : PROT_NONE;
		char *mem = mmap(NULL, pages * page, prot, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
		if (mem == MAP_FAILED) {
			perror("mmap");
			return 1;
		}
		madvise(mem, pages * page, MADV_NOHUGEPAGE);
		if (use_uffd) {
			struct uffdio_register reg = {.range = {(uintptr_t)mem, pages * page}, .mode = UFFDIO_REGISTER_MODE_MISSING | UFFDIO_REGISTER_MODE_WP};
			if (ioctl(uffd, UFFDIO_REGISTER, &reg) != 0) {
				fprintf(stderr, "UFFDIO_REGISTER: %s\n", strerror(errno));
				return 3;
			}
		}
		if (wp_mode) {
			struct uffdio_copy c = {.dst = (uintptr_t)mem, .src = (uintptr_t)zeros, .len = pages * page, .mode = UFFDIO_COPY_MODE_WP};
			if (ioctl(uffd, UFFDIO_COPY, &c) != 0) {
				perror("UFFDIO_COPY");
				return 1;
			}
		}
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
