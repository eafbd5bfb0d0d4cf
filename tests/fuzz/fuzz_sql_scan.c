/*
 * libFuzzer target for the statement splitter (sql_scan.c).  Every input
 * is split every way (sql_split) and the primary way alone, and checked:
 *  - it succeeds, or gives up only as documented (too many readings);
 *  - there is at least one primary statement, the primary statements'
 *    raw spans are in order, inside the input and do not overlap, and each
 *    statement is trimmed and no longer than its raw span;
 *  - every byte of every statement can be read (ASan checks the bounds);
 *  - an input without '/', '#' or '-' is never copied;
 *  - splitting a statement again gives it back whole: the stripped text
 *    holds no comment and no top-level ';' (except where a "--" that was
 *    not a comment now stands before a space that replaced one);
 *  - the primary reading alone gives the same primary statements;
 *  - every statement of any concrete reading (each sql_mode, character
 *    set and a range of MariaDB and MySQL versions) is among the split's:
 *    the split misses no way the server could read the text.
 * Built by tests/fuzz/build.sh with ASan and UBSan; any failure aborts.
 * Seeds: tests/fuzz/seeds_sql_scan/.
 */
#include "sql_scan.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *sql, size_t len)
{
	fprintf(stderr, "fuzz_sql_scan: %s\n  input: [%.*s]\n", what,
		(int)(len > 400 ? 400 : len), sql);
	abort();
}

static const struct sql_reading primary = {
	SQL_ESC_ALL, SQL_CS_BYTE, SQL_SERVER_ANY, 0
};

static void check_again(const struct sql_stmt *st)
{
	struct sql_split again;

	if (memmem(st->text, st->len, "--", 2))
		return;
	sql_split_init(&again);
	if (sql_split_reading(&again, st->text, st->len, &primary) ||
	    again.n != 1 || again.stmts[0].len != st->len ||
	    memcmp(again.stmts[0].text, st->text, st->len))
		fail("a statement split again is not itself", st->text, st->len);
	sql_split_free(&again);
}

static bool has_stmt(const struct sql_split *sp, const struct sql_stmt *st)
{
	for (unsigned i = 0; i < sp->n; i++)
		if (sp->stmts[i].len == st->len &&
		    !memcmp(sp->stmts[i].text, st->text, st->len))
			return true;
	return false;
}

/* MySQL reads 5 version digits and a sixth as code, a text the split
 * leaves out on purpose (sql_scan.c, already_read()). */
static bool six_digit_version(const char *sql, size_t size)
{
	for (size_t i = 0; i + 9 <= size; i++) {
		size_t k = i + 3, n = 0;

		if (memcmp(sql + i, "/*!", 3))
			continue;
		while (k + n < size && n < 6 && sql[k + n] >= '0' && sql[k + n] <= '9')
			n++;
		if (n == 6)
			return true;
	}
	return false;
}

static void check_readings(const struct sql_split *sp, const char *sql,
			   size_t size)
{
	static const uint32_t mariadb[] = { 0, 50699, 50700, 100000, 101106,
					    999999 };
	static const uint32_t mysql[] = { 0, 50744, 80036 };
	bool six = six_digit_version(sql, size);
	struct sql_split one;

	sql_split_init(&one);
	for (uint8_t esc = SQL_ESC_ALL; esc <= SQL_ESC_NONE; esc++) {
		for (uint8_t cs = SQL_CS_BYTE; cs <= SQL_CS_SJIS; cs++) {
			for (unsigned v = 0; v < 6 + 3; v++) {
				struct sql_reading rd = {
					esc, cs,
					v < 6 ? SQL_SERVER_MARIADB : SQL_SERVER_MYSQL,
					v < 6 ? mariadb[v] : mysql[v - 6],
				};

				if (v >= 6 && six)
					continue;
				if (sql_split_reading(&one, sql, size, &rd))
					fail("one reading failed", sql, size);
				for (unsigned i = 0; i < one.n; i++)
					if (one.stmts[i].len &&
					    !has_stmt(sp, &one.stmts[i]))
						fail("a reading's statement is "
						     "missing", sql, size);
			}
		}
	}
	sql_split_free(&one);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *sql = (const char *)data;
	struct sql_split sp, one;
	unsigned sum = 0;
	int rc;

	sql_split_init(&sp);
	rc = sql_split(&sp, sql, size);
	if (rc == SQL_SPLIT_AMBIGUOUS) {
		if (sp.n)
			fail("statements after giving up", sql, size);
		sql_split_free(&sp);
		return 0;
	}
	if (rc != SQL_SPLIT_OK)
		fail("split failed", sql, size);
	if (sp.nprimary < 1 || sp.nprimary > sp.n)
		fail("no primary statement", sql, size);
	for (unsigned i = 0; i < sp.n; i++) {
		const struct sql_stmt *st = &sp.stmts[i];

		if (st->raw_start > st->raw_end || st->raw_end > size ||
		    st->len > st->raw_end - st->raw_start)
			fail("raw span", sql, size);
		if (i && i < sp.nprimary &&
		    st->raw_start <= sp.stmts[i - 1].raw_end)
			fail("primary statements out of order", sql, size);
		if (st->len && (sql_is_space((unsigned char)st->text[0]) ||
				sql_is_space((unsigned char)st->text[st->len - 1])))
			fail("statement not trimmed", sql, size);
		for (size_t k = 0; k < st->len; k++)
			sum += (unsigned char)st->text[k];
		if (i < sp.nprimary)
			check_again(st);
	}
	if (sp.stripped && !memchr(sql, '/', size) && !memchr(sql, '#', size) &&
	    !memchr(sql, '-', size))
		fail("copied without a comment", sql, size);
	sql_split_init(&one);
	if (sql_split_reading(&one, sql, size, &primary) ||
	    one.n != sp.nprimary)
		fail("the primary reading alone differs", sql, size);
	for (unsigned i = 0; i < one.n; i++)
		if (one.stmts[i].len != sp.stmts[i].len ||
		    memcmp(one.stmts[i].text, sp.stmts[i].text, one.stmts[i].len))
			fail("the primary reading alone differs", sql, size);
	sql_split_free(&one);
	check_readings(&sp, sql, size);
	sql_split_free(&sp);
	return (int)(sum & 0);
}
