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
#include "sql_scan.h"

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
		/* Literals only the stripped text or the fingerprint has. */
		"drop table", "where id = \\?",
	};
	static const char *const queries[] = {
		"delete from audit where id = 1", "  DELETE   FROM audit", "DELETE FROM auditx",
		"SELECT * FROM report_7 WHERE a", "SELECT colr, color, colour", "SELECT * FROM sbtest12",
		"zztop yytop", "abc axc", "select 'a+b'", "INSERT INTO t", "xyabc", "", "nothing here",
		/* The literal only in a comment, or cut by one; several
		 * statements; an executable comment. */
		"SELECT 1 /* DELETE FROM audit */", "DELETE/* x */FROM audit",
		"SELECT 1; delete from audit", "/*!DELETE FROM audit*/",
		"SELECT * FROM report_7 -- x\nWHERE a", "zz/**/top", "col/*x*/our",
		"SELECT 1;", "/* only a comment */",
		"DROP/**/TABLE t", "select * from t where id=5",
	};
	enum { N = sizeof(patterns) / sizeof(patterns[0]) };
	struct rule_spec with[N], without[N];
	char alt[N][128];

	for (enum rule_match_on on = RULE_ON_STRIPPED; on <= RULE_ON_DIGEST; on++) {
		for (unsigned i = 0; i < N; i++) {
			with[i] = spec("p");
			snprintf(with[i].name, sizeof(with[i].name), "p%u", i);
			with[i].match = patterns[i];
			with[i].match_on = on;
			with[i].cont = true;
			without[i] = with[i];
			/* A top-level alternation defeats literal extraction. */
			snprintf(alt[i], sizeof(alt[i]), "(?:\\x{1}\\x{2}\\x{3}|%s)",
				 patterns[i]);
			without[i].match = alt[i];
		}
		struct ruleset *a = build(with, N), *b = build(without, N);
		struct rules_worker *ra = rules_worker_new(a, 0);
		struct rules_worker *rb = rules_worker_new(b, 0);
		for (unsigned q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
			struct rule_outcome oa, ob;
			struct rule_input in = query(queries[q]);
			rules_eval(ra, &in, 0, &oa);
			rules_eval(rb, &in, 0, &ob);
			cr_assert_eq(oa.matched, ob.matched, "query '%s', match-on %d",
				     queries[q], on);
		}
		for (unsigned i = 0; i < N; i++)
			cr_assert_eq(ruleset_hits(a, i), ruleset_hits(b, i),
				     "pattern %s, match-on %d", patterns[i], on);
		rules_worker_free(ra);
		rules_worker_free(rb);
		ruleset_free(a);
		ruleset_free(b);
	}
}

static const char *deny_of(struct rules_worker *rw, const char *sql)
{
	struct rule_outcome o;
	struct rule_input in = query(sql);

	rules_eval(rw, &in, 0, &o);
	return o.action == RULE_REJECT ? (o.rule ? o.rule->name : o.message) :
	       NULL;
}

/*
 * The README's guard against DROP, ^\s*DROP\s, as a --deny flag: what got
 * past it before (a comment in front, a second statement, lower case, an
 * executable comment, another sql_mode or character set, a comment the
 * server skips) is denied; what only looks like a DROP is not.
 */
Test(rules, deny_sees_every_statement_without_comments)
{
	struct config cfg;
	struct rule_spec *specs;
	unsigned n;
	char err[256];

	cli_defaults(&cfg);
	cfg.deny[cfg.ndeny++] = "^\\s*DROP\\s";
	cr_assert_eq(rules_specs_from_config(&cfg, &specs, &n, err, sizeof(err)),
		     0, "%s", err);
	struct ruleset *rs = build(specs, n);
	free(specs);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	static const char *const denied[] = {
		"DROP TABLE t",
		"/* hi */ DROP TABLE t",
		"-- hi\nDROP TABLE t",
		"# hi\n  DROP TABLE t",
		"SELECT 1; DROP TABLE t",
		"select 1;drop table t",
		"SELECT 1;\n/* x */ drop table t;",
		"INSERT INTO t VALUES (1); DROP TABLE t",
		"drop table t",
		"/*!DROP*/ TABLE t",
		"/*!50001 DROP TABLE t */",
		"/*M!100100 DROP TABLE t */",
		"/*+ hint */DROP TABLE t",
		/* NO_BACKSLASH_ESCAPES, ANSI_QUOTES, gbk: the server ran the
		 * DROP in each (MariaDB 10.11). */
		"SELECT 'a\\'; DROP TABLE t; -- '",
		"SELECT 1 AS \"a\\\"; DROP TABLE t; -- \"",
		"SELECT 1 AS \xbf`; DROP TABLE t; -- `",
		/* MariaDB skips the first comment (MySQL 5.7 syntax). */
		"/*!50700 SELECT 1, */ DROP TABLE t",
	};
	static const char *const allowed[] = {
		"SELECT 'DROP TABLE t'",
		"SELECT '/* x */ DROP TABLE t'",
		"SELECT 1 /* ; DROP TABLE t */",
		"SELECT 1 -- ; DROP TABLE t",
		"SELECT 1 # ; DROP TABLE t",
		"SELECT `; DROP TABLE t`",
		"SELECT 'it''s; DROP TABLE t'",
		"SELECT \"a;\\\" DROP TABLE t\" FROM dual",
		"DR/**/OP TABLE t",
		"SELECT 1--1; SELECT 2",
	};
	for (size_t i = 0; i < sizeof(denied) / sizeof(denied[0]); i++) {
		const char *by = deny_of(rw, denied[i]);
		cr_expect(by, "not denied: %s", denied[i]);
		if (by)
			cr_expect_str_eq(by, "deny-1", "%s", denied[i]);
	}
	for (size_t i = 0; i < sizeof(allowed) / sizeof(allowed[0]); i++)
		cr_expect_null(deny_of(rw, allowed[i]), "denied: %s", allowed[i]);
	/* The same for a prepared statement's text. */
	struct rule_outcome o;
	struct rule_input in = query("/* x */ DROP TABLE t");
	in.cmd = COM_STMT_PREPARE;
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	rules_worker_free(rw);
	ruleset_free(rs);
}

/* The statement cut is at ';', not by grammar: the patterns the docs give
 * for statements inside compound statements do catch them. */
Test(rules, documented_patterns_for_compound_statements)
{
	struct rule_spec sp[2];
	sp[0] = spec("after-keywords");
	sp[0].match = "(^|\\b(ATOMIC|THEN|ELSE|DO|LOOP|REPEAT)\\s+)DROP\\s";
	sp[0].action = RULE_REJECT;
	sp[1] = spec("anywhere");
	sp[1].match = "\\bDROP\\s+(TABLE|DATABASE|SCHEMA)\\b";
	sp[1].action = RULE_REJECT;
	struct ruleset *rs = build(sp, 2);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	static const char *const compound[] = {
		"BEGIN NOT ATOMIC DROP TABLE t; END",
		"IF 1 THEN DROP TABLE t; END IF",
		"IF 0 THEN SELECT 1; ELSE DROP TABLE t; END IF",
		"l: LOOP DROP TABLE t; LEAVE l; END LOOP",
		"FOR r IN (SELECT 1) DO DROP TABLE t; END FOR",
	};
	for (size_t i = 0; i < sizeof(compound) / sizeof(compound[0]); i++) {
		struct rule_outcome o;
		struct rule_input in = query(compound[i]);
		rules_eval(rw, &in, 0, &o);
		cr_expect_eq(o.action, RULE_REJECT, "%s", compound[i]);
		cr_expect_str_eq(o.matched ? o.rule->name : "", "after-keywords",
				 "%s", compound[i]);
	}
	const char *handler = "BEGIN NOT ATOMIC DECLARE EXIT HANDLER FOR "
			      "SQLEXCEPTION DROP TABLE t; SIGNAL SQLSTATE '45000'; END";
	struct rule_outcome o;
	struct rule_input in = query(handler);
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert_str_eq(o.rule->name, "anywhere");
	rules_worker_free(rw);
	ruleset_free(rs);
}

Test(rules, match_on_raw_stripped_and_digest)
{
	struct rule_spec sp[3];
	sp[0] = spec("raw-tag");
	sp[0].match = "/\\* tag:(\\w+) \\*/";
	sp[0].match_on = RULE_ON_RAW;
	sp[0].cont = true;
	sp[0].log = true;
	sp[1] = spec("by-shape");
	sp[1].match = "^SELECT \\* FROM t WHERE id = \\?$";
	sp[1].match_on = RULE_ON_DIGEST;
	sp[1].action = RULE_REJECT;
	sp[2] = spec("stripped");
	sp[2].match = "tag:";
	sp[2].action = RULE_REJECT;
	struct ruleset *rs = build(sp, 3);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("/* tag:report */ SELECT 1");

	/* The comment is there for raw, gone for stripped. */
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 1);
	cr_assert(o.log);
	cr_assert_eq(o.action, RULE_NONE);
	/* The fingerprint of each statement. */
	in = query("select 1; select * from t where id=42 -- x");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert_str_eq(o.rule->name, "by-shape");
	in = query("select * from t where id = 'x' or 1");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_NONE);
	rules_worker_free(rw);
	ruleset_free(rs);
	/* A fingerprint cannot be rewritten. */
	char err[256];
	sp[0] = spec("bad");
	sp[0].match = "x";
	sp[0].match_on = RULE_ON_DIGEST;
	sp[0].action = RULE_REWRITE;
	sp[0].replace = "y";
	cr_assert_null(ruleset_build(sp, 1, 1, err, sizeof(err)));
	cr_assert(strstr(err, "fingerprint"), "%s", err);
}

static char *rewrite_of(struct rules_worker *rw, const char *sql)
{
	static char buf[512];
	struct rule_outcome o;
	struct rule_input in = query(sql);

	rules_eval(rw, &in, 0, &o);
	if (o.action != RULE_REWRITE)
		return NULL;
	snprintf(buf, sizeof(buf), "%.*s", (int)o.rewritten_len, o.rewritten);
	free(o.rewritten);
	return buf;
}

/* A rewrite on statements replaces each statement it matches by that
 * statement's comment-stripped text, rewritten; the rest stays byte for
 * byte.  On raw text it works on the whole command, comments and all. */
Test(rules, rewrite_works_statement_by_statement)
{
	struct rule_spec sp[2];
	sp[0] = spec("cap");
	sp[0].match = "(?s)^(SELECT \\* FROM big)$";
	sp[0].action = RULE_REWRITE;
	sp[0].replace = "$1 LIMIT 10";
	sp[0].cont = true;
	sp[1] = spec("raw");
	sp[1].match = "/\\* keep \\*/";
	sp[1].match_on = RULE_ON_RAW;
	sp[1].action = RULE_REWRITE;
	sp[1].replace = "/* kept */";
	struct ruleset *rs = build(sp, 2);
	struct rules_worker *rw = rules_worker_new(rs, 0);

	cr_assert_str_eq(rewrite_of(rw, "SELECT * FROM big"),
			 "SELECT * FROM big LIMIT 10");
	/* Each matching statement; the others and the separators as sent. */
	cr_assert_str_eq(rewrite_of(rw, "SELECT * FROM big; SELECT /* c */ 2 ;"
				    "SELECT * FROM big /* c */"),
			 "SELECT * FROM big LIMIT 10; SELECT /* c */ 2 ;"
			 "SELECT * FROM big LIMIT 10");
	cr_assert_null(rewrite_of(rw, "SELECT * FROM big2; SELECT 1"));
	/* Later rules see the new text. */
	cr_assert_str_eq(rewrite_of(rw, "SELECT * FROM big; /* keep */ SELECT 1"),
			 "SELECT * FROM big LIMIT 10; /* kept */ SELECT 1");
	cr_assert_str_eq(rewrite_of(rw, "/* keep */ SELECT 1"),
			 "/* kept */ SELECT 1");
	rules_worker_free(rw);
	ruleset_free(rs);
}

/* A fixed answer stands for one statement: a multi-statement command
 * it matches is refused whole rather than losing its other statements. */
Test(rules, answer_rules_refuse_multi_statements)
{
	struct rule_spec sp = spec("fake-ok");
	sp.match = "^DO myring";
	sp.action = RULE_ANSWER;
	struct ruleset *rs = build(&sp, 1);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("DO myring;");

	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_ANSWER);
	in = query("DO myring; INSERT INTO t VALUES (1)");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert(strstr(o.message, "fake-ok") &&
		  strstr(o.message, "single statements"), "%s", o.message);
	cr_assert_eq(ruleset_hits(rs, 0), 1);
	rules_worker_free(rw);
	ruleset_free(rs);
}

/* Text that cannot be read reliably is refused, not let through. */
Test(rules, unreadable_text_is_refused)
{
	struct rule_spec sp = spec("audit");
	sp.match = "nothing-matches-this";
	sp.action = RULE_REJECT;
	struct ruleset *rs = build(&sp, 1);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	char sql[1024];
	size_t o = 0;

	for (unsigned v = 0; v <= SQL_MAX_CLASSES; v++)
		o += (size_t)snprintf(sql + o, sizeof(sql) - o,
				      "/*!%u SELECT */ ", 50000 + v);
	struct rule_outcome out;
	struct rule_input in = query(sql);
	rules_eval(rw, &in, 0, &out);
	cr_assert_eq(out.action, RULE_REJECT);
	cr_assert_null(out.rule);
	cr_assert(strstr(out.message, "too many"), "%s", out.message);
	rules_worker_free(rw);
	ruleset_free(rs);
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
	in = query("SELECT 'secret'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	cr_assert(strstr(o.rule->error_message, "--deny 'secret'"));
	rules_worker_free(rw);
	ruleset_free(rs);
}

/* --deny and --rewrite are caseless like the file's match; (?-i) makes a
 * pattern case-sensitive again. */
Test(rules, deny_and_rewrite_flags_are_caseless)
{
	struct config cfg;
	struct rule_spec *specs;
	unsigned n;
	char err[256];

	cli_defaults(&cfg);
	cfg.deny[cfg.ndeny++] = "^\\s*DROP\\s";
	cfg.deny[cfg.ndeny++] = "(?-i)Secret";
	cfg.rewrite[cfg.nrewrite++] = "#^select 'x'#SELECT 'y'#";
	cr_assert_eq(rules_specs_from_config(&cfg, &specs, &n, err, sizeof(err)),
		     0, "%s", err);
	struct ruleset *rs = build(specs, n);
	free(specs);
	struct rules_worker *rw = rules_worker_new(rs, 0);
	struct rule_outcome o;
	struct rule_input in = query("drop table t");

	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT, "lower-case drop is denied");
	cr_assert_str_eq(o.rule->name, "deny-1");
	in = query("Drop Table t");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REJECT);
	in = query("SELECT 'secret'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.matched, 0, "(?-i) keeps a pattern case-sensitive");
	in = query("SELECT 'Secret'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_str_eq(o.rule->name, "deny-2");
	in = query("SELECT 'X'");
	rules_eval(rw, &in, 0, &o);
	cr_assert_eq(o.action, RULE_REWRITE, "--rewrite is caseless");
	cr_assert_eq(o.rewritten_len, 10);
	cr_assert(!memcmp(o.rewritten, "SELECT 'y'", 10));
	free(o.rewritten);
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

Test(rules, a_bad_flag_regex_is_named_as_the_flag)
{
	struct config cfg;
	struct rule_spec *specs;
	unsigned n;
	char err[512];

	cli_defaults(&cfg);
	cfg.deny[cfg.ndeny++] = "(";
	cr_assert_eq(rules_specs_from_config(&cfg, &specs, &n, err, sizeof(err)), 0);
	cr_assert_null(ruleset_build(specs, n, 1, err, sizeof(err)));
	cr_assert(!strncmp(err, "--deny '(': ", 12), "%s", err);
	cr_assert_null(strstr(err, "line 0"), "%s", err);
	free(specs);
}
