/*
 * sql_ast.h - the syntax tree of one SQL statement: what sql_parse.c
 * builds from a MySQL/MariaDB statement, what the shard planner reads and
 * changes, and what sql_print.c writes back as SQL.
 *
 * Every node lives in a struct sql_arena: one parse allocates from it and
 * the whole tree goes with one sql_arena_reset() or sql_arena_free().
 * Strings (struct sql_str) point into the parsed text, into the arena, or
 * at static text; none is NUL-terminated.
 *
 * Lists are linked through each node's `next`, in the order written.  The
 * tree holds what the printer writes and nothing else: spellings with the
 * same meaning are one node (RLIKE is REGEXP, != is <>, DISTINCTROW is
 * DISTINCT, LEFT OUTER JOIN is LEFT JOIN, `a || b` under PIPES_AS_CONCAT
 * is CONCAT(a, b), a chain of ANDs is one AND with every operand), and
 * parentheses are not nodes: the printer puts back the ones precedence
 * needs.  So parsing the printed text gives the same tree again.
 */
#ifndef MYRING_SQL_AST_H
#define MYRING_SQL_AST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sql_arena.h"

/* ---- expressions ----------------------------------------------------- */

enum sql_expr_kind {
	SQL_E_COLUMN = 1,   /* [[schema.]table.]column */
	SQL_E_STAR,         /* * or [schema.]table.* (also COUNT(*)'s *) */
	SQL_E_LITERAL,      /* lit: enum sql_lit_kind */
	SQL_E_PARAM,        /* ?, param: its number, from 0, in text order */
	SQL_E_USERVAR,      /* @name: name */
	SQL_E_SYSVAR,       /* @@[scope.]name: name, op: enum sql_scope */
	SQL_E_UNARY,        /* op left */
	SQL_E_BINARY,       /* left op right */
	SQL_E_LOGIC,        /* args joined by op (AND, OR, XOR): two or more */
	SQL_E_IS,           /* left IS [NOT] op (NULL, TRUE, FALSE, UNKNOWN) */
	SQL_E_IN,           /* left [NOT] IN (args) or (query) */
	SQL_E_BETWEEN,      /* left [NOT] BETWEEN args AND args->next */
	SQL_E_LIKE,         /* left [NOT] op right [ESCAPE args]: op LIKE,
			     * REGEXP, SOUNDS_LIKE (no NOT, no ESCAPE) */
	SQL_E_QUANT,        /* left op ANY|ALL (query): op a comparison */
	SQL_E_FUNC,         /* [schema.]name(args ...), see below */
	SQL_E_CASE,         /* CASE [left] WHEN args THEN args->next ...
			     * [ELSE right] END: args alternate WHEN, THEN */
	SQL_E_TYPE,         /* a cast's target type (CAST, CONVERT) */
	SQL_E_INTERVAL,     /* INTERVAL left unit (name: DAY, HOUR_MINUTE...) */
	SQL_E_COLLATE,      /* left COLLATE name */
	SQL_E_SUBQUERY,     /* (query) */
	SQL_E_EXISTS,       /* EXISTS (query) */
	SQL_E_ROW,          /* (args), two or more; ROW(...); an INSERT row */
	SQL_E_ASSIGN,       /* @name := left */
	SQL_E_DEFAULT,      /* DEFAULT (a value in INSERT and UPDATE) */
	SQL_E_KEYWORD,      /* a word standing for itself: a unit, TRIM's
			     * LEADING, a charset after USING, SET x = ON */
	SQL_E_MATCH,        /* MATCH (args) AGAINST (left [op: mode]) */
};

enum sql_op {
	/* SQL_E_UNARY */
	SQL_OP_NEG = 1,     /* -x */
	SQL_OP_PLUS,        /* +x */
	SQL_OP_BITNOT,      /* ~x */
	SQL_OP_NOT,         /* NOT x, !x */
	SQL_OP_BINARY,      /* BINARY x */
	/* SQL_E_BINARY: arithmetic and bits */
	SQL_OP_ADD,
	SQL_OP_SUB,
	SQL_OP_MUL,
	SQL_OP_DIV,         /* / */
	SQL_OP_INTDIV,      /* DIV */
	SQL_OP_MOD,         /* %, MOD */
	SQL_OP_BITAND,
	SQL_OP_BITOR,
	SQL_OP_BITXOR,      /* ^ */
	SQL_OP_SHL,
	SQL_OP_SHR,
	/* SQL_E_BINARY, SQL_E_QUANT: comparisons */
	SQL_OP_EQ,
	SQL_OP_NULLEQ,      /* <=> */
	SQL_OP_NE,          /* <>, != */
	SQL_OP_LT,
	SQL_OP_LE,
	SQL_OP_GT,
	SQL_OP_GE,
	/* SQL_E_BINARY: MySQL's JSON column paths */
	SQL_OP_JSON,        /* -> */
	SQL_OP_JSON_TEXT,   /* ->> */
	/* SQL_E_LOGIC */
	SQL_OP_AND,         /* AND, && */
	SQL_OP_OR,          /* OR, || (without PIPES_AS_CONCAT) */
	SQL_OP_XOR,
	/* SQL_E_IS */
	SQL_OP_IS_NULL,
	SQL_OP_IS_TRUE,
	SQL_OP_IS_FALSE,
	SQL_OP_IS_UNKNOWN,
	/* SQL_E_LIKE */
	SQL_OP_LIKE,
	SQL_OP_REGEXP,      /* REGEXP, RLIKE */
	SQL_OP_SOUNDS_LIKE,
	/* SQL_E_MATCH */
	SQL_OP_MATCH_NATURAL,       /* (none), IN NATURAL LANGUAGE MODE */
	SQL_OP_MATCH_NATURAL_QE,    /* ... WITH QUERY EXPANSION */
	SQL_OP_MATCH_BOOLEAN,       /* IN BOOLEAN MODE */
	SQL_OP_MATCH_QE,            /* WITH QUERY EXPANSION */
};

enum sql_scope {            /* SQL_E_SYSVAR, SET items */
	SQL_SCOPE_NONE = 0, /* @@x: the session's if it has one */
	SQL_SCOPE_GLOBAL,
	SQL_SCOPE_SESSION,  /* SESSION, LOCAL */
};

enum sql_lit_kind {
	SQL_LIT_INT = 1,    /* text: digits as written */
	SQL_LIT_DECIMAL,    /* 1.5, .5, 1. */
	SQL_LIT_FLOAT,      /* 1e5, 1.5E-3 */
	SQL_LIT_STRING,     /* text: the value, escapes undone and parts
			     * joined; charset: the introducer (_utf8mb4),
			     * SQL_EF_NATIONAL for N'..' */
	SQL_LIT_HEX,        /* X'4A' or 0x4a as written; charset as STRING */
	SQL_LIT_BIT,        /* B'101' or 0b101 as written */
	SQL_LIT_NULL,
	SQL_LIT_TRUE,
	SQL_LIT_FALSE,
	SQL_LIT_DATE,       /* DATE '...': text is the string's value */
	SQL_LIT_TIME,       /* TIME '...' */
	SQL_LIT_TIMESTAMP,  /* TIMESTAMP '...' */
};

/* What comes before an argument in a function's list (SQL_E_FUNC args):
 * SUBSTRING(a FROM b FOR c), TRIM(LEADING 'x' FROM s), CAST(a AS t),
 * CONVERT(a USING cs), POSITION(a IN b), EXTRACT(DAY FROM d). */
enum sql_sep {
	SQL_SEP_COMMA = 0,
	SQL_SEP_FROM,
	SQL_SEP_FOR,
	SQL_SEP_IN,
	SQL_SEP_USING,
	SQL_SEP_AS,
	SQL_SEP_SPACE,
};

/* flags */
#define SQL_EF_NOT       0x01   /* IS, IN, BETWEEN, LIKE: the NOT form */
#define SQL_EF_DISTINCT  0x02   /* FUNC: f(DISTINCT ...) */
#define SQL_EF_ALL       0x04   /* QUANT: ALL (else ANY, SOME) */
#define SQL_EF_NEG       0x08   /* LITERAL INT, DECIMAL, FLOAT: a '-' */
#define SQL_EF_NATIONAL  0x10   /* LITERAL STRING: N'..' */
#define SQL_EF_QUOTED    0x20   /* KEYWORD, FUNC: the name was written in
				 * quotes (`f`(x) calls a stored function,
				 * as db.f(x) does, which never has it;
				 * USING 'utf8mb4' is a quoted KEYWORD) */
#define SQL_EF_BOUND     0x40   /* LITERAL: a ? marker read as the value
				 * an execution binds (sql_parse.h) */

struct sql_query;
struct sql_order;

struct sql_expr {
	uint8_t kind;           /* enum sql_expr_kind */
	uint8_t op;             /* enum sql_op, enum sql_scope, lit kind */
	uint8_t sep;            /* enum sql_sep, in a function's args */
	uint8_t flags;          /* SQL_EF_* */
	uint32_t pos;           /* offset of its first token in the text */
	struct sql_expr *next;  /* the next one in its list */
	struct sql_expr *left, *right;
	struct sql_expr *args;  /* a list */
	struct sql_query *query;
	union {
		struct {                /* COLUMN, STAR */
			struct sql_str schema, table, column;
		};
		struct {                /* LITERAL (op: enum sql_lit_kind) */
			struct sql_str text;
			struct sql_str charset;
		};
		struct {                /* FUNC */
			struct sql_str fschema;     /* stored function db.f */
			struct sql_str fname;       /* as written */
			struct sql_order *forder;   /* GROUP_CONCAT(a ORDER BY b) */
			struct sql_expr *separator; /* ... SEPARATOR s */
		};
		struct {                /* TYPE: CHAR(10) CHARACTER SET x */
			struct sql_str tname;       /* upper case: CHAR, SIGNED */
			struct sql_str tlen;        /* digits, or empty */
			struct sql_str tscale;      /* digits, or empty */
			struct sql_str tcharset;    /* a name, ASCII, UNICODE,
						     * BINARY, or empty */
		};
		/* USERVAR, SYSVAR, ASSIGN: the variable; INTERVAL: the unit;
		 * COLLATE: the collation; KEYWORD: the word */
		struct sql_str name;
		uint32_t param;         /* PARAM */
	};
};

/* ---- queries --------------------------------------------------------- */

struct sql_order {              /* ORDER BY, GROUP BY items */
	struct sql_expr *expr;
	bool desc;
	struct sql_order *next;
};

struct sql_name {               /* a list of names: (a, b) */
	struct sql_str name;
	struct sql_name *next;
};

struct sql_item {               /* a select list entry */
	struct sql_expr *expr;
	struct sql_str alias;   /* empty when none */
	/* [start, end) of the parsed text: the server names an unaliased
	 * column after its text as written */
	uint32_t start, end;
	struct sql_item *next;
};

enum sql_index_hint_kind {
	SQL_HINT_USE = 1,
	SQL_HINT_FORCE,
	SQL_HINT_IGNORE,
};

enum sql_hint_scope {
	SQL_HINT_ANY = 0,
	SQL_HINT_JOIN,          /* FOR JOIN */
	SQL_HINT_ORDER_BY,      /* FOR ORDER BY */
	SQL_HINT_GROUP_BY,      /* FOR GROUP BY */
};

struct sql_index_hint {         /* USE INDEX FOR JOIN (a, b) */
	uint8_t kind;           /* enum sql_index_hint_kind */
	uint8_t scope;          /* enum sql_hint_scope */
	struct sql_name *names; /* may be empty: USE INDEX () */
	struct sql_index_hint *next;
};

enum sql_from_kind {
	SQL_FROM_TABLE = 1,     /* [schema.]name [AS alias] [hints] */
	SQL_FROM_DERIVED,       /* (query) AS alias [(columns)] */
	SQL_FROM_JOIN,          /* left join right [ON on | USING (using)] */
	SQL_FROM_NEST,          /* (list, of, references) */
};

enum sql_join_kind {
	SQL_JOIN_INNER = 1,     /* JOIN, INNER JOIN, CROSS JOIN */
	SQL_JOIN_LEFT,
	SQL_JOIN_RIGHT,
	SQL_JOIN_STRAIGHT,      /* STRAIGHT_JOIN */
};

struct sql_from {
	uint8_t kind;           /* enum sql_from_kind */
	uint8_t join;           /* enum sql_join_kind */
	bool natural;           /* NATURAL [LEFT | RIGHT] JOIN */
	bool star;              /* multi-table DELETE target written t.* */
	uint32_t pos;
	struct sql_from *next;  /* the next one of a comma list */
	/* TABLE */
	struct sql_str schema, name;
	struct sql_index_hint *hints;
	/* TABLE, DERIVED */
	struct sql_str alias;
	/* DERIVED */
	struct sql_query *query;
	struct sql_name *columns;
	/* JOIN */
	struct sql_from *left, *right;
	struct sql_expr *on;
	struct sql_name *using_cols;
	/* NEST */
	struct sql_from *list;
};

struct sql_cte {
	struct sql_str name;
	struct sql_name *columns;
	struct sql_query *query;
	struct sql_cte *next;
};

enum sql_query_kind {
	SQL_Q_SELECT = 1,
	SQL_Q_UNION,            /* left UNION [ALL] right */
	SQL_Q_EXCEPT,
	SQL_Q_INTERSECT,
	SQL_Q_PAREN,            /* (left) with ORDER BY / LIMIT / locking /
			         * WITH of its own on top of left's */
};

/* SELECT options */
#define SQL_SEL_DISTINCT            0x001
#define SQL_SEL_HIGH_PRIORITY       0x002
#define SQL_SEL_STRAIGHT_JOIN       0x004
#define SQL_SEL_SMALL_RESULT        0x008
#define SQL_SEL_BIG_RESULT          0x010
#define SQL_SEL_BUFFER_RESULT       0x020
#define SQL_SEL_CACHE               0x040
#define SQL_SEL_NO_CACHE            0x080
#define SQL_SEL_CALC_FOUND_ROWS     0x100

enum sql_lock {
	SQL_LOCK_NONE = 0,
	SQL_LOCK_UPDATE,        /* FOR UPDATE */
	SQL_LOCK_SHARE,         /* FOR SHARE (MySQL 8) */
	SQL_LOCK_SHARE_MODE,    /* LOCK IN SHARE MODE */
};

enum sql_lock_wait {
	SQL_WAIT_DEFAULT = 0,
	SQL_WAIT_NOWAIT,
	SQL_WAIT_SKIP_LOCKED,
	SQL_WAIT_SECONDS,       /* WAIT n: lock_wait_secs */
};

struct sql_query {
	uint8_t kind;           /* enum sql_query_kind */
	bool all;               /* set operations: UNION ALL */
	bool recursive;         /* WITH RECURSIVE */
	uint8_t lock;           /* enum sql_lock */
	uint8_t lock_wait;      /* enum sql_lock_wait */
	uint16_t options;       /* SELECT: SQL_SEL_* */
	bool from_dual;         /* SELECT: FROM DUAL */
	uint32_t pos;
	struct sql_cte *with;   /* WITH ctes before it */
	/* SELECT */
	struct sql_item *items;
	struct sql_from *from;  /* a comma list; NULL without FROM */
	struct sql_expr *where;
	struct sql_order *group;
	struct sql_expr *having;
	/* set operations: left, right; PAREN: left */
	struct sql_query *left, *right;
	/* every kind */
	struct sql_order *order;
	struct sql_expr *limit;         /* NULL: none */
	struct sql_expr *offset;        /* NULL: none */
	struct sql_expr *lock_wait_secs;
};

/* ---- statements ------------------------------------------------------ */

struct sql_assign {             /* col = value (UPDATE, INSERT ... SET, ON
				 * DUPLICATE KEY UPDATE) */
	struct sql_expr *column;        /* a SQL_E_COLUMN */
	struct sql_expr *value;
	struct sql_assign *next;
};

#define SQL_INS_REPLACE         0x01
#define SQL_INS_IGNORE          0x02
#define SQL_INS_LOW_PRIORITY    0x04
#define SQL_INS_DELAYED         0x08
#define SQL_INS_HIGH_PRIORITY   0x10

struct sql_insert {
	uint8_t flags;          /* SQL_INS_* */
	struct sql_str schema, table;
	struct sql_name *columns;       /* (a, b), or NULL */
	/* one of: */
	struct sql_expr *rows;          /* VALUES: SQL_E_ROW each */
	struct sql_assign *set;         /* SET a = 1, ... */
	struct sql_query *query;        /* SELECT ... */
	struct sql_assign *update;      /* ON DUPLICATE KEY UPDATE */
};

/* UPDATE, DELETE flags */
#define SQL_DML_LOW_PRIORITY    0x01
#define SQL_DML_IGNORE          0x02
#define SQL_DML_QUICK           0x04    /* DELETE QUICK */

struct sql_update {
	uint8_t flags;
	bool multi;             /* more than one table, or a join */
	struct sql_from *tables;
	struct sql_assign *set;
	struct sql_expr *where;
	struct sql_order *order;
	struct sql_expr *limit;
};

enum sql_delete_form {
	SQL_DELETE_SINGLE = 1,  /* DELETE FROM t WHERE ... */
	SQL_DELETE_MULTI,       /* DELETE t1, t2 FROM tables WHERE ... */
	SQL_DELETE_USING,       /* DELETE FROM t1, t2 USING tables WHERE ... */
};

struct sql_delete {
	uint8_t flags;
	uint8_t form;           /* enum sql_delete_form */
	struct sql_from *targets;       /* MULTI, USING: SQL_FROM_TABLE each */
	struct sql_from *tables;        /* SINGLE: the table */
	struct sql_expr *where;
	struct sql_order *order;
	struct sql_expr *limit;
};

enum sql_set_kind {
	SQL_SET_USER = 1,       /* @name = value */
	SQL_SET_SYSVAR,         /* [scope] name = value */
	SQL_SET_NAMES,          /* NAMES name [COLLATE collation] | DEFAULT */
	SQL_SET_CHARSET,        /* CHARACTER SET name | DEFAULT */
	SQL_SET_TRANSACTION,    /* [scope] TRANSACTION isolation, access */
};

enum sql_isolation {
	SQL_ISO_NONE = 0,
	SQL_ISO_READ_UNCOMMITTED,
	SQL_ISO_READ_COMMITTED,
	SQL_ISO_REPEATABLE_READ,
	SQL_ISO_SERIALIZABLE,
};

enum sql_access {
	SQL_ACCESS_NONE = 0,
	SQL_ACCESS_READ_WRITE,
	SQL_ACCESS_READ_ONLY,
};

struct sql_set_item {
	uint8_t kind;           /* enum sql_set_kind */
	uint8_t scope;          /* enum sql_scope: SYSVAR, TRANSACTION */
	uint8_t isolation;      /* TRANSACTION: enum sql_isolation */
	uint8_t access;         /* TRANSACTION: enum sql_access */
	bool is_default;        /* NAMES DEFAULT, CHARACTER SET DEFAULT */
	/* SYSVAR: written @@[scope.]name rather than [scope] name.  The
	 * difference matters: MariaDB carries a GLOBAL or SESSION keyword
	 * over to the items after it that have none, "@@" never. */
	bool at_form;
	struct sql_str name;    /* USER, SYSVAR: the variable; NAMES,
				 * CHARSET: the character set */
	struct sql_str collation;       /* NAMES ... COLLATE */
	struct sql_expr *value; /* USER, SYSVAR */
	struct sql_set_item *next;
};

/* BEGIN, COMMIT, ROLLBACK flags */
#define SQL_TXN_CONSISTENT_SNAPSHOT 0x01  /* START TRANSACTION WITH ... */
#define SQL_TXN_READ_ONLY           0x02
#define SQL_TXN_READ_WRITE          0x04
#define SQL_TXN_CHAIN               0x08  /* AND CHAIN */
#define SQL_TXN_NO_CHAIN            0x10  /* AND NO CHAIN */
#define SQL_TXN_RELEASE             0x20  /* RELEASE */
#define SQL_TXN_NO_RELEASE          0x40  /* NO RELEASE */

enum sql_stmt_kind {
	SQL_ST_SELECT = 1,      /* query (also WITH ... and (SELECT ...)) */
	SQL_ST_INSERT,          /* INSERT, REPLACE: insert */
	SQL_ST_UPDATE,
	SQL_ST_DELETE,
	SQL_ST_SET,             /* set: the items */
	SQL_ST_USE,             /* name */
	SQL_ST_BEGIN,           /* BEGIN [WORK], START TRANSACTION: txn */
	SQL_ST_COMMIT,          /* txn */
	SQL_ST_ROLLBACK,        /* txn */
	SQL_ST_SAVEPOINT,       /* name */
	SQL_ST_ROLLBACK_TO,     /* ROLLBACK [WORK] TO [SAVEPOINT] name */
	SQL_ST_RELEASE,         /* RELEASE SAVEPOINT name */
	SQL_ST_SHOW,            /* SHOW word rest: word upper case, rest the
				 * text after it as written (comments and
				 * all); text: the whole statement */
	SQL_ST_EXPLAIN,         /* EXPLAIN [SHARDS] explained */
	SQL_ST_OTHER,           /* anything else: word is its first word in
				 * upper case; text: the statement as written */
};

struct sql_statement {
	uint8_t kind;           /* enum sql_stmt_kind */
	uint8_t txn;            /* SQL_TXN_* */
	bool shards;            /* EXPLAIN SHARDS */
	uint32_t pos, end;      /* its text: [pos, end) of the input */
	struct sql_query *query;
	struct sql_insert *insert;
	struct sql_update *update;
	struct sql_delete *del;
	struct sql_set_item *set;
	struct sql_statement *explained;
	struct sql_str name;    /* USE, SAVEPOINT, ROLLBACK_TO, RELEASE */
	struct sql_str word;    /* SHOW, OTHER */
	struct sql_str rest;    /* SHOW */
	/* SHOW, OTHER: the statement as written, from its first token (or
	 * the executable comment holding it) to its ';' or the end of the
	 * text, white space before that trimmed; comments kept */
	struct sql_str text;
};

/* ---- helpers --------------------------------------------------------- */

/* The tree as an S-expression, e.g. for
 * "SELECT c FROM t WHERE id = ?":
 *   (select (items c) (from t) (where (= id ?0)))
 * Tests compare trees by it; every field the printer writes is in it. */
void sql_dump(struct sql_buf *out, const struct sql_statement *st);
void sql_dump_expr(struct sql_buf *out, const struct sql_expr *e);

/* Items of a list. */
unsigned sql_expr_count(const struct sql_expr *list);

#endif
