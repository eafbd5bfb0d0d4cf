/*
 * The rule matcher: conditions, order, first match vs continue, rewrite
 * chains, prefiltered and unprefiltered regexes agreeing, hit counters,
 * answers, and the --deny/--rewrite shorthand.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "config.h"
#include "intercept.h"
#include "mysql_proto.h"
#include "rules.h"

static struct rule_spec spec(const char *name)
{
	struct rule_spec sp = {0};
	snprintf(sp.name, sizeof(sp.name), "%s", name);
	sp.any_command = true;
	return sp;
}

static struct rule_input query(const char *sql)
{
	return (struct rule_input){
		.cmd = COM_QUERY, .text = sql, .text_len = strlen(sql),
		.user = "app", .schema = "shop", .family = AF_INET,
		.addr = {10, 1, 2, 3},
	};
}

static struct ruleset *build(struct rule_spec *sp, unsigned n)
{
	char err[256];
	struct ruleset *rs = ruleset_build(sp, n, 2, err, sizeof(err));
	cr_assert(rs, "%s", err);
	return rs;
}

Test(rules, conditions_must_all_hold)
{
	struct rule_spec sp[6];
	sp[0] = spec("user");
	sp[0].user = "other";
	sp[0].action = RULE_REJECT;
	sp[1] = spec("schema");
	sp[1].schema = "nope";
	sp[1].action = RULE_REJECT;
	sp[2] = spec("net");
	sp[2].has_client = true;
	sp[2].client_family = AF_INET;
	sp[2].client_addr[0] = 192;
	sp[2].client_addr[1] = 168;
	sp[2].client_prefix = 16;
	sp[2].action = RULE_REJECT;
	sp[3] = spec("cmd");
	sp[3].any_command = false;
	sp[3].commands[COM_PING >> 3] |= 1u << (COM_PING & 7);
	sp[3].action = RULE_REJECT;
	sp[4] = spec("digest");
	sp[4].has_digest = true;
	sp[4].digest = 77;
	sp[4].action = RULE_REJECT;
	sp[5] = spec("all-hold");
	sp[5].user = "app";
	sp[5].schema = "shop";
	sp[5].has_client = true;
	sp[5].client_family = AF_INET;
	sp[5].client_addr[0] = 10;
	sp[5].client_prefix = 8;
	sp[5].match = "^select";
	sp[5].action = RULE_REJECT;
	struct ruleset *rs = build(sp, 6);
	struct rules_worker *rw = rules_worker_new(rs, 1);
	struct rule_outcome o;
	struct rule_input in = query("SELECT 1");

	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert_str_eq(o.rule->name, "all-hold");
	cr_assert_eq(o.matched, 1);
	in.digest = 77;
	rules_eval(rw, &in, 0, &o);
	cr_assert_str_eq(o.rule->name, "digest");
	in = query("SELECT 1");
	in.cmd = COM_PING;
	in.text = NULL;
	rules_eval(rw, &in, 0, &o);
	cr_assert_str_eq(o.rule->name, "cmd");
	in = query("UPDATE t SET a = 1");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 0);
	cr_assert_eq(o.action, RULE_NONE);
	/* Another network, IPv6, and a /12 boundary. */
	in = query("SELECT 1");
	in.addr[0] = 11;
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 0);
	in.family = AF_INET6;
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 0);
	cr_assert_eq(ruleset_hits(rs, 5), 1);
	cr_assert_eq(ruleset_hits(rs, 4), 1);
	cr_assert_eq(ruleset_hits(rs, 3), 1);
	cr_assert_eq(ruleset_hits(rs, 0), 0);
	ruleset_reset_hits(rs, 1);
	cr_assert_eq(ruleset_hits(rs, 5), 0);
	rules_worker_free(rw);
	ruleset_free(rs);
}

Test(rules, first_match_wins_unless_continue_and_rewrites_chain)
{
	struct rule_spec sp[4];
	sp[0] = spec("tag");
	sp[0].match = "orders";
	sp[0].log = true;
	sp[0].delay_ms = 5;
	sp[0].route = "reporting";
	sp[0].cont = true;
	sp[1] = spec("rw1");
	sp[1].match = "FROM (\\w+)_old";
	sp[1].action = RULE_REWRITE;
	sp[1].replace = "FROM $1_new";
	sp[1].cont = true;
	sp[2] = spec("rw2");
	sp[2].match = "_new";
	sp[2].action = RULE_REWRITE;
	sp[2].replace = "_v2";
	sp[2].delay_ms = 50;
	sp[3] = spec("never");
	sp[3].match = "orders";
	sp[3].action = RULE_REJECT;
	struct ruleset *rs = build(sp, 4);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("SELECT * FROM orders_old WHERE id = 1");

	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REWRITE);
	cr_assert_eq(o.matched, 3);
	cr_assert(o.log);
	cr_assert_eq(o.delay_ms, 50, "the longest delay applies");
	cr_assert_str_eq(o.route, "reporting");
	cr_assert_eq(o.rewritten_len, strlen("SELECT * FROM orders_v2 WHERE id = 1"));
	cr_assert(!memcmp(o.rewritten, "SELECT * FROM orders_v2 WHERE id = 1",
			  o.rewritten_len));
	cr_assert_str_eq(o.rule->name, "rw2");
	free(o.rewritten);
	cr_assert_eq(ruleset_hits(rs, 3), 0, "rw2 stopped evaluation");
	rules_worker_free(rw);
	ruleset_free(rs);
}

Test(rules, answers_are_prebuilt_for_both_eof_styles)
{
	struct rule_spec sp[2];
	const char *cols[] = {"v"};
	const char *cells[] = {"myring", NULL};
	sp[0] = spec("answer");
	sp[0].match = "^select @@version_comment";
	sp[0].action = RULE_ANSWER;
	sp[0].ncolumns = 1;
	sp[0].nrows = 2;
	sp[0].columns = cols;
	sp[0].cells = cells;
	sp[1] = spec("ok");
	sp[1].match = "^do";
	sp[1].action = RULE_ANSWER;
	sp[1].affected_rows = 3;
	struct ruleset *rs = build(sp, 2);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("select @@version_comment limit 1");
	size_t len_eof, len_ok;

	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_ANSWER);
	ruleset_answer(rs, 0, 0, &len_eof);
	ruleset_answer(rs, 0, RULES_DEPRECATE_EOF, &len_ok);
	cr_assert_eq(o.answer_len, len_eof);
	/* column count, column def, [EOF], row, NULL row, EOF/OK: packets
	 * numbered from 1 without gaps. */
	uint8_t seq = 1;
	size_t off = 0;
	unsigned packets = 0;
	while (off < o.answer_len) {
		cr_assert_eq(o.answer[off + 3], seq++);
		off += 4 + mysql_get_u24(o.answer + off);
		packets++;
	}
	cr_assert_eq(off, o.answer_len);
	cr_assert_eq(packets, 6);
	cr_assert_lt(len_ok, len_eof, "no EOF after the columns with DEPRECATE_EOF");
	in = query("DO 1");
	rules_eval(rw, &in, RULES_DEPRECATE_EOF, &o);
	cr_assert_eq(o.action, RULE_ANSWER);
	struct mysql_ok ok;
	cr_assert_eq(mysql_parse_ok(o.answer + 4, o.answer_len - 4, &ok), 0);
	cr_assert_eq(ok.affected_rows, 3);
	rules_worker_free(rw);
	ruleset_free(rs);
}

/* With or without a literal the prefilter can use, the same queries match. */
Test(rules, prefilter_never_changes_the_outcome)
{
	static const char *const patterns[] = {
		"^\\s*DELETE\\s+FROM\\s+audit\\b", "FROM\\s+report_7\\s+WHERE",
		"colou?r", "sbtest[0-9]+", "(?:zz|yy)top", "a.c", "\\Qa+b\\E",
		"(?i)Insert Into", "[xyz]{2}abc", "^$",
	};
	static const char *const queries[] = {
		"delete from audit where id = 1", "  DELETE   FROM audit", "DELETE FROM auditx",
		"SELECT * FROM report_7 WHERE a", "SELECT colr, color, colour", "SELECT * FROM sbtest12",
		"zztop yytop", "abc axc", "select 'a+b'", "INSERT INTO t", "xyabc", "", "nothing here",
	};
	enum { N = sizeof(patterns) / sizeof(patterns[0]) };
	struct rule_spec with[N], without[N];
	char alt[N][128];

	for (unsigned i = 0; i < N; i++) {
		with[i] = spec("p");
		snprintf(with[i].name, sizeof(with[i].name), "p%u", i);
		with[i].match = patterns[i];
		with[i].cont = true;
		without[i] = with[i];
		/* A top-level alternation defeats literal extraction. */
		snprintf(alt[i], sizeof(alt[i]), "(?:\\x{1}\\x{2}\\x{3}|%s)", patterns[i]);
		without[i].match = alt[i];
	}
	struct ruleset *a = build(with, N), *b = build(without, N);
	struct rules_worker *ra = rules_worker_new(a, 0), *rb = rules_worker_new(b, 0);
	for (unsigned q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		struct rule_outcome oa, ob;
		struct rule_input in = query(queries[q]);
		rules_eval(ra, &in, 0, &oa);
		rules_eval(rb, &in, 0, &ob);
		cr_assert_eq(oa.matched, ob.matched, "query '%s'", queries[q]);
	}
	for (unsigned i = 0; i < N; i++)
		cr_assert_eq(ruleset_hits(a, i), ruleset_hits(b, i), "pattern %s",
			     patterns[i]);
	rules_worker_free(ra);
	rules_worker_free(rb);
	ruleset_free(a);
	ruleset_free(b);
}

Test(rules, deny_and_rewrite_flags_become_rules_in_front)
{
	struct config cfg;
	struct rule_spec file_rule = spec("from-file"), *specs;
	unsigned n;
	char err[256];

	cli_defaults(&cfg);
	cfg.deny[cfg.ndeny++] = "secret";
	cfg.rewrite[cfg.nrewrite++] = "#a(b)c#x$1#";
	file_rule.match = "abc";
	file_rule.action = RULE_REJECT;
	cfg.rules = &file_rule;
	cfg.nrules = 1;
	cr_assert_eq(rules_specs_from_config(&cfg, &specs, &n, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(specs[0].name, "deny-1");
	cr_assert_str_eq(specs[1].name, "rewrite-1");
	cr_assert_str_eq(specs[2].name, "from-file");
	struct ruleset *rs = build(specs, n);
	free(specs);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("SELECT 'abc'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REWRITE, "the flag's rewrite comes first");
	cr_assert(!memcmp(o.rewritten, "SELECT 'xb'", o.rewritten_len));
	free(o.rewritten);
	in = query("SELECT 'SECRET'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 0, "--deny is case-sensitive");
	in = query("SELECT 'secret'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert(strstr(o.rule->error_message, "--deny 'secret'"));
	rules_worker_free(rw);
	ruleset_free(rs);
}

Test(rules, bad_regex_is_reported_with_the_rule)
{
	struct rule_spec sp = spec("broken");
	char err[256];
	sp.match = "(unclosed";
	sp.line = 7;
	cr_assert_null(ruleset_build(&sp, 1, 1, err, sizeof(err)));
	cr_assert(strstr(err, "broken") && strstr(err, "line 7"), "%s", err);
}
