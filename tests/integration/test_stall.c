/*
 * A backend that stops in the middle of a packet.  MariaDB cannot be made
 * to do that on purpose, so a scripted server stands in for it: it speaks
 * just enough of the protocol for Connector/C to log in through myring and
 * run one query, and sends a large row in two parts with a pause between.
 *
 * myring holds a result's bytes for the client while the server's packet
 * is unfinished (session.c, hold_for_packet_tail); these tests check that
 * the held bytes go out when the packet's tail arrives, whole and in order,
 * and that a backend dying mid-packet gives the client an error, not a
 * hang.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define ROW_BYTES 100000u
#define FIRST_PART 40000u  /* below the hold limit of two 32 KiB buffers */

struct fake {
	int listen_fd;
	int port;
	bool die_mid_row;      /* close instead of sending the row's tail */
	bool die_before_row;   /* close after the column definitions */
	unsigned pause_ms;
};

static void put3(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

static void send_all(int fd, const void *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
		if (w <= 0)
			return;
		p = (const uint8_t *)p + w;
		n -= (size_t)w;
	}
}

static void send_packet(int fd, uint8_t seq, const void *payload, uint32_t len)
{
	uint8_t hdr[4];

	put3(hdr, len);
	hdr[3] = seq;
	send_all(fd, hdr, 4);
	send_all(fd, payload, len);
}

/* Reads one packet's payload into buf (truncated to cap); -1 at EOF. */
static int read_packet(int fd, uint8_t *buf, size_t cap)
{
	uint8_t hdr[4];
	if (recv(fd, hdr, 4, MSG_WAITALL) != 4)
		return -1;
	uint32_t len = hdr[0] | hdr[1] << 8 | (uint32_t)hdr[2] << 16;
	for (uint32_t got = 0; got < len;) {
		uint8_t tmp[4096];
		size_t want = len - got < sizeof(tmp) ? len - got : sizeof(tmp);
		ssize_t r = recv(fd, tmp, want, 0);
		if (r <= 0)
			return -1;
		if (got < cap)
			memcpy(buf + got, tmp, (size_t)r < cap - got ? (size_t)r : cap - got);
		got += (uint32_t)r;
	}
	return (int)len;
}

static void send_greeting(int fd)
{
	/* Protocol 41, secure connection, plugin auth; no TLS, no
	 * compression, no DEPRECATE_EOF (so result sets end in EOF). */
	uint32_t caps = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x20000 |
			0x80000;
	uint8_t g[128], *p = g;
	*p++ = 10;
	memcpy(p, "5.5.5-10.11.0-fake", 19);
	p += 19;
	memset(p, 0, 4), p += 4;                  /* connection id */
	memcpy(p, "abcdefgh", 8), p += 8;         /* scramble, part 1 */
	*p++ = 0;
	*p++ = (uint8_t)caps, *p++ = (uint8_t)(caps >> 8);
	*p++ = 33;                                /* utf8_general_ci */
	*p++ = 2, *p++ = 0;                       /* autocommit */
	*p++ = (uint8_t)(caps >> 16), *p++ = (uint8_t)(caps >> 24);
	*p++ = 21;
	memset(p, 0, 10), p += 10;
	memcpy(p, "ijklmnopqrst", 13), p += 13;   /* scramble, part 2 */
	memcpy(p, "mysql_native_password", 22), p += 22;
	send_packet(fd, 0, g, (uint32_t)(p - g));
}

static void answer_query(struct fake *f, int fd)
{
	static const uint8_t eof[] = {0xfe, 0, 0, 2, 0};
	static const uint8_t one[] = {1};
	uint8_t col[64], *p = col;
	const char *const strs[] = {"def", "", "", "", "c", ""};
	for (int i = 0; i < 6; i++) {
		size_t n = strlen(strs[i]);
		*p++ = (uint8_t)n;
		memcpy(p, strs[i], n);
		p += n;
	}
	*p++ = 0x0c;
	*p++ = 63, *p++ = 0;                      /* binary */
	put3(p, 0xffffff), p[3] = 0, p += 4;      /* column length */
	*p++ = 0xfc;                              /* BLOB */
	*p++ = 0x90, *p++ = 0;                    /* BLOB | BINARY flags */
	*p++ = 0;
	*p++ = 0, *p++ = 0;
	send_packet(fd, 1, one, 1);
	send_packet(fd, 2, col, (uint32_t)(p - col));
	send_packet(fd, 3, eof, sizeof(eof));
	if (f->die_before_row)
		return;

	/* The row: a length-encoded string of ROW_BYTES bytes. */
	static uint8_t row[4 + 4 + ROW_BYTES];
	put3(row, 4 + ROW_BYTES);
	row[3] = 4;
	row[4] = 0xfd;
	put3(row + 5, ROW_BYTES);
	for (uint32_t i = 0; i < ROW_BYTES; i++)
		row[8 + i] = (uint8_t)(i % 251);
	send_all(fd, row, 8 + FIRST_PART);
	usleep(f->pause_ms * 1000u);
	if (f->die_mid_row)
		return;
	send_all(fd, row + 8 + FIRST_PART, ROW_BYTES - FIRST_PART);
	send_packet(fd, 5, eof, sizeof(eof));
}

/* Serves one connection; true once it has answered the query. */
static bool serve(struct fake *f, int fd)
{
	static const uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
	uint8_t buf[1024];

	send_greeting(fd);
	if (read_packet(fd, buf, sizeof(buf)) < 0)
		return false;
	send_packet(fd, 2, ok, sizeof(ok));
	for (;;) {
		int n = read_packet(fd, buf, sizeof(buf));
		if (n <= 0 || buf[0] == 0x01)        /* EOF or COM_QUIT */
			return false;
		if (buf[0] != 0x03) {                /* anything else: OK */
			send_packet(fd, 1, ok, sizeof(ok));
			continue;
		}
		answer_query(f, fd);
		return true;
	}
}

static void *fake_server(void *arg)
{
	struct fake *f = arg;

	/* proxy_start's probe of the port makes a connection of its own,
	 * which myring passes on: serve connections until the query came. */
	for (;;) {
		int fd = accept(f->listen_fd, NULL, NULL);
		if (fd < 0)
			return NULL;
		bool done = serve(f, fd);
		if (done && !f->die_mid_row && !f->die_before_row) {
			/* Let the client read and quit before closing. */
			uint8_t buf[64];
			read_packet(fd, buf, sizeof(buf));
		}
		close(fd);
		if (done)
			return NULL;
	}
}

static void fake_start(struct fake *f, pthread_t *th)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int one = 1;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(f->listen_fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&a, sizeof(a)), 0);
	cr_assert_eq(listen(f->listen_fd, 4), 0);
	getsockname(f->listen_fd, (struct sockaddr *)&a, &len);
	f->port = ntohs(a.sin_port);
	pthread_create(th, NULL, fake_server, f);
}

/* A scripted backend, a myring of the test's own in front of it, and a
 * client logged in through both. */
struct stage {
	struct fake f;
	struct proxy_proc p;
	pthread_t th;
	MYSQL *m;
};

enum death { LIVES, DIES_MID_ROW, DIES_BEFORE_ROW };

static void stage_up(struct stage *st, unsigned pause_ms, enum death death)
{
	st->f = (struct fake){.pause_ms = pause_ms,
			      .die_mid_row = death == DIES_MID_ROW,
			      .die_before_row = death == DIES_BEFORE_ROW};
	fake_start(&st->f, &st->th);
	proxy_start(&st->p, st->f.port, NULL);
	st->m = mysql_init(NULL);
	cr_assert_not_null(mysql_real_connect(st->m, "127.0.0.1", "anyone", "pw",
					      NULL, (unsigned)st->p.port, NULL, 0),
			   "login through myring to the scripted backend: %s",
			   mysql_error(st->m));
}

static void stage_down(struct stage *st)
{
	mysql_close(st->m);
	pthread_join(st->th, NULL);
	close(st->f.listen_fd);
	cr_assert_eq(proxy_stop(&st->p, 10000), 0);
}

Test(stall, row_paused_mid_packet_arrives_whole, .timeout = 60)
{
	struct stage st;

	stage_up(&st, 1500, LIVES);
	uint64_t t0 = now_ms();
	cr_assert_eq(mysql_query(st.m, "SELECT stall"), 0, "%s", mysql_error(st.m));
	MYSQL_RES *r = mysql_store_result(st.m);
	cr_assert_not_null(r, "%s", mysql_error(st.m));
	MYSQL_ROW row = mysql_fetch_row(r);
	cr_assert_not_null(row);
	unsigned long *lens = mysql_fetch_lengths(r);
	cr_assert_eq(lens[0], ROW_BYTES);
	for (uint32_t i = 0; i < ROW_BYTES; i++)
		if ((uint8_t)row[0][i] != (uint8_t)(i % 251))
			cr_assert_fail("byte %u of the row differs", i);
	uint64_t took = now_ms() - t0;
	cr_assert_geq(took, 1400, "the backend paused mid-row (%llu ms)",
		      (unsigned long long)took);
	cr_assert_lt(took, 10000, "held bytes went out when the tail came "
		     "(%llu ms)", (unsigned long long)took);
	mysql_free_result(r);
	stage_down(&st);
}

Test(stall, backend_dying_mid_packet_fails_the_query, .timeout = 60)
{
	struct stage st;

	stage_up(&st, 300, DIES_MID_ROW);
	uint64_t t0 = now_ms();
	int rc = mysql_query(st.m, "SELECT stall");
	MYSQL_RES *r = rc == 0 ? mysql_store_result(st.m) : NULL;
	cr_assert_null(r, "a row cut short must not read as a result");
	/* Inside a packet no ERR can follow: the connection is closed. */
	cr_assert_eq(mysql_errno(st.m), 2013, "the client is told: %u %s",
		     mysql_errno(st.m), mysql_error(st.m));
	cr_assert_lt(now_ms() - t0, 10000, "and not left waiting");
	stage_down(&st);
}

Test(stall, backend_dying_between_packets_gives_an_err, .timeout = 60)
{
	struct stage st;

	stage_up(&st, 0, DIES_BEFORE_ROW);
	int rc = mysql_query(st.m, "SELECT stall");
	MYSQL_RES *r = rc == 0 ? mysql_store_result(st.m) : NULL;
	cr_assert_null(r, "a result cut short must not read as complete");
	/* Between packets the proxy ends the response with its own ERR, whose
	 * sequence id the client accepts (else it would report 2013/2027). */
	cr_assert_eq(mysql_errno(st.m), 1927, "got %u %s", mysql_errno(st.m),
		     mysql_error(st.m));
	cr_assert(strstr(mysql_error(st.m), "backend closed"), "%s",
		  mysql_error(st.m));
	cr_assert_str_eq(mysql_sqlstate(st.m), "08S01");
	stage_down(&st);
}
