// expect: failed: refuses source = destination
/* No check that the destination is the source: O_TRUNC empties it before it is read. */
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
	(void)dt;
	int out = open(argv[2], O_RDWR | O_CREAT | O_TRUNC, 0644);
	if (out < 0) {
		perror(argv[2]);
		return 1;
	}
	if (st.st_size == 0) {
		close(out);
		return 0;
	}
	ftruncate(out, st.st_size);
	char *s = mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, in, 0);
	char *d = mmap(NULL, st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, out, 0);
	if (s == MAP_FAILED || d == MAP_FAILED) {
		perror("mmap");
		return 1;
	}
	memcpy(d, s, st.st_size);
	munmap(s, st.st_size);
	munmap(d, st.st_size);
	close(out);
	close(in);
	return 0;
}
