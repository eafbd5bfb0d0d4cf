#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "backend_tls.h"
#include "config.h"
#include "config_users.h"
#include "mysql_auth.h"
#include "mysql_proto.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#endif

static struct config cfg;
static char err[512];

static void setup(void)
{
	cli_defaults(&cfg);
	err[0] = '\0';
}

static void teardown(void)
{
	config_free(&cfg);
#ifdef __SANITIZE_ADDRESS__
	/* Neither LeakSanitizer's report at exit nor a failed assertion in
	 * a fini fails the run; a crash here does (exit status 1, with a
	 * warning naming the test). */
	if (__lsan_do_recoverable_leak_check())
		abort();
#endif
}

TestSuite(config, .init = setup, .fini = teardown);

static int load(const char *yaml)
{
	return config_load_string("myring.yaml", yaml, strlen(yaml), &cfg, err,
				  sizeof(err));
}

/* The load fails, the message starts "myring.yaml:LINE: " and contains
 * every one of the given fragments (the key it names, mostly). */
static void expect_error(const char *yaml, unsigned line,
			 const char *const *needles)
{
	char prefix[64];

	cr_assert_eq(load(yaml), -1, "accepted:\n%s", yaml);
	snprintf(prefix, sizeof(prefix), "myring.yaml:%u: ", line);
	cr_assert(!strncmp(err, prefix, strlen(prefix)),
		  "want line %u, got: %s", line, err);
	for (; *needles; needles++)
		cr_assert(strstr(err, *needles), "'%s' not in: %s", *needles,
			  err);
}

#define EXPECT_ERROR(yaml, line, ...) \
	expect_error(yaml, line, (const char *const[]){ __VA_ARGS__, NULL })

static bool has_command(const struct rule_spec *r, uint8_t c)
{
	return r->commands[c >> 3] & (1u << (c & 7));
}

static unsigned ncommands(const struct rule_spec *r)
{
	unsigned n = 0;

	for (unsigned c = 0; c < 256; c++)
		n += has_command(r, (uint8_t)c);
	return n;
}

/* ---- a full, valid file ------------------------------------------------ */

static const char full_yaml[] =
	"# myring test config\n"			/* 1 */
	"listen: 127.0.0.1:6033\n"
	"backend: \"[::1]:3306\"\n"
	"threads: 4\n"
	"cpus: 0-3\n"					/* 5 */
	"log-queries: /tmp/q.log\n"
	"deny:\n"
	"  - '^\\s*DROP\\s'\n"
	"  - TRUNCATE\n"
	"rewrite: /foo/bar/\n"				/* 10 */
	"log-level: debug\n"
	"max-packet: 16M\n"
	"connect-timeout: 2500\n"
	"drain-timeout: 3000\n"
	"buffers: 2048\n"				/* 15 */
	"buffer-size: 32K\n"
	"max-conns: 1000\n"
	"admin: 127.0.0.1:6032\n"
	"admin-user: root\n"
	"admin-password: s3cret\n"			/* 20 */
	"metrics: 127.0.0.1:9100\n"
	"digests: on\n"
	"digest-max: 8192\n"
	"digest-text-max: 2048\n"
	"rules:\n"					/* 25 */
	"  - name: no-drop\n"
	"    match: '^\\s*(DROP|TRUNCATE)\\b'\n"
	"    case-sensitive: yes\n"
	"    user: app\n"
	"    schema: shop\n"				/* 30 */
	"    client: 10.1.2.3/8\n"
	"    command: [Query, stmt_prepare]\n"
	"    action: reject\n"
	"    error-code: 1142\n"
	"    sqlstate: 42000\n"				/* 35 */
	"    error-message: DROP is not allowed here\n"
	"    log: true\n"
	"    delay-ms: 0\n"
	"  - match: 'SELECT \\* FROM big$'\n"
	"    digest: 0x00ab12CD\n"			/* 40 */
	"    client: 2001:db8:ffff::1/32\n"
	"    action: rewrite\n"
	"    replace: '$0 LIMIT 1000'\n"
	"    route: reporting\n"
	"    continue: on\n"				/* 45 */
	"  - name: version\n"
	"    command: Query\n"
	"    digest: 12345\n"
	"    action: answer\n"
	"    columns: ['@@version_comment', other]\n"	/* 50 */
	"    rows:\n"
	"      - [myring, ~]\n"
	"      - [\"~\", x]\n";

Test(config, full_file_settings)
{
	cr_assert_eq(load(full_yaml), 0, "%s", err);
	cr_assert_str_eq(cfg.listen.host, "127.0.0.1");
	cr_assert_str_eq(cfg.listen.port, "6033");
	cr_assert_str_eq(cfg.backend.host, "::1");
	cr_assert_str_eq(cfg.backend.port, "3306");
	cr_assert_eq(cfg.threads, 4);
	cr_assert_eq(cfg.ncpus, 4);
	cr_assert_eq(cfg.cpus[3], 3);
	cr_assert_str_eq(cfg.log_queries, "/tmp/q.log");
	cr_assert_eq(cfg.ndeny, 2);
	cr_assert_str_eq(cfg.deny[0], "^\\s*DROP\\s");
	cr_assert_str_eq(cfg.deny[1], "TRUNCATE");
	cr_assert_eq(cfg.nrewrite, 1);
	cr_assert_str_eq(cfg.rewrite[0], "/foo/bar/");
	cr_assert_eq(cfg.log_level, LOG_DEBUG);
	cr_assert_eq(cfg.max_packet, 16u << 20);
	cr_assert_eq(cfg.connect_timeout_ms, 2500);
	cr_assert_eq(cfg.drain_timeout_ms, 3000);
	cr_assert_eq(cfg.buffers, 2048);
	cr_assert_eq(cfg.buffer_size, 32u << 10);
	cr_assert_eq(cfg.max_conns, 1000);
	cr_assert_str_eq(cfg.admin.host, "127.0.0.1");
	cr_assert_str_eq(cfg.admin.port, "6032");
	cr_assert_str_eq(cfg.admin_user, "root");
	cr_assert_str_eq(cfg.admin_password, "s3cret");
	cr_assert_str_eq(cfg.metrics.port, "9100");
	cr_assert_eq(cfg.digests, 1);
	cr_assert_eq(cfg.digest_max, 8192);
	cr_assert_eq(cfg.digest_text_max, 2048);
	cr_assert_eq(cfg.nrules, 3);
	cr_assert_not_null(cfg.owned);
}

Test(config, full_file_reject_rule)
{
	cr_assert_eq(load(full_yaml), 0, "%s", err);
	const struct rule_spec *r = &cfg.rules[0];
	static const uint8_t net[4] = { 10, 0, 0, 0 };

	cr_assert_str_eq(r->name, "no-drop");
	cr_assert_eq(r->line, 26);
	cr_assert_str_eq(r->match, "^\\s*(DROP|TRUNCATE)\\b");
	cr_assert(r->case_sensitive);
	cr_assert_not(r->has_digest);
	cr_assert_str_eq(r->user, "app");
	cr_assert_str_eq(r->schema, "shop");
	cr_assert(r->has_client);
	cr_assert_eq(r->client_family, AF_INET);
	cr_assert_eq(memcmp(r->client_addr, net, 4), 0);
	cr_assert_eq(r->client_prefix, 8);
	cr_assert_not(r->any_command);
	cr_assert(has_command(r, COM_QUERY));
	cr_assert(has_command(r, COM_STMT_PREPARE));
	cr_assert_eq(ncommands(r), 2);
	cr_assert_eq(r->action, RULE_REJECT);
	cr_assert_eq(r->error_code, 1142);
	cr_assert_str_eq(r->sqlstate, "42000");
	cr_assert_str_eq(r->error_message, "DROP is not allowed here");
	cr_assert_null(r->replace);
	cr_assert_eq(r->ncolumns, 0);
	cr_assert(r->log);
	cr_assert_eq(r->delay_ms, 0);
	cr_assert_null(r->route);
	cr_assert_not(r->cont);
}

Test(config, full_file_rewrite_rule)
{
	cr_assert_eq(load(full_yaml), 0, "%s", err);
	const struct rule_spec *r = &cfg.rules[1];
	static const uint8_t net[16] = { 0x20, 0x01, 0x0d, 0xb8 };

	cr_assert_str_eq(r->name, "rule-2");
	cr_assert_eq(r->line, 39);
	cr_assert_str_eq(r->match, "SELECT \\* FROM big$");
	cr_assert_not(r->case_sensitive);
	cr_assert(r->has_digest);
	cr_assert_eq(r->digest, 0xab12cd);
	cr_assert_null(r->user);
	cr_assert_null(r->schema);
	cr_assert_eq(r->client_family, AF_INET6);
	cr_assert_eq(memcmp(r->client_addr, net, 16), 0);
	cr_assert_eq(r->client_prefix, 32);
	cr_assert(r->any_command);
	cr_assert_eq(r->action, RULE_REWRITE);
	cr_assert_str_eq(r->replace, "$0 LIMIT 1000");
	cr_assert_eq(r->error_code, 0);
	cr_assert_null(r->error_message);
	cr_assert_str_eq(r->route, "reporting");
	cr_assert(r->cont);
	cr_assert_not(r->log);
	cr_assert_eq(r->delay_ms, 0);
}

Test(config, full_file_answer_rule)
{
	cr_assert_eq(load(full_yaml), 0, "%s", err);
	const struct rule_spec *r = &cfg.rules[2];

	cr_assert_str_eq(r->name, "version");
	cr_assert_eq(r->line, 46);
	cr_assert_null(r->match);
	cr_assert_eq(r->digest, 12345);
	cr_assert_not(r->has_client);
	cr_assert(has_command(r, COM_QUERY));
	cr_assert_eq(ncommands(r), 1);
	cr_assert_eq(r->action, RULE_ANSWER);
	cr_assert_eq(r->ncolumns, 2);
	cr_assert_str_eq(r->columns[0], "@@version_comment");
	cr_assert_str_eq(r->columns[1], "other");
	cr_assert_eq(r->nrows, 2);
	cr_assert_str_eq(r->cells[0], "myring");
	cr_assert_null(r->cells[1], "plain ~ is SQL NULL");
	cr_assert_str_eq(r->cells[2], "~", "quoted ~ is a string");
	cr_assert_str_eq(r->cells[3], "x");
	cr_assert_eq(r->affected_rows, 0);
	cr_assert_not(r->cont);
}

/* ---- valid files: defaults and variants -------------------------------- */

Test(config, empty_file_changes_nothing)
{
	cr_assert_eq(load(""), 0, "%s", err);
	cr_assert_eq(load("# only a comment\n\n"), 0, "%s", err);
	cr_assert_eq(load("---\n"), 0, "%s", err);
	cr_assert_eq(cfg.threads, 0);
	cr_assert_eq(cfg.nrules, 0);
	cr_assert_null(cfg.rules);
	cr_assert_str_eq(cfg.admin_user, "admin");
	cr_assert_eq(cfg.digest_text_max, 1024);
}

Test(config, rule_defaults)
{
	cr_assert_eq(load("rules:\n  - {}\n  - log: no\n"), 0, "%s", err);
	cr_assert_eq(cfg.nrules, 2);
	for (unsigned i = 0; i < 2; i++) {
		const struct rule_spec *r = &cfg.rules[i];

		cr_assert_eq(r->line, i + 2);
		cr_assert_null(r->match);
		cr_assert_not(r->has_digest);
		cr_assert_not(r->has_client);
		cr_assert(r->any_command);
		cr_assert_eq(ncommands(r), 0);
		cr_assert_eq(r->action, RULE_NONE);
		cr_assert_not(r->log);
		cr_assert_not(r->cont);
	}
	cr_assert_str_eq(cfg.rules[0].name, "rule-1");
	cr_assert_str_eq(cfg.rules[1].name, "rule-2");
}

Test(config, reject_defaults_name_the_rule)
{
	cr_assert_eq(load("rules:\n  - name: nope\n    match: x\n"
			  "    action: reject\n"), 0, "%s", err);
	cr_assert_eq(cfg.rules[0].error_code, 1105);
	cr_assert_str_eq(cfg.rules[0].sqlstate, "HY000");
	cr_assert_str_eq(cfg.rules[0].error_message,
			 "myring: query blocked by rule 'nope'");
}

Test(config, answer_ok_packet_with_affected_rows)
{
	cr_assert_eq(load("rules:\n  - match: ^SET\n    action: answer\n"
			  "    affected-rows: 18446744073709551615\n"), 0, "%s",
		     err);
	cr_assert_eq(cfg.rules[0].ncolumns, 0);
	cr_assert_null(cfg.rules[0].columns);
	cr_assert_eq(cfg.rules[0].affected_rows, UINT64_MAX);
}

Test(config, answer_with_columns_and_no_rows)
{
	cr_assert_eq(load("rules:\n  - action: answer\n    columns: [a]\n"
			  "    rows: []\n"), 0, "%s", err);
	cr_assert_eq(cfg.rules[0].ncolumns, 1);
	cr_assert_eq(cfg.rules[0].nrows, 0);
	cr_assert_null(cfg.rules[0].cells);
}

Test(config, deny_and_rewrite_take_a_scalar_or_a_sequence)
{
	cr_assert_eq(load("deny: a\nrewrite:\n  - /x/y/\n  - '|p|q|'\n"), 0,
		     "%s", err);
	cr_assert_eq(cfg.ndeny, 1);
	cr_assert_str_eq(cfg.deny[0], "a");
	cr_assert_eq(cfg.nrewrite, 2);
	cr_assert_str_eq(cfg.rewrite[1], "|p|q|");
}

Test(config, replica_takes_a_scalar_or_a_sequence)
{
	cr_assert_eq(load("primary: 10.0.0.1:3306\nreplica:\n  - 10.0.0.2:3306\n"
			  "  - 10.0.0.3:3307\nmax-lag: 0.25\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.primary.host, "10.0.0.1");
	cr_assert_eq(cfg.nreplicas, 2);
	cr_assert_str_eq(cfg.replicas[1].port, "3307");
	cr_assert_eq(cfg.max_lag_ms, 250);
}

Test(config, yaml_scalars_reach_the_flag_parser_as_text)
{
	/* Integers, booleans and nulls are just text to cli_set_option. */
	cr_assert_eq(load("threads: 0012\ndigests: off\nmax-packet: 1024\n"),
		     0, "%s", err);
	cr_assert_eq(cfg.threads, 12);
	cr_assert_eq(cfg.digests, 0);
	cr_assert_eq(cfg.max_packet, 1024);
}

Test(config, booleans_accept_every_spelling)
{
	static const char *const yes[] = { "true", "True", "YES", "on", "On" };
	static const char *const no[] = { "false", "FALSE", "no", "No", "off" };
	char yaml[128];

	for (size_t i = 0; i < 5; i++) {
		snprintf(yaml, sizeof(yaml), "rules:\n  - log: %s\n", yes[i]);
		cr_assert_eq(load(yaml), 0, "%s", err);
		cr_assert(cfg.rules[0].log, "%s", yes[i]);
		snprintf(yaml, sizeof(yaml), "rules:\n  - log: %s\n", no[i]);
		cr_assert_eq(load(yaml), 0, "%s", err);
		cr_assert_not(cfg.rules[0].log, "%s", no[i]);
	}
}

Test(config, client_networks_are_masked)
{
	static const uint8_t v6[16] = { 0xfd, 0, 0, 0, 0, 0, 0, 0x80 };

	cr_assert_eq(load("rules:\n"
			  "  - client: 192.168.77.200/20\n"
			  "  - client: 192.168.1.2\n"
			  "  - client: fd00::ff:1:2:3:4/57\n"
			  "  - client: ::1\n"
			  "  - client: 1.2.3.4/0\n"), 0, "%s", err);
	cr_assert_eq(memcmp(cfg.rules[0].client_addr,
			    (uint8_t[]){ 192, 168, 64, 0 }, 4), 0);
	cr_assert_eq(cfg.rules[0].client_prefix, 20);
	cr_assert_eq(memcmp(cfg.rules[1].client_addr,
			    (uint8_t[]){ 192, 168, 1, 2 }, 4), 0);
	cr_assert_eq(cfg.rules[1].client_prefix, 32);
	cr_assert_eq(cfg.rules[2].client_family, AF_INET6);
	cr_assert_eq(memcmp(cfg.rules[2].client_addr, v6, 16), 0);
	cr_assert_eq(cfg.rules[2].client_prefix, 57);
	cr_assert_eq(cfg.rules[3].client_prefix, 128);
	cr_assert_eq(cfg.rules[3].client_addr[15], 1);
	cr_assert_eq(cfg.rules[4].client_prefix, 0);
	cr_assert_eq(memcmp(cfg.rules[4].client_addr,
			    (uint8_t[]){ 0, 0, 0, 0 }, 4), 0);
}

Test(config, digests_in_hex_and_decimal)
{
	cr_assert_eq(load("rules:\n"
			  "  - digest: 0xFFFFFFFFFFFFFFFF\n"
			  "  - digest: 0X1\n"
			  "  - digest: 18446744073709551615\n"
			  "  - digest: 0\n"), 0, "%s", err);
	cr_assert_eq(cfg.rules[0].digest, UINT64_MAX);
	cr_assert_eq(cfg.rules[1].digest, 1);
	cr_assert_eq(cfg.rules[2].digest, UINT64_MAX);
	cr_assert(cfg.rules[3].has_digest);
	cr_assert_eq(cfg.rules[3].digest, 0);
}

Test(config, commands_by_name_any_case)
{
	cr_assert_eq(load("rules:\n  - command: [INIT_DB, field_list, "
			  "Stmt_Bulk_Execute, Reset_connection, Sleep]\n"), 0,
		     "%s", err);
	const struct rule_spec *r = &cfg.rules[0];

	cr_assert(has_command(r, COM_INIT_DB));
	cr_assert(has_command(r, COM_FIELD_LIST));
	cr_assert(has_command(r, COM_STMT_BULK_EXECUTE));
	cr_assert(has_command(r, COM_RESET_CONNECTION));
	cr_assert(has_command(r, COM_SLEEP));
	cr_assert_eq(ncommands(r), 5);
	cr_assert_not(r->any_command);
}

Test(config, null_rules_means_no_rules)
{
	cr_assert_eq(load("rules:\n"), 0, "%s", err);
	cr_assert_eq(cfg.nrules, 0);
}

Test(config, rewrite_with_empty_replacement_deletes)
{
	cr_assert_eq(load("rules:\n  - match: ' /\\*.*\\*/'\n"
			  "    action: rewrite\n    replace: ''\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.rules[0].replace, "");
}

Test(config, anchors_and_aliases)
{
	cr_assert_eq(load("x-net: &net 10.0.0.0/8\nrules:\n  - client: *net\n"),
		     -1);
	cr_assert_eq(load("rules:\n  - &r {user: a}\n  - user: b\n"
			  "    client: 10.0.0.0/8\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.rules[0].user, "a");
}

Test(config, exactly_rules_max_rules)
{
	size_t len = strlen("rules:\n") + RULES_MAX * 5 + 1;
	char *yaml = malloc(len);
	char *p = yaml + sprintf(yaml, "rules:\n");

	for (unsigned i = 0; i < RULES_MAX; i++)
		p += sprintf(p, "- {}\n");
	cr_assert_eq(load(yaml), 0, "%s", err);
	cr_assert_eq(cfg.nrules, RULES_MAX);
	cr_assert_str_eq(cfg.rules[RULES_MAX - 1].name, "rule-4096");
	free(yaml);
}

Test(config, second_load_replaces_rules_and_keeps_old_strings)
{
	cr_assert_eq(load("deny: first\nrules:\n  - name: a\n  - name: b\n"),
		     0, "%s", err);
	cr_assert_eq(load("rules:\n  - name: c\n    user: u\n"), 0, "%s", err);
	cr_assert_eq(cfg.nrules, 1);
	cr_assert_str_eq(cfg.rules[0].name, "c");
	/* The first file's strings stay valid until config_free. */
	cr_assert_eq(cfg.ndeny, 1);
	cr_assert_str_eq(cfg.deny[0], "first");
}

Test(config, failed_load_leaves_config_unchanged)
{
	cr_assert_eq(load("threads: 4\nrules:\n  - name: keep\n"), 0, "%s", err);
	cr_assert_eq(load("threads: 8\ndeny: x\nrules:\n  - name: new\n"
			  "    action: bogus\n"), -1);
	cr_assert_eq(cfg.threads, 4);
	cr_assert_eq(cfg.ndeny, 0);
	cr_assert_eq(cfg.nrules, 1);
	cr_assert_str_eq(cfg.rules[0].name, "keep");
}

Test(config, config_free_resets)
{
	cr_assert_eq(load(full_yaml), 0, "%s", err);
	config_free(&cfg);
	cr_assert_null(cfg.rules);
	cr_assert_eq(cfg.nrules, 0);
	cr_assert_null(cfg.owned);
	config_free(&cfg);
}

Test(config, load_from_a_real_file)
{
	char path[] = "/tmp/myring-config-XXXXXX";
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, full_yaml, strlen(full_yaml)),
		     (ssize_t)strlen(full_yaml));
	close(fd);
	cr_assert_eq(config_load(path, &cfg, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(cfg.nrules, 3);
	cr_assert_str_eq(cfg.rules[2].cells[0], "myring");
	unlink(path);
}

/* ---- errors: files and YAML ------------------------------------------- */

Test(config, missing_file)
{
	cr_assert_eq(config_load("/nonexistent/myring.yaml", &cfg, err,
				 sizeof(err)), -1);
	cr_assert_str_eq(err, "/nonexistent/myring.yaml: No such file or directory");
}

Test(config, directory_is_not_a_file)
{
	cr_assert_eq(config_load("/tmp", &cfg, err, sizeof(err)), -1);
	cr_assert_str_eq(err, "/tmp: Is a directory");
}

Test(config, yaml_syntax_error_has_line)
{
	EXPECT_ERROR("listen: a:1\nbackend: [b:2\nthreads: 3\n", 3,
		     "did not find expected");
	EXPECT_ERROR("listen: a:1\n  bad: indent\n", 2, "mapping values");
}

Test(config, undefined_alias)
{
	EXPECT_ERROR("listen: a:1\nbackend: *nowhere\n", 2, "undefined alias");
}

Test(config, invalid_utf8_has_line)
{
	EXPECT_ERROR("listen: a:1\nuser: \xff\xfe\n", 2, "UTF-8");
}

Test(config, top_level_not_a_mapping)
{
	EXPECT_ERROR("- listen\n- backend\n", 1, "expected a mapping",
		     "got a sequence");
	EXPECT_ERROR("\n\nlisten\n", 3, "expected a mapping", "got a scalar");
}

Test(config, second_document)
{
	EXPECT_ERROR("threads: 2\n---\nthreads: 3\n", 3, "second YAML document");
}

Test(config, duplicate_top_level_key)
{
	EXPECT_ERROR("listen: a:1\nthreads: 2\nlisten: b:2\n", 3,
		     "duplicate key 'listen' (first on line 1)");
}

Test(config, non_scalar_key)
{
	EXPECT_ERROR("threads: 2\n? [a, b]\n: 1\n", 2, "expected a scalar key",
		     "got a sequence");
}

Test(config, nul_in_value)
{
	EXPECT_ERROR("threads: 2\nlog-queries: \"a\\0b\"\n", 2, "log-queries",
		     "NUL");
}

/* ---- errors: settings ------------------------------------------------- */

Test(config, bad_flag_value_exact_message)
{
	cr_assert_eq(load("listen: a:1\n\nthreads: x\n"), -1);
	cr_assert_str_eq(err, "myring.yaml:3: threads: expected 1..1024, got 'x'");
}

Test(config, bad_flag_values_name_the_key)
{
	EXPECT_ERROR("max-packet: 2G\n", 1, "max-packet");
	EXPECT_ERROR("log-level:\n  loud\n", 2, "log-level", "'loud'");
	EXPECT_ERROR("backend: nohostport\n", 1, "backend");
	EXPECT_ERROR("buffers: 1000\n", 1, "buffers");
	EXPECT_ERROR("log-queries:\n", 1, "log-queries", "empty");
	EXPECT_ERROR("deny: ['a', '']\n", 1, "deny", "empty");
}

Test(config, unknown_key_suggests)
{
	cr_assert_eq(load("listen: a:1\n\nthread: 4\n"), -1);
	cr_assert_str_eq(err, "myring.yaml:3: unknown key 'thread' "
			 "(did you mean 'threads'?)");
	EXPECT_ERROR("admin_user: x\n", 1, "'admin_user'", "'admin-user'");
	EXPECT_ERROR("Rules: []\n", 1, "'Rules'", "'rules'");
	EXPECT_ERROR("digest-maxx: 20\n", 1, "'digest-max'");
}

Test(config, unknown_key_without_suggestion)
{
	cr_assert_eq(load("threads: 2\ncompletely-wrong: 1\n"), -1);
	cr_assert_str_eq(err, "myring.yaml:2: unknown key 'completely-wrong'");
	/* The file cannot name another config file. */
	EXPECT_ERROR("config: other.yaml\n", 1, "unknown key 'config'");
	EXPECT_ERROR("threads: 2\nnope:\n  - 1\n", 2, "unknown key 'nope'");
}

Test(config, scalar_setting_given_a_sequence)
{
	cr_assert_eq(load("threads: 2\nlisten:\n  - a:1\n"), -1);
	cr_assert_str_eq(err,
			 "myring.yaml:3: listen: expected a scalar, got a sequence");
	EXPECT_ERROR("deny: {a: 1}\n", 1, "deny", "or a sequence",
		     "got a mapping");
	EXPECT_ERROR("deny:\n  - ok\n  - [nested]\n", 3, "deny",
		     "expected a scalar");
}

Test(config, admin_credentials_lengths)
{
	char yaml[256];

	EXPECT_ERROR("admin-user: ''\n", 1, "admin-user", "1..63");
	memset(yaml, 0, sizeof(yaml));
	strcpy(yaml, "admin-user: ");
	memset(yaml + strlen(yaml), 'u', 64);
	strcat(yaml, "\n");
	EXPECT_ERROR(yaml, 1, "admin-user", "got 64");
	strcpy(yaml, "threads: 1\nadmin-password: ");
	memset(yaml + strlen(yaml), 'p', 128);
	strcat(yaml, "\n");
	EXPECT_ERROR(yaml, 2, "admin-password", "0..127");
	cr_assert_eq(load("admin-password: ''\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.admin_password, "");
	EXPECT_ERROR("admin-password: [a]\n", 1, "admin-password",
		     "expected a scalar");
}

Test(config, digest_text_max_range)
{
	EXPECT_ERROR("digest-text-max: 63\n", 1, "digest-text-max", "64..65536");
	EXPECT_ERROR("digest-text-max: 65537\n", 1, "digest-text-max");
	EXPECT_ERROR("digest-text-max: 1K\n", 1, "digest-text-max");
	cr_assert_eq(load("digest-text-max: 65536\n"), 0, "%s", err);
	cr_assert_eq(cfg.digest_text_max, 65536);
}

/* ---- errors: rules structure -------------------------------------------- */

Test(config, rules_not_a_sequence)
{
	EXPECT_ERROR("threads: 1\nrules: {name: a}\n", 2, "rules",
		     "expected a sequence", "got a mapping");
}

Test(config, rule_not_a_mapping)
{
	EXPECT_ERROR("rules:\n  - name: a\n  - just text\n", 3, "rule 'rule-2'",
		     "expected a mapping", "got a scalar");
}

Test(config, too_many_rules)
{
	size_t len = strlen("rules:\n") + (RULES_MAX + 1) * 5 + 1;
	char *yaml = malloc(len);
	char *p = yaml + sprintf(yaml, "rules:\n");

	for (unsigned i = 0; i <= RULES_MAX; i++)
		p += sprintf(p, "- {}\n");
	EXPECT_ERROR(yaml, 1, "rules: more than 4096 rules");
	free(yaml);
}

Test(config, unknown_rule_key_suggests)
{
	cr_assert_eq(load("threads: 1\nrules:\n  - match: DROP\n"
			  "    name: no-drop\n    acton: reject\n"), -1);
	cr_assert_str_eq(err, "myring.yaml:5: rule 'no-drop': unknown key "
			 "'acton' (did you mean 'action'?)");
	EXPECT_ERROR("rules:\n  - regex: x\n", 2, "rule 'rule-1'",
		     "unknown key 'regex'");
}

Test(config, duplicate_rule_key)
{
	EXPECT_ERROR("rules:\n  - name: a\n    log: true\n    log: false\n", 4,
		     "rule 'a'", "duplicate key 'log' (first on line 3)");
}

Test(config, bad_rule_names)
{
	char yaml[128];

	EXPECT_ERROR("rules:\n  - name: has space\n", 2, "rule 'rule-1'",
		     "name:", "'has space'");
	EXPECT_ERROR("rules:\n  - name: ''\n", 2, "name:");
	strcpy(yaml, "rules:\n  - name: ");
	memset(yaml + strlen(yaml), 'n', 64);
	strcat(yaml, "\n");
	EXPECT_ERROR(yaml, 2, "name:", "1..63");
}

Test(config, duplicate_rule_names)
{
	EXPECT_ERROR("rules:\n  - name: a\n  - log: on\n  - name: a\n", 4,
		     "rule 'a'", "duplicate rule name (first on line 2)");
	/* Defaults count too. */
	EXPECT_ERROR("rules:\n  - {}\n  - name: rule-1\n", 3, "rule 'rule-1'",
		     "duplicate rule name");
}

/* ---- errors: rule conditions ------------------------------------------ */

Test(config, match_compile_error)
{
	cr_assert_eq(load("rules:\n  - name: bad\n    match: 'a(b'\n"), -1);
	cr_assert_str_eq(err, "myring.yaml:3: rule 'bad': match: missing "
			 "closing parenthesis at offset 3");
	EXPECT_ERROR("rules:\n  - match: ''\n", 2, "match:", "non-empty");
	EXPECT_ERROR("rules:\n  - match: [a]\n", 2, "match:",
		     "expected a scalar");
}

Test(config, case_sensitive_checks)
{
	EXPECT_ERROR("rules:\n  - match: x\n    case-sensitive: maybe\n", 3,
		     "case-sensitive", "'maybe'");
	EXPECT_ERROR("rules:\n  - log: on\n    case-sensitive: true\n", 3,
		     "case-sensitive: only with match");
}

Test(config, match_on)
{
	cr_assert_eq(load("rules:\n  - match: x\n"
			  "  - match: y\n    match-on: raw\n"
			  "  - match: z\n    match-on: digest\n"
			  "  - match: w\n    match-on: stripped\n"
			  "    action: rewrite\n    replace: v\n"), 0, "%s", err);
	cr_assert_eq(cfg.rules[0].match_on, RULE_ON_STRIPPED, "the default");
	cr_assert_eq(cfg.rules[1].match_on, RULE_ON_RAW);
	cr_assert_eq(cfg.rules[2].match_on, RULE_ON_DIGEST);
	cr_assert_eq(cfg.rules[3].match_on, RULE_ON_STRIPPED);
	config_free(&cfg);
	EXPECT_ERROR("rules:\n  - match: x\n    match-on: text\n", 3,
		     "match-on: expected stripped, raw or digest", "'text'");
	EXPECT_ERROR("rules:\n  - log: on\n    match-on: raw\n", 3,
		     "match-on: only with match");
	EXPECT_ERROR("rules:\n  - match: x\n    match-on: digest\n"
		     "    action: rewrite\n    replace: y\n", 3,
		     "match-on: digest cannot be rewritten");
	EXPECT_ERROR("rules:\n  - match: x\n    match_on: raw\n", 3,
		     "unknown key 'match_on'", "did you mean 'match-on'");
}

Test(config, bad_digests)
{
	EXPECT_ERROR("rules:\n  - digest: 0x\n", 2, "digest:", "'0x'");
	EXPECT_ERROR("rules:\n  - digest: 0x11112222333344445\n", 2, "digest:");
	EXPECT_ERROR("rules:\n  - digest: 0xfg\n", 2, "digest:");
	EXPECT_ERROR("rules:\n  - digest: -1\n", 2, "digest:");
	EXPECT_ERROR("rules:\n  - digest: 18446744073709551616\n", 2, "digest:");
}

Test(config, empty_user_and_schema)
{
	EXPECT_ERROR("rules:\n  - user: ''\n", 2, "user:", "non-empty");
	EXPECT_ERROR("rules:\n  - user: a\n    schema:\n", 3, "schema:");
	EXPECT_ERROR("rules:\n  - schema: {a: b}\n", 2, "schema:",
		     "got a mapping");
}

Test(config, bad_clients)
{
	static const char *const bad[] = {
		"10.0.0.0/33", "10.0.0.0/", "::/129", "db.example.com",
		"10.0.0", "10.0.0.0/8x", "10.0.0.0/-1", "/8", "fe80::1%eth0",
	};
	char yaml[128];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(yaml, sizeof(yaml), "rules:\n  - log: on\n"
			 "    client: '%s'\n", bad[i]);
		EXPECT_ERROR(yaml, 3, "rule 'rule-1'", "client:", bad[i]);
	}
}

Test(config, bad_commands)
{
	EXPECT_ERROR("rules:\n  - command: Qurey\n", 2,
		     "unknown command 'Qurey' (did you mean 'Query'?)");
	EXPECT_ERROR("rules:\n  - command:\n      - Query\n      - Unknown\n",
		     4, "unknown command 'Unknown'");
	EXPECT_ERROR("rules:\n  - command: []\n", 2, "command:",
		     "at least one");
	EXPECT_ERROR("rules:\n  - command: {Query: 1}\n", 2, "command:",
		     "got a mapping");
	EXPECT_ERROR("rules:\n  - command: [[Query]]\n", 2, "command:",
		     "expected a scalar");
}

/* ---- errors: actions ------------------------------------------------- */

Test(config, bad_action)
{
	EXPECT_ERROR("rules:\n  - name: x\n    action: block\n", 3, "rule 'x'",
		     "action:", "'block'");
}

Test(config, reject_keys_only_with_reject)
{
	EXPECT_ERROR("rules:\n  - log: on\n    error-code: 1000\n", 3,
		     "error-code: only with action reject");
	EXPECT_ERROR("rules:\n  - action: answer\n    sqlstate: 42000\n", 3,
		     "sqlstate: only with action reject (action is answer)");
	EXPECT_ERROR("rules:\n  - match: x\n    action: rewrite\n"
		     "    replace: y\n    error-message: no\n", 5,
		     "error-message: only with action reject");
}

Test(config, bad_reject_values)
{
	EXPECT_ERROR("rules:\n  - action: reject\n    error-code: 0\n", 3,
		     "error-code:", "1..65535");
	EXPECT_ERROR("rules:\n  - action: reject\n    error-code: 65536\n", 3,
		     "error-code:");
	EXPECT_ERROR("rules:\n  - action: reject\n    sqlstate: hy000\n", 3,
		     "sqlstate:", "'hy000'");
	EXPECT_ERROR("rules:\n  - action: reject\n    sqlstate: HY00\n", 3,
		     "sqlstate:");
	EXPECT_ERROR("rules:\n  - action: reject\n    error-message: ''\n", 3,
		     "error-message:");
}

Test(config, rewrite_requirements)
{
	EXPECT_ERROR("rules:\n  - match: x\n    action: rewrite\n", 3,
		     "action rewrite requires replace");
	EXPECT_ERROR("rules:\n  - action: rewrite\n    replace: y\n", 2,
		     "action rewrite requires match");
	EXPECT_ERROR("rules:\n  - match: x\n    replace: y\n", 3,
		     "replace: only with action rewrite (action is none)");
}

Test(config, answer_keys_only_with_answer)
{
	EXPECT_ERROR("rules:\n  - action: reject\n    columns: [a]\n", 3,
		     "columns: only with action answer");
	EXPECT_ERROR("rules:\n  - rows: [[a]]\n", 2,
		     "rows: only with action answer");
	EXPECT_ERROR("rules:\n  - affected-rows: 1\n", 2,
		     "affected-rows: only with action answer");
}

Test(config, bad_columns)
{
	char yaml[1024];
	char *p;

	EXPECT_ERROR("rules:\n  - action: answer\n    columns: []\n", 3,
		     "columns:", "1..64");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: a\n", 3,
		     "columns:", "got a scalar");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns:\n      - a\n"
		     "      - ''\n", 5, "columns: column 2");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a, ~]\n", 3,
		     "columns: column 2");
	p = yaml + sprintf(yaml, "rules:\n  - action: answer\n    columns: [");
	for (int i = 0; i < 65; i++)
		p += sprintf(p, "c%d, ", i);
	strcpy(p - 2, "]\n");
	EXPECT_ERROR(yaml, 3, "columns:", "got 65");
}

Test(config, bad_rows)
{
	EXPECT_ERROR("rules:\n  - action: answer\n    rows: [[a]]\n", 3,
		     "rows: requires columns");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a, b]\n"
		     "    rows:\n      - [1, 2]\n      - [1]\n", 6,
		     "rows: row 2", "has 1 cells", "one per column (2)");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a]\n"
		     "    rows: [x]\n", 4, "rows: row 1", "got a scalar");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a]\n"
		     "    rows:\n      - [[x]]\n", 5, "rows: row 1",
		     "expected a scalar");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a]\n"
		     "    rows: x\n", 4, "rows:", "expected a sequence");
}

Test(config, too_many_rows)
{
	size_t len = 128 + (RULE_ANSWER_MAX_ROWS + 1) * 12;
	char *yaml = malloc(len);
	char *p = yaml + sprintf(yaml, "rules:\n  - action: answer\n"
				 "    columns: [a]\n    rows:\n");

	for (unsigned i = 0; i <= RULE_ANSWER_MAX_ROWS; i++)
		p += sprintf(p, "      - [x]\n");
	EXPECT_ERROR(yaml, 5, "rows: more than 1024 rows");
	free(yaml);
}

Test(config, bad_affected_rows)
{
	EXPECT_ERROR("rules:\n  - action: answer\n    affected-rows: -1\n", 3,
		     "affected-rows:", "'-1'");
	EXPECT_ERROR("rules:\n  - action: answer\n    columns: [a]\n"
		     "    affected-rows: 1\n", 4,
		     "affected-rows: only for an answer without columns");
}

/* ---- errors: side effects ---------------------------------------------- */

Test(config, bad_log_delay_route)
{
	EXPECT_ERROR("rules:\n  - log: sometimes\n", 2, "log:", "'sometimes'");
	EXPECT_ERROR("rules:\n  - delay-ms: 600001\n", 2, "delay-ms:",
		     "0..600000");
	EXPECT_ERROR("rules:\n  - delay-ms: 1s\n", 2, "delay-ms:");
	/* The proxy answers these itself: a delay would be ignored. */
	EXPECT_ERROR("rules:\n  - action: answer\n    delay-ms: 50\n", 3,
		     "delay-ms: not with action answer");
	EXPECT_ERROR("rules:\n  - action: reject\n    delay-ms: 50\n", 3,
		     "delay-ms: not with action reject");
	EXPECT_ERROR("rules:\n  - route: 'a/b'\n", 2, "route:", "'a/b'");
	EXPECT_ERROR("rules:\n  - route:\n", 2, "route:");
	cr_assert_eq(load("rules:\n  - delay-ms: 600000\n    route: a.b-c_9\n"),
		     0, "%s", err);
	cr_assert_eq(cfg.rules[0].delay_ms, 600000);
}

Test(config, continue_after_terminal_actions)
{
	EXPECT_ERROR("rules:\n  - name: r\n    action: reject\n"
		     "    continue: true\n", 4, "rule 'r'", "continue:",
		     "reject");
	EXPECT_ERROR("rules:\n  - action: answer\n    continue: yes\n", 3,
		     "continue:", "answer");
	EXPECT_ERROR("rules:\n  - continue: 1\n", 2, "continue:", "'1'");
	cr_assert_eq(load("rules:\n  - action: reject\n    continue: false\n"),
		     0, "%s", err);
}

Test(config, error_in_a_later_rule_frees_earlier_ones)
{
	/* ASan's leak check is the real assertion here. */
	EXPECT_ERROR("deny: [a, b]\nrules:\n"
		     "  - action: answer\n    columns: [a]\n    rows: [[1]]\n"
		     "  - match: x\n    action: rewrite\n    replace: y\n"
		     "  - action: nope\n", 9, "rule 'rule-3'", "action:");
	cr_assert_eq(cfg.ndeny, 0);
	cr_assert_null(cfg.rules);
	cr_assert_null(cfg.owned);
}

/* ---- users -------------------------------------------------------------- */

/* PASSWORD('password'), as mysql.user shows it. */
#define NATIVE_PASSWORD "*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E19"
/* MariaDB's stored ed25519 key for ED_PW (mysql.global_priv). */
#define ED_PW "0123456789abcdef0123456789ABCDEF"
#define ED_KEY "8oHfN5iJFMxrXivbHZLqkjfj9x57hxLOZYi73VscRbo"

/* caching_sha2's stored text for pw, with a printable salt. */
static void sha2_stored(const char *pw, char out[71])
{
	static const uint8_t salt[20] = "0123456789abcdefghij";
	struct auth_sha2_crypt c;

	cr_assert_eq(auth_sha2_crypt_make(pw, strlen(pw), salt, 5000, &c), 0);
	auth_sha2_crypt_format(&c, out);
	out[70] = '\0';
}

static const struct auth_user *user_named(const char *name)
{
	int i = config_user_find(&cfg, name);

	cr_assert_geq(i, 0, "no user '%s'", name);
	return &cfg.users[i];
}

Test(config, users_every_plugin_and_form)
{
	char yaml[2048], sha2[71], hex[143];
	uint8_t stage2[20], pub[32];
	const struct auth_user *u;

	sha2_stored("sha2-pw", sha2);
	strcpy(hex, "0x");
	for (int i = 0; i < 70; i++)
		sprintf(hex + 2 + 2 * i, "%02X", (unsigned char)sha2[i]);
	snprintf(yaml, sizeof(yaml),
		 "auth: proxy\n"
		 "users:\n"
		 "  - name: app\n"
		 "    password: app-pw\n"
		 "  - name: report\n"
		 "    plugin: mysql_native_password\n"
		 "    stored: '" NATIVE_PASSWORD "'\n"
		 "  - name: ed\n"
		 "    plugin: ed25519\n"
		 "    stored: " ED_KEY "\n"
		 "    backend-password: " ED_PW "\n"
		 "  - name: web\n"
		 "    plugin: caching_sha2_password\n"
		 "    stored: '%s'\n"
		 "  - name: web2\n"
		 "    plugin: caching_sha2_password\n"
		 "    stored: %s\n"
		 "  - name: front\n"
		 "    password: front-pw\n"
		 "    backend-user: app_rw\n"
		 "    backend-password: rw-pw\n"
		 "  - name: ed2\n"
		 "    plugin: client_ed25519\n"
		 "    password: " ED_PW "\n", sha2, hex);
	cr_assert_eq(load(yaml), 0, "%s", err);
	cr_assert_eq(cfg.auth, AUTH_PROXY);
	cr_assert_eq(cfg.nusers, 7);
	cr_assert_eq(cfg.nusers_file, 7);

	/* A plaintext: every verifier, and myring's backend login is the
	 * user's own. */
	u = user_named("app");
	cr_assert_eq(u->plugin, AUTH_NATIVE);
	cr_assert(u->have & AUTH_USER_PLAIN);
	cr_assert_str_eq(u->secret.plain, "app-pw");
	cr_assert(!u->backend_explicit);

	/* The server's hash: the verifier only, no secret yet. */
	u = user_named("report");
	auth_native_stage2("password", stage2);
	cr_assert_eq(u->have, AUTH_USER_NATIVE);
	cr_assert_eq(memcmp(u->native_stage2, stage2, 20), 0);
	cr_assert_eq(u->secret.know, 0);
	cr_assert(!u->backend_explicit);

	/* ed25519's key, and the backend login as the same name. */
	u = user_named("ed");
	cr_assert_eq(u->plugin, AUTH_ED25519);
	cr_assert_eq(u->have, AUTH_USER_ED25519);
	cr_assert_eq(auth_ed25519_key_of_password(ED_PW, strlen(ED_PW), pub), 0);
	cr_assert_eq(memcmp(u->ed25519_pub, pub, 32), 0);
	cr_assert(u->backend_explicit);
	cr_assert_str_eq(u->backend_user, "ed");
	cr_assert_str_eq(u->backend_secret.plain, ED_PW);
	cr_assert(u->backend_secret.know & AUTH_KNOW_PLAIN);

	/* caching_sha2 in both stored forms: the same verifier. */
	u = user_named("web");
	cr_assert_eq(u->plugin, AUTH_CACHING_SHA2);
	cr_assert_eq(u->have, AUTH_USER_SHA2_CRYPT);
	cr_assert(auth_sha2_crypt_verify(&u->sha2_crypt, "sha2-pw", 7));
	cr_assert(!auth_sha2_crypt_verify(&u->sha2_crypt, "sha2-pW", 7));
	cr_assert(auth_sha2_crypt_verify(&user_named("web2")->sha2_crypt,
					 "sha2-pw", 7));

	/* Another account for the backend login. */
	u = user_named("front");
	cr_assert(u->backend_explicit);
	cr_assert_str_eq(u->backend_user, "app_rw");
	cr_assert_str_eq(u->backend_secret.plain, "rw-pw");
	cr_assert_str_eq(u->secret.plain, "front-pw");

	/* The wire name of the plugin is taken too; a plaintext is enough
	 * for an ed25519 backend login. */
	u = user_named("ed2");
	cr_assert_eq(u->plugin, AUTH_ED25519);
	cr_assert(u->have & AUTH_USER_ED25519);
	cr_assert_eq(memcmp(u->ed25519_pub, pub, 32), 0);
}

Test(config, users_without_a_password)
{
	const struct auth_user *u;

	cr_assert_eq(load("users:\n"
			  "  - {name: a, password: ''}\n"
			  "  - {name: b, stored: \"\"}\n"
			  "  - {name: c, stored: '', plugin: caching_sha2_password}\n"
			  "  - {name: d, password: x, backend-user: e, "
			  "backend-password: ''}\n"), 0, "%s", err);
	for (const char *n = "abc"; *n; n++) {
		char name[2] = {*n, 0};

		u = user_named(name);
		cr_assert(u->have & AUTH_USER_EMPTY, "%s", name);
		/* Known to be empty: myring's backend login sends nothing. */
		cr_assert(u->secret.know & AUTH_KNOW_PLAIN, "%s", name);
		cr_assert_eq(u->secret.plain_len, 0);
	}
	u = user_named("d");
	cr_assert(u->backend_explicit);
	cr_assert_eq(u->backend_secret.plain_len, 0);
	cr_assert(u->backend_secret.know & AUTH_KNOW_PLAIN);
}

Test(config, users_null_or_empty_means_none)
{
	cr_assert_eq(load("users:\n"), 0, "%s", err);
	cr_assert_eq(cfg.nusers, 0);
	cr_assert_eq(load("users: []\n"), 0, "%s", err);
	cr_assert_eq(cfg.nusers, 0);
	cr_assert_null(cfg.users);
}

Test(config, users_and_the_user_key_together)
{
	cr_assert_eq(load("user: a:pw-a\nusers:\n  - {name: b, password: pw-b}\n"),
		     0, "%s", err);
	cr_assert_eq(cfg.nusers, 2);
	cr_assert_str_eq(cfg.users[0].name, "a");
	cr_assert_str_eq(cfg.users[1].name, "b");
}

/* ---- users: errors -------------------------------------------------- */

Test(config, users_shape_errors)
{
	EXPECT_ERROR("users: app\n", 1,
		     "users: expected a sequence of users, got a scalar");
	EXPECT_ERROR("users:\n  name: app\n", 2,
		     "users: expected a sequence of users, got a mapping");
	EXPECT_ERROR("users:\n  - app\n", 2,
		     "users: entry 1: expected a mapping (name: and password: "
		     "or stored:), got a scalar");
	EXPECT_ERROR("users:\n  - {name: a, password: x}\n  - [b]\n", 3,
		     "users: entry 2: expected a mapping");
}

Test(config, users_name_errors)
{
	char yaml[600];

	EXPECT_ERROR("users:\n  - password: x\n", 2,
		     "users: entry 1: name: required (the user name clients "
		     "log in with)");
	EXPECT_ERROR("users:\n  - name: ''\n    password: x\n", 2,
		     "users: entry 1: name: expected 1..384 bytes, got 0");
	EXPECT_ERROR("users:\n  - name:\n    password: x\n", 2,
		     "users: entry 1: name: no value (YAML null)");
	EXPECT_ERROR("users:\n  - name: [a]\n    password: x\n", 2,
		     "users: entry 1: name: expected a scalar, got a sequence");
	strcpy(yaml, "users:\n  - password: x\n    name: ");
	memset(yaml + strlen(yaml), 'n', 385);
	strcpy(yaml + strlen("users:\n  - password: x\n    name: ") + 385, "\n");
	EXPECT_ERROR(yaml, 3, "users: entry 1: name: expected 1..384 bytes, "
		     "got 385");
}

Test(config, users_key_errors)
{
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "    backend_user: b\n", 4,
		     "user 'a': unknown key 'backend_user' (did you mean "
		     "'backend-user'?)");
	EXPECT_ERROR("users:\n  - name: a\n    pasword: x\n", 3,
		     "user 'a': unknown key 'pasword' (did you mean 'password'?)");
	EXPECT_ERROR("users:\n  - name: a\n    color: red\n", 3,
		     "user 'a': unknown key 'color'");
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n    password: y\n",
		     4, "duplicate key 'password' (first on line 3)");
	EXPECT_ERROR("users:\n  - name: a\n    password: [x]\n", 3,
		     "user 'a': password: expected a scalar, got a sequence");
	EXPECT_ERROR("usres:\n  - name: a\n", 1, "unknown key 'usres'");
}

Test(config, users_plugin_errors)
{
	EXPECT_ERROR("users:\n  - name: a\n    plugin: sha256_password\n"
		     "    password: x\n", 3,
		     "user 'a': plugin: expected mysql_native_password, ed25519 "
		     "or caching_sha2_password, got 'sha256_password'");
	EXPECT_ERROR("users:\n  - name: a\n    plugin:\n    password: x\n", 3,
		     "user 'a': plugin: no value");
}

Test(config, users_secret_errors)
{
	char yaml[600];

	EXPECT_ERROR("users:\n  - name: a\n", 2,
		     "user 'a': needs password (the plaintext) or stored (what "
		     "the server stores: SELECT authentication_string FROM "
		     "mysql.user)");
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "    stored: '" NATIVE_PASSWORD "'\n", 4,
		     "user 'a': give password (the plaintext) or stored (the "
		     "server's hash), not both");
	/* Unfinished is not the same as empty. */
	EXPECT_ERROR("users:\n  - name: a\n    password:\n", 3,
		     "user 'a': password: no value (YAML null); write \"\" for "
		     "an account without a password");
	EXPECT_ERROR("users:\n  - name: a\n    stored: ~\n", 3,
		     "user 'a': stored: no value (YAML null)");
	strcpy(yaml, "users:\n  - name: a\n    password: ");
	memset(yaml + strlen(yaml), 'p', 257);
	strcpy(yaml + strlen("users:\n  - name: a\n    password: ") + 257, "\n");
	EXPECT_ERROR(yaml, 3, "user 'a': password: longer than 256 bytes");
}

Test(config, users_stored_errors_never_quote_the_text)
{
	EXPECT_ERROR("users:\n  - name: a\n    stored: hunter2\n", 3,
		     "user 'a': stored: for mysql_native_password, expected '*' "
		     "and 40 hex digits, as PASSWORD('...') gives it; got 7 "
		     "characters (a plaintext password goes in password:)");
	cr_assert_null(strstr(err, "hunter2"));
	EXPECT_ERROR("users:\n  - name: a\n"
		     "    stored: '*2470C0C06DEE42FD1618BB99005ADCA2EC9D1E1G'\n",
		     3, "got 41 characters that are not one");
	EXPECT_ERROR("users:\n  - name: a\n    plugin: ed25519\n"
		     "    stored: '" NATIVE_PASSWORD "'\n"
		     "    backend-password: x\n", 4,
		     "user 'a': stored: not what ed25519 stores, but it has the "
		     "form of what mysql_native_password stores (set plugin: "
		     "mysql_native_password, if that is the account's plugin "
		     "on the server)");
	EXPECT_ERROR("users:\n  - name: a\n    stored: " ED_KEY "\n", 3,
		     "not what mysql_native_password stores, but it has the "
		     "form of what ed25519 stores");
	EXPECT_ERROR("users:\n  - name: a\n    plugin: caching_sha2_password\n"
		     "    stored: '$A$005$short'\n", 4,
		     "user 'a': stored: for caching_sha2_password, expected "
		     "'$A$' and 67 more characters, or 0x and 140 hex digits as "
		     "SHOW CREATE USER prints it; got 12 characters");
}

/* An ed25519 login reveals nothing of the password: with only the key,
 * myring could never open a backend connection for the user. */
Test(config, users_ed25519_stored_needs_a_backend_password)
{
	EXPECT_ERROR("users:\n  - name: ed\n    plugin: ed25519\n"
		     "    stored: " ED_KEY "\n", 4,
		     "user 'ed': stored: with plugin ed25519 myring cannot log in "
		     "to the server as 'ed' (an ed25519 login does not reveal the "
		     "password): add backend-password: with its password on the "
		     "server, or give password: instead of stored:");
	/* Another account with its password does as well. */
	cr_assert_eq(load("users:\n  - name: ed\n    plugin: ed25519\n"
			  "    stored: " ED_KEY "\n    backend-user: b\n"
			  "    backend-password: pw\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.users[0].backend_user, "b");
}

Test(config, users_backend_errors)
{
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "    backend-user: rw\n", 4,
		     "user 'a': backend-user: requires backend-password (the "
		     "password of 'rw' on the server; \"\" if it has none)");
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "    backend-user: ''\n    backend-password: y\n", 4,
		     "user 'a': backend-user: expected 1..384 bytes, got 0");
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "    backend-password:\n", 4,
		     "user 'a': backend-password: no value (YAML null)");
}

Test(config, users_defined_twice)
{
	EXPECT_ERROR("users:\n  - name: a\n    password: x\n"
		     "  - name: b\n    password: x\n"
		     "  - name: a\n    password: y\n", 6,
		     "user 'a': defined twice (first on line 2)");
	EXPECT_ERROR("user: a:x\nusers:\n  - name: a\n    password: y\n", 3,
		     "user 'a': defined twice (also by the user key)");
	EXPECT_ERROR("users:\n  - name: a\n    password: y\nuser: a:x\n", 4,
		     "user 'a' given twice");
}

Test(config, users_at_most_cli_max_users)
{
	size_t cap = (CLI_MAX_USERS + 1) * 40 + 16;
	char *yaml = malloc(cap), *p = yaml + sprintf(yaml, "users:\n");

	for (unsigned i = 0; i <= CLI_MAX_USERS; i++)
		p += sprintf(p, "  - {name: u%u, password: ''}\n", i);
	EXPECT_ERROR(yaml, CLI_MAX_USERS + 2, "user 'u256': more than 256 users");
	free(yaml);
}

Test(config, users_failed_load_leaves_them_unchanged)
{
	cr_assert_eq(load("users:\n  - {name: keep, password: x}\n"), 0, "%s",
		     err);
	/* The second user fails after the first was added to the copy. */
	cr_assert_eq(load("users:\n  - {name: new, password: y}\n"
			  "  - {name: bad}\n"), -1);
	cr_assert_eq(cfg.nusers, 1);
	cr_assert_str_eq(cfg.users[0].name, "keep");
	cr_assert_str_eq(cfg.users[0].secret.plain, "x");
}

/* RELOAD CONFIG names users as restart-only when anything about them
 * changed, secrets and backend logins included. */
Test(config, users_equal_compares_everything)
{
	static const char *const variants[] = {
		"users:\n  - {name: a, password: x}\n",
		"users:\n  - {name: a, password: y}\n",
		"users:\n  - {name: b, password: x}\n",
		"users:\n  - {name: a, password: x, plugin: ed25519}\n",
		"users:\n  - {name: a, password: x, backend-password: z}\n",
		"users:\n  - {name: a, password: x, backend-user: c, "
		"backend-password: z}\n",
		"users:\n  - {name: a, password: x}\n  - {name: b, password: x}\n",
		"users:\n  - {name: a, stored: '" NATIVE_PASSWORD "'}\n",
	};
	size_t n = sizeof(variants) / sizeof(variants[0]);

	for (size_t i = 0; i < n; i++) {
		struct config a, b;

		for (size_t j = 0; j < n; j++) {
			cli_defaults(&a);
			cli_defaults(&b);
			cr_assert_eq(config_load_string("a", variants[i],
							strlen(variants[i]), &a,
							err, sizeof(err)), 0);
			cr_assert_eq(config_load_string("b", variants[j],
							strlen(variants[j]), &b,
							err, sizeof(err)), 0);
			cr_assert_eq(config_users_equal(&a, &b), i == j,
				     "%zu vs %zu", i, j);
			config_free(&a);
			config_free(&b);
		}
	}
}

/* A --user flag may not define a user the file defines. */
Test(config, users_flag_and_file_define_one_user_once)
{
	char path[] = "/tmp/myring-users-XXXXXX", out[64];
	static const char yaml[] = "users:\n  - {name: app, password: x}\n";
	char *argv[] = {"myring", "--config", path, "--listen", "127.0.0.1:1",
			"--backend", "127.0.0.1:2", "--user", "app:y", NULL};
	int fd = mkstemp(path);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, yaml, strlen(yaml)), (ssize_t)strlen(yaml));
	close(fd);
	config_free(&cfg);
	cr_assert_eq(cli_parse(9, argv, &cfg, out, sizeof(out), err,
			       sizeof(err)), CLI_EXIT_USAGE);
	cr_assert_str_eq(err, "--user: user 'app' is also in the config file; "
			 "define each user once");
	config_free(&cfg);
	/* Another name is added after the file's. */
	argv[8] = "other:y";
	cr_assert_eq(cli_parse(9, argv, &cfg, out, sizeof(out), err,
			       sizeof(err)), CLI_RUN, "%s", err);
	cr_assert_eq(cfg.nusers, 2);
	cr_assert_str_eq(cfg.users[1].name, "other");
	unlink(path);
}

/* A --user value without a name may be a password: it is not echoed. */
Test(config, user_flag_errors_do_not_echo_the_value)
{
	EXPECT_ERROR("user: hunter2\n", 1, "user: expected NAME:PASSWORD (no "
		     "':' in the value)");
	cr_assert_null(strstr(err, "hunter2"));
	EXPECT_ERROR("user: ':hunter2'\n", 1, "the name is empty");
	cr_assert_null(strstr(err, "hunter2"));
}

/* ---- a group server's own TLS settings (backend_tls.h) ---------------- */

static const char tls_groups[] =
	"auth: proxy\n"
	"groups:\n"
	"  - name: main\n"
	"    servers:\n"
	"      - address: 10.0.0.1:3306\n"
	"        tls: verify-ca\n"
	"        tls-ca: /etc/ca.pem\n"
	"        tls-cert: /etc/c.pem\n"
	"        tls-key: /etc/k.pem\n"
	"      - address: 10.0.0.2:3306\n"
	"        tls: OFF\n"
	"      - 10.0.0.3:3306\n";

Test(config, server_tls_keys_are_read)
{
	const struct server_spec *sv;

	cr_assert_eq(load(tls_groups), 0, "%s", err);
	cr_assert_eq(cfg.ngroups, 1);
	sv = cfg.groups[0].servers;
	cr_assert_eq(sv[0].tls, 1 + BTLS_VERIFY_CA);
	cr_assert_str_eq(sv[0].tls_ca, "/etc/ca.pem");
	cr_assert_str_eq(sv[0].tls_cert, "/etc/c.pem");
	cr_assert_str_eq(sv[0].tls_key, "/etc/k.pem");
	cr_assert_eq(sv[1].tls, 1 + BTLS_OFF);
	cr_assert_null(sv[1].tls_ca);
	/* Not given: the global --backend-tls. */
	cr_assert_eq(sv[2].tls, 0);
	cr_assert_null(sv[2].tls_cert);
}

Test(config, server_tls_errors_name_the_group_and_key)
{
	EXPECT_ERROR("groups:\n"
		     "  - name: g\n"
		     "    servers:\n"
		     "      - address: h:1\n"
		     "        tls: sometimes\n", 5, "group 'g': server tls",
		     "expected off, preferred, required, verify-ca or "
		     "verify-identity", "'sometimes'");
	EXPECT_ERROR("groups:\n"
		     "  - name: g\n"
		     "    servers:\n"
		     "      - address: h:1\n"
		     "        tls-key: /k.pem\n", 4, "group 'g'",
		     "tls-key needs tls-cert");
	EXPECT_ERROR("groups:\n"
		     "  - name: g\n"
		     "    servers:\n"
		     "      - address: h:1\n"
		     "        tls-ca: \"\"\n", 5, "group 'g': server tls-ca",
		     "expected a file name");
	EXPECT_ERROR("groups:\n"
		     "  - name: g\n"
		     "    servers:\n"
		     "      - address: h:1\n"
		     "        tls-version: 1.3\n", 5, "tls-version");
}

static int check_tls(void)
{
	err[0] = '\0';
	return btls_check(&cfg, err, sizeof(err));
}

Test(config, server_tls_mode_wins_over_the_global_one)
{
	struct btls_settings st;

	cr_assert_eq(load(tls_groups), 0, "%s", err);
	cfg.backend_tls = BTLS_REQUIRED;
	cfg.backend_tls_cert = "/global/c.pem";
	btls_effective(&cfg, &cfg.groups[0].servers[0], &st);
	cr_assert_eq(st.mode, BTLS_VERIFY_CA);
	cr_assert_str_eq(st.ca, "/etc/ca.pem");
	cr_assert_str_eq(st.cert, "/etc/c.pem");
	btls_effective(&cfg, &cfg.groups[0].servers[1], &st);
	cr_assert_eq(st.mode, BTLS_OFF, "tls: off while the global is required");
	cr_assert_null(st.cert);
	btls_effective(&cfg, &cfg.groups[0].servers[2], &st);
	cr_assert_eq(st.mode, BTLS_REQUIRED);
	cr_assert_str_eq(st.cert, "/global/c.pem");
	cr_assert_null(st.ca, "no CA read without verification");
	cr_assert_eq(check_tls(), 0, "%s", err);
}

Test(config, server_verify_needs_its_own_ca_or_the_global_one)
{
	cr_assert_eq(load("auth: proxy\n"
			  "groups:\n"
			  "  - name: main\n"
			  "    servers:\n"
			  "      - address: 10.0.0.1:3306\n"
			  "        tls: verify-identity\n"
			  "      - 10.0.0.2:3306\n"), 0, "%s", err);
	/* The global is off: the server alone asks for TLS. */
	cr_assert_eq(check_tls(), -1);
	cr_assert(strstr(err, "group 'main': server 10.0.0.1:3306: tls: "
			 "verify-identity needs a CA"), "%s", err);
	cfg.backend_tls_ca = "/global/ca.pem";
	cr_assert_eq(check_tls(), 0, "the global CA serves it: %s", err);
}

Test(config, server_tls_files_with_tls_off_are_refused)
{
	cr_assert_eq(load("auth: proxy\n"
			  "groups:\n"
			  "  - name: main\n"
			  "    servers:\n"
			  "      - address: \"[::1]:3306\"\n"
			  "        tls-ca: /ca.pem\n"), 0, "%s", err);
	cr_assert_eq(check_tls(), -1);
	cr_assert(strstr(err, "server [::1]:3306: tls-ca/tls-cert/tls-key, "
			 "but TLS is off"), "%s", err);
	cfg.backend_tls = BTLS_PREFERRED;
	cr_assert_eq(check_tls(), 0, "%s", err);
}

Test(config, global_tls_files_need_something_that_uses_them)
{
	cr_assert_eq(load("auth: proxy\n"
			  "backend-tls-ca: /ca.pem\n"
			  "groups:\n"
			  "  - name: main\n"
			  "    servers:\n"
			  "      - 10.0.0.1:3306\n"
			  "      - address: 10.0.0.2:3306\n"
			  "        tls: off\n"), 0, "%s", err);
	cr_assert_eq(check_tls(), -1);
	cr_assert(strstr(err, "--backend-tls-ca/--backend-tls-cert without "
			 "--backend-tls"), "%s", err);
	cfg.groups[0].servers[1].tls = 1 + BTLS_VERIFY_CA;
	cr_assert_eq(check_tls(), 0, "a server uses the global CA: %s", err);
}

Test(config, equal_tls_settings_share_a_slot)
{
	struct btls_settings a = {.mode = BTLS_VERIFY_CA, .ca = "/ca.pem"};
	struct btls_settings b = {.mode = BTLS_VERIFY_CA, .ca = "/ca.pem"};
	struct btls_settings c = {.mode = BTLS_VERIFY_IDENTITY, .ca = "/ca.pem"};
	char ca[] = "/ca.pem";
	int sa, sb, sc;

	btls_slots_reset();
	sa = btls_slot(&a);
	b.ca = ca;                 /* equal text, another pointer */
	sb = btls_slot(&b);
	sc = btls_slot(&c);
	cr_assert_geq(sa, 0);
	cr_assert_eq(sa, sb);
	cr_assert_neq(sa, sc);
	cr_assert_eq(btls_nslots(), 2);
	cr_assert_eq(btls_slot_settings((unsigned)sc)->mode,
		     BTLS_VERIFY_IDENTITY);
	cr_assert_null(btls_slot_settings(2));
	btls_slots_reset();
}

Test(config, monitor_credentials_from_the_file)
{
	cr_assert_eq(load("monitor-user: monitor\n"
			  "monitor-password: 'mon pw'\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.monitor_user, "monitor");
	cr_assert_str_eq(cfg.monitor_password, "mon pw");
	EXPECT_ERROR("monitor-user: ''\n", 1, "monitor-user", "1..384");
}

Test(config, group_servers_may_be_unix_sockets)
{
	cr_assert_eq(load("auth: proxy\n"
			  "backend: unix:/run/mysqld/mysqld.sock\n"
			  "groups:\n"
			  "  - name: main\n"
			  "    servers:\n"
			  "      - unix:/run/mysqld/a.sock\n"
			  "      - address: unix:/run/mysqld/b.sock\n"
			  "        tls-ca: /ca.pem\n"), 0, "%s", err);
	cr_assert_str_eq(cfg.backend.host, "/run/mysqld/mysqld.sock");
	cr_assert_str_eq(cfg.groups[0].servers[0].hp.host, "/run/mysqld/a.sock");
	cr_assert_str_eq(cfg.groups[0].servers[1].hp.host, "/run/mysqld/b.sock");
	/* Messages name the server as written. */
	cr_assert_eq(check_tls(), -1);
	cr_assert(strstr(err, "server unix:/run/mysqld/b.sock: tls-ca"), "%s", err);
	EXPECT_ERROR("auth: proxy\n"
		     "groups:\n"
		     "  - name: main\n"
		     "    servers:\n"
		     "      - unix:relative.sock\n", 5,
		     "expected HOST:PORT, [IPv6]:PORT or unix:/PATH");
}
