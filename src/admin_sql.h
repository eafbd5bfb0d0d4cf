/*
 * admin_sql.h - the SQL subset of the admin port, and a small engine that
 * filters, sorts, limits and projects a virtual table into a result set.
 * Pure: no I/O, no allocation in the parser.
 */
#ifndef MYRING_ADMIN_SQL_H
#define MYRING_ADMIN_SQL_H

#include "mysql_srv.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_MAX_COLS 32
#define ADMIN_NAME_MAX 64

enum admin_kind {
	ADMIN_SHOW_STATS, ADMIN_SHOW_CONFIG, ADMIN_SHOW_TABLES,
	ADMIN_SHOW_DATABASES, ADMIN_RELOAD_CONFIG, ADMIN_RESET_STATS,
	ADMIN_SELECT,        /* SELECT ... FROM [stats.]table ... */
	ADMIN_SELECT_EXPR,   /* SELECT @@var / DATABASE() / 1 ... */
	ADMIN_NOOP,          /* SET, USE, BEGIN, COMMIT, ROLLBACK */
};

enum admin_op { AOP_EQ, AOP_NE, AOP_LT, AOP_LE, AOP_GT, AOP_GE, AOP_LIKE };

struct admin_stmt {
	enum admin_kind kind;
	char table[ADMIN_NAME_MAX];
	char expr[128];              /* ADMIN_SELECT_EXPR, as written */
	bool star;
	unsigned ncols;
	char cols[ADMIN_MAX_COLS][ADMIN_NAME_MAX];
	bool has_where;
	char where_col[ADMIN_NAME_MAX];
	enum admin_op where_op;
	char where_val[256];
	bool where_is_string;
	bool has_order;
	char order_col[ADMIN_NAME_MAX];
	bool desc;
	bool has_limit;
	uint64_t limit, offset;
};

/* 0, or -1 with err naming what is wrong (the caller answers ERR 1064). */
int admin_parse(const char *sql, size_t len, struct admin_stmt *st, char *err,
		size_t errlen);

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
	const char *const *names;
	const enum admin_col_type *types;
	unsigned ncols;
	const struct admin_value *cells;   /* row-major */
	size_t nrows;
};

/*
 * Writes the result set of st (NULL: every row and column) over t into
 * out.  Returns 0, or -1 with err and *code (1054 unknown column, 1064
 * otherwise).
 */
int admin_select(const struct admin_table *t, const struct admin_stmt *st,
		 struct pkt_buf *out, uint64_t caps, char *err, size_t errlen,
		 uint16_t *code);

/* LIKE with % and _, case-insensitive (as MySQL's default collations). */
bool admin_like(const char *s, size_t n, const char *pattern);

#endif
