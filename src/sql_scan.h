/*
 * sql_scan.h - where MySQL's lexer puts comments, quoted text and the ends
 * of statements.
 *
 * Two users: the digest normaliser (digest.c) takes the lexical facts
 * (what opens and closes a comment, where a quoted string ends), and the
 * rule matcher takes sql_split(), which cuts the SQL of a COM_QUERY or
 * COM_STMT_PREPARE into statements with comments removed, i.e. the text
 * the server will execute.
 *
 * How the server reads a given text depends on things a proxy cannot
 * know for certain, and a client can change two of them within the very
 * command being checked ("SET sql_mode=...; ..."):
 *  - sql_mode NO_BACKSLASH_ESCAPES ('\' is an ordinary character in
 *    strings) and ANSI_QUOTES ("..." quotes a name, where '\' is ordinary);
 *  - the client character set: in big5, cp932, gbk, gb18030 and sjis the
 *    second byte of a character can be 0x5C ('\') or 0x60 ('`');
 *  - the server's flavour and version, which decide whether a
 *    version-conditional comment (/ *!50700 ... * /, / *M!100100 ... * /)
 *    is code or a comment.
 * Each combination is a *reading*.  sql_split() reads the text the default
 * way (the primary reading: default sql_mode, a single-byte or UTF-8
 * character set, every executable comment is code) and then every other
 * way that can differ for this text, and returns the statements of all
 * readings: a check that must see every statement the server could run
 * looks at them all.  A text with no backslash in a string, no '\' or '`'
 * right after a byte >= 0x81 and no version-conditional comment has one
 * reading, and when it has no comment either nothing is copied.
 *
 * No I/O; any input is accepted; nothing is read outside [sql, sql + len).
 */
#ifndef MYRING_SQL_SCAN_H
#define MYRING_SQL_SCAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- lexical facts ------------------------------------------------- */

/* White space as the lexer skips it, plus the control bytes it rejects
 * anyway: 0x00-0x20 and 0x7f. */
static inline bool sql_is_space(unsigned char c)
{
	return c <= 0x20 || c == 0x7f;
}

/* p is just after "#" or "-- ": past the '\n' ending the comment, or end. */
const unsigned char *sql_line_end(const unsigned char *p,
				  const unsigned char *end);
/* "--" at p starts a comment: it is followed by white space, a control
 * byte or the end of the text ("1--1" is 1 - -1). */
bool sql_is_dash_comment(const unsigned char *p, const unsigned char *end);
/* p is just after "/ *": past the first "* /", or end (unterminated). */
const unsigned char *sql_comment_end(const unsigned char *p,
				     const unsigned char *end);
/* p is at an opening quote (' " `): past the closing one, or end.
 * Doubled quotes stand for one; with backslash, '\' escapes the next byte
 * (pass false for `names`). */
const unsigned char *sql_quoted_end(const unsigned char *p,
				    const unsigned char *end, bool backslash);

enum sql_open_kind {
	SQL_OPEN_COMMENT,   /* / * ... * / */
	SQL_OPEN_HINT,      /* / *+ ... * /: an optimizer hint */
	SQL_OPEN_EXEC,      /* / *! or / *M!: an executable comment */
};

struct sql_opener {
	enum sql_open_kind kind;
	const unsigned char *body;  /* EXEC: where its code starts */
	bool mariadb;               /* "/ *M!" (MariaDB only) */
	uint8_t digits;             /* version digits: 0, 5 or 6 */
	uint32_t version;           /* 0 when none: 50700, 100100, ... */
};

/*
 * p is at "/ *".  An executable comment's version is 5 or 6 digits right
 * after the '!' (MariaDB; MySQL reads 5, the sixth is then code); with
 * fewer the digits are code ("/ *!1 * /" is "1").
 */
void sql_open_comment(const unsigned char *p, const unsigned char *end,
		      struct sql_opener *o);

/* ---- readings ------------------------------------------------------ */

enum sql_escapes {
	SQL_ESC_ALL,        /* default sql_mode: '\' escapes in '..' and ".." */
	SQL_ESC_SINGLE,     /* ANSI_QUOTES: ".." quotes a name, '\' escapes in
			     * '..' only */
	SQL_ESC_NONE,       /* NO_BACKSLASH_ESCAPES */
};

enum sql_charset {
	SQL_CS_BYTE,        /* latin1, utf8mb4, ...: no ASCII byte inside a
			     * multi-byte character */
	SQL_CS_GBK,         /* gbk, gb18030 */
	SQL_CS_BIG5,
	SQL_CS_SJIS,        /* sjis, cp932 */
};

enum sql_server {
	SQL_SERVER_ANY,     /* every executable comment is code */
	SQL_SERVER_MARIADB, /* MariaDB of `version` */
	SQL_SERVER_MYSQL,   /* MySQL of `version` */
};

struct sql_reading {
	uint8_t escapes;    /* enum sql_escapes */
	uint8_t charset;    /* enum sql_charset */
	uint8_t server;     /* enum sql_server */
	uint32_t version;   /* MARIADB, MYSQL: e.g. 101106 for 10.11.6 */
};

/* Bytes of the character at p (p < end) in character set cs: 2 for a lead
 * byte followed by a valid trail byte of gbk, big5 or sjis, else 1. */
unsigned sql_char_len(uint8_t cs, const unsigned char *p,
		      const unsigned char *end);
enum sql_number {
	SQL_NUM_INT,        /* 123 */
	SQL_NUM_DECIMAL,    /* 1.5, 1. */
	SQL_NUM_FLOAT,      /* 1e3, 1.5E-2 */
	SQL_NUM_HEX,        /* 0x1f */
	SQL_NUM_BIT,        /* 0b101 */
};

/* p is at a digit (or the digit after a '.'): past the number the server
 * reads there, with its kind.  A word byte right after it makes the whole
 * a name ("1abc", "0x1g"): the caller's lexer, which knows the character
 * set, finds that name's end. */
const unsigned char *sql_number_end(const unsigned char *p,
				    const unsigned char *end,
				    enum sql_number *kind);
/* p is at an opening quote (' " `): past the closing one as reading rd
 * reads it (its escapes and character set), or end. */
const unsigned char *sql_quoted_end_as(const unsigned char *p,
				       const unsigned char *end,
				       const struct sql_reading *rd);
/* p is at "/ *" (any comment): where reading rd goes on reading.  *code
 * is set when it is an executable comment that is code for rd's server
 * and version; the return is then where its code starts, and the first
 * "* /" after it ends it.  Otherwise the comment is skipped: the return
 * is past its end (an executable comment that is not code may hold one
 * nested "/ * * /", as the server allows). */
const unsigned char *sql_comment_as(const unsigned char *p,
				    const unsigned char *end,
				    const struct sql_reading *rd, bool *code);

/* ---- statements ---------------------------------------------------- */

/* More distinct version-conditional comment versions than this, more
 * readings than SQL_MAX_READINGS, or readings so different that their
 * statements take more than SQL_MAX_COPIES times the input's size (plus
 * 64 KiB), and sql_split() gives up. */
#define SQL_MAX_CLASSES 16
#define SQL_MAX_READINGS 64
#define SQL_MAX_COPIES 4

enum {
	SQL_SPLIT_OK = 0,
	SQL_SPLIT_NOMEM = -1,
	SQL_SPLIT_AMBIGUOUS = -2,   /* too many ways to read it */
};

struct sql_stmt {
	/* Comments replaced by one space each, executable comments' markers
	 * too (their code is kept), white space at both ends trimmed.  Not
	 * NUL-terminated; points into the input or into the split's buffer. */
	const char *text;
	size_t len;
	/* The input bytes it came from: after the ';' before it (or the
	 * start) up to the ';' after it (or the end), that ';' excluded. */
	size_t raw_start, raw_end;
	/* private */
	size_t off_;
	unsigned pos_;      /* position among its reading's statements */
	bool in_buf_;
};

struct sql_vclass {         /* a kind of version-conditional comment */
	uint32_t version;
	uint32_t version5;  /* the version MySQL reads: first 5 digits */
	bool mariadb;
};

struct sql_split {
	/* The statements, empty ones left out.  The primary reading's come
	 * first, in order: [0, nprimary); there is always at least one,
	 * maybe empty.  Then each other reading's, in order, except those
	 * that an earlier reading has at the same position. */
	struct sql_stmt *stmts;
	unsigned n;
	unsigned nprimary;
	unsigned readings;  /* readings that were scanned */
	bool multi;         /* some reading has more than one statement */
	bool stripped;      /* some reading removed a comment */
	/* private: scratch reused from call to call */
	unsigned cap;
	char *buf;
	size_t buf_len, buf_cap;
	unsigned flags;
	struct sql_vclass classes[SQL_MAX_CLASSES];
	unsigned nclasses;
	unsigned first[SQL_MAX_READINGS];   /* each reading's first statement */
};

void sql_split_init(struct sql_split *sp);
void sql_split_free(struct sql_split *sp);
/* Frees the scratch if it grew beyond keep bytes (after a big command);
 * the statements of the last split are gone then. */
void sql_split_shrink(struct sql_split *sp, size_t keep);

/* Every reading that can differ for this text (see the top).  Returns
 * SQL_SPLIT_OK, or NOMEM / AMBIGUOUS with sp->n == 0. */
int sql_split(struct sql_split *sp, const char *sql, size_t len);

/* One reading only, as the primary (tests, fuzzing). */
int sql_split_reading(struct sql_split *sp, const char *sql, size_t len,
		      const struct sql_reading *rd);

#endif
