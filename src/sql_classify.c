/*
 * sql_classify.c - what a command does that pooling and read/write
 * splitting must know (see sql_classify.h).
 *
 * sql_split() cuts the text into statements, comments removed, for every
 * way the server may read it.  Each statement is then read token by
 * token: a small lexer (words, `names`, strings whose ends sql_scan.c
 * finds, numbers, @user and @@system variables, punctuation) feeds a
 * recogniser keyed on the first word (the table `verbs`), which parses the
 * parts whose shape matters (SET lists, table lists, KILL targets, ...)
 * and hands every expression to one scanner, scan(), that looks for what
 * any expression can do: function calls, @v := ..., FOR UPDATE, INTO.
 *
 * Readings.  A statement's text is the same under two readings when the
 * split found no difference at the level of comments and statement ends,
 * yet its tokens may differ: in "SELECT 'a\', @x:=1, '\'" the assignment
 * is code only without backslash escapes.  So a statement with a '\', or
 * with a '\' or '`' right after a byte that may lead a gbk/big5/sjis
 * character, is tokenized once per escape mode and character set that can
 * differ, and the flags of all are joined.  Items are taken from one
 * reading only: the primary when nothing can differ, else the caller's
 * (which adds no flag: that reading was among those already read, or
 * differs from them only in whether ".." is a string or a name).
 *
 * Choices:
 *  - A word followed by '(' (spaces allowed) is a function call unless it
 *    stands where a table name does (after FROM, JOIN, INTO, UPDATE,
 *    TABLE) or is a schema-qualified name (always a stored function).
 *    `builtins` lists what is not a stored function: MariaDB 10.11.19's
 *    native functions and the keywords its grammar reads before '(',
 *    found by running "SELECT word()" for every keyword, every function
 *    of information_schema.SQL_FUNCTIONS and every help topic: ERR 1305
 *    or 1630 ("FUNCTION db.word does not exist") means the word calls a
 *    stored function, anything else that it does not.  A quoted name
 *    calls a native function too (`get_lock`('a', 0) takes the lock).
 *    A keyword function written with a space before its '(' ("COUNT (x)")
 *    would call a stored function of that name if one existed: taken as
 *    built in.
 *  - EXPLAIN runs the derived tables of the statement it explains
 *    (EXPLAIN SELECT * FROM (SELECT GET_LOCK('a', 0)) x takes the lock,
 *    so does @v := inside one): its expressions are scanned, but it
 *    neither writes nor locks rows.  ANALYZE stmt runs stmt.
 *  - CREATE TABLE runs nothing before its SELECT (column defaults, checks
 *    and partitioning expressions run later or never): it is scanned
 *    from the first SELECT on.  CREATE VIEW / PROCEDURE / FUNCTION /
 *    TRIGGER / EVENT and ALTER run nothing at all.
 *  - SET GLOBAL applies to the rest of the list until SESSION or LOCAL
 *    (verified: SET GLOBAL a=1, b=2 sets the global b); @@global.x does
 *    not carry over.
 */
#include "sql_classify.h"

#include <limits.h>
#include <stdlib.h>
#include <string.h>

/* ---- lexer -------------------------------------------------------------- */

enum tok_type {
	T_END,
	T_WORD,         /* identifier or keyword */
	T_NAME,         /* `name`, or "name" under ANSI_QUOTES */
	T_STRING,       /* '..', "..", N'..' */
	T_HEX,          /* X'..', B'..' */
	T_NUMBER,       /* 12, 1.5e3, .5, 0x1F, 0b101 */
	T_USERVAR,      /* @name, @'name', @"name", @`name` */
	T_SYSVAR,       /* @@ (the name follows as words) */
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_DOT,
	T_EQ,
	T_ASSIGN,       /* := */
	T_COLON,
	T_OP,           /* any other byte */
};

#define UP_MAX 32   /* longer words are no keyword and no builtin */

struct tok {
	const unsigned char *s;
	size_t len;
	uint8_t type;
	uint8_t quote;      /* T_STRING, T_NAME, quoted T_USERVAR: the quote */
	bool national;      /* N'..' */
	uint8_t ulen;       /* T_WORD: bytes in up, 0 if too long */
	char up[UP_MAX];    /* T_WORD: upper case, NUL-terminated */
};

struct lex {
	const unsigned char *p, *end;
	const struct sql_reading *rd;
	uint8_t prev;       /* type of the last token lexed */
	bool has_ahead;
	uint8_t cur;        /* tok[cur] is the current token, tok[cur ^ 1]
			     * the next one when has_ahead */
	struct tok tok[2];
};

#define CC_WORD  0x01   /* may be part of an unquoted name */
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

static const unsigned char *word_end(const struct lex *lx,
				     const unsigned char *p)
{
	uint8_t cs = lx->rd->charset;

	while (p < lx->end && (cc[*p] & CC_WORD))
		p += *p >= 0x80 ? sql_char_len(cs, p, lx->end) : 1;
	return p;
}

static void set_word(struct tok *t)
{
	t->type = T_WORD;
	t->ulen = 0;
	if (t->len >= UP_MAX)
		return;
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = t->s[i];

		t->up[i] = (char)(c >= 'a' && c <= 'z' ? c - 32 : c);
	}
	t->up[t->len] = '\0';
	t->ulen = (uint8_t)t->len;
}

/* p is at a digit: a number, or a name that starts with digits ("1abc",
 * "0x1g"), as the server reads them. */
static const unsigned char *number(const struct lex *lx,
				   const unsigned char *p, bool *is_word)
{
	const unsigned char *end = lx->end;
	enum sql_number kind;
	const unsigned char *q = sql_number_end(p, end, &kind);

	*is_word = false;
	if (q < end && (cc[*q] & CC_WORD)) {
		*is_word = true;
		return word_end(lx, p);
	}
	return q;
}

static void lex_one(struct lex *lx, struct tok *t)
{
	const unsigned char *p = lx->p, *end = lx->end, *q;
	unsigned char c;
	bool is_word;

	while (p < end && sql_is_space(*p))
		p++;
	t->s = p;
	t->quote = 0;
	t->national = false;
	t->ulen = 0;
	if (p == end) {
		t->type = T_END;
		t->len = 0;
		lx->p = p;
		lx->prev = T_END;
		return;
	}
	c = *p;
	if (cc[c] & CC_DIGIT) {
		q = number(lx, p, &is_word);
		t->len = (size_t)(q - p);
		if (is_word)
			set_word(t);
		else
			t->type = T_NUMBER;
	} else if ((cc[c] & CC_WORD) && p + 1 < end && p[1] == '\'' &&
		   strchr("xXbBnN", c)) {
		q = sql_quoted_end_as(p + 1, end, lx->rd);
		t->len = (size_t)(q - p);
		t->type = c == 'n' || c == 'N' ? T_STRING : T_HEX;
		t->quote = '\'';
		t->national = t->type == T_STRING;
	} else if (cc[c] & CC_WORD) {
		q = word_end(lx, p);
		t->len = (size_t)(q - p);
		set_word(t);
	} else {
		q = p + 1;
		switch (c) {
		case '\'':
		case '"':
		case '`':
			q = sql_quoted_end_as(p, end, lx->rd);
			t->quote = c;
			t->type = c == '`' || (c == '"' &&
				  lx->rd->escapes == SQL_ESC_SINGLE) ?
				  T_NAME : T_STRING;
			break;
		case '@':
			if (q < end && *q == '@') {
				q++;
				t->type = T_SYSVAR;
			} else if (q < end && (*q == '\'' || *q == '"' ||
					       *q == '`')) {
				t->quote = *q;
				q = sql_quoted_end_as(q, end, lx->rd);
				t->type = T_USERVAR;
			} else if (q < end &&
				   ((cc[*q] & CC_WORD) || *q == '.')) {
				while (q < end && ((cc[*q] & CC_WORD) ||
						   *q == '.'))
					q++;
				t->type = T_USERVAR;
			} else {
				t->type = T_OP;
			}
			break;
		case '.':
			if (q < end && (cc[*q] & CC_DIGIT) &&
			    lx->prev != T_WORD && lx->prev != T_NAME &&
			    lx->prev != T_RPAREN) {
				q = number(lx, q, &is_word);
				t->type = T_NUMBER;
			} else {
				t->type = T_DOT;
			}
			break;
		case ':':
			if (q < end && *q == '=') {
				q++;
				t->type = T_ASSIGN;
			} else {
				t->type = T_COLON;
			}
			break;
		case '(':
			t->type = T_LPAREN;
			break;
		case ')':
			t->type = T_RPAREN;
			break;
		case ',':
			t->type = T_COMMA;
			break;
		case '=':
			t->type = T_EQ;
			break;
		default:
			t->type = T_OP;
			break;
		}
		t->len = (size_t)(q - p);
	}
	lx->p = t->s + t->len;
	lx->prev = t->type;
}

/* ---- the classifier's state --------------------------------------------- */

struct cls {
	struct sql_class *out;
	struct lex lx;
	uint64_t flags;         /* this statement's */
	int stmt;               /* items' statement, -1: collect none */
	unsigned nesting;       /* statements inside statements */
	bool reading_change;    /* sets sql_mode or the client charset */
};

/* SET STATEMENT ... FOR, ANALYZE and WITH hold a statement: as deep as
 * this, and no deeper (the text could nest them as deep as it is long). */
#define MAX_NESTING 8

#define CUR(c) (&(c)->lx.tok[(c)->lx.cur])

static void next(struct cls *c)
{
	struct lex *lx = &c->lx;

	if (lx->has_ahead) {
		lx->cur ^= 1;
		lx->has_ahead = false;
	} else {
		lex_one(lx, &lx->tok[lx->cur]);
	}
}

static const struct tok *peek(struct cls *c)
{
	struct lex *lx = &c->lx;

	if (!lx->has_ahead) {
		lex_one(lx, &lx->tok[lx->cur ^ 1]);
		lx->has_ahead = true;
	}
	return &lx->tok[lx->cur ^ 1];
}

static bool kw(const struct tok *t, const char *w, size_t n)
{
	return t->type == T_WORD && t->ulen == n && !memcmp(t->up, w, n);
}

#define KW(t, w) kw((t), (w), sizeof(w) - 1)
#define ACCEPT(c, w) accept((c), (w), sizeof(w) - 1)

/* Consumes the keyword if it is the current token. */
static bool accept(struct cls *c, const char *w, size_t n)
{
	if (!kw(CUR(c), w, n))
		return false;
	next(c);
	return true;
}

static bool at_end(struct cls *c)
{
	return CUR(c)->type == T_END;
}

/* ---- items and names ---------------------------------------------------- */

static struct sql_item *add_item(struct cls *c, uint8_t kind)
{
	struct sql_class *o = c->out;
	struct sql_item *it;

	if (c->stmt < 0)
		return NULL;
	if (o->nitems == SQLC_MAX_ITEMS) {
		c->flags |= SQLC_INEXACT;
		return NULL;
	}
	it = &o->items[o->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->stmt = (uint16_t)c->stmt;
	return it;
}

static struct sql_text span(const unsigned char *from, const unsigned char *to)
{
	return (struct sql_text){ (const char *)from, (size_t)(to - from) };
}

/* A quoted name's text with its doubled quotes made single. */
static size_t name_value(const unsigned char *s, size_t len, char *out,
			 size_t cap)
{
	unsigned char q = s[0];
	size_t n = 0;

	if (len >= 2 && s[len - 1] == q)
		len--;
	for (size_t i = 1; i < len; i++) {
		if (s[i] == q && i + 1 < len && s[i + 1] == q)
			i++;
		if (n < cap)
			out[n] = (char)s[i];
		n++;
	}
	return n;
}

/* Quoted text [s, s + len) without its quotes: in place when nothing in
 * it is escaped or doubled, else decoded into the struct's buffer. */
static bool unquote(struct cls *c, const unsigned char *s, size_t len,
		    bool string, struct sql_text *out)
{
	struct sql_class *o = c->out;
	size_t body = len >= 2 && s[len - 1] == s[0] ? len - 2 : len - 1;
	size_t room = SQLC_NAME_BUF - o->buf_len, n;

	if (!memchr(s + 1, s[0], body) &&
	    !(string && memchr(s + 1, '\\', body))) {
		*out = span(s + 1, s + 1 + body);
		return true;
	}
	n = string ? sql_string_value((const char *)s, len, c->lx.rd,
				      o->buf + o->buf_len, room) :
		     name_value(s, len, o->buf + o->buf_len, room);
	if (n > room) {
		c->flags |= SQLC_INEXACT;
		return false;
	}
	*out = (struct sql_text){ o->buf + o->buf_len, n };
	o->buf_len += n;
	return true;
}

/* What a name-like token stands for: a word as written, a quoted name or
 * string without its quotes. */
static bool tok_text(struct cls *c, const struct tok *t, struct sql_text *out)
{
	switch (t->type) {
	case T_WORD:
		*out = span(t->s, t->s + t->len);
		return true;
	case T_NAME:
	case T_STRING:
		if (c->stmt < 0)
			return true;
		return unquote(c, t->s + t->national, t->len - t->national,
			       t->type == T_STRING, out);
	default:
		return false;
	}
}

/* A token that can be a table's, a database's or a variable's name: a
 * word, a `name`, or a ".." string (a name under ANSI_QUOTES, and an
 * error otherwise). */
static bool is_ident(const struct tok *t)
{
	return t->type == T_WORD || t->type == T_NAME ||
	       (t->type == T_STRING && t->quote == '"');
}

/* [schema.]name at the current token, consumed; false if there is none. */
static bool table_name(struct cls *c, struct sql_text *schema,
		       struct sql_text *name)
{
	struct tok first;

	*schema = (struct sql_text){ NULL, 0 };
	*name = (struct sql_text){ NULL, 0 };
	if (!is_ident(CUR(c)))
		return false;
	first = *CUR(c);
	next(c);
	if (CUR(c)->type == T_DOT && is_ident(peek(c))) {
		next(c);
		if (!tok_text(c, &first, schema) || !tok_text(c, CUR(c), name))
			c->flags |= SQLC_INEXACT;
		next(c);
		return true;
	}
	if (!tok_text(c, &first, name))
		c->flags |= SQLC_INEXACT;
	return true;
}

/* Upper-case text of a word or a quoted name, for looking it up. */
static bool tok_upper(const struct tok *t, char *buf)
{
	size_t n;

	if (t->type == T_WORD) {
		if (!t->ulen)
			return false;
		memcpy(buf, t->up, (size_t)t->ulen + 1);
		return true;
	}
	if (t->type != T_NAME && t->type != T_STRING)
		return false;
	n = name_value(t->s, t->len, buf, UP_MAX - 1);
	if (n >= UP_MAX)
		return false;
	for (size_t i = 0; i < n; i++)
		if (buf[i] >= 'a' && buf[i] <= 'z')
			buf[i] = (char)(buf[i] - 32);
	buf[n] = '\0';
	return true;
}

/* ---- built-in functions ------------------------------------------------- */

enum fn {
	FN_PURE,
	FN_GET_LOCK,
	FN_RELEASE_LOCK,
	FN_RELEASE_ALL_LOCKS,
	FN_SERVER,
	FN_SEQUENCE,
	FN_LAST_INSERT_ID,
	FN_FOUND_ROWS,
	FN_ROW_COUNT,
	FN_CONNECTION_ID,
};

/* Sorted (strcmp): what a word before '(' may be without calling a stored
 * function (see the top).  Generated from a MariaDB 10.11.19 server, plus
 * AGAINST and COLUMNS, which its grammar reads before '(' in MATCH ...
 * AGAINST (...) and JSON_TABLE(... COLUMNS (...)) although, alone, they
 * would call a stored function.  The unit tests probe both ends and the
 * middle. */
static const char *const builtins[] = {
	"ABS", "ACCESSIBLE", "ACOS", "ADD", "ADDDATE", "ADDTIME", "ADD_MONTHS",
	"AES_DECRYPT", "AES_ENCRYPT", "AGAINST", "ALL", "ALTER", "ANALYZE",
	"AND", "ANY", "AREA", "AS", "ASBINARY", "ASC", "ASCII", "ASENSITIVE",
	"ASIN", "ASTEXT", "ASWKB", "ASWKT", "ATAN", "ATAN2", "AVG", "BACKUP",
	"BEFORE", "BEGIN", "BENCHMARK", "BETWEEN", "BIGINT", "BIN", "BINARY",
	"BINLOG", "BINLOG_GTID_POS", "BIT", "BIT_AND", "BIT_COUNT",
	"BIT_LENGTH", "BIT_OR", "BIT_XOR", "BLOB", "BOOL", "BOOLEAN", "BOTH",
	"BOUNDARY", "BUFFER", "BY", "BYTE", "CACHE", "CALL", "CASCADE", "CASE",
	"CAST", "CEIL", "CEILING", "CENTROID", "CHANGE", "CHAR", "CHARACTER",
	"CHARACTER_LENGTH", "CHARSET", "CHAR_LENGTH", "CHECK", "CHECKPOINT",
	"CHECKSUM", "CHR", "CLOB", "CLOSE", "COALESCE", "CODE", "COERCIBILITY",
	"COLLATE", "COLLATION", "COLUMN", "COLUMNS", "COLUMN_ADD",
	"COLUMN_CHECK", "COLUMN_CREATE", "COLUMN_DELETE", "COLUMN_EXISTS",
	"COLUMN_GET", "COLUMN_JSON", "COLUMN_LIST", "COMMENT", "COMMIT",
	"COMPRESS", "COMPRESSED", "CONCAT", "CONCAT_OPERATOR_ORACLE",
	"CONCAT_WS", "CONDITION", "CONNECTION_ID", "CONSTRAINT", "CONTAINS",
	"CONTINUE", "CONV", "CONVERT", "CONVERT_TZ", "CONVEXHULL", "COS",
	"COT", "COUNT", "CRC32", "CRC32C", "CREATE", "CROSS", "CROSSES",
	"CUME_DIST", "CURDATE", "CURRENT_DATE", "CURRENT_ROLE", "CURRENT_TIME",
	"CURRENT_TIMESTAMP", "CURRENT_USER", "CURSOR", "CURTIME", "DATABASE",
	"DATABASES", "DATE", "DATEDIFF", "DATETIME", "DATE_ADD", "DATE_FORMAT",
	"DATE_SUB", "DAY", "DAYNAME", "DAYOFMONTH", "DAYOFWEEK", "DAYOFYEAR",
	"DAY_HOUR", "DAY_MICROSECOND", "DAY_MINUTE", "DAY_SECOND",
	"DEALLOCATE", "DEC", "DECIMAL", "DECLARE", "DECODE",
	"DECODE_HISTOGRAM", "DECODE_ORACLE", "DEFAULT", "DEGREES", "DELAYED",
	"DELETE", "DELETE_DOMAIN_ID", "DENSE_RANK", "DESC", "DESCRIBE",
	"DES_DECRYPT", "DES_ENCRYPT", "DETERMINISTIC", "DIMENSION", "DISJOINT",
	"DISTINCT", "DISTINCTROW", "DIV", "DO", "DOUBLE", "DO_DOMAIN_IDS",
	"DROP", "DUAL", "EACH", "ELSE", "ELSEIF", "ELT", "ENCLOSED", "ENCODE",
	"ENCRYPT", "END", "ENDPOINT", "ENUM", "ENVELOPE", "EQUALS", "ESCAPED",
	"EXAMINED", "EXCEPT", "EXCLUDE", "EXECUTE", "EXISTS", "EXIT", "EXP",
	"EXPLAIN", "EXPORT_SET", "EXTERIORRING", "EXTRACT", "EXTRACTVALUE",
	"FALSE", "FETCH", "FIELD", "FIND_IN_SET", "FIRST_VALUE", "FIXED",
	"FLOAT", "FLOAT4", "FLOAT8", "FLOOR", "FLUSH", "FOLLOWING", "FOLLOWS",
	"FOR", "FORCE", "FOREIGN", "FORMAT", "FOUND_ROWS", "FROM",
	"FROM_BASE64", "FROM_DAYS", "FROM_UNIXTIME", "FULLTEXT", "FUNCTION",
	"GEOMCOLLFROMTEXT", "GEOMCOLLFROMWKB", "GEOMETRYCOLLECTIONFROMTEXT",
	"GEOMETRYCOLLECTIONFROMWKB", "GEOMETRYFROMTEXT", "GEOMETRYFROMWKB",
	"GEOMETRYN", "GEOMETRYTYPE", "GEOMFROMTEXT", "GEOMFROMWKB", "GET",
	"GET_FORMAT", "GET_LOCK", "GLENGTH", "GLOBAL", "GRANT", "GREATEST",
	"GROUP", "GROUP_CONCAT", "HANDLER", "HAVING", "HELP", "HEX",
	"HIGH_PRIORITY", "HOST", "HOUR", "HOUR_MICROSECOND", "HOUR_MINUTE",
	"HOUR_SECOND", "ID", "IF", "IFNULL", "IGNORE", "IGNORED",
	"IGNORE_DOMAIN_IDS", "IN", "INDEX", "INET6_ATON", "INET6_NTOA",
	"INET_ATON", "INET_NTOA", "INFILE", "INNER", "INOUT", "INSENSITIVE",
	"INSERT", "INSTALL", "INSTR", "INT", "INT1", "INT2", "INT3", "INT4",
	"INT8", "INTEGER", "INTERIORRINGN", "INTERSECT", "INTERSECTS",
	"INTERVAL", "INTO", "IS", "ISCLOSED", "ISEMPTY", "ISNULL", "ISRING",
	"ISSIMPLE", "IS_FREE_LOCK", "IS_IPV4", "IS_IPV4_COMPAT",
	"IS_IPV4_MAPPED", "IS_IPV6", "IS_USED_LOCK", "ITERATE", "JOIN", "JSON",
	"JSON_ARRAY", "JSON_ARRAYAGG", "JSON_ARRAY_APPEND",
	"JSON_ARRAY_INSERT", "JSON_COMPACT", "JSON_CONTAINS",
	"JSON_CONTAINS_PATH", "JSON_DEPTH", "JSON_DETAILED", "JSON_EQUALS",
	"JSON_EXISTS", "JSON_EXTRACT", "JSON_INSERT", "JSON_KEYS",
	"JSON_LENGTH", "JSON_LOOSE", "JSON_MERGE", "JSON_MERGE_PATCH",
	"JSON_MERGE_PRESERVE", "JSON_NORMALIZE", "JSON_OBJECT",
	"JSON_OBJECTAGG", "JSON_OVERLAPS", "JSON_PRETTY", "JSON_QUERY",
	"JSON_QUOTE", "JSON_REMOVE", "JSON_REPLACE", "JSON_SEARCH", "JSON_SET",
	"JSON_TABLE", "JSON_TYPE", "JSON_UNQUOTE", "JSON_VALID", "JSON_VALUE",
	"KEY", "KEYS", "KILL", "LAG", "LANGUAGE", "LASTVAL", "LAST_DAY",
	"LAST_INSERT_ID", "LAST_VALUE", "LCASE", "LEAD", "LEADING", "LEAST",
	"LEAVE", "LEFT", "LENGTH", "LENGTHB", "LIKE", "LIMIT", "LINEAR",
	"LINEFROMTEXT", "LINEFROMWKB", "LINES", "LINESTRINGFROMTEXT",
	"LINESTRINGFROMWKB", "LN", "LOAD", "LOAD_FILE", "LOCAL", "LOCALTIME",
	"LOCALTIMESTAMP", "LOCATE", "LOCK", "LOG", "LOG10", "LOG2", "LONG",
	"LONGBLOB", "LONGTEXT", "LOOP", "LOWER", "LOW_PRIORITY", "LPAD",
	"LPAD_ORACLE", "LTRIM", "LTRIM_ORACLE", "MAKEDATE", "MAKETIME",
	"MAKE_SET", "MASTER_DEMOTE_TO_REPLICA", "MASTER_DEMOTE_TO_SLAVE",
	"MASTER_GTID_WAIT", "MASTER_POS_WAIT", "MASTER_SSL_VERIFY_SERVER_CERT",
	"MATCH", "MAX", "MAXVALUE", "MBRCONTAINS", "MBRDISJOINT", "MBREQUAL",
	"MBRINTERSECTS", "MBROVERLAPS", "MBRTOUCHES", "MBRWITHIN", "MD5",
	"MEDIAN", "MEDIUM", "MEDIUMBLOB", "MEDIUMINT", "MEDIUMTEXT",
	"MICROSECOND", "MID", "MIDDLEINT", "MIN", "MINUTE",
	"MINUTE_MICROSECOND", "MINUTE_SECOND", "MLINEFROMTEXT", "MLINEFROMWKB",
	"MOD", "MODIFIES", "MONTH", "MONTHNAME", "MPOINTFROMTEXT",
	"MPOINTFROMWKB", "MPOLYFROMTEXT", "MPOLYFROMWKB",
	"MULTILINESTRINGFROMTEXT", "MULTILINESTRINGFROMWKB",
	"MULTIPOINTFROMTEXT", "MULTIPOINTFROMWKB", "MULTIPOLYGONFROMTEXT",
	"MULTIPOLYGONFROMWKB", "NAMES", "NAME_CONST", "NATIONAL", "NATURAL",
	"NATURAL_SORT_KEY", "NCHAR", "NEXTVAL", "NO", "NOT", "NOW",
	"NO_WRITE_TO_BINLOG", "NTH_VALUE", "NTILE", "NULL", "NULLIF", "NUMBER",
	"NUMERIC", "NUMGEOMETRIES", "NUMINTERIORRINGS", "NUMPOINTS",
	"NVARCHAR", "NVL", "NVL2", "OCT", "OCTET_LENGTH", "OFFSET",
	"OLD_PASSWORD", "ON", "OPEN", "OPTIMIZE", "OPTION", "OPTIONALLY",
	"OPTIONS", "OR", "ORD", "ORDER", "OTHERS", "OUT", "OUTER", "OUTFILE",
	"OVER", "OVERLAPS", "OWNER", "PAGE_CHECKSUM", "PARSER",
	"PARSE_VCOL_EXPR", "PARTITION", "PASSWORD", "PERCENTILE_CONT",
	"PERCENTILE_DISC", "PERCENT_RANK", "PERIOD", "PERIOD_ADD",
	"PERIOD_DIFF", "PI", "POINTFROMTEXT", "POINTFROMWKB", "POINTN",
	"POINTONSURFACE", "POLYFROMTEXT", "POLYFROMWKB", "POLYGONFROMTEXT",
	"POLYGONFROMWKB", "PORT", "PORTION", "POSITION", "POW", "POWER",
	"PRECEDES", "PRECEDING", "PRECISION", "PREPARE", "PRIMARY",
	"PROCEDURE", "PURGE", "QUARTER", "QUOTE", "RADIANS", "RAND",
	"RANDOM_BYTES", "RANGE", "RANK", "RAW", "READ", "READS", "READ_WRITE",
	"REAL", "RECURSIVE", "REFERENCES", "REF_SYSTEM_ID", "REGEXP",
	"REGEXP_INSTR", "REGEXP_REPLACE", "REGEXP_SUBSTR", "RELEASE",
	"RELEASE_ALL_LOCKS", "RELEASE_LOCK", "REMOVE", "RENAME", "REPAIR",
	"REPEAT", "REPLACE", "REPLACE_ORACLE", "REPLICA", "REPLICAS",
	"REQUIRE", "RESET", "RESIGNAL", "RESTORE", "RESTRICT", "RETURN",
	"RETURNING", "REVERSE", "REVOKE", "RIGHT", "RLIKE", "ROLE", "ROLLBACK",
	"ROUND", "ROW", "ROWNUM", "ROWS", "ROW_COUNT", "ROW_NUMBER", "RPAD",
	"RPAD_ORACLE", "RTRIM", "RTRIM_ORACLE", "SAVEPOINT", "SCHEMA",
	"SCHEMAS", "SECOND", "SECOND_MICROSECOND", "SECURITY", "SEC_TO_TIME",
	"SELECT", "SENSITIVE", "SEPARATOR", "SERIAL", "SERVER", "SESSION",
	"SESSION_USER", "SET", "SETVAL", "SFORMAT", "SHA", "SHA1", "SHA2",
	"SHOW", "SHUTDOWN", "SIGN", "SIGNAL", "SIGNED", "SIN", "SLAVE",
	"SLAVES", "SLEEP", "SMALLINT", "SOCKET", "SOME", "SONAME", "SOUNDEX",
	"SOUNDS", "SPACE", "SPATIAL", "SPECIFIC", "SQL", "SQLEXCEPTION",
	"SQLSTATE", "SQLWARNING", "SQL_BIG_RESULT", "SQL_BUFFER_RESULT",
	"SQL_CACHE", "SQL_CALC_FOUND_ROWS", "SQL_NO_CACHE", "SQL_SMALL_RESULT",
	"SQL_TSI_DAY", "SQL_TSI_HOUR", "SQL_TSI_MINUTE", "SQL_TSI_MONTH",
	"SQL_TSI_SECOND", "SQL_TSI_YEAR", "SQRT", "SRID", "SSL", "START",
	"STARTING", "STARTPOINT", "STATS_AUTO_RECALC", "STATS_PERSISTENT",
	"STATS_SAMPLE_PAGES", "STD", "STDDEV", "STDDEV_POP", "STDDEV_SAMP",
	"STOP", "STORED", "STRAIGHT_JOIN", "STRCMP", "STR_TO_DATE", "ST_AREA",
	"ST_ASBINARY", "ST_ASGEOJSON", "ST_ASTEXT", "ST_ASWKB", "ST_ASWKT",
	"ST_BOUNDARY", "ST_BUFFER", "ST_CENTROID", "ST_CONTAINS",
	"ST_CONVEXHULL", "ST_CROSSES", "ST_DIFFERENCE", "ST_DIMENSION",
	"ST_DISJOINT", "ST_DISTANCE", "ST_DISTANCE_SPHERE", "ST_ENDPOINT",
	"ST_ENVELOPE", "ST_EQUALS", "ST_EXTERIORRING", "ST_GEOMCOLLFROMTEXT",
	"ST_GEOMCOLLFROMWKB", "ST_GEOMETRYCOLLECTIONFROMTEXT",
	"ST_GEOMETRYCOLLECTIONFROMWKB", "ST_GEOMETRYFROMTEXT",
	"ST_GEOMETRYFROMWKB", "ST_GEOMETRYN", "ST_GEOMETRYTYPE",
	"ST_GEOMFROMGEOJSON", "ST_GEOMFROMTEXT", "ST_GEOMFROMWKB",
	"ST_INTERIORRINGN", "ST_INTERSECTION", "ST_INTERSECTS", "ST_ISCLOSED",
	"ST_ISEMPTY", "ST_ISRING", "ST_ISSIMPLE", "ST_LENGTH",
	"ST_LINEFROMTEXT", "ST_LINEFROMWKB", "ST_LINESTRINGFROMTEXT",
	"ST_LINESTRINGFROMWKB", "ST_MLINEFROMTEXT", "ST_MPOINTFROMTEXT",
	"ST_MPOINTFROMWKB", "ST_MPOLYFROMTEXT", "ST_MPOLYFROMWKB",
	"ST_MULTILINESTRINGFROMTEXT", "ST_MULTIPOINTFROMTEXT",
	"ST_MULTIPOINTFROMWKB", "ST_MULTIPOLYGONFROMTEXT",
	"ST_MULTIPOLYGONFROMWKB", "ST_NUMGEOMETRIES", "ST_NUMINTERIORRINGS",
	"ST_NUMPOINTS", "ST_OVERLAPS", "ST_POINTFROMTEXT", "ST_POINTFROMWKB",
	"ST_POINTN", "ST_POINTONSURFACE", "ST_POLYFROMTEXT", "ST_POLYFROMWKB",
	"ST_POLYGONFROMTEXT", "ST_POLYGONFROMWKB", "ST_RELATE", "ST_SRID",
	"ST_STARTPOINT", "ST_SYMDIFFERENCE", "ST_TOUCHES", "ST_UNION",
	"ST_WITHIN", "ST_X", "ST_Y", "SUBDATE", "SUBSTR", "SUBSTRING",
	"SUBSTRING_INDEX", "SUBSTR_ORACLE", "SUBTIME", "SUM", "SYSDATE",
	"SYSTEM_USER", "SYS_GUID", "TABLE", "TAN", "TERMINATED", "TEXT",
	"THEN", "TIES", "TIME", "TIMEDIFF", "TIMESTAMP", "TIMESTAMPADD",
	"TIMESTAMPDIFF", "TIME_FORMAT", "TIME_TO_SEC", "TINYBLOB", "TINYINT",
	"TINYTEXT", "TO", "TOUCHES", "TO_BASE64", "TO_CHAR", "TO_DAYS",
	"TO_SECONDS", "TRAILING", "TRIGGER", "TRIM", "TRIM_ORACLE", "TRUE",
	"TRUNCATE", "UCASE", "UNBOUNDED", "UNCOMPRESS", "UNCOMPRESSED_LENGTH",
	"UNDO", "UNHEX", "UNICODE", "UNINSTALL", "UNION", "UNIQUE",
	"UNIX_TIMESTAMP", "UNLOCK", "UNSIGNED", "UPDATE", "UPDATEXML",
	"UPGRADE", "UPPER", "USAGE", "USE", "USER", "USING", "UTC_DATE",
	"UTC_TIME", "UTC_TIMESTAMP", "UUID", "UUID_SHORT", "VALUE", "VALUES",
	"VARBINARY", "VARCHAR", "VARCHAR2", "VARCHARACTER", "VARIANCE",
	"VARYING", "VAR_POP", "VAR_SAMP", "VERSION", "WEEK", "WEEKDAY",
	"WEEKOFYEAR", "WEIGHT_STRING", "WHEN", "WHERE", "WHILE", "WINDOW",
	"WITH", "WITHIN", "WRAPPER", "WRITE", "WSREP_LAST_SEEN_GTID",
	"WSREP_LAST_WRITTEN_GTID", "WSREP_SYNC_WAIT_UPTO_GTID", "X", "XA",
	"XOR", "Y", "YEAR", "YEARWEEK", "YEAR_MONTH", "ZEROFILL",
};

struct special {
	const char *name;
	uint8_t fn;
};

/* Sorted: the built-in functions whose effects matter. */
static const struct special specials[] = {
	{ "BINLOG_GTID_POS", FN_SERVER },
	{ "CONNECTION_ID", FN_CONNECTION_ID },
	{ "FOUND_ROWS", FN_FOUND_ROWS },
	{ "GET_LOCK", FN_GET_LOCK },
	{ "IS_FREE_LOCK", FN_SERVER },
	{ "IS_USED_LOCK", FN_SERVER },
	{ "LASTVAL", FN_SEQUENCE },
	{ "LAST_INSERT_ID", FN_LAST_INSERT_ID },
	{ "LOAD_FILE", FN_SERVER },
	{ "MASTER_GTID_WAIT", FN_SERVER },
	{ "MASTER_POS_WAIT", FN_SERVER },
	{ "NEXTVAL", FN_SEQUENCE },
	{ "RELEASE_ALL_LOCKS", FN_RELEASE_ALL_LOCKS },
	{ "RELEASE_LOCK", FN_RELEASE_LOCK },
	{ "ROW_COUNT", FN_ROW_COUNT },
	{ "SETVAL", FN_SEQUENCE },
	{ "WSREP_LAST_SEEN_GTID", FN_SERVER },
	{ "WSREP_LAST_WRITTEN_GTID", FN_SERVER },
	{ "WSREP_SYNC_WAIT_UPTO_GTID", FN_SERVER },
};

static int by_name(const void *key, const void *elem)
{
	return strcmp(key, *(const char *const *)elem);
}

/* The function's FN_*, or -1 when it is not built in. */
static int builtin(const char *up)
{
	const struct special *s;

	if (!bsearch(up, builtins, sizeof(builtins) / sizeof(builtins[0]),
		     sizeof(builtins[0]), by_name))
		return -1;
	s = bsearch(up, specials, sizeof(specials) / sizeof(specials[0]),
		    sizeof(specials[0]), by_name);
	return s ? s->fn : FN_PURE;
}

/* ---- expressions -------------------------------------------------------- */

/* What scan() looks for besides function calls and @v := ... */
#define CTX_QUERY   0x01  /* INTO is SELECT ... INTO; SQL_CALC_FOUND_ROWS */
#define CTX_LOCKS   0x02  /* FOR UPDATE / SHARE, LOCK IN SHARE MODE */
#define CTX_VARS    0x04  /* every @v is assigned (LOAD DATA, GET
			   * DIAGNOSTICS) */
#define CTX_SELECT  0x08  /* nothing runs before the first SELECT (CREATE
			   * TABLE ... SELECT) */

/* Where scan() stops (the token is not consumed). */
#define STOP_COMMA  0x01  /* a ',' outside parentheses */
#define STOP_FOR    0x02  /* the word FOR outside parentheses */
#define STOP_PAREN  0x04  /* after the ')' closing the current '(' */

/* A function called: its flags; returns what its arguments may tell. */
static uint8_t call(struct cls *c, const struct tok *t, bool qualified)
{
	char up[UP_MAX];
	int fn;

	if (qualified || !tok_upper(t, up) || (fn = builtin(up)) < 0) {
		c->flags |= SQLC_STORED_FUNC;
		return FN_PURE;
	}
	switch (fn) {
	case FN_GET_LOCK:
		c->flags |= SQLC_GET_LOCK;
		break;
	case FN_RELEASE_LOCK:
		c->flags |= SQLC_RELEASE_LOCK;
		break;
	case FN_RELEASE_ALL_LOCKS:
		c->flags |= SQLC_RELEASE_ALL_LOCKS;
		break;
	case FN_SERVER:
		c->flags |= SQLC_SERVER_STATE;
		break;
	case FN_SEQUENCE:
		c->flags |= SQLC_SEQUENCE;
		break;
	case FN_FOUND_ROWS:
		c->flags |= SQLC_FOUND_ROWS;
		break;
	case FN_ROW_COUNT:
		c->flags |= SQLC_ROW_COUNT;
		break;
	case FN_CONNECTION_ID:
		c->flags |= SQLC_CONNECTION_ID;
		break;
	}
	return (uint8_t)fn;
}

/* The current token is the first argument of GET_LOCK / RELEASE_LOCK. */
static void lock_arg(struct cls *c, uint8_t fn)
{
	const struct tok *t = CUR(c), *la;
	struct sql_item *it;

	if (t->type != T_STRING) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	la = peek(c);
	if (la->type != T_COMMA && la->type != T_RPAREN) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	it = add_item(c, fn == FN_GET_LOCK ? SQLI_GET_LOCK : SQLI_RELEASE_LOCK);
	if (it)
		it->value = span(t->s, t->s + t->len);
}

static bool name_is(const char *up, const char *w)
{
	return !strcmp(up, w);
}

static bool name_starts(const char *up, const char *w)
{
	return !strncmp(up, w, strlen(w));
}

/* The current token is "@@": a system variable read. */
static void sysvar_read(struct cls *c)
{
	bool global = false;
	char up[UP_MAX];

	next(c);
	if (CUR(c)->type == T_WORD && peek(c)->type == T_DOT &&
	    (KW(CUR(c), "GLOBAL") || KW(CUR(c), "SESSION") ||
	     KW(CUR(c), "LOCAL"))) {
		global = KW(CUR(c), "GLOBAL");
		next(c);
		next(c);
	}
	if (global)
		c->flags |= SQLC_SERVER_STATE;
	if (!tok_upper(CUR(c), up))
		return;
	next(c);
	if (name_is(up, "WARNING_COUNT") || name_is(up, "ERROR_COUNT"))
		c->flags |= SQLC_DIAGNOSTICS;
	else if (name_is(up, "LAST_INSERT_ID") || name_is(up, "IDENTITY"))
		c->flags |= SQLC_LAST_INSERT_ID_GET;
	else if (name_is(up, "READ_ONLY") || name_is(up, "INNODB_READ_ONLY") ||
		 name_is(up, "SERVER_ID") || name_is(up, "SERVER_UUID") ||
		 name_is(up, "HOSTNAME") || name_is(up, "PORT") ||
		 name_is(up, "LOG_BIN") || name_starts(up, "GTID_") ||
		 name_starts(up, "WSREP_"))
		c->flags |= SQLC_SERVER_STATE;
}

/* A word in an expression that is not a function call. */
static void keyword(struct cls *c, const struct tok *t, unsigned ctx,
		    bool *name_pos, bool *into)
{
	const struct tok *la;

	switch (t->ulen) {
	case 3:
		if (KW(t, "FOR") && (ctx & CTX_LOCKS)) {
			la = peek(c);
			if (KW(la, "UPDATE") || KW(la, "SHARE"))
				c->flags |= SQLC_LOCKING_READ;
		}
		return;
	case 4:
		if (KW(t, "FROM") || KW(t, "JOIN")) {
			*name_pos = true;
		} else if (KW(t, "INTO")) {
			if (ctx & CTX_QUERY) {
				c->flags |= SQLC_SELECT_INTO;
				*into = true;
			} else {
				*name_pos = true;
			}
		} else if (KW(t, "LOCK")) {
			if ((ctx & CTX_LOCKS) && KW(peek(c), "IN"))
				c->flags |= SQLC_LOCKING_READ;
		} else if (KW(t, "NEXT")) {
			if (KW(peek(c), "VALUE"))
				c->flags |= SQLC_SEQUENCE;
		}
		return;
	case 5:
		if (KW(t, "TABLE"))
			*name_pos = true;
		return;
	case 6:
		if (KW(t, "UPDATE"))
			*name_pos = true;
		return;
	case 8:
		if (KW(t, "PREVIOUS") && KW(peek(c), "VALUE"))
			c->flags |= SQLC_SEQUENCE;
		return;
	case 13:
		if (KW(t, "STRAIGHT_JOIN"))
			*name_pos = true;
		return;
	case 19:
		if (KW(t, "SQL_CALC_FOUND_ROWS") && (ctx & CTX_QUERY))
			c->flags |= SQLC_CALC_FOUND_ROWS;
		return;
	}
}

/*
 * Reads an expression (or the rest of a statement) from the current token
 * on, up to the end or to what stop says, and notes what it may do:
 * function calls, @v := ..., @@variables, and what ctx asks for.
 */
static void scan(struct cls *c, unsigned ctx, unsigned stop)
{
	unsigned depth = 0;
	bool name_pos = false;  /* the next word is a table's name */
	bool into = false;      /* in SELECT ... INTO's list */
	uint8_t pend = FN_PURE; /* a function whose '(' comes next */
	uint8_t arg = FN_PURE;  /* a lock function's first argument is next */
	uint8_t prev = T_END;

	for (;;) {
		const struct tok *t = CUR(c), *la;

		if (t->type == T_END)
			return;
		if (ctx & CTX_SELECT) {
			if (!KW(t, "SELECT")) {
				next(c);
				continue;
			}
			ctx = CTX_LOCKS;
		}
		if (arg) {
			lock_arg(c, arg);
			arg = FN_PURE;
		}
		/* Only a name (or the '.' inside one) takes a name's place. */
		if (t->type != T_WORD && t->type != T_NAME &&
		    t->type != T_DOT &&
		    !(t->type == T_STRING && t->quote == '"'))
			name_pos = false;
		switch (t->type) {
		case T_LPAREN:
			depth++;
			name_pos = into = false;
			if (pend == FN_LAST_INSERT_ID)
				c->flags |= peek(c)->type == T_RPAREN ?
					    SQLC_LAST_INSERT_ID_GET :
					    SQLC_LAST_INSERT_ID_SET;
			else if (pend == FN_GET_LOCK || pend == FN_RELEASE_LOCK)
				arg = pend;
			break;
		case T_RPAREN:
			into = false;
			if (depth && !--depth && (stop & STOP_PAREN)) {
				next(c);
				return;
			}
			break;
		case T_COMMA:
			if (!depth && (stop & STOP_COMMA))
				return;
			name_pos = false;
			break;
		case T_USERVAR:
			if (into || (ctx & CTX_VARS) ||
			    peek(c)->type == T_ASSIGN)
				c->flags |= SQLC_USER_VAR_ASSIGN;
			break;
		case T_SYSVAR:
			sysvar_read(c);
			pend = FN_PURE;
			prev = T_WORD;
			into = name_pos = false;
			continue;
		case T_STRING:
			if (t->quote != '"') {
				into = false;
				break;
			}
			/* a name under ANSI_QUOTES */
			/* fall through */
		case T_WORD:
		case T_NAME:
			if (!depth && (stop & STOP_FOR) && KW(t, "FOR"))
				return;
			la = peek(c);
			if (name_pos && !KW(t, "TABLE")) {   /* INTO TABLE t */
				name_pos = la->type == T_DOT;
				break;
			}
			into = false;
			if (la->type == T_LPAREN) {
				pend = call(c, t, prev == T_DOT);
				prev = t->type;
				next(c);
				continue;
			}
			if (prev == T_DOT) {
				if (KW(t, "NEXTVAL") || KW(t, "CURRVAL") ||
				    KW(t, "LASTVAL"))
					c->flags |= SQLC_SEQUENCE;
			} else if (t->type == T_WORD) {
				keyword(c, t, ctx, &name_pos, &into);
			}
			break;
		default:
			into = false;
			break;
		}
		pend = FN_PURE;
		prev = t->type;
		next(c);
	}
}

/* Consumes a '(' ... ')' group without looking into it. */
static void skip_parens(struct cls *c)
{
	unsigned depth = 0;

	do {
		if (CUR(c)->type == T_LPAREN)
			depth++;
		else if (CUR(c)->type == T_RPAREN)
			depth--;
		next(c);
	} while (depth && !at_end(c));
}

/* ---- SET ---------------------------------------------------------------- */

static void statement(struct cls *c);

/*
 * A literal that means the same to every later reader: [sign] number,
 * X'..', B'..', 0x.., 0b.., NULL, TRUE, FALSE, or a string (optionally
 * with an introducer, several parts, COLLATE).  Consumed if it is one and
 * the assignment ends after it; the item is filled.
 */
static bool literal(struct cls *c, struct sql_item *it)
{
	const struct tok *t = CUR(c);
	const unsigned char *start = t->s, *last;
	struct sql_text charset = { NULL, 0 }, coll = { NULL, 0 };
	struct sql_text value;
	uint8_t kind = SQL_LIT_VERBATIM;

	if (t->type == T_OP && t->len == 1 && (*t->s == '-' || *t->s == '+')) {
		next(c);
		if (CUR(c)->type != T_NUMBER)
			return false;
	} else if (t->type == T_WORD && t->len > 1 && t->s[0] == '_' &&
		   (peek(c)->type == T_STRING || peek(c)->type == T_HEX ||
		    peek(c)->type == T_NUMBER)) {
		charset = span(t->s + 1, t->s + t->len);
		next(c);
		if (CUR(c)->type == T_STRING && CUR(c)->national)
			return false;
	} else if (!(t->type == T_NUMBER || t->type == T_HEX ||
		     t->type == T_STRING || KW(t, "NULL") || KW(t, "TRUE") ||
		     KW(t, "FALSE"))) {
		return false;
	}
	t = CUR(c);
	if (t->type == T_STRING) {
		kind = SQL_LIT_STRING;
		if (t->national)
			charset = (struct sql_text){ "utf8mb3", 7 };
		start = t->s + t->national;
		do {
			last = CUR(c)->s + CUR(c)->len;
			next(c);
		} while (CUR(c)->type == T_STRING && !CUR(c)->national);
		value = span(start, last);
	} else {
		next(c);
	}
	if (ACCEPT(c, "COLLATE")) {
		if (!is_ident(CUR(c)) && CUR(c)->type != T_STRING)
			return false;
		if (!tok_text(c, CUR(c), &coll))
			return false;
		next(c);
	}
	if (kind == SQL_LIT_VERBATIM) {
		/* The introducer and COLLATE are part of the text. */
		value = span(start, CUR(c)->s);
		charset = coll = (struct sql_text){ NULL, 0 };
	}
	if (CUR(c)->type != T_COMMA && !at_end(c))
		return false;
	if (it) {
		/* The text up to the next token: trim what separates them. */
		while (value.len && sql_is_space((unsigned char)
						 value.ptr[value.len - 1]))
			value.len--;
		it->detail = kind;
		it->value = value;
		it->charset = charset;
		it->collation = coll;
	}
	return true;
}

/* SET @v = value, the current token being @v. */
static void set_user_var(struct cls *c)
{
	struct sql_text name = { NULL, 0 };
	struct lex saved;
	struct sql_item scratch, *it;
	const struct tok *t = CUR(c);

	if (t->quote) {
		if (c->stmt >= 0 && !unquote(c, t->s + 1, t->len - 1,
					     t->quote != '`', &name))
			name = (struct sql_text){ NULL, 0 };
	} else {
		name = span(t->s + 1, t->s + t->len);
	}
	next(c);
	if (CUR(c)->type != T_EQ && CUR(c)->type != T_ASSIGN) {
		c->flags |= SQLC_UNKNOWN;
		return;
	}
	next(c);
	saved = c->lx;
	memset(&scratch, 0, sizeof(scratch));
	if (literal(c, &scratch)) {
		c->flags |= SQLC_USER_VAR_SET;
		it = name.ptr ? add_item(c, SQLI_USER_VAR) : NULL;
		if (it) {
			scratch.kind = it->kind;
			scratch.stmt = it->stmt;
			scratch.name = name;
			*it = scratch;
		} else if (!name.ptr && c->stmt >= 0) {
			c->flags |= SQLC_INEXACT;
		}
		return;
	}
	c->lx = saved;
	c->flags |= SQLC_USER_VAR_ASSIGN;
	scan(c, 0, STOP_COMMA);
}

/* SET autocommit = value: the value's first token is current. */
static void autocommit_value(struct cls *c)
{
	const struct tok *t = CUR(c), *la = peek(c);
	int on = -1;

	if (la->type == T_COMMA || la->type == T_END) {
		if (t->type == T_NUMBER && t->len == 1 && (*t->s == '0' ||
							   *t->s == '1'))
			on = *t->s == '1';
		else if (KW(t, "ON") || KW(t, "TRUE"))
			on = 1;
		else if (KW(t, "OFF") || KW(t, "FALSE"))
			on = 0;
		else if (t->type == T_STRING && t->len == 4 &&
			 !strncasecmp((const char *)t->s + 1, "ON", 2))
			on = 1;
		else if (t->type == T_STRING && t->len == 5 &&
			 !strncasecmp((const char *)t->s + 1, "OFF", 3))
			on = 0;
	}
	c->flags |= on == 1 ? SQLC_AUTOCOMMIT_ON : on == 0 ?
		    SQLC_AUTOCOMMIT_OFF :
		    SQLC_AUTOCOMMIT_ON | SQLC_AUTOCOMMIT_OFF;
}

/* SET [GLOBAL|SESSION] name = value, the current token being '=' or
 * ':='; up is the variable's name in upper case ("" if unknown). */
static void set_sysvar(struct cls *c, bool global, const char *up)
{
	if (CUR(c)->type != T_EQ && CUR(c)->type != T_ASSIGN) {
		c->flags |= SQLC_UNKNOWN;
		return;
	}
	next(c);
	if (global) {
		c->flags |= SQLC_ADMIN;
	} else {
		c->flags |= SQLC_SET_SYSVAR;
		if (name_is(up, "AUTOCOMMIT"))
			autocommit_value(c);
		else if (name_starts(up, "SESSION_TRACK_"))
			c->flags |= SQLC_SET_SESSION_TRACK;
		else if (name_is(up, "SQL_MODE") ||
			 name_is(up, "CHARACTER_SET_CLIENT"))
			c->reading_change = true;
	}
	scan(c, 0, STOP_COMMA);
}

/* SET NAMES x [COLLATE y] (names) or SET CHARACTER SET x: the current
 * token is x. */
static void set_names(struct cls *c, bool names)
{
	struct sql_item *it;
	struct sql_text cs = { NULL, 0 }, coll = { NULL, 0 };

	c->flags |= SQLC_SET_NAMES;
	c->reading_change = true;
	if (!tok_text(c, CUR(c), &cs)) {
		c->flags |= SQLC_UNKNOWN;
		return;
	}
	next(c);
	if (names && ACCEPT(c, "COLLATE")) {
		if (!tok_text(c, CUR(c), &coll)) {
			c->flags |= SQLC_UNKNOWN;
			return;
		}
		next(c);
	}
	it = add_item(c, SQLI_SET_NAMES);
	if (it) {
		it->detail = names ? 0 : SQLI_CHARSET_ONLY;
		it->charset = cs;
		it->collation = coll;
	}
}

/* One item of a SET list. */
static bool set_item(struct cls *c, bool *global)
{
	const struct tok *t;
	char up[UP_MAX];
	bool g;

	if (ACCEPT(c, "GLOBAL"))
		*global = true;
	else if (ACCEPT(c, "SESSION") || ACCEPT(c, "LOCAL"))
		*global = false;
	t = CUR(c);
	switch (t->type) {
	case T_USERVAR:
		set_user_var(c);
		return true;
	case T_SYSVAR:
		next(c);
		g = false;
		if (CUR(c)->type == T_WORD && peek(c)->type == T_DOT &&
		    (KW(CUR(c), "GLOBAL") || KW(CUR(c), "SESSION") ||
		     KW(CUR(c), "LOCAL"))) {
			g = KW(CUR(c), "GLOBAL");
			next(c);
			next(c);
		}
		if (!tok_upper(CUR(c), up))
			up[0] = '\0';
		next(c);
		set_sysvar(c, g, up);
		return true;
	case T_WORD:
		if (KW(t, "NAMES")) {
			next(c);
			set_names(c, true);
			return true;
		}
		if ((KW(t, "CHARACTER") && KW(peek(c), "SET")) ||
		    KW(t, "CHARSET")) {
			if (KW(t, "CHARACTER"))
				next(c);
			next(c);
			set_names(c, false);
			return true;
		}
		/* fall through */
	case T_NAME:
	case T_STRING:
		if (t->type == T_STRING && t->quote != '"')
			return false;
		if (!tok_upper(t, up))
			up[0] = '\0';
		next(c);
		if (CUR(c)->type == T_DOT) {    /* a structured variable */
			next(c);
			if (!tok_upper(CUR(c), up))
				up[0] = '\0';
			next(c);
		}
		set_sysvar(c, *global, up);
		return true;
	default:
		return false;
	}
}

static void st_set(struct cls *c)
{
	bool global = false;
	const struct tok *t = CUR(c);

	if (KW(t, "STATEMENT")) {
		c->flags |= SQLC_SET_STATEMENT;
		next(c);
		scan(c, 0, STOP_FOR);
		if (!ACCEPT(c, "FOR")) {
			c->flags |= SQLC_UNKNOWN;
			return;
		}
		statement(c);
		return;
	}
	if (KW(t, "PASSWORD") || (KW(t, "DEFAULT") && KW(peek(c), "ROLE"))) {
		c->flags |= SQLC_DDL;
		return;
	}
	if (KW(t, "ROLE")) {
		c->flags |= SQLC_SET_ROLE;
		return;
	}
	if (KW(t, "TRANSACTION") || ((KW(t, "SESSION") || KW(t, "LOCAL")) &&
				      KW(peek(c), "TRANSACTION"))) {
		c->flags |= SQLC_SET_SYSVAR;
		return;
	}
	if (KW(t, "GLOBAL") && KW(peek(c), "TRANSACTION")) {
		c->flags |= SQLC_ADMIN;
		return;
	}
	for (;;) {
		if (!set_item(c, &global)) {
			c->flags |= SQLC_UNKNOWN;
			return;
		}
		if (at_end(c))
			return;
		if (CUR(c)->type != T_COMMA) {
			c->flags |= SQLC_UNKNOWN;
			scan(c, 0, 0);
			return;
		}
		next(c);
	}
}

/* ---- statements --------------------------------------------------------- */

/* The first word has been consumed; the current token is the second. */

static void st_query(struct cls *c)
{
	scan(c, CTX_QUERY | CTX_LOCKS, 0);
}

static void st_expr(struct cls *c)
{
	scan(c, 0, 0);
}

static void st_none(struct cls *c)
{
}

/* INSERT / REPLACE [LOW_PRIORITY | DELAYED | HIGH_PRIORITY] [IGNORE]
 * [INTO] t ...: the table's name is not a function even before '('. */
static void st_insert(struct cls *c)
{
	struct sql_text schema, name;

	while (ACCEPT(c, "LOW_PRIORITY") || ACCEPT(c, "DELAYED") ||
	       ACCEPT(c, "HIGH_PRIORITY") || ACCEPT(c, "IGNORE"))
		;
	ACCEPT(c, "INTO");
	table_name(c, &schema, &name);
	scan(c, CTX_LOCKS, 0);
}

static void st_update(struct cls *c)
{
	struct sql_text schema, name;

	while (ACCEPT(c, "LOW_PRIORITY") || ACCEPT(c, "IGNORE"))
		;
	table_name(c, &schema, &name);
	scan(c, CTX_LOCKS, 0);
}

static void st_delete(struct cls *c)
{
	scan(c, CTX_LOCKS, 0);
}

static void st_call(struct cls *c)
{
	struct sql_text schema, name;

	table_name(c, &schema, &name);
	scan(c, 0, 0);
}

/* LOAD DATA / XML: (@v, ...) SET col = @v assigns the variables. */
static void st_load(struct cls *c)
{
	if (KW(CUR(c), "DATA") || KW(CUR(c), "XML")) {
		c->flags |= SQLC_WRITE;
		scan(c, CTX_VARS, 0);
	} else if (KW(CUR(c), "INDEX")) {
		c->flags |= SQLC_ADMIN;
	} else {
		c->flags |= SQLC_UNKNOWN;
	}
}

/* WITH [RECURSIVE] name [(cols)] AS (query) [, ...] statement */
static void st_with(struct cls *c)
{
	ACCEPT(c, "RECURSIVE");
	for (;;) {
		if (!is_ident(CUR(c))) {
			c->flags |= SQLC_UNKNOWN;
			scan(c, CTX_QUERY | CTX_LOCKS, 0);
			return;
		}
		next(c);
		if (CUR(c)->type == T_LPAREN)
			skip_parens(c);
		ACCEPT(c, "AS");
		if (CUR(c)->type == T_LPAREN)
			scan(c, CTX_LOCKS, STOP_PAREN);
		if (CUR(c)->type != T_COMMA)
			break;
		next(c);
	}
	statement(c);
}

/* SHOW ...: what it shows decides whether any server can answer. */
static void st_show(struct cls *c)
{
	const struct tok *t = CUR(c);

	if (KW(t, "WARNINGS") || KW(t, "ERRORS") || KW(t, "COUNT") ||
	    KW(t, "PROFILE") || KW(t, "PROFILES"))
		c->flags |= SQLC_DIAGNOSTICS;
	else if (KW(t, "GLOBAL") || KW(t, "SESSION") || KW(t, "LOCAL") ||
		 KW(t, "STATUS") || KW(t, "VARIABLES") ||
		 KW(t, "PROCESSLIST") ||
		 (KW(t, "FULL") && KW(peek(c), "PROCESSLIST")) ||
		 KW(t, "MASTER") || KW(t, "SLAVE") || KW(t, "SLAVES") ||
		 KW(t, "REPLICA") || KW(t, "REPLICAS") || KW(t, "ALL") ||
		 KW(t, "BINLOG") || KW(t, "BINARY") || KW(t, "RELAYLOG") ||
		 KW(t, "ENGINE") || KW(t, "INNODB") || KW(t, "MUTEX") ||
		 KW(t, "OPEN") || KW(t, "EXPLAIN") || KW(t, "ANALYZE") ||
		 KW(t, "USER_STATISTICS") || KW(t, "CLIENT_STATISTICS") ||
		 KW(t, "INDEX_STATISTICS") || KW(t, "TABLE_STATISTICS"))
		c->flags |= SQLC_SERVER_STATE;
	scan(c, 0, 0);
}

/* EXPLAIN / DESCRIBE: the statement explained does not run, but its
 * derived tables do (see the top). */
static void st_explain(struct cls *c)
{
	scan(c, 0, 0);
}

/* ANALYZE [FORMAT=JSON] stmt runs stmt; ANALYZE TABLE is maintenance. */
static void st_analyze(struct cls *c)
{
	if (KW(CUR(c), "TABLE") || KW(CUR(c), "TABLES") ||
	    KW(CUR(c), "NO_WRITE_TO_BINLOG") || KW(CUR(c), "LOCAL")) {
		c->flags |= SQLC_ADMIN;
		return;
	}
	c->flags |= SQLC_READ;
	if (ACCEPT(c, "FORMAT")) {
		if (CUR(c)->type == T_EQ)
			next(c);
		next(c);
	}
	statement(c);
}

/* BEGIN [WORK]; BEGIN NOT ATOMIC ... is a compound statement. */
static void st_begin(struct cls *c)
{
	ACCEPT(c, "WORK");
	if (at_end(c))
		c->flags |= SQLC_TXN_BEGIN;
	else
		c->flags |= SQLC_CALL;
}

/* START TRANSACTION [WITH CONSISTENT SNAPSHOT | READ ONLY | READ WRITE
 * [, ...]]; START SLAVE / REPLICA / ALL SLAVES. */
static void st_start(struct cls *c)
{
	if (!ACCEPT(c, "TRANSACTION")) {
		if (KW(CUR(c), "SLAVE") || KW(CUR(c), "REPLICA") ||
		    KW(CUR(c), "ALL"))
			c->flags |= SQLC_ADMIN;
		else
			c->flags |= SQLC_UNKNOWN;
		return;
	}
	c->flags |= SQLC_TXN_BEGIN;
	while (!at_end(c)) {
		if (ACCEPT(c, "READ") && KW(CUR(c), "ONLY"))
			c->flags |= SQLC_TXN_READ_ONLY;
		next(c);
	}
}

/* COMMIT / ROLLBACK [WORK] [AND [NO] CHAIN] [[NO] RELEASE] */
static void txn_end(struct cls *c)
{
	ACCEPT(c, "WORK");
	c->flags |= SQLC_TXN_END;
	if (ACCEPT(c, "AND") && !ACCEPT(c, "NO") && ACCEPT(c, "CHAIN"))
		c->flags |= SQLC_TXN_BEGIN;
	ACCEPT(c, "CHAIN");
	if (!ACCEPT(c, "NO") && ACCEPT(c, "RELEASE"))
		c->flags |= SQLC_RELEASE;
}

static void st_commit(struct cls *c)
{
	txn_end(c);
}

/* ROLLBACK [WORK] TO [SAVEPOINT] s only goes back to the savepoint. */
static void st_rollback(struct cls *c)
{
	ACCEPT(c, "WORK");
	if (KW(CUR(c), "TO")) {
		c->flags |= SQLC_SAVEPOINT;
		return;
	}
	txn_end(c);
}

/* RELEASE SAVEPOINT s */
static void st_release(struct cls *c)
{
	c->flags |= KW(CUR(c), "SAVEPOINT") ? SQLC_SAVEPOINT : SQLC_UNKNOWN;
}

static void st_xa(struct cls *c)
{
	const struct tok *t = CUR(c);

	if (KW(t, "START") || KW(t, "BEGIN"))
		c->flags |= SQLC_TXN_BEGIN;
	else if (KW(t, "COMMIT") || KW(t, "ROLLBACK"))
		c->flags |= SQLC_TXN_END;
	else if (KW(t, "RECOVER"))
		c->flags |= SQLC_SERVER_STATE;
	else if (!KW(t, "END") && !KW(t, "PREPARE"))
		c->flags |= SQLC_UNKNOWN;
}

static void st_lock(struct cls *c)
{
	if (KW(CUR(c), "TABLE") || KW(CUR(c), "TABLES"))
		c->flags |= SQLC_LOCK_TABLES;
	else
		c->flags |= SQLC_UNKNOWN;
}

static void st_unlock(struct cls *c)
{
	if (KW(CUR(c), "TABLE") || KW(CUR(c), "TABLES"))
		c->flags |= SQLC_UNLOCK_TABLES;
	else
		c->flags |= SQLC_UNKNOWN;
}

/* FLUSH [NO_WRITE_TO_BINLOG | LOCAL] TABLE[S] [t, ...] WITH READ LOCK |
 * FOR EXPORT keeps the tables locked until UNLOCK TABLES. */
static void st_flush(struct cls *c)
{
	c->flags |= SQLC_ADMIN;
	for (; !at_end(c); next(c)) {
		if ((KW(CUR(c), "WITH") && KW(peek(c), "READ")) ||
		    (KW(CUR(c), "FOR") && KW(peek(c), "EXPORT")))
			c->flags |= SQLC_FLUSH_TABLES_READ_LOCK;
	}
}

/* BACKUP STAGE s, BACKUP LOCK t, BACKUP UNLOCK */
static void st_backup(struct cls *c)
{
	if (ACCEPT(c, "STAGE"))
		c->flags |= KW(CUR(c), "END") ? SQLC_BACKUP_UNLOCK :
			    SQLC_BACKUP_LOCK;
	else if (KW(CUR(c), "LOCK"))
		c->flags |= SQLC_BACKUP_LOCK;
	else if (KW(CUR(c), "UNLOCK"))
		c->flags |= SQLC_BACKUP_UNLOCK;
	else
		c->flags |= SQLC_UNKNOWN;
}

/* HANDLER t OPEN [[AS] alias] | READ ... | CLOSE */
static void st_handler(struct cls *c)
{
	struct sql_text schema, name, alias;
	struct sql_item *it;

	if (!table_name(c, &schema, &name)) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	if (ACCEPT(c, "OPEN")) {
		alias = name;
		ACCEPT(c, "AS");
		if (is_ident(CUR(c)))
			tok_text(c, CUR(c), &alias);
		it = add_item(c, SQLI_HANDLER_OPEN);
		if (it) {
			it->schema = schema;
			it->name = name;
			it->to_name = alias;
		}
	} else if (ACCEPT(c, "CLOSE")) {
		it = add_item(c, SQLI_HANDLER_CLOSE);
		if (it)
			it->name = name;
	} else {
		scan(c, 0, 0);
	}
}

/* The name of PREPARE s, DEALLOCATE PREPARE s: an item. */
static void prepared_name(struct cls *c, uint8_t kind)
{
	struct sql_item *it;
	struct sql_text name;

	if (!is_ident(CUR(c)) || !tok_text(c, CUR(c), &name)) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	it = add_item(c, kind);
	if (it)
		it->name = name;
	next(c);
}

static void st_prepare(struct cls *c)
{
	prepared_name(c, SQLI_PREPARE);
	scan(c, 0, 0);
}

/* EXECUTE s [USING ...] runs what PREPARE saw; EXECUTE IMMEDIATE too. */
static void st_execute(struct cls *c)
{
	if (!ACCEPT(c, "IMMEDIATE"))
		c->flags |= SQLC_SQL_PREPARE;
	scan(c, 0, 0);
}

static void st_deallocate(struct cls *c)
{
	ACCEPT(c, "PREPARE");
	prepared_name(c, SQLI_DEALLOCATE);
}

/* DROP [TEMPORARY] TABLE[S] | SEQUENCE [IF EXISTS] t [, t ...]
 * [WAIT n | NOWAIT] [RESTRICT | CASCADE]; DROP PREPARE s */
static void st_drop(struct cls *c)
{
	bool temp = ACCEPT(c, "TEMPORARY");
	struct sql_text schema, name;
	struct sql_item *it;

	if (!temp && ACCEPT(c, "PREPARE")) {
		c->flags |= SQLC_SQL_PREPARE;
		prepared_name(c, SQLI_DEALLOCATE);
		return;
	}
	if (!ACCEPT(c, "TABLE") && !ACCEPT(c, "TABLES") &&
	    !ACCEPT(c, "SEQUENCE")) {
		c->flags |= temp ? SQLC_UNKNOWN : SQLC_DDL;
		return;
	}
	c->flags |= SQLC_TABLE_DROP | (temp ? 0 : SQLC_DDL);
	if (ACCEPT(c, "IF"))
		ACCEPT(c, "EXISTS");
	do {
		if (!table_name(c, &schema, &name)) {
			c->flags |= SQLC_INEXACT;
			return;
		}
		it = add_item(c, SQLI_DROP_TABLE);
		if (it) {
			it->detail = temp ? SQLI_TEMPORARY : 0;
			it->schema = schema;
			it->name = name;
		}
	} while (CUR(c)->type == T_COMMA && (next(c), true));
	if (ACCEPT(c, "WAIT"))
		next(c);
	else
		ACCEPT(c, "NOWAIT");
	if (!ACCEPT(c, "RESTRICT"))
		ACCEPT(c, "CASCADE");
	if (!at_end(c))
		c->flags |= SQLC_INEXACT;
}

/* CREATE [OR REPLACE] [TEMPORARY] TABLE | SEQUENCE [IF NOT EXISTS] t ...;
 * any other CREATE is DDL that runs nothing. */
static void st_create(struct cls *c)
{
	struct sql_text schema, name;
	struct sql_item *it;
	bool temp;

	if (ACCEPT(c, "OR"))
		ACCEPT(c, "REPLACE");
	temp = ACCEPT(c, "TEMPORARY");
	if (!ACCEPT(c, "TABLE") && !ACCEPT(c, "SEQUENCE")) {
		c->flags |= temp ? SQLC_UNKNOWN : SQLC_DDL;
		return;
	}
	if (ACCEPT(c, "IF") && ACCEPT(c, "NOT"))
		ACCEPT(c, "EXISTS");
	if (!temp) {
		c->flags |= SQLC_DDL;
		table_name(c, &schema, &name);
	} else {
		c->flags |= SQLC_TEMP_TABLE_CREATE;
		if (!table_name(c, &schema, &name)) {
			c->flags |= SQLC_INEXACT;
			return;
		}
		it = add_item(c, SQLI_TEMP_TABLE);
		if (it) {
			it->schema = schema;
			it->name = name;
		}
	}
	scan(c, CTX_SELECT, 0);
}

static void rename_item(struct cls *c, struct sql_text schema,
			struct sql_text name)
{
	struct sql_text to_schema, to_name;
	struct sql_item *it;

	if (!table_name(c, &to_schema, &to_name)) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	c->flags |= SQLC_TABLE_RENAME;
	it = add_item(c, SQLI_RENAME_TABLE);
	if (it) {
		it->schema = schema;
		it->name = name;
		it->to_schema = to_schema;
		it->to_name = to_name;
	}
}

/* ALTER [ONLINE] [IGNORE] TABLE [IF EXISTS] t ... RENAME [TO | AS] u:
 * DDL that runs nothing, but may rename a temporary table. */
static void st_alter(struct cls *c)
{
	struct sql_text schema, name;
	unsigned depth = 0;

	c->flags |= SQLC_DDL;
	ACCEPT(c, "ONLINE");
	ACCEPT(c, "IGNORE");
	if (!ACCEPT(c, "TABLE"))
		return;
	if (ACCEPT(c, "IF"))
		ACCEPT(c, "EXISTS");
	if (!table_name(c, &schema, &name))
		return;
	while (!at_end(c)) {
		const struct tok *t = CUR(c);

		if (t->type == T_LPAREN)
			depth++;
		else if (t->type == T_RPAREN && depth)
			depth--;
		if (!depth && KW(t, "RENAME") && !KW(peek(c), "COLUMN") &&
		    !KW(peek(c), "INDEX") && !KW(peek(c), "KEY")) {
			next(c);
			if (!ACCEPT(c, "TO"))
				ACCEPT(c, "AS");
			rename_item(c, schema, name);
			continue;
		}
		next(c);
	}
}

/* RENAME TABLE[S] [IF EXISTS] a TO b [, c TO d ...]; RENAME USER */
static void st_rename(struct cls *c)
{
	struct sql_text schema, name;

	c->flags |= SQLC_DDL;
	if (!ACCEPT(c, "TABLE") && !ACCEPT(c, "TABLES"))
		return;
	if (ACCEPT(c, "IF"))
		ACCEPT(c, "EXISTS");
	do {
		if (!table_name(c, &schema, &name) || !ACCEPT(c, "TO")) {
			c->flags |= SQLC_INEXACT;
			return;
		}
		rename_item(c, schema, name);
	} while (CUR(c)->type == T_COMMA && (next(c), true));
	if (!at_end(c))
		c->flags |= SQLC_INEXACT;
}

static void st_use(struct cls *c)
{
	struct sql_item *it;
	struct sql_text name;

	if (!is_ident(CUR(c)) || !tok_text(c, CUR(c), &name)) {
		c->flags |= SQLC_INEXACT;
		return;
	}
	it = add_item(c, SQLI_USE);
	if (it)
		it->name = name;
}

static bool parse_u64(const struct tok *t, uint64_t *v)
{
	uint64_t n = 0;

	if (t->type != T_NUMBER)
		return false;
	for (size_t i = 0; i < t->len; i++) {
		unsigned d = t->s[i] - '0';

		if (d > 9 || n > (UINT64_MAX - d) / 10)
			return false;
		n = n * 10 + d;
	}
	*v = n;
	return true;
}

/* KILL [HARD | SOFT] [CONNECTION | QUERY [ID]] target | USER user */
static void st_kill(struct cls *c)
{
	struct sql_item *it;
	uint8_t detail = 0;
	const unsigned char *from;
	uint64_t n = 0;
	bool number;

	if (!ACCEPT(c, "HARD") && ACCEPT(c, "SOFT"))
		detail |= SQL_KILL_SOFT;
	if (!ACCEPT(c, "CONNECTION") && ACCEPT(c, "QUERY")) {
		detail |= SQL_KILL_QUERY;
		if (ACCEPT(c, "ID"))
			detail |= SQL_KILL_QUERY_ID;
	}
	if (ACCEPT(c, "USER"))
		detail |= SQL_KILL_USER;
	from = CUR(c)->s;
	number = !(detail & SQL_KILL_USER) && parse_u64(CUR(c), &n) &&
		 peek(c)->type == T_END;
	if (!number && !(detail & SQL_KILL_USER))
		c->flags |= SQLC_INEXACT;
	it = add_item(c, SQLI_KILL);
	if (it) {
		it->detail = detail;
		it->number = n;
		it->value = span(from, c->lx.end);
	}
	if (!(detail & SQL_KILL_USER))
		scan(c, 0, 0);
}

/* GET [CURRENT | STACKED] DIAGNOSTICS @v = item, ... */
static void st_get(struct cls *c)
{
	c->flags |= SQLC_DIAGNOSTICS;
	scan(c, CTX_VARS, 0);
}

struct verb {
	const char *word;
	uint8_t len;
	void (*parse)(struct cls *c);
	uint64_t flags;
};

#define VERB(w, fn, fl) { w, sizeof(w) - 1, fn, fl }

/* By the first word; the most frequent first. */
static const struct verb verbs[] = {
	VERB("SELECT", st_query, SQLC_READ),
	VERB("INSERT", st_insert, SQLC_WRITE),
	VERB("UPDATE", st_update, SQLC_WRITE),
	VERB("DELETE", st_delete, SQLC_WRITE),
	VERB("REPLACE", st_insert, SQLC_WRITE),
	VERB("SET", st_set, 0),
	VERB("COMMIT", st_commit, 0),
	VERB("BEGIN", st_begin, 0),
	VERB("START", st_start, 0),
	VERB("ROLLBACK", st_rollback, 0),
	VERB("SHOW", st_show, SQLC_READ),
	VERB("USE", st_use, SQLC_USE),
	VERB("WITH", st_with, 0),
	VERB("VALUES", st_query, SQLC_READ),
	VERB("TABLE", st_query, SQLC_READ),
	VERB("DO", st_expr, 0),
	VERB("CALL", st_call, SQLC_CALL),
	VERB("SAVEPOINT", st_none, SQLC_SAVEPOINT),
	VERB("RELEASE", st_release, 0),
	VERB("XA", st_xa, SQLC_XA),
	VERB("LOCK", st_lock, 0),
	VERB("UNLOCK", st_unlock, 0),
	VERB("EXPLAIN", st_explain, SQLC_READ),
	VERB("DESCRIBE", st_explain, SQLC_READ),
	VERB("DESC", st_explain, SQLC_READ),
	VERB("ANALYZE", st_analyze, 0),
	VERB("HELP", st_none, SQLC_READ),
	VERB("CREATE", st_create, 0),
	VERB("DROP", st_drop, 0),
	VERB("ALTER", st_alter, 0),
	VERB("RENAME", st_rename, 0),
	VERB("TRUNCATE", st_none, SQLC_DDL),
	VERB("GRANT", st_none, SQLC_DDL),
	VERB("REVOKE", st_none, SQLC_DDL),
	VERB("LOAD", st_load, 0),
	VERB("PREPARE", st_prepare, SQLC_SQL_PREPARE),
	VERB("EXECUTE", st_execute, SQLC_CALL),
	VERB("DEALLOCATE", st_deallocate, SQLC_SQL_PREPARE),
	VERB("HANDLER", st_handler, SQLC_HANDLER),
	VERB("KILL", st_kill, SQLC_KILL),
	VERB("FLUSH", st_flush, 0),
	VERB("BACKUP", st_backup, 0),
	VERB("GET", st_get, 0),
	VERB("SIGNAL", st_none, 0),
	VERB("RESIGNAL", st_none, 0),
	/* compound statements outside stored programs */
	VERB("IF", st_none, SQLC_CALL),
	VERB("WHILE", st_none, SQLC_CALL),
	VERB("LOOP", st_none, SQLC_CALL),
	VERB("REPEAT", st_none, SQLC_CALL),
	VERB("CASE", st_none, SQLC_CALL),
	VERB("FOR", st_none, SQLC_CALL),
	VERB("DECLARE", st_none, SQLC_CALL),
	/* administration */
	VERB("OPTIMIZE", st_none, SQLC_ADMIN),
	VERB("REPAIR", st_none, SQLC_ADMIN),
	VERB("CHECK", st_none, SQLC_ADMIN),
	VERB("CHECKSUM", st_none, SQLC_ADMIN),
	VERB("CACHE", st_none, SQLC_ADMIN),
	VERB("PURGE", st_none, SQLC_ADMIN),
	VERB("RESET", st_none, SQLC_ADMIN),
	VERB("CHANGE", st_none, SQLC_ADMIN),
	VERB("STOP", st_none, SQLC_ADMIN),
	VERB("SHUTDOWN", st_none, SQLC_ADMIN),
	VERB("INSTALL", st_none, SQLC_ADMIN),
	VERB("UNINSTALL", st_none, SQLC_ADMIN),
	VERB("BINLOG", st_none, SQLC_ADMIN),
};

/* One statement from its first token on (also the one after SET
 * STATEMENT ... FOR, ANALYZE, WITH ...). */
static void statement(struct cls *c)
{
	const struct tok *t = CUR(c);

	if (t->type == T_END)
		return;
	if (++c->nesting > MAX_NESTING) {
		c->flags |= SQLC_UNKNOWN;
		return;
	}
	if (t->type == T_LPAREN) {
		c->flags |= SQLC_READ;
		scan(c, CTX_QUERY | CTX_LOCKS, 0);
		return;
	}
	if (t->type == T_WORD && peek(c)->type == T_COLON) {
		c->flags |= SQLC_CALL;          /* label: BEGIN ... */
		return;
	}
	if (t->type == T_WORD) {
		for (size_t i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
			const struct verb *v = &verbs[i];

			if (t->ulen == v->len &&
			    !memcmp(t->up, v->word, v->len)) {
				c->flags |= v->flags;
				next(c);
				v->parse(c);
				return;
			}
		}
	}
	c->flags |= SQLC_UNKNOWN;
}

/* ---- a command ---------------------------------------------------------- */

/* A '\' (escapes), or a byte that may lead a gbk, big5 or sjis character
 * followed by one that may end it and is not part of a word anyway ('\',
 * '`', '@', '[', '|', ...: charsets): the tokens may differ from reading
 * to reading. */
static void reading_risks(const char *text, size_t len, bool *escapes,
			  bool *charsets)
{
	const unsigned char *p = (const unsigned char *)text,
			    *end = p + len;

	*escapes = memchr(text, '\\', len) != NULL;
	*charsets = false;
	for (; p + 1 < end; p++)
		if (*p >= 0x81 && *p <= 0xfe && p[1] >= 0x40 && p[1] <= 0x7e &&
		    !(cc[p[1]] & CC_WORD)) {
			*charsets = true;
			return;
		}
}

/* One statement under one reading: its flags. */
static uint64_t classify_one(struct sql_class *out, const char *text,
			     size_t len, const struct sql_reading *rd,
			     int stmt, bool *reading_change)
{
	struct cls c;

	c.out = out;
	c.flags = 0;
	c.stmt = stmt;
	c.nesting = 0;
	c.reading_change = false;
	c.lx.p = (const unsigned char *)text;
	c.lx.end = c.lx.p + len;
	c.lx.rd = rd;
	c.lx.prev = T_END;
	c.lx.has_ahead = false;
	c.lx.cur = 0;
	next(&c);
	statement(&c);
	*reading_change |= c.reading_change;
	return c.flags;
}

/*
 * Classifies one statement under reading rd (collecting items unless stmt
 * is -1) and, with variants, under every other escape mode and character
 * set its text may be read with; *differ is set if there were any.
 * SQLC_INEXACT is about the items, so only the collecting pass may set it.
 */
static uint64_t classify_text(struct sql_class *out, const char *text,
			      size_t len, const struct sql_reading *rd,
			      int stmt, bool variants, bool *differ,
			      bool *reading_change)
{
	uint64_t flags = classify_one(out, text, len, rd, stmt,
				      reading_change);
	bool escapes, charsets;

	if (stmt < 0)
		flags &= ~SQLC_INEXACT;
	if (!variants)
		return flags;
	reading_risks(text, len, &escapes, &charsets);
	if (!escapes && !charsets)
		return flags;
	*differ = true;
	for (uint8_t esc = SQL_ESC_ALL; esc <= SQL_ESC_NONE; esc++) {
		if (esc != SQL_ESC_ALL && !escapes)
			break;
		for (uint8_t cs = SQL_CS_BYTE; cs <= SQL_CS_SJIS; cs++) {
			struct sql_reading v = { esc, cs, rd->server,
						 rd->version };

			if (cs != SQL_CS_BYTE && !charsets)
				break;
			if (esc == rd->escapes && cs == rd->charset)
				continue;
			flags |= classify_one(out, text, len, &v, -1,
					      reading_change) & ~SQLC_INEXACT;
		}
	}
	return flags;
}

/* Flags whose items are the whole story (see SQLC_INEXACT). */
#define ITEM_FLAGS (SQLC_USER_VAR_SET | SQLC_SET_NAMES | SQLC_USE |   \
		    SQLC_TEMP_TABLE_CREATE | SQLC_TABLE_DROP |            \
		    SQLC_TABLE_RENAME | SQLC_GET_LOCK | SQLC_RELEASE_LOCK | \
		    SQLC_HANDLER | SQLC_SQL_PREPARE | SQLC_KILL)

int sql_classify(struct sql_split *sp, const char *sql, size_t len,
		 const struct sql_reading *rd, struct sql_class *out)
{
	static const struct sql_reading primary = {
		SQL_ESC_ALL, SQL_CS_BYTE, SQL_SERVER_ANY, 0
	};
	bool differ, reading_change = false;
	unsigned changed = UINT_MAX;    /* the first statement that does */
	uint64_t flags = 0;
	int rc;

	out->flags = 0;
	out->nstmts = 0;
	out->nitems = 0;
	out->buf_len = 0;
	rc = sql_split(sp, sql, len);
	if (rc) {
		out->flags = SQLC_UNKNOWN | SQLC_INEXACT;
		return rc;
	}
	out->nstmts = sp->nprimary;
	differ = sp->readings > 1;
	for (unsigned i = 0; i < sp->n; i++) {
		const struct sql_stmt *st = &sp->stmts[i];

		flags |= classify_text(out, st->text, st->len, &primary,
				       i < sp->nprimary ? (int)i : -1, true,
				       &differ, &reading_change);
	}
	if (sp->multi)
		flags |= SQLC_MULTI;
	out->flags = flags;
	if (!differ || !(flags & ITEM_FLAGS))
		return 0;
	/* The items may depend on the reading: take the caller's, unless the
	 * command changes it before a statement that has items. */
	out->nitems = 0;
	out->buf_len = 0;
	flags &= ~SQLC_INEXACT;
	if (!rd || sql_split_reading(sp, sql, len, rd)) {
		out->flags = flags | SQLC_INEXACT;
		return 0;
	}
	for (unsigned i = 0; i < sp->n; i++) {
		reading_change = false;
		flags |= classify_text(out, sp->stmts[i].text,
				       sp->stmts[i].len, rd, (int)i, false,
				       &differ, &reading_change) &
			 SQLC_INEXACT;
		if (reading_change && i < changed)
			changed = i;
	}
	for (unsigned i = 0; i < out->nitems; i++)
		if (out->items[i].stmt > changed)
			flags |= SQLC_INEXACT;
	out->flags = flags;
	return 0;
}

/* ---- the rest of the API ------------------------------------------------ */

bool sql_class_read_only(const struct sql_class *c)
{
	uint64_t allowed = SQLC_READ | SQLC_MULTI | SQLC_LAST_INSERT_ID_GET;

	return (c->flags & SQLC_READ) && !(c->flags & ~allowed);
}

static const char *const flag_names[SQLC_NFLAGS] = {
	"READ", "WRITE", "DDL", "ADMIN", "LOCKING_READ", "SELECT_INTO",
	"TXN_BEGIN", "TXN_READ_ONLY", "TXN_END", "SAVEPOINT", "AUTOCOMMIT_OFF",
	"AUTOCOMMIT_ON", "XA", "RELEASE", "USER_VAR_SET", "USER_VAR_ASSIGN",
	"SET_SYSVAR", "SET_NAMES", "SET_SESSION_TRACK", "SET_STATEMENT",
	"SET_ROLE", "USE", "TEMP_TABLE_CREATE", "TABLE_DROP", "TABLE_RENAME",
	"GET_LOCK", "RELEASE_LOCK", "RELEASE_ALL_LOCKS", "LOCK_TABLES",
	"UNLOCK_TABLES", "FLUSH_TABLES_READ_LOCK", "BACKUP_LOCK",
	"BACKUP_UNLOCK", "HANDLER", "SQL_PREPARE", "SEQUENCE",
	"LAST_INSERT_ID_SET", "LAST_INSERT_ID_GET", "CALC_FOUND_ROWS",
	"FOUND_ROWS", "ROW_COUNT", "DIAGNOSTICS", "CONNECTION_ID",
	"SERVER_STATE", "KILL", "CALL", "STORED_FUNC", "MULTI", "UNKNOWN",
	"INEXACT",
};

size_t sql_class_flags_str(uint64_t flags, char *buf, size_t cap)
{
	size_t n = 0;

	if (cap)
		buf[0] = '\0';
	for (unsigned i = 0; i < SQLC_NFLAGS; i++) {
		size_t w;

		if (!(flags & (1ull << i)))
			continue;
		w = strlen(flag_names[i]) + (n ? 1 : 0);
		if (n + w < cap) {
			if (n)
				buf[n] = '|';
			memcpy(buf + n + (n ? 1 : 0), flag_names[i],
			       strlen(flag_names[i]));
			buf[n + w] = '\0';
		}
		n += w;
	}
	return n;
}

/* ---- literals and readings ---------------------------------------------- */

static size_t put(char *out, size_t cap, size_t n, char ch)
{
	if (n < cap)
		out[n] = ch;
	return n + 1;
}

size_t sql_string_value(const char *lit, size_t len,
			const struct sql_reading *rd, char *out, size_t cap)
{
	const unsigned char *p = (const unsigned char *)lit, *end = p + len;
	size_t n = 0;
	bool parts = false;

	for (;;) {
		const unsigned char *close;
		unsigned char q;
		bool bs;

		while (p < end && sql_is_space(*p))
			p++;
		if (p == end)
			return parts ? n : (size_t)-1;
		q = *p;
		if (q != '\'' && (q != '"' || rd->escapes == SQL_ESC_SINGLE))
			return (size_t)-1;
		bs = rd->escapes != SQL_ESC_NONE;
		close = sql_quoted_end_as(p, end, rd);
		if (close - p < 2 || close[-1] != q)
			return (size_t)-1;     /* unterminated */
		for (p++; p < close - 1; p++) {
			unsigned char ch = *p;
			unsigned w = sql_char_len(rd->charset, p, close - 1);

			if (w == 2) {
				n = put(out, cap, n, (char)p[0]);
				n = put(out, cap, n, (char)p[1]);
				p++;
			} else if (ch == q) {
				n = put(out, cap, n, (char)q);
				p++;            /* the doubled quote */
			} else if (ch == '\\' && bs) {
				ch = *++p;
				switch (ch) {
				case '0': ch = 0; break;
				case 'b': ch = '\b'; break;
				case 'n': ch = '\n'; break;
				case 'r': ch = '\r'; break;
				case 't': ch = '\t'; break;
				case 'Z': ch = 0x1a; break;
				case '%':
				case '_':
					n = put(out, cap, n, '\\');
					break;
				}
				n = put(out, cap, n, (char)ch);
			} else {
				n = put(out, cap, n, (char)ch);
			}
		}
		p = close;
		parts = true;
	}
}

/* The word w in a comma-separated list (sql_mode as the server reports
 * it), without regard to case. */
bool sql_list_has(const char *list, size_t len, const char *w)
{
	size_t wl = strlen(w);

	for (size_t i = 0; i < len;) {
		size_t j = i;

		while (j < len && list[j] != ',')
			j++;
		if (j - i == wl && !strncasecmp(list + i, w, wl))
			return true;
		i = j + 1;
	}
	return false;
}

static bool name_eq(const char *s, size_t len, const char *w)
{
	return strlen(w) == len && !strncasecmp(s, w, len);
}

void sql_reading_for_session(struct sql_reading *rd, const char *sql_mode,
			     size_t mode_len, const char *charset,
			     size_t charset_len, uint8_t server,
			     uint32_t version)
{
	bool ansi = false, nbe = false;

	if (sql_mode) {
		ansi = sql_list_has(sql_mode, mode_len, "ANSI_QUOTES");
		nbe = sql_list_has(sql_mode, mode_len, "NO_BACKSLASH_ESCAPES");
	}
	rd->escapes = nbe ? SQL_ESC_NONE : ansi ? SQL_ESC_SINGLE : SQL_ESC_ALL;
	rd->charset = SQL_CS_BYTE;
	if (charset) {
		if (name_eq(charset, charset_len, "gbk") ||
		    name_eq(charset, charset_len, "gb18030"))
			rd->charset = SQL_CS_GBK;
		else if (name_eq(charset, charset_len, "big5"))
			rd->charset = SQL_CS_BIG5;
		else if (name_eq(charset, charset_len, "sjis") ||
			 name_eq(charset, charset_len, "cp932"))
			rd->charset = SQL_CS_SJIS;
	}
	rd->server = server;
	rd->version = version;
}
