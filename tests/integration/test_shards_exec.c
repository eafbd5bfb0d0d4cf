/*
 * Prepared statements whose executions need several shards, on the rig of
 * scripts/shards.sh: each execution's fetched values (every column type,
 * in the binary protocol, read with mysql_stmt_fetch into typed buffers)
 * and its column definitions are compared with the same statement
 * prepared on the reference server, and with the statement run as text
 * through myring.  Writes (multi-row INSERT split over the shards,
 * UPDATE and DELETE scattered) must leave the shards holding what the
 * reference holds.
 *
 * The table ptypes is created here, on every shard and on the reference
 * (sharded by id in this test's keyspace), and dropped at the end.
 */
#include <criterion/criterion.h>
#include <mysql.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

#define NSHARDS 4

struct rig {
	int shard_port[NSHARDS];
	int ref_port;
	struct proxy_proc p;
	char config[160];
};

static const char ptypes_ddl[] =
	"CREATE TABLE ptypes (id BIGINT PRIMARY KEY, ti TINYINT, "
	"si SMALLINT UNSIGNED, mi MEDIUMINT, i INT, ubi BIGINT UNSIGNED, "
	"dc DECIMAL(20,6), f FLOAT, d DOUBLE, dt DATE, dtm DATETIME(6), "
	"ts TIMESTAMP(3) NULL DEFAULT NULL, tm TIME(2), yr YEAR, c CHAR(5), "
	"vc VARCHAR(40), tx TEXT, bl BLOB, vb VARBINARY(20), bt BIT(10), "
	"en ENUM('a','b','c'), st SET('x','y')) DEFAULT CHARSET=utf8mb4 "
	"COLLATE=utf8mb4_general_ci";

static MYSQL *at(int port)
{
	char err[512];
	MYSQL *m = connect_port(port, "myring", "myring-pw", "shop", 0, err,
				sizeof(err));

	cr_assert(m, "connect to port %d: %s", port, err);
	return m;
}

/* Every shard and the reference get a fresh ptypes. */
static void fresh_table(const struct rig *r)
{
	for (int i = 0; i <= NSHARDS; i++) {
		MYSQL *m = at(i < NSHARDS ? r->shard_port[i] : r->ref_port);

		query_ok(m, "DROP TABLE IF EXISTS ptypes");
		query_ok(m, ptypes_ddl);
		mysql_close(m);
	}
}

static void drop_table(const struct rig *r)
{
	for (int i = 0; i <= NSHARDS; i++) {
		MYSQL *m = at(i < NSHARDS ? r->shard_port[i] : r->ref_port);

		query_ok(m, "DROP TABLE IF EXISTS ptypes");
		mysql_close(m);
	}
}

static void rig_start(struct rig *r)
{
	char text[2048];
	size_t n = 0;
	FILE *f;

	for (int i = 0; i < NSHARDS; i++)
		r->shard_port[i] = shard_rig_port(i);
	r->ref_port = (int)shard_rig_env("REF_PORT");
	n += (size_t)snprintf(text + n, sizeof(text) - n,
			      "auth: proxy\nusers:\n  - name: myring\n"
			      "    password: myring-pw\ngroups:\n");
	for (int i = 0; i < NSHARDS; i++)
		n += (size_t)snprintf(text + n, sizeof(text) - n,
				      "  - name: g%d\n    servers: "
				      "[127.0.0.1:%d]\n", i, r->shard_port[i]);
	snprintf(text + n, sizeof(text) - n,
		 "keyspace:\n  schema: shop\n  shards: [g0, g1, g2, g3]\n"
		 "  tables:\n    - name: ptypes\n      key: id\n"
		 "      function: hash\n    - name: customers\n"
		 "      key: id\n      function: hash\n");
	snprintf(r->config, sizeof(r->config), "/tmp/myring-itest-exec-%d.yaml",
		 getpid());
	f = fopen(r->config, "w");
	cr_assert(f);
	fputs(text, f);
	fclose(f);
	const char *args[] = {"--config", r->config, "--log-level", "info",
			      NULL};
	proxy_start(&r->p, 0, args);
	fresh_table(r);
}

static void rig_stop(struct rig *r)
{
	drop_table(r);
	cr_expect_eq(proxy_stop(&r->p, 20000), 0, "myring's exit status\n%s",
		     proxy_log_tail(&r->p));
	unlink(r->config);
}

/* ---- parameters -------------------------------------------------------- */

/* A parameter: its type and its value as text ("2024-01-31 10:00:00.5"
 * for temporal ones); NULL value: SQL NULL.  len: for strings with NUL
 * bytes (0: strlen). */
struct param {
	enum enum_field_types type;
	const char *v;
	size_t len;
	bool uns;
};

#define MAXP 48

struct bound {
	MYSQL_BIND b[MAXP];
	long long ll[MAXP];
	double d[MAXP];
	float f[MAXP];
	MYSQL_TIME t[MAXP];
	unsigned long len[MAXP];
	my_bool null[MAXP];
};

static void parse_time(const char *v, enum enum_field_types type,
		       MYSQL_TIME *t)
{
	unsigned y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
	char frac[8] = "";

	memset(t, 0, sizeof(*t));
	if (type == MYSQL_TYPE_TIME) {
		t->neg = v[0] == '-';
		sscanf(v + t->neg, "%u:%u:%u.%6[0-9]", &h, &mi, &s, frac);
		t->time_type = MYSQL_TIMESTAMP_TIME;
	} else {
		sscanf(v, "%u-%u-%u %u:%u:%u.%6[0-9]", &y, &mo, &d, &h, &mi,
		       &s, frac);
		t->time_type = type == MYSQL_TYPE_DATE ? MYSQL_TIMESTAMP_DATE :
			       MYSQL_TIMESTAMP_DATETIME;
	}
	t->year = y;
	t->month = mo;
	t->day = d;
	t->hour = h;
	t->minute = mi;
	t->second = s;
	if (frac[0]) {
		while (strlen(frac) < 6)
			strcat(frac, "0");
		t->second_part = strtoul(frac, NULL, 10);
	}
}

static void bind_params(MYSQL_STMT *st, struct bound *bd,
			const struct param *ps, unsigned n)
{
	memset(bd, 0, sizeof(*bd));
	cr_assert_leq(n, MAXP);
	for (unsigned i = 0; i < n; i++) {
		MYSQL_BIND *b = &bd->b[i];

		b->buffer_type = ps[i].type;
		b->is_unsigned = ps[i].uns;
		if (!ps[i].v) {
			bd->null[i] = 1;
			b->is_null = &bd->null[i];
			continue;
		}
		switch (ps[i].type) {
		case MYSQL_TYPE_TINY:
		case MYSQL_TYPE_SHORT:
		case MYSQL_TYPE_LONG:
		case MYSQL_TYPE_LONGLONG:
			b->buffer_type = MYSQL_TYPE_LONGLONG;
			bd->ll[i] = ps[i].uns ? (long long)strtoull(ps[i].v,
								     NULL, 10)
					      : strtoll(ps[i].v, NULL, 10);
			b->buffer = &bd->ll[i];
			break;
		case MYSQL_TYPE_DOUBLE:
			bd->d[i] = strtod(ps[i].v, NULL);
			b->buffer = &bd->d[i];
			break;
		case MYSQL_TYPE_FLOAT:
			bd->f[i] = strtof(ps[i].v, NULL);
			b->buffer = &bd->f[i];
			break;
		case MYSQL_TYPE_DATE:
		case MYSQL_TYPE_DATETIME:
		case MYSQL_TYPE_TIMESTAMP:
		case MYSQL_TYPE_TIME:
			parse_time(ps[i].v, ps[i].type, &bd->t[i]);
			b->buffer = &bd->t[i];
			break;
		default:
			bd->len[i] = ps[i].len ? ps[i].len : strlen(ps[i].v);
			b->buffer = (void *)ps[i].v;
			b->buffer_length = bd->len[i];
			b->length = &bd->len[i];
			break;
		}
	}
	cr_assert_eq(mysql_stmt_bind_param(st, bd->b), 0, "%s",
		     mysql_stmt_error(st));
}

/* ---- results ----------------------------------------------------------- */

/* What an execution gave: its columns' definitions and its rows, each
 * rendered exactly from the typed value mysql_stmt_fetch wrote (doubles
 * and floats in hexadecimal, strings as escaped bytes). */
struct outcome {
	int err;
	char msg[256];
	unsigned long long affected;
	unsigned ncols, nrows;
	char cols[24][160];
	char *rows[512];
};

static void outcome_free(struct outcome *o)
{
	for (unsigned i = 0; i < o->nrows; i++)
		free(o->rows[i]);
	o->nrows = 0;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static size_t render_cell(char *out, size_t cap, const MYSQL_FIELD *fd,
			  const MYSQL_BIND *b, const unsigned char *buf,
			  unsigned long len)
{
	const MYSQL_TIME *t = (const MYSQL_TIME *)buf;
	size_t n = 0;

	if (*b->is_null)
		return (size_t)snprintf(out, cap, "NULL");
	switch (b->buffer_type) {
	case MYSQL_TYPE_LONGLONG:
		return (size_t)snprintf(out, cap, (fd->flags & UNSIGNED_FLAG) ?
					"%llu" : "%lld",
					*(const long long *)buf);
	case MYSQL_TYPE_DOUBLE:
		return (size_t)snprintf(out, cap, "%a", *(const double *)buf);
	case MYSQL_TYPE_FLOAT:
		return (size_t)snprintf(out, cap, "%af",
					(double)*(const float *)buf);
	case MYSQL_TYPE_DATETIME:
		return (size_t)snprintf(out, cap, "%s%u-%u-%u %u:%u:%u.%lu/%d",
					t->neg ? "-" : "", t->year, t->month,
					t->day, t->hour, t->minute, t->second,
					t->second_part, (int)t->time_type);
	default:
		for (unsigned long i = 0; i < len && n + 5 < cap; i++)
			n += (size_t)snprintf(out + n, cap - n,
					      buf[i] >= 0x20 && buf[i] < 0x7f &&
					      buf[i] != '\\' ? "%c" : "\\%02x",
					      buf[i]);
		return n;
	}
}

static void fetch_all(MYSQL_STMT *st, struct outcome *o, bool sort)
{
	MYSQL_RES *md = mysql_stmt_result_metadata(st);
	MYSQL_BIND b[24];
	unsigned char bufs[24][512];
	unsigned long lens[24];
	my_bool nulls[24];

	o->affected = mysql_stmt_affected_rows(st);
	if (!md)
		return;
	o->ncols = mysql_num_fields(md);
	cr_assert_leq(o->ncols, 24);
	MYSQL_FIELD *fds = mysql_fetch_fields(md);
	memset(b, 0, sizeof(b));
	for (unsigned c = 0; c < o->ncols; c++) {
		const MYSQL_FIELD *fd = &fds[c];

		snprintf(o->cols[c], sizeof(o->cols[c]), "%s type %d flags 0x%x "
			 "decimals %u charset %u length %lu", fd->name,
			 (int)fd->type, fd->flags, fd->decimals, fd->charsetnr,
			 fd->length);
		switch (fd->type) {
		case MYSQL_TYPE_TINY:
		case MYSQL_TYPE_SHORT:
		case MYSQL_TYPE_INT24:
		case MYSQL_TYPE_LONG:
		case MYSQL_TYPE_LONGLONG:
		case MYSQL_TYPE_YEAR:
			b[c].buffer_type = MYSQL_TYPE_LONGLONG;
			b[c].is_unsigned = (fd->flags & UNSIGNED_FLAG) != 0;
			break;
		case MYSQL_TYPE_FLOAT:
		case MYSQL_TYPE_DOUBLE:
			b[c].buffer_type = fd->type;
			break;
		case MYSQL_TYPE_DATE:
		case MYSQL_TYPE_DATETIME:
		case MYSQL_TYPE_TIMESTAMP:
		case MYSQL_TYPE_TIME:
			b[c].buffer_type = MYSQL_TYPE_DATETIME;
			break;
		default:
			b[c].buffer_type = MYSQL_TYPE_BLOB;
			break;
		}
		b[c].buffer = bufs[c];
		b[c].buffer_length = sizeof(bufs[c]);
		b[c].length = &lens[c];
		b[c].is_null = &nulls[c];
	}
	cr_assert_eq(mysql_stmt_bind_result(st, b), 0, "%s",
		     mysql_stmt_error(st));
	for (;;) {
		int r = mysql_stmt_fetch(st);
		char row[4096];
		size_t n = 0;

		if (r == MYSQL_NO_DATA)
			break;
		cr_assert(r == 0 || r == MYSQL_DATA_TRUNCATED, "fetch: %s",
			  mysql_stmt_error(st));
		for (unsigned c = 0; c < o->ncols; c++) {
			n += render_cell(row + n, sizeof(row) - n - 1, &fds[c],
					 &b[c], bufs[c], lens[c]);
			row[n++] = '|';
		}
		row[n] = '\0';
		cr_assert_lt(o->nrows, 512);
		o->rows[o->nrows++] = strdup(row);
	}
	mysql_free_result(md);
	if (sort)
		qsort(o->rows, o->nrows, sizeof(o->rows[0]), cmp_str);
}

/* sql prepared on m and executed with ps (twice: the second time the
 * client sends no types), its outcome in o. */
static void run(MYSQL *m, const char *sql, const struct param *ps,
		unsigned n, bool sort, struct outcome *o)
{
	MYSQL_STMT *st = mysql_stmt_init(m);
	static struct bound bd;

	memset(o, 0, sizeof(*o));
	cr_assert_eq(mysql_stmt_prepare(st, sql, strlen(sql)), 0, "%s: %s",
		     sql, mysql_stmt_error(st));
	bind_params(st, &bd, ps, n);
	for (int round = 0; round < 2; round++) {
		outcome_free(o);
		if (mysql_stmt_execute(st)) {
			o->err = (int)mysql_stmt_errno(st);
			snprintf(o->msg, sizeof(o->msg), "%s",
				 mysql_stmt_error(st));
			break;
		}
		fetch_all(st, o, sort);
		mysql_stmt_free_result(st);
	}
	mysql_stmt_close(st);
}

static void same(const char *sql, const struct outcome *a,
		 const struct outcome *b, const char *what)
{
	cr_assert_eq(a->err, b->err, "%s: errors differ (myring %d %s, %s %d "
		     "%s)", sql, a->err, a->msg, what, b->err, b->msg);
	cr_assert_eq(a->affected, b->affected, "%s: affected rows %llu, %s "
		     "%llu", sql, a->affected, what, b->affected);
	cr_assert_eq(a->ncols, b->ncols, "%s: columns", sql);
	for (unsigned c = 0; c < a->ncols; c++)
		cr_assert_str_eq(a->cols[c], b->cols[c], "%s: column %u\n"
				 "myring: %s\n%s: %s", sql, c, a->cols[c],
				 what, b->cols[c]);
	cr_assert_eq(a->nrows, b->nrows, "%s: %u rows, %s %u", sql, a->nrows,
		     what, b->nrows);
	for (unsigned r = 0; r < a->nrows; r++)
		cr_assert_str_eq(a->rows[r], b->rows[r], "%s: row %u\n"
				 "myring: %s\n%s: %s", sql, r, a->rows[r],
				 what, b->rows[r]);
}

/* The execution through myring and on the reference: the same. */
static void check(MYSQL *my, MYSQL *ref, const char *sql,
		  const struct param *ps, unsigned n, bool sort)
{
	struct outcome a, b;

	run(my, sql, ps, n, sort, &a);
	run(ref, sql, ps, n, sort, &b);
	cr_assert_eq(a.err, 0, "%s: %d %s", sql, a.err, a.msg);
	same(sql, &a, &b, "reference");
	outcome_free(&a);
	outcome_free(&b);
}

/* Every column but the FLOAT. */
#define ALL "id, ti, si, mi, i, ubi, dc, d, dt, dtm, ts, tm, yr, c, vc, tx, " \
	"bl, vb, bt, en, st"

/* The execution through myring fails with 1235 and a message holding
 * what. */
static void check_refused(MYSQL *my, const char *sql, const struct param *ps,
			  unsigned n, const char *what)
{
	struct outcome a;

	run(my, sql, ps, n, false, &a);
	cr_assert_eq(a.err, 1235, "%s: %d %s", sql, a.err, a.msg);
	cr_assert(strstr(a.msg, what), "%s: %s", sql, a.msg);
	outcome_free(&a);
}

#define P(...) ((const struct param[]){__VA_ARGS__}), \
	(unsigned)(sizeof((const struct param[]){__VA_ARGS__}) / \
		   sizeof(struct param))

static const char insert_sql[] =
	"INSERT INTO ptypes (id, ti, si, mi, i, ubi, dc, f, d, dt, dtm, ts, "
	"tm, yr, c, vc, tx, bl, vb, bt, en, st) VALUES "
	"(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 2024, ?, ?, ?, ?, ?, b'101', "
	"?, ?), (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, "
	"NULL, ?, ?)";

/* Two rows per execution of insert_sql: ids a and b. */
static void insert_pair(MYSQL *m, long a, long b, int k)
{
	char ida[24], idb[24], ti[8], i[24], dc[40], f[40], d[40], dt[16];
	char dtm[40], tm[24], vc[48], ubi[24];
	static const char *const strs[] = {
		"plain", "it's", "back\\slash", "new\nline", "quote''s",
		"percent%_", "日本語", "", "\\'", "tab\there",
	};
	const char *s = strs[k % 10];

	snprintf(ida, sizeof(ida), "%ld", a);
	snprintf(idb, sizeof(idb), "%ld", b);
	snprintf(ti, sizeof(ti), "%d", k % 2 ? -k : k);
	snprintf(i, sizeof(i), "%d", (k * 7919) % 1000 - 500);
	snprintf(ubi, sizeof(ubi), "%llu", 18446744073709551615ull - (unsigned)k);
	snprintf(dc, sizeof(dc), "%s%d.%06d", k % 3 ? "" : "-", k * 123,
		 k * 4567 % 1000000);
	snprintf(f, sizeof(f), "%.9g", 0.1234567f * (float)(k + 1));
	snprintf(d, sizeof(d), "%.17g", 1.0 / 3.0 * (k + 1) * (k % 2 ? -1 : 1));
	snprintf(dt, sizeof(dt), "20%02d-%02d-%02d", k % 30, k % 12 + 1,
		 k % 28 + 1);
	snprintf(dtm, sizeof(dtm), "2023-05-%02d 12:%02d:%02d.%06d", k % 28 + 1,
		 k % 60, (k * 7) % 60, k * 10101 % 1000000);
	snprintf(tm, sizeof(tm), "%s%d:%02d:%02d.%02d", k % 2 ? "-" : "",
		 k * 37 % 839, k % 60, k % 59, k % 100);
	snprintf(vc, sizeof(vc), "%s %d", s, k);
	const struct param row[] = {
		{MYSQL_TYPE_LONGLONG, ida, 0, false},
		{MYSQL_TYPE_TINY, ti, 0, false},
		{MYSQL_TYPE_SHORT, "65535", 0, true},
		{MYSQL_TYPE_LONG, i, 0, false},
		{MYSQL_TYPE_LONG, i, 0, false},
		{MYSQL_TYPE_LONGLONG, ubi, 0, true},
		{MYSQL_TYPE_NEWDECIMAL, dc, 0, false},
		{MYSQL_TYPE_FLOAT, f, 0, false},
		{MYSQL_TYPE_DOUBLE, d, 0, false},
		{MYSQL_TYPE_DATE, dt, 0, false},
		{MYSQL_TYPE_DATETIME, dtm, 0, false},
		{MYSQL_TYPE_TIMESTAMP, k % 4 ? dtm : NULL, 0, false},
		{MYSQL_TYPE_TIME, tm, 0, false},
		{MYSQL_TYPE_STRING, k % 5 ? "abc" : "xyz", 0, false},
		{MYSQL_TYPE_STRING, vc, 0, false},
		{MYSQL_TYPE_STRING, s, 0, false},
		{MYSQL_TYPE_BLOB, "\0\xff\\'\x27z", 6, false},
		{MYSQL_TYPE_BLOB, k % 2 ? "bin\x80" : "\x01\x02", 0, false},
		{MYSQL_TYPE_STRING, k % 3 == 0 ? "a" : k % 3 == 1 ? "b" : "c", 0,
		 false},
		{MYSQL_TYPE_STRING, k % 2 ? "x,y" : "y", 0, false},
	};
	struct param two[40];
	MYSQL_STMT *st = mysql_stmt_init(m);
	static struct bound bd;

	memcpy(two, row, sizeof(row));
	memcpy(two + 20, row, sizeof(row));
	two[20].v = idb;
	two[21].v = NULL;       /* ti NULL in the second row */
	cr_assert_eq(mysql_stmt_prepare(st, insert_sql, strlen(insert_sql)), 0,
		     "%s", mysql_stmt_error(st));
	bind_params(st, &bd, two, 40);
	cr_assert_eq(mysql_stmt_execute(st), 0, "insert %ld, %ld: %s", a, b,
		     mysql_stmt_error(st));
	cr_assert_eq(mysql_stmt_affected_rows(st), 2);
	mysql_stmt_close(st);
}

Test(shards, executions_over_several_shards_match_the_reference,
     .timeout = 300)
{
	struct rig r;
	MYSQL *my, *ref;

	rig_start(&r);
	my = at(r.p.port);
	ref = at(r.ref_port);
	/* 40 rows, two per execution: most executions split over two
	 * shards (a multi-row INSERT cut per shard). */
	for (int k = 0; k < 20; k++) {
		insert_pair(my, 100 + k, 200 + k, k);
		insert_pair(ref, 100 + k, 200 + k, k);
	}
	check(my, ref, "SELECT " ALL " FROM ptypes WHERE id > ? ORDER BY id",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), false);
	check(my, ref, "SELECT " ALL " FROM ptypes WHERE id > ?",
	      P({MYSQL_TYPE_LONGLONG, "105", 0, false}), true);
	/* A FLOAT in a `*` is refused (its select item cannot be asked
	 * for as a double); named, or as a DOUBLE, it is exact. */
	check_refused(my, "SELECT * FROM ptypes WHERE id > ?",
		      P({MYSQL_TYPE_LONGLONG, "0", 0, false}),
		      "name the columns");
	check(my, ref, "SELECT " ALL ", f FROM ptypes WHERE id > ?",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), true);
	check(my, ref, "SELECT id, CAST(f AS DOUBLE) FROM ptypes WHERE id > ?",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), true);
	/* oltp_read_write's range SELECTs */
	check(my, ref, "SELECT c FROM ptypes WHERE id BETWEEN ? AND ?",
	      P({MYSQL_TYPE_LONGLONG, "103", 0, false}, {MYSQL_TYPE_LONGLONG, "210", 0, false}),
	      true);
	check(my, ref, "SELECT SUM(i) FROM ptypes WHERE id BETWEEN ? AND ?",
	      P({MYSQL_TYPE_LONG, "103", 0, false}, {MYSQL_TYPE_LONG, "210", 0, false}), false);
	check(my, ref, "SELECT c FROM ptypes WHERE id BETWEEN ? AND ? "
	      "ORDER BY c", P({MYSQL_TYPE_LONGLONG, "100", 0, false},
			      {MYSQL_TYPE_LONGLONG, "219", 0, false}), false);
	check(my, ref, "SELECT DISTINCT c FROM ptypes WHERE id BETWEEN ? AND ? "
	      "ORDER BY c", P({MYSQL_TYPE_LONGLONG, "100", 0, false},
			      {MYSQL_TYPE_LONGLONG, "219", 0, false}), false);
	/* aggregates of every kind, grouped, with HAVING and a LIMIT */
	check(my, ref, "SELECT COUNT(*), SUM(dc), AVG(dc), MIN(dt), MAX(dtm), "
	      "MIN(vc), MAX(tm), SUM(i), AVG(i), MIN(d), MAX(ubi), "
	      "COUNT(DISTINCT c) FROM ptypes WHERE id >= ?",
	      P({MYSQL_TYPE_LONGLONG, "100", 0, false}), false);
	check(my, ref, "SELECT c, COUNT(*), SUM(i), MAX(d) FROM ptypes "
	      "WHERE vc <> ? GROUP BY c HAVING COUNT(*) > ? ORDER BY c",
	      P({MYSQL_TYPE_STRING, "x", 0, false}, {MYSQL_TYPE_LONGLONG, "1", 0, false}), false);
	check(my, ref, "SELECT id, d FROM ptypes WHERE d > ? ORDER BY d "
	      "DESC, id LIMIT ?", P({MYSQL_TYPE_DOUBLE, "-3.5", 0, false},
				     {MYSQL_TYPE_LONGLONG, "7", 0, false}), false);
	check(my, ref, "SELECT id FROM ptypes ORDER BY id LIMIT ? OFFSET ?",
	      P({MYSQL_TYPE_LONG, "5", 0, false}, {MYSQL_TYPE_LONG, "30", 0, false}), false);
	/* values of every type, written into the shards' texts */
	check(my, ref, "SELECT id FROM ptypes WHERE tx = ? OR tx = ? OR "
	      "tx = ? OR tx = ?", P({MYSQL_TYPE_STRING, "it's", 0, false},
				    {MYSQL_TYPE_STRING, "back\\slash", 0, false},
				    {MYSQL_TYPE_VAR_STRING, "new\nline", 0, false},
				    {MYSQL_TYPE_STRING, "\\'", 0, false}), true);
	check(my, ref, "SELECT id FROM ptypes WHERE vc LIKE ?",
	      P({MYSQL_TYPE_STRING, "percent\\%\\_%", 0, false}), true);
	check(my, ref, "SELECT id, bl FROM ptypes WHERE bl = ? OR vb = ?",
	      P({MYSQL_TYPE_BLOB, "\0\xff\\'\x27z", 6, false},
		{MYSQL_TYPE_BLOB, "bin\x80", 0, false}), true);
	check(my, ref, "SELECT id FROM ptypes WHERE dc = ? OR dc > ?",
	      P({MYSQL_TYPE_NEWDECIMAL, "-369.013701", 0, false},
		{MYSQL_TYPE_NEWDECIMAL, "2000", 0, false}), true);
	check(my, ref, "SELECT id FROM ptypes WHERE d = ? OR f < ?",
	      P({MYSQL_TYPE_DOUBLE, "0.66666666666666663", 0, false},
		{MYSQL_TYPE_FLOAT, "0.3", 0, false}), true);
	check(my, ref, "SELECT id, dtm FROM ptypes WHERE dtm >= ? AND dt < ?",
	      P({MYSQL_TYPE_DATETIME, "2023-05-10 00:00:00.5", 0, false},
		{MYSQL_TYPE_DATE, "2015-01-01", 0, false}), true);
	check(my, ref, "SELECT id FROM ptypes WHERE tm < ? OR ts = ?",
	      P({MYSQL_TYPE_TIME, "-100:00:00.25", 0, false},
		{MYSQL_TYPE_TIMESTAMP, "2023-05-02 12:01:07.010101", 0, false}), true);
	check(my, ref, "SELECT COUNT(*) FROM ptypes WHERE ti <=> ? AND id < ?",
	      P({MYSQL_TYPE_TINY, NULL, 0, false}, {MYSQL_TYPE_LONGLONG, "1000", 0, false}), false);
	check(my, ref, "SELECT id, vc FROM ptypes WHERE ubi = ? OR vc = ?",
	      P({MYSQL_TYPE_LONGLONG, "18446744073709551610", 0, true},
		{MYSQL_TYPE_STRING, "\xe6\x97\xa5\xe6\x9c\xac\xe8\xaa\x9e 6",
		 0, false}), true);
	/* writes: scattered, summed */
	check(my, ref, "UPDATE ptypes SET i = i + ?, vc = ? WHERE id > ?",
	      P({MYSQL_TYPE_LONG, "-3", 0, false}, {MYSQL_TYPE_STRING, "up'd", 0, false},
		{MYSQL_TYPE_LONGLONG, "210", 0, false}), false);
	check(my, ref, "DELETE FROM ptypes WHERE id IN (?, ?, ?, ?) OR tx = ?",
	      P({MYSQL_TYPE_LONGLONG, "101", 0, false}, {MYSQL_TYPE_LONGLONG, "102", 0, false},
		{MYSQL_TYPE_LONGLONG, "203", 0, false}, {MYSQL_TYPE_LONGLONG, "204", 0, false},
		{MYSQL_TYPE_STRING, "tab\there", 0, false}), false);
	check(my, ref, "SELECT " ALL " FROM ptypes WHERE id > ?",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), true);
	mysql_close(my);
	mysql_close(ref);
	rig_stop(&r);
}

/* The values are written for the session's reading: NO_BACKSLASH_ESCAPES
 * and a character set whose characters may end in a backslash byte (gbk
 * 0x95 0x5c). */
Test(shards, executions_write_values_for_sql_mode_and_character_set,
     .timeout = 300)
{
	struct rig r;
	MYSQL *my, *ref;
	static const char *const modes[] = {
		"SET sql_mode = CONCAT(@@sql_mode, ',NO_BACKSLASH_ESCAPES')",
		"SET sql_mode = CONCAT(@@sql_mode, ',ANSI_QUOTES')",
		"SET NAMES gbk",
	};

	rig_start(&r);
	my = at(r.p.port);
	ref = at(r.ref_port);
	for (int k = 0; k < 8; k++) {
		insert_pair(my, 300 + k, 400 + k, k);
		insert_pair(ref, 300 + k, 400 + k, k);
	}
	for (unsigned m = 0; m < 3; m++) {
		MYSQL *both[2] = {my, ref};
		/* a character ending in a backslash byte in gbk, a
		 * character and a backslash in utf8mb4 */
		const char *g = m == 2 ? "\x95\x5c" : "\xc3\xa9\\";
		char gq[8], gl[8];

		snprintf(gq, sizeof(gq), "%s'", g);
		snprintf(gl, sizeof(gl), "%s%%", g);

		for (int i = 0; i < 2; i++) {
			query_ok(both[i], modes[m]);
			query_ok(both[i], "DELETE FROM ptypes WHERE id >= 900");
		}
		/* gbk: '\x95\x5c' is one character, its second byte '\' */
		check(my, ref, "REPLACE INTO ptypes (id, vc, tx) VALUES (?, ?, ?), "
		      "(?, ?, ?)", P({MYSQL_TYPE_LONGLONG, "901", 0, false},
				     {MYSQL_TYPE_STRING, "a\\b'c\"", 0, false},
				     {MYSQL_TYPE_STRING, gq, 0, false},
				     {MYSQL_TYPE_LONGLONG, "902", 0, false},
				     {MYSQL_TYPE_STRING, "\\", 0, false},
				     {MYSQL_TYPE_STRING, g, 0, false}), false);
		check(my, ref, "SELECT id, vc, tx FROM ptypes WHERE vc = ? OR "
		      "vc = ? OR tx = ? OR vc = ?",
		      P({MYSQL_TYPE_STRING, "back\\slash 2", 0, false},
			{MYSQL_TYPE_STRING, "a\\b'c\"", 0, false},
			{MYSQL_TYPE_STRING, g, 0, false},
			{MYSQL_TYPE_STRING, "\\", 0, false}), true);
		check(my, ref, "SELECT id, tx FROM ptypes WHERE tx LIKE ?",
		      P({MYSQL_TYPE_STRING, gl, 0, false}), true);
	}
	/* Where a value would read otherwise than the marker: refused. */
	check_refused(my, "SELECT id FROM ptypes ORDER BY ?",
		      P({MYSQL_TYPE_LONGLONG, "1", 0, false}), "ORDER BY ?");
	check_refused(my, "SELECT id FROM ptypes LIMIT ?",
		      P({MYSQL_TYPE_STRING, "2", 0, false}), "LIMIT other than numbers");
	mysql_close(my);
	mysql_close(ref);
	rig_stop(&r);
}

/*
 * FLOAT columns of executions over several shards: the values a single
 * server sends, to the bit (1.1, the largest FLOAT, -0.0, NULL, the
 * smallest subnormal, neighbours that 6 digits cannot tell apart), as
 * such, merged by MIN/MAX, sorted on (selected or not), grouped and
 * distinct; each statement's first execution learns its FLOAT columns
 * from the shards, the second one knows them.
 */
Test(shards, executions_send_float_columns_exactly, .timeout = 300)
{
	static const char *const floats[] = {
		"1.1", "3.40282346e38", "-0e0", "NULL", "1.4e-45", "-1.4e-45",
		"1.17549435e-38", "1.0000001", "1.0000002", "1.0000003",
		"-3.40282346e38", "0.1", "100000.01", "100000.02", "0", "1.1",
	};
	struct rig r;
	MYSQL *my, *ref;
	char sql[200];

	rig_start(&r);
	my = at(r.p.port);
	ref = at(r.ref_port);
	for (unsigned k = 0; k < sizeof(floats) / sizeof(*floats); k++) {
		snprintf(sql, sizeof(sql), "INSERT INTO ptypes (id, f, c) VALUES "
			 "(%u, %s, '%c')", 300 + k, floats[k], "abc"[k % 3]);
		query_ok(my, sql);
		query_ok(ref, sql);
	}
	check(my, ref, "SELECT id, f FROM ptypes WHERE id > ?",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), true);
	check(my, ref, "SELECT f, id AS k FROM ptypes WHERE id > ? ORDER BY f, "
	      "id", P({MYSQL_TYPE_LONGLONG, "0", 0, false}), false);
	check(my, ref, "SELECT id FROM ptypes WHERE id > ? ORDER BY f DESC, id "
	      "LIMIT ?", P({MYSQL_TYPE_LONGLONG, "0", 0, false},
			   {MYSQL_TYPE_LONGLONG, "12", 0, false}), false);
	check(my, ref, "SELECT MIN(f), MAX(f), COUNT(f), SUM(f) FROM ptypes "
	      "WHERE id > ? AND f < ?", P({MYSQL_TYPE_LONGLONG, "0", 0, false},
					  {MYSQL_TYPE_DOUBLE, "1e30", 0, false}),
	      false);
	check(my, ref, "SELECT c, MAX(f), MIN(f) FROM ptypes WHERE id > ? "
	      "GROUP BY c ORDER BY c", P({MYSQL_TYPE_LONGLONG, "0", 0, false}),
	      false);
	check(my, ref, "SELECT DISTINCT f FROM ptypes WHERE id > ? ORDER BY f",
	      P({MYSQL_TYPE_LONGLONG, "0", 0, false}), false);
	check(my, ref, "SELECT f AS g, ABS(f), c FROM ptypes WHERE id BETWEEN ? "
	      "AND ?", P({MYSQL_TYPE_LONGLONG, "300", 0, false},
			 {MYSQL_TYPE_LONGLONG, "400", 0, false}), true);
	/* what cannot be exact is refused, with the way around it */
	check_refused(my, "SELECT f FROM ptypes WHERE id > ? UNION SELECT f "
		      "FROM ptypes WHERE id < ?",
		      P({MYSQL_TYPE_LONGLONG, "305", 0, false},
			{MYSQL_TYPE_LONGLONG, "303", 0, false}),
		      "FLOAT columns of a UNION");
	mysql_close(my);
	mysql_close(ref);
	rig_stop(&r);
}
