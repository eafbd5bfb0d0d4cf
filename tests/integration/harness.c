#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

const char *env_or_fail(const char *name)
{
	const char *v = getenv(name);
	if (!v || !*v)
		cr_assert_fail("environment variable %s is not set: run the suite "
			 "through scripts/test.sh (make test)", name);
	return v;
}

int env_int(const char *name)
{
	return atoi(env_or_fail(name));
}

bool under_asan(void)
{
	const char *v = getenv("MYRING_ASAN");
	return v && *v == '1';
}

uint64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

MYSQL *connect_port(int port, const char *user, const char *pw,
		    const char *db, unsigned long flags, char *err, size_t errlen)
{
	MYSQL *m = mysql_init(NULL);
	unsigned int timeout = 60;
	unsigned long maxp = 1ul << 30;
	my_bool local = 1;

	mysql_optionsv(m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_optionsv(m, MYSQL_OPT_MAX_ALLOWED_PACKET, &maxp);
	mysql_optionsv(m, MYSQL_OPT_LOCAL_INFILE, &local);
	/* The suite's TLS run (scripts/test.sh): connections to the shared
	 * proxy use TLS (verified against the test CA) and compression. */
	const char *shared = getenv("MYRING_PORT");
	if (shared && atoi(shared) == port) {
		const char *ca = getenv("MYRING_CLIENT_TLS_CA");
		if (ca && *ca) {
			my_bool verify = 1;
			mysql_optionsv(m, MYSQL_OPT_SSL_CA, ca);
			mysql_optionsv(m, MYSQL_OPT_SSL_VERIFY_SERVER_CERT, &verify);
		}
		if (getenv("MYRING_CLIENT_COMPRESS") &&
		    *getenv("MYRING_CLIENT_COMPRESS") == '1')
			mysql_optionsv(m, MYSQL_OPT_COMPRESS, NULL);
	}
	if (!mysql_real_connect(m, "127.0.0.1", user, pw, db, (unsigned)port,
				NULL, flags)) {
		if (err)
			snprintf(err, errlen, "%u %s", mysql_errno(m), mysql_error(m));
		mysql_close(m);
		return NULL;
	}
	return m;
}

MYSQL *proxy_connect_as(const char *user, const char *pw, const char *db,
			unsigned long flags, char *err, size_t errlen)
{
	return connect_port(env_int("MYRING_PORT"), user, pw, db, flags, err,
			    errlen);
}

MYSQL *proxy_connect(void)
{
	char err[512];
	MYSQL *m = proxy_connect_as("myring", "myring-pw", "myring_test",
				    CLIENT_MULTI_STATEMENTS, err, sizeof(err));
	cr_assert_not_null(m, "connect through myring: %s", err);
	return m;
}

MYSQL *direct_connect(void)
{
	char err[512];
	MYSQL *m = connect_port(env_int("MARIADB_PORT"), "myring", "myring-pw",
				"myring_test", CLIENT_MULTI_STATEMENTS, err,
				sizeof(err));
	cr_assert_not_null(m, "connect to MariaDB: %s", err);
	return m;
}

void query_ok(MYSQL *m, const char *sql)
{
	cr_assert_eq(mysql_query(m, sql), 0, "%.200s: %s", sql, mysql_error(m));
	for (;;) {
		MYSQL_RES *r = mysql_store_result(m);
		if (r)
			mysql_free_result(r);
		/* mysql_next_result() would reset mysql_affected_rows(). */
		if (!mysql_more_results(m) || mysql_next_result(m) != 0)
			break;
	}
}

char *query_value(MYSQL *m, const char *sql)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	char *v = NULL;

	cr_assert_eq(mysql_query(m, sql), 0, "%.200s: %s", sql, mysql_error(m));
	r = mysql_store_result(m);
	if (!r)
		return NULL;
	row = mysql_fetch_row(r);
	if (row && row[0])
		v = strdup(row[0]);
	mysql_free_result(r);
	return v;
}

long query_long(MYSQL *m, const char *sql)
{
	char *v = query_value(m, sql);
	long n;

	cr_assert(v, "%.200s: no value", sql);
	n = strtol(v, NULL, 10);
	free(v);
	return n;
}

/*
 * A free port that no other test of any parallel run was handed in the
 * last PORT_HOLD_S seconds.  The kernel's choice alone is not enough:
 * between this call and the moment the test's myring binds the port, a
 * test running in parallel may be handed the same port (seen about once
 * in 17,000 pairs of calls), and since a myring refuses to join a port
 * another process listens on (issue 15), the loser's test then talks to
 * the winner's proxy, or to its admin or metrics port, and waits out
 * its read timeout.  So the ports handed out are written down in a
 * shared file under a lock, and a port still in it is never handed out
 * again.
 */
#define PORT_REGISTRY "/tmp/myring-itest-ports"
#define PORT_HOLD_S 300

static int kernel_port(void)
{
	struct sockaddr_in a = {.sin_family = AF_INET};
	socklen_t len = sizeof(a);
	int s = socket(AF_INET, SOCK_STREAM, 0), port;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	cr_assert_eq(bind(s, (struct sockaddr *)&a, sizeof(a)), 0);
	getsockname(s, (struct sockaddr *)&a, &len);
	port = ntohs(a.sin_port);
	close(s);
	return port;
}

int free_port(void)
{
	static int recent[4096];
	int fd = open(PORT_REGISTRY, O_RDWR | O_CREAT | O_CLOEXEC, 0666);
	long now = (long)time(NULL);
	unsigned nrecent = 0;
	char line[64];
	FILE *f;
	int port;

	cr_assert(fd >= 0, "%s: %s", PORT_REGISTRY, strerror(errno));
	cr_assert_eq(flock(fd, LOCK_EX), 0);
	f = fdopen(dup(fd), "r+");
	cr_assert(f);
	while (fgets(line, sizeof(line), f)) {
		int p;
		long t;
		if (sscanf(line, "%d %ld", &p, &t) == 2 &&
		    now - t < PORT_HOLD_S && nrecent < 4096)
			recent[nrecent++] = p;
	}
	for (int tries = 0;; tries++) {
		bool taken = false;
		port = kernel_port();
		for (unsigned i = 0; i < nrecent && !taken; i++)
			taken = recent[i] == port;
		if (!taken || tries > 100)
			break;
	}
	/* Old entries go when the file grows: rewritten with the recent
	 * ones only. */
	if (nrecent >= 2048 || ftell(f) > 64 * 1024) {
		cr_assert_eq(ftruncate(fd, 0), 0);
		rewind(f);
		for (unsigned i = 0; i < nrecent && i < 2048; i++)
			fprintf(f, "%d %ld\n", recent[i], now);
	}
	fseek(f, 0, SEEK_END);
	fprintf(f, "%d %ld\n", port, now);
	fclose(f);
	flock(fd, LOCK_UN);
	close(fd);
	return port;
}

/* Whether process pid holds a socket listening on 127.0.0.1:port: the
 * port answering is not enough, it may be another process's. */
static bool listens_on(pid_t pid, int port)
{
	FILE *f = fopen("/proc/net/tcp", "r");
	unsigned long inodes[64];
	unsigned n = 0;
	char line[512], dir[64], link[64], want[64];
	bool found = false;

	if (!f)
		return true;
	while (fgets(line, sizeof(line), f)) {
		unsigned addr, lport, st;
		unsigned long inode;
		if (sscanf(line, " %*d: %x:%x %*x:%*x %x %*x:%*x %*x:%*x %*x "
			   "%*u %*u %lu", &addr, &lport, &st, &inode) == 4 &&
		    lport == (unsigned)port && st == 0x0A && n < 64)
			inodes[n++] = inode;
	}
	fclose(f);
	snprintf(dir, sizeof(dir), "/proc/%d/fd", (int)pid);
	for (unsigned i = 0; i < n && !found; i++) {
		snprintf(want, sizeof(want), "socket:[%lu]", inodes[i]);
		for (int fdn = 0; fdn < 1024 && !found; fdn++) {
			char path[96];
			ssize_t len;
			snprintf(path, sizeof(path), "%s/%d", dir, fdn);
			len = readlink(path, link, sizeof(link) - 1);
			if (len <= 0)
				continue;
			link[len] = '\0';
			found = !strcmp(link, want);
		}
	}
	return found;
}

static bool port_open(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

void proxy_start(struct proxy_proc *p, int backend_port, const char *const *args)
{
	const char *bin = env_or_fail("MYRING_BIN");
	char listen[64], backend[64];
	const char *argv[48];
	int n = 0;

	p->port = free_port();
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", p->port);
	snprintf(backend, sizeof(backend), "127.0.0.1:%d", backend_port);
	snprintf(p->log, sizeof(p->log), "/tmp/myring-itest-%d.log", p->port);
	argv[n++] = bin;
	argv[n++] = "--listen";
	argv[n++] = listen;
	if (backend_port) {
		argv[n++] = "--backend";
		argv[n++] = backend;
	}
	argv[n++] = "--threads";
	argv[n++] = "2";
	for (; args && *args && n < 46; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	p->pid = fork();
	cr_assert_geq(p->pid, 0);
	if (p->pid == 0) {
		int fd = open(p->log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
		dup2(fd, 1);
		dup2(fd, 2);
		/* A test that fails an assertion exits without stopping its
		 * proxy: the proxy must not outlive it, nor hold the runner's
		 * pipes open (Criterion waits for them to close). */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		for (int i = 3; i < 1024; i++)
			close(i);
		execv(bin, (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 200; i++) {
		if (port_open(p->port) && listens_on(p->pid, p->port))
			return;
		int st;
		if (waitpid(p->pid, &st, WNOHANG) == p->pid)
			cr_assert_fail("myring exited during start-up (see %s)", p->log);
		usleep(25000);
	}
	cr_assert_fail("myring did not listen on %d within 5 s", p->port);
}

int proxy_stop(struct proxy_proc *p, int timeout_ms)
{
	int st;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;

	kill(p->pid, SIGTERM);
	while (now_ms() < deadline) {
		if (waitpid(p->pid, &st, WNOHANG) == p->pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(20000);
	}
	kill(p->pid, SIGKILL);
	waitpid(p->pid, &st, 0);
	return -1;
}

const char *proxy_log_tail(const struct proxy_proc *p)
{
	static __thread char tail[2048];
	FILE *f = fopen(p->log, "r");
	size_t n = 0;

	tail[0] = '\0';
	if (!f)
		return "(no log)";
	if (fseek(f, 0, SEEK_END) == 0) {
		long end = ftell(f);
		long from = end > (long)sizeof(tail) - 1 ? end - (long)sizeof(tail) + 1 : 0;
		fseek(f, from, SEEK_SET);
		n = fread(tail, 1, sizeof(tail) - 1, f);
	}
	fclose(f);
	tail[n] = '\0';
	return tail;
}

int myring_run(const char *const *args, char *out, size_t outlen,
	       int timeout_ms)
{
	const char *argv[32];
	int pipefd[2], n = 0, st = 0;
	size_t len = 0;
	uint64_t deadline = now_ms() + (uint64_t)timeout_ms;
	pid_t pid;

	argv[n++] = env_or_fail("MYRING_BIN");
	for (; args && *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	cr_assert_eq(pipe2(pipefd, O_CLOEXEC), 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		dup2(pipefd[1], 1);
		dup2(pipefd[1], 2);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	fcntl(pipefd[0], F_SETFL, O_NONBLOCK);
	for (;;) {
		char junk[4096];
		ssize_t r = len < outlen - 1 ?
			    read(pipefd[0], out + len, outlen - 1 - len) :
			    read(pipefd[0], junk, sizeof(junk));
		if (r > 0) {
			if (len < outlen - 1)
				len += (size_t)r;
			continue;
		}
		if (waitpid(pid, &st, WNOHANG) == pid)
			break;
		if (now_ms() > deadline) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			st = -1;
			break;
		}
		usleep(10000);
	}
	for (ssize_t r; len < outlen - 1 &&
	     (r = read(pipefd[0], out + len, outlen - 1 - len)) > 0;)
		len += (size_t)r;
	close(pipefd[0]);
	out[len] = '\0';
	if (st == -1)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

char *http_get(int port, const char *path)
{
	struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
				 .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	int fd = socket(AF_INET, SOCK_STREAM, 0);
	char req[256];
	size_t len = 0, cap = 1 << 16;
	char *buf = malloc(cap);

	cr_assert_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: x\r\n\r\n", path);
	cr_assert_eq(write(fd, req, (size_t)n), n);
	for (;;) {
		if (cap - len < 4096)
			buf = realloc(buf, cap *= 2);
		ssize_t r = read(fd, buf + len, cap - len - 1);
		if (r <= 0)
			break;
		len += (size_t)r;
	}
	close(fd);
	buf[len] = '\0';
	return buf;
}

double metric(const char *body, const char *series)
{
	size_t n = strlen(series);
	for (const char *p = body; (p = strstr(p, series)); p += n)
		if ((p == body || p[-1] == '\n') && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

long env_file_long(const char *file, const char *key)
{
	char line[512];
	size_t klen = strlen(key);
	long v = -1;
	FILE *f = fopen(file, "r");

	cr_assert(f, "%s: %s", file, strerror(errno));
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, klen) && line[klen] == '=')
			v = strtol(line + klen + 1, NULL, 10);
	fclose(f);
	cr_assert_gt(v, 0, "%s has no %s", file, key);
	return v;
}

const char *shard_rig_dir(void)
{
	const char *d = getenv("MYRING_SHARDS_DIR");

	if (!d || !*d)
		cr_skip_test("MYRING_SHARDS_DIR is not set (the `shards` step "
			     "of scripts/test.sh sets it)");
	return d;
}

long shard_rig_env(const char *key)
{
	char file[512];

	snprintf(file, sizeof(file), "%s/env", shard_rig_dir());
	return env_file_long(file, key);
}

int shard_rig_port(int i)
{
	char key[32];

	snprintf(key, sizeof(key), "SHARD%d_PORT", i);
	return (int)shard_rig_env(key);
}

MYSQL *shard_rig_connect(int port, const char *db)
{
	char err[512];
	MYSQL *m = connect_port(port, "myring", "myring-pw", db, 0, err,
				sizeof(err));

	cr_assert(m, "connect to port %d: %s", port, err);
	return m;
}

void shard_rig_config_head(FILE *f, int ports[4])
{
	fprintf(f, "auth: proxy\nusers:\n  - name: myring\n"
		"    password: myring-pw\ngroups:\n");
	for (int i = 0; i < 4; i++) {
		ports[i] = shard_rig_port(i);
		fprintf(f, "  - name: g%d\n    servers: [127.0.0.1:%d]\n", i,
			ports[i]);
	}
}

