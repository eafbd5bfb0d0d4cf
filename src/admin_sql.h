/*
 * admin_sql.h - the SQL subset of the admin port: a lexer and a
 * recursive-descent parser that turn one statement into a small tree of
 * expressions (admin_engine.h evaluates it over a table).
 *
 * Pure and bounded: the statement, its expression nodes and the text
 * they need (unescaped strings, identifiers, column names) live in
 * fixed arrays inside struct admin_stmt, so parsing never allocates and
 * any input either fits or is refused with an error.
 */
#ifndef MYRING_ADMIN_SQL_H
#define MYRING_ADMIN_SQL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ADMIN_MAX_ITEMS 64       /* expressions in a select list */
#define ADMIN_MAX_NODES 256      /* expression nodes per statement */
#define ADMIN_MAX_ORDER 16       /* ORDER BY keys */
#define ADMIN_MAX_DEPTH 32       /* nested parentheses and argument lists */
#define ADMIN_TEXT_MAX 4096      /* strings, names and column headers */
#define ADMIN_NAME_MAX 64        /* an identifier, as MySQL limits them */

enum admin_kind {
	ADMIN_SELECT,          /* SELECT ... [FROM [db.]table] ... */
	ADMIN_SHOW,            /* SHOW ..., DESCRIBE t: what = enum admin_show */
	ADMIN_USE,             /* USE db */
	ADMIN_RELOAD_CONFIG,
	ADMIN_RESET_STATS,
	ADMIN_NOOP,            /* SET, BEGIN, COMMIT, ROLLBACK, START ... */
	ADMIN_XA_RESOLVE,      /* XA COMMIT|ROLLBACK 'gtrid': db holds the
	                        * gtrid, full is true for COMMIT */
};

enum admin_show {
	SHOW_STATS,            /* SHOW STATS, SHOW [GLOBAL|SESSION] STATUS */
	SHOW_CONFIG,
	SHOW_DATABASES,
	SHOW_TABLES,           /* [FULL] TABLES [FROM db] */
	SHOW_TABLE_STATUS,     /* TABLE STATUS [FROM db] */
	SHOW_COLUMNS,          /* [FULL] COLUMNS FROM t [FROM db], DESCRIBE t */
	SHOW_INDEX,            /* INDEX|INDEXES|KEYS FROM t [FROM db] */
	SHOW_CREATE_TABLE,     /* CREATE TABLE t */
	SHOW_VARIABLES,        /* [GLOBAL|SESSION] VARIABLES */
	SHOW_PROCESSLIST,      /* [FULL] PROCESSLIST */
	SHOW_WARNINGS,         /* WARNINGS, ERRORS: always empty */
	SHOW_CHARSET,          /* CHARACTER SET, CHARSET */
	SHOW_COLLATION,
	SHOW_ENGINES,          /* [STORAGE] ENGINES */
	SHOW_BACKENDS,         /* BACKENDS: stats.backends */
	SHOW_SHARDS,           /* SHARDS: stats.shards */
};

/* Expression node operators.  Operands are node indexes (-1: none). */
enum admin_op {
	AX_NULL, AX_INT, AX_DOUBLE, AX_STRING,
	AX_COLUMN,             /* name, optionally qualified by table (and db) */
	AX_COLUMN_AT,          /* the table's column number i (SHOW ... LIKE) */
	AX_VAR,                /* @@[scope.]name */
	AX_FUNC,               /* fn: enum admin_func, no arguments */
	AX_AGG,                /* fn: enum admin_agg, argument a */
	AX_NEG, AX_NOT,        /* a */
	AX_ADD, AX_SUB, AX_MUL, AX_DIV, AX_INTDIV, AX_MOD,
	AX_EQ, AX_NSEQ, AX_NE, AX_LT, AX_LE, AX_GT, AX_GE,
	AX_AND, AX_OR, AX_XOR,
	AX_LIKE,               /* a LIKE b; negated: NOT LIKE */
	AX_IN,                 /* a IN (b, b->next, ...); negated: NOT IN */
	AX_BETWEEN,            /* a BETWEEN b AND c; negated: NOT BETWEEN */
	AX_ISNULL,             /* a IS NULL; negated: IS NOT NULL */
};

enum admin_func {
	AF_NOW, AF_CURDATE, AF_CURTIME, AF_UNIX_TIMESTAMP, AF_VERSION,
	AF_DATABASE, AF_USER, AF_CONNECTION_ID,
};

enum admin_agg { AG_COUNT_STAR, AG_COUNT, AG_SUM, AG_AVG, AG_MIN, AG_MAX };

/* Text in admin_stmt.text: NUL-terminated, len bytes (strings may hold
 * NULs of their own).  len 0 is an absent or empty name. */
struct admin_ref {
	uint16_t off, len;
};

struct admin_expr {
	uint8_t op;            /* enum admin_op */
	uint8_t fn;            /* enum admin_func / enum admin_agg */
	bool negated;
	int16_t a, b, c;
	int16_t next;          /* next element of an IN list */
	struct admin_ref name; /* AX_STRING: the value; AX_COLUMN, AX_VAR */
	struct admin_ref qual; /* AX_COLUMN: table qualifier */
	struct admin_ref qdb;  /* AX_COLUMN: database qualifier */
	union {
		int64_t i;     /* AX_INT, AX_COLUMN_AT */
		double d;      /* AX_DOUBLE */
	};
};

struct admin_item {
	int16_t expr;          /* -1: * (every column of the table) */
	struct admin_ref name; /* alias, else the expression as written */
	struct admin_ref qual; /* tbl.*: the qualifier */
	struct admin_ref qdb;  /* db.tbl.* */
};

struct admin_order {
	int16_t expr;
	bool desc;
};

struct admin_stmt {
	enum admin_kind kind;
	enum admin_show show;
	bool full;             /* SHOW FULL ... */
	bool has_agg;          /* the select list has an aggregate */
	struct admin_ref db;   /* FROM db.t, SHOW ... FROM db, USE db */
	struct admin_ref table;
	struct admin_ref alias;        /* FROM t AS alias */
	unsigned nitems;       /* 0: every column (SHOW) */
	struct admin_item items[ADMIN_MAX_ITEMS];
	int16_t where;         /* WHERE, or SHOW's LIKE / WHERE; -1: none */
	unsigned norder;
	struct admin_order order[ADMIN_MAX_ORDER];
	bool has_limit;
	uint64_t limit, offset;
	unsigned nnodes;
	struct admin_expr nodes[ADMIN_MAX_NODES];
	unsigned ntext;
	char text[ADMIN_TEXT_MAX];
};

static inline const char *admin_text(const struct admin_stmt *st,
				     struct admin_ref r)
{
	return st->text + r.off;
}

/* 0, or -1 with err naming what is wrong (the caller answers ERR 1064). */
int admin_parse(const char *sql, size_t len, struct admin_stmt *st, char *err,
		size_t errlen);

#endif
