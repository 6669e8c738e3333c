// expect: failed: copies through memory
/* A copy with read and write: it works, but it is not the exercise. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

int main(int argc, char **argv) {
	if (argc != 3)
		return 2;
	int in = open(argv[1], O_RDONLY);
	if (in < 0) {
		perror(argv[1]);
		return 1;
	}
	struct stat st, dt;
	fstat(in, &st);
	if (stat(argv[2], &dt) == 0 && dt.st_dev == st.st_dev && dt.st_ino == st.st_ino) {
		fprintf(stderr, "%s and %s are the same file\n", argv[1], argv[2]);
		return 1;
	}
	int out = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(argv[2]);
		return 1;
	}
	if (st.st_size == 0) {
		close(out);
		return 0;
	}
	char buf[4096];
	ssize_t n;
	while ((n = read(in, buf, sizeof buf)) > 0)
		write(out, buf, n);
	close(out);
	close(in);
	return 0;
}
