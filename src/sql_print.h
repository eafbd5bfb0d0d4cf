/*
 * sql_print.h - a syntax tree (sql_ast.h) back to SQL text.
 *
 * The shard planner parses a statement, changes the tree (an IN-list
 * cut to one shard's keys, LIMIT o + n, AVG split into SUM and COUNT) and
 * prints what each shard is sent.  The text is canonical: keywords in
 * upper case, one space between tokens, names in back quotes unless they
 * are plain and no keyword, parentheses only where precedence needs them
 * (and around the operand of NOT, which HIGH_NOT_PRECEDENCE reads
 * differently), never "..", ||, && or !.  Parsing it gives the same tree
 * again, and printing that the same text.
 *
 * Literals print exactly.  A string prints in single quotes with a
 * quote doubled; a backslash is the one byte whose reading depends on
 * sql_mode (NO_BACKSLASH_ESCAPES) and, as the trail byte of a gbk, big5
 * or sjis character, on the client's character set:
 *  - with opts->rd, the text is written for that reading;
 *  - without, "\%" and "\_" (which every mode reads as written) print as
 *    they are, and any other backslash makes the result
 *    SQL_PRINT_INEXACT (written for the default sql_mode): the caller
 *    must then pass the session's reading or not send the text.
 * Numbers, X'..', 0x.., B'..' print as written.  Names in back quotes are
 * the same under ANSI_QUOTES and in any character set, but for one that
 * ends in a lone lead byte of gbk, big5 or sjis, which would take the
 * closing '`' for its trail byte: not a valid name in such a character
 * set, it makes the result INEXACT for such a reading (and for any
 * reading, as does a lead byte right before a '`').
 *
 * Pure; allocates only the output buffer.  Recursion is as deep as the
 * tree, which the parser bounds (SQL_PARSE_MAX_DEPTH); a tree built by
 * other code that nests deeper than SQL_PRINT_MAX_DEPTH nodes is
 * SQL_PRINT_TOO_DEEP (the text then is incomplete: do not send it).
 */
#ifndef MYRING_SQL_PRINT_H
#define MYRING_SQL_PRINT_H

#include "sql_ast.h"
#include "sql_scan.h"

/*
 * SQL_PRINT_KEEP_NAMES: a select item with no alias that is not a column
 * or a literal gets one: its text as written in opts->sql (what MySQL
 * names the result column), where the printed text differs from it
 * ("SELECT count(*)" is sent as "SELECT count(*)", "SELECT a+1" as
 * "SELECT a + 1 AS `a+1`"), so that clients see the column names they
 * would have seen.  Texts longer than 256 bytes get none.
 */
#define SQL_PRINT_KEEP_NAMES 0x01

struct sql_print_opts {
	const struct sql_reading *rd;   /* NULL: any reading (see above) */
	const char *sql;                /* the parsed text (KEEP_NAMES) */
	unsigned flags;
};

enum {
	SQL_PRINT_OK = 0,
	SQL_PRINT_INEXACT = 1,  /* a literal or name reads differently under
				 * some sql_mode or character set */
	SQL_PRINT_NOMEM = -1,   /* out->oom */
	SQL_PRINT_TOO_DEEP = -2,
};

/* Nodes inside nodes the printer follows: well over what the parser
 * makes (SQL_PARSE_MAX_DEPTH), well under what the stack holds. */
#define SQL_PRINT_MAX_DEPTH 1000

/* Append the statement's text to out (opts may be NULL).  Returns
 * SQL_PRINT_OK, _INEXACT, _NOMEM or _TOO_DEEP. */
int sql_print(struct sql_buf *out, const struct sql_statement *st,
	      const struct sql_print_opts *opts);
int sql_print_query(struct sql_buf *out, const struct sql_query *q,
		    const struct sql_print_opts *opts);
int sql_print_expr(struct sql_buf *out, const struct sql_expr *e,
		   const struct sql_print_opts *opts);

#endif
