/*
 * libFuzzer target for the statement classifier (sql_classify.c).  Every
 * input is classified without a reading and under a reading chosen by its
 * first byte, and checked:
 *  - it succeeds, or gives up only as sql_split() does, with UNKNOWN;
 *  - only defined flags are set; at most SQLC_MAX_ITEMS items, each of a
 *    known kind, every text inside the input, the split's scratch or the
 *    result's own buffer (or N'..''s "utf8mb3"), every byte read (ASan);
 *  - a reading changes the items only: the flags are those of every
 *    reading either way (but SQLC_INEXACT);
 *  - classifying again gives the same result;
 *  - the command is its statements joined: when each statement of the
 *    split (every reading's) reads as exactly itself when split again,
 *    the command's flags are the union of the flags of its statements
 *    classified alone (but MULTI and INEXACT), and its items are theirs,
 *    in order;
 *  - a string value decodes without reading outside the literal.
 * Built by tests/fuzz/build.sh with ASan and UBSan; any failure aborts.
 * Seeds: tests/fuzz/seeds_classify/.
 */
#include "sql_classify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const char *sql, size_t len)
{
	fprintf(stderr, "fuzz_classify: %s\n  input: [%.*s]\n", what,
		(int)(len > 400 ? 400 : len), sql);
	abort();
}

static bool inside(const char *p, size_t n, const char *base, size_t len)
{
	return base && p >= base && n <= len && p - base <= (long)(len - n);
}

static unsigned touch(struct sql_text t)
{
	unsigned sum = 0;

	for (size_t i = 0; i < t.len; i++)
		sum += (unsigned char)t.ptr[i];
	return sum;
}

static void check_text(struct sql_text t, const struct sql_class *c,
		       const struct sql_split *sp, const char *sql, size_t len)
{
	if (!t.len)
		return;
	if (!t.ptr || !(inside(t.ptr, t.len, sql, len) ||
			inside(t.ptr, t.len, c->buf, c->buf_len) ||
			inside(t.ptr, t.len, sp->buf, sp->buf_len) ||
			(t.len == 7 && !memcmp(t.ptr, "utf8mb3", 7))))
		fail("an item's text is nowhere it may be", sql, len);
	(void)touch(t);
}

static void check_class(const struct sql_class *c, const struct sql_split *sp,
			const char *sql, size_t len)
{
	if (c->flags >> SQLC_NFLAGS)
		fail("undefined flag", sql, len);
	if (c->nitems > SQLC_MAX_ITEMS || c->buf_len > SQLC_NAME_BUF)
		fail("too many items", sql, len);
	for (unsigned i = 0; i < c->nitems; i++) {
		const struct sql_item *it = &c->items[i];

		if (it->kind < SQLI_USER_VAR || it->kind > SQLI_HANDLER_CLOSE)
			fail("unknown item kind", sql, len);
		if (it->stmt >= (c->nstmts ? c->nstmts : 1) + 64)
			fail("item of no statement", sql, len);
		check_text(it->schema, c, sp, sql, len);
		check_text(it->name, c, sp, sql, len);
		check_text(it->to_schema, c, sp, sql, len);
		check_text(it->to_name, c, sp, sql, len);
		check_text(it->value, c, sp, sql, len);
		check_text(it->charset, c, sp, sql, len);
		check_text(it->collation, c, sp, sql, len);
	}
}

/* One item as comparable text; stmt shifted by base. */
static size_t item_key(const struct sql_item *it, unsigned base, char *out,
		       size_t cap)
{
	return (size_t)snprintf(out, cap, "%d/%d/%u/%.*s/%.*s/%.*s/%.*s/%.*s/"
				"%.*s/%.*s/%llu", it->kind, it->detail,
				it->stmt + base,
				(int)it->schema.len, it->schema.ptr,
				(int)it->name.len, it->name.ptr,
				(int)it->to_schema.len, it->to_schema.ptr,
				(int)it->to_name.len, it->to_name.ptr,
				(int)it->value.len, it->value.ptr,
				(int)it->charset.len, it->charset.ptr,
				(int)it->collation.len, it->collation.ptr,
				(unsigned long long)it->number);
}

static char keys_whole[64 * 1024], keys_parts[64 * 1024];

static size_t append_keys(char *buf, size_t n, size_t cap,
			  const struct sql_class *c, unsigned base)
{
	for (unsigned i = 0; i < c->nitems && n < cap; i++) {
		n += item_key(&c->items[i], base, buf + n, cap - n);
		if (n < cap)
			buf[n++] = '\n';
	}
	return n < cap ? n : cap;
}

/* A statement that sql_split() gives back as exactly itself, read one
 * way only: classified alone, it is classified as in the command. */
static bool reads_as_itself(struct sql_split *tmp, const struct sql_stmt *st)
{
	return !sql_split(tmp, st->text, st->len) && tmp->readings == 1 &&
	       tmp->n == 1 && !tmp->stripped && tmp->stmts[0].len == st->len;
}

static void check_parts(const char *sql, size_t size,
			const struct sql_class *whole)
{
	struct sql_split sp, one;
	struct sql_class part;
	uint64_t flags = 0, mask = ~(SQLC_MULTI | SQLC_INEXACT);
	size_t nw, np = 0;
	unsigned base = 0;

	sql_split_init(&sp);
	sql_split_init(&one);
	if (sql_split(&sp, sql, size))
		goto out;
	for (unsigned i = 0; i < sp.n; i++)
		if (sp.stmts[i].len && !reads_as_itself(&one, &sp.stmts[i]))
			goto out;
	for (unsigned i = 0; i < sp.n; i++) {
		const struct sql_stmt *st = &sp.stmts[i];

		if (!st->len)
			continue;
		if (sql_classify(&one, st->text, st->len, NULL, &part))
			fail("a statement alone fails", sql, size);
		flags |= part.flags;
		if (i < sp.nprimary) {
			np = append_keys(keys_parts, np, sizeof(keys_parts),
					 &part, base);
			base++;
		}
	}
	if ((whole->flags & mask) != (flags & mask))
		fail("the command is not its statements joined", sql, size);
	if (!(whole->flags & SQLC_INEXACT) && !(flags & SQLC_INEXACT)) {
		nw = append_keys(keys_whole, 0, sizeof(keys_whole), whole, 0);
		if (nw != np || memcmp(keys_whole, keys_parts, nw))
			fail("the items are not those of the statements", sql,
			     size);
	}
out:
	sql_split_free(&sp);
	sql_split_free(&one);
}

static bool same(const struct sql_class *a, const struct sql_class *b)
{
	size_t na, nb;

	if (a->flags != b->flags || a->nitems != b->nitems ||
	    a->nstmts != b->nstmts)
		return false;
	na = append_keys(keys_whole, 0, sizeof(keys_whole), a, 0);
	nb = append_keys(keys_parts, 0, sizeof(keys_parts), b, 0);
	return na == nb && !memcmp(keys_whole, keys_parts, na);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct sql_class c, again, with;
	const char *sql = (const char *)data;
	struct sql_reading rd = { SQL_ESC_ALL, SQL_CS_BYTE,
				  SQL_SERVER_MARIADB, 101119 };
	struct sql_split sp, sp2, sp3;
	unsigned sum = 0;
	char value[64];
	int rc;

	if (size) {
		rd.escapes = data[0] % 3;
		rd.charset = (data[0] / 3) % 4;
		if (data[0] & 0x80) {
			rd.server = SQL_SERVER_MYSQL;
			rd.version = 80036;
		}
	}
	sql_split_init(&sp);
	sql_split_init(&sp2);
	sql_split_init(&sp3);
	rc = sql_classify(&sp, sql, size, NULL, &c);
	if (rc) {
		if (rc != SQL_SPLIT_AMBIGUOUS ||
		    c.flags != (SQLC_UNKNOWN | SQLC_INEXACT) || c.nitems)
			fail("a failure is not as documented", sql, size);
		goto out;
	}
	check_class(&c, &sp, sql, size);
	for (unsigned i = 0; i < c.nitems; i++) {
		const struct sql_item *it = &c.items[i];

		if (it->kind == SQLI_USER_VAR && it->detail == SQL_LIT_STRING)
			sum += (unsigned)sql_string_value(it->value.ptr,
							  it->value.len, &rd,
							  value, sizeof(value));
	}
	if (sql_classify(&sp2, sql, size, NULL, &again) || !same(&c, &again))
		fail("classifying again differs", sql, size);
	if (sql_classify(&sp3, sql, size, &rd, &with))
		fail("classifying with a reading fails", sql, size);
	check_class(&with, &sp3, sql, size);
	if ((with.flags & ~SQLC_INEXACT) != (c.flags & ~SQLC_INEXACT))
		fail("a reading changes the flags", sql, size);
	check_parts(sql, size, &c);
	sum += (unsigned)sql_class_read_only(&c);
out:
	sql_split_free(&sp);
	sql_split_free(&sp2);
	sql_split_free(&sp3);
	return (int)(sum & 0);
}
