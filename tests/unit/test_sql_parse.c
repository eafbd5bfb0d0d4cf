/*
 * sql_parse() and sql_print(): statements print back as canonical SQL,
 * unsupported constructs are named, and nesting of any depth ends in a
 * clean SQL_PARSE_TOO_DEEP (SQL_PRINT_TOO_DEEP) rather than a stack
 * overflow.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../src/sql_parse.h"
#include "../../src/sql_print.h"

static struct sql_arena arena;

static void setup(void)
{
	sql_arena_init(&arena, 0);
}

static void teardown(void)
{
	sql_arena_free(&arena);
}

TestSuite(sql_parse, .init = setup, .fini = teardown);

static int parse(const char *sql, size_t len, struct sql_tree *t)
{
	sql_arena_reset(&arena);
	return sql_parse(&arena, sql, len, NULL, t);
}

/* The statement printed without a reading; "ERR n" when it fails. */
static const char *printed(const char *sql)
{
	static char out[1024];
	struct sql_tree t;
	struct sql_buf b = { 0 };
	int rc = parse(sql, strlen(sql), &t);

	if (rc) {
		snprintf(out, sizeof(out), "ERR %d", rc);
		return out;
	}
	cr_assert_eq(sql_print(&b, t.stmt, NULL), SQL_PRINT_OK, "%s", sql);
	snprintf(out, sizeof(out), "%.*s", (int)b.len, b.buf);
	sql_buf_free(&b);
	return out;
}

/* "(" * n + middle + ")" * n after a prefix, in a malloc'ed string. */
static char *nested(const char *prefix, const char *open, size_t n,
		    const char *middle, const char *close, size_t *len)
{
	size_t lo = strlen(open), lc = strlen(close);
	size_t cap = strlen(prefix) + n * (lo + lc) + strlen(middle) + 1;
	char *s = malloc(cap), *o = s;

	cr_assert(s);
	o += sprintf(o, "%s", prefix);
	for (size_t i = 0; i < n; i++, o += lo)
		memcpy(o, open, lo);
	o += sprintf(o, "%s", middle);
	for (size_t i = 0; i < n; i++, o += lc)
		memcpy(o, close, lc);
	*o = '\0';
	*len = (size_t)(o - s);
	return s;
}

Test(sql_parse, statements_print_as_canonical_sql)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{"select a,count(*) from t join u on t.id=u.id where x in (1,2)"
		 " group by a having count(*)>1 order by a desc limit 10 "
		 "offset 5",
		 "SELECT a, count(*) FROM t JOIN u ON t.id = u.id WHERE x IN "
		 "(1, 2) GROUP BY a HAVING count(*) > 1 ORDER BY a DESC "
		 "LIMIT 10 OFFSET 5"},
		{"select 1 union all (select 2)",
		 "SELECT 1 UNION ALL SELECT 2"},
		{"select * from (select a from t) x where a=(select max(a) "
		 "from u)",
		 "SELECT * FROM (SELECT a FROM t) AS x WHERE a = (SELECT "
		 "max(a) FROM u)"},
		{"insert into t (a,b) values (1,2),(3,4) on duplicate key "
		 "update b=values(b)",
		 "INSERT INTO t (a, b) VALUES (1, 2), (3, 4) ON DUPLICATE KEY "
		 "UPDATE b = values(b)"},
		{"update t set a=a+1 where id=?",
		 "UPDATE t SET a = a + 1 WHERE id = ?"},
		{"set @a=1, session sql_mode='ANSI'",
		 "SET @a = 1, SESSION sql_mode = 'ANSI'"},
		{"start transaction read only", "START TRANSACTION READ ONLY"},
		{"explain shards select 1", "EXPLAIN SHARDS SELECT 1"},
		{"select ((1))", "SELECT 1"},
		{"select (1 + 2) * 3", "SELECT (1 + 2) * 3"},
		/* `f`(x) is a stored function, not the built-in f; with a
		 * schema, quotes change nothing */
		{"select `count`(a), db.`f`(a), db.0f(a)",
		 "SELECT `count`(a), db.f(a), db.`0f`(a)"},
		/* a '.' right after a name qualifies it; after a space, a
		 * keyword or an operator it starts a number */
		{"select t.a, a or .5, not .5", "SELECT t.a, a OR .5, NOT .5"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		cr_expect_str_eq(printed(cases[i].in), cases[i].out,
				 "%s", cases[i].in);
}

Test(sql_parse, unsupported_constructs_are_named)
{
	static const struct {
		const char *in, *what;
	} cases[] = {
		{"SELECT row_number() OVER () FROM t",
		 "window functions (OVER)"},
		{"SELECT a INTO @x FROM t", "SELECT ... INTO"},
		{"SELECT a FROM t GROUP BY a WITH ROLLUP",
		 "GROUP BY ... WITH ROLLUP"},
		{"SELECT * FROM t PARTITION (p0)", "PARTITION (...)"},
		{"DELETE FROM t RETURNING a", "RETURNING"},
	};
	struct sql_tree t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_expect_eq(parse(cases[i].in, strlen(cases[i].in), &t),
			     SQL_PARSE_UNSUPPORTED, "%s", cases[i].in);
		cr_expect_str_eq(t.err.what, cases[i].what, "%s", cases[i].in);
	}
}

/* Each of these, 100000 deep, would overflow the stack without the
 * limit; each ends in SQL_PARSE_TOO_DEEP with no tree. */
Test(sql_parse, deep_nesting_is_too_deep_not_a_crash)
{
	static const struct {
		const char *prefix, *open, *middle, *close;
	} cases[] = {
		{"SELECT ", "(", "1", ")"},
		{"SELECT ", "(", "", ""},               /* never closed */
		{"", "(", "SELECT 1", ")"},
		{"SELECT ", "(SELECT ", "1", ")"},
		{"SELECT * FROM ", "(SELECT * FROM ", "t", ") AS x"},
		{"SELECT * FROM ", "(", "t", ")"},
		{"SELECT ", "-", "1", ""},
		{"SELECT ", "NOT ", "1", ""},
		{"SELECT ", "f(", "1", ")"},
		{"SELECT ", "1 + ", "1", ""},
		{"SELECT ", "CASE WHEN ", "1", " THEN 1 END"},
		{"SELECT ", "@a := ", "1", ""},
		{"SELECT ", "1 IN (", "1", ")"},
		{"SELECT ", "(1, ", "1", ")"},
		{"SELECT ", "ROW(", "1", ", 1)"},
		{"SELECT ", "CAST(", "1", " AS CHAR)"},
		{"SELECT ", "1 = ALL (SELECT ", "1", ")"},
		{"SELECT ", "EXISTS (SELECT ", "1", ")"},
		{"SELECT ", "INTERVAL ", "1 DAY", " DAY"},
		{"SELECT ", "GROUP_CONCAT(a ORDER BY ", "1", ")"},
		{"SELECT * FROM t", " JOIN t", "", ""},
		{"SELECT 1", " UNION SELECT 1", "", ""},
		{"", "WITH a AS (", "SELECT 1", ") SELECT 1"},
		{"UPDATE t SET a = ", "(", "1", ")"},
		{"INSERT INTO t VALUES (", "(", "1", ")"},
	};
	struct sql_tree t;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t len;
		char *sql = nested(cases[i].prefix, cases[i].open, 100000,
				   cases[i].middle, cases[i].close, &len);
		char msg[200];

		cr_expect_eq(parse(sql, len, &t), SQL_PARSE_TOO_DEEP,
			     "%s%s...", cases[i].prefix, cases[i].open);
		cr_expect_null(t.stmt);
		cr_expect_leq(t.err.pos, len);
		sql_parse_strerror(&t.err, msg, sizeof(msg));
		cr_expect(strstr(msg, "too deeply nested"), "%s", msg);
		free(sql);
	}
}

/* Half the limit parses, and prints to text that parses again. */
Test(sql_parse, nesting_within_the_limit_parses_and_prints)
{
	static const char *const opens[] = { "(", "(SELECT ", "-", "f(" };
	static const char *const closes[] = { ")", ")", "", ")" };
	struct sql_tree t;

	for (size_t i = 0; i < 4; i++) {
		size_t len;
		char *sql = nested("SELECT ", opens[i],
				   SQL_PARSE_MAX_DEPTH / 2 - 5, "1", closes[i],
				   &len);
		struct sql_buf b = { 0 };

		cr_assert_eq(parse(sql, len, &t), SQL_PARSE_OK, "%s", opens[i]);
		cr_assert_eq(sql_print(&b, t.stmt, NULL), SQL_PRINT_OK);
		cr_expect_eq(parse(b.buf, b.len, &t), SQL_PARSE_OK,
			     "%.*s", (int)b.len, b.buf);
		sql_buf_free(&b);
		free(sql);
	}
}

/* ((SELECT ((SELECT ... ) + 1)) + 1): each level is read as a query,
 * then again as an expression, doubling the work; the parser stops
 * reading again before that costs more than a few times the text. */
Test(sql_parse, reading_again_is_bounded)
{
	struct sql_tree t;
	size_t len;
	char *sql = nested("SELECT ", "((SELECT ", 60, "1", ") + 1)", &len);

	cr_expect_eq(parse(sql, len, &t), SQL_PARSE_TOO_DEEP);
	cr_expect_null(t.stmt);
	free(sql);
	sql = nested("SELECT ", "((SELECT ", 3, "1", ") + 1)", &len);
	cr_expect_eq(parse(sql, len, &t), SQL_PARSE_OK);
	free(sql);
}

/* A tree built by other code may nest deeper than the parser allows:
 * the printer stops with SQL_PRINT_TOO_DEEP. */
Test(sql_parse, printing_a_too_deep_tree_fails_cleanly)
{
	struct sql_expr *e = sql_arena_alloc(&arena, sizeof(*e));
	struct sql_buf b = { 0 };

	cr_assert(e);
	e->kind = SQL_E_LITERAL;
	e->op = SQL_LIT_INT;
	e->text = (struct sql_str){ "1", 1 };
	for (int i = 0; i < 200000; i++) {
		struct sql_expr *neg = sql_arena_alloc(&arena, sizeof(*neg));

		cr_assert(neg);
		neg->kind = SQL_E_UNARY;
		neg->op = SQL_OP_NEG;
		neg->left = e;
		e = neg;
	}
	cr_expect_eq(sql_print_expr(&b, e, NULL), SQL_PRINT_TOO_DEEP);
	sql_buf_free(&b);
	/* SQL_PRINT_MAX_DEPTH + 1 nodes are too many, one fewer are not */
	for (int i = 0; i < 200000 - SQL_PRINT_MAX_DEPTH; i++)
		e = e->left;
	cr_expect_eq(sql_print_expr(&b, e, NULL), SQL_PRINT_TOO_DEEP);
	sql_buf_free(&b);
	cr_expect_eq(sql_print_expr(&b, e->left, NULL), SQL_PRINT_OK);
	sql_buf_free(&b);
}

/* A statement kept as written ends at its ';', even one inside an
 * executable comment, without the white space before it: printed and
 * parsed again, the text is the same. */
Test(sql_parse, text_kept_as_written_ends_before_the_blanks_and_semicolon)
{
	static const char sql[] = "CREATE TABLE t /*! \v ; */";
	struct sql_parse_opts opts = { .flags = SQL_PARSE_MULTI };
	struct sql_tree t;

	cr_assert_eq(sql_parse(&arena, sql, strlen(sql), &opts, &t),
		     SQL_PARSE_OK);
	cr_expect_eq(t.stmt->kind, SQL_ST_OTHER);
	cr_expect_eq(t.stmt->text.len, strlen("CREATE TABLE t /*!"));
	cr_expect_eq(t.stmt->end, strlen("CREATE TABLE t /*!"));
	cr_expect_eq(t.end, strlen("CREATE TABLE t /*! \v ;"));
}

/*
 * Statements as applications send them (sysbench, WordPress, MediaWiki,
 * Django's and Rails' ORMs, Magento, plain hand-written reports): each
 * parses, and its printed form is a fixed point (printing what the
 * printed text parses to gives the same text), so what myring sends a
 * shard means what the client wrote.
 */
Test(sql_parse, application_queries_parse_and_print_stably)
{
	static const char *const corpus[] = {
		/* sysbench oltp */
		"SELECT c FROM sbtest1 WHERE id=5",
		"SELECT c FROM sbtest1 WHERE id BETWEEN 5 AND 104",
		"SELECT SUM(k) FROM sbtest1 WHERE id BETWEEN 5 AND 104",
		"SELECT c FROM sbtest1 WHERE id BETWEEN 5 AND 104 ORDER BY c",
		"SELECT DISTINCT c FROM sbtest1 WHERE id BETWEEN 5 AND 104 ORDER BY c",
		"UPDATE sbtest1 SET k=k+1 WHERE id=5",
		"UPDATE sbtest1 SET c='0123-4567' WHERE id=5",
		"DELETE FROM sbtest1 WHERE id=5",
		"INSERT INTO sbtest1 (id, k, c, pad) VALUES (5, 10, 'a-b', 'c-d')",
		/* WordPress */
		"SELECT option_name, option_value FROM wp_options WHERE autoload = 'yes'",
		"SELECT wp_posts.ID FROM wp_posts WHERE 1=1 AND wp_posts.post_type = 'post' "
		"AND ((wp_posts.post_status = 'publish')) ORDER BY wp_posts.post_date DESC "
		"LIMIT 0, 10",
		"SELECT t.*, tt.* FROM wp_terms AS t INNER JOIN wp_term_taxonomy AS tt ON "
		"t.term_id = tt.term_id WHERE tt.taxonomy IN ('category') ORDER BY t.name ASC",
		"SELECT post_id, meta_key, meta_value FROM wp_postmeta WHERE post_id IN "
		"(1,2,3) ORDER BY meta_id ASC",
		"UPDATE `wp_options` SET `option_value` = '1700000000' WHERE `option_name` = "
		"'_transient_doing_cron'",
		"INSERT INTO `wp_comments` (`comment_post_ID`, `comment_author`, "
		"`comment_content`, `comment_approved`) VALUES (1, 'Ann', 'Hi!', '1')",
		/* MediaWiki */
		"SELECT page_id,page_len,page_is_redirect,page_latest FROM `page` WHERE "
		"page_namespace = 0 AND page_title = 'Main_Page' LIMIT 1",
		"SELECT rev_id,rev_page,rev_timestamp FROM `revision` WHERE rev_page = 1 "
		"AND rev_id = 42 LIMIT 1",
		/* Django / Rails ORMs */
		"SELECT `auth_user`.`id`, `auth_user`.`username` FROM `auth_user` WHERE "
		"`auth_user`.`id` = 7 LIMIT 21",
		"SELECT COUNT(*) AS `__count` FROM `blog_entry` WHERE (`blog_entry`."
		"`pub_date` >= '2024-01-01' AND NOT (`blog_entry`.`headline` IS NULL))",
		"SELECT `orders`.* FROM `orders` WHERE `orders`.`customer_id` = 42 ORDER "
		"BY `orders`.`id` DESC LIMIT 20 OFFSET 40",
		"SELECT 1 AS one FROM `users` WHERE `users`.`email` = 'a@example.org' "
		"LIMIT 1",
		"UPDATE `users` SET `users`.`sign_in_count` = 3, `users`.`updated_at` = "
		"'2024-05-01 10:00:00' WHERE `users`.`id` = 9",
		"DELETE FROM `sessions` WHERE `sessions`.`session_id` = 'abc'",
		/* Magento-style reports, hand-written analytics */
		"SELECT customer_id, SUM(grand_total) AS total, COUNT(*) AS n FROM "
		"sales_order WHERE created_at >= '2024-01-01' GROUP BY customer_id "
		"HAVING SUM(grand_total) > 100 ORDER BY total DESC LIMIT 10",
		"SELECT c.name, o.id FROM customers c LEFT JOIN orders o ON o.customer_id "
		"= c.id WHERE c.country IN ('FR', 'DE') AND o.id IS NULL",
		"SELECT region, AVG(balance), MIN(balance), MAX(balance) FROM customers "
		"GROUP BY region ORDER BY region",
		"SELECT COUNT(DISTINCT customer_id) FROM orders WHERE status <> 'void'",
		"SELECT * FROM orders WHERE customer_id IN (SELECT id FROM customers "
		"WHERE region = 'north') ORDER BY id LIMIT 5",
		"SELECT id FROM orders WHERE (status = 'new' OR status = 'paid') AND NOT "
		"qty BETWEEN 1 AND 3",
		"INSERT INTO orders (id, customer_id, qty) VALUES (1, 2, 3), (4, 5, 6) "
		"ON DUPLICATE KEY UPDATE qty = qty + VALUES(qty)",
		"SELECT name FROM customers WHERE id = 1 UNION ALL SELECT name FROM "
		"archived_customers WHERE id = 1",
		/* session statements drivers send */
		"SET NAMES utf8mb4",
		"SET autocommit=0",
		"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED",
		"USE shop",
		"BEGIN",
		"COMMIT",
		"ROLLBACK",
	};
	struct sql_tree t;

	for (size_t i = 0; i < sizeof(corpus) / sizeof(corpus[0]); i++) {
		char once[1024];

		cr_assert_eq(parse(corpus[i], strlen(corpus[i]), &t), 0,
			     "does not parse: %s", corpus[i]);
		snprintf(once, sizeof(once), "%s", printed(corpus[i]));
		cr_expect_str_eq(printed(once), once, "not a fixed point: %s",
				 corpus[i]);
	}
}
