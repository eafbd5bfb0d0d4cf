/*
 * sql_parse.h - a recursive-descent parser for the statements applications
 * send to MySQL and MariaDB (SELECT, INSERT, REPLACE, UPDATE, DELETE, and
 * the session statements), into the tree of sql_ast.h.
 *
 *	struct sql_arena arena;     // one per worker, reused
 *	struct sql_tree tree;
 *	sql_arena_init(&arena, 0);
 *	if (sql_parse(&arena, sql, len, &opts, &tree))
 *		... tree.err: what, where ...
 *	else
 *		... tree.stmt ...
 *	sql_arena_reset(&arena);    // the tree is gone
 *
 * The text is read the way the server reads it under the given reading
 * (sql_scan.h): its escapes (NO_BACKSLASH_ESCAPES, ANSI_QUOTES), its
 * character set, and which executable comments (/ *! ... * /, / *M! ... * /)
 * are code for its server and version.  Other comments, optimizer hints
 * included, are skipped.
 *
 * Any input is accepted: the result is a tree or an error, nothing is
 * read outside [sql, sql + len), recursion is bounded (SQL_PARSE_MAX_DEPTH
 * levels of nesting), and so is memory (the arena's limit).  Time is
 * linear in the text: where "(" could open a query or an expression the
 * parser tries the query first and reads the tokens again if it was not
 * one, at most SQL_PARSE_MAX_REREAD times the text's tokens in all.
 */
#ifndef MYRING_SQL_PARSE_H
#define MYRING_SQL_PARSE_H

#include "sql_ast.h"
#include "sql_scan.h"

/* Nesting of subqueries, operators, function calls and joins (each
 * step of a chain a + b + c ... counts), and apart from it of
 * parentheses: deeper is SQL_PARSE_TOO_DEEP.  Printing a tree that
 * nests at most half as deep gives text that parses again. */
#define SQL_PARSE_MAX_DEPTH 200

/* Where "(" could open a query or an expression, the parser tries the
 * query first and reads the tokens again if it was not one: over this
 * many times the statement's tokens read again is SQL_PARSE_TOO_DEEP
 * (only nested ((SELECT ...) + 1) come near it). */
#define SQL_PARSE_MAX_REREAD 16

/* sql_parse_opts.flags: the sql_mode flags that change the grammar */
#define SQL_PARSE_PIPES_AS_CONCAT     0x01  /* || is CONCAT, not OR */
#define SQL_PARSE_HIGH_NOT_PRECEDENCE 0x02  /* NOT a = b is (NOT a) = b */
/* Stop after the first statement and its ';': tree.end says where the
 * next one starts.  Without it, a second statement is an error. */
#define SQL_PARSE_MULTI               0x04

/*
 * A value an execution of a prepared statement binds to a ? marker: the
 * parser reads the marker as this literal (SQL_EF_BOUND set), so that the
 * tree is the one the statement's text with the value written in would
 * give.  lit 0 leaves the marker a PARAM.  Markers where a literal reads
 * differently from a value stay PARAMs: a bare `?` as an ORDER BY or
 * GROUP BY item (a number there is a column position), and anything but
 * an integer in LIMIT and OFFSET.
 */
struct sql_bind {
	uint8_t lit;                    /* enum sql_lit_kind, or 0 */
	uint8_t flags;                  /* SQL_EF_NEG */
	struct sql_str text;            /* as sql_expr.text (no sign) */
	struct sql_str charset;         /* an introducer ("binary"), or none */
};

struct sql_parse_opts {
	const struct sql_reading *rd;   /* NULL: default sql_mode, a one-byte
					 * or UTF-8 charset, every
					 * executable comment is code */
	unsigned flags;
	unsigned max_depth;             /* 0, or a lower limit than
					 * SQL_PARSE_MAX_DEPTH */
	/* the values of the ? markers, bind[i] for the i-th; NULL: none */
	const struct sql_bind *bind;
	unsigned nbind;
};

enum sql_parse_code {
	SQL_PARSE_OK = 0,
	SQL_PARSE_SYNTAX,       /* not MySQL, or not what this parser reads */
	SQL_PARSE_UNSUPPORTED,  /* MySQL, but not for myring: construct */
	SQL_PARSE_TOO_DEEP,     /* nested deeper than SQL_PARSE_MAX_DEPTH,
				 * or read again too often */
	SQL_PARSE_NOMEM,        /* out of memory or over the arena's limit */
};

struct sql_parse_error {
	int code;               /* enum sql_parse_code */
	uint32_t pos;           /* offset in the text of the token at fault */
	/* UNSUPPORTED: the construct, e.g. "GROUP BY ... WITH ROLLUP";
	 * SYNTAX: what was expected, e.g. "an expression" (static text) */
	const char *what;
	/* the text from pos on, at most 40 bytes of it */
	struct sql_str near;
};

struct sql_tree {
	struct sql_statement *stmt;     /* NULL on error */
	unsigned nparams;               /* ? markers */
	unsigned nkept;                 /* of them, left PARAMs although
					 * opts->bind gave values (all of
					 * them without) */
	size_t end;                     /* where parsing stopped: past the
					 * statement and its ';' */
	struct sql_parse_error err;
};

/* Parses one statement of [sql, sql + len) into a tree in arena a (which
 * it does not reset).  Returns SQL_PARSE_OK or the error's code; the
 * error is in tree->err either way (code OK when there is none). */
int sql_parse(struct sql_arena *a, const char *sql, size_t len,
	      const struct sql_parse_opts *opts, struct sql_tree *tree);

/* The name is a keyword of MySQL or MariaDB (any case): the printer
 * quotes such names. */
bool sql_is_keyword(const char *s, size_t len);

/* The error as one line: "syntax error at 14 near 'FROM x': expected an
 * expression", "not supported at 40: GROUP BY ... WITH ROLLUP".  Returns
 * what snprintf returns. */
int sql_parse_strerror(const struct sql_parse_error *err, char *buf,
		       size_t cap);

#endif
