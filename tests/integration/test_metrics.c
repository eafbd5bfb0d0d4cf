/*
 * /metrics against a quiet myring of the test's own: byte counters equal
 * to what a counting relay in front of it saw, errors counted by code
 * (the server's and myring's own), HEAD, query strings and unknown paths,
 * process metrics and build info checked against /proc and uname.
 */
#include <criterion/criterion.h>
#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"

struct mproxy {
	struct proxy_proc p;
	int metrics_port;
};

/* Starts myring in front of backend_port with --metrics and extra flags
 * (at most 8, NULL-terminated). */
static void start(struct mproxy *m, int backend_port, const char *const *extra)
{
	char metrics[64];
	const char *args[12] = {"--metrics", metrics};
	int n = 2;

	m->metrics_port = free_port();
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", m->metrics_port);
	for (; extra && *extra && n < 10; extra++)
		args[n++] = *extra;
	args[n] = NULL;
	proxy_start(&m->p, backend_port, args);
}

static void stop(struct mproxy *m)
{
	cr_expect_eq(proxy_stop(&m->p, 20000), 0, "myring exit status: %s",
		     proxy_log_tail(&m->p));
}

/* ---- raw HTTP ----------------------------------------------------------- */

struct http_resp {
	char *raw;          /* headers and body, NUL-terminated */
	size_t len;
	int status;
	long content_length; /* -1 if absent */
	const char *body;   /* just past the blank line */
	size_t body_len;
};

static void http(int port, const char *method, const char *target,
		 struct http_resp *r)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char req[512];
	size_t cap = 1 << 16;
	const char *cl, *end;
	int n;

	memset(r, 0, sizeof(*r));
	r->raw = malloc(cap);
	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	n = snprintf(req, sizeof(req), "%s %s HTTP/1.1\r\nHost: x\r\n\r\n",
		     method, target);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	for (;;) {
		if (cap - r->len < 4096)
			r->raw = realloc(r->raw, cap *= 2);
		ssize_t got = read(fd, r->raw + r->len, cap - r->len - 1);
		if (got <= 0)
			break;
		r->len += (size_t)got;
	}
	close(fd);
	r->raw[r->len] = '\0';
	cr_assert_eq(sscanf(r->raw, "HTTP/1.1 %d ", &r->status), 1, "%.200s",
		     r->raw);
	end = strstr(r->raw, "\r\n\r\n");
	cr_assert(end, "no end of headers: %.200s", r->raw);
	r->body = end + 4;
	r->body_len = r->len - (size_t)(r->body - r->raw);
	cl = strcasestr(r->raw, "\r\nContent-Length: ");
	r->content_length = cl && cl < end ? strtol(cl + 18, NULL, 10) : -1;
}

static char *scrape(const struct mproxy *m)
{
	struct http_resp r;

	http(m->metrics_port, "GET", "/metrics", &r);
	cr_assert_eq(r.status, 200, "%.200s", r.raw);
	cr_assert_eq((size_t)r.content_length, r.body_len);
	char *body = strdup(r.body);
	free(r.raw);
	return body;
}

/* A counter's value, 0 when the series is absent (never counted). */
static double count(const char *body, const char *series)
{
	double v = metric(body, series);
	return v < 0 ? 0 : v;
}

static const char *const byte_series[] = {
	"myring_received_bytes_total{peer=\"client\"}",
	"myring_sent_bytes_total{peer=\"client\"}",
	"myring_received_bytes_total{peer=\"backend\"}",
	"myring_sent_bytes_total{peer=\"backend\"}",
};

/*
 * The scrape once no client is connected and the byte counters stand
 * still: a session's sends have all completed when it is freed, and a
 * freed session is what the connection gauge counts.
 */
static char *quiet_scrape(const struct mproxy *m)
{
	char *prev = NULL;

	for (uint64_t until = now_ms() + 10000;; usleep(50000)) {
		char *body = scrape(m);
		bool same = prev && metric(body, "myring_connections") == 0;
		for (unsigned i = 0; same && i < 4; i++)
			same = metric(body, byte_series[i]) ==
			       metric(prev, byte_series[i]);
		free(prev);
		if (same)
			return body;
		cr_assert_lt(now_ms(), until, "myring never went quiet: %s", body);
		prev = body;
	}
}

static void promcheck(const char *body)
{
	char path[128], cmd[256];
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/myring-metrics-%d.txt", getpid());
	f = fopen(path, "w");
	cr_assert(f, "%s: %s", path, strerror(errno));
	fputs(body, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "/usr/bin/python3 tests/promcheck.py %s", path);
	cr_assert_eq(system(cmd), 0, "promcheck rejected the exposition");
	unlink(path);
}

/* ---- a counting relay ----------------------------------------------------- */

/* Forwards one connection between a client and myring, counting what
 * each way carried, until both have closed. */
struct relay {
	int listen_fd, port, target_port;
	uint64_t up, down;   /* client -> myring, myring -> client */
	pthread_t thread;
};

static void *relay_main(void *arg)
{
	struct relay *r = arg;
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_port = htons((uint16_t)r->target_port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int c = accept(r->listen_fd, NULL, NULL);
	int p = socket(AF_INET, SOCK_STREAM, 0);
	struct pollfd pfd[2] = {{.fd = c, .events = POLLIN},
				{.fd = p, .events = POLLIN}};
	char buf[65536];

	if (c < 0 || connect(p, (struct sockaddr *)&sa, sizeof(sa)))
		return NULL;
	while (pfd[0].fd >= 0 || pfd[1].fd >= 0) {
		if (poll(pfd, 2, 30000) <= 0)
			break;
		for (int i = 0; i < 2; i++) {
			int from = i ? p : c, to = i ? c : p;
			ssize_t n;
			if (pfd[i].fd < 0 || !(pfd[i].revents & (POLLIN | POLLHUP |
								 POLLERR)))
				continue;
			n = read(from, buf, sizeof(buf));
			if (n <= 0) {
				/* Pass the end on; keep the other way open. */
				shutdown(to, SHUT_WR);
				pfd[i].fd = -1;
				continue;
			}
			*(i ? &r->down : &r->up) += (uint64_t)n;
			for (ssize_t off = 0; off < n;) {
				ssize_t w = write(to, buf + off, (size_t)(n - off));
				if (w <= 0)
					break;
				off += w;
			}
		}
	}
	close(c);
	close(p);
	return NULL;
}

static void relay_start(struct relay *r, int target_port)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(r, 0, sizeof(*r));
	r->target_port = target_port;
	r->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(r->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(r->listen_fd, 1), 0);
	getsockname(r->listen_fd, (struct sockaddr *)&sa, &len);
	r->port = ntohs(sa.sin_port);
	cr_assert_eq(pthread_create(&r->thread, NULL, relay_main, r), 0);
}

static void relay_join(struct relay *r)
{
	pthread_join(r->thread, NULL);
	close(r->listen_fd);
}

/* ---- a scripted backend ---------------------------------------------------- */

/*
 * ERRs outside any command's response, which MariaDB does not send on
 * request: a server refusing a connection with an ERR for a greeting
 * (1040, too many connections), and one sending an ERR nobody asked for
 * before it closes (MySQL 8 does on wait_timeout: 4031).  Just enough of
 * the server side for a login, as in test_stall.c: any password passes.
 */
struct fake {
	int listen_fd, port;
	bool refuse;         /* ERR 1040 for a greeting */
	pthread_t thread;
};

static void send_packet_flags(int fd, uint8_t seq, const void *payload,
			      size_t len, int flags)
{
	uint8_t pkt[256] = {(uint8_t)len, (uint8_t)(len >> 8), 0, seq};

	memcpy(pkt + 4, payload, len);
	(void)!send(fd, pkt, 4 + len, MSG_NOSIGNAL | flags);
}

static void send_packet(int fd, uint8_t seq, const void *payload, size_t len)
{
	send_packet_flags(fd, seq, payload, len, 0);
}

static void send_err(int fd, uint8_t seq, uint16_t code, const char *msg)
{
	uint8_t p[128] = {0xff, (uint8_t)code, (uint8_t)(code >> 8)};
	size_t n = strlen(msg);

	memcpy(p + 3, "#HY000", 6);
	memcpy(p + 9, msg, n);
	send_packet(fd, seq, p, 9 + n);
}

static void send_greeting(int fd)
{
	/* Protocol 41, secure connection, plugin auth. */
	uint32_t caps = 0x1 | 0x4 | 0x8 | 0x200 | 0x2000 | 0x8000 | 0x80000;
	uint8_t g[128], *p = g;

	*p++ = 10;
	memcpy(p, "8.0.40-fake", 12), p += 12;
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
	send_packet(fd, 0, g, (size_t)(p - g));
}

static void *fake_main(void *arg)
{
	static const uint8_t ok[] = {0, 0, 0, 2, 0, 0, 0};
	struct fake *f = arg;
	struct timeval tv = {.tv_sec = 10};
	uint8_t buf[4096];
	int fd;

	/* Every connection, proxy_start's probe included, until the listener
	 * is shut down. */
	while ((fd = accept(f->listen_fd, NULL, NULL)) >= 0) {
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		if (f->refuse) {
			send_err(fd, 0, 1040, "Too many connections");
		} else {
			send_greeting(fd);
			/* The handshake response, then welcome and goodbye. */
			if (recv(fd, buf, sizeof(buf), 0) > 0) {
				/* In one segment with the ERR: a client
				 * command sent after the OK must not reach
				 * myring before the ERR does (it would
				 * then be the command's answer). */
				send_packet_flags(fd, 2, ok, sizeof(ok), MSG_MORE);
				send_err(fd, 0, 4031, "The client was disconnected "
					 "by the server because of inactivity.");
				/* Open until myring closes it: a close here
				 * could reach myring after the client's next
				 * command, which would then fail as a command
				 * of its own (a second, legitimate, command
				 * error) after the client took the ERR as its
				 * answer. */
				while (recv(fd, buf, sizeof(buf), 0) > 0)
					;
			}
		}
		close(fd);
	}
	return NULL;
}

static void fake_start(struct fake *f, bool refuse)
{
	struct sockaddr_in sa = {.sin_family = AF_INET,
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(sa);

	memset(f, 0, sizeof(*f));
	f->refuse = refuse;
	f->listen_fd = socket(AF_INET, SOCK_STREAM, 0);
	cr_assert_eq(bind(f->listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(f->listen_fd, 16), 0);
	getsockname(f->listen_fd, (struct sockaddr *)&sa, &len);
	f->port = ntohs(sa.sin_port);
	cr_assert_eq(pthread_create(&f->thread, NULL, fake_main, f), 0);
}

static void fake_stop(struct fake *f)
{
	/* Wakes the accept with an error. */
	shutdown(f->listen_fd, SHUT_RDWR);
	pthread_join(f->thread, NULL);
	close(f->listen_fd);
}

/* ---- tests ---------------------------------------------------------------- */

Test(metrics, bytes_and_errors_match_what_the_client_saw, .timeout = 90)
{
	struct mproxy m;
	struct relay r;
	char err[512];
	enum { ROWS = 10, MISSING = 5, SYNTAX = 3 };

	start(&m, env_int("MARIADB_PORT"), NULL);
	/* proxy_start's readiness probe is a connection too: start after it. */
	char *before = quiet_scrape(&m);

	relay_start(&r, m.p.port);
	MYSQL *c = connect_port(r.port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	cr_assert(c, "connect through the relay: %s", err);
	for (int i = 0; i < ROWS; i++)
		free(query_value(c, "SELECT REPEAT('x', 3000)"));
	for (int i = 0; i < MISSING; i++) {
		cr_assert_neq(mysql_query(c, "SELECT * FROM no_such_table_m"), 0);
		cr_assert_eq(mysql_errno(c), 1146);
	}
	for (int i = 0; i < SYNTAX; i++) {
		cr_assert_neq(mysql_query(c, "SELEC 1"), 0);
		cr_assert_eq(mysql_errno(c), 1064);
	}
	mysql_close(c);
	relay_join(&r);
	char *after = quiet_scrape(&m);
	promcheck(after);

	double d[4];
	for (int i = 0; i < 4; i++)
		d[i] = metric(after, byte_series[i]) - metric(before, byte_series[i]);
	cr_assert_gt(r.down, ROWS * 3000, "the relay saw the rows");
	/* What the client sent and received is what myring counted. */
	cr_assert_eq(d[0], (double)r.up, "received from clients");
	cr_assert_eq(d[1], (double)r.down, "sent to clients");
	/* With no rules the server's bytes go through unchanged... */
	cr_assert_eq(d[2], d[1], "received from the backend");
	/* ...and the client's too, but for COM_QUIT (5 bytes), which the
	 * client's close may overtake. */
	cr_assert(d[3] <= d[0] && d[3] >= d[0] - 5,
		  "sent to the backend %.0f, received from the client %.0f",
		  d[3], d[0]);

	cr_assert_eq(count(after, "myring_errors_by_code_total{code=\"1146\"}") -
		     count(before, "myring_errors_by_code_total{code=\"1146\"}"),
		     MISSING);
	cr_assert_eq(count(after, "myring_errors_by_code_total{code=\"1064\"}") -
		     count(before, "myring_errors_by_code_total{code=\"1064\"}"),
		     SYNTAX);
	cr_assert_eq(metric(after, "myring_command_errors_total") -
		     metric(before, "myring_command_errors_total"),
		     MISSING + SYNTAX);
	cr_assert_eq(count(after, "myring_errors_by_code_total{code=\"other\"}"), 0);
	free(before);
	free(after);
	stop(&m);
}

/* ERRs that myring makes, and ones outside a command's response. */
Test(metrics, errors_by_code_count_logins_rules_and_limits, .timeout = 90)
{
	struct mproxy m;
	char err[512], big[4096];
	const char *const flags[] = {"--deny", "^SELECT 'denied'",
				     "--max-packet", "2K", NULL};
	enum { DENIED = 4 };

	start(&m, env_int("MARIADB_PORT"), flags);
	char *before = quiet_scrape(&m);

	/* The server refuses the login: 1045 in the connection phase. */
	cr_assert_null(connect_port(m.p.port, "myring", "wrong-pw", NULL, 0,
				    err, sizeof(err)));
	cr_assert(!strncmp(err, "1045 ", 5), "%s", err);

	MYSQL *c = connect_port(m.p.port, "myring", "myring-pw", "myring_test",
				0, err, sizeof(err));
	cr_assert(c, "%s", err);
	for (int i = 0; i < DENIED; i++) {
		cr_assert_neq(mysql_query(c, "SELECT 'denied'"), 0);
		cr_assert_eq(mysql_errno(c), 1105, "%s", mysql_error(c));
	}
	/* Larger than --max-packet: ERR 1153, then the connection closes. */
	memset(big, 'y', sizeof(big));
	memcpy(big, "SELECT '", 8);
	big[sizeof(big) - 2] = '\'';
	big[sizeof(big) - 1] = '\0';
	cr_assert_neq(mysql_query(c, big), 0);
	cr_assert_eq(mysql_errno(c), 1153, "%s", mysql_error(c));
	mysql_close(c);

	char *after = quiet_scrape(&m);
	promcheck(after);

#define DELTA(code) (count(after, "myring_errors_by_code_total{code=\"" code "\"}") - \
		     count(before, "myring_errors_by_code_total{code=\"" code "\"}"))
	cr_assert_eq(DELTA("1045"), 1);
	cr_assert_eq(DELTA("1105"), DENIED);
	cr_assert_eq(DELTA("1153"), 1);
	/* The rejections and the oversized command were answers to
	 * commands; the refused login was not. */
	cr_assert_eq(metric(after, "myring_command_errors_total") -
		     metric(before, "myring_command_errors_total"), DENIED + 1);
	free(before);
	free(after);
	stop(&m);

	/* No backend: myring's own 1429 as the client's first packet. */
	int dead = free_port();
	char up[128];
	start(&m, dead, NULL);
	before = quiet_scrape(&m);
	cr_assert_null(connect_port(m.p.port, "myring", "myring-pw", NULL, 0,
				    err, sizeof(err)));
	after = quiet_scrape(&m);
	cr_assert_eq(DELTA("1429"), 1, "%s", err);
	snprintf(up, sizeof(up), "myring_backend_up{backend=\"127.0.0.1:%d\"}",
		 dead);
	cr_assert_eq(metric(after, up), 0);
#undef DELTA
	free(before);
	free(after);
	stop(&m);
}

/* The server's ERRs that answer no command: counted, and forwarded. */
Test(metrics, errors_by_code_count_refusals_and_unsolicited_errs, .timeout = 60)
{
	struct mproxy m;
	struct fake f;
	char err[512];

	for (int refuse = 0; refuse < 2; refuse++) {
		const char *code = refuse ? "myring_errors_by_code_total{code=\"1040\"}" :
				   "myring_errors_by_code_total{code=\"4031\"}";
		fake_start(&f, refuse);
		start(&m, f.port, NULL);
		char *before = quiet_scrape(&m);
		MYSQL *c = connect_port(m.p.port, "myring", "any", NULL, 0, err,
					sizeof(err));
		if (refuse) {
			cr_assert_null(c);
			cr_assert(strstr(err, "1040"), "%s", err);
		} else {
			cr_assert(c, "%s", err);
			cr_assert_neq(mysql_query(c, "SELECT 1"), 0);
			cr_assert_eq(mysql_errno(c), 4031, "%s", mysql_error(c));
		}
		if (c)
			mysql_close(c);
		char *after = quiet_scrape(&m);
		promcheck(after);
		cr_assert_eq(count(after, code) - count(before, code), 1, "%s",
			     code);
		cr_assert_eq(metric(after, "myring_command_errors_total"), 0);
		free(before);
		free(after);
		stop(&m);
		fake_stop(&f);
	}
}

Test(metrics, head_query_strings_and_unknown_paths)
{
	struct mproxy m;
	struct http_resp get, head, again;
	bool matched = false;

	start(&m, env_int("MARIADB_PORT"), NULL);
	/* HEAD's Content-Length is the length of the body a GET at the same
	 * moment would get.  Values move between two requests (CPU seconds,
	 * resident memory), and rarely change length: compare when the GETs
	 * around the HEAD agree. */
	for (int i = 0; i < 50 && !matched; i++) {
		http(m.metrics_port, "GET", "/metrics", &get);
		http(m.metrics_port, "HEAD", "/metrics", &head);
		http(m.metrics_port, "GET", "/metrics", &again);
		cr_assert_eq(get.status, 200);
		cr_assert_eq(head.status, 200, "%s", head.raw);
		cr_assert_eq(head.body_len, 0, "HEAD sent a body: %s", head.raw);
		cr_assert(strstr(head.raw, "\r\nContent-Type: text/plain; "
				 "version=0.0.4"), "%s", head.raw);
		matched = get.body_len == again.body_len &&
			  (size_t)head.content_length == get.body_len;
		free(get.raw);
		free(head.raw);
		free(again.raw);
	}
	cr_assert(matched, "HEAD's Content-Length never matched the GET body");

	/* A query string is ignored; the path decides. */
	http(m.metrics_port, "GET", "/metrics?name[]=myring_up&x=y", &get);
	cr_assert_eq(get.status, 200);
	cr_assert_eq(metric(get.body, "myring_up"), 1);
	cr_assert_eq((size_t)get.content_length, get.body_len);
	free(get.raw);

	static const struct {
		const char *method, *target;
		int status;
	} cases[] = {
		{"GET", "/", 200},
		{"GET", "/?x=1", 200},
		{"GET", "/metricsx", 404},
		{"GET", "/metrics/", 404},
		{"GET", "/nope?metrics", 404},
		{"HEAD", "/nope", 404},
		{"HEAD", "/", 200},
		{"POST", "/metrics", 405},
		{"DELETE", "/", 405},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		http(m.metrics_port, cases[i].method, cases[i].target, &get);
		cr_assert_eq(get.status, cases[i].status, "%s %s: %s",
			     cases[i].method, cases[i].target, get.raw);
		cr_assert_geq(get.content_length, 1, "%s", get.raw);
		if (!strcmp(cases[i].method, "HEAD"))
			cr_assert_eq(get.body_len, 0, "%s", get.raw);
		else
			cr_assert_eq((size_t)get.content_length, get.body_len,
				     "%s", get.raw);
		if (cases[i].status == 405)
			cr_assert(strstr(get.raw, "\r\nAllow: GET, HEAD\r\n"),
				  "%s", get.raw);
		free(get.raw);
	}
	stop(&m);
}

/* Field k (proc(5) numbering) of /proc/PID/stat. */
static double proc_stat_field(pid_t pid, int k)
{
	char path[64], buf[1024], *p;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	p = strrchr(buf, ')') + 2;
	for (int i = 3; i < k; i++)
		p = strchr(p, ' ') + 1;
	return strtod(p, NULL);
}

static double boot_time(void)
{
	FILE *f = fopen("/proc/stat", "r");
	char line[4096];
	double bt = -1;

	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "btime ", 6))
			bt = strtod(line + 6, NULL);
	fclose(f);
	return bt;
}

static double max_open_files(pid_t pid)
{
	char path[64], line[256];
	double v = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	f = fopen(path, "r");
	cr_assert(f);
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "Max open files", 14))
			v = strtod(line + 14, NULL);
	fclose(f);
	return v;
}

Test(metrics, process_metrics_and_build_info)
{
	struct mproxy m;
	struct utsname u;
	char version[64] = "", want[256];
	FILE *f;

	start(&m, env_int("MARIADB_PORT"), NULL);
	char *body = quiet_scrape(&m);
	promcheck(body);

	double start_s = metric(body, "process_start_time_seconds");
	double now = (double)time(NULL);
	cr_assert(start_s > now - 3600 && start_s <= now + 1, "%f", start_s);
	/* The same figure the test reads from /proc for myring's pid. */
	cr_assert(fabs(start_s - (boot_time() + proc_stat_field(m.p.pid, 22) /
				  (double)sysconf(_SC_CLK_TCK))) < 1.5, "%f", start_s);
	cr_assert_gt(metric(body, "process_resident_memory_bytes"), 0);
	cr_assert_geq(metric(body, "process_virtual_memory_bytes"),
		      metric(body, "process_resident_memory_bytes"));
	cr_assert_geq(metric(body, "process_cpu_seconds_total"), 0);
	/* Listeners, rings, eventfds, the log: a few at least, and the
	 * limit is the soft one myring runs with. */
	cr_assert_geq(metric(body, "process_open_fds"), 4);
	cr_assert_eq(metric(body, "process_max_fds"), max_open_files(m.p.pid));
	cr_assert_lt(metric(body, "process_open_fds"),
		     metric(body, "process_max_fds"));

	/* A busy myring's CPU time grows. */
	double cpu = metric(body, "process_cpu_seconds_total");
	MYSQL *c = connect_port(m.p.port, "myring", "myring-pw", "myring_test",
				0, NULL, 0);
	cr_assert(c);
	for (uint64_t until = now_ms() + 20000; now_ms() < until;) {
		for (int i = 0; i < 200; i++)
			free(query_value(c, "SELECT 1"));
		free(body);
		body = scrape(&m);
		if (metric(body, "process_cpu_seconds_total") > cpu)
			break;
	}
	mysql_close(c);
	cr_assert_gt(metric(body, "process_cpu_seconds_total"), cpu);

	f = fopen("VERSION", "r");
	cr_assert(f);
	cr_assert(fgets(version, sizeof(version), f));
	fclose(f);
	version[strcspn(version, "\n")] = '\0';
	cr_assert_eq(uname(&u), 0);
	snprintf(want, sizeof(want), "\nmyring_build_info{version=\"%s\",",
		 version);
	cr_assert(strstr(body, want), "want %s in the build info", want + 1);
	snprintf(want, sizeof(want), ",kernel=\"%s\"} 1\n", u.release);
	cr_assert(strstr(body, want), "want %s in the build info", want);
	cr_assert(strstr(body, ",liburing=\"2."), "liburing's version");
	free(body);
	stop(&m);
}
