/*
 * admin_engine.h - runs a parsed admin statement (admin_sql.h) over a
 * virtual table: evaluates the select list, WHERE, ORDER BY and the
 * aggregates, applies LIMIT, and writes the result set.  Also the
 * system variables the admin port answers (@@x, SHOW VARIABLES).
 *
 * Pure: no I/O.  The only allocations are the row index and sort keys
 * of one statement, freed before it returns.
 */
#ifndef MYRING_ADMIN_ENGINE_H
#define MYRING_ADMIN_ENGINE_H

#include "admin_sql.h"
#include "mysql_srv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum admin_col_type { ADMIN_COL_TEXT, ADMIN_COL_INT, ADMIN_COL_UINT,
		      ADMIN_COL_DOUBLE };

struct admin_value {
	bool null;
	union {
		int64_t i;
		uint64_t u;
		double d;
	};
	const char *s;               /* ADMIN_COL_TEXT */
	size_t len;
};

static inline void admin_value_set_null(struct admin_value *v)
{
	v->null = true;
}
static inline void admin_value_set_int(struct admin_value *v, int64_t i)
{
	v->null = false;
	v->i = i;
}
static inline void admin_value_set_uint(struct admin_value *v, uint64_t u)
{
	v->null = false;
	v->u = u;
}
static inline void admin_value_set_double(struct admin_value *v, double d)
{
	v->null = false;
	v->d = d;
}
static inline void admin_value_set_text(struct admin_value *v, const char *s,
					size_t len)
{
	v->null = false;
	v->s = s;
	v->len = len;
}

struct admin_table {
	const char *name;            /* for qualified columns; NULL: any */
	const char *const *names;
	const enum admin_col_type *types;
	unsigned ncols;
	const struct admin_value *cells;   /* row-major */
	size_t nrows;
};

/* Who asks, for USER(), DATABASE(), @@version and the like. */
struct admin_ctx {
	const char *user;            /* as logged in */
	const char *host;            /* the client's address, without port */
	const char *db;              /* current database, NULL: none */
	const char *version;         /* as in the greeting */
	uint32_t conn_id;
	uint64_t now;                /* seconds since the epoch (UTC) */
	uint32_t max_packet;         /* largest command accepted */
	unsigned port;               /* the admin port */
};

/* The error of a failed statement: MySQL code, SQLSTATE, message. */
struct admin_err {
	uint16_t code;
	char state[6];
	char msg[512];
};

void admin_err_set(struct admin_err *e, uint16_t code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Writes the result set of st over t into out: t NULL is the one-row
 * table without columns of a SELECT without FROM; st NULL sends t whole.
 * A SHOW statement (st->nitems == 0) selects every column, filtered by
 * its WHERE.  Returns 0, or -1 with e filled and out as it was.
 */
int admin_select(const struct admin_table *t, const struct admin_stmt *st,
		 const struct admin_ctx *ctx, struct pkt_buf *out,
		 uint64_t caps, struct admin_err *e);

/* LIKE with % and _ (\ escapes the next character), case-insensitive
 * as MySQL's default collations. */
bool admin_like(const char *s, size_t n, const char *pat, size_t patn);

/* System variables, sorted by name, as SHOW VARIABLES lists them. */
unsigned admin_nvariables(void);
/* The i-th: its name, and its value as SHOW VARIABLES prints it (ON/OFF
 * for booleans) into buf. */
const char *admin_variable(const struct admin_ctx *ctx, unsigned i, char *buf,
			   size_t cap);

#endif
