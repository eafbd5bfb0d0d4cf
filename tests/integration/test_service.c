/*
 * Running under systemd (packaging/myring.service, Type=notify): the
 * notifications myring sends on $NOTIFY_SOCKET, in the order systemd
 * needs them, and its log lines when stderr is the journal.  A datagram
 * socket of the test's own stands in for systemd.
 */
#include "harness.h"

#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <grp.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

/* Binds the stand-in for systemd's notification socket. */
static int notify_socket(char *path, size_t pathlen)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);

	cr_assert_geq(fd, 0);
	snprintf(path, pathlen, "/tmp/myring-itest-notify-%d.sock", getpid());
	unlink(path);
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
	cr_assert_eq(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0, "%s",
		     strerror(errno));
	return fd;
}

/* The next notification (NUL-terminated), or "" after timeout_ms. */
static const char *next_note(int fd, int timeout_ms)
{
	static char buf[4096];
	struct timeval tv = {timeout_ms / 1000, (timeout_ms % 1000) * 1000};
	ssize_t n;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	n = recv(fd, buf, sizeof(buf) - 1, 0);
	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static bool accepts(int port)
{
	struct sockaddr_in a = {.sin_family = AF_INET,
				.sin_port = htons((uint16_t)port)};
	int s = socket(AF_INET, SOCK_STREAM, 0);
	bool ok;

	a.sin_addr.s_addr = htonl(0x7f000001);
	ok = connect(s, (struct sockaddr *)&a, sizeof(a)) == 0;
	close(s);
	return ok;
}

/*
 * Starts MYRING_BIN with argv[1..] and stderr on errfile, as systemd
 * would: $NOTIFY_SOCKET set (if notify is not NULL), and $JOURNAL_STREAM
 * naming stderr's device and inode (if journal) or another stream.
 */
static pid_t spawn(const char *const *args, const char *errfile,
		   const char *notify, bool journal)
{
	const char *argv[32];
	int n = 0, fd;
	pid_t pid;

	argv[n++] = env_or_fail("MYRING_BIN");
	for (; *args && n < 31; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct stat st;
		char js[64];

		/* Not the journal: a stream inherited from a parent that was
		 * started by systemd, stderr since redirected. */
		fstat(fd, &st);
		snprintf(js, sizeof(js), "%llu:%llu",
			 (unsigned long long)st.st_dev,
			 (unsigned long long)st.st_ino + !journal);
		setenv("JOURNAL_STREAM", js, 1);
		if (notify)
			setenv("NOTIFY_SOCKET", notify, 1);
		else
			unsetenv("NOTIFY_SOCKET");
		dup2(fd, 1);
		dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	return pid;
}

static int wait_exit(pid_t pid, int timeout_ms)
{
	int st;

	for (int waited = 0; waited < timeout_ms; waited += 20) {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
		usleep(20000);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &st, 0);
	return -1;
}

static char *slurp(const char *path)
{
	static char buf[65536];
	FILE *f = fopen(path, "r");
	size_t n;

	cr_assert_not_null(f, "%s", path);
	n = fread(buf, 1, sizeof(buf) - 1, f);
	buf[n] = '\0';
	fclose(f);
	return buf;
}

/*
 * READY=1 only once clients can connect; a reload (SIGHUP, or the admin
 * port's RELOAD CONFIG from the control thread) is RELOADING=1 with the
 * monotonic time, then READY=1 with the outcome; SIGTERM is STOPPING=1.
 */
Test(service, notifies_ready_reloading_and_stopping, .timeout = 60)
{
	char sock[108], listen[32], backend[32], admin[32], conf[64];
	char errfile[64], err[256];
	int port = free_port(), admin_port = free_port();
	int fd = notify_socket(sock, sizeof(sock));
	unsigned long long usec;
	const char *note;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(backend, sizeof(backend), "127.0.0.1:%d",
		 env_int("MARIADB_PORT"));
	snprintf(admin, sizeof(admin), "127.0.0.1:%d", admin_port);
	snprintf(conf, sizeof(conf), "/tmp/myring-itest-service-%d.yaml", port);
	snprintf(errfile, sizeof(errfile), "/tmp/myring-itest-service-%d.log",
		 port);
	FILE *f = fopen(conf, "w");
	cr_assert_not_null(f);
	fprintf(f, "admin-user: admin\nadmin-password: service-pw\n");
	fclose(f);
	const char *args[] = {"--config", conf, "--listen", listen, "--backend",
			      backend, "--admin", admin, "--threads", "2", NULL};
	pid = spawn(args, errfile, sock, false);

	note = next_note(fd, 20000);
	cr_assert(!strncmp(note, "READY=1\n", 8), "first notification: '%s'\n%s",
		  note, slurp(errfile));
	/* systemd starts what depends on myring now: it must accept. */
	cr_assert(accepts(port), "READY=1 before port %d accepts", port);
	cr_assert(strstr(note, "STATUS=listening on "), "%s", note);
	cr_assert(strstr(note, listen), "%s", note);

	kill(pid, SIGHUP);
	note = next_note(fd, 10000);
	cr_assert_eq(sscanf(note, "RELOADING=1\nMONOTONIC_USEC=%llu", &usec), 1,
		     "'%s'", note);
	cr_assert_gt(usec, 0);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "READY=1\nSTATUS=reloaded ", 24), "'%s'", note);
	cr_assert(strstr(note, conf), "%s", note);

	/* A reload that fails still ends the reload: READY=1, and why. */
	f = fopen(conf, "w");
	fprintf(f, "admin-user: admin\nadmin-password: service-pw\nthreads: [\n");
	fclose(f);
	kill(pid, SIGHUP);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "RELOADING=1\n", 12), "'%s'", note);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "READY=1\nSTATUS=reload rejected", 30), "'%s'",
		  note);

	/* RELOAD CONFIG runs on the control thread: the same notifications. */
	f = fopen(conf, "w");
	fprintf(f, "admin-user: admin\nadmin-password: service-pw\n");
	fclose(f);
	MYSQL *a = connect_port(admin_port, "admin", "service-pw", NULL, 0, err,
				sizeof(err));
	cr_assert_not_null(a, "%s", err);
	cr_assert_eq(mysql_query(a, "RELOAD CONFIG"), 0, "%s", mysql_error(a));
	mysql_close(a);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "RELOADING=1\n", 12), "'%s'", note);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "READY=1\nSTATUS=reloaded ", 24), "'%s'", note);

	kill(pid, SIGTERM);
	note = next_note(fd, 10000);
	cr_assert(!strncmp(note, "STOPPING=1", 10), "'%s'", note);
	cr_assert_eq(wait_exit(pid, 20000), 0, "%s", slurp(errfile));
	cr_assert_str_eq(next_note(fd, 200), "", "nothing after STOPPING=1");
	close(fd);
	unlink(sock);
	unlink(conf);
	unlink(errfile);
}

/* Without $NOTIFY_SOCKET (a plain start) nothing is sent and nothing is
 * logged about it; with one that nobody reads, a warning, and it runs. */
Test(service, runs_without_a_manager_and_with_a_gone_one, .timeout = 60)
{
	char listen[32], backend[32], errfile[64];
	int port = free_port();
	const char *log;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(backend, sizeof(backend), "127.0.0.1:%d",
		 env_int("MARIADB_PORT"));
	snprintf(errfile, sizeof(errfile), "/tmp/myring-itest-service-%d.log",
		 port);
	const char *args[] = {"--listen", listen, "--backend", backend,
			      "--threads", "1", NULL};

	for (int gone = 0; gone < 2; gone++) {
		pid = spawn(args, errfile, gone ? "/nonexistent/notify" : NULL,
			    false);
		for (int i = 0; i < 500 && !accepts(port); i++)
			usleep(20000);
		cr_assert(accepts(port), "%s", slurp(errfile));
		kill(pid, SIGTERM);
		cr_assert_eq(wait_exit(pid, 20000), 0, "%s", slurp(errfile));
		log = slurp(errfile);
		if (gone)
			cr_assert(strstr(log, "warn [main] cannot tell the service "
				  "manager we are ready ($NOTIFY_SOCKET): No such "
				  "file or directory"), "%s", log);
		else
			cr_assert_null(strstr(log, "NOTIFY_SOCKET"), "%s", log);
	}
	unlink(errfile);
}

/*
 * When stderr is the journal's stream, each line starts with its syslog
 * priority and the journal's own timestamp replaces myring's; when
 * $JOURNAL_STREAM names another stream (inherited, stderr redirected),
 * lines keep their timestamps.
 */
Test(service, journal_lines_carry_their_priority, .timeout = 60)
{
	char listen[32], backend[32], errfile[64];
	int port = free_port();
	char *log, *line, *save;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(backend, sizeof(backend), "127.0.0.1:%d",
		 env_int("MARIADB_PORT"));
	snprintf(errfile, sizeof(errfile), "/tmp/myring-itest-journal-%d.log",
		 port);
	const char *bad_args[] = {"--listen", listen, "--backend",
				  "db1.invalid:3306", NULL};

	/* What stops a start is an error (systemctl status shows it in
	 * red; journalctl -p err finds it). */
	pid = spawn(bad_args, errfile, NULL, true);
	cr_assert_eq(wait_exit(pid, 20000), 2, "%s", slurp(errfile));
	log = slurp(errfile);
	cr_assert(!strncmp(log, "<3>myring: --backend: cannot resolve", 36), "%s",
		  log);
	/* A start and a drain: info lines, "<6>info [main] ...". */
	const char *run_args[] = {"--listen", listen, "--backend", backend,
				  "--threads", "1", NULL};
	pid = spawn(run_args, errfile, NULL, true);
	for (int i = 0; i < 500 && !accepts(port); i++)
		usleep(20000);
	cr_assert(accepts(port), "%s", slurp(errfile));
	kill(pid, SIGTERM);
	cr_assert_eq(wait_exit(pid, 20000), 0, "%s", slurp(errfile));
	log = slurp(errfile);
	cr_assert(strstr(log, "<6>info [main] myring "), "%s", log);
	cr_assert(strstr(log, "<6>info [main] stopped"), "%s", log);
	for (line = strtok_r(log, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save))
		cr_assert(!strncmp(line, "<3>error ", 9) ||
			  !strncmp(line, "<4>warn ", 8) ||
			  !strncmp(line, "<6>info ", 8) ||
			  !strncmp(line, "<7>debug ", 9), "line: %s", line);

	/* The same start with $JOURNAL_STREAM not naming stderr. */
	pid = spawn(run_args, errfile, NULL, false);
	for (int i = 0; i < 500 && !accepts(port); i++)
		usleep(20000);
	kill(pid, SIGTERM);
	cr_assert_eq(wait_exit(pid, 20000), 0, "%s", slurp(errfile));
	log = slurp(errfile);
	cr_assert(!strncmp(log, "20", 2) && strstr(log, "Z info [main] myring "),
		  "%s", log);
	cr_assert_null(strstr(log, "<6>"), "%s", log);
	unlink(errfile);
}

/*
 * The unit sets LimitMEMLOCK because kernels that charge io_uring rings
 * to RLIMIT_MEMLOCK (this project's 6.18 does; 6.1 charges the cgroup)
 * refuse a ring beyond it to a process without CAP_IPC_LOCK.  The start
 * then fails with status 3 and says which limit, and the query log's
 * hook, set up before the workers, is torn down cleanly (it crashed).
 */
Test(service, a_ring_beyond_the_memlock_limit_fails_the_start_cleanly,
     .timeout = 60)
{
	char listen[32], backend[32], errfile[64], qlog[64];
	int port = free_port();
	const char *log;
	pid_t pid;

	snprintf(listen, sizeof(listen), "127.0.0.1:%d", port);
	snprintf(backend, sizeof(backend), "127.0.0.1:%d",
		 env_int("MARIADB_PORT"));
	snprintf(errfile, sizeof(errfile), "/tmp/myring-itest-memlock-%d.log",
		 port);
	snprintf(qlog, sizeof(qlog), "/tmp/myring-itest-memlock-%d.qlog", port);
	unlink(qlog);
	const char *argv[] = {env_or_fail("MYRING_BIN"), "--listen", listen,
			      "--backend", backend, "--threads", "2",
			      "--log-queries", qlog, "--deny", "^DROP", NULL};
	int fd = open(errfile, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0);
	pid = fork();
	cr_assert_geq(pid, 0);
	if (pid == 0) {
		struct rlimit rl = {64 << 10, 64 << 10};

		dup2(fd, 1);
		dup2(fd, 2);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (setrlimit(RLIMIT_MEMLOCK, &rl))
			_exit(126);
		/* root may lock anything (CAP_IPC_LOCK): run as nobody. */
		if (getuid() == 0 && (setgroups(0, NULL) || setgid(65534) ||
				      setuid(65534)))
			_exit(126);
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	close(fd);
	/* The listeners are bound (and accept) before the workers start:
	 * only the start-up line says they all run. */
	for (int i = 0; i < 500 && !strstr(slurp(errfile), "info [main] myring ");
	     i++) {
		int st;
		if (waitpid(pid, &st, WNOHANG) == pid) {
			log = slurp(errfile);
			cr_assert(WIFEXITED(st), "killed by signal %d:\n%s",
				  WIFSIGNALED(st) ? WTERMSIG(st) : 0, log);
			cr_assert_eq(WEXITSTATUS(st), 3, "%s", log);
			cr_assert(strstr(log, "io_uring_queue_init: Cannot allocate "
				  "memory (the locked-memory limit is too low: raise "
				  "ulimit -l, or LimitMEMLOCK= under systemd)"), "%s",
				  log);
			unlink(errfile);
			unlink(qlog);
			return;
		}
		usleep(20000);
	}
	/* This kernel gave the rings without charging RLIMIT_MEMLOCK. */
	cr_log_info("the start succeeded with a 64 KiB RLIMIT_MEMLOCK: this "
		    "kernel does not charge io_uring rings to it");
	kill(pid, SIGTERM);
	cr_assert_eq(wait_exit(pid, 20000), 0, "%s", slurp(errfile));
	unlink(errfile);
	unlink(qlog);
}
