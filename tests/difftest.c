/*
 * difftest - the differential tester for sharding (docs/testing.md,
 * "Sharding: the differential test").
 *
 * Two servers that should answer alike: A, myring over the shards of
 * scripts/shards.sh, and B, one reference server holding all the rows.
 * From a seed, difftest loads the same rows into both (into A through A,
 * so myring's write routing places them), then generates random queries
 * of every form myring answers across shards (point lookups, IN lists,
 * ranges, ORDER BY with LIMIT/OFFSET, aggregates, GROUP BY with HAVING,
 * DISTINCT, co-located joins, joins with a broadcast table, UNION and
 * UNION ALL, derived tables and WITH queries, UPDATE and DELETE by key
 * and scattered), runs each on A and on B and compares
 * what comes back.  Results are compared as multisets of rows unless the
 * query's ORDER BY fixes the order, every value as text, exactly.  Where
 * the reference itself may pick either of two spellings that its
 * collation calls equal ('Apple' and 'APPLE' for a GROUP BY, DISTINCT,
 * MIN or MAX over a string), that column is compared caselessly; nowhere
 * else.
 *
 * The same seed gives the same rows and the same queries, so a mismatch
 * is reproduced with --seed S --queries N (N: the failing query's number
 * + 1).  Exit status: 0 all matched; 1 a mismatch, a statement the
 * reference refused (the generator's fault), or more than 5% of the
 * queries refused by A as not supported (1235); 2 usage, connection or
 * load errors.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <mysql.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ER_NOT_SUPPORTED_YET 1235
#define MAX_COLS 64
#define MAX_SHARDS 16
/* Rows printed per side for a mismatch. */
#define SHOW_ROWS 25

/* ---- a growing string ---- */

struct sb {
	char *s;
	size_t len, cap;
};

static void sb_reset(struct sb *b)
{
	b->len = 0;
	if (b->s)
		b->s[0] = '\0';
}

static void sb_add(struct sb *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void sb_add(struct sb *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	for (;;) {
		size_t room = b->cap - b->len;

		va_start(ap, fmt);
		n = vsnprintf(b->s ? b->s + b->len : NULL, room, fmt, ap);
		va_end(ap);
		if (n < 0)
			abort();
		if ((size_t)n < room) {
			b->len += (size_t)n;
			return;
		}
		b->cap = (b->cap + (size_t)n + 1) * 2;
		b->s = realloc(b->s, b->cap);
		if (!b->s)
			abort();
	}
}

/* ---- deterministic randomness: splitmix64 ---- */

struct rng {
	uint64_t s;
};

static uint64_t rng_next(struct rng *r)
{
	uint64_t z = (r->s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* 0 .. n-1 */
static unsigned rnd(struct rng *r, unsigned n)
{
	return (unsigned)(rng_next(r) % n);
}

/* true with probability pct % */
static bool chance(struct rng *r, unsigned pct)
{
	return rnd(r, 100) < pct;
}

static long rnd_range(struct rng *r, long lo, long hi)
{
	return lo + (long)(rng_next(r) % (uint64_t)(hi - lo + 1));
}

#define PICK(r, arr) ((arr)[rnd((r), sizeof(arr) / sizeof((arr)[0]))])

/* ---- the data ---- */

/* Mixed case on purpose: under utf8mb4_general_ci 'Apple' = 'APPLE', so
 * groups, DISTINCT and joins must merge them across shards. */
static const char *const words[] = {
	"Apple", "APPLE", "apple", "Banana", "banana", "Cherry", "CHERRY",
	"date", "Date", "Elder", "fig", "Fig", "Grape", "kiwi", "Kiwi",
	"Lemon", "mango", "Mango", "Zed", "zed",
};
static const char *const regions[] = {
	"north", "North", "NORTH", "south", "South", "east", "East", "west",
};
static const char *const statuses[] = {
	"new", "NEW", "paid", "Paid", "shipped", "SHIPPED", "cancelled",
	"returned",
};
static const struct {
	const char *code, *name;
} countries[] = {
	{"US", "United States"}, {"DE", "Germany"}, {"FR", "France"},
	{"GB", "United Kingdom"}, {"JP", "Japan"}, {"BR", "Brazil"},
	{"IN", "India"}, {"CA", "Canada"}, {"AU", "Australia"},
	{"NL", "Netherlands"}, {"ES", "Spain"}, {"IT", "Italy"},
};
/* Customers' country: some lower case (joins compare caselessly), some
 * with no country row. */
static const char *const cust_countries[] = {
	"US", "DE", "FR", "GB", "JP", "BR", "IN", "CA", "us", "de", "Fr",
	"XX", "ZZ",
};

#define NCUSTOMERS 200
#define NORDERS 2000

struct data {
	long cust_id[NCUSTOMERS];
	long next_order_id;     /* for INSERTs of the queries */
};

/* A customer id: mostly existing ones (a few are negative), sometimes
 * one no row has. */
static long pick_cid(struct rng *r, const struct data *d)
{
	if (chance(r, 88))
		return d->cust_id[rnd(r, NCUSTOMERS)];
	return rnd_range(r, -40, 400);
}

/* cents as a DECIMAL literal: -1234 -> -12.34 */
static void add_cents(struct sb *b, long c)
{
	long a = c < 0 ? -c : c;

	sb_add(b, "%s%ld.%02ld", c < 0 ? "-" : "", a / 100, a % 100);
}

static void add_balance(struct sb *b, struct rng *r)
{
	static const long common[] = {0, 100, -100, 9999, 12345, 50};

	add_cents(b, chance(r, 30) ? PICK(r, common)
		  : rnd_range(r, -500000, 9999999));
}

static void add_amount(struct sb *b, struct rng *r)
{
	static const long common[] = {0, 999, 1000, -250, 4999, 1};

	add_cents(b, chance(r, 30) ? PICK(r, common)
		  : rnd_range(r, -10000, 500000));
}

static void add_date(struct sb *b, struct rng *r)
{
	time_t t = 1577836800 + (time_t)rnd(r, 1827) * 86400; /* 2020-01-01 */
	struct tm tm;

	gmtime_r(&t, &tm);
	sb_add(b, "'%04d-%02d-%02d'", tm.tm_year + 1900, tm.tm_mon + 1,
	       tm.tm_mday);
}

static void add_name(struct sb *b, struct rng *r)
{
	if (chance(r, 25))
		sb_add(b, "'%s %s'", PICK(r, words), PICK(r, words));
	else
		sb_add(b, "'%s'", PICK(r, words));
}

static void add_customer_row(struct sb *b, struct rng *r, long id)
{
	sb_add(b, "(%ld, ", id);
	if (chance(r, 5))
		sb_add(b, "NULL");
	else
		add_name(b, r);
	if (chance(r, 6))
		sb_add(b, ", NULL, ");
	else
		sb_add(b, ", '%s', ", PICK(r, regions));
	if (chance(r, 5))
		sb_add(b, "NULL");
	else
		add_balance(b, r);
	sb_add(b, ", ");
	if (chance(r, 4))
		sb_add(b, "NULL");
	else
		add_date(b, r);
	if (chance(r, 6))
		sb_add(b, ", NULL)");
	else
		sb_add(b, ", '%s')", PICK(r, cust_countries));
}

static void add_order_row(struct sb *b, struct rng *r, const struct data *d,
			  long id)
{
	sb_add(b, "(%ld, %ld, ", id, pick_cid(r, d));
	if (chance(r, 5))
		sb_add(b, "NULL");
	else
		add_amount(b, r);
	if (chance(r, 4))
		sb_add(b, ", NULL");
	else
		sb_add(b, ", %ld", rnd_range(r, -2, 20));
	if (chance(r, 3))
		sb_add(b, ", NULL");
	else
		sb_add(b, ", '%s'", PICK(r, statuses));
	if (chance(r, 50))
		sb_add(b, ", NULL)");
	else if (chance(r, 5))
		sb_add(b, ", '')");
	else
		sb_add(b, ", '%s')", PICK(r, words));
}

/* ---- connections and results ---- */

struct target {
	const char *what;       /* "A", "B", "shard 2" */
	char host[256];
	unsigned port;
	char db[64];
	MYSQL *m;
};

struct result {
	bool err;
	unsigned errnum;
	char errmsg[512];
	bool has_rows;
	uint64_t affected;
	unsigned ncols;
	char *names[MAX_COLS];
	unsigned types[MAX_COLS];
	unsigned decimals[MAX_COLS];
	size_t nrows;
	char **cells;           /* nrows x ncols; NULL: SQL NULL */
};

static const char *opt_user = "myring";
static const char *opt_password = "myring-pw";

static void result_free(struct result *res)
{
	size_t i;

	for (i = 0; i < res->nrows * res->ncols; i++)
		free(res->cells[i]);
	free(res->cells);
	for (i = 0; i < res->ncols; i++)
		free(res->names[i]);
	memset(res, 0, sizeof(*res));
}

/* "host:port[/db]" */
static int parse_target(struct target *t, const char *what, const char *spec,
			const char *db)
{
	const char *colon = strrchr(spec, ':'), *slash;
	char *end;
	unsigned long port;

	memset(t, 0, sizeof(*t));
	t->what = what;
	if (!colon || (size_t)(colon - spec) >= sizeof(t->host))
		return -1;
	memcpy(t->host, spec, (size_t)(colon - spec));
	port = strtoul(colon + 1, &end, 10);
	if (port == 0 || port > 65535 || (*end && *end != '/'))
		return -1;
	t->port = (unsigned)port;
	slash = *end == '/' ? end + 1 : db;
	snprintf(t->db, sizeof(t->db), "%s", slash);
	return 0;
}

static int target_connect(struct target *t)
{
	unsigned timeout = 60;

	if (t->m)
		mysql_close(t->m);
	t->m = mysql_init(NULL);
	if (!t->m)
		return -1;
	mysql_optionsv(t->m, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
	mysql_optionsv(t->m, MYSQL_OPT_READ_TIMEOUT, &timeout);
	mysql_optionsv(t->m, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
	mysql_optionsv(t->m, MYSQL_SET_CHARSET_NAME, "utf8mb4");
	if (!mysql_real_connect(t->m, t->host, opt_user, opt_password, t->db,
				t->port, NULL, 0)) {
		fprintf(stderr, "difftest: connecting to %s (%s:%u, database %s) "
			"failed: %s\n", t->what, t->host, t->port, t->db,
			mysql_error(t->m));
		return -1;
	}
	return 0;
}

static char *xstrdup_n(const char *s, size_t n)
{
	char *p = malloc(n + 1);

	if (!p)
		abort();
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

/* Runs sql on t into res (which it resets).  A connection lost on the
 * way is an error result; the connection is made again for the next
 * statement. */
static void run(struct target *t, const char *sql, struct result *res)
{
	MYSQL_RES *r;
	MYSQL_ROW row;
	MYSQL_FIELD *f;
	size_t i, cap = 0;
	unsigned c;

	memset(res, 0, sizeof(*res));
	if (mysql_real_query(t->m, sql, strlen(sql))) {
		res->err = true;
		res->errnum = mysql_errno(t->m);
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 mysql_error(t->m));
		goto lost;
	}
	r = mysql_store_result(t->m);
	if (!r) {
		if (mysql_field_count(t->m)) {
			res->err = true;
			res->errnum = mysql_errno(t->m);
			snprintf(res->errmsg, sizeof(res->errmsg), "%s",
				 mysql_error(t->m));
			goto lost;
		}
		res->affected = mysql_affected_rows(t->m);
		return;
	}
	res->has_rows = true;
	res->ncols = mysql_num_fields(r);
	if (res->ncols > MAX_COLS) {
		fprintf(stderr, "difftest: %u columns, at most %d\n",
			res->ncols, MAX_COLS);
		exit(2);
	}
	f = mysql_fetch_fields(r);
	for (c = 0; c < res->ncols; c++) {
		res->names[c] = xstrdup_n(f[c].name, f[c].name_length);
		res->types[c] = f[c].type;
		res->decimals[c] = f[c].decimals;
	}
	while ((row = mysql_fetch_row(r))) {
		unsigned long *lens = mysql_fetch_lengths(r);

		if (res->nrows == cap) {
			cap = cap ? cap * 2 : 64;
			res->cells = realloc(res->cells,
					     cap * res->ncols * sizeof(char *));
			if (!res->cells)
				abort();
		}
		for (c = 0; c < res->ncols; c++)
			res->cells[res->nrows * res->ncols + c] = row[c]
				? xstrdup_n(row[c], lens[c]) : NULL;
		res->nrows++;
	}
	if (mysql_errno(t->m)) {
		/* The rows stopped half-way. */
		for (i = 0; i < res->nrows * res->ncols; i++)
			free(res->cells[i]);
		free(res->cells);
		res->cells = NULL;
		res->nrows = 0;
		res->err = true;
		res->errnum = mysql_errno(t->m);
		snprintf(res->errmsg, sizeof(res->errmsg), "%s",
			 mysql_error(t->m));
	}
	mysql_free_result(r);
	if (res->err)
		goto lost;
	return;
lost:
	if (res->errnum == 2006 || res->errnum == 2013 || res->errnum == 2014) {
		fprintf(stderr, "difftest: %s: connection lost (%s); "
			"connecting again\n", t->what, res->errmsg);
		if (target_connect(t))
			exit(2);
	}
}

/* For loading: any error ends the run. */
static void must(struct target *t, const char *sql)
{
	struct result res;

	run(t, sql, &res);
	if (res.err) {
		fprintf(stderr, "difftest: loading %s failed: %u %s\n"
			"statement: %.2000s%s\n", t->what, res.errnum,
			res.errmsg, sql, strlen(sql) > 2000 ? "..." : "");
		exit(2);
	}
	result_free(&res);
}

/* ---- loading ---- */

struct loader {
	struct target *a, *b;
	struct target *shards;  /* direct connections, for countries */
	unsigned nshards;
	bool split;             /* customers and orders straight into the
				 * shards, key mod nshards (checks the
				 * tester itself, without myring) */
};

/* Positive key mod n, for --split-load. */
static unsigned split_shard(long key, unsigned n)
{
	long m = key % (long)n;

	return (unsigned)(m < 0 ? m + (long)n : m);
}

/* The columns of table, as the loader's rows list them: a sharded table's
 * INSERT names its columns (myring finds the shard key by name). */
static const char *columns_of(const char *table)
{
	if (!strcmp(table, "customers"))
		return "id, name, region, balance, created, country";
	if (!strcmp(table, "orders"))
		return "id, customer_id, amount, qty, status, note";
	return "code, name";
}

/* INSERT rows[0..n) into table on t, batch rows at a time. */
static void insert_rows(struct target *t, const char *table,
			char **rows, size_t n, size_t batch)
{
	struct sb b = {0};
	size_t i = 0, j;

	while (i < n) {
		sb_reset(&b);
		sb_add(&b, "INSERT INTO %s (%s) VALUES ", table,
		       columns_of(table));
		for (j = 0; j < batch && i < n; j++, i++)
			sb_add(&b, "%s%s", j ? ", " : "", rows[i]);
		must(t, b.s);
	}
	free(b.s);
}

/* Through myring: batches of 1 to 40 rows, so that most span shards and
 * some land on one. */
static void insert_rows_varied(struct target *t, const char *table,
			       char **rows, size_t n, struct rng *r)
{
	size_t i = 0;

	while (i < n) {
		size_t k = chance(r, 15) ? 1 : 2 + rnd(r, 39);

		if (k > n - i)
			k = n - i;
		insert_rows(t, table, rows + i, k, k);
		i += k;
	}
}

static void load(struct loader *l, struct data *d, uint64_t seed)
{
	struct rng r = {seed};
	struct rng shuffle = {seed ^ 0x5bd1e995u};
	char *cust[NCUSTOMERS], *ord[NORDERS], *ctry[sizeof(countries) /
						    sizeof(countries[0])];
	long ord_cid[NORDERS];
	size_t nctry = sizeof(countries) / sizeof(countries[0]), i;
	unsigned s;
	struct sb b = {0};

	/* Ids 1..200, every 17th negative. */
	for (i = 0; i < NCUSTOMERS; i++) {
		long id = (long)i + 1;

		d->cust_id[i] = id % 17 == 0 ? -id : id;
		sb_reset(&b);
		add_customer_row(&b, &r, d->cust_id[i]);
		cust[i] = strdup(b.s);
	}
	for (i = 0; i < NORDERS; i++) {
		sb_reset(&b);
		add_order_row(&b, &r, d, (long)i + 1);
		ord[i] = strdup(b.s);
		ord_cid[i] = strtol(strchr(b.s, ',') + 1, NULL, 10);
	}
	for (i = 0; i < nctry; i++) {
		sb_reset(&b);
		sb_add(&b, "('%s', '%s')", countries[i].code, countries[i].name);
		ctry[i] = strdup(b.s);
	}
	d->next_order_id = NORDERS + 1;

	printf("difftest: loading %d customers, %d orders, %zu countries\n",
	       NCUSTOMERS, NORDERS, nctry);
	/* B: directly. */
	must(l->b, "DELETE FROM orders");
	must(l->b, "DELETE FROM customers");
	must(l->b, "DELETE FROM countries");
	insert_rows(l->b, "customers", cust, NCUSTOMERS, 50);
	insert_rows(l->b, "orders", ord, NORDERS, 50);
	insert_rows(l->b, "countries", ctry, nctry, 50);

	/* countries, a broadcast table: myring refuses writes to it until
	 * distributed transactions exist, so into every shard directly
	 * (through A when no shard is given). */
	if (l->nshards) {
		for (s = 0; s < l->nshards; s++) {
			must(&l->shards[s], "DELETE FROM countries");
			insert_rows(&l->shards[s], "countries", ctry, nctry, 50);
		}
	} else {
		must(l->a, "DELETE FROM countries");
		insert_rows(l->a, "countries", ctry, nctry, 50);
	}

	if (l->split) {
		for (s = 0; s < l->nshards; s++) {
			must(&l->shards[s], "DELETE FROM orders");
			must(&l->shards[s], "DELETE FROM customers");
		}
		for (i = 0; i < NCUSTOMERS; i++)
			insert_rows(&l->shards[split_shard(d->cust_id[i],
							   l->nshards)],
				    "customers", &cust[i], 1, 1);
		for (i = 0; i < NORDERS; i++)
			insert_rows(&l->shards[split_shard(ord_cid[i],
							   l->nshards)],
				    "orders", &ord[i], 1, 1);
	} else {
		/* A: through A, in shuffled order and batches of mixed
		 * size, exercising the split of multi-row INSERTs. */
		must(l->a, "DELETE FROM orders");
		must(l->a, "DELETE FROM customers");
		for (i = NORDERS - 1; i > 0; i--) {
			size_t j = rnd(&shuffle, (unsigned)i + 1);
			char *tmp = ord[i];

			ord[i] = ord[j];
			ord[j] = tmp;
		}
		insert_rows_varied(l->a, "customers", cust, NCUSTOMERS,
				   &shuffle);
		insert_rows_varied(l->a, "orders", ord, NORDERS, &shuffle);
	}

	for (i = 0; i < NCUSTOMERS; i++)
		free(cust[i]);
	for (i = 0; i < NORDERS; i++)
		free(ord[i]);
	for (i = 0; i < nctry; i++)
		free(ctry[i]);
	free(b.s);
}

/* ---- the query generator ---- */

enum kind {
	K_INT = 1,
	K_DEC,
	K_STR,
	K_DATE,
};

/* What values a column holds, for its literals. */
enum domain {
	D_CID = 1,      /* customer ids */
	D_OID,          /* order ids */
	D_QTY,
	D_BALANCE,
	D_AMOUNT,
	D_NAME,         /* words */
	D_REGION,
	D_STATUS,
	D_DATE,
	D_COUNTRY,
	D_CNAME,        /* countries.name */
};

struct column {
	const char *name;
	enum kind kind;
	enum domain dom;
};

struct table {
	const char *name;
	const char *alias;
	const char *key;        /* the shard key ("" for broadcast) */
	unsigned ncols;
	struct column cols[6];
};

static const struct table t_customers = {
	"customers", "c", "id", 6, {
		{"id", K_INT, D_CID},
		{"name", K_STR, D_NAME},
		{"region", K_STR, D_REGION},
		{"balance", K_DEC, D_BALANCE},
		{"created", K_DATE, D_DATE},
		{"country", K_STR, D_COUNTRY},
	},
};

static const struct table t_orders = {
	"orders", "o", "customer_id", 6, {
		{"id", K_INT, D_OID},
		{"customer_id", K_INT, D_CID},
		{"amount", K_DEC, D_AMOUNT},
		{"qty", K_INT, D_QTY},
		{"status", K_STR, D_STATUS},
		{"note", K_STR, D_NAME},
	},
};

static const struct table t_countries = {
	"countries", "co", "", 2, {
		{"code", K_STR, D_COUNTRY},
		{"name", K_STR, D_CNAME},
	},
};

struct query {
	struct sb sql;
	bool dml;
	/* The ORDER BY fixes the order of all rows: compare sequences. */
	bool total;
	/* Otherwise, result columns that are ORDER BY keys, in key order:
	 * their values (caselessly) must come in the same sequence. */
	unsigned nokeys;
	unsigned okeys[8];
	/* Result columns compared caselessly (see the top). */
	bool fold[MAX_COLS];
	unsigned ncols;         /* of the select list built with add_out */
};

struct gen {
	struct rng r;
	struct data *d;
	struct sb sel;          /* the select list being built */
};

static void query_reset(struct query *q)
{
	struct sb keep = q->sql;

	memset(q, 0, sizeof(*q));
	q->sql = keep;
	sb_reset(&q->sql);
}

/* One more select-list item; fold: compared caselessly.  Returns its
 * result column index. */
static unsigned add_out(struct gen *g, struct query *q, bool fold,
			const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static unsigned add_out(struct gen *g, struct query *q, bool fold,
			const char *fmt, ...)
{
	char item[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(item, sizeof(item), fmt, ap);
	va_end(ap);
	sb_add(&g->sel, "%s%s", q->ncols ? ", " : "", item);
	if (q->ncols < MAX_COLS)
		q->fold[q->ncols] = fold;
	return q->ncols++;
}

/* A literal for a column's domain. */
static void add_lit(struct gen *g, struct sb *b, enum domain dom)
{
	struct rng *r = &g->r;

	switch (dom) {
	case D_CID:
		sb_add(b, "%ld", pick_cid(r, g->d));
		break;
	case D_OID:
		sb_add(b, "%ld", rnd_range(r, -5, g->d->next_order_id + 5));
		break;
	case D_QTY:
		sb_add(b, "%ld", rnd_range(r, -3, 21));
		break;
	case D_BALANCE:
		add_balance(b, r);
		break;
	case D_AMOUNT:
		add_amount(b, r);
		break;
	case D_NAME:
		sb_add(b, "'%s'", PICK(r, words));
		break;
	case D_REGION:
		sb_add(b, "'%s'", PICK(r, regions));
		break;
	case D_STATUS:
		sb_add(b, "'%s'", PICK(r, statuses));
		break;
	case D_DATE:
		add_date(b, r);
		break;
	case D_COUNTRY:
		sb_add(b, "'%s'", PICK(r, cust_countries));
		break;
	case D_CNAME:
		sb_add(b, "'%s'", countries[rnd(r, sizeof(countries) /
					      sizeof(countries[0]))].name);
		break;
	}
}

/* Two literals in ascending order, for BETWEEN: numbers compared as
 * numbers, the rest left as drawn (an empty range is a fine test too). */
static void add_between(struct gen *g, struct sb *b, const struct column *c)
{
	struct sb lo = {0}, hi = {0};

	add_lit(g, &lo, c->dom);
	add_lit(g, &hi, c->dom);
	if ((c->kind == K_INT || c->kind == K_DEC) &&
	    strtod(lo.s, NULL) > strtod(hi.s, NULL))
		sb_add(b, "%s AND %s", hi.s, lo.s);
	else
		sb_add(b, "%s AND %s", lo.s, hi.s);
	free(lo.s);
	free(hi.s);
}

static const char *qual(const struct table *t, bool qualify)
{
	static char buf[2][16];
	static int i;

	if (!qualify)
		return "";
	i ^= 1;
	snprintf(buf[i], sizeof(buf[i]), "%s.", t->alias);
	return buf[i];
}

/* One comparison on a random column of t. */
static void add_atom(struct gen *g, struct sb *b, const struct table *t,
		     bool qualify)
{
	static const char *const ops[] = {"=", "<>", "<", ">", "<=", ">="};
	const struct column *c = &t->cols[rnd(&g->r, t->ncols)];
	const char *p = qual(t, qualify);
	unsigned i, n;

	switch (rnd(&g->r, c->kind == K_STR ? 8 : 7)) {
	case 0:
	case 1:
		sb_add(b, "%s%s = ", p, c->name);
		add_lit(g, b, c->dom);
		break;
	case 2:
		sb_add(b, "%s%s %s ", p, c->name, PICK(&g->r, ops));
		add_lit(g, b, c->dom);
		break;
	case 3:
		sb_add(b, "%s%s %sBETWEEN ", p, c->name,
		       chance(&g->r, 20) ? "NOT " : "");
		add_between(g, b, c);
		break;
	case 4:
		sb_add(b, "%s%s %sIN (", p, c->name,
		       chance(&g->r, 20) ? "NOT " : "");
		n = 1 + rnd(&g->r, 5);
		for (i = 0; i < n; i++) {
			if (i)
				sb_add(b, ", ");
			add_lit(g, b, c->dom);
		}
		sb_add(b, ")");
		break;
	case 5:
		sb_add(b, "%s%s IS %sNULL", p, c->name,
		       chance(&g->r, 50) ? "NOT " : "");
		break;
	case 6:
		sb_add(b, "%s%s %s ", p, c->name, PICK(&g->r, ops));
		add_lit(g, b, c->dom);
		break;
	case 7:
		sb_add(b, "%s%s LIKE '%c%%'", p, c->name,
		       "abcdfgkmzABN"[rnd(&g->r, 12)]);
		break;
	}
}

/* A condition: atoms joined by AND, OR and NOT, over tables t (and t2,
 * when not NULL: a join). */
static void add_pred(struct gen *g, struct sb *b, const struct table *t,
		     const struct table *t2, bool qualify, int depth)
{
	const struct table *which = t2 && chance(&g->r, 50) ? t2 : t;

	if (depth <= 0 || chance(&g->r, 45)) {
		add_atom(g, b, which, qualify);
		return;
	}
	switch (rnd(&g->r, 4)) {
	case 0:
		sb_add(b, "NOT (");
		add_pred(g, b, t, t2, qualify, depth - 1);
		sb_add(b, ")");
		break;
	case 1:
		sb_add(b, "(");
		add_pred(g, b, t, t2, qualify, depth - 1);
		sb_add(b, " OR ");
		add_pred(g, b, t, t2, qualify, depth - 1);
		sb_add(b, ")");
		break;
	default:
		add_pred(g, b, t, t2, qualify, depth - 1);
		sb_add(b, " AND ");
		add_pred(g, b, t, t2, qualify, depth - 1);
		break;
	}
}

/* key = K, or key IN (K, ...) */
static void add_key_pred(struct gen *g, struct sb *b, const struct table *t,
			 bool qualify, bool in_list)
{
	const char *p = qual(t, qualify);
	unsigned i, n;

	if (!in_list) {
		sb_add(b, "%s%s = %ld", p, t->key, pick_cid(&g->r, g->d));
		return;
	}
	n = 2 + rnd(&g->r, 8);
	sb_add(b, "%s%s IN (", p, t->key);
	for (i = 0; i < n; i++)
		sb_add(b, "%s%ld", i ? ", " : "", pick_cid(&g->r, g->d));
	sb_add(b, ")");
}

static void add_limit(struct gen *g, struct sb *b)
{
	unsigned n = 1 + rnd(&g->r, 30);

	switch (rnd(&g->r, 3)) {
	case 0:
		sb_add(b, " LIMIT %u", n);
		break;
	case 1:
		sb_add(b, " LIMIT %u OFFSET %u", n, rnd(&g->r, 60));
		break;
	default:
		sb_add(b, " LIMIT %u, %u", rnd(&g->r, 60), n);
		break;
	}
}

static const char *dir(struct gen *g)
{
	switch (rnd(&g->r, 3)) {
	case 0:
		return " DESC";
	case 1:
		return " ASC";
	}
	return "";
}

static const struct table *pick_table(struct gen *g)
{
	return chance(&g->r, 45) ? &t_customers : &t_orders;
}

static bool is_numeric(const struct column *c)
{
	return c->kind == K_INT || c->kind == K_DEC;
}

/*
 * SELECT of rows from one table: columns, a condition (key lookups and
 * IN lists included), and an ORDER BY that is total (ends in the primary
 * key; LIMIT only then) or not (its keys are then selected, and only
 * their sequence is checked).
 */
static void gen_rows(struct gen *g, struct query *q, int key_pred)
{
	const struct table *t = pick_table(g);
	unsigned picked[6], npicked = 0, i, c, n;
	bool star = chance(&g->r, 20);
	struct sb where = {0};

	if (star) {
		for (i = 0; i < t->ncols; i++) {
			add_out(g, q, false, "%s", t->cols[i].name);
			picked[npicked++] = i;
		}
		sb_reset(&g->sel);
		sb_add(&g->sel, "*");
	} else {
		n = 1 + rnd(&g->r, 4);
		for (i = 0; i < n; i++) {
			c = rnd(&g->r, t->ncols);
			add_out(g, q, false, "%s", t->cols[c].name);
			picked[npicked++] = c;
		}
	}
	if (key_pred) {
		add_key_pred(g, &where, t, false, key_pred == 2);
		if (chance(&g->r, 30)) {
			sb_add(&where, " AND ");
			add_pred(g, &where, t, NULL, false, 1);
		}
	} else if (chance(&g->r, 85)) {
		add_pred(g, &where, t, NULL, false, 3);
	}
	sb_add(&q->sql, "SELECT %s FROM %s", g->sel.s, t->name);
	if (where.len)
		sb_add(&q->sql, " WHERE %s", where.s);
	switch (rnd(&g->r, 3)) {
	case 0:
		break;
	case 1:
		/* Total: any keys, then the primary key. */
		sb_add(&q->sql, " ORDER BY ");
		n = rnd(&g->r, 3);
		for (i = 0; i < n; i++)
			sb_add(&q->sql, "%s%s, ",
			       t->cols[rnd(&g->r, t->ncols)].name, dir(g));
		sb_add(&q->sql, "id%s", dir(g));
		q->total = true;
		if (chance(&g->r, 60))
			add_limit(g, &q->sql);
		break;
	case 2:
		/* Not total: selected columns as keys. */
		sb_add(&q->sql, " ORDER BY ");
		n = 1 + rnd(&g->r, npicked < 2 ? 1 : 2);
		for (i = 0; i < n; i++) {
			unsigned k = rnd(&g->r, npicked);

			sb_add(&q->sql, "%s%s%s", i ? ", " : "",
			       t->cols[picked[k]].name, dir(g));
			if (star)
				k = picked[k];
			if (q->nokeys < 8)
				q->okeys[q->nokeys++] = k;
		}
		break;
	}
	free(where.s);
}

/* An aggregate over t's columns (prefix p), added to the select list;
 * returns its text in agg (for HAVING and ORDER BY). */
static unsigned add_agg(struct gen *g, struct query *q, const struct table *t,
			const char *p, struct sb *agg)
{
	const struct column *c, *n1, *n2;
	unsigned tries = 0;

	/* Two numeric columns for SUM, AVG and expressions. */
	do
		n1 = &t->cols[rnd(&g->r, t->ncols)];
	while (!is_numeric(n1) && ++tries < 50);
	do
		n2 = &t->cols[rnd(&g->r, t->ncols)];
	while (!is_numeric(n2) && ++tries < 100);
	c = &t->cols[rnd(&g->r, t->ncols)];
	sb_reset(agg);
	switch (rnd(&g->r, 12)) {
	case 0:
		sb_add(agg, "COUNT(*)");
		break;
	case 1:
		sb_add(agg, "COUNT(%s%s)", p, c->name);
		break;
	case 2:
		sb_add(agg, "SUM(%s%s)", p, n1->name);
		break;
	case 3:
		sb_add(agg, "MIN(%s%s)", p, c->name);
		return add_out(g, q, c->kind == K_STR, "%s", agg->s);
	case 4:
		sb_add(agg, "MAX(%s%s)", p, c->name);
		return add_out(g, q, c->kind == K_STR, "%s", agg->s);
	case 5:
		sb_add(agg, "AVG(%s%s)", p, n1->name);
		break;
	case 6:
		sb_add(agg, "COUNT(DISTINCT %s%s)", p, c->name);
		break;
	case 7:
		sb_add(agg, "SUM(%s%s) / COUNT(*)", p, n1->name);
		break;
	case 8:
		sb_add(agg, "MAX(%s%s) - MIN(%s%s)", p, n1->name, p, n2->name);
		break;
	case 9:
		sb_add(agg, "COUNT(*) * 2 + 1");
		break;
	case 10:
		sb_add(agg, "SUM(%s%s) + SUM(%s%s)", p, n1->name, p, n2->name);
		break;
	default:
		sb_add(agg, "MIN(%s%s)", p, n1->name);
		break;
	}
	if (chance(&g->r, 25)) {
		/* An alias: the column's name is the alias. */
		char alias[16];

		snprintf(alias, sizeof(alias), "a%u", q->ncols);
		unsigned i = add_out(g, q, false, "%s AS %s", agg->s, alias);

		sb_reset(agg);
		sb_add(agg, "%s", alias);
		return i;
	}
	return add_out(g, q, false, "%s", agg->s);
}

/* A HAVING condition: an aggregate (selected or not) against a number. */
static void add_having(struct gen *g, struct sb *b, const struct table *t,
		       const char *p)
{
	const struct column *n1;

	do
		n1 = &t->cols[rnd(&g->r, t->ncols)];
	while (!is_numeric(n1));
	switch (rnd(&g->r, 5)) {
	case 0:
		sb_add(b, "COUNT(*) > %u", rnd(&g->r, 12));
		break;
	case 1:
		sb_add(b, "SUM(%s%s) > %ld", p, n1->name,
		       rnd_range(&g->r, -100, 20000));
		break;
	case 2:
		sb_add(b, "MAX(%s%s) >= %ld", p, n1->name,
		       rnd_range(&g->r, 0, 300));
		break;
	case 3:
		sb_add(b, "COUNT(*) BETWEEN %u AND %u", rnd(&g->r, 5),
		       5 + rnd(&g->r, 40));
		break;
	default:
		sb_add(b, "AVG(%s%s) < %ld OR COUNT(*) = 1", p, n1->name,
		       rnd_range(&g->r, 0, 3000));
		break;
	}
}

/* Grouping columns: not the primary key (groups of one row are dull). */
static const struct column *pick_group_col(struct gen *g, const struct table *t)
{
	const struct column *c;

	do
		c = &t->cols[rnd(&g->r, t->ncols)];
	while (!strcmp(c->name, "id"));
	return c;
}

/*
 * Aggregates over one table or a join (t2 != NULL: customers c JOIN
 * orders o, co-located), with or without GROUP BY, HAVING, ORDER BY on
 * the group keys or on an aggregate with the keys as tiebreak, LIMIT.
 */
static void gen_agg(struct gen *g, struct query *q, bool join)
{
	const struct table *t = join ? &t_customers : pick_table(g);
	const struct table *t2 = join ? &t_orders : NULL;
	struct sb where = {0}, agg = {0}, gby = {0};
	unsigned ngroup = 0, nagg, i;
	const char *aggs[4] = {0};
	bool group = chance(&g->r, 60);

	if (group) {
		const struct column *gc[2];

		ngroup = 1 + rnd(&g->r, 2);
		for (i = 0; i < ngroup; i++) {
			const struct table *gt = t2 && chance(&g->r, 50) ? t2 : t;

			gc[i] = pick_group_col(g, gt);
			add_out(g, q, gc[i]->kind == K_STR, "%s%s",
				qual(gt, join), gc[i]->name);
			sb_add(&gby, "%s%s%s", i ? ", " : "", qual(gt, join),
			       gc[i]->name);
		}
	}
	nagg = 1 + rnd(&g->r, 3);
	for (i = 0; i < nagg; i++) {
		const struct table *at = t2 && chance(&g->r, 70) ? t2 : t;

		add_agg(g, q, at, qual(at, join), &agg);
		aggs[i] = strdup(agg.s);
	}
	if (chance(&g->r, 75))
		add_pred(g, &where, t, t2, join, 2);
	sb_add(&q->sql, "SELECT %s FROM ", g->sel.s);
	if (join)
		sb_add(&q->sql, "customers c %sJOIN orders o ON %s",
		       chance(&g->r, 25) ? "LEFT " : "",
		       chance(&g->r, 50) ? "c.id = o.customer_id"
		       : "o.customer_id = c.id");
	else
		sb_add(&q->sql, "%s", t->name);
	if (where.len)
		sb_add(&q->sql, " WHERE %s", where.s);
	if (group) {
		sb_add(&q->sql, " GROUP BY %s", gby.s);
		if (chance(&g->r, 35)) {
			const struct table *ht = t2 && chance(&g->r, 70) ? t2 : t;

			sb_add(&q->sql, " HAVING ");
			add_having(g, &q->sql, ht, qual(ht, join));
		}
		switch (rnd(&g->r, 3)) {
		case 0:
			break;
		case 1:
			/* The group keys: one row per key, so total. */
			sb_add(&q->sql, " ORDER BY %s", gby.s);
			q->total = true;
			break;
		case 2:
			/* An aggregate first, the keys as tiebreak. */
			i = rnd(&g->r, nagg);
			sb_add(&q->sql, " ORDER BY %s%s, %s", aggs[i], dir(g),
			       gby.s);
			q->total = true;
			break;
		}
		if (q->total && chance(&g->r, 40))
			add_limit(g, &q->sql);
	}
	for (i = 0; i < nagg; i++)
		free((char *)aggs[i]);
	free(where.s);
	free(agg.s);
	free(gby.s);
}

/* SELECT DISTINCT, and COUNT(DISTINCT) per group. */
static void gen_distinct(struct gen *g, struct query *q)
{
	const struct table *t = pick_table(g);
	const struct column *c1 = pick_group_col(g, t), *c2 = NULL;
	struct sb where = {0};

	if (chance(&g->r, 40)) {
		/* COUNT(DISTINCT) per group. */
		c2 = pick_group_col(g, t);
		add_out(g, q, c1->kind == K_STR, "%s", c1->name);
		add_out(g, q, false, "COUNT(DISTINCT %s)", c2->name);
		if (chance(&g->r, 60))
			add_pred(g, &where, t, NULL, false, 2);
		sb_add(&q->sql, "SELECT %s FROM %s", g->sel.s, t->name);
		if (where.len)
			sb_add(&q->sql, " WHERE %s", where.s);
		sb_add(&q->sql, " GROUP BY %s", c1->name);
		if (chance(&g->r, 50)) {
			sb_add(&q->sql, " ORDER BY %s%s", c1->name, dir(g));
			q->total = true;
		}
		free(where.s);
		return;
	}
	add_out(g, q, c1->kind == K_STR, "%s", c1->name);
	if (chance(&g->r, 40)) {
		do
			c2 = pick_group_col(g, t);
		while (c2 == c1);
		add_out(g, q, c2->kind == K_STR, "%s", c2->name);
	}
	if (chance(&g->r, 60))
		add_pred(g, &where, t, NULL, false, 2);
	sb_add(&q->sql, "SELECT DISTINCT %s FROM %s", g->sel.s, t->name);
	if (where.len)
		sb_add(&q->sql, " WHERE %s", where.s);
	if (chance(&g->r, 50)) {
		/* Every selected column: distinct rows, so total. */
		sb_add(&q->sql, " ORDER BY %s%s", c1->name, dir(g));
		if (c2)
			sb_add(&q->sql, ", %s%s", c2->name, dir(g));
		q->total = true;
		if (chance(&g->r, 40))
			add_limit(g, &q->sql);
	}
	free(where.s);
}

/* Rows of the co-located join customers c JOIN orders o. */
static void gen_join_rows(struct gen *g, struct query *q)
{
	static const char *const ccols[] = {"name", "region", "balance",
		"created", "country"};
	static const char *const ocols[] = {"amount", "qty", "status",
		"note", "customer_id"};
	struct sb where = {0};
	bool left = chance(&g->r, 25);
	unsigned i, n;

	add_out(g, q, false, "c.id");
	n = rnd(&g->r, 3);
	for (i = 0; i < n; i++)
		add_out(g, q, false, "c.%s", PICK(&g->r, ccols));
	add_out(g, q, false, "o.id");
	n = 1 + rnd(&g->r, 2);
	for (i = 0; i < n; i++)
		add_out(g, q, false, "o.%s", PICK(&g->r, ocols));
	switch (rnd(&g->r, 3)) {
	case 0:
		add_key_pred(g, &where, &t_customers, true, false);
		break;
	case 1:
		add_key_pred(g, &where, &t_orders, true, true);
		break;
	default:
		add_pred(g, &where, &t_customers, &t_orders, true, 2);
		break;
	}
	if (chance(&g->r, 30)) {
		sb_add(&where, " AND ");
		add_pred(g, &where, &t_customers, &t_orders, true, 1);
	}
	sb_add(&q->sql, "SELECT %s FROM customers c %sJOIN orders o ON "
	       "c.id = o.customer_id WHERE %s", g->sel.s, left ? "LEFT " : "",
	       where.s);
	if (chance(&g->r, 50)) {
		sb_add(&q->sql, " ORDER BY ");
		if (chance(&g->r, 50))
			sb_add(&q->sql, "%s%s, ",
			       chance(&g->r, 50) ? "o.amount" : "c.name", dir(g));
		sb_add(&q->sql, "c.id%s, o.id%s", dir(g), dir(g));
		q->total = true;
		if (chance(&g->r, 50))
			add_limit(g, &q->sql);
	}
	free(where.s);
}

/* Joins with the broadcast table countries, and countries alone. */
static void gen_countries(struct gen *g, struct query *q)
{
	struct sb where = {0};

	switch (rnd(&g->r, 5)) {
	case 0:
		add_out(g, q, false, "code");
		add_out(g, q, false, "name");
		sb_add(&q->sql, "SELECT %s FROM countries", g->sel.s);
		if (chance(&g->r, 50)) {
			add_pred(g, &where, &t_countries, NULL, false, 1);
			sb_add(&q->sql, " WHERE %s", where.s);
		}
		if (chance(&g->r, 50)) {
			sb_add(&q->sql, " ORDER BY code%s", dir(g));
			q->total = true;
		}
		break;
	case 1:
	case 2:
		add_out(g, q, false, "c.id");
		add_out(g, q, false, "c.name");
		add_out(g, q, false, "co.name");
		if (chance(&g->r, 60))
			add_key_pred(g, &where, &t_customers, true,
				     chance(&g->r, 50));
		else
			add_pred(g, &where, &t_customers, NULL, true, 2);
		sb_add(&q->sql, "SELECT %s FROM customers c %sJOIN countries co "
		       "ON co.code = c.country WHERE %s", g->sel.s,
		       chance(&g->r, 30) ? "LEFT " : "", where.s);
		if (chance(&g->r, 50)) {
			sb_add(&q->sql, " ORDER BY co.name%s, c.id", dir(g));
			q->total = true;
			if (chance(&g->r, 40))
				add_limit(g, &q->sql);
		}
		break;
	case 3:
		add_out(g, q, false, "co.name");
		add_out(g, q, false, "COUNT(*)");
		add_out(g, q, false, "SUM(c.balance)");
		sb_add(&q->sql, "SELECT %s FROM customers c JOIN countries co "
		       "ON c.country = co.code", g->sel.s);
		if (chance(&g->r, 50)) {
			add_pred(g, &where, &t_customers, NULL, true, 1);
			sb_add(&q->sql, " WHERE %s", where.s);
		}
		sb_add(&q->sql, " GROUP BY co.name");
		if (chance(&g->r, 60)) {
			sb_add(&q->sql, " ORDER BY co.name%s", dir(g));
			q->total = true;
		}
		break;
	default:
		/* Three tables: orders with their customer's country. */
		add_out(g, q, false, "co.code");
		add_out(g, q, false, "COUNT(o.id)");
		add_out(g, q, false, "SUM(o.amount)");
		add_out(g, q, false, "MAX(o.qty)");
		sb_add(&q->sql, "SELECT %s FROM orders o JOIN customers c "
		       "ON o.customer_id = c.id JOIN countries co "
		       "ON co.code = c.country", g->sel.s);
		if (chance(&g->r, 50)) {
			add_pred(g, &where, &t_orders, NULL, true, 1);
			sb_add(&q->sql, " WHERE %s", where.s);
		}
		sb_add(&q->sql, " GROUP BY co.code ORDER BY co.code");
		q->total = true;
		break;
	}
	free(where.s);
}

/*
 * A write, applied to both; check is the SELECT that then compares the
 * rows it may have touched (total order).
 */
static void gen_dml(struct gen *g, struct query *q, struct query *check)
{
	struct sb where = {0};
	long k;
	unsigned i, n;

	q->dml = true;
	check->total = true;
	switch (rnd(&g->r, 8)) {
	case 0:
		k = pick_cid(&g->r, g->d);
		sb_add(&q->sql, "UPDATE customers SET balance = balance + ");
		add_amount(&q->sql, &g->r);
		sb_add(&q->sql, " WHERE id = %ld", k);
		sb_add(&check->sql, "SELECT * FROM customers WHERE id = %ld", k);
		break;
	case 1:
		k = pick_cid(&g->r, g->d);
		sb_add(&q->sql, "UPDATE orders SET status = '%s', qty = qty + 1 "
		       "WHERE customer_id = %ld", PICK(&g->r, statuses), k);
		if (chance(&g->r, 50)) {
			sb_add(&q->sql, " AND ");
			add_pred(g, &q->sql, &t_orders, NULL, false, 1);
		}
		sb_add(&check->sql, "SELECT * FROM orders WHERE customer_id = "
		       "%ld ORDER BY id", k);
		break;
	case 2:
		/* Scattered. */
		add_pred(g, &where, &t_orders, NULL, false, 1);
		sb_add(&q->sql, "UPDATE orders SET note = '%s' WHERE %s",
		       PICK(&g->r, words), where.s);
		sb_add(&check->sql, "SELECT id, customer_id, note FROM orders "
		       "ORDER BY id");
		break;
	case 3:
		add_pred(g, &where, &t_customers, NULL, false, 1);
		sb_add(&q->sql, "UPDATE customers SET region = '%s', "
		       "balance = balance + 1 WHERE %s", PICK(&g->r, regions),
		       where.s);
		sb_add(&check->sql, "SELECT * FROM customers ORDER BY id");
		break;
	case 4:
		k = pick_cid(&g->r, g->d);
		sb_add(&q->sql, "DELETE FROM orders WHERE customer_id = %ld "
		       "AND id %% %u = 0", k, 2 + rnd(&g->r, 3));
		sb_add(&check->sql, "SELECT * FROM orders WHERE customer_id = "
		       "%ld ORDER BY id", k);
		break;
	case 5:
		/* Scattered, and small: the data must last 3000 queries. */
		sb_add(&q->sql, "DELETE FROM orders WHERE qty = %ld AND amount "
		       "< ", rnd_range(&g->r, -2, 20));
		add_amount(&q->sql, &g->r);
		sb_add(&check->sql, "SELECT COUNT(*), SUM(amount), SUM(qty), "
		       "MIN(id), MAX(id) FROM orders");
		break;
	case 6:
		/* New orders, a multi-row INSERT across shards. */
		n = 1 + rnd(&g->r, 6);
		sb_add(&q->sql, "INSERT INTO orders (id, customer_id, amount, "
		       "qty, status, note) VALUES ");
		sb_add(&check->sql, "SELECT * FROM orders WHERE id >= %ld "
		       "ORDER BY id", g->d->next_order_id);
		for (i = 0; i < n; i++) {
			if (i)
				sb_add(&q->sql, ", ");
			add_order_row(&q->sql, &g->r, g->d,
				      g->d->next_order_id++);
		}
		break;
	default:
		k = pick_cid(&g->r, g->d);
		sb_add(&q->sql, "UPDATE customers SET name = '%s' WHERE id IN "
		       "(%ld, %ld)", PICK(&g->r, words), k,
		       pick_cid(&g->r, g->d));
		sb_add(&check->sql, "SELECT id, name FROM customers ORDER BY "
		       "id");
		break;
	}
	free(where.s);
}

/* ---- UNION and derived tables ---- */

/* What a UNION's branches give at one position of the select list. */
enum ukind { U_INT, U_STR, U_DEC, U_NKINDS };

/* A column of table t of kind k (never customers.created). */
static const char *ucol(struct gen *g, const struct table *t, enum ukind k)
{
	static const char *const c_int[] = {"id"};
	static const char *const c_str[] = {"name", "region", "country"};
	static const char *const c_dec[] = {"balance"};
	static const char *const o_int[] = {"id", "customer_id", "qty"};
	static const char *const o_str[] = {"status", "note"};
	static const char *const o_dec[] = {"amount"};
	bool cust = t == &t_customers;

	switch (k) {
	case U_INT:
		return cust ? PICK(&g->r, c_int) : PICK(&g->r, o_int);
	case U_STR:
		return cust ? PICK(&g->r, c_str) : PICK(&g->r, o_str);
	default:
		return cust ? PICK(&g->r, c_dec) : PICK(&g->r, o_dec);
	}
}

/* A literal of kind k. */
static void ulit(struct gen *g, struct sb *b, enum ukind k)
{
	switch (k) {
	case U_INT:
		sb_add(b, "%ld", rnd_range(&g->r, -5, 500));
		break;
	case U_STR:
		sb_add(b, "'%s'", PICK(&g->r, words));
		break;
	default:
		add_amount(b, &g->r);
		break;
	}
}

/*
 * One branch of a UNION giving kinds k[0..n): rows of a sharded table
 * (all of them, a key's, an IN list's), of the broadcast table, a row of
 * literals, a key's aggregates (one shard), groups on the shard key,
 * or the broadcast table's aggregates.  first: the columns are named
 * u1, u2, ... (the union's ORDER BY may name them).
 */
static void gen_branch(struct gen *g, struct sb *b, const enum ukind *k,
		       unsigned n, bool first)
{
	const struct table *t = pick_table(g);
	unsigned i, form = rnd(&g->r, 10);
	struct sb where = {0};

	sb_add(b, "SELECT ");
	for (i = 0; i < n; i++) {
		if (i)
			sb_add(b, ", ");
		switch (form) {
		case 4:         /* literals */
			ulit(g, b, k[i]);
			break;
		case 5:         /* countries */
		case 6:
			if (k[i] == U_STR)
				sb_add(b, "%s", chance(&g->r, 50) ? "code" :
				       "name");
			else
				ulit(g, b, k[i]);
			break;
		case 7:         /* one customer's orders, aggregated */
			sb_add(b, "%s", k[i] == U_INT ? "COUNT(*)" :
			       k[i] == U_STR ? "MAX(status)" : "SUM(amount)");
			break;
		case 8:         /* groups on the shard key */
			sb_add(b, "%s", k[i] == U_INT ? (chance(&g->r, 50) ?
			       "customer_id" : "COUNT(*)") : k[i] == U_STR ?
			       "MIN(note)" : "SUM(amount)");
			break;
		case 9:         /* the broadcast table's aggregates */
			if (k[i] == U_INT)
				sb_add(b, "COUNT(*)");
			else if (k[i] == U_STR)
				sb_add(b, "MIN(name)");
			else
				ulit(g, b, k[i]);
			break;
		default:
			sb_add(b, "%s", ucol(g, t, k[i]));
			break;
		}
		if (first)
			sb_add(b, " AS u%u", i + 1);
	}
	switch (form) {
	case 4:
		break;
	case 5:
	case 6:
		sb_add(b, " FROM countries");
		if (chance(&g->r, 50)) {
			add_pred(g, &where, &t_countries, NULL, false, 1);
			sb_add(b, " WHERE %s", where.s);
		}
		break;
	case 7:
		sb_add(b, " FROM orders WHERE customer_id = %ld",
		       pick_cid(&g->r, g->d));
		break;
	case 8:
		sb_add(b, " FROM orders");
		if (chance(&g->r, 50)) {
			add_pred(g, &where, &t_orders, NULL, false, 1);
			sb_add(b, " WHERE %s", where.s);
		}
		sb_add(b, " GROUP BY customer_id");
		if (chance(&g->r, 30))
			sb_add(b, " HAVING COUNT(*) > %u", rnd(&g->r, 12));
		break;
	case 9:
		sb_add(b, " FROM countries");
		break;
	default:
		sb_add(b, " FROM %s", t->name);
		if (form == 1 || form == 2)
			add_key_pred(g, &where, t, false, form == 2);
		else if (chance(&g->r, 80))
			add_pred(g, &where, t, NULL, false, 2);
		if (where.len)
			sb_add(b, " WHERE %s", where.s);
		break;
	}
	free(where.s);
}

/*
 * UNION ALL, UNION, or UNION ALL branches made distinct by a last
 * UNION; an ORDER BY on every column (by position or name: total, and
 * then maybe a LIMIT) or none.  String columns are compared caselessly:
 * a distinct row, a MIN or MAX, may be any of the spellings the
 * collation calls equal.
 */
static void gen_union(struct gen *g, struct query *q)
{
	enum ukind k[3];
	unsigned n = 1 + rnd(&g->r, 3), nb = 2 + rnd(&g->r, 2), i;
	unsigned mode = rnd(&g->r, 3);  /* ALL, DISTINCT, ALL then DISTINCT */
	bool names = chance(&g->r, 30);

	for (i = 0; i < n; i++) {
		k[i] = (enum ukind)rnd(&g->r, U_NKINDS);
		add_out(g, q, k[i] == U_STR, "u%u", i + 1);
	}
	for (i = 0; i < nb; i++) {
		if (i)
			sb_add(&q->sql, " UNION %s", mode == 1 ||
			       (mode == 2 && i == nb - 1) ? "" : "ALL ");
		gen_branch(g, &q->sql, k, n, i == 0);
	}
	if (chance(&g->r, 55)) {
		sb_add(&q->sql, " ORDER BY ");
		for (i = 0; i < n; i++) {
			unsigned c = (i + n - 1) % n;  /* the last first */

			if (names)
				sb_add(&q->sql, "%su%u%s", i ? ", " : "", c + 1,
				       dir(g));
			else
				sb_add(&q->sql, "%s%u%s", i ? ", " : "", c + 1,
				       dir(g));
		}
		q->total = true;
		if (chance(&g->r, 50))
			add_limit(g, &q->sql);
	}
}

/* The inner query of gen_derived: rows of orders (their id and more),
 * or orders grouped by their customer (customer_id, n, total). */
static void derived_inner(struct gen *g, struct sb *b, bool grouped)
{
	struct sb where = {0};

	if (chance(&g->r, 60))
		add_pred(g, &where, &t_orders, NULL, false, 2);
	if (grouped)
		sb_add(b, "SELECT customer_id, COUNT(*) AS n, SUM(amount) AS "
		       "total, MAX(qty) AS top FROM orders%s%s GROUP BY "
		       "customer_id", where.len ? " WHERE " : "",
		       where.len ? where.s : "");
	else
		sb_add(b, "SELECT %s FROM orders%s%s", chance(&g->r, 30) ? "*" :
		       "id, customer_id, amount, qty, status",
		       where.len ? " WHERE " : "", where.len ? where.s : "");
	free(where.s);
}

/*
 * Derived tables and WITH queries each shard answers for its own rows:
 * rows filtered and sorted outside, aggregated outside, joined with
 * their customer on the shard key, narrowed to one key, joined with the
 * broadcast table.
 */
static void gen_derived(struct gen *g, struct query *q)
{
	struct sb inner = {0};
	bool cte = chance(&g->r, 35);
	unsigned form = rnd(&g->r, 5);
	bool grouped = form == 1 || form == 2 || (form == 3 &&
						   chance(&g->r, 50));
	const char *from;

	derived_inner(g, &inner, grouped);
	if (cte) {
		sb_add(&q->sql, "WITH d AS (%s) ", inner.s);
		from = "d";
	} else {
		from = NULL;
	}
#define FROM_D() do { \
		if (from) \
			sb_add(&q->sql, "d"); \
		else \
			sb_add(&q->sql, "(%s) AS d", inner.s); \
	} while (0)
	switch (form) {
	case 0:         /* rows, filtered and sorted outside */
		add_out(g, q, false, "d.id");
		add_out(g, q, false, "d.amount");
		add_out(g, q, true, "d.status");
		sb_add(&q->sql, "SELECT %s FROM ", g->sel.s);
		FROM_D();
		if (chance(&g->r, 50))
			sb_add(&q->sql, " WHERE d.qty %s %ld", chance(&g->r, 50) ?
			       ">" : "<=", rnd_range(&g->r, 0, 20));
		if (chance(&g->r, 60)) {
			sb_add(&q->sql, " ORDER BY d.amount%s, d.id%s", dir(g),
			       dir(g));
			q->total = true;
			if (chance(&g->r, 60))
				add_limit(g, &q->sql);
		}
		break;
	case 1:         /* aggregates of the groups */
		add_out(g, q, false, "COUNT(*)");
		add_out(g, q, false, "SUM(n)");
		add_out(g, q, false, "MAX(total)");
		if (chance(&g->r, 50)) {
			add_out(g, q, false, "top");
			sb_add(&q->sql, "SELECT %s FROM ", g->sel.s);
			FROM_D();
			sb_add(&q->sql, " WHERE n > %u GROUP BY top ORDER BY "
			       "top%s", rnd(&g->r, 10), dir(g));
			q->total = true;
		} else {
			sb_add(&q->sql, "SELECT %s FROM ", g->sel.s);
			FROM_D();
		}
		break;
	case 2:         /* joined with the customer, on the shard key */
		add_out(g, q, false, "c.id");
		add_out(g, q, true, "c.name");
		add_out(g, q, false, "d.n");
		add_out(g, q, false, "d.total");
		sb_add(&q->sql, "SELECT %s FROM customers c JOIN ", g->sel.s);
		FROM_D();
		sb_add(&q->sql, " ON d.customer_id = c.id");
		if (chance(&g->r, 50)) {
			sb_add(&q->sql, " WHERE ");
			add_pred(g, &q->sql, &t_customers, NULL, true, 1);
		}
		if (chance(&g->r, 60)) {
			sb_add(&q->sql, " ORDER BY d.total%s, c.id", dir(g));
			q->total = true;
			if (chance(&g->r, 50))
				add_limit(g, &q->sql);
		}
		break;
	case 3:         /* one key */
		sb_add(&q->sql, "SELECT * FROM ");
		FROM_D();
		sb_add(&q->sql, " WHERE d.customer_id %s",
		       chance(&g->r, 50) ? "= " : "IN (");
		if (q->sql.s[q->sql.len - 1] == '(')
			sb_add(&q->sql, "%ld, %ld)", pick_cid(&g->r, g->d),
			       pick_cid(&g->r, g->d));
		else
			sb_add(&q->sql, "%ld", pick_cid(&g->r, g->d));
		break;
	default:        /* the customers' countries, from the broadcast
			 * table */
		add_out(g, q, false, "co.name");
		add_out(g, q, false, "COUNT(*)");
		add_out(g, q, false, "SUM(d.balance)");
		sb_add(&q->sql, "SELECT %s FROM (SELECT country, balance FROM "
		       "customers", g->sel.s);
		if (chance(&g->r, 60)) {
			sb_add(&q->sql, " WHERE ");
			add_pred(g, &q->sql, &t_customers, NULL, false, 1);
		}
		sb_add(&q->sql, ") AS d JOIN countries co ON co.code = "
		       "d.country GROUP BY co.name ORDER BY co.name");
		q->total = true;
		break;
	}
#undef FROM_D
	free(inner.s);
}

/* Query number i (check: its check SELECT, if it writes). */
static void gen_query(struct gen *g, struct query *q, struct query *check)
{
	unsigned w = rnd(&g->r, 100);

	query_reset(q);
	query_reset(check);
	sb_reset(&g->sel);
	if (w < 10)
		gen_rows(g, q, 1);              /* point lookups */
	else if (w < 17)
		gen_rows(g, q, 2);              /* IN lists */
	else if (w < 30)
		gen_rows(g, q, 0);              /* ranges, scans, ORDER BY */
	else if (w < 46)
		gen_agg(g, q, false);
	else if (w < 53)
		gen_distinct(g, q);
	else if (w < 61)
		gen_join_rows(g, q);
	else if (w < 66)
		gen_agg(g, q, true);
	else if (w < 73)
		gen_countries(g, q);
	else if (w < 80)
		gen_union(g, q);
	else if (w < 88)
		gen_derived(g, q);
	else
		gen_dml(g, q, check);
}

/* ---- comparing ---- */

static void fold_into(struct sb *b, const char *s, bool fold)
{
	if (!s) {
		sb_add(b, "\x01NULL");
		return;
	}
	if (!fold) {
		sb_add(b, "%s", s);
		return;
	}
	for (; *s; s++)
		sb_add(b, "%c", toupper((unsigned char)*s));
}

/* Row i of res as one string, for comparing; cols: which, or all. */
static char *row_key(const struct result *res, size_t i, const bool *fold,
		     const unsigned *cols, unsigned ncols)
{
	struct sb b = {0};
	unsigned c, n = cols ? ncols : res->ncols;

	sb_add(&b, "%s", "");
	for (c = 0; c < n; c++) {
		unsigned col = cols ? cols[c] : c;

		if (c)
			sb_add(&b, "\x1f");
		fold_into(&b, res->cells[i * res->ncols + col],
			  cols ? true : fold[col]);
	}
	return b.s;
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void print_result(const char *side, const struct result *res)
{
	size_t i;
	unsigned c;

	if (res->err) {
		printf("  %s: ERROR %u: %s\n", side, res->errnum, res->errmsg);
		return;
	}
	if (!res->has_rows) {
		printf("  %s: OK, %llu row(s) affected\n", side,
		       (unsigned long long)res->affected);
		return;
	}
	printf("  %s: %zu row(s); columns:", side, res->nrows);
	for (c = 0; c < res->ncols; c++)
		printf(" %s(type %u, scale %u)", res->names[c], res->types[c],
		       res->decimals[c]);
	printf("\n");
	for (i = 0; i < res->nrows && i < SHOW_ROWS; i++) {
		printf("    ");
		for (c = 0; c < res->ncols; c++) {
			const char *v = res->cells[i * res->ncols + c];

			printf("%s%s", c ? " | " : "", v ? v : "NULL");
		}
		printf("\n");
	}
	if (res->nrows > SHOW_ROWS)
		printf("    ... %zu more\n", res->nrows - SHOW_ROWS);
}

/* Sequences of row keys; first difference into why. */
static bool same_rows(char **ka, char **kb, size_t n, const char *what,
		      char *why, size_t whylen)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (strcmp(ka[i], kb[i])) {
			char *p;

			for (p = ka[i]; *p; p++)
				if (*p == '\x1f')
					*p = '|';
			for (p = kb[i]; *p; p++)
				if (*p == '\x1f')
					*p = '|';
			snprintf(why, whylen, "%s differ at row %zu: A '%s', "
				 "B '%s'", what, i, ka[i], kb[i]);
			return false;
		}
	}
	return true;
}

static void free_keys(char **k, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(k[i]);
	free(k);
}

/* A string's "decimals" says nothing (the server itself sends 0 or 39,
 * NOT_FIXED_DEC, for one column depending on its plan); a number's and a
 * time's are its scale. */
static bool has_scale(unsigned type)
{
	switch (type) {
	case MYSQL_TYPE_VARCHAR:
	case MYSQL_TYPE_VAR_STRING:
	case MYSQL_TYPE_STRING:
	case MYSQL_TYPE_TINY_BLOB:
	case MYSQL_TYPE_MEDIUM_BLOB:
	case MYSQL_TYPE_LONG_BLOB:
	case MYSQL_TYPE_BLOB:
	case MYSQL_TYPE_ENUM:
	case MYSQL_TYPE_SET:
		return false;
	}
	return true;
}

/* True if a and b agree for q; else the reason in why. */
static bool same(const struct query *q, const struct result *a,
		 const struct result *b, char *why, size_t whylen)
{
	char **ka, **kb;
	size_t i;
	unsigned c;
	bool ok = true;

	if (a->err) {
		snprintf(why, whylen, "A failed");
		return false;
	}
	if (a->has_rows != b->has_rows) {
		snprintf(why, whylen, "A %s rows, B %s", a->has_rows ? "sent" :
			 "sent no", b->has_rows ? "did" : "did not");
		return false;
	}
	if (!a->has_rows) {
		if (a->affected == b->affected)
			return true;
		snprintf(why, whylen, "affected rows: A %llu, B %llu",
			 (unsigned long long)a->affected,
			 (unsigned long long)b->affected);
		return false;
	}
	if (a->ncols != b->ncols) {
		snprintf(why, whylen, "columns: A %u, B %u", a->ncols, b->ncols);
		return false;
	}
	for (c = 0; c < a->ncols; c++) {
		if (strcmp(a->names[c], b->names[c])) {
			snprintf(why, whylen, "column %u's name: A '%s', B '%s'",
				 c + 1, a->names[c], b->names[c]);
			return false;
		}
		if (a->types[c] != b->types[c] ||
		    (has_scale(a->types[c]) &&
		     a->decimals[c] != b->decimals[c])) {
			snprintf(why, whylen, "column %u (%s): A type %u scale "
				 "%u, B type %u scale %u", c + 1, a->names[c],
				 a->types[c], a->decimals[c], b->types[c],
				 b->decimals[c]);
			return false;
		}
	}
	if (a->nrows != b->nrows) {
		snprintf(why, whylen, "rows: A %zu, B %zu", a->nrows, b->nrows);
		return false;
	}
	if (!a->nrows)
		return true;
	ka = calloc(a->nrows, sizeof(char *));
	kb = calloc(a->nrows, sizeof(char *));
	if (!ka || !kb)
		abort();
	if (!q->total && q->nokeys) {
		/* The ORDER BY keys' values, in sequence. */
		for (i = 0; i < a->nrows; i++) {
			ka[i] = row_key(a, i, q->fold, q->okeys, q->nokeys);
			kb[i] = row_key(b, i, q->fold, q->okeys, q->nokeys);
		}
		ok = same_rows(ka, kb, a->nrows, "ORDER BY keys", why, whylen);
		for (i = 0; i < a->nrows; i++) {
			free(ka[i]);
			free(kb[i]);
		}
	}
	if (ok) {
		for (i = 0; i < a->nrows; i++) {
			ka[i] = row_key(a, i, q->fold, NULL, 0);
			kb[i] = row_key(b, i, q->fold, NULL, 0);
		}
		if (!q->total) {
			qsort(ka, a->nrows, sizeof(char *), cmp_str);
			qsort(kb, b->nrows, sizeof(char *), cmp_str);
		}
		ok = same_rows(ka, kb, a->nrows, q->total ? "rows" :
			       "rows (sorted, as multisets)", why, whylen);
		free_keys(ka, a->nrows);
		free_keys(kb, b->nrows);
	} else {
		free(ka);
		free(kb);
	}
	return ok;
}

/* ---- main ---- */

static void usage(FILE *f)
{
	fprintf(f,
"usage: difftest --a HOST:PORT[/DB] --b HOST:PORT[/DB] [options]\n"
"  --a HOST:PORT[/DB]   the server under test (myring over the shards)\n"
"  --b HOST:PORT[/DB]   the reference (one server with every row)\n"
"  --user U             both logins' user (myring)\n"
"  --password P         its password (myring-pw)\n"
"  --db DB              the database where a target names none (shop)\n"
"  --seed S             the rows and the queries (1)\n"
"  --queries N          how many queries (3000)\n"
"  --load / --no-load   load the rows first (default) or use what is there\n"
"  --shard HOST:PORT[/DB]  a shard, directly (repeat for each): the\n"
"                       broadcast table countries is loaded into each, since\n"
"                       myring refuses writes to it (without --shard: through A)\n"
"  --split-load         load customers and orders straight into the --shard\n"
"                       servers (key mod their number) instead of through A:\n"
"                       checks the tester itself, without myring\n"
"  --only I             run query I alone (after generating 0..I-1)\n"
"  --verbose            print every query\n"
"  --max-shown N        mismatches printed in full (20); all are counted\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{"a", required_argument, NULL, 'a'},
		{"b", required_argument, NULL, 'b'},
		{"user", required_argument, NULL, 'u'},
		{"password", required_argument, NULL, 'p'},
		{"db", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 's'},
		{"queries", required_argument, NULL, 'n'},
		{"load", no_argument, NULL, 'L'},
		{"no-load", no_argument, NULL, 'N'},
		{"shard", required_argument, NULL, 'S'},
		{"split-load", no_argument, NULL, 'X'},
		{"only", required_argument, NULL, 'o'},
		{"verbose", no_argument, NULL, 'v'},
		{"max-shown", required_argument, NULL, 'm'},
		{"help", no_argument, NULL, 'h'},
		{0},
	};
	const char *a_spec = NULL, *b_spec = NULL, *db = "shop";
	const char *shard_spec[MAX_SHARDS];
	unsigned nshards = 0, s;
	unsigned long long seed = 1;
	long nqueries = 3000, only = -1, max_shown = 20, i;
	bool do_load = true, split = false, verbose = false;
	struct target a, b, shards[MAX_SHARDS];
	struct data d;
	struct gen g;
	struct query q = {0}, check = {0};
	struct result ra, rb;
	long mismatches = 0, refused = 0, ref_errors = 0, ran = 0;
	char why[1024];
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'a':
			a_spec = optarg;
			break;
		case 'b':
			b_spec = optarg;
			break;
		case 'u':
			opt_user = optarg;
			break;
		case 'p':
			opt_password = optarg;
			break;
		case 'd':
			db = optarg;
			break;
		case 's':
			seed = strtoull(optarg, NULL, 0);
			break;
		case 'n':
			nqueries = strtol(optarg, NULL, 10);
			break;
		case 'L':
			do_load = true;
			break;
		case 'N':
			do_load = false;
			break;
		case 'S':
			if (nshards == MAX_SHARDS) {
				fprintf(stderr, "difftest: at most %d --shard\n",
					MAX_SHARDS);
				return 2;
			}
			shard_spec[nshards++] = optarg;
			break;
		case 'X':
			split = true;
			break;
		case 'o':
			only = strtol(optarg, NULL, 10);
			break;
		case 'v':
			verbose = true;
			break;
		case 'm':
			max_shown = strtol(optarg, NULL, 10);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !a_spec || !b_spec || nqueries < 0 ||
	    (split && !nshards)) {
		usage(stderr);
		return 2;
	}
	if (parse_target(&a, "A", a_spec, db) ||
	    parse_target(&b, "B", b_spec, db)) {
		fprintf(stderr, "difftest: a target is HOST:PORT[/DB]\n");
		return 2;
	}
	for (s = 0; s < nshards; s++) {
		static char names[MAX_SHARDS][16];

		snprintf(names[s], sizeof(names[s]), "shard %u", s);
		if (parse_target(&shards[s], names[s], shard_spec[s], db)) {
			fprintf(stderr, "difftest: --shard is HOST:PORT[/DB]\n");
			return 2;
		}
	}
	if (target_connect(&a) || target_connect(&b))
		return 2;
	for (s = 0; s < nshards; s++)
		if (target_connect(&shards[s]))
			return 2;

	printf("difftest: A %s:%u/%s, B %s:%u/%s, seed %llu, %ld queries\n",
	       a.host, a.port, a.db, b.host, b.port, b.db, seed, nqueries);
	memset(&d, 0, sizeof(d));
	if (do_load) {
		struct loader l = {&a, &b, shards, nshards, split};

		load(&l, &d, seed);
	} else {
		/* The ids the load would have made, for the queries. */
		for (i = 0; i < NCUSTOMERS; i++)
			d.cust_id[i] = (i + 1) % 17 == 0 ? -(i + 1) : i + 1;
		d.next_order_id = NORDERS + 1;
	}

	memset(&g, 0, sizeof(g));
	g.r.s = seed * 0x2545f4914f6cdd1dull + 1;
	g.d = &d;
	for (i = 0; i < nqueries; i++) {
		const struct query *steps[2] = {&q, &check};
		unsigned st;

		gen_query(&g, &q, &check);
		if (only >= 0 && i != only)
			continue;
		for (st = 0; st < 2 && steps[st]->sql.len; st++) {
			const struct query *cur = steps[st];

			if (verbose)
				printf("[%ld%s] %s\n", i, st ? " check" : "",
				       cur->sql.s);
			run(&a, cur->sql.s, &ra);
			ran++;
			if (ra.err && ra.errnum == ER_NOT_SUPPORTED_YET) {
				/* Refused as documented: B not run, so a
				 * refused write changes neither. */
				refused++;
				printf("refused [%ld%s]: %s\n  A: %s\n", i,
				       st ? " check" : "", cur->sql.s,
				       ra.errmsg);
				result_free(&ra);
				break;
			}
			run(&b, cur->sql.s, &rb);
			if (rb.err) {
				ref_errors++;
				printf("REFERENCE ERROR [%ld%s] (the generator "
				       "made a bad statement): %s\n", i,
				       st ? " check" : "", cur->sql.s);
				print_result("A", &ra);
				print_result("B", &rb);
			} else if (!same(cur, &ra, &rb, why, sizeof(why))) {
				mismatches++;
				if (mismatches <= max_shown) {
					printf("MISMATCH [%ld%s] (seed %llu): "
					       "%s\n  %s", i, st ? " check" : "",
					       seed, cur->sql.s, why);
					if (rb.has_rows)
						printf("; rows compared as %s",
						       cur->total ? "a sequence"
						       : cur->nokeys ? "a multiset, "
						       "the ORDER BY keys' values "
						       "as a sequence"
						       : "a multiset");
					printf("\n");
					print_result("A", &ra);
					print_result("B", &rb);
				}
			}
			result_free(&ra);
			result_free(&rb);
		}
	}

	printf("difftest: %ld statements, %ld mismatch(es), %ld refused by A "
	       "(1235), %ld refused by the reference\n", ran, mismatches,
	       refused, ref_errors);
	mysql_close(a.m);
	mysql_close(b.m);
	for (s = 0; s < nshards; s++)
		mysql_close(shards[s].m);
	free(q.sql.s);
	free(check.sql.s);
	free(g.sel.s);
	if (mismatches || ref_errors)
		return 1;
	if (ran && refused * 20 > ran) {
		printf("difftest: FAILED: more than 5%% refused\n");
		return 1;
	}
	return 0;
}
