#include <criterion/criterion.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "config.h"

static enum cli_result run(struct config *cfg, char *err, int argc, char **argv)
{
	static char out[16384];

	return cli_parse(argc, argv, cfg, out, sizeof(out), err, 512);
}

#define ARGV(...) ((char *[]){"myring", __VA_ARGS__, NULL})
#define ARGC(...) ((int)(sizeof((char *[]){"myring", __VA_ARGS__}) / sizeof(char *)))
#define RUN(cfg, err, ...) run(cfg, err, ARGC(__VA_ARGS__), ARGV(__VA_ARGS__))

Test(cli, minimal_flags_and_defaults)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "127.0.0.1:6033", "--backend",
			 "db.example:3306"), CLI_RUN);
	cr_assert_str_eq(c.listen.host, "127.0.0.1");
	cr_assert_str_eq(c.listen.port, "6033");
	cr_assert_str_eq(c.backend.host, "db.example");
	cr_assert_eq(c.threads, 0);
	cr_assert_eq(c.ncpus, 0);
	cr_assert(!c.no_pin, "workers are pinned unless --pin off");
	cr_assert_eq(c.max_packet, 1u << 30);
	cr_assert_eq(c.log_level, LOG_INFO);
}

Test(cli, ipv6_brackets)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "[::1]:6033", "--backend",
			 "[fe80::1]:3306"), CLI_RUN);
	cr_assert_str_eq(c.listen.host, "::1");
	cr_assert_str_eq(c.backend.host, "fe80::1");
	cr_assert_eq(RUN(&c, err, "--listen", "::1:6033", "--backend", "a:1"),
		     CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--listen"), "error names the flag: %s", err);
}

Test(cli, unix_socket_backends)
{
	struct config c;
	char err[512], text[300];

	cr_assert_eq(RUN(&c, err, "--listen", "127.0.0.1:6033", "--backend",
			 "unix:/run/mysqld/mysqld.sock"), CLI_RUN, "%s", err);
	cr_assert(hostport_is_unix(&c.backend));
	cr_assert_str_eq(c.backend.host, "/run/mysqld/mysqld.sock");
	cli_format_hostport(&c.backend, text, sizeof(text));
	cr_assert_str_eq(text, "unix:/run/mysqld/mysqld.sock");
	cli_format_hostport(&c.listen, text, sizeof(text));
	cr_assert_str_eq(text, "127.0.0.1:6033");
	cr_assert(!hostport_is_unix(&c.listen));
	cr_assert_eq(RUN(&c, err, "--listen", "127.0.0.1:6033", "--primary",
			 "unix:/a.sock", "--replica", "unix:/b.sock", "--auth",
			 "proxy", "--user", "u:p"), CLI_RUN, "%s", err);
	cr_assert_str_eq(c.replicas[0].host, "/b.sock");
	config_free(&c);

	/* Relative, empty and over-long paths; listeners stay TCP. */
	char longpath[160] = "unix:/";
	memset(longpath + 6, 'x', 110);
	const char *bad[][2] = {
		{"--backend", "unix:run/mysqld.sock"}, {"--backend", "unix:"},
		{"--backend", longpath}, {"--listen", "unix:/tmp/myring.sock"},
		{"--admin", "unix:/tmp/admin.sock"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char *argv[] = {"myring", "--listen", "127.0.0.1:1", "--backend",
				"127.0.0.1:2", (char *)bad[i][0], (char *)bad[i][1],
				NULL};
		cr_assert_eq(run(&c, err, 7, argv), CLI_EXIT_USAGE, "%s %s",
			     bad[i][0], bad[i][1]);
		cr_assert(strstr(err, bad[i][0]), "names the flag: %s", err);
	}
	char *argv[] = {"myring", "--listen", "unix:/tmp/x.sock", "--backend",
			"127.0.0.1:2", NULL};
	cr_assert_eq(run(&c, err, 5, argv), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "for backends only"), "says why: %s", err);
}

Test(cli, bad_values_name_the_flag)
{
	struct {
		const char *flag, *value;
	} bad[] = {
		{"--threads", "0"}, {"--threads", "x"}, {"--cpus", "3-1"},
		{"--pin", "yes"}, {"--pin", ""},
		{"--cpus", "1,1"}, {"--cpus", ""}, {"--cpus", "0-"},
		{"--log-level", "loud"}, {"--max-packet", "12Q"},
		{"--max-packet", "2G"}, {"--buffers", "1000"},
		{"--buffer-size", "10"}, {"--connect-timeout", "0"},
		{"--backend", "nohostport"}, {"--backend", "h:99999"},
		{"--backend", "h:"}, {"--deny", ""},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct config c;
		char err[512];
		char *argv[] = {"myring", "--listen", "127.0.0.1:1", "--backend",
				"127.0.0.1:2", (char *)bad[i].flag,
				(char *)bad[i].value, NULL};
		cr_assert_eq(run(&c, err, 7, argv), CLI_EXIT_USAGE, "%s %s",
			     bad[i].flag, bad[i].value);
		cr_assert(strstr(err, bad[i].flag), "'%s' does not name %s", err,
			  bad[i].flag);
		cr_assert(!strchr(err, '\n'), "one line: %s", err);
	}
}

Test(cli, unknown_and_missing)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2", "--frob"),
		     CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--frob"));
	cr_assert_eq(RUN(&c, err, "--listen", "a:1"), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--backend"));
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend"), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--backend"));
}

Test(cli, help_and_version)
{
	struct config c;
	char out[16384], err[512];
	char *h[] = {"myring", "--help", NULL};
	char *v[] = {"myring", "--version", NULL};

	cr_assert_eq(cli_parse(2, h, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_OK);
	const char *flags[] = {"--listen", "--backend", "--threads", "--cpus",
			       "--log-queries", "--deny", "--log-level",
			       "--max-packet", "--connect-timeout",
			       "--drain-timeout", "--buffers", "--buffer-size",
			       "--max-conns", "--rewrite", "--version", "--help"};
	for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
		cr_assert(strstr(out, flags[i]), "--help lacks %s", flags[i]);
	cr_assert_eq(cli_parse(2, v, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_OK);
	cr_assert(!strncmp(out, "myring ", 7));
}

/* --version: myring's own version, then what it was built with (liburing
 * from pkg-config at build time, OpenSSL's headers), then the OpenSSL it
 * runs with.  The Makefile gives this test the defines it gives cli.c, so
 * a build rule that lost them shows here. */
Test(cli, version_names_the_libraries)
{
	struct config c;
	char out[16384], err[512], want[512];
	char *v[] = {"myring", "-V", NULL};

	cr_assert_eq(cli_parse(2, v, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_OK);
	cr_assert(strcmp(MYRING_LIBURING_VERSION, "unknown"),
		  "pkg-config did not know liburing's version");
	cr_assert(MYRING_LIBURING_VERSION[0] >= '2' &&
		  MYRING_LIBURING_VERSION[0] <= '9' &&
		  MYRING_LIBURING_VERSION[1] == '.', "%s",
		  MYRING_LIBURING_VERSION);
	snprintf(want, sizeof(want),
		 "myring %s\nbuilt with liburing %s, %s\nrunning with %s\n",
		 MYRING_VERSION, MYRING_LIBURING_VERSION, OPENSSL_VERSION_TEXT,
		 OpenSSL_version(OPENSSL_VERSION));
	cr_assert_str_eq(out, want);
	cr_assert(strstr(out, "OpenSSL 3."), "%s", out);
}

/* Every flag myring accepts is in --help, on a line of its own, and every
 * flag --help lists is one myring accepts: the manual page is made from
 * --help (scripts/manpage.sh), so this keeps both complete. */
Test(cli, help_lists_exactly_the_accepted_flags)
{
	const char *help = cli_usage(), *name;
	char line[64];
	unsigned n = 0, listed = 0;

	for (unsigned i = 0; (name = cli_flag(i)); i++, n++) {
		snprintf(line, sizeof(line), "\n  --%s ", name);
		const char *at = strstr(help, line);
		if (!at) {
			/* Flags without a value, possibly after a short one. */
			snprintf(line, sizeof(line), "--%s  ", name);
			at = strstr(help, line);
		}
		if (!at) {
			/* An optional value: --require-tls[=on|off]. */
			snprintf(line, sizeof(line), "\n  --%s[=", name);
			at = strstr(help, line);
		}
		cr_assert(at, "--help does not describe --%s", name);
	}
	cr_assert_geq(n, 20);
	for (const char *p = help; (p = strstr(p, "\n  -")); p++) {
		const char *flag = strstr(p, "--");
		size_t len = strcspn(flag + 2, " ,[\n");
		bool known = false;

		for (unsigned i = 0; (name = cli_flag(i)); i++)
			known |= strlen(name) == len && !strncmp(name, flag + 2, len);
		cr_assert(known, "--help lists --%.*s, which myring does not accept",
			  (int)len, flag + 2);
		listed++;
	}
	cr_assert_eq(listed, n, "--help has %u flag lines for %u flags", listed,
		     n);
}

Test(cli, cpulist)
{
	int cpus[16];

	cr_assert_eq(cli_parse_cpulist("0-3,6", cpus, 16, NULL, 0), 5);
	cr_assert_eq(cpus[0], 0);
	cr_assert_eq(cpus[3], 3);
	cr_assert_eq(cpus[4], 6);
	cr_assert_eq(cli_parse_cpulist("7", cpus, 16, NULL, 0), 1);
	cr_assert_eq(cpus[0], 7);
	cr_assert_eq(cli_parse_cpulist("1,0", cpus, 16, NULL, 0), 2);
	cr_assert_eq(cli_parse_cpulist("0-20", cpus, 16, NULL, 0), -1);
	cr_assert_eq(cli_parse_cpulist("a", cpus, 16, NULL, 0), -1);
	cr_assert_eq(cli_parse_cpulist("1,", cpus, 16, NULL, 0), -1);
	cr_assert_eq(cli_parse_cpulist("2-2", cpus, 16, NULL, 0), 1);
}

Test(cli, repeatable_deny_and_sizes)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2", "--deny",
			 "^DROP", "--deny", "x+", "--max-packet", "1M",
			 "--buffer-size", "64K", "--buffers", "4096",
			 "--cpus", "0-1"), CLI_RUN);
	cr_assert_eq(c.ndeny, 2);
	cr_assert_str_eq(c.deny[1], "x+");
	cr_assert_eq(c.max_packet, 1u << 20);
	cr_assert_eq(c.buffer_size, 64u << 10);
	cr_assert_eq(c.buffers, 4096);
	cr_assert_eq(c.ncpus, 2);
}

Test(cli, rewrite_specs)
{
	const char *re, *repl;
	size_t rl, pl;
	struct config c;
	char err[512];

	cr_assert_eq(cli_parse_rewrite("/a(b)/x$1/", &re, &rl, &repl, &pl), 0);
	cr_assert_eq(rl, 4);
	cr_assert_eq(strncmp(re, "a(b)", 4), 0);
	cr_assert_eq(pl, 3);
	cr_assert_eq(strncmp(repl, "x$1", 3), 0);
	cr_assert_eq(cli_parse_rewrite("#a/b##", &re, &rl, &repl, &pl), 0, "empty replacement");
	cr_assert_eq(pl, 0);
	cr_assert_eq(cli_parse_rewrite("/a/b", NULL, NULL, NULL, NULL), -1, "unterminated");
	cr_assert_eq(cli_parse_rewrite("//b/", NULL, NULL, NULL, NULL), -1, "empty regex");
	cr_assert_eq(cli_parse_rewrite("/a/b/c/", NULL, NULL, NULL, NULL), -1, "delimiter inside");
	cr_assert_eq(cli_parse_rewrite("xaxbx", NULL, NULL, NULL, NULL), -1, "alphanumeric delimiter");
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2", "--rewrite",
			 "|x|y|", "--rewrite", "/p/q/"), CLI_RUN);
	cr_assert_eq(c.nrewrite, 2);
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2", "--rewrite",
			 "nope"), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--rewrite"));
}

Test(cli, cpulist_errors_say_what_is_wrong)
{
	int cpus[16];
	char why[80];

	cr_assert_eq(cli_parse_cpulist("0,0", cpus, 16, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "CPU 0 is listed twice");
	cr_assert_eq(cli_parse_cpulist("0-2,1", cpus, 16, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "CPU 1 is listed twice");
	cr_assert_eq(cli_parse_cpulist("3-1", cpus, 16, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "range 3-1 runs backwards");
	cr_assert_eq(cli_parse_cpulist("0-", cpus, 16, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "range 0- has no end");
	cr_assert_eq(cli_parse_cpulist("0-20", cpus, 16, why, sizeof(why)), -1);
	cr_assert_str_eq(why, "more than 16 CPUs");
}

Test(cli, short_flags_and_config_errors_apart_from_flag_errors)
{
	struct config c;
	char out[16384], err[512];
	char *h[] = {"myring", "-h", NULL};
	char *v[] = {"myring", "-V", NULL};
	char *missing[] = {"myring", "--config", "/nonexistent/myring.yaml", NULL};

	cr_assert_eq(cli_parse(2, h, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_OK);
	cr_assert(strstr(out, "--config FILE"));
	cr_assert_null(strstr(out, "pinned worker thread per core"),
		       "--help must not claim pinning by default");
	cr_assert_eq(cli_parse(2, v, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_OK);
	cr_assert(!strncmp(out, "myring ", 7));
	cr_assert_eq(cli_parse(3, missing, &c, out, sizeof(out), err, sizeof(err)),
		     CLI_EXIT_CONFIG, "a file error is not a flag error: %s", err);
}

Test(cli, monitor_credentials)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2"), CLI_RUN);
	cr_assert_null(c.monitor_user);
	cr_assert_null(c.monitor_password);
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2",
			 "--monitor-user", "mon", "--monitor-password", "mon-pw"),
		     CLI_RUN);
	cr_assert_str_eq(c.monitor_user, "mon");
	cr_assert_str_eq(c.monitor_password, "mon-pw");
	cr_assert_eq(cli_set_option(&c, "monitor-password", "", err, 512), 0);
	cr_assert_str_eq(c.monitor_password, "");
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2",
			 "--monitor-user", ""), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--monitor-user"), "%s", err);
	cr_assert_eq(cli_set_option(&c, "monitor-user", "", err, 512), -1);
	cr_assert(strstr(err, "monitor-user: expected 1..384 bytes"), "%s", err);
}

Test(cli, check_interval_of_the_flags_group)
{
	struct config c;
	char err[512];

	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--auth", "proxy",
			 "--user", "u:p", "--primary", "p:1", "--replica",
			 "r:2"), CLI_RUN, "%s", err);
	cr_assert_eq(c.check_interval_ms, 0);
	config_free(&c);
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--auth", "proxy",
			 "--user", "u:p", "--primary", "p:1", "--replica",
			 "r:2", "--check-interval", "200"), CLI_RUN, "%s", err);
	cr_assert_eq(c.check_interval_ms, 200);
	config_free(&c);
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--auth", "proxy",
			 "--user", "u:p", "--primary", "p:1", "--replica",
			 "r:2", "--check-interval", "99"), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "expected 100..3600000 (ms), got '99'"), "%s",
		  err);
	config_free(&c);
	cr_assert_eq(RUN(&c, err, "--listen", "a:1", "--backend", "b:2",
			 "--check-interval", "500"), CLI_EXIT_USAGE);
	cr_assert(strstr(err, "--check-interval needs --replica"), "%s", err);
}
