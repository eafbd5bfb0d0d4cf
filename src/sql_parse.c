/*
 * sql_parse.c - a recursive-descent parser for MySQL's and MariaDB's DML
 * (see sql_parse.h).
 *
 * Two passes over one statement: the lexer cuts the text into tokens up
 * to the ';' that ends it (skipping comments, opening executable comments
 * as the reading says), then the grammar walks the tokens.  Having them
 * all makes the few places where MySQL's LALR grammar looks further ahead
 * than one token cheap: "(" may open a subquery, a parenthesized
 * expression, a derived table or a nested join, and the parser tries the
 * query reading first and backs up when it does not fit.
 *
 * The grammar follows MariaDB 10.11's and MySQL 8's sql_yacc.yy where
 * they agree; where they differ it accepts both and the printer writes
 * what both read the same way.  Operator precedence, loosest first:
 *
 *	:=
 *	OR, || (without PIPES_AS_CONCAT)
 *	XOR
 *	AND, &&
 *	NOT                          (with HIGH_NOT_PRECEDENCE: as !)
 *	IS [NOT] TRUE | FALSE | UNKNOWN
 *	= <=> <> != < <= > >=, IS [NOT] NULL, comparisons with ANY / ALL
 *	[NOT] IN, [NOT] BETWEEN, [NOT] LIKE, [NOT] REGEXP, SOUNDS LIKE
 *	|
 *	&
 *	<< >>
 *	+ -
 *	* / DIV % MOD
 *	^
 *	|| (with PIPES_AS_CONCAT)
 *	- + ~ ! BINARY (prefix)
 *	COLLATE
 *
 * Comparisons are "bool_pri comp_op predicate": IN, BETWEEN and LIKE bind
 * tighter than =, and a = b IN (1) is a = (b IN (1)), as in the server.
 */
#include "sql_parse.h"

#include <pthread.h>
#include <stdio.h>
#include <string.h>

/* ---- keywords -------------------------------------------------------- */

/*
 * Every word either server reserves, and the non-reserved ones the
 * grammar looks for.  R: reserved here, so never a bare name or alias.
 * That is MariaDB's list plus OVER, WINDOW and RECURSIVE; MySQL 8's extra
 * reserved words (RANK, ROWS, ...) stay usable as names, as MariaDB
 * allows, but are keywords all the same so that the printer quotes them.
 */
#define R 1
#define N 0
#define KEYWORDS(X) \
	X(ACCESSIBLE, R) X(ADD, R) X(AGAINST, N) X(ALL, R) X(ALTER, R) \
	X(ANALYZE, R) X(AND, R) X(ANY, N) X(ARRAY, N) X(AS, R) X(ASC, R) \
	X(ASCII, N) X(ASENSITIVE, R) X(BEFORE, R) X(BEGIN, N) \
	X(BETWEEN, R) X(BIGINT, R) X(BINARY, R) X(BLOB, R) X(BOOLEAN, N) \
	X(BOTH, R) X(BY, R) X(CALL, R) X(CASCADE, R) X(CASE, R) X(CAST, N) \
	X(CHAIN, N) X(CHANGE, R) X(CHAR, R) X(CHARACTER, R) X(CHARSET, N) \
	X(CHECK, R) X(COLLATE, R) X(COLUMN, R) X(COMMIT, N) \
	X(COMMITTED, N) X(CONDITION, R) X(CONSISTENT, N) \
	X(CONSTRAINT, R) X(CONTINUE, R) X(CONVERT, R) X(CREATE, R) \
	X(CROSS, R) X(CUBE, N) X(CUME_DIST, N) X(CURRENT_DATE, R) \
	X(CURRENT_ROLE, R) X(CURRENT_TIME, R) X(CURRENT_TIMESTAMP, R) \
	X(CURRENT_USER, R) X(CURSOR, R) X(DATABASE, R) X(DATABASES, R) \
	X(DATE, N) X(DATETIME, N) X(DAY, N) X(DAY_HOUR, R) \
	X(DAY_MICROSECOND, R) X(DAY_MINUTE, R) X(DAY_SECOND, R) X(DEC, R) \
	X(DECIMAL, R) X(DECLARE, R) X(DEFAULT, R) X(DELAYED, R) \
	X(DELETE, R) X(DELETE_DOMAIN_ID, R) X(DENSE_RANK, N) X(DESC, R) \
	X(DESCRIBE, R) X(DETERMINISTIC, R) X(DISTINCT, R) \
	X(DISTINCTROW, R) X(DIV, R) X(DO_DOMAIN_IDS, R) X(DOUBLE, R) \
	X(DROP, R) X(DUAL, R) X(DUPLICATE, N) X(EACH, R) X(ELSE, R) \
	X(ELSEIF, R) X(EMPTY, N) X(ENCLOSED, R) X(END, N) X(ESCAPE, N) \
	X(ESCAPED, R) X(EXCEPT, R) X(EXISTS, R) X(EXIT, R) X(EXPANSION, N) \
	X(EXPLAIN, R) X(FALSE, R) X(FETCH, R) X(FIRST_VALUE, N) X(FLOAT, R) \
	X(FLOAT4, R) X(FLOAT8, R) X(FOR, R) X(FORCE, R) X(FOREIGN, R) \
	X(FROM, R) X(FULLTEXT, R) X(FUNCTION, N) X(GENERAL, R) \
	X(GENERATED, N) X(GET, N) X(GLOBAL, N) X(GRANT, R) X(GROUP, R) \
	X(GROUPING, N) X(GROUPS, N) X(HAVING, R) X(HIGH_PRIORITY, R) \
	X(HOUR, N) X(HOUR_MICROSECOND, R) X(HOUR_MINUTE, R) \
	X(HOUR_SECOND, R) X(IF, R) X(IGNORE, R) X(IGNORE_DOMAIN_IDS, R) \
	X(IGNORE_SERVER_IDS, R) X(IN, R) X(INDEX, R) X(INFILE, R) \
	X(INNER, R) X(INOUT, R) X(INSENSITIVE, R) X(INSERT, R) X(INT, R) \
	X(INT1, R) X(INT2, R) X(INT3, R) X(INT4, R) X(INT8, R) \
	X(INTEGER, R) X(INTERSECT, R) X(INTERVAL, R) X(INTO, R) \
	X(IO_AFTER_GTIDS, N) X(IO_BEFORE_GTIDS, N) X(IS, R) \
	X(ISOLATION, N) X(ITERATE, R) X(JOIN, R) X(JSON, N) \
	X(JSON_TABLE, N) X(KEY, R) X(KEYS, R) X(KILL, R) X(LAG, N) \
	X(LANGUAGE, N) X(LAST_VALUE, N) X(LATERAL, N) X(LEAD, N) \
	X(LEADING, R) X(LEAVE, R) X(LEFT, R) X(LEVEL, N) X(LIKE, R) \
	X(LIMIT, R) X(LINEAR, R) X(LINES, R) X(LOAD, R) X(LOCAL, N) \
	X(LOCALTIME, R) X(LOCALTIMESTAMP, R) X(LOCK, R) X(LOCKED, N) \
	X(LONG, R) X(LONGBLOB, R) X(LONGTEXT, R) X(LOOP, R) \
	X(LOW_PRIORITY, R) X(MASTER_BIND, N) X(MASTER_HEARTBEAT_PERIOD, R) \
	X(MASTER_SSL_VERIFY_SERVER_CERT, R) X(MATCH, R) X(MAXVALUE, R) \
	X(MEDIUMBLOB, R) X(MEDIUMINT, R) X(MEDIUMTEXT, R) X(MEMBER, N) \
	X(MICROSECOND, N) X(MIDDLEINT, R) X(MINUTE, N) \
	X(MINUTE_MICROSECOND, R) X(MINUTE_SECOND, R) X(MOD, R) X(MODE, N) \
	X(MODIFIES, R) X(MONTH, N) X(NAMES, N) X(NATURAL, R) X(NCHAR, N) \
	X(NO, N) X(NO_WRITE_TO_BINLOG, R) X(NOT, R) X(NOWAIT, N) \
	X(NTH_VALUE, N) X(NTILE, N) X(NULL, R) X(NUMERIC, R) X(OF, N) \
	X(OFFSET, N) X(ON, R) X(ONLY, N) X(OPTIMIZE, R) \
	X(OPTIMIZER_COSTS, N) X(OPTION, R) X(OPTIONALLY, R) X(OR, R) \
	X(ORDER, R) X(OUT, R) X(OUTER, R) X(OUTFILE, R) X(OVER, R) \
	X(PAGE_CHECKSUM, R) X(PARSE_VCOL_EXPR, R) X(PARTITION, R) \
	X(PASSWORD, N) X(PERCENT_RANK, N) X(PRECISION, R) X(PRIMARY, R) \
	X(PROCEDURE, R) X(PURGE, R) X(QUARTER, N) X(QUERY, N) X(QUICK, N) \
	X(RANGE, R) X(RANK, N) X(READ, R) X(READ_WRITE, R) X(READS, R) \
	X(REAL, R) X(RECURSIVE, R) X(REF_SYSTEM_ID, R) X(REFERENCES, R) \
	X(REGEXP, R) X(RELEASE, R) X(RENAME, R) X(REPEAT, R) \
	X(REPEATABLE, N) X(REPLACE, R) X(REQUIRE, R) X(RESIGNAL, R) \
	X(RESOURCE, N) X(RESTRICT, R) X(RETURN, R) X(RETURNING, R) \
	X(REVOKE, R) X(RIGHT, R) X(RLIKE, R) X(ROLE, N) X(ROLLBACK, N) \
	X(ROLLUP, N) X(ROW, N) X(ROW_NUMBER, N) X(ROWS, N) \
	X(SAVEPOINT, N) X(SCHEMA, R) X(SCHEMAS, R) X(SECOND, N) \
	X(SECOND_MICROSECOND, R) X(SELECT, R) X(SENSITIVE, R) \
	X(SEPARATOR, R) X(SERIALIZABLE, N) X(SESSION, N) X(SET, R) \
	X(SHARDS, N) X(SHARE, N) X(SHOW, R) X(SIGNAL, R) X(SIGNED, N) \
	X(SKIP, N) X(SLOW, R) X(SMALLINT, R) X(SNAPSHOT, N) X(SOME, N) \
	X(SOUNDS, N) X(SPATIAL, R) X(SPECIFIC, R) X(SQL, R) \
	X(SQL_BIG_RESULT, R) X(SQL_BUFFER_RESULT, N) X(SQL_CACHE, N) \
	X(SQL_CALC_FOUND_ROWS, R) X(SQL_NO_CACHE, N) \
	X(SQL_SMALL_RESULT, R) X(SQLEXCEPTION, R) X(SQLSTATE, R) \
	X(SQLWARNING, R) X(SSL, R) X(START, N) X(STARTING, R) \
	X(STATEMENT, N) X(STATS_AUTO_RECALC, R) X(STATS_PERSISTENT, R) \
	X(STATS_SAMPLE_PAGES, R) X(STORED, N) X(STRAIGHT_JOIN, R) \
	X(SYSTEM, N) X(TABLE, R) X(TERMINATED, R) X(THEN, R) X(TIME, N) \
	X(TIMESTAMP, N) X(TINYBLOB, R) X(TINYINT, R) X(TINYTEXT, R) \
	X(TO, R) X(TRAILING, R) X(TRANSACTION, N) X(TRIGGER, R) \
	X(TRUE, R) X(UNCOMMITTED, N) X(UNDO, R) X(UNICODE, N) X(UNION, R) \
	X(UNIQUE, R) X(UNKNOWN, N) X(UNLOCK, R) X(UNSIGNED, R) \
	X(UPDATE, R) X(USAGE, R) X(USE, R) X(USING, R) X(UTC_DATE, R) \
	X(UTC_TIME, R) X(UTC_TIMESTAMP, R) X(VALUE, N) X(VALUES, R) \
	X(VARBINARY, R) X(VARCHAR, R) X(VARCHARACTER, R) X(VARYING, R) \
	X(VIRTUAL, N) X(WAIT, N) X(WEEK, N) X(WHEN, R) X(WHERE, R) \
	X(WHILE, R) X(WINDOW, R) X(WITH, R) X(WORK, N) X(WRITE, R) \
	X(XOR, R) X(YEAR, N) X(YEAR_MONTH, R) X(ZEROFILL, R)

enum kw {
	K_NONE = 0,
#define X(name, flags) K_##name,
	KEYWORDS(X)
#undef X
	K__COUNT
};

static const struct keyword {
	const char *name;
	uint8_t len;
	uint8_t reserved;
} keywords[K__COUNT] = {
	[K_NONE] = { "", 0, 0 },
#define X(name, flags) [K_##name] = { #name, sizeof(#name) - 1, flags },
	KEYWORDS(X)
#undef X
};
#undef R
#undef N

#define KW_MAX_LEN 32
#define KW_SLOTS 1024       /* a power of two, over twice the keywords */

static uint16_t kw_slots[KW_SLOTS];
static pthread_once_t kw_once = PTHREAD_ONCE_INIT;

static inline unsigned char upper(unsigned char c)
{
	return c >= 'a' && c <= 'z' ? (unsigned char)(c - 32) : c;
}

static uint32_t kw_hash(const unsigned char *up, size_t n)
{
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < n; i++)
		h = (h ^ up[i]) * 16777619u;
	return h;
}

static void kw_build(void)
{
	for (unsigned k = 1; k < K__COUNT; k++) {
		uint32_t h = kw_hash((const unsigned char *)keywords[k].name,
				     keywords[k].len);

		while (kw_slots[h & (KW_SLOTS - 1)])
			h++;
		kw_slots[h & (KW_SLOTS - 1)] = (uint16_t)k;
	}
}

/* The keyword a word spells (any case), or K_NONE. */
static unsigned kw_lookup(const unsigned char *s, size_t n)
{
	unsigned char up[KW_MAX_LEN];
	uint32_t h = 2166136261u;

	if (n == 0 || n > KW_MAX_LEN)
		return K_NONE;
	for (size_t i = 0; i < n; i++) {
		up[i] = upper(s[i]);
		h = (h ^ up[i]) * 16777619u;
	}
	pthread_once(&kw_once, kw_build);
	for (;; h++) {
		unsigned k = kw_slots[h & (KW_SLOTS - 1)];

		if (!k)
			return K_NONE;
		if (keywords[k].len == n && !memcmp(keywords[k].name, up, n))
			return k;
	}
}

bool sql_is_keyword(const char *s, size_t len)
{
	return kw_lookup((const unsigned char *)s, len) != K_NONE;
}

/* ---- tokens ---------------------------------------------------------- */

enum tok_type {
	T_END = 0,
	T_WORD,         /* a name or keyword: kw */
	T_QNAME,        /* `name`, "name" under ANSI_QUOTES */
	T_STRING,       /* '..', ".." */
	T_NSTRING,      /* N'..' */
	T_HEXSTR,       /* X'..' */
	T_BITSTR,       /* B'..' */
	T_INT,
	T_DECIMAL,
	T_FLOAT,
	T_HEXNUM,       /* 0x.. */
	T_BITNUM,       /* 0b.. */
	T_PARAM,        /* ? */
	T_USERVAR,      /* @name, @'name' */
	T_ATAT,         /* @@ */
	T_NULL_ESC,     /* \N */
	T_LP, T_RP, T_COMMA, T_DOT, T_EQ, T_ASSIGN, T_NULLEQ, T_NE, T_LT,
	T_LE, T_GT, T_GE, T_SHL, T_SHR, T_PLUS, T_MINUS, T_STAR, T_SLASH,
	T_PERCENT, T_AMP, T_PIPE, T_CARET, T_TILDE, T_BANG, T_ANDAND, T_OROR,
	T_ARROW, T_ARROW2, T_LBRACE, T_RBRACE,
	T_SEMI,         /* ends the statement: never in the parser's tokens */
	T_BAD,          /* a byte no token starts with, unterminated text */
};

#define TF_COMPLEX 0x01     /* quoted: escapes or doubled quotes inside */
#define TF_UNTERM  0x02     /* quoted: no closing quote */
#define TF_QUOTED  0x04     /* T_USERVAR: @'name' */

struct tok {
	uint32_t pos, len;  /* its bytes as written */
	uint16_t kw;        /* T_WORD: enum kw */
	uint8_t type;       /* enum tok_type */
	uint8_t flags;
};

struct lexer {
	const unsigned char *s, *p, *end;
	const struct sql_reading *rd;
	bool in_exec;                   /* inside an executable comment */
	const unsigned char *exec_open; /* where the last one opened */
	const unsigned char *code_end;  /* past the last token or the "* /"
					 * closing the comment holding it */
	uint8_t prev;                   /* the last token's type */
	const unsigned char *prev_end;  /* and where it ended */
};

#define CC_WORD  0x01
#define CC_DIGIT 0x02
#define CC_HEX   0x04

static const uint8_t cc[256] = {
	['0' ... '9'] = CC_WORD | CC_DIGIT | CC_HEX,
	['A' ... 'F'] = CC_WORD | CC_HEX,
	['a' ... 'f'] = CC_WORD | CC_HEX,
	['G' ... 'Z'] = CC_WORD,
	['g' ... 'z'] = CC_WORD,
	['_'] = CC_WORD,
	['$'] = CC_WORD,
	[0x80 ... 0xff] = CC_WORD,
};

/* Skips white space and comments; opens and closes executable comments
 * as the reading reads them. */
static void skip_blank(struct lexer *lx)
{
	const unsigned char *p = lx->p, *end = lx->end;

	for (;;) {
		while (p < end && sql_is_space(*p))
			p++;
		if (p == end)
			break;
		if (*p == '#') {
			p = sql_line_end(p + 1, end);
		} else if (*p == '-' && sql_is_dash_comment(p, end)) {
			p = sql_line_end(p + 2, end);
		} else if (*p == '/' && p + 1 < end && p[1] == '*') {
			const unsigned char *at = p;
			bool code;

			p = sql_comment_as(p, end, lx->rd, &code);
			if (code) {
				if (!lx->in_exec)
					lx->exec_open = at;
				lx->in_exec = true;
			}
		} else if (lx->in_exec && *p == '*' && p + 1 < end &&
			   p[1] == '/') {
			lx->in_exec = false;
			p += 2;
			lx->code_end = p;
		} else {
			break;
		}
	}
	lx->p = p;
}

static const unsigned char *word_end(const struct lexer *lx,
				     const unsigned char *p)
{
	uint8_t cs = lx->rd->charset;

	while (p < lx->end && (cc[*p] & CC_WORD))
		p += *p >= 0x80 ? sql_char_len(cs, p, lx->end) : 1;
	return p;
}

/* p is at a digit (or the digit after a '.'): a number, or a name that
 * starts with digits ("1abc", "0x1g"), as the server reads them. */
static const unsigned char *number(const struct lexer *lx,
				   const unsigned char *p, uint8_t *type)
{
	static const uint8_t types[] = {
		[SQL_NUM_INT] = T_INT, [SQL_NUM_DECIMAL] = T_DECIMAL,
		[SQL_NUM_FLOAT] = T_FLOAT, [SQL_NUM_HEX] = T_HEXNUM,
		[SQL_NUM_BIT] = T_BITNUM,
	};
	const unsigned char *end = lx->end;
	enum sql_number kind;
	const unsigned char *q = sql_number_end(p, end, &kind);

	*type = types[kind];
	if (q < end && (cc[*q] & CC_WORD)) {
		*type = T_WORD;
		return word_end(lx, p);
	}
	return q;
}

/*
 * p is at an opening quote.  Past the closing one (or end: *flags gets
 * TF_UNTERM), as the server's lexer reads it: '\' escapes the next byte
 * in '..' unless NO_BACKSLASH_ESCAPES and in ".." unless ANSI_QUOTES too,
 * a doubled quote stands for one, and in a multi-byte character set a
 * lead byte and a valid trail byte are one character (sql_scan.c reads
 * the same way).
 */
static const unsigned char *quoted_end(const struct lexer *lx,
				       const unsigned char *p, uint8_t *flags)
{
	const struct sql_reading *rd = lx->rd;
	const unsigned char *end = lx->end;
	unsigned char q = *p++;
	bool bs = q == '\'' ? rd->escapes != SQL_ESC_NONE :
		  q == '"' ? rd->escapes == SQL_ESC_ALL : false;
	bool mb = rd->charset != SQL_CS_BYTE;

	while (p < end) {
		unsigned char c = *p;

		if (mb && c >= 0x81 && sql_char_len(rd->charset, p, end) == 2) {
			p += 2;
		} else if (c == q) {
			if (p + 1 < end && p[1] == q) {
				*flags |= TF_COMPLEX;
				p += 2;
			} else {
				return p + 1;
			}
		} else if (c == '\\' && bs) {
			*flags |= TF_COMPLEX;
			p += p + 1 < end ? 2 : 1;
		} else {
			p++;
		}
	}
	*flags |= TF_UNTERM;
	return end;
}

static void lex_one(struct lexer *lx, struct tok *t)
{
	const unsigned char *p, *end = lx->end, *q;
	unsigned char c;
	uint8_t type;

	skip_blank(lx);
	p = lx->p;
	t->pos = (uint32_t)(p - lx->s);
	t->kw = K_NONE;
	t->flags = 0;
	if (p == end) {
		t->type = T_END;
		t->len = 0;
		return;
	}
	c = *p;
	q = p + 1;
	if (cc[c] & CC_DIGIT) {
		q = number(lx, p, &type);
		t->type = type;
	} else if ((c | 0x20) == 'x' && q < end && *q == '\'') {
		const unsigned char *close = memchr(q + 1, '\'',
						    (size_t)(end - q - 1));

		t->type = close ? T_HEXSTR : T_BAD;
		t->flags = close ? 0 : TF_UNTERM;
		q = close ? close + 1 : end;
	} else if ((c | 0x20) == 'b' && q < end && *q == '\'') {
		const unsigned char *close = memchr(q + 1, '\'',
						    (size_t)(end - q - 1));

		t->type = close ? T_BITSTR : T_BAD;
		t->flags = close ? 0 : TF_UNTERM;
		q = close ? close + 1 : end;
	} else if ((c | 0x20) == 'n' && q < end && *q == '\'') {
		q = quoted_end(lx, q, &t->flags);
		t->type = t->flags & TF_UNTERM ? T_BAD : T_NSTRING;
	} else if (cc[c] & CC_WORD) {
		q = word_end(lx, p);
		t->type = T_WORD;
	} else {
		switch (c) {
		case '\'':
		case '"':
		case '`':
			q = quoted_end(lx, p, &t->flags);
			if (t->flags & TF_UNTERM)
				t->type = T_BAD;
			else if (c == '`' || (c == '"' && lx->rd->escapes ==
						  SQL_ESC_SINGLE))
				t->type = T_QNAME;
			else
				t->type = T_STRING;
			break;
		case '@':
			if (q < end && *q == '@') {
				q++;
				t->type = T_ATAT;
			} else if (q < end && (*q == '\'' || *q == '"' ||
					       *q == '`')) {
				q = quoted_end(lx, q, &t->flags);
				t->flags |= TF_QUOTED;
				t->type = t->flags & TF_UNTERM ? T_BAD :
					  T_USERVAR;
			} else if (q < end && ((cc[*q] & CC_WORD) ||
					       *q == '.')) {
				while (q < end && ((cc[*q] & CC_WORD) ||
						   *q == '.'))
					q += *q >= 0x80 ? sql_char_len(
						lx->rd->charset, q, end) : 1;
				t->type = T_USERVAR;
			} else {
				t->type = T_BAD;
			}
			break;
		case '.':
			/* t.1 is a name after a name right before it (the
			 * server reads "t.1" as t . `1`); t .1 a number */
			if (q < end && (cc[*q] & CC_DIGIT) &&
			    (p != lx->prev_end ||
			     (lx->prev != T_WORD && lx->prev != T_QNAME &&
			      lx->prev != T_RP))) {
				q = number(lx, q, &type);
				t->type = type == T_INT ? T_DECIMAL :
					  type == T_FLOAT ? T_FLOAT : T_BAD;
			} else {
				t->type = T_DOT;
			}
			break;
		case '\\':
			if (q < end && *q == 'N' &&
			    (q + 1 == end || !(cc[q[1]] & CC_WORD))) {
				q++;
				t->type = T_NULL_ESC;
			} else {
				t->type = T_BAD;
			}
			break;
		case ':':
			if (q < end && *q == '=') {
				q++;
				t->type = T_ASSIGN;
			} else {
				t->type = T_BAD;
			}
			break;
		case '<':
			if (end - q >= 2 && q[0] == '=' && q[1] == '>') {
				q += 2;
				t->type = T_NULLEQ;
			} else if (q < end && *q == '=') {
				q++;
				t->type = T_LE;
			} else if (q < end && *q == '>') {
				q++;
				t->type = T_NE;
			} else if (q < end && *q == '<') {
				q++;
				t->type = T_SHL;
			} else {
				t->type = T_LT;
			}
			break;
		case '>':
			if (q < end && *q == '=') {
				q++;
				t->type = T_GE;
			} else if (q < end && *q == '>') {
				q++;
				t->type = T_SHR;
			} else {
				t->type = T_GT;
			}
			break;
		case '!':
			if (q < end && *q == '=') {
				q++;
				t->type = T_NE;
			} else {
				t->type = T_BANG;
			}
			break;
		case '&':
			if (q < end && *q == '&') {
				q++;
				t->type = T_ANDAND;
			} else {
				t->type = T_AMP;
			}
			break;
		case '|':
			if (q < end && *q == '|') {
				q++;
				t->type = T_OROR;
			} else {
				t->type = T_PIPE;
			}
			break;
		case '-':
			if (end - q >= 2 && q[0] == '>' && q[1] == '>') {
				q += 2;
				t->type = T_ARROW2;
			} else if (q < end && *q == '>') {
				q++;
				t->type = T_ARROW;
			} else {
				t->type = T_MINUS;
			}
			break;
		case '=': t->type = T_EQ; break;
		case '+': t->type = T_PLUS; break;
		case '*': t->type = T_STAR; break;
		case '/': t->type = T_SLASH; break;
		case '%': t->type = T_PERCENT; break;
		case '^': t->type = T_CARET; break;
		case '~': t->type = T_TILDE; break;
		case '(': t->type = T_LP; break;
		case ')': t->type = T_RP; break;
		case ',': t->type = T_COMMA; break;
		case '{': t->type = T_LBRACE; break;
		case '}': t->type = T_RBRACE; break;
		case '?': t->type = T_PARAM; break;
		case ';': t->type = T_SEMI; break;
		default: t->type = T_BAD; break;
		}
	}
	t->len = (uint32_t)(q - p);
	if (t->type == T_WORD)
		t->kw = (uint16_t)kw_lookup(p, t->len);
	lx->p = q;
	lx->prev = t->type;
	lx->prev_end = q;
	if (t->type != T_SEMI)
		lx->code_end = q;
}

/* ---- the parser's state ---------------------------------------------- */

struct parser {
	struct sql_arena *a;
	const char *sql;
	size_t len;
	const struct sql_reading *rd;
	unsigned flags;                 /* SQL_PARSE_* */
	struct tok *toks;               /* ntoks, the last one T_END */
	unsigned ntoks;
	unsigned i;                     /* the current token */
	unsigned depth;                 /* nodes inside nodes */
	unsigned parens;                /* parentheses that make no node */
	unsigned max_depth;
	unsigned nparams, nkept;
	const struct sql_bind *bind;    /* sql_parse_opts' */
	unsigned nbind;
	unsigned keep_param;            /* the token of a ? that stays a
					 * PARAM (an ORDER BY item), + 1 */
	uint64_t reread, max_reread;    /* tokens read again after a try
					 * that failed, and their bound */
	uint32_t last_end;              /* past the last token taken */
	uint32_t text_start, text_end;  /* the statement as written */
	uint32_t raw_end;               /* its ';' or the end, white space
					 * before it trimmed */
	bool failed;
	struct sql_parse_error err;
};

static const struct sql_reading default_reading = {
	SQL_ESC_ALL, SQL_CS_BYTE, SQL_SERVER_ANY, 0
};

#define CUR(p) (&(p)->toks[(p)->i])

static const struct tok *ahead(const struct parser *p, unsigned k)
{
	unsigned i = p->i + k;

	return &p->toks[i < p->ntoks ? i : p->ntoks - 1];
}

static void advance(struct parser *p)
{
	const struct tok *t = CUR(p);

	if (t->type != T_END) {
		p->last_end = t->pos + t->len;
		p->i++;
	}
}

/* Records the first error; later ones (while unwinding) are dropped.
 * Returns NULL so that callers can "return fail(...)". */
static void *fail_at(struct parser *p, int code, const char *what,
		     uint32_t pos)
{
	if (!p->failed) {
		p->failed = true;
		p->err.code = code;
		p->err.what = what;
		p->err.pos = pos;
	}
	return NULL;
}

static void *syntax(struct parser *p, const char *expected)
{
	return fail_at(p, SQL_PARSE_SYNTAX, expected, CUR(p)->pos);
}

static void *unsupported(struct parser *p, const char *construct,
			 uint32_t pos)
{
	return fail_at(p, SQL_PARSE_UNSUPPORTED, construct, pos);
}

static void *nomem(struct parser *p)
{
	return fail_at(p, SQL_PARSE_NOMEM, "memory", CUR(p)->pos);
}

static void *alloc(struct parser *p, size_t n)
{
	void *m = sql_arena_alloc(p->a, n);

	return m ? m : nomem(p);
}

#define NEW(p, type) ((type *)alloc((p), sizeof(type)))

/*
 * Nesting, which bounds the parser's recursion and the height of the
 * tree (the printer and the dump recurse over it).  Every construct that
 * holds another of its kind enters a level: a node whose operand can be
 * another such node, and each step of a left-to-right chain (a + b + c
 * is two levels), since that too makes the tree taller.  Parentheses
 * that make no node count apart, with the same limit, so that printing a
 * tree (which puts back the parentheses precedence needs) does not make
 * it deeper.
 */
static bool enter(struct parser *p)
{
	if (++p->depth > p->max_depth) {
		fail_at(p, SQL_PARSE_TOO_DEEP,
			"subqueries, operators, calls or joins nested over "
			"the limit", CUR(p)->pos);
		return false;
	}
	return true;
}

static void leave(struct parser *p, unsigned levels)
{
	p->depth -= levels;
}

static bool paren_enter(struct parser *p)
{
	if (++p->parens > p->max_depth) {
		fail_at(p, SQL_PARSE_TOO_DEEP,
			"parentheses nested over the limit", CUR(p)->pos);
		return false;
	}
	return true;
}

static bool is_kw(const struct tok *t, unsigned kw)
{
	return t->type == T_WORD && t->kw == kw;
}

static bool at_kw(const struct parser *p, unsigned kw)
{
	return is_kw(CUR(p), kw);
}

static bool at(const struct parser *p, unsigned type)
{
	return CUR(p)->type == type;
}

static bool accept_kw(struct parser *p, unsigned kw)
{
	if (!at_kw(p, kw))
		return false;
	advance(p);
	return true;
}

static bool accept(struct parser *p, unsigned type)
{
	if (!at(p, type))
		return false;
	advance(p);
	return true;
}

static bool expect_kw(struct parser *p, unsigned kw, const char *what)
{
	if (accept_kw(p, kw))
		return true;
	syntax(p, what);
	return false;
}

static bool expect(struct parser *p, unsigned type, const char *what)
{
	if (accept(p, type))
		return true;
	syntax(p, what);
	return false;
}

/* A backtracking point: the parser tries one reading of the tokens and
 * comes back here when it does not fit. */
struct mark {
	unsigned i, nparams, nkept, depth, parens;
	uint32_t last_end;
};

static struct mark mark(const struct parser *p)
{
	return (struct mark){ p->i, p->nparams, p->nkept, p->depth,
			      p->parens, p->last_end };
}

/* Back to m after a failed try, unless the failure was one that every
 * reading would meet (memory, nesting).  The better of two syntax errors
 * is the one further into the text: keep it in *best. */
static bool restore(struct parser *p, struct mark m,
		    struct sql_parse_error *best)
{
	if (p->err.code == SQL_PARSE_NOMEM || p->err.code == SQL_PARSE_TOO_DEEP)
		return false;
	/*
	 * A try that fails is read again as the other reading, and what it
	 * holds may fail and be read again in its turn: ((SELECT ((SELECT
	 * ... ) + 1)) + 1) doubles the work at each level.  The tokens read
	 * again are bounded so that time stays linear in the text.
	 */
	p->reread += p->i - m.i;
	if (p->reread > p->max_reread) {
		p->err = (struct sql_parse_error){
			.code = SQL_PARSE_TOO_DEEP,
			.what = "queries in parentheses nested in "
				"expressions (read again too often)",
			.pos = p->toks[m.i].pos };
		return false;
	}
	if (!best->code || p->err.pos >= best->pos)
		*best = p->err;
	p->failed = false;
	memset(&p->err, 0, sizeof(p->err));
	p->i = m.i;
	p->nparams = m.nparams;
	p->nkept = m.nkept;
	p->depth = m.depth;
	p->parens = m.parens;
	p->last_end = m.last_end;
	return true;
}

/* After both readings failed: report the error further into the text. */
static void *worse_of(struct parser *p, const struct sql_parse_error *best)
{
	if (p->failed && p->err.code == SQL_PARSE_SYNTAX && best->code &&
	    best->pos > p->err.pos)
		p->err = *best;
	return NULL;
}

/* ---- text ------------------------------------------------------------ */

static struct sql_str tok_text(const struct parser *p, const struct tok *t)
{
	return (struct sql_str){ p->sql + t->pos, t->len };
}

static struct sql_str static_str(const char *s)
{
	return (struct sql_str){ s, strlen(s) };
}

/* A keyword's name in upper case, from the table (no copy). */
static struct sql_str kw_str(unsigned kw)
{
	return (struct sql_str){ keywords[kw].name, keywords[kw].len };
}

static struct sql_str upper_copy(struct parser *p, const struct tok *t)
{
	char *s;

	if (t->type == T_WORD && t->kw)
		return kw_str(t->kw);
	s = alloc(p, t->len ? t->len : 1);
	if (!s)
		return (struct sql_str){ "", 0 };
	for (uint32_t i = 0; i < t->len; i++)
		s[i] = (char)upper((unsigned char)p->sql[t->pos + i]);
	return (struct sql_str){ s, t->len };
}

/* The value of quoted text [q, q + n) (the quotes excluded), escapes
 * undone as the server undoes them: doubled quotes stand for one; with
 * backslash, \0 \b \n \r \t \Z are control bytes, \% and \_ stay as
 * written (LIKE patterns read them), any other \x is x.  Multi-byte
 * characters are copied whole. */
static struct sql_str unquote(struct parser *p, const char *q, size_t n,
			      char quote, bool backslash)
{
	uint8_t cs = p->rd->charset;
	const unsigned char *s = (const unsigned char *)q, *end = s + n;
	char *out = alloc(p, n ? n : 1), *o = out;

	if (!out)
		return (struct sql_str){ "", 0 };
	while (s < end) {
		unsigned char c = *s;

		if (cs != SQL_CS_BYTE && c >= 0x81 &&
		    sql_char_len(cs, s, end) == 2) {
			*o++ = (char)s[0];
			*o++ = (char)s[1];
			s += 2;
		} else if (c == (unsigned char)quote && s + 1 < end &&
			   s[1] == c) {
			*o++ = (char)c;
			s += 2;
		} else if (c == '\\' && backslash && s + 1 < end) {
			c = s[1];
			s += 2;
			switch (c) {
			case '0': *o++ = 0; break;
			case 'b': *o++ = '\b'; break;
			case 'n': *o++ = '\n'; break;
			case 'r': *o++ = '\r'; break;
			case 't': *o++ = '\t'; break;
			case 'Z': *o++ = 0x1a; break;
			case '%':
			case '_':
				*o++ = '\\';
				*o++ = (char)c;
				break;
			default: *o++ = (char)c; break;
			}
		} else {
			*o++ = (char)c;
			s++;
		}
	}
	return (struct sql_str){ out, (size_t)(o - out) };
}

/* The value of a quoted token (string, quoted name, @'name'). */
static struct sql_str quoted_value(struct parser *p, const struct tok *t)
{
	const char *s = p->sql + t->pos;
	size_t n = t->len;
	char quote;
	bool backslash;

	if (t->type == T_USERVAR) {
		s++;
		n--;
	} else if (t->type == T_NSTRING) {
		s++;
		n--;
	}
	quote = s[0];
	if (!(t->flags & TF_COMPLEX))
		return (struct sql_str){ s + 1, n - 2 };
	backslash = quote == '\'' ? p->rd->escapes != SQL_ESC_NONE :
		    quote == '"' ? p->rd->escapes == SQL_ESC_ALL : false;
	return unquote(p, s + 1, n - 2, quote, backslash);
}

/* Words that can name something here: a quoted name, or a word that is
 * not reserved. */
static bool is_name_tok(const struct tok *t)
{
	return t->type == T_QNAME ||
	       (t->type == T_WORD && !keywords[t->kw].reserved);
}

static struct sql_str name_of(struct parser *p, const struct tok *t)
{
	return t->type == T_QNAME ? quoted_value(p, t) : tok_text(p, t);
}

/* A name: `quoted` or a word that is not reserved. */
static bool name(struct parser *p, struct sql_str *out, const char *what)
{
	if (!is_name_tok(CUR(p))) {
		syntax(p, what);
		return false;
	}
	*out = name_of(p, CUR(p));
	advance(p);
	return true;
}

/* After a '.', any word names something, reserved or not. */
static bool name_after_dot(struct parser *p, struct sql_str *out)
{
	const struct tok *t = CUR(p);

	if (t->type != T_QNAME && t->type != T_WORD) {
		syntax(p, "a name");
		return false;
	}
	*out = name_of(p, t);
	advance(p);
	return true;
}

/* A name or a string ('utf8mb4', utf8mb4_bin): character sets,
 * collations, aliases. */
static bool name_or_string(struct parser *p, struct sql_str *out,
			   const char *what)
{
	if (at(p, T_STRING)) {
		*out = quoted_value(p, CUR(p));
		advance(p);
		return true;
	}
	return name(p, out, what);
}

static bool eq_nocase(struct sql_str s, const char *w)
{
	size_t n = strlen(w);

	if (s.len != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (upper((unsigned char)s.ptr[i]) != (unsigned char)w[i])
			return false;
	return true;
}

static bool tok_is(const struct parser *p, const struct tok *t,
		   const char *w)
{
	return t->type == T_WORD && eq_nocase(tok_text(p, t), w);
}

/* ---- expressions ----------------------------------------------------- */

static struct sql_expr *expr(struct parser *p);
static struct sql_expr *unary(struct parser *p);
static struct sql_query *query_expr(struct parser *p);
static struct sql_order *order_list(struct parser *p);

static struct sql_expr *new_expr(struct parser *p, uint8_t kind, uint32_t pos)
{
	struct sql_expr *e = NEW(p, struct sql_expr);

	if (e) {
		e->kind = kind;
		e->pos = pos;
	}
	return e;
}

static struct sql_expr *new_lit(struct parser *p, uint8_t lit,
				const struct tok *t)
{
	struct sql_expr *e = new_expr(p, SQL_E_LITERAL, t->pos);

	if (e) {
		e->op = lit;
		e->text = tok_text(p, t);
	}
	return e;
}

/*
 * A ? marker: the literal an execution binds to it (sql_parse.h), or a
 * PARAM.  In LIMIT (limit) only an integer is read as written.
 */
static struct sql_expr *param(struct parser *p, const struct tok *t,
			      bool limit)
{
	unsigned n = p->nparams++;
	const struct sql_bind *b = n < p->nbind ? &p->bind[n] : NULL;
	struct sql_expr *e;

	if (!b || !b->lit || p->keep_param == p->i + 1 ||
	    (limit && (b->lit != SQL_LIT_INT || (b->flags & SQL_EF_NEG)))) {
		p->nkept++;
		e = new_expr(p, SQL_E_PARAM, t->pos);
		if (e)
			e->param = n;
		return e;
	}
	e = new_expr(p, SQL_E_LITERAL, t->pos);
	if (e) {
		e->op = b->lit;
		e->flags = (uint8_t)(b->flags | SQL_EF_BOUND);
		e->text = b->text;
		e->charset = b->charset;
	}
	return e;
}

/* The current token is '(': is the first token after it and any more
 * '(' one that starts a query? */
static bool query_ahead(const struct parser *p)
{
	unsigned k = 1;
	const struct tok *t;

	while (ahead(p, k)->type == T_LP)
		k++;
	t = ahead(p, k);
	return is_kw(t, K_SELECT) || is_kw(t, K_WITH);
}

/* At '(': a query in parentheses, which must be one. */
static struct sql_query *query_in_parens(struct parser *p)
{
	struct sql_query *q;

	if (!expect(p, T_LP, "'('") || !enter(p))
		return NULL;
	q = query_expr(p);
	if (q && !expect(p, T_RP, "')'"))
		return NULL;
	leave(p, 1);
	return q;
}

/* A list of expressions up to (not including) the token that ends it;
 * appended to *head. */
static bool expr_list(struct parser *p, struct sql_expr **head)
{
	struct sql_expr **tail = head;

	while (*tail)
		tail = &(*tail)->next;
	do {
		struct sql_expr *e = expr(p);

		if (!e)
			return false;
		*tail = e;
		tail = &e->next;
	} while (accept(p, T_COMMA));
	return true;
}

/* String parts written next to each other are one string: 'a' 'b'. */
static struct sql_expr *string_lit(struct parser *p, struct sql_str charset)
{
	const struct tok *t = CUR(p);
	struct sql_expr *e = new_expr(p, SQL_E_LITERAL, t->pos);
	struct sql_str v;
	unsigned n = 0;
	size_t total = 0;
	char *buf;

	if (!e)
		return NULL;
	e->op = SQL_LIT_STRING;
	e->charset = charset;
	if (t->type == T_NSTRING)
		e->flags |= SQL_EF_NATIONAL;
	v = quoted_value(p, t);
	advance(p);
	if (!at(p, T_STRING)) {
		e->text = v;
		return e;
	}
	while (ahead(p, n)->type == T_STRING)
		n++;
	total = v.len;
	for (unsigned k = 0; k < n; k++)
		total += ahead(p, k)->len;      /* an upper bound */
	buf = alloc(p, total ? total : 1);
	if (!buf)
		return NULL;
	memcpy(buf, v.ptr, v.len);
	total = v.len;
	for (unsigned k = 0; k < n; k++) {
		struct sql_str part = quoted_value(p, CUR(p));

		memcpy(buf + total, part.ptr, part.len);
		total += part.len;
		advance(p);
	}
	e->text = (struct sql_str){ buf, total };
	return e;
}

static bool is_hex(unsigned char c)
{
	return cc[c] & CC_HEX;
}

/* X'..' holds an even number of hex digits, B'..' binary digits. */
static struct sql_expr *quoted_number(struct parser *p)
{
	const struct tok *t = CUR(p);
	const char *s = p->sql + t->pos + 2;
	size_t n = t->len - 3;
	bool hex = t->type == T_HEXSTR;

	for (size_t i = 0; i < n; i++)
		if (hex ? !is_hex((unsigned char)s[i]) :
		    s[i] != '0' && s[i] != '1')
			return syntax(p, hex ? "hexadecimal digits" :
				      "binary digits");
	if (hex && n % 2)
		return syntax(p, "an even number of hexadecimal digits");
	advance(p);
	return new_lit(p, hex ? SQL_LIT_HEX : SQL_LIT_BIT, t);
}

static const char *const charsets[] = {
	"ARMSCII8", "ASCII", "BIG5", "BINARY", "CP1250", "CP1251", "CP1256",
	"CP1257", "CP850", "CP852", "CP866", "CP932", "DEC8", "EUCJPMS",
	"EUCKR", "GB18030", "GB2312", "GBK", "GEOSTD8", "GREEK", "HEBREW",
	"HP8", "KEYBCS2", "KOI8R", "KOI8U", "LATIN1", "LATIN2", "LATIN5",
	"LATIN7", "MACCE", "MACROMAN", "SJIS", "SWE7", "TIS620", "UCS2",
	"UJIS", "UTF16", "UTF16LE", "UTF32", "UTF8", "UTF8MB3", "UTF8MB4",
};

/* _utf8mb4 'x', _binary X'00': a word naming a character set, then a
 * string or a hex or bit value. */
static bool is_introducer(const struct parser *p)
{
	const struct tok *t = CUR(p), *n = ahead(p, 1);
	struct sql_str cs;

	if (t->type != T_WORD || t->len < 2 || p->sql[t->pos] != '_')
		return false;
	if (n->type != T_STRING && n->type != T_HEXSTR &&
	    n->type != T_BITSTR && n->type != T_HEXNUM && n->type != T_BITNUM)
		return false;
	cs = (struct sql_str){ p->sql + t->pos + 1, t->len - 1 };
	for (size_t i = 0; i < sizeof(charsets) / sizeof(charsets[0]); i++)
		if (eq_nocase(cs, charsets[i]))
			return true;
	return false;
}

static struct sql_expr *introduced(struct parser *p)
{
	struct sql_str cs = { p->sql + CUR(p)->pos + 1, CUR(p)->len - 1 };
	uint32_t pos = CUR(p)->pos;
	struct sql_expr *e;

	advance(p);
	switch (CUR(p)->type) {
	case T_STRING:
		e = string_lit(p, cs);
		break;
	case T_HEXSTR:
	case T_BITSTR:
		e = quoted_number(p);
		break;
	default:
		e = new_lit(p, CUR(p)->type == T_HEXNUM ? SQL_LIT_HEX :
			    SQL_LIT_BIT, CUR(p));
		advance(p);
	}
	if (e) {
		e->charset = cs;
		e->pos = pos;
	}
	return e;
}

static const char *const units[] = {
	"MICROSECOND", "SECOND", "MINUTE", "HOUR", "DAY", "WEEK", "MONTH",
	"QUARTER", "YEAR", "SECOND_MICROSECOND", "MINUTE_MICROSECOND",
	"MINUTE_SECOND", "HOUR_MICROSECOND", "HOUR_SECOND", "HOUR_MINUTE",
	"DAY_MICROSECOND", "DAY_SECOND", "DAY_MINUTE", "DAY_HOUR",
	"YEAR_MONTH",
};

/* An interval unit (DAY, HOUR_MINUTE, SQL_TSI_DAY is DAY): its name in
 * upper case, static. */
static const char *unit_name(const struct parser *p, const struct tok *t)
{
	struct sql_str s = tok_text(p, t);

	if (t->type != T_WORD)
		return NULL;
	if (s.len > 8 && eq_nocase((struct sql_str){ s.ptr, 8 }, "SQL_TSI_"))
		s = (struct sql_str){ s.ptr + 8, s.len - 8 };
	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (eq_nocase(s, units[i]))
			return units[i];
	return NULL;
}

static struct sql_expr *unit_kw(struct parser *p)
{
	const char *u = unit_name(p, CUR(p));
	struct sql_expr *e;

	if (!u)
		return syntax(p, "an interval unit");
	e = new_expr(p, SQL_E_KEYWORD, CUR(p)->pos);
	if (e)
		e->name = static_str(u);
	advance(p);
	return e;
}

static struct sql_expr *keyword_arg(struct parser *p, struct sql_str word,
				    uint8_t sep)
{
	struct sql_expr *e = new_expr(p, SQL_E_KEYWORD, CUR(p)->pos);

	if (e) {
		e->name = word;
		e->sep = sep;
	}
	return e;
}

/* A character set or collation name: a name, a string, or BINARY. */
static bool charset_name(struct parser *p, struct sql_str *out,
			 const char *what)
{
	if (accept_kw(p, K_BINARY)) {
		*out = static_str("binary");
		return true;
	}
	return name_or_string(p, out, what);
}

/* Digits in parentheses after a type: (n) or (m, d). */
static bool type_length(struct parser *p, struct sql_expr *e, bool scale)
{
	if (!accept(p, T_LP))
		return true;
	if (!at(p, T_INT))
		return syntax(p, "a number"), false;
	e->tlen = tok_text(p, CUR(p));
	advance(p);
	if (scale && accept(p, T_COMMA)) {
		if (!at(p, T_INT))
			return syntax(p, "a number"), false;
		e->tscale = tok_text(p, CUR(p));
		advance(p);
	}
	return expect(p, T_RP, "')'");
}

/* The type of CAST(x AS type) and CONVERT(x, type). */
static struct sql_expr *cast_type(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_expr *e = new_expr(p, SQL_E_TYPE, t->pos);
	bool ok = true;

	if (!e)
		return NULL;
	if (t->type != T_WORD)
		return syntax(p, "a type");
	advance(p);
	switch (t->kw) {
	case K_BINARY:
	case K_NCHAR:
	case K_FLOAT:
		e->tname = kw_str(t->kw);
		ok = type_length(p, e, false);
		break;
	case K_CHAR:
	case K_CHARACTER:
		e->tname = kw_str(K_CHAR);
		ok = type_length(p, e, false);
		if (!ok)
			break;
		if (accept_kw(p, K_CHARSET) ||
		    (accept_kw(p, K_CHARACTER) && expect_kw(p, K_SET, "SET"))) {
			ok = charset_name(p, &e->tcharset,
					  "a character set");
		} else if (p->failed) {
			ok = false;
		} else if (accept_kw(p, K_ASCII)) {
			e->tcharset = static_str("latin1");
		} else if (accept_kw(p, K_UNICODE)) {
			e->tcharset = static_str("ucs2");
		}
		break;
	case K_DATETIME:
	case K_TIME:
		e->tname = kw_str(t->kw);
		ok = type_length(p, e, false);
		break;
	case K_DATE:
	case K_JSON:
	case K_YEAR:
	case K_REAL:
	case K_INT:
	case K_INTEGER:
		e->tname = kw_str(t->kw);
		break;
	case K_DECIMAL:
	case K_DEC:
	case K_NUMERIC:
		e->tname = kw_str(K_DECIMAL);
		ok = type_length(p, e, true);
		break;
	case K_DOUBLE:
		e->tname = kw_str(K_DOUBLE);
		accept_kw(p, K_PRECISION);
		break;
	case K_SIGNED:
	case K_UNSIGNED:
		e->tname = kw_str(t->kw);
		if (!accept_kw(p, K_INTEGER))
			accept_kw(p, K_INT);
		break;
	default:
		p->i--;
		return syntax(p, "a type");
	}
	if (ok && at_kw(p, K_ARRAY))
		return unsupported(p, "CAST ... ARRAY", CUR(p)->pos);
	return ok ? e : NULL;
}

/* USING charset in CONVERT and CHAR: a KEYWORD node. */
static struct sql_expr *charset_kw(struct parser *p)
{
	struct sql_expr *k = new_expr(p, SQL_E_KEYWORD, CUR(p)->pos);

	if (!k)
		return NULL;
	if (at(p, T_QNAME) || at(p, T_STRING))
		k->flags |= SQL_EF_QUOTED;
	if (!charset_name(p, &k->name, "a character set"))
		return NULL;
	return k;
}

static bool append_arg(struct sql_expr *f, struct sql_expr *arg, uint8_t sep)
{
	struct sql_expr **tail = &f->args;

	if (!arg)
		return false;
	while (*tail)
		tail = &(*tail)->next;
	arg->sep = sep;
	*tail = arg;
	return true;
}

/* The functions written with words between their arguments. */
static bool special_args(struct parser *p, struct sql_expr *f,
			 struct sql_str nm, bool *done)
{
	*done = true;
	if (eq_nocase(nm, "CAST")) {
		if (!append_arg(f, expr(p), SQL_SEP_COMMA))
			return false;
		if (!expect_kw(p, K_AS, "AS"))
			return false;
		return append_arg(f, cast_type(p), SQL_SEP_AS);
	}
	if (eq_nocase(nm, "CONVERT")) {
		if (!append_arg(f, expr(p), SQL_SEP_COMMA))
			return false;
		if (accept_kw(p, K_USING))
			return append_arg(f, charset_kw(p), SQL_SEP_USING);
		if (!expect(p, T_COMMA, "',' or USING"))
			return false;
		return append_arg(f, cast_type(p), SQL_SEP_COMMA);
	}
	if (eq_nocase(nm, "CHAR")) {
		if (!expr_list(p, &f->args))
			return false;
		if (accept_kw(p, K_USING))
			return append_arg(f, charset_kw(p), SQL_SEP_USING);
		return true;
	}
	if (eq_nocase(nm, "EXTRACT")) {
		if (!append_arg(f, unit_kw(p), SQL_SEP_COMMA))
			return false;
		if (!expect_kw(p, K_FROM, "FROM"))
			return false;
		return append_arg(f, expr(p), SQL_SEP_FROM);
	}
	if (eq_nocase(nm, "POSITION")) {
		struct sql_expr *sub;

		if (!enter(p))
			return false;
		/* POSITION(a IN b): a is read without IN */
		sub = unary(p);
		leave(p, 1);
		if (!append_arg(f, sub, SQL_SEP_COMMA))
			return false;
		if (!expect_kw(p, K_IN, "IN"))
			return false;
		return append_arg(f, expr(p), SQL_SEP_IN);
	}
	if (eq_nocase(nm, "SUBSTRING") || eq_nocase(nm, "SUBSTR")) {
		if (!append_arg(f, expr(p), SQL_SEP_COMMA))
			return false;
		if (accept_kw(p, K_FROM)) {
			if (!append_arg(f, expr(p), SQL_SEP_FROM))
				return false;
			if (accept_kw(p, K_FOR))
				return append_arg(f, expr(p), SQL_SEP_FOR);
			return true;
		}
		if (accept_kw(p, K_FOR))
			return append_arg(f, expr(p), SQL_SEP_FOR);
		if (accept(p, T_COMMA))
			return expr_list(p, &f->args);
		return true;
	}
	if (eq_nocase(nm, "TRIM")) {
		const struct tok *t = CUR(p);

		if (is_kw(t, K_BOTH) || is_kw(t, K_LEADING) ||
		    is_kw(t, K_TRAILING)) {
			if (!append_arg(f, keyword_arg(p, kw_str(t->kw), 0), 0))
				return false;
			advance(p);
			if (!accept_kw(p, K_FROM)) {
				if (!append_arg(f, expr(p), SQL_SEP_SPACE))
					return false;
				if (!expect_kw(p, K_FROM, "FROM"))
					return false;
			}
			return append_arg(f, expr(p), SQL_SEP_FROM);
		}
		if (!append_arg(f, expr(p), SQL_SEP_COMMA))
			return false;
		if (accept_kw(p, K_FROM))
			return append_arg(f, expr(p), SQL_SEP_FROM);
		return true;
	}
	if (eq_nocase(nm, "TIMESTAMPADD") || eq_nocase(nm, "TIMESTAMPDIFF")) {
		if (!append_arg(f, unit_kw(p), SQL_SEP_COMMA))
			return false;
		if (!expect(p, T_COMMA, "','"))
			return false;
		return expr_list(p, &f->args);
	}
	if (eq_nocase(nm, "GET_FORMAT")) {
		const struct tok *t = CUR(p);

		if (!is_kw(t, K_DATE) && !is_kw(t, K_TIME) &&
		    !is_kw(t, K_DATETIME) && !is_kw(t, K_TIMESTAMP))
			return syntax(p, "DATE, TIME or DATETIME"), false;
		if (!append_arg(f, keyword_arg(p, kw_str(t->kw), 0), 0))
			return false;
		advance(p);
		if (!expect(p, T_COMMA, "','"))
			return false;
		return expr_list(p, &f->args);
	}
	*done = false;
	return true;
}

/*
 * At '(' after a function's name: its arguments, the ')', and no window
 * after it.  Aggregates take DISTINCT (ALL is the default and goes),
 * GROUP_CONCAT an ORDER BY and a SEPARATOR.
 */
static struct sql_expr *call(struct parser *p, const struct tok *name_tok,
			     struct sql_str schema, bool quoted)
{
	struct sql_expr *f = new_expr(p, SQL_E_FUNC, name_tok->pos);
	struct sql_str nm = quoted ? quoted_value(p, name_tok) :
			    tok_text(p, name_tok);
	bool done = false;

	if (!f || !enter(p))
		return NULL;
	f->fschema = schema;
	f->fname = nm;
	/* db.f(x) calls a stored function however f is written */
	if (quoted && !schema.len)
		f->flags |= SQL_EF_QUOTED;
	advance(p);                     /* ( */
	if (!quoted && !schema.len && !at(p, T_RP) &&
	    !special_args(p, f, nm, &done))
		return NULL;
	if (!done && !at(p, T_RP)) {
		if (accept_kw(p, K_DISTINCT))
			f->flags |= SQL_EF_DISTINCT;
		else
			accept_kw(p, K_ALL);
		if (at(p, T_STAR) && ahead(p, 1)->type == T_RP) {
			struct sql_expr *star = new_expr(p, SQL_E_STAR,
							 CUR(p)->pos);

			if (!star)
				return NULL;
			f->args = star;
			advance(p);
		} else if (!expr_list(p, &f->args)) {
			return NULL;
		}
		if (at_kw(p, K_ORDER)) {
			advance(p);
			if (!expect_kw(p, K_BY, "BY"))
				return NULL;
			f->forder = order_list(p);
			if (!f->forder)
				return NULL;
		}
		if (accept_kw(p, K_SEPARATOR)) {
			if (!at(p, T_STRING))
				return syntax(p, "a string");
			f->separator = string_lit(p, (struct sql_str){ 0 });
			if (!f->separator)
				return NULL;
		}
		if (at_kw(p, K_LIMIT))
			return unsupported(p, "GROUP_CONCAT ... LIMIT",
					   CUR(p)->pos);
	}
	if (!expect(p, T_RP, "')'"))
		return NULL;
	leave(p, 1);
	if (at_kw(p, K_OVER))
		return unsupported(p, "window functions (OVER)", CUR(p)->pos);
	return f;
}

/* ROW(a, b) and (a, b): a row of two or more. */
static struct sql_expr *row_rest(struct parser *p, struct sql_expr *first,
				 uint32_t pos)
{
	struct sql_expr *r = new_expr(p, SQL_E_ROW, pos);

	if (!r || !enter(p))
		return NULL;
	r->args = first;
	if (!expr_list(p, &first->next))
		return NULL;
	if (!expect(p, T_RP, "')'"))
		return NULL;
	leave(p, 1);
	return r;
}

/* At '(' in an expression: a subquery, a row, or an expression in
 * parentheses (not a node of its own). */
static struct sql_expr *paren(struct parser *p)
{
	uint32_t pos = CUR(p)->pos;
	struct sql_parse_error best = { 0 };
	struct sql_expr *e;

	if (query_ahead(p)) {
		struct mark m = mark(p);
		struct sql_query *q;

		advance(p);
		q = enter(p) ? query_expr(p) : NULL;
		if (q && accept(p, T_RP)) {
			leave(p, 1);
			e = new_expr(p, SQL_E_SUBQUERY, pos);
			if (e)
				e->query = q;
			return e;
		}
		if (q)
			syntax(p, "')'");
		if (!restore(p, m, &best))
			return NULL;
	}
	advance(p);
	if (!paren_enter(p))
		return NULL;
	e = expr(p);
	if (!e)
		return worse_of(p, &best);
	if (accept(p, T_COMMA)) {
		if (!(e = row_rest(p, e, pos)))
			return worse_of(p, &best);
	} else if (!expect(p, T_RP, "')'")) {
		return worse_of(p, &best);
	}
	p->parens--;
	return e;
}

static struct sql_expr *case_expr(struct parser *p)
{
	struct sql_expr *e = new_expr(p, SQL_E_CASE, CUR(p)->pos);
	struct sql_expr **tail;

	if (!e || !enter(p))
		return NULL;
	advance(p);
	if (!at_kw(p, K_WHEN) && !(e->left = expr(p)))
		return NULL;
	tail = &e->args;
	while (accept_kw(p, K_WHEN)) {
		struct sql_expr *w = expr(p), *t;

		if (!w || !expect_kw(p, K_THEN, "THEN") || !(t = expr(p)))
			return NULL;
		*tail = w;
		w->next = t;
		tail = &t->next;
	}
	if (!e->args)
		return syntax(p, "WHEN");
	if (accept_kw(p, K_ELSE) && !(e->right = expr(p)))
		return NULL;
	if (!expect_kw(p, K_END, "END"))
		return NULL;
	leave(p, 1);
	return e;
}

/* INTERVAL(n, a, b) is a function; INTERVAL (n) DAY is not. */
static bool interval_is_call(const struct parser *p)
{
	unsigned depth = 0;

	if (ahead(p, 1)->type != T_LP)
		return false;
	for (unsigned k = 1;; k++) {
		const struct tok *t = ahead(p, k);

		if (t->type == T_END)
			return false;
		if (t->type == T_LP)
			depth++;
		else if (t->type == T_RP && --depth == 0)
			return false;
		else if (t->type == T_COMMA && depth == 1)
			return true;
	}
}

static struct sql_expr *interval(struct parser *p)
{
	struct sql_expr *e = new_expr(p, SQL_E_INTERVAL, CUR(p)->pos);
	const char *u;

	if (!e || !enter(p))
		return NULL;
	advance(p);
	if (!(e->left = expr(p)))
		return NULL;
	leave(p, 1);
	if (!(u = unit_name(p, CUR(p))))
		return syntax(p, "an interval unit");
	e->name = static_str(u);
	advance(p);
	return e;
}

static struct sql_expr *match(struct parser *p)
{
	struct sql_expr *e = new_expr(p, SQL_E_MATCH, CUR(p)->pos);
	struct sql_expr **tail;
	bool natural = false;

	if (!e)
		return NULL;
	advance(p);
	if (!expect(p, T_LP, "'('"))
		return NULL;
	tail = &e->args;
	do {
		uint32_t pos = CUR(p)->pos;
		struct sql_expr *c = unary(p);

		if (!c)
			return NULL;
		if (c->kind != SQL_E_COLUMN)
			return fail_at(p, SQL_PARSE_SYNTAX, "a column", pos);
		*tail = c;
		tail = &c->next;
	} while (accept(p, T_COMMA));
	if (!expect(p, T_RP, "')'") || !expect_kw(p, K_AGAINST, "AGAINST") ||
	    !expect(p, T_LP, "'('"))
		return NULL;
	if (!enter(p))
		return NULL;
	e->left = unary(p);
	leave(p, 1);
	if (!e->left)
		return NULL;
	e->op = SQL_OP_MATCH_NATURAL;
	if (accept_kw(p, K_IN)) {
		if (accept_kw(p, K_BOOLEAN)) {
			e->op = SQL_OP_MATCH_BOOLEAN;
		} else {
			if (!expect_kw(p, K_NATURAL, "NATURAL or BOOLEAN") ||
			    !expect_kw(p, K_LANGUAGE, "LANGUAGE"))
				return NULL;
			natural = true;
		}
		if (!expect_kw(p, K_MODE, "MODE"))
			return NULL;
	}
	if (e->op != SQL_OP_MATCH_BOOLEAN && accept_kw(p, K_WITH)) {
		if (!expect_kw(p, K_QUERY, "QUERY") ||
		    !expect_kw(p, K_EXPANSION, "EXPANSION"))
			return NULL;
		e->op = natural ? SQL_OP_MATCH_NATURAL_QE : SQL_OP_MATCH_QE;
	}
	if (!expect(p, T_RP, "')'"))
		return NULL;
	return e;
}

static struct sql_expr *sysvar(struct parser *p)
{
	struct sql_expr *e = new_expr(p, SQL_E_SYSVAR, CUR(p)->pos);
	const struct tok *t;

	if (!e)
		return NULL;
	advance(p);                     /* @@ */
	t = CUR(p);
	if (ahead(p, 1)->type == T_DOT &&
	    (is_kw(t, K_GLOBAL) || is_kw(t, K_SESSION) || is_kw(t, K_LOCAL))) {
		e->op = is_kw(t, K_GLOBAL) ? SQL_SCOPE_GLOBAL :
			SQL_SCOPE_SESSION;
		advance(p);
		advance(p);
	}
	if (!name_after_dot(p, &e->name))
		return NULL;
	if (at(p, T_DOT))
		return unsupported(p, "structured system variables",
				   CUR(p)->pos);
	return e;
}

static bool is_reserved_function(unsigned kw)
{
	switch (kw) {
	case K_IF: case K_INSERT: case K_REPLACE: case K_LEFT: case K_RIGHT:
	case K_REPEAT: case K_MOD: case K_CHAR: case K_DATABASE:
	case K_SCHEMA: case K_VALUES: case K_DEFAULT: case K_CURRENT_DATE:
	case K_CURRENT_TIME: case K_CURRENT_TIMESTAMP: case K_CURRENT_USER:
	case K_CURRENT_ROLE: case K_LOCALTIME: case K_LOCALTIMESTAMP:
	case K_UTC_DATE: case K_UTC_TIME: case K_UTC_TIMESTAMP:
	case K_CONVERT: case K_INTERVAL:
		return true;
	default:
		return false;
	}
}

/* Functions the server calls without parentheses too. */
static bool is_niladic(unsigned kw)
{
	switch (kw) {
	case K_CURRENT_DATE: case K_CURRENT_TIME: case K_CURRENT_TIMESTAMP:
	case K_CURRENT_USER: case K_CURRENT_ROLE: case K_LOCALTIME:
	case K_LOCALTIMESTAMP: case K_UTC_DATE: case K_UTC_TIME:
	case K_UTC_TIMESTAMP:
		return true;
	default:
		return false;
	}
}

/* A name: a column ([[schema.]table.]column), table.* or a function
 * call ([schema.]f(...)). */
static struct sql_expr *name_expr(struct parser *p)
{
	const struct tok *first = CUR(p);
	struct sql_str parts[3];
	const struct tok *last;
	struct sql_expr *e;
	unsigned n = 1;

	if (ahead(p, 1)->type == T_LP) {
		if (first->type == T_WORD && first->kw == K_ROW) {
			uint32_t pos = first->pos;
			struct sql_expr *x;

			advance(p);
			advance(p);
			if (!enter(p) || !(x = expr(p)))
				return NULL;
			leave(p, 1);
			if (!expect(p, T_COMMA, "','"))
				return NULL;
			return row_rest(p, x, pos);
		}
		advance(p);
		return call(p, first, (struct sql_str){ 0 },
			    first->type == T_QNAME);
	}
	parts[0] = name_of(p, first);
	advance(p);
	while (at(p, T_DOT) && n < 3) {
		advance(p);
		if (at(p, T_STAR)) {
			e = new_expr(p, SQL_E_STAR, first->pos);
			if (!e)
				return NULL;
			if (n == 2)
				e->schema = parts[0];
			e->table = parts[n - 1];
			advance(p);
			return e;
		}
		last = CUR(p);
		if (!name_after_dot(p, &parts[n++]))
			return NULL;
		if (n == 2 && at(p, T_LP))
			return call(p, last, parts[0], last->type == T_QNAME);
	}
	if (at(p, T_DOT))
		return syntax(p, "an operator");
	e = new_expr(p, SQL_E_COLUMN, first->pos);
	if (!e)
		return NULL;
	e->column = parts[n - 1];
	if (n >= 2)
		e->table = parts[n - 2];
	if (n == 3)
		e->schema = parts[0];
	/* MySQL's col->'$.path' and col->>'$.path' */
	if ((at(p, T_ARROW) || at(p, T_ARROW2)) &&
	    ahead(p, 1)->type == T_STRING) {
		struct sql_expr *j = new_expr(p, SQL_E_BINARY, first->pos);

		if (!j)
			return NULL;
		j->op = at(p, T_ARROW) ? SQL_OP_JSON : SQL_OP_JSON_TEXT;
		j->left = e;
		advance(p);
		if (!(j->right = string_lit(p, (struct sql_str){ 0 })))
			return NULL;
		return j;
	}
	return e;
}

static struct sql_expr *primary(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_expr *e;

	switch (t->type) {
	case T_INT:
	case T_DECIMAL:
	case T_FLOAT:
	case T_HEXNUM:
	case T_BITNUM:
		advance(p);
		return new_lit(p, t->type == T_INT ? SQL_LIT_INT :
			       t->type == T_DECIMAL ? SQL_LIT_DECIMAL :
			       t->type == T_FLOAT ? SQL_LIT_FLOAT :
			       t->type == T_HEXNUM ? SQL_LIT_HEX : SQL_LIT_BIT,
			       t);
	case T_HEXSTR:
	case T_BITSTR:
		return quoted_number(p);
	case T_STRING:
	case T_NSTRING:
		return string_lit(p, (struct sql_str){ 0 });
	case T_NULL_ESC:
		advance(p);
		return new_lit(p, SQL_LIT_NULL, t);
	case T_PARAM:
		e = param(p, t, false);
		advance(p);
		return e;
	case T_USERVAR:
		e = new_expr(p, SQL_E_USERVAR, t->pos);
		if (!e)
			return NULL;
		e->name = t->flags & TF_QUOTED ? quoted_value(p, t) :
			  (struct sql_str){ p->sql + t->pos + 1, t->len - 1 };
		advance(p);
		if (accept(p, T_ASSIGN)) {
			e->kind = SQL_E_ASSIGN;
			if (!enter(p) || !(e->left = expr(p)))
				return NULL;
			leave(p, 1);
		}
		return e;
	case T_ATAT:
		return sysvar(p);
	case T_LP:
		return paren(p);
	case T_LBRACE:
		return unsupported(p, "ODBC escapes {...}", t->pos);
	case T_QNAME:
		return name_expr(p);
	case T_WORD:
		break;
	case T_BAD:
		return syntax(p, t->flags & TF_UNTERM ?
			      "the end of the quoted text" : "an expression");
	default:
		return syntax(p, "an expression");
	}
	switch (t->kw) {
	case K_NULL:
		advance(p);
		return new_lit(p, SQL_LIT_NULL, t);
	case K_TRUE:
		advance(p);
		return new_lit(p, SQL_LIT_TRUE, t);
	case K_FALSE:
		advance(p);
		return new_lit(p, SQL_LIT_FALSE, t);
	case K_DATE:
	case K_TIME:
	case K_TIMESTAMP:
		if (ahead(p, 1)->type != T_STRING)
			break;
		advance(p);
		e = string_lit(p, (struct sql_str){ 0 });
		if (e) {
			e->op = t->kw == K_DATE ? SQL_LIT_DATE :
				t->kw == K_TIME ? SQL_LIT_TIME :
				SQL_LIT_TIMESTAMP;
			e->pos = t->pos;
		}
		return e;
	case K_CASE:
		return case_expr(p);
	case K_EXISTS:
		e = new_expr(p, SQL_E_EXISTS, t->pos);
		advance(p);
		if (e && !(e->query = query_in_parens(p)))
			return NULL;
		return e;
	case K_INTERVAL:
		if (interval_is_call(p))
			break;
		return interval(p);
	case K_MATCH:
		return match(p);
	case K_DEFAULT:
		if (ahead(p, 1)->type == T_LP)
			break;
		advance(p);
		return new_expr(p, SQL_E_DEFAULT, t->pos);
	default:
		if (is_niladic(t->kw) && ahead(p, 1)->type != T_LP) {
			e = new_expr(p, SQL_E_FUNC, t->pos);
			if (e)
				e->fname = tok_text(p, t);
			advance(p);
			return e;
		}
		if (is_introducer(p))
			return introduced(p);
	}
	if (keywords[t->kw].reserved &&
	    !(is_reserved_function(t->kw) && ahead(p, 1)->type == T_LP))
		return syntax(p, "an expression");
	return name_expr(p);
}

/* e COLLATE x [COLLATE y ...] */
static struct sql_expr *collate_tail(struct parser *p, struct sql_expr *e)
{
	unsigned chain = 0;

	while (e && at_kw(p, K_COLLATE)) {
		struct sql_expr *c;

		if (!enter(p))
			return NULL;
		chain++;
		c = new_expr(p, SQL_E_COLLATE, e->pos);
		advance(p);
		if (!c)
			return NULL;
		if (!charset_name(p, &c->name, "a collation"))
			return NULL;
		c->left = e;
		e = c;
	}
	leave(p, chain);
	return e;
}

static struct sql_expr *collate(struct parser *p)
{
	return collate_tail(p, primary(p));
}

static struct sql_expr *unary(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_expr *e;
	uint8_t op;

	switch (t->type) {
	case T_MINUS: op = SQL_OP_NEG; break;
	case T_PLUS: op = SQL_OP_PLUS; break;
	case T_TILDE: op = SQL_OP_BITNOT; break;
	case T_BANG: op = SQL_OP_NOT; break;
	case T_WORD:
		if (t->kw == K_BINARY) {
			op = SQL_OP_BINARY;
			break;
		}
		if (t->kw == K_NOT && (p->flags & SQL_PARSE_HIGH_NOT_PRECEDENCE)) {
			op = SQL_OP_NOT;
			break;
		}
		/* fall through */
	default:
		return collate(p);
	}
	/* -1 is a negative number, not an operation on one */
	if (op == SQL_OP_NEG) {
		const struct tok *n = ahead(p, 1);

		if (n->type == T_INT || n->type == T_DECIMAL ||
		    n->type == T_FLOAT) {
			advance(p);
			e = primary(p);
			if (e) {
				e->flags |= SQL_EF_NEG;
				e->pos = t->pos;
			}
			return collate_tail(p, e);
		}
	}
	if (!enter(p))
		return NULL;
	e = new_expr(p, SQL_E_UNARY, t->pos);
	advance(p);
	if (e) {
		e->op = op;
		e->left = unary(p);
	}
	leave(p, 1);
	return e && e->left ? e : NULL;
}

/* Precedence of the binary operators between predicates and unary ones:
 * higher binds tighter. */
enum {
	P_NONE = 0, P_BITOR, P_BITAND, P_SHIFT, P_ADD, P_MUL, P_BITXOR,
	P_CONCAT,
};

static unsigned binop(const struct parser *p, const struct tok *t,
		      uint8_t *op)
{
	switch (t->type) {
	case T_PIPE: *op = SQL_OP_BITOR; return P_BITOR;
	case T_AMP: *op = SQL_OP_BITAND; return P_BITAND;
	case T_SHL: *op = SQL_OP_SHL; return P_SHIFT;
	case T_SHR: *op = SQL_OP_SHR; return P_SHIFT;
	case T_PLUS: *op = SQL_OP_ADD; return P_ADD;
	case T_MINUS: *op = SQL_OP_SUB; return P_ADD;
	case T_STAR: *op = SQL_OP_MUL; return P_MUL;
	case T_SLASH: *op = SQL_OP_DIV; return P_MUL;
	case T_PERCENT: *op = SQL_OP_MOD; return P_MUL;
	case T_CARET: *op = SQL_OP_BITXOR; return P_BITXOR;
	case T_OROR:
		*op = 0;
		return p->flags & SQL_PARSE_PIPES_AS_CONCAT ? P_CONCAT : P_NONE;
	case T_WORD:
		if (t->kw == K_DIV) {
			*op = SQL_OP_INTDIV;
			return P_MUL;
		}
		if (t->kw == K_MOD) {
			*op = SQL_OP_MOD;
			return P_MUL;
		}
		return P_NONE;
	default:
		return P_NONE;
	}
}

/* Binary operators binding at least as tight as min, left to right. */
static struct sql_expr *binary(struct parser *p, unsigned min)
{
	struct sql_expr *left = unary(p), *concat = NULL;
	unsigned chain = 0;

	while (left) {
		const struct tok *t = CUR(p);
		struct sql_expr *right, *e;
		uint8_t op;
		unsigned prec = binop(p, t, &op);

		if (prec == P_NONE || prec < min)
			break;
		if (!enter(p)) {
			left = NULL;
			break;
		}
		chain++;
		advance(p);
		right = binary(p, prec + 1);
		if (!right) {
			left = NULL;
			break;
		}
		if (prec == P_CONCAT) {
			/* a || b || c is CONCAT(a, b, c) */
			if (left != concat) {
				concat = new_expr(p, SQL_E_FUNC, left->pos);
				if (!concat) {
					left = NULL;
					break;
				}
				concat->fname = static_str("CONCAT");
				concat->args = left;
				left = concat;
			}
			append_arg(concat, right, SQL_SEP_COMMA);
			continue;
		}
		e = new_expr(p, SQL_E_BINARY, left->pos);
		if (!e) {
			left = NULL;
			break;
		}
		e->op = op;
		e->left = left;
		e->right = right;
		left = e;
	}
	leave(p, chain);
	return left;
}

/* IN, BETWEEN, LIKE, REGEXP, SOUNDS LIKE: at most one, on a bit_expr. */
static struct sql_expr *predicate(struct parser *p)
{
	struct sql_expr *left = binary(p, P_BITOR), *e;
	const struct tok *t = CUR(p), *n = ahead(p, 1);
	uint8_t flags = 0;

	if (!left)
		return NULL;
	if (is_kw(t, K_NOT) && (is_kw(n, K_IN) || is_kw(n, K_BETWEEN) ||
				is_kw(n, K_LIKE) || is_kw(n, K_REGEXP) ||
				is_kw(n, K_RLIKE))) {
		flags = SQL_EF_NOT;
		advance(p);
		t = CUR(p);
	}
	if (t->type != T_WORD)
		return left;
	switch (t->kw) {
	case K_IN:
		e = new_expr(p, SQL_E_IN, left->pos);
		if (!e)
			return NULL;
		advance(p);
		e->left = left;
		e->flags = flags;
		if (!at(p, T_LP))
			return syntax(p, "'('");
		if (!enter(p))
			return NULL;
		if (query_ahead(p)) {
			struct sql_parse_error best = { 0 };
			struct mark m = mark(p);

			advance(p);
			e->query = query_expr(p);
			if (e->query && accept(p, T_RP)) {
				leave(p, 1);
				return e;
			}
			if (e->query)
				syntax(p, "')'");
			e->query = NULL;
			if (!restore(p, m, &best))
				return NULL;
			advance(p);
			if (!expr_list(p, &e->args) ||
			    !expect(p, T_RP, "')'"))
				return worse_of(p, &best);
			leave(p, 1);
			return e;
		}
		advance(p);
		if (!expr_list(p, &e->args) || !expect(p, T_RP, "')'"))
			return NULL;
		leave(p, 1);
		return e;
	case K_BETWEEN:
		e = new_expr(p, SQL_E_BETWEEN, left->pos);
		if (!e)
			return NULL;
		advance(p);
		e->left = left;
		e->flags = flags;
		if (!(e->args = binary(p, P_BITOR)) ||
		    !expect_kw(p, K_AND, "AND") || !enter(p))
			return NULL;
		e->args->next = predicate(p);
		leave(p, 1);
		return e->args->next ? e : NULL;
	case K_LIKE:
	case K_REGEXP:
	case K_RLIKE:
	case K_SOUNDS:
		if (t->kw == K_SOUNDS && !is_kw(n, K_LIKE))
			return left;
		e = new_expr(p, SQL_E_LIKE, left->pos);
		if (!e)
			return NULL;
		e->op = t->kw == K_LIKE ? SQL_OP_LIKE :
			t->kw == K_SOUNDS ? SQL_OP_SOUNDS_LIKE : SQL_OP_REGEXP;
		if (t->kw == K_SOUNDS)
			advance(p);
		advance(p);
		e->left = left;
		e->flags = flags;
		if (!(e->right = binary(p, P_BITOR)))
			return NULL;
		if (e->op == SQL_OP_LIKE && accept_kw(p, K_ESCAPE) &&
		    !(e->args = unary(p)))
			return NULL;
		return e;
	case K_MEMBER:
		if (is_kw(n, K_OF))
			return unsupported(p, "MEMBER OF", t->pos);
		return left;
	default:
		return left;
	}
}

static uint8_t comparison_op(const struct tok *t)
{
	switch (t->type) {
	case T_EQ: return SQL_OP_EQ;
	case T_NULLEQ: return SQL_OP_NULLEQ;
	case T_NE: return SQL_OP_NE;
	case T_LT: return SQL_OP_LT;
	case T_LE: return SQL_OP_LE;
	case T_GT: return SQL_OP_GT;
	case T_GE: return SQL_OP_GE;
	default: return 0;
	}
}

/* Comparisons and IS, left to right: a = b IS NULL is (a = b) IS NULL. */
static struct sql_expr *comparison(struct parser *p)
{
	struct sql_expr *left = predicate(p);
	unsigned chain = 0;

	while (left) {
		const struct tok *t = CUR(p);
		uint8_t op = comparison_op(t);
		struct sql_expr *e;

		if (op) {
			const struct tok *q = ahead(p, 1);

			if (!enter(p))
				return NULL;
			chain++;
			advance(p);
			if ((is_kw(q, K_ANY) || is_kw(q, K_SOME) ||
			     is_kw(q, K_ALL)) && ahead(p, 1)->type == T_LP) {
				e = new_expr(p, SQL_E_QUANT, left->pos);
				if (!e)
					return NULL;
				if (q->kw == K_ALL)
					e->flags |= SQL_EF_ALL;
				advance(p);
				if (!(e->query = query_in_parens(p)))
					return NULL;
			} else {
				e = new_expr(p, SQL_E_BINARY, left->pos);
				if (!e || !(e->right = predicate(p)))
					return NULL;
			}
			e->op = op;
			e->left = left;
			left = e;
		} else if (is_kw(t, K_IS)) {
			if (!enter(p))
				return NULL;
			chain++;
			e = new_expr(p, SQL_E_IS, left->pos);
			if (!e)
				return NULL;
			advance(p);
			if (accept_kw(p, K_NOT))
				e->flags |= SQL_EF_NOT;
			t = CUR(p);
			e->op = is_kw(t, K_NULL) ? SQL_OP_IS_NULL :
				is_kw(t, K_TRUE) ? SQL_OP_IS_TRUE :
				is_kw(t, K_FALSE) ? SQL_OP_IS_FALSE :
				is_kw(t, K_UNKNOWN) ? SQL_OP_IS_UNKNOWN : 0;
			if (!e->op)
				return syntax(p, "NULL, TRUE, FALSE or UNKNOWN");
			advance(p);
			e->left = left;
			left = e;
		} else {
			break;
		}
	}
	leave(p, chain);
	return left;
}

static struct sql_expr *not_expr(struct parser *p)
{
	struct sql_expr *e;

	if ((p->flags & SQL_PARSE_HIGH_NOT_PRECEDENCE) || !at_kw(p, K_NOT))
		return comparison(p);
	if (!enter(p))
		return NULL;
	e = new_expr(p, SQL_E_UNARY, CUR(p)->pos);
	advance(p);
	if (e) {
		e->op = SQL_OP_NOT;
		e->left = not_expr(p);
	}
	leave(p, 1);
	return e && e->left ? e : NULL;
}

static bool logic_op(const struct parser *p, unsigned level)
{
	const struct tok *t = CUR(p);

	switch (level) {
	case 0:
		return is_kw(t, K_OR) || (t->type == T_OROR &&
			!(p->flags & SQL_PARSE_PIPES_AS_CONCAT));
	case 1:
		return is_kw(t, K_XOR);
	default:
		return is_kw(t, K_AND) || t->type == T_ANDAND;
	}
}

/* OR (level 0), XOR (1), AND (2): a chain written without parentheses
 * is one node with every operand. */
static struct sql_expr *logic(struct parser *p, unsigned level)
{
	struct sql_expr *first = level == 2 ? not_expr(p) : logic(p, level + 1);
	struct sql_expr *e, *tail;

	if (!first || !logic_op(p, level))
		return first;
	e = new_expr(p, SQL_E_LOGIC, first->pos);
	if (!e)
		return NULL;
	e->op = level == 0 ? SQL_OP_OR : level == 1 ? SQL_OP_XOR : SQL_OP_AND;
	e->args = tail = first;
	while (logic_op(p, level)) {
		struct sql_expr *next;

		advance(p);
		next = level == 2 ? not_expr(p) : logic(p, level + 1);
		if (!next)
			return NULL;
		tail->next = next;
		tail = next;
	}
	return e;
}

static struct sql_expr *expr(struct parser *p)
{
	return logic(p, 0);
}

/* ---- queries --------------------------------------------------------- */

static struct sql_from *table_refs(struct parser *p);

static struct sql_query *new_query(struct parser *p, uint8_t kind,
				   uint32_t pos)
{
	struct sql_query *q = NEW(p, struct sql_query);

	if (q) {
		q->kind = kind;
		q->pos = pos;
	}
	return q;
}

static struct sql_order *order_list(struct parser *p)
{
	struct sql_order *head = NULL, **tail = &head;

	do {
		struct sql_order *o = NEW(p, struct sql_order);

		/* ORDER BY ? orders by a constant; ORDER BY 2 by the second
		 * column: a bound value is not written in. */
		if (CUR(p)->type == T_PARAM)
			p->keep_param = p->i + 1;
		if (!o || !(o->expr = expr(p)))
			return NULL;
		if (accept_kw(p, K_DESC))
			o->desc = true;
		else
			accept_kw(p, K_ASC);
		*tail = o;
		tail = &o->next;
	} while (accept(p, T_COMMA));
	return head;
}

static bool names_in_parens(struct parser *p, struct sql_name **out,
			    bool allow_primary)
{
	struct sql_name **tail = out;

	if (!expect(p, T_LP, "'('"))
		return false;
	if (accept(p, T_RP))
		return true;
	do {
		struct sql_name *n = NEW(p, struct sql_name);

		if (!n)
			return false;
		if (allow_primary && at_kw(p, K_PRIMARY)) {
			n->name = kw_str(K_PRIMARY);
			advance(p);
		} else if (!name(p, &n->name, "a name")) {
			return false;
		}
		*tail = n;
		tail = &n->next;
	} while (accept(p, T_COMMA));
	return expect(p, T_RP, "')'");
}

/* LIMIT and OFFSET take a number or a ?. */
static struct sql_expr *limit_value(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_expr *e;

	if (t->type == T_INT) {
		advance(p);
		return new_lit(p, SQL_LIT_INT, t);
	}
	if (t->type == T_PARAM) {
		e = param(p, t, true);
		advance(p);
		return e;
	}
	return syntax(p, "a number or ?");
}

static bool limit_clause(struct parser *p, struct sql_expr **limit,
			 struct sql_expr **offset, bool with_offset)
{
	struct sql_expr *a;

	advance(p);                     /* LIMIT */
	if (at_kw(p, K_ROWS))
		return unsupported(p, "LIMIT ROWS EXAMINED", CUR(p)->pos),
		       false;
	if (!(a = limit_value(p)))
		return false;
	if (with_offset && accept(p, T_COMMA)) {
		*offset = a;
		return (*limit = limit_value(p)) != NULL;
	}
	*limit = a;
	if (with_offset && accept_kw(p, K_OFFSET))
		return (*offset = limit_value(p)) != NULL;
	if (at_kw(p, K_ROWS))
		return unsupported(p, "LIMIT ROWS EXAMINED", CUR(p)->pos),
		       false;
	return true;
}

static bool lock_clause(struct parser *p, struct sql_query *q)
{
	if (at_kw(p, K_FOR)) {
		advance(p);
		if (accept_kw(p, K_UPDATE))
			q->lock = SQL_LOCK_UPDATE;
		else if (accept_kw(p, K_SHARE))
			q->lock = SQL_LOCK_SHARE;
		else
			return syntax(p, "UPDATE or SHARE"), false;
		if (at_kw(p, K_OF))
			return unsupported(p, "FOR UPDATE OF", CUR(p)->pos),
			       false;
	} else if (at_kw(p, K_LOCK)) {
		advance(p);
		if (!expect_kw(p, K_IN, "IN") || !expect_kw(p, K_SHARE, "SHARE") ||
		    !expect_kw(p, K_MODE, "MODE"))
			return false;
		q->lock = SQL_LOCK_SHARE_MODE;
		return true;
	} else {
		return true;
	}
	if (accept_kw(p, K_NOWAIT)) {
		q->lock_wait = SQL_WAIT_NOWAIT;
	} else if (at_kw(p, K_SKIP)) {
		advance(p);
		if (!expect_kw(p, K_LOCKED, "LOCKED"))
			return false;
		q->lock_wait = SQL_WAIT_SKIP_LOCKED;
	} else if (accept_kw(p, K_WAIT)) {
		q->lock_wait = SQL_WAIT_SECONDS;
		if (!at(p, T_INT) && !at(p, T_DECIMAL))
			return syntax(p, "a number"), false;
		q->lock_wait_secs = new_lit(p, at(p, T_INT) ? SQL_LIT_INT :
					    SQL_LIT_DECIMAL, CUR(p));
		advance(p);
	}
	return true;
}

static void *select_into(struct parser *p)
{
	return unsupported(p, "SELECT ... INTO", CUR(p)->pos);
}

static bool has_tail(const struct sql_query *q)
{
	return q->order || q->limit || q->offset || q->lock;
}

static struct sql_query *wrap(struct parser *p, struct sql_query *q)
{
	struct sql_query *w = new_query(p, SQL_Q_PAREN, q->pos);

	if (w)
		w->left = q;
	return w;
}

/* ORDER BY, LIMIT and locking after a query body: on it, or on a PAREN
 * over it when it has its own ("(SELECT ... LIMIT 1) LIMIT 2"). */
static struct sql_query *query_tail(struct parser *p, struct sql_query *q)
{
	struct sql_query t = { 0 };

	if (at_kw(p, K_ORDER)) {
		advance(p);
		if (!expect_kw(p, K_BY, "BY") || !(t.order = order_list(p)))
			return NULL;
	}
	if (at_kw(p, K_LIMIT) &&
	    !limit_clause(p, &t.limit, &t.offset, true))
		return NULL;
	if (at_kw(p, K_OFFSET) || at_kw(p, K_FETCH))
		return unsupported(p, "OFFSET ... FETCH", CUR(p)->pos);
	if (at_kw(p, K_PROCEDURE))
		return unsupported(p, "PROCEDURE", CUR(p)->pos);
	if (at_kw(p, K_INTO))
		return select_into(p);
	if (!lock_clause(p, &t))
		return NULL;
	if (at_kw(p, K_INTO))
		return select_into(p);
	if (!has_tail(&t))
		return q;
	if (has_tail(q) && !(q = wrap(p, q)))
		return NULL;
	q->order = t.order;
	q->limit = t.limit;
	q->offset = t.offset;
	q->lock = t.lock;
	q->lock_wait = t.lock_wait;
	q->lock_wait_secs = t.lock_wait_secs;
	return q;
}

static struct sql_item *select_item(struct parser *p)
{
	struct sql_item *it = NEW(p, struct sql_item);
	const struct tok *t = CUR(p);

	if (!it)
		return NULL;
	it->start = t->pos;
	if (t->type == T_STAR) {
		if (!(it->expr = new_expr(p, SQL_E_STAR, t->pos)))
			return NULL;
		advance(p);
	} else if (!(it->expr = expr(p))) {
		return NULL;
	}
	it->end = p->last_end;
	if (accept_kw(p, K_AS)) {
		if (!name_or_string(p, &it->alias, "an alias"))
			return NULL;
	} else if (is_name_tok(CUR(p)) || at(p, T_STRING)) {
		name_or_string(p, &it->alias, "an alias");
	}
	return it;
}

static const struct {
	uint16_t kw;
	uint16_t flag;
} select_options[] = {
	{ K_DISTINCT, SQL_SEL_DISTINCT },
	{ K_DISTINCTROW, SQL_SEL_DISTINCT },
	{ K_HIGH_PRIORITY, SQL_SEL_HIGH_PRIORITY },
	{ K_STRAIGHT_JOIN, SQL_SEL_STRAIGHT_JOIN },
	{ K_SQL_SMALL_RESULT, SQL_SEL_SMALL_RESULT },
	{ K_SQL_BIG_RESULT, SQL_SEL_BIG_RESULT },
	{ K_SQL_BUFFER_RESULT, SQL_SEL_BUFFER_RESULT },
	{ K_SQL_CACHE, SQL_SEL_CACHE },
	{ K_SQL_NO_CACHE, SQL_SEL_NO_CACHE },
	{ K_SQL_CALC_FOUND_ROWS, SQL_SEL_CALC_FOUND_ROWS },
	{ K_ALL, 0 },
};

static struct sql_query *select_core(struct parser *p)
{
	struct sql_query *q = new_query(p, SQL_Q_SELECT, CUR(p)->pos);
	struct sql_item **tail;

	if (!q)
		return NULL;
	advance(p);                     /* SELECT */
	for (;;) {
		size_t i;

		for (i = 0; i < sizeof(select_options) /
				sizeof(select_options[0]); i++)
			if (at_kw(p, select_options[i].kw))
				break;
		if (i == sizeof(select_options) / sizeof(select_options[0]))
			break;
		q->options |= select_options[i].flag;
		advance(p);
	}
	tail = &q->items;
	do {
		struct sql_item *it = select_item(p);

		if (!it)
			return NULL;
		*tail = it;
		tail = &it->next;
	} while (accept(p, T_COMMA));
	if (at_kw(p, K_INTO))
		return select_into(p);
	if (accept_kw(p, K_FROM)) {
		if (accept_kw(p, K_DUAL))
			q->from_dual = true;
		else if (!(q->from = table_refs(p)))
			return NULL;
	}
	if (accept_kw(p, K_WHERE) && !(q->where = expr(p)))
		return NULL;
	if (at_kw(p, K_GROUP)) {
		advance(p);
		if (!expect_kw(p, K_BY, "BY") || !(q->group = order_list(p)))
			return NULL;
		if (at_kw(p, K_WITH) && is_kw(ahead(p, 1), K_ROLLUP))
			return unsupported(p, "GROUP BY ... WITH ROLLUP",
					   CUR(p)->pos);
	}
	if (accept_kw(p, K_HAVING) && !(q->having = expr(p)))
		return NULL;
	if (at_kw(p, K_WINDOW))
		return unsupported(p, "WINDOW", CUR(p)->pos);
	return q;
}

static struct sql_query *query_term(struct parser *p)
{
	struct sql_query *q;

	switch (CUR(p)->kw) {
	case K_SELECT:
		return select_core(p);
	case K_VALUES:
		return unsupported(p, "VALUES as a query", CUR(p)->pos);
	case K_TABLE:
		return unsupported(p, "TABLE as a query", CUR(p)->pos);
	case K_UPDATE:
	case K_DELETE:
	case K_INSERT:
	case K_REPLACE:
		return unsupported(p, "WITH ... UPDATE, DELETE or INSERT",
				   CUR(p)->pos);
	}
	if (!at(p, T_LP))
		return syntax(p, "SELECT");
	advance(p);
	if (!paren_enter(p))
		return NULL;
	q = query_expr(p);
	if (q && !expect(p, T_RP, "')'"))
		return NULL;
	p->parens--;
	return q;
}

static struct sql_query *set_op(struct parser *p, struct sql_query *left,
				uint8_t kind)
{
	struct sql_query *q = new_query(p, kind, left->pos);

	if (!q)
		return NULL;
	advance(p);
	if (accept_kw(p, K_ALL))
		q->all = true;
	else
		accept_kw(p, K_DISTINCT);
	q->left = left;
	return q;
}

/* INTERSECT binds tighter than UNION and EXCEPT (MariaDB 10.4, MySQL
 * 8.0.31); each is left-associative. */
static struct sql_query *query_intersect(struct parser *p)
{
	struct sql_query *left = query_term(p);
	unsigned chain = 0;

	while (left && at_kw(p, K_INTERSECT)) {
		struct sql_query *q;

		if (!enter(p))
			return NULL;
		chain++;
		if (!(q = set_op(p, left, SQL_Q_INTERSECT)) ||
		    !(q->right = query_term(p)))
			return NULL;
		left = q;
	}
	leave(p, chain);
	return left;
}

static struct sql_query *query_union(struct parser *p)
{
	struct sql_query *left = query_intersect(p);
	unsigned chain = 0;

	while (left && (at_kw(p, K_UNION) || at_kw(p, K_EXCEPT))) {
		struct sql_query *q;

		if (!enter(p))
			return NULL;
		chain++;
		if (!(q = set_op(p, left, at_kw(p, K_UNION) ? SQL_Q_UNION :
				 SQL_Q_EXCEPT)) ||
		    !(q->right = query_intersect(p)))
			return NULL;
		left = q;
	}
	leave(p, chain);
	return left;
}

static struct sql_cte *with_clause(struct parser *p, bool *recursive)
{
	struct sql_cte *head = NULL, **tail = &head;

	advance(p);                     /* WITH */
	*recursive = accept_kw(p, K_RECURSIVE);
	do {
		struct sql_cte *c = NEW(p, struct sql_cte);

		if (!c || !name(p, &c->name, "a name"))
			return NULL;
		if (at(p, T_LP) && !names_in_parens(p, &c->columns, false))
			return NULL;
		if (!expect_kw(p, K_AS, "AS") ||
		    !(c->query = query_in_parens(p)))
			return NULL;
		*tail = c;
		tail = &c->next;
	} while (accept(p, T_COMMA));
	return head;
}

/* [WITH ...] body [ORDER BY] [LIMIT] [locking] */
static struct sql_query *query_expr(struct parser *p)
{
	struct sql_cte *with = NULL;
	bool recursive = false;
	struct sql_query *q;

	if (at_kw(p, K_WITH) && !(with = with_clause(p, &recursive)))
		return NULL;
	q = query_union(p);
	if (q)
		q = query_tail(p, q);
	if (q && with) {
		if (q->with && !(q = wrap(p, q)))
			return NULL;
		q->with = with;
		q->recursive = recursive;
	}
	return q;
}

/* ---- table references ------------------------------------------------ */

static struct sql_from *new_from(struct parser *p, uint8_t kind,
				 uint32_t pos)
{
	struct sql_from *f = NEW(p, struct sql_from);

	if (f) {
		f->kind = kind;
		f->pos = pos;
	}
	return f;
}

static bool alias(struct parser *p, struct sql_str *out)
{
	if (accept_kw(p, K_AS))
		return name(p, out, "an alias");
	if (is_name_tok(CUR(p)))
		return name(p, out, "an alias");
	return true;
}

static bool index_hints(struct parser *p, struct sql_from *f)
{
	struct sql_index_hint **tail = &f->hints;

	for (;;) {
		const struct tok *t = CUR(p), *n = ahead(p, 1);
		struct sql_index_hint *h;

		if (!(is_kw(t, K_USE) || is_kw(t, K_FORCE) ||
		      is_kw(t, K_IGNORE)) ||
		    !(is_kw(n, K_INDEX) || is_kw(n, K_KEY)))
			return true;
		if (!(h = NEW(p, struct sql_index_hint)))
			return false;
		h->kind = t->kw == K_USE ? SQL_HINT_USE :
			  t->kw == K_FORCE ? SQL_HINT_FORCE : SQL_HINT_IGNORE;
		advance(p);
		advance(p);
		if (accept_kw(p, K_FOR)) {
			if (accept_kw(p, K_JOIN)) {
				h->scope = SQL_HINT_JOIN;
			} else if (accept_kw(p, K_ORDER)) {
				h->scope = SQL_HINT_ORDER_BY;
			} else if (accept_kw(p, K_GROUP)) {
				h->scope = SQL_HINT_GROUP_BY;
			} else {
				syntax(p, "JOIN, ORDER BY or GROUP BY");
				return false;
			}
			if (h->scope != SQL_HINT_JOIN &&
			    !expect_kw(p, K_BY, "BY"))
				return false;
		}
		if (!names_in_parens(p, &h->names, true))
			return false;
		*tail = h;
		tail = &h->next;
	}
}

/* [schema.]name */
static bool table_name(struct parser *p, struct sql_str *schema,
		       struct sql_str *table)
{
	if (!name(p, table, "a table name"))
		return false;
	if (accept(p, T_DOT)) {
		*schema = *table;
		return name_after_dot(p, table);
	}
	return true;
}

static struct sql_from *table_factor(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_parse_error best = { 0 };
	struct sql_from *f;

	if (t->type == T_LP) {
		struct sql_from *list;

		if (query_ahead(p)) {
			struct mark m = mark(p);
			struct sql_query *q;

			advance(p);
			q = enter(p) ? query_expr(p) : NULL;
			if (q && accept(p, T_RP)) {
				leave(p, 1);
				f = new_from(p, SQL_FROM_DERIVED, t->pos);
				if (!f)
					return NULL;
				f->query = q;
				if (!alias(p, &f->alias))
					return NULL;
				if (at(p, T_LP) &&
				    !names_in_parens(p, &f->columns, false))
					return NULL;
				return f;
			}
			if (q)
				syntax(p, "')'");
			if (!restore(p, m, &best))
				return NULL;
		}
		advance(p);
		if (!paren_enter(p))
			return NULL;
		list = table_refs(p);
		if (!list || !expect(p, T_RP, "')'"))
			return worse_of(p, &best);
		p->parens--;
		if (!list->next)
			return list;
		f = new_from(p, SQL_FROM_NEST, t->pos);
		if (f)
			f->list = list;
		return f;
	}
	if (t->type == T_LBRACE)
		return unsupported(p, "ODBC escapes {...}", t->pos);
	if (is_kw(t, K_LATERAL) && ahead(p, 1)->type == T_LP)
		return unsupported(p, "LATERAL", t->pos);
	if (is_kw(t, K_JSON_TABLE) && ahead(p, 1)->type == T_LP)
		return unsupported(p, "JSON_TABLE", t->pos);
	f = new_from(p, SQL_FROM_TABLE, t->pos);
	if (!f || !table_name(p, &f->schema, &f->name))
		return NULL;
	if (at_kw(p, K_PARTITION))
		return unsupported(p, "PARTITION (...)", CUR(p)->pos);
	if (at_kw(p, K_FOR) && tok_is(p, ahead(p, 1), "SYSTEM_TIME"))
		return unsupported(p, "FOR SYSTEM_TIME", CUR(p)->pos);
	if (!alias(p, &f->alias) || !index_hints(p, f))
		return NULL;
	return f;
}

static bool join_ahead(const struct parser *p)
{
	switch (CUR(p)->type == T_WORD ? CUR(p)->kw : K_NONE) {
	case K_JOIN: case K_INNER: case K_CROSS: case K_LEFT: case K_RIGHT:
	case K_NATURAL: case K_STRAIGHT_JOIN:
		return true;
	default:
		return false;
	}
}

/*
 * left JOIN ...: as MySQL's grammar reads it, a join whose right side is
 * followed by another join before its ON takes that join as its right
 * side (a JOIN b JOIN c ON x is a JOIN (b JOIN c ON x)); NATURAL and
 * STRAIGHT_JOIN take a single table.
 */
static struct sql_from *join(struct parser *p, struct sql_from *left)
{
	struct sql_from *j = new_from(p, SQL_FROM_JOIN, CUR(p)->pos);
	unsigned nested = 0;
	bool single = false;

	if (!j)
		return NULL;
	j->left = left;
	j->join = SQL_JOIN_INNER;
	switch (CUR(p)->kw) {
	case K_NATURAL:
		advance(p);
		j->natural = true;
		single = true;
		if (at_kw(p, K_LEFT) || at_kw(p, K_RIGHT)) {
			j->join = at_kw(p, K_LEFT) ? SQL_JOIN_LEFT :
				  SQL_JOIN_RIGHT;
			advance(p);
			accept_kw(p, K_OUTER);
		} else {
			accept_kw(p, K_INNER);
		}
		if (!expect_kw(p, K_JOIN, "JOIN"))
			return NULL;
		break;
	case K_STRAIGHT_JOIN:
		advance(p);
		j->join = SQL_JOIN_STRAIGHT;
		single = true;
		break;
	case K_INNER:
	case K_CROSS:
		advance(p);
		if (!expect_kw(p, K_JOIN, "JOIN"))
			return NULL;
		break;
	case K_LEFT:
	case K_RIGHT:
		j->join = at_kw(p, K_LEFT) ? SQL_JOIN_LEFT : SQL_JOIN_RIGHT;
		advance(p);
		accept_kw(p, K_OUTER);
		if (!expect_kw(p, K_JOIN, "JOIN"))
			return NULL;
		break;
	default:
		advance(p);             /* JOIN */
	}
	if (!(j->right = table_factor(p)))
		return NULL;
	if (j->natural)
		return j;
	while (!single && join_ahead(p)) {
		if (!enter(p))
			return NULL;
		nested++;
		if (!(j->right = join(p, j->right)))
			return NULL;
	}
	leave(p, nested);
	if (accept_kw(p, K_ON)) {
		if (!(j->on = expr(p)))
			return NULL;
	} else if (!single && accept_kw(p, K_USING)) {
		if (!names_in_parens(p, &j->using_cols, false))
			return NULL;
		if (!j->using_cols)
			return syntax(p, "a column");
	} else if (j->join == SQL_JOIN_LEFT || j->join == SQL_JOIN_RIGHT) {
		return syntax(p, "ON or USING");
	}
	return j;
}

static struct sql_from *table_ref(struct parser *p)
{
	struct sql_from *left = table_factor(p);
	unsigned chain = 0;

	while (left && join_ahead(p)) {
		if (!enter(p))
			return NULL;
		chain++;
		left = join(p, left);
	}
	leave(p, chain);
	return left;
}

static struct sql_from *table_refs(struct parser *p)
{
	struct sql_from *head = table_ref(p), *tail = head;

	while (tail && accept(p, T_COMMA)) {
		tail->next = table_ref(p);
		tail = tail->next;
	}
	return tail ? head : NULL;
}

/* ---- INSERT, UPDATE, DELETE ------------------------------------------ */

/* A column: [[schema.]table.]name, as a SQL_E_COLUMN. */
static struct sql_expr *column_ref(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_str parts[3];
	struct sql_expr *e;
	unsigned n = 1;

	if (!name(p, &parts[0], "a column"))
		return NULL;
	while (n < 3 && accept(p, T_DOT))
		if (!name_after_dot(p, &parts[n++]))
			return NULL;
	e = new_expr(p, SQL_E_COLUMN, t->pos);
	if (!e)
		return NULL;
	e->column = parts[n - 1];
	if (n >= 2)
		e->table = parts[n - 2];
	if (n == 3)
		e->schema = parts[0];
	return e;
}

/* col = value, ... (UPDATE SET, INSERT SET, ON DUPLICATE KEY UPDATE) */
static struct sql_assign *assignments(struct parser *p)
{
	struct sql_assign *head = NULL, **tail = &head;

	do {
		struct sql_assign *a = NEW(p, struct sql_assign);

		if (!a || !(a->column = column_ref(p)))
			return NULL;
		if (!accept(p, T_EQ) && !expect(p, T_ASSIGN, "'='"))
			return NULL;
		if (!(a->value = expr(p)))
			return NULL;
		*tail = a;
		tail = &a->next;
	} while (accept(p, T_COMMA));
	return head;
}

static void *returning(struct parser *p)
{
	return unsupported(p, "RETURNING", CUR(p)->pos);
}

static bool insert_rows(struct parser *p, struct sql_insert *in)
{
	struct sql_expr **tail = &in->rows;

	if (at_kw(p, K_ROW))
		return unsupported(p, "VALUES ROW(...)", CUR(p)->pos), false;
	do {
		struct sql_expr *r = new_expr(p, SQL_E_ROW, CUR(p)->pos);

		if (!r || !expect(p, T_LP, "'('"))
			return false;
		if (!at(p, T_RP) && !expr_list(p, &r->args))
			return false;
		if (!expect(p, T_RP, "')'"))
			return false;
		*tail = r;
		tail = &r->next;
	} while (accept(p, T_COMMA));
	return true;
}

static struct sql_statement *insert(struct parser *p, struct sql_statement *st)
{
	struct sql_insert *in = NEW(p, struct sql_insert);
	bool replace = at_kw(p, K_REPLACE);

	if (!in)
		return NULL;
	st->kind = SQL_ST_INSERT;
	st->insert = in;
	advance(p);
	if (replace)
		in->flags |= SQL_INS_REPLACE;
	for (;;) {
		if (accept_kw(p, K_LOW_PRIORITY))
			in->flags |= SQL_INS_LOW_PRIORITY;
		else if (accept_kw(p, K_DELAYED))
			in->flags |= SQL_INS_DELAYED;
		else if (!replace && accept_kw(p, K_HIGH_PRIORITY))
			in->flags |= SQL_INS_HIGH_PRIORITY;
		else if (!replace && accept_kw(p, K_IGNORE))
			in->flags |= SQL_INS_IGNORE;
		else
			break;
	}
	accept_kw(p, K_INTO);
	if (!table_name(p, &in->schema, &in->table))
		return NULL;
	if (at_kw(p, K_PARTITION))
		return unsupported(p, "PARTITION (...)", CUR(p)->pos);
	if (at(p, T_LP) && !query_ahead(p)) {
		struct sql_name **tail = &in->columns;

		advance(p);
		while (!at(p, T_RP)) {
			struct sql_name *n = NEW(p, struct sql_name);
			struct sql_expr *c;

			/* t.a and db.t.a name t's column a */
			if (!n || !(c = column_ref(p)))
				return NULL;
			n->name = c->column;
			*tail = n;
			tail = &n->next;
			if (!accept(p, T_COMMA))
				break;
		}
		if (!expect(p, T_RP, "')'"))
			return NULL;
	}
	if (accept_kw(p, K_VALUES) || accept_kw(p, K_VALUE)) {
		if (!insert_rows(p, in))
			return NULL;
	} else if (at_kw(p, K_SET) && !in->columns) {
		advance(p);
		if (!(in->set = assignments(p)))
			return NULL;
	} else if (at_kw(p, K_SELECT) || at_kw(p, K_WITH) || at(p, T_LP)) {
		if (!(in->query = query_expr(p)))
			return NULL;
	} else if (at_kw(p, K_TABLE)) {
		return unsupported(p, "INSERT ... TABLE", CUR(p)->pos);
	} else {
		return syntax(p, "VALUES, SET or SELECT");
	}
	if (at_kw(p, K_AS))
		return unsupported(p, "INSERT ... AS alias", CUR(p)->pos);
	if (!replace && at_kw(p, K_ON)) {
		advance(p);
		if (!expect_kw(p, K_DUPLICATE, "DUPLICATE") ||
		    !expect_kw(p, K_KEY, "KEY") ||
		    !expect_kw(p, K_UPDATE, "UPDATE") ||
		    !(in->update = assignments(p)))
			return NULL;
	}
	if (at_kw(p, K_RETURNING))
		return returning(p);
	return st;
}

static struct sql_statement *update(struct parser *p, struct sql_statement *st)
{
	struct sql_update *u = NEW(p, struct sql_update);

	if (!u)
		return NULL;
	st->kind = SQL_ST_UPDATE;
	st->update = u;
	advance(p);
	for (;;) {
		if (accept_kw(p, K_LOW_PRIORITY))
			u->flags |= SQL_DML_LOW_PRIORITY;
		else if (accept_kw(p, K_IGNORE))
			u->flags |= SQL_DML_IGNORE;
		else
			break;
	}
	if (!(u->tables = table_refs(p)))
		return NULL;
	u->multi = u->tables->next || u->tables->kind != SQL_FROM_TABLE;
	if (!expect_kw(p, K_SET, "SET") || !(u->set = assignments(p)))
		return NULL;
	if (accept_kw(p, K_WHERE) && !(u->where = expr(p)))
		return NULL;
	if (at_kw(p, K_ORDER)) {
		advance(p);
		if (!expect_kw(p, K_BY, "BY") || !(u->order = order_list(p)))
			return NULL;
	}
	if (at_kw(p, K_LIMIT) && !limit_clause(p, &u->limit, NULL, false))
		return NULL;
	return st;
}

/* A DELETE target: [schema.]name[.*], and for a single table an alias. */
static struct sql_from *delete_target(struct parser *p)
{
	struct sql_from *f = new_from(p, SQL_FROM_TABLE, CUR(p)->pos);

	if (!f || !name(p, &f->name, "a table name"))
		return NULL;
	if (accept(p, T_DOT)) {
		if (accept(p, T_STAR)) {
			f->star = true;
			return f;
		}
		f->schema = f->name;
		if (!name_after_dot(p, &f->name))
			return NULL;
		if (at(p, T_DOT) && ahead(p, 1)->type == T_STAR) {
			advance(p);
			advance(p);
			f->star = true;
		}
	}
	return f;
}

static struct sql_from *delete_targets(struct parser *p)
{
	struct sql_from *head = NULL, **tail = &head;

	do {
		struct sql_from *f = delete_target(p);

		if (!f)
			return NULL;
		*tail = f;
		tail = &f->next;
	} while (accept(p, T_COMMA));
	return head;
}

static struct sql_statement *delete(struct parser *p, struct sql_statement *st)
{
	struct sql_delete *d = NEW(p, struct sql_delete);

	if (!d)
		return NULL;
	st->kind = SQL_ST_DELETE;
	st->del = d;
	advance(p);
	for (;;) {
		if (accept_kw(p, K_LOW_PRIORITY))
			d->flags |= SQL_DML_LOW_PRIORITY;
		else if (accept_kw(p, K_QUICK))
			d->flags |= SQL_DML_QUICK;
		else if (accept_kw(p, K_IGNORE))
			d->flags |= SQL_DML_IGNORE;
		else
			break;
	}
	if (accept_kw(p, K_FROM)) {
		struct sql_from *list = delete_targets(p);

		if (!list)
			return NULL;
		if (accept_kw(p, K_USING)) {
			d->form = SQL_DELETE_USING;
			d->targets = list;
			if (!(d->tables = table_refs(p)))
				return NULL;
		} else if (list->next || list->star) {
			return syntax(p, "USING");
		} else {
			d->form = SQL_DELETE_SINGLE;
			d->tables = list;
			if (at_kw(p, K_PARTITION))
				return unsupported(p, "PARTITION (...)",
						   CUR(p)->pos);
			if (!alias(p, &list->alias))
				return NULL;
		}
	} else {
		d->form = SQL_DELETE_MULTI;
		if (!(d->targets = delete_targets(p)) ||
		    !expect_kw(p, K_FROM, "FROM") ||
		    !(d->tables = table_refs(p)))
			return NULL;
	}
	if (accept_kw(p, K_WHERE) && !(d->where = expr(p)))
		return NULL;
	if (d->form == SQL_DELETE_SINGLE) {
		if (at_kw(p, K_ORDER)) {
			advance(p);
			if (!expect_kw(p, K_BY, "BY") ||
			    !(d->order = order_list(p)))
				return NULL;
		}
		if (at_kw(p, K_LIMIT) &&
		    !limit_clause(p, &d->limit, NULL, false))
			return NULL;
	}
	if (at_kw(p, K_RETURNING))
		return returning(p);
	return st;
}

/* ---- session statements ---------------------------------------------- */

static uint8_t scope_kw(const struct tok *t)
{
	if (is_kw(t, K_GLOBAL))
		return SQL_SCOPE_GLOBAL;
	if (is_kw(t, K_SESSION) || is_kw(t, K_LOCAL))
		return SQL_SCOPE_SESSION;
	return SQL_SCOPE_NONE;
}

static bool transaction_chars(struct parser *p, struct sql_set_item *s)
{
	do {
		if (accept_kw(p, K_ISOLATION)) {
			if (!expect_kw(p, K_LEVEL, "LEVEL"))
				return false;
			if (accept_kw(p, K_SERIALIZABLE)) {
				s->isolation = SQL_ISO_SERIALIZABLE;
			} else if (accept_kw(p, K_REPEATABLE)) {
				if (!expect_kw(p, K_READ, "READ"))
					return false;
				s->isolation = SQL_ISO_REPEATABLE_READ;
			} else if (accept_kw(p, K_READ)) {
				if (accept_kw(p, K_COMMITTED))
					s->isolation = SQL_ISO_READ_COMMITTED;
				else if (expect_kw(p, K_UNCOMMITTED,
						   "COMMITTED or UNCOMMITTED"))
					s->isolation =
						SQL_ISO_READ_UNCOMMITTED;
				else
					return false;
			} else {
				syntax(p, "an isolation level");
				return false;
			}
		} else if (accept_kw(p, K_READ)) {
			if (accept_kw(p, K_ONLY))
				s->access = SQL_ACCESS_READ_ONLY;
			else if (expect_kw(p, K_WRITE, "ONLY or WRITE"))
				s->access = SQL_ACCESS_READ_WRITE;
			else
				return false;
		} else {
			syntax(p, "ISOLATION LEVEL or READ");
			return false;
		}
	} while (accept(p, T_COMMA));
	return true;
}

/* The value of a system variable: also ON, ALL, BINARY, ROW, SYSTEM
 * standing alone. */
static struct sql_expr *set_value(struct parser *p)
{
	const struct tok *t = CUR(p), *n = ahead(p, 1);

	if (t->type == T_WORD && (n->type == T_COMMA || n->type == T_END) &&
	    (t->kw == K_ON || t->kw == K_ALL || t->kw == K_BINARY ||
	     t->kw == K_ROW || t->kw == K_SYSTEM)) {
		struct sql_expr *e = keyword_arg(p, kw_str(t->kw), 0);

		advance(p);
		return e;
	}
	return expr(p);
}

static struct sql_set_item *set_item(struct parser *p, bool first)
{
	struct sql_set_item *s = NEW(p, struct sql_set_item);
	const struct tok *t = CUR(p), *n = ahead(p, 1);

	if (!s)
		return NULL;
	if (scope_kw(t) && n->type != T_EQ && n->type != T_ASSIGN &&
	    n->type != T_DOT) {
		s->scope = scope_kw(t);
		advance(p);
		t = CUR(p);
	}
	if (is_kw(t, K_TRANSACTION)) {
		if (!first)
			return syntax(p, "a variable");
		advance(p);
		s->kind = SQL_SET_TRANSACTION;
		return transaction_chars(p, s) ? s : NULL;
	}
	if (t->type == T_USERVAR && !s->scope) {
		s->kind = SQL_SET_USER;
		s->name = t->flags & TF_QUOTED ? quoted_value(p, t) :
			  (struct sql_str){ p->sql + t->pos + 1, t->len - 1 };
		advance(p);
	} else if (t->type == T_ATAT && !s->scope) {
		s->kind = SQL_SET_SYSVAR;
		s->at_form = true;
		advance(p);
		t = CUR(p);
		if (scope_kw(t) && ahead(p, 1)->type == T_DOT) {
			s->scope = scope_kw(t);
			advance(p);
			advance(p);
		}
		if (!name_after_dot(p, &s->name))
			return NULL;
	} else if (!s->scope && (is_kw(t, K_NAMES) ||
				 is_kw(t, K_CHARSET) ||
				 is_kw(t, K_CHARACTER))) {
		s->kind = is_kw(t, K_NAMES) ? SQL_SET_NAMES : SQL_SET_CHARSET;
		advance(p);
		if (is_kw(t, K_CHARACTER) && !expect_kw(p, K_SET, "SET"))
			return NULL;
		if (accept_kw(p, K_DEFAULT))
			s->is_default = true;
		else if (!charset_name(p, &s->name, "a character set"))
			return NULL;
		if (s->kind == SQL_SET_NAMES && !s->is_default &&
		    accept_kw(p, K_COLLATE) &&
		    !charset_name(p, &s->collation, "a collation"))
			return NULL;
		return s;
	} else {
		s->kind = SQL_SET_SYSVAR;
		if (!name_after_dot(p, &s->name))
			return NULL;
		if (at(p, T_DOT))
			return unsupported(p, "structured system variables",
					   CUR(p)->pos);
	}
	if (!accept(p, T_EQ) && !expect(p, T_ASSIGN, "'='"))
		return NULL;
	s->value = s->kind == SQL_SET_USER ? expr(p) : set_value(p);
	return s->value ? s : NULL;
}

static struct sql_statement *other(struct parser *p, struct sql_statement *st,
				   const struct tok *verb)
{
	st->kind = SQL_ST_OTHER;
	st->word = upper_copy(p, verb);
	while (!at(p, T_END))
		advance(p);
	return st;
}

static struct sql_statement *set(struct parser *p, struct sql_statement *st)
{
	const struct tok *verb = CUR(p), *t = ahead(p, 1), *n = ahead(p, 2);
	struct sql_set_item **tail = &st->set;
	bool first = true;

	/* SET PASSWORD, ROLE, DEFAULT ROLE, STATEMENT ... FOR, RESOURCE
	 * GROUP: not session variables */
	if ((t->type == T_WORD && n->type != T_EQ && n->type != T_ASSIGN &&
	     (t->kw == K_PASSWORD || t->kw == K_ROLE || t->kw == K_DEFAULT ||
	      t->kw == K_STATEMENT || t->kw == K_RESOURCE)) ||
	    (is_kw(t, K_PASSWORD) && n->type == T_EQ))
		return other(p, st, verb);
	st->kind = SQL_ST_SET;
	advance(p);
	do {
		struct sql_set_item *s = set_item(p, first);

		if (!s)
			return NULL;
		first = false;
		*tail = s;
		tail = &s->next;
	} while (accept(p, T_COMMA));
	return st;
}

/* AND [NO] CHAIN, [NO] RELEASE */
static bool completion(struct parser *p, struct sql_statement *st)
{
	if (accept_kw(p, K_AND)) {
		bool no = accept_kw(p, K_NO);

		if (!expect_kw(p, K_CHAIN, "CHAIN"))
			return false;
		st->txn |= no ? SQL_TXN_NO_CHAIN : SQL_TXN_CHAIN;
	}
	if (at_kw(p, K_NO) && is_kw(ahead(p, 1), K_RELEASE)) {
		advance(p);
		advance(p);
		st->txn |= SQL_TXN_NO_RELEASE;
	} else if (accept_kw(p, K_RELEASE)) {
		st->txn |= SQL_TXN_RELEASE;
	}
	return true;
}

static struct sql_statement *transaction(struct parser *p,
					 struct sql_statement *st)
{
	const struct tok *verb = CUR(p);

	switch (verb->kw) {
	case K_BEGIN:
		/* BEGIN NOT ATOMIC is a compound statement */
		if (!is_kw(ahead(p, 1), K_WORK) && ahead(p, 1)->type != T_END)
			return other(p, st, verb);
		advance(p);
		accept_kw(p, K_WORK);
		st->kind = SQL_ST_BEGIN;
		return st;
	case K_START:
		if (!is_kw(ahead(p, 1), K_TRANSACTION))
			return other(p, st, verb);
		advance(p);
		advance(p);
		st->kind = SQL_ST_BEGIN;
		if (at(p, T_END))
			return st;
		do {
			if (accept_kw(p, K_WITH)) {
				if (!expect_kw(p, K_CONSISTENT, "CONSISTENT") ||
				    !expect_kw(p, K_SNAPSHOT, "SNAPSHOT"))
					return NULL;
				st->txn |= SQL_TXN_CONSISTENT_SNAPSHOT;
			} else if (accept_kw(p, K_READ)) {
				if (accept_kw(p, K_ONLY))
					st->txn |= SQL_TXN_READ_ONLY;
				else if (expect_kw(p, K_WRITE, "ONLY or WRITE"))
					st->txn |= SQL_TXN_READ_WRITE;
				else
					return NULL;
			} else {
				return syntax(p, "WITH CONSISTENT SNAPSHOT or "
					      "READ");
			}
		} while (accept(p, T_COMMA));
		return st;
	case K_COMMIT:
		advance(p);
		accept_kw(p, K_WORK);
		st->kind = SQL_ST_COMMIT;
		return completion(p, st) ? st : NULL;
	case K_ROLLBACK:
		advance(p);
		accept_kw(p, K_WORK);
		if (accept_kw(p, K_TO)) {
			accept_kw(p, K_SAVEPOINT);
			st->kind = SQL_ST_ROLLBACK_TO;
			return name(p, &st->name, "a savepoint") ? st : NULL;
		}
		st->kind = SQL_ST_ROLLBACK;
		return completion(p, st) ? st : NULL;
	case K_SAVEPOINT:
		advance(p);
		st->kind = SQL_ST_SAVEPOINT;
		return name(p, &st->name, "a savepoint") ? st : NULL;
	default:                        /* RELEASE */
		if (!is_kw(ahead(p, 1), K_SAVEPOINT))
			return other(p, st, verb);
		advance(p);
		advance(p);
		st->kind = SQL_ST_RELEASE;
		return name(p, &st->name, "a savepoint") ? st : NULL;
	}
}

static struct sql_statement *show(struct parser *p, struct sql_statement *st)
{
	const struct tok *w;
	size_t from;

	advance(p);
	w = CUR(p);
	if (w->type != T_WORD)
		return syntax(p, "what to show");
	st->kind = SQL_ST_SHOW;
	st->word = upper_copy(p, w);
	from = w->pos + w->len;
	while (from < p->raw_end && sql_is_space((unsigned char)p->sql[from]))
		from++;
	st->rest = (struct sql_str){ p->sql + from,
				     from < p->raw_end ? p->raw_end - from :
				     0 };
	while (!at(p, T_END))
		advance(p);
	return st;
}

static bool starts_statement(const struct tok *t)
{
	if (t->type == T_LP)
		return true;
	switch (t->type == T_WORD ? t->kw : K_NONE) {
	case K_SELECT: case K_WITH: case K_INSERT: case K_REPLACE:
	case K_UPDATE: case K_DELETE:
		return true;
	default:
		return false;
	}
}

static struct sql_statement *statement(struct parser *p);

static struct sql_statement *explain(struct parser *p, struct sql_statement *st)
{
	const struct tok *verb = CUR(p), *n = ahead(p, 1);

	if (is_kw(n, K_SHARDS)) {
		st->shards = true;
		advance(p);
	} else if (!starts_statement(n)) {
		return other(p, st, verb);
	}
	advance(p);
	if (!enter(p))
		return NULL;
	st->kind = SQL_ST_EXPLAIN;
	st->explained = statement(p);
	leave(p, 1);
	return st->explained ? st : NULL;
}

static struct sql_statement *statement(struct parser *p)
{
	const struct tok *t = CUR(p);
	struct sql_statement *st = NEW(p, struct sql_statement);

	if (!st)
		return NULL;
	st->pos = t->pos;
	if (t->type == T_LP) {
		st->kind = SQL_ST_SELECT;
		return (st->query = query_expr(p)) ? st : NULL;
	}
	if (t->type != T_WORD)
		return syntax(p, t->type == T_END ? "a statement" :
			      "a statement (a word)");
	switch (t->kw) {
	case K_SELECT:
	case K_WITH:
		st->kind = SQL_ST_SELECT;
		return (st->query = query_expr(p)) ? st : NULL;
	case K_INSERT:
	case K_REPLACE:
		return insert(p, st);
	case K_UPDATE:
		return update(p, st);
	case K_DELETE:
		return delete(p, st);
	case K_SET:
		return set(p, st);
	case K_USE:
		advance(p);
		st->kind = SQL_ST_USE;
		return name(p, &st->name, "a database") ? st : NULL;
	case K_BEGIN:
	case K_START:
	case K_COMMIT:
	case K_ROLLBACK:
	case K_SAVEPOINT:
	case K_RELEASE:
		return transaction(p, st);
	case K_SHOW:
		return show(p, st);
	case K_EXPLAIN:
	case K_DESCRIBE:
	case K_DESC:
		return explain(p, st);
	case K_VALUES:
		return unsupported(p, "VALUES as a query", t->pos);
	case K_TABLE:
		return unsupported(p, "TABLE as a query", t->pos);
	default:
		return other(p, st, t);
	}
}

/* ---- the entry points ------------------------------------------------ */

/* Cuts the statement into tokens, up to its ';' or the end. */
static bool tokenize(struct parser *p, size_t *semi)
{
	struct lexer lx = {
		.s = (const unsigned char *)p->sql,
		.p = (const unsigned char *)p->sql,
		.end = (const unsigned char *)p->sql + p->len,
		.rd = p->rd,
		.prev = T_END,
	};
	unsigned cap = 32, n = 0;
	uint32_t last_end = 0;          /* past the last token */

	p->toks = alloc(p, cap * sizeof(*p->toks));
	if (!p->toks)
		return false;
	*semi = p->len;
	for (;;) {
		struct tok *t;

		if (n == cap) {
			struct tok *bigger;

			if (cap > UINT32_MAX / 2 / sizeof(*bigger) ||
			    !(bigger = alloc(p, 2 * cap * sizeof(*bigger))))
				return nomem(p), false;
			memcpy(bigger, p->toks, cap * sizeof(*bigger));
			p->toks = bigger;
			cap *= 2;
		}
		skip_blank(&lx);
		t = &p->toks[n];
		if (n == 0)
			p->text_start = lx.in_exec ?
				(uint32_t)(lx.exec_open - lx.s) :
				(uint32_t)(lx.p - lx.s);
		lex_one(&lx, t);
		if (t->type == T_SEMI) {
			*semi = t->pos;
			t->type = T_END;
			t->len = 0;
		}
		if (t->type == T_END)
			break;
		p->text_end = (uint32_t)(lx.code_end - lx.s);
		last_end = t->pos + t->len;
		n++;
	}
	/* the "* /" closing an executable comment after the last token */
	skip_blank(&lx);
	if (n)
		p->text_end = (uint32_t)(lx.code_end - lx.s);
	/* a ';' inside an executable comment ends the statement there, and
	 * white space before it is no part of it */
	if (p->text_end > *semi) {
		p->text_end = (uint32_t)*semi;
		while (p->text_end > last_end &&
		       sql_is_space((unsigned char)p->sql[p->text_end - 1]))
			p->text_end--;
	}
	p->raw_end = (uint32_t)*semi;
	while (p->raw_end > p->text_end &&
	       sql_is_space((unsigned char)p->sql[p->raw_end - 1]))
		p->raw_end--;
	p->ntoks = n + 1;
	p->max_reread = SQL_PARSE_MAX_REREAD * (uint64_t)p->ntoks + 1024;
	return true;
}

/* Nothing but white space and comments from semi + 1 on. */
static bool only_blank_after(const struct parser *p, size_t semi)
{
	struct lexer lx = {
		.s = (const unsigned char *)p->sql,
		.p = (const unsigned char *)p->sql + semi + 1,
		.end = (const unsigned char *)p->sql + p->len,
		.rd = p->rd,
	};

	if (semi >= p->len)
		return true;
	skip_blank(&lx);
	return lx.p == lx.end;
}

int sql_parse(struct sql_arena *a, const char *sql, size_t len,
	      const struct sql_parse_opts *opts, struct sql_tree *tree)
{
	struct parser p;
	size_t semi = len;

	memset(tree, 0, sizeof(*tree));
	memset(&p, 0, sizeof(p));
	if (!sql)
		sql = "", len = 0;
	p.a = a;
	p.sql = sql;
	p.len = len;
	p.rd = opts && opts->rd ? opts->rd : &default_reading;
	p.flags = opts ? opts->flags : 0;
	p.bind = opts ? opts->bind : NULL;
	p.nbind = opts && opts->bind ? opts->nbind : 0;
	p.max_depth = opts && opts->max_depth &&
		      opts->max_depth < SQL_PARSE_MAX_DEPTH ?
		      opts->max_depth : SQL_PARSE_MAX_DEPTH;
	if (len >= UINT32_MAX) {
		fail_at(&p, SQL_PARSE_NOMEM, "a shorter statement", 0);
	} else if (tokenize(&p, &semi)) {
		struct sql_statement *st = statement(&p);

		if (st && !at(&p, T_END))
			syntax(&p, "the end of the statement");
		else if (st && !(p.flags & SQL_PARSE_MULTI) &&
			 !only_blank_after(&p, semi))
			fail_at(&p, SQL_PARSE_SYNTAX, "one statement",
				(uint32_t)semi);
		if (!p.failed) {
			uint32_t from = p.text_start;

			tree->stmt = st;
			/* EXPLAIN's statement ends where EXPLAIN does */
			for (; st; st = st->explained) {
				st->end = p.text_end;
				if (st->kind == SQL_ST_OTHER ||
				    st->kind == SQL_ST_SHOW)
					st->text = (struct sql_str){
						sql + from, p.raw_end - from };
				from = st->explained ? st->explained->pos : 0;
			}
			tree->nparams = p.nparams;
			tree->nkept = p.nkept;
		}
	}
	tree->end = semi < len ? semi + 1 : len;
	if (p.failed) {
		size_t from = p.err.pos < len ? p.err.pos : len;

		tree->stmt = NULL;
		tree->nparams = 0;
		tree->nkept = 0;
		tree->err = p.err;
		tree->err.near = (struct sql_str){ sql + from,
						   len - from < 40 ?
						   len - from : 40 };
	}
	return tree->err.code;
}

int sql_parse_strerror(const struct sql_parse_error *err, char *buf,
		       size_t cap)
{
	char near[48];
	size_t n = 0;

	for (size_t i = 0; i < err->near.len && n < sizeof(near) - 1; i++) {
		unsigned char c = (unsigned char)err->near.ptr[i];

		near[n++] = c < 0x20 || c == 0x7f ? ' ' : (char)c;
	}
	near[n] = '\0';
	switch (err->code) {
	case SQL_PARSE_OK:
		return snprintf(buf, cap, "no error");
	case SQL_PARSE_SYNTAX:
		if (!n)
			return snprintf(buf, cap, "syntax error at %u (the end): "
					"expected %s", err->pos, err->what);
		return snprintf(buf, cap, "syntax error at %u near '%s': "
				"expected %s", err->pos, near, err->what);
	case SQL_PARSE_UNSUPPORTED:
		return snprintf(buf, cap, "not supported at %u: %s", err->pos,
				err->what);
	case SQL_PARSE_TOO_DEEP:
		return snprintf(buf, cap, "too deeply nested at %u: %s",
				err->pos, err->what);
	default:
		return snprintf(buf, cap, "out of memory at %u", err->pos);
	}
}
