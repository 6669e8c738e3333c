/*
 * Processes, for the observer's tests. argv[1] chooses:
 *   hello     writes to stdout, stderr and a file, reads in.txt, exits 3
 *   fork      forks a child that writes and exits 7; the parent waits
 *   daemon    a child leaves the process group (setsid), forks a
 *             grandchild that sleeps forever; the parent exits 0
 *   bomb      forks forever
 *   sleep     waits forever
 *   spin      burns CPU forever
 *   flood     writes to stdout forever
 *   bigfile   writes 2 MiB to a file
 *   calls     makes system calls forever
 *   ids       prints its user and group ids and supplementary groups
 *   memory    stores a marker in a global and prints its address
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

char marker[64];

int main(int argc, char **argv) {
	const char *mode = argc > 1 ? argv[1] : "hello";
	if (!strcmp(mode, "hello")) {
		char buf[64] = {0};
		int in = open("in.txt", O_RDONLY);
		if (in >= 0)
			read(in, buf, sizeof buf - 1);
		int out = open("out.txt", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		write(out, buf, strlen(buf));
		close(out);
		write(1, "hello\n", 6);
		write(2, "oops\n", 5);
		return 3;
	}
	if (!strcmp(mode, "fork")) {
		pid_t c = fork();
		if (c == 0) {
			write(1, "child\n", 6);
			_exit(7);
		}
		int st;
		waitpid(c, &st, 0);
		write(1, "parent\n", 7);
		return 0;
	}
	if (!strcmp(mode, "daemon")) {
		if (fork() == 0) {
			setsid();
			if (fork() == 0)
				for (;;)
					pause();
			_exit(0);
		}
		wait(NULL);
		return 0;
	}
	if (!strcmp(mode, "bomb"))
		for (;;)
			fork();
	if (!strcmp(mode, "sleep"))
		for (;;)
			pause();
	if (!strcmp(mode, "spin"))
		for (volatile long i = 0;; i++)
			;
	if (!strcmp(mode, "flood")) {
		char buf[4096];
		memset(buf, 'x', sizeof buf);
		for (;;)
			write(1, buf, sizeof buf);
	}
	if (!strcmp(mode, "bigfile")) {
		char buf[4096];
		memset(buf, 'x', sizeof buf);
		int fd = open("big", O_WRONLY | O_CREAT | O_TRUNC, 0644);
		for (int i = 0; i < 512; i++)
			write(fd, buf, sizeof buf);
		return 0;
	}
	if (!strcmp(mode, "calls"))
		for (;;)
			getppid();
	if (!strcmp(mode, "ids")) {
		gid_t g[64];
		int n = getgroups(64, g);
		printf("uid=%d gid=%d groups=%d\n", (int)getuid(), (int)getgid(), n);
		return 0;
	}
	if (!strcmp(mode, "memory")) {
		strcpy(marker, "the marker");
		printf("%p\n", (void *)marker);
		return 0;
	}
	return 2;
}
