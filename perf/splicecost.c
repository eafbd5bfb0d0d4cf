/*
 * splicecost - what relaying a large result costs a proxy on this machine,
 * by copying through user memory and by splicing through a pipe, so that
 * RESULTS.md can say whether splice pays for large rows.
 *
 * A producer thread sends MySQL-shaped rows (4-byte header, 4-byte length
 * prefix, ROW bytes) over loopback TCP to a relay thread, which passes
 * them on over a second loopback TCP connection to a consumer thread that
 * reads and discards.  The relay's own CPU time (CLOCK_THREAD_CPUTIME_ID)
 * per MiB is what is reported, for these relays:
 *
 *   copy BUF    recv into a BUF-byte buffer, send it (what myring does
 *               today with BUF-sized provided buffers)
 *   splice      read each row's 8 header bytes, put them into a pipe, splice
 *               the row's body from the socket into the pipe, splice the
 *               pipe to the other socket: the body never enters user memory
 *
 * Build and run: perf/splicecost.sh [--update-results] [ROW_BYTES...]
 * (default rows of 64 KiB, 256 KiB, 1 MiB and 4 MiB); prints a Markdown
 * table of medians.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TOTAL_MIB 1024u
#define ROUNDS 3

static size_t row;
static uint64_t rows;

static void die(const char *what)
{
	perror(what);
	exit(1);
}

static int listener(uint16_t *port)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    listen(fd, 4) || getsockname(fd, (struct sockaddr *)&a, &len))
		die("listener");
	*port = ntohs(a.sin_port);
	return fd;
}

static int dial(uint16_t port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || connect(fd, (struct sockaddr *)&a, sizeof(a)))
		die("connect");
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	return fd;
}

static void write_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			die("send");
		p = (const char *)p + w;
		n -= (size_t)w;
	}
}

static void *producer(void *arg)
{
	int fd = *(int *)arg;
	size_t plen = row + 4;
	uint8_t *r = malloc(8 + row);

	memset(r, 'x', 8 + row);
	r[0] = (uint8_t)plen;
	r[1] = (uint8_t)(plen >> 8);
	r[2] = (uint8_t)(plen >> 16);
	r[3] = 0;
	r[4] = 0xfd;
	r[5] = (uint8_t)row;
	r[6] = (uint8_t)(row >> 8);
	r[7] = (uint8_t)(row >> 16);
	for (uint64_t i = 0; i < rows; i++)
		write_all(fd, r, 8 + row);
	shutdown(fd, SHUT_WR);
	free(r);
	return NULL;
}

static void *consumer(void *arg)
{
	int fd = *(int *)arg;
	static uint8_t sink[1 << 18];

	while (recv(fd, sink, sizeof(sink), 0) > 0)
		;
	return NULL;
}

static void relay_copy(int in, int out, size_t buf_size)
{
	uint8_t *buf = malloc(buf_size);
	ssize_t n;

	while ((n = recv(in, buf, buf_size, 0)) > 0)
		write_all(out, buf, (size_t)n);
	free(buf);
}

static void splice_all(int in, int out, size_t n)
{
	while (n) {
		ssize_t m = splice(in, NULL, out, NULL, n, SPLICE_F_MOVE);
		if (m <= 0)
			die("splice");
		n -= (size_t)m;
	}
}

static void relay_splice(int in, int out)
{
	int p[2];
	uint8_t hdr[8];

	if (pipe2(p, O_CLOEXEC))
		die("pipe");
	fcntl(p[1], F_SETPIPE_SZ, 1 << 20);
	for (;;) {
		ssize_t n = recv(in, hdr, sizeof(hdr), MSG_WAITALL);
		if (n == 0)
			break;
		if (n != (ssize_t)sizeof(hdr))
			die("recv header");
		if (write(p[1], hdr, sizeof(hdr)) != (ssize_t)sizeof(hdr))
			die("pipe write");
		size_t body = hdr[5] | (size_t)hdr[6] << 8 | (size_t)hdr[7] << 16;
		/* Socket to pipe and pipe to socket in pipe-sized steps. */
		size_t left = body;
		while (left) {
			size_t step = left < (1u << 20) - 8 ? left : (1u << 20) - 8;
			splice_all(in, p[1], step);
			splice_all(p[0], out, step + (left == body ? 8 : 0));
			left -= step;
		}
	}
	close(p[0]);
	close(p[1]);
}

static double thread_cpu_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static double run(const char *name, size_t buf_size, size_t row_bytes)
{
	uint16_t p1, p2;
	int l1 = listener(&p1), l2 = listener(&p2);
	int prod = dial(p1), in = accept(l1, NULL, NULL);
	int out = dial(p2), cons = accept(l2, NULL, NULL);
	pthread_t tp, tc;
	double c0, w0, mib;

	row = row_bytes;
	rows = (uint64_t)TOTAL_MIB * 1048576u / (row + 8);
	mib = (double)rows * (double)(row + 8) / 1048576.0;

	if (in < 0 || cons < 0)
		die("accept");
	pthread_create(&tc, NULL, consumer, &cons);
	pthread_create(&tp, NULL, producer, &prod);
	c0 = thread_cpu_s();
	w0 = wall_s();
	if (buf_size)
		relay_copy(in, out, buf_size);
	else
		relay_splice(in, out);
	shutdown(out, SHUT_WR);
	double cpu = thread_cpu_s() - c0, wall = wall_s() - w0;
	pthread_join(tp, NULL);
	pthread_join(tc, NULL);
	fprintf(stderr, "rows of %8zu  %-9s %7.1f us CPU/MiB %6.0f MiB/s\n",
		row, name, cpu * 1e6 / mib, mib / wall);
	close(prod), close(in), close(out), close(cons), close(l1), close(l2);
	return cpu * 1e6 / mib;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	static const size_t default_rows[] = {65536, 262144, 1048576, 4194304};
	static const struct { const char *name; size_t buf; } relays[] = {
		{"copy 32K", 32768}, {"copy 64K", 65536}, {"splice", 0},
	};
	size_t sizes[16];
	int nsizes = 0;
	double cpu[16][3][ROUNDS];

	for (int i = 1; i < argc && nsizes < 16; i++)
		sizes[nsizes++] = strtoul(argv[i], NULL, 0);
	if (!nsizes)
		for (; nsizes < 4; nsizes++)
			sizes[nsizes] = default_rows[nsizes];
	for (int i = 0; i < nsizes; i++)
		if (sizes[i] < 256 || sizes[i] > 0xfffff0)
			return fprintf(stderr, "row sizes 256..16M\n"), 2;
	/* Interleaved, so drifts of the machine hit every relay alike. */
	for (int r = 0; r < ROUNDS; r++)
		for (int i = 0; i < nsizes; i++)
			for (int k = 0; k < 3; k++)
				cpu[i][k][r] = run(relays[k].name, relays[k].buf,
						   sizes[i]);
	printf("Relay CPU per MiB (us), median of %d interleaved rounds of "
	       "%u MiB each, [min..max]:\n\n", ROUNDS, TOTAL_MIB);
	printf("| row bytes | copy 32K | copy 64K | splice | splice / copy 32K |\n"
	       "|---|---|---|---|---|\n");
	for (int i = 0; i < nsizes; i++) {
		double med[3];
		printf("| %zu |", sizes[i]);
		for (int k = 0; k < 3; k++) {
			qsort(cpu[i][k], ROUNDS, sizeof(double), cmp_double);
			med[k] = cpu[i][k][ROUNDS / 2];
			printf(" %.0f [%.0f..%.0f] |", med[k], cpu[i][k][0],
			       cpu[i][k][ROUNDS - 1]);
		}
		printf(" %.2f |\n", med[2] / med[0]);
	}
	return 0;
}
