/*
 * digest.c - SQL fingerprint normaliser (see digest.h).
 *
 * The fingerprint is the query's token stream, tokens joined by one space:
 *  - white space and comments (/ *..* /, "-- ", #) only separate tokens;
 *    executable comments (/ *! / *!50001 / *M! / *M!100100) lose their
 *    markers and version and their text is part of the query; optimizer
 *    hints stay, normalised: "/ *+ MAX_EXECUTION_TIME(?) * /";
 *  - literals become '?': numbers (1, 1.5, .5, 1e10, 0x1F, 0b101), strings
 *    ('', "", N'', X'', B'', _charset'' and 'a' 'b' together), and a unary
 *    sign goes into the number after it ("id = -5": "id = ?");
 *  - "IN (" + only literals + ")" becomes "IN (...)", the tuples after
 *    VALUES / VALUE (also ROW(..), ROW(..)) become "VALUES (...)";
 *  - keywords (the table below: MariaDB and MySQL reserved words and common
 *    function and statement words) are upper-cased, other words are kept
 *    as written; `name` loses its back quotes when it needs none;
 *  - no space after '(', '@', '@@', '.', none before ')', ',', '.'.
 * The hash is FNV-1a 64 of the whole fingerprint, whatever the text cap.
 *
 * A lexer cuts the SQL into tokens and each token then goes through a
 * short pipeline of stages, each of which may hold back a few tokens until
 * it knows what they are:
 *
 *   lex -> sign -> values -> in -> semi -> out
 *
 *   sign    folds a unary '-' / '+' into the number after it
 *   values  collapses the tuples after VALUES
 *   in      collapses "IN (" + literals + ")"
 *   semi    drops ';' at the end of the input
 *   out     decides the spacing, hashes and copies the text
 *
 * What a stage holds is a state and a counter, never a buffer, so memory is
 * constant and every byte is looked at a bounded number of times.
 *
 * Choices made where MySQL's grammar is no help or the rules were silent:
 *  - Default sql_mode: '\' escapes inside strings, "text" is a string.
 *  - Bytes 0x00-0x1f and 0x7f outside strings and `names` count as white
 *    space (MySQL rejects them anyway), so a fingerprint never contains
 *    control bytes except inside a `name` kept verbatim.
 *  - A '(' right after a word with no space or comment in between stays
 *    glued to it ("COUNT(*)", "MAX_EXECUTION_TIME(?)"), and one that was
 *    written with a space keeps the space ("INSERT INTO t (a)"): MySQL gives
 *    that space a meaning (IGNORE_SPACE).  Keywords that are never function
 *    names (IN, VALUES, AND, ON, USING, EXISTS, AS, ...; KW_SP below) always
 *    get the space, so "IN(" and "IN (" are the same.
 *  - An '@' written right after a name or a string stays glued to it, so
 *    accounts read root@localhost and ?@? ('u'@'h').
 *  - ';' is an ordinary token with a space before it ("SELECT ? ; SELECT ?");
 *    all ';' at the very end are dropped, not just the last one.
 *  - A unary sign is folded only into a numeric literal written in the SQL
 *    (also 0x1F, 0b101), not into '?', a string or X'..', and also when
 *    spaces or comments separate it from the number ("= - 5").  A sign is
 *    binary after an identifier, a literal, ')' and after the keywords that
 *    are values (NULL, TRUE, CURRENT_TIMESTAMP, END, ...: KW_VAL).
 *  - VALUES right after an operator, '(' or ',' is the VALUES(col) function
 *    of ON DUPLICATE KEY UPDATE, whose argument is kept: "a = VALUES (a)".
 *  - IN lists: "IN ()" and lists with anything but literals (also row
 *    constructors "IN ((1,2),(3,4))") are kept token by token.
 *  - Optimizer hints are recognised after any keyword, not only after
 *    SELECT/INSERT/...; inside a hint '#', '--' and '/ *' are ordinary
 *    characters.  A hint left open at the end of the input is not closed in
 *    the fingerprint.  A hint inside a VALUES tuple goes with the tuple.
 *    Executable comments may be nested (only the markers are dropped); the
 *    first '* /' closes a hint before an executable comment.  A version
 *    number after "/ *!" or "/ *M!" is 5 or 6 digits; fewer digits are
 *    code, as MariaDB reads them ("/ *!1 * /" is "1").  What opens and
 *    closes a comment and where a string ends are sql_scan.c's, shared
 *    with the rule matcher's statement splitter.
 *  - A `name` is written bare only when it could be written bare again: it
 *    is not a keyword, has only [A-Za-z0-9_$] and does not start with a
 *    digit (`1e5` is not the number 1e5).  An unterminated `name or string
 *    runs to the end of the input; the name is kept verbatim.
 *  - A word after '.', '@' or '@@' is a name, not a keyword; after a '.'
 *    that follows an identifier even "5" is a name ("t.5" as MySQL reads
 *    it).  A keyword before '.' is still a keyword ("STATUS.x"): whether a
 *    word is a keyword must not depend on spacing, which is normalised.
 *    A '.' is glued to its neighbours except before a word starting with
 *    a digit when the '.' is not a qualifier (". 1abc").
 *  - A charset introducer is any word of two or more characters starting
 *    with '_' followed (spaces allowed) by a quote, X'..', B'..', 0x.. or
 *    0b..; the literal it introduces is a string (no sign folded into it).
 *  - Adjacent strings are merged only when nothing but white space
 *    separates them; a comment in between gives "? ?".
 *  - Numbers followed by letters are identifiers as in MySQL ("1abc",
 *    "0x1g", "1e5x"); 0x and 0b prefixes are lower case only (as MySQL).
 *
 * The fingerprint of a fingerprint is itself (tests/fuzz/fuzz_digest.c
 * checks it), so fingerprints can be normalised again safely, e.g. when
 * they are used as rule patterns.
 */
#include "digest.h"

#include "sql_scan.h"

#include <stdbool.h>
#include <string.h>

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

enum tok_type {
	T_NONE,         /* nothing yet: the start of the input */
	T_WORD,         /* identifier, written as is */
	T_KEYWORD,      /* s is the upper-case table entry */
	T_NAME,         /* `name` written verbatim, back quotes included */
	T_LIT,          /* string, X'..', B'..' literal */
	T_NUM,          /* numeric literal: absorbs a unary sign */
	T_PARAM,        /* '?' written in the SQL */
	T_OP,
	T_LPAREN,
	T_RPAREN,
	T_COMMA,
	T_DOT,
	T_AT,           /* '@' or '@@' */
	T_SEMI,
	T_HINT_OPEN,
	T_HINT_CLOSE,
	T_ELLIPSIS,     /* "..." of a collapsed list */
	T_OTHER,        /* any other byte */
};

/* Keyword flags. */
#define KW_SP   0x01    /* never a function name: a space before '(' */
#define KW_VAL  0x02    /* a value: a sign after it is binary */
#define KW_LIST 0x04    /* VALUES, VALUE */
#define KW_ROW  0x08
#define KW_IN   0x10

#define DOT_QUAL 0x01   /* in tok.kw of a '.' after an identifier */

struct tok {
	const char *s;
	size_t len;
	uint8_t type;
	uint8_t kw;     /* KW_* of a keyword */
	bool adj;       /* no space or comment before it */
};

/* What the lexer makes of the next word (after '.', '@'). */
enum { NN_NO, NN_WORD, NN_ANY };

/* States of the VALUES stage: after VALUES, inside a tuple, after one, ... */
enum { V_IDLE, V_SAW, V_ROW, V_TUPLE, V_AFTER, V_COMMA, V_COMMA_ROW };

/* States of the IN stage: after IN, expecting an element, a separator. */
enum { I_IDLE, I_SAW, I_ELEM, I_SEP };

struct dg {
	/* lexer */
	const unsigned char *p, *end;
	uint8_t prev;           /* type of the last token lexed */
	uint8_t name_next;      /* NN_* */
	bool in_hint, in_exec;
	/* sign stage */
	bool sign_held;
	uint8_t sprev, sprev_kw;
	struct tok sign;
	/* values stage */
	uint8_t vstate, vprev;
	bool vorphan;           /* inside a hint opened inside a tuple */
	size_t vdepth;
	/* in stage */
	uint8_t istate;
	size_t in_n;            /* literals held */
	/* semi stage */
	size_t semis;           /* ';' held */
	/* out stage */
	uint8_t oprev, oprev_kw;
	bool hint_open;
	char *text;
	size_t room, total;
	uint64_t hash;
};

static const struct tok tok_lparen = { "(", 1, T_LPAREN, 0, false };
static const struct tok tok_rparen = { ")", 1, T_RPAREN, 0, false };
static const struct tok tok_comma = { ",", 1, T_COMMA, 0, false };
static const struct tok tok_param = { "?", 1, T_PARAM, 0, false };
static const struct tok tok_semi = { ";", 1, T_SEMI, 0, false };
static const struct tok tok_ellipsis = { "...", 3, T_ELLIPSIS, 0, false };
static const struct tok tok_row = { "ROW", 3, T_KEYWORD, KW_ROW, false };

/* ------------------------------------------------------------------ */
/* Characters and keywords */

#define C_SPACE 0x01
#define C_WORD  0x02    /* may be part of an unquoted word */
#define C_DIGIT 0x04
#define C_HEX   0x08
#define C_BIT   0x10
#define C_KW    0x20    /* may be part of a keyword: [A-Za-z0-9_] */
#define C_BARE  0x40    /* a `name` of these needs no quotes: [A-Za-z0-9_$] */

#define C_ALNUM (C_WORD | C_KW | C_BARE)

static const uint8_t cclass[256] = {
	[0x00 ... 0x20] = C_SPACE,
	[0x7f] = C_SPACE,
	['0' ... '1'] = C_ALNUM | C_DIGIT | C_HEX | C_BIT,
	['2' ... '9'] = C_ALNUM | C_DIGIT | C_HEX,
	['A' ... 'F'] = C_ALNUM | C_HEX,
	['a' ... 'f'] = C_ALNUM | C_HEX,
	['G' ... 'Z'] = C_ALNUM,
	['g' ... 'z'] = C_ALNUM,
	['_'] = C_ALNUM,
	['$'] = C_WORD | C_BARE,
	[0x80 ... 0xff] = C_WORD,       /* UTF-8 identifiers */
};

static inline bool is_c(unsigned char c, uint8_t cls)
{
	return cclass[c] & cls;
}

struct keyword {
	const char *name;
	uint8_t len;
	uint8_t flags;
};

#define KW(s, f) { s, sizeof(s) - 1, f }
#define KW_MAXLEN 29

/*
 * One array per length, each sorted by name for kw_find()'s binary search:
 * a new keyword goes into the array of its length, in order.
 */
static const struct keyword kw2[] = {
	KW("AS", KW_SP), KW("BY", KW_SP), KW("DO", 0), KW("IF", 0), KW("IN", KW_SP | KW_IN),
	KW("IS", KW_SP), KW("NO", 0), KW("OF", KW_SP), KW("ON", KW_SP), KW("OR", KW_SP),
	KW("TO", KW_SP),
};

static const struct keyword kw3[] = {
	KW("ABS", 0), KW("ADD", 0), KW("ALL", KW_SP), KW("AND", KW_SP), KW("ANY", KW_SP),
	KW("ASC", 0), KW("AVG", 0), KW("BIT", 0), KW("DAY", 0), KW("DEC", 0), KW("DIV", KW_SP),
	KW("END", KW_VAL), KW("FOR", 0), KW("GET", 0), KW("HEX", 0), KW("INT", 0),
	KW("KEY", 0), KW("LAG", 0), KW("MAX", 0), KW("MD5", 0), KW("MIN", 0), KW("MOD", 0),
	KW("NOT", KW_SP), KW("NOW", 0), KW("OUT", 0), KW("ROW", KW_ROW), KW("SET", KW_SP),
	KW("SQL", 0), KW("SSL", 0), KW("SUM", 0), KW("USE", 0), KW("XOR", KW_SP),
};

static const struct keyword kw4[] = {
	KW("BLOB", 0), KW("BOOL", 0), KW("BOTH", 0), KW("CALL", 0), KW("CASE", KW_SP),
	KW("CAST", 0), KW("CEIL", 0), KW("CHAR", 0), KW("CUBE", 0), KW("DATE", 0),
	KW("DESC", 0), KW("DROP", 0), KW("DUAL", 0), KW("EACH", 0), KW("ELSE", KW_SP),
	KW("ENUM", 0), KW("EXIT", 0), KW("FROM", KW_SP), KW("FULL", 0), KW("HOUR", 0),
	KW("INT1", 0), KW("INT2", 0), KW("INT3", 0), KW("INT4", 0), KW("INT8", 0),
	KW("INTO", KW_SP), KW("JOIN", KW_SP), KW("JSON", 0), KW("KEYS", 0), KW("KILL", 0),
	KW("LAST", 0), KW("LEAD", 0), KW("LEFT", 0), KW("LIKE", KW_SP), KW("LOAD", 0),
	KW("LOCK", 0), KW("LOGS", 0), KW("LONG", 0), KW("LOOP", 0), KW("LPAD", 0),
	KW("MODE", 0), KW("NEXT", 0), KW("NULL", KW_VAL), KW("ONLY", 0), KW("OPEN", 0),
	KW("OVER", KW_SP), KW("RAND", 0), KW("RANK", 0), KW("READ", 0), KW("REAL", 0),
	KW("ROWS", 0), KW("RPAD", 0), KW("SHA1", 0), KW("SHA2", 0), KW("SHOW", 0),
	KW("SKIP", 0), KW("SLOW", 0), KW("SOME", KW_SP), KW("THEN", KW_SP), KW("TIME", 0),
	KW("TRIM", 0), KW("TRUE", KW_VAL), KW("UNDO", 0), KW("UUID", 0), KW("VIEW", 0),
	KW("WEEK", 0), KW("WHEN", KW_SP), KW("WITH", KW_SP), KW("WORK", 0), KW("YEAR", 0),
};

static const struct keyword kw5[] = {
	KW("AFTER", 0), KW("ALTER", 0), KW("BEGIN", 0), KW("CHECK", 0), KW("COUNT", 0),
	KW("CROSS", KW_SP), KW("EMPTY", 0), KW("FALSE", KW_VAL), KW("FETCH", 0),
	KW("FIELD", 0), KW("FIRST", 0), KW("FLOAT", 0), KW("FLOOR", 0), KW("FLUSH", 0),
	KW("FORCE", 0), KW("GRANT", 0), KW("GROUP", KW_SP), KW("INDEX", 0), KW("INNER", KW_SP),
	KW("INOUT", 0), KW("INSTR", 0), KW("LCASE", 0), KW("LEAST", 0), KW("LEAVE", 0),
	KW("LEVEL", 0), KW("LIMIT", KW_SP), KW("LINES", 0), KW("LOCAL", 0), KW("LOWER", 0),
	KW("LTRIM", 0), KW("MATCH", 0), KW("MONTH", 0), KW("NAMES", 0), KW("NTILE", 0),
	KW("ORDER", KW_SP), KW("OUTER", KW_SP), KW("PURGE", 0), KW("QUERY", 0), KW("RANGE", 0),
	KW("READS", 0), KW("RIGHT", 0), KW("RLIKE", KW_SP), KW("ROUND", 0), KW("RTRIM", 0),
	KW("SHARE", 0), KW("SLEEP", 0), KW("START", 0), KW("TABLE", KW_SP), KW("UCASE", 0),
	KW("UNHEX", 0), KW("UNION", KW_SP), KW("UPPER", 0), KW("USAGE", 0), KW("USING", KW_SP),
	KW("VALUE", KW_SP | KW_LIST), KW("WHERE", KW_SP), KW("WHILE", 0), KW("WRITE", 0),
};

static const struct keyword kw6[] = {
	KW("ACTION", 0), KW("BEFORE", 0), KW("BIGINT", 0), KW("BINARY", 0), KW("CHANGE", 0),
	KW("COLUMN", 0), KW("COMMIT", 0), KW("CONCAT", 0), KW("CREATE", 0), KW("CURSOR", 0),
	KW("DELETE", KW_SP), KW("DOUBLE", 0), KW("ELSEIF", 0), KW("ENGINE", 0),
	KW("ERRORS", 0), KW("ESCAPE", KW_SP), KW("EVENTS", 0), KW("EXCEPT", KW_SP),
	KW("EXISTS", KW_SP), KW("FIELDS", 0), KW("FLOAT4", 0), KW("FLOAT8", 0),
	KW("FORMAT", 0), KW("GLOBAL", 0), KW("GRANTS", 0), KW("GROUPS", 0),
	KW("HAVING", KW_SP), KW("IFNULL", 0), KW("IGNORE", 0), KW("INFILE", 0),
	KW("INSERT", 0), KW("ISNULL", 0), KW("LENGTH", 0), KW("LINEAR", 0), KW("LOCATE", 0),
	KW("LOCKED", 0), KW("MINUTE", 0), KW("NOWAIT", 0), KW("NULLIF", 0),
	KW("OFFSET", KW_SP), KW("OPTION", 0), KW("REGEXP", KW_SP), KW("RENAME", 0),
	KW("REPEAT", 0), KW("RETURN", KW_SP), KW("REVOKE", 0), KW("ROLLUP", 0),
	KW("SCHEMA", 0), KW("SECOND", 0), KW("SELECT", KW_SP), KW("SIGNAL", 0),
	KW("SIGNED", 0), KW("SOUNDS", 0), KW("STATUS", 0), KW("STORED", 0), KW("SUBSTR", 0),
	KW("SYSTEM", 0), KW("TABLES", 0), KW("UNIQUE", 0), KW("UNLOCK", 0),
	KW("UPDATE", KW_SP), KW("VALUES", KW_SP | KW_LIST), KW("WINDOW", KW_SP),
};

static const struct keyword kw7[] = {
	KW("AGAINST", KW_SP), KW("ANALYZE", 0), KW("BETWEEN", KW_SP), KW("BOOLEAN", 0),
	KW("CASCADE", 0), KW("CEILING", 0), KW("CHARSET", 0), KW("COLLATE", 0),
	KW("COLUMNS", 0), KW("COMMENT", 0), KW("CONVERT", 0), KW("CURDATE", 0),
	KW("CURTIME", 0), KW("DECIMAL", 0), KW("DECLARE", 0), KW("DEFAULT", 0),
	KW("DELAYED", 0), KW("ENGINES", 0), KW("ESCAPED", 0), KW("EXECUTE", 0),
	KW("EXPLAIN", 0), KW("EXTRACT", 0), KW("FOREIGN", 0), KW("GENERAL", 0),
	KW("HANDLER", 0), KW("INDEXES", 0), KW("INTEGER", 0), KW("ITERATE", 0),
	KW("LATERAL", KW_SP), KW("LEADING", 0), KW("NATURAL", KW_SP), KW("NUMERIC", 0),
	KW("OUTFILE", 0), KW("PLUGINS", 0), KW("PREPARE", 0), KW("PRIMARY", 0),
	KW("QUARTER", 0), KW("RELEASE", 0), KW("REPLACE", 0), KW("REQUIRE", 0),
	KW("REVERSE", 0), KW("SCHEMAS", 0), KW("SESSION", 0), KW("SPATIAL", 0),
	KW("SYSDATE", 0), KW("TINYINT", 0), KW("TRIGGER", 0), KW("UNKNOWN", KW_VAL),
	KW("VARCHAR", 0), KW("VARYING", 0), KW("VERSION", 0), KW("VIRTUAL", 0),
};

static const struct keyword kw8[] = {
	KW("COALESCE", 0), KW("CONTINUE", 0), KW("DATABASE", 0), KW("DATEDIFF", 0),
	KW("DATETIME", 0), KW("DATE_ADD", 0), KW("DATE_SUB", 0), KW("DAY_HOUR", 0),
	KW("DESCRIBE", 0), KW("DISTINCT", KW_SP), KW("ENCLOSED", 0), KW("EXTENDED", 0),
	KW("FULLTEXT", 0), KW("FUNCTION", 0), KW("GET_LOCK", 0), KW("GREATEST", 0),
	KW("GROUPING", 0), KW("INTERVAL", 0), KW("JSON_SET", 0), KW("LONGBLOB", 0),
	KW("LONGTEXT", 0), KW("MAXVALUE", KW_VAL), KW("MODIFIES", 0), KW("OPTIMIZE", 0),
	KW("POSITION", 0), KW("RESIGNAL", 0), KW("RESTRICT", 0), KW("ROLLBACK", 0),
	KW("SMALLINT", 0), KW("SNAPSHOT", 0), KW("SPECIFIC", 0), KW("SQLSTATE", 0),
	KW("STARTING", 0), KW("TINYBLOB", 0), KW("TINYTEXT", 0), KW("TRAILING", 0),
	KW("TRIGGERS", 0), KW("TRUNCATE", 0), KW("UNSIGNED", 0), KW("UTC_DATE", KW_VAL),
	KW("UTC_TIME", KW_VAL), KW("WARNINGS", 0), KW("ZEROFILL", 0),
};

static const struct keyword kw9[] = {
	KW("ALGORITHM", 0), KW("CHARACTER", 0), KW("COLLATION", 0), KW("COMMITTED", 0),
	KW("CONCAT_WS", 0), KW("CONDITION", 0), KW("CUME_DIST", 0), KW("DATABASES", 0),
	KW("DAYOFWEEK", 0), KW("DAYOFYEAR", 0), KW("DUPLICATE", 0), KW("FOLLOWING", 0),
	KW("GENERATED", 0), KW("INTERSECT", KW_SP), KW("ISOLATION", 0),
	KW("LOCALTIME", KW_VAL), KW("MEDIUMINT", 0), KW("MIDDLEINT", 0), KW("NTH_VALUE", 0),
	KW("PARTITION", 0), KW("PRECEDING", 0), KW("PRECISION", 0), KW("PROCEDURE", 0),
	KW("RECURSIVE", KW_SP), KW("RETURNING", KW_SP), KW("ROW_COUNT", 0), KW("SAVEPOINT", 0),
	KW("SENSITIVE", 0), KW("SEPARATOR", 0), KW("SQL_CACHE", 0), KW("SUBSTRING", 0),
	KW("TEMPORARY", 0), KW("TIMESTAMP", 0), KW("UNBOUNDED", 0), KW("VARBINARY", 0),
	KW("VARIABLES", 0),
};

static const struct keyword kw10[] = {
	KW("ACCESSIBLE", 0), KW("ASENSITIVE", 0), KW("CONNECTION", 0), KW("CONSISTENT", 0),
	KW("CONSTRAINT", 0), KW("DAYOFMONTH", 0), KW("DAY_MINUTE", 0), KW("DAY_SECOND", 0),
	KW("DEALLOCATE", 0), KW("DENSE_RANK", 0), KW("FOUND_ROWS", 0), KW("JSON_ARRAY", 0),
	KW("JSON_TABLE", 0), KW("LAST_VALUE", 0), KW("MEDIUMBLOB", 0), KW("MEDIUMTEXT", 0),
	KW("OPTIONALLY", 0), KW("PRIVILEGES", 0), KW("READ_WRITE", 0), KW("REFERENCES", 0),
	KW("REPEATABLE", 0), KW("ROW_NUMBER", 0), KW("SQLWARNING", 0), KW("TERMINATED", 0),
	KW("YEAR_MONTH", 0),
};

static const struct keyword kw11[] = {
	KW("CHAR_LENGTH", 0), KW("DATE_FORMAT", 0), KW("DISTINCTROW", KW_SP),
	KW("FIND_IN_SET", 0), KW("FIRST_VALUE", 0), KW("HOUR_MINUTE", 0), KW("HOUR_SECOND", 0),
	KW("INSENSITIVE", 0), KW("JSON_OBJECT", 0), KW("MASTER_BIND", 0), KW("MICROSECOND", 0),
	KW("PROCESSLIST", 0), KW("STR_TO_DATE", 0), KW("TRANSACTION", 0), KW("UNCOMMITTED", 0),
};

static const struct keyword kw12[] = {
	KW("CURRENT_DATE", KW_VAL), KW("CURRENT_ROLE", KW_VAL), KW("CURRENT_TIME", KW_VAL),
	KW("CURRENT_USER", KW_VAL), KW("GROUP_CONCAT", 0), KW("JSON_EXTRACT", 0),
	KW("JSON_UNQUOTE", 0), KW("LOW_PRIORITY", 0), KW("OCTET_LENGTH", 0),
	KW("PERCENT_RANK", 0), KW("RELEASE_LOCK", 0), KW("SERIALIZABLE", 0),
	KW("SQLEXCEPTION", 0), KW("SQL_NO_CACHE", 0), KW("TIMESTAMPADD", 0),
	KW("VARCHARACTER", 0),
};

static const struct keyword kw13[] = {
	KW("CONNECTION_ID", 0), KW("DETERMINISTIC", 0), KW("DO_DOMAIN_IDS", 0),
	KW("FROM_UNIXTIME", 0), KW("HIGH_PRIORITY", 0), KW("JSON_ARRAYAGG", 0),
	KW("JSON_CONTAINS", 0), KW("MINUTE_SECOND", 0), KW("PAGE_CHECKSUM", 0),
	KW("REF_SYSTEM_ID", 0), KW("STRAIGHT_JOIN", KW_SP), KW("TIMESTAMPDIFF", 0),
	KW("UTC_TIMESTAMP", KW_VAL),
};

static const struct keyword kw14[] = {
	KW("AUTO_INCREMENT", 0), KW("IO_AFTER_GTIDS", 0), KW("JSON_OBJECTAGG", 0),
	KW("LAST_INSERT_ID", 0), KW("LOCALTIMESTAMP", KW_VAL), KW("SQL_BIG_RESULT", 0),
	KW("UNIX_TIMESTAMP", 0),
};

static const struct keyword kw15[] = {
	KW("DAY_MICROSECOND", 0), KW("IO_BEFORE_GTIDS", 0), KW("OPTIMIZER_COSTS", 0),
	KW("PARSE_VCOL_EXPR", 0), KW("SUBSTRING_INDEX", 0),
};

static const struct keyword kw16[] = {
	KW("CHARACTER_LENGTH", 0), KW("DELETE_DOMAIN_ID", 0), KW("HOUR_MICROSECOND", 0),
	KW("SQL_SMALL_RESULT", 0), KW("STATS_PERSISTENT", 0),
};

static const struct keyword kw17[] = {
	KW("CURRENT_TIMESTAMP", KW_VAL), KW("IGNORE_DOMAIN_IDS", 0),
	KW("IGNORE_SERVER_IDS", 0), KW("SQL_BUFFER_RESULT", 0), KW("STATS_AUTO_RECALC", 0),
};

static const struct keyword kw18[] = {
	KW("MINUTE_MICROSECOND", 0), KW("NO_WRITE_TO_BINLOG", 0), KW("SECOND_MICROSECOND", 0),
	KW("STATS_SAMPLE_PAGES", 0),
};

static const struct keyword kw19[] = {
	KW("SQL_CALC_FOUND_ROWS", 0),
};

static const struct keyword kw23[] = {
	KW("MASTER_HEARTBEAT_PERIOD", 0),
};

static const struct keyword kw29[] = {
	KW("MASTER_SSL_VERIFY_SERVER_CERT", 0),
};

static const struct kw_bucket {
	const struct keyword *k;
	size_t n;
} kw_by_len[KW_MAXLEN + 1] = {
	[2] = { kw2, sizeof(kw2) / sizeof(kw2[0]) },
	[3] = { kw3, sizeof(kw3) / sizeof(kw3[0]) },
	[4] = { kw4, sizeof(kw4) / sizeof(kw4[0]) },
	[5] = { kw5, sizeof(kw5) / sizeof(kw5[0]) },
	[6] = { kw6, sizeof(kw6) / sizeof(kw6[0]) },
	[7] = { kw7, sizeof(kw7) / sizeof(kw7[0]) },
	[8] = { kw8, sizeof(kw8) / sizeof(kw8[0]) },
	[9] = { kw9, sizeof(kw9) / sizeof(kw9[0]) },
	[10] = { kw10, sizeof(kw10) / sizeof(kw10[0]) },
	[11] = { kw11, sizeof(kw11) / sizeof(kw11[0]) },
	[12] = { kw12, sizeof(kw12) / sizeof(kw12[0]) },
	[13] = { kw13, sizeof(kw13) / sizeof(kw13[0]) },
	[14] = { kw14, sizeof(kw14) / sizeof(kw14[0]) },
	[15] = { kw15, sizeof(kw15) / sizeof(kw15[0]) },
	[16] = { kw16, sizeof(kw16) / sizeof(kw16[0]) },
	[17] = { kw17, sizeof(kw17) / sizeof(kw17[0]) },
	[18] = { kw18, sizeof(kw18) / sizeof(kw18[0]) },
	[19] = { kw19, sizeof(kw19) / sizeof(kw19[0]) },
	[23] = { kw23, sizeof(kw23) / sizeof(kw23[0]) },
	[29] = { kw29, sizeof(kw29) / sizeof(kw29[0]) },
};

static int kw_cmp(const struct keyword *k, const char *up, size_t n)
{
	if (k->name[0] != up[0])
		return (unsigned char)k->name[0] - (unsigned char)up[0];
	return memcmp(k->name, up, n);
}

static const struct keyword *kw_find(const unsigned char *w, size_t n)
{
	char up[KW_MAXLEN];
	const struct kw_bucket *b;
	size_t lo = 0, hi;

	if (n > KW_MAXLEN)
		return NULL;
	b = &kw_by_len[n];
	hi = b->n;
	if (!hi)
		return NULL;
	for (size_t i = 0; i < n; i++)
		up[i] = (char)(w[i] >= 'a' && w[i] <= 'z' ? w[i] - 32 : w[i]);
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;
		int c = kw_cmp(&b->k[mid], up, n);

		if (!c)
			return &b->k[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Lexer */

static void set_marker(struct tok *t, uint8_t type)
{
	t->type = type;
	t->s = type == T_HINT_OPEN ? "/*+" : "*/";
	t->len = type == T_HINT_OPEN ? 3 : 2;
	t->adj = false;
}

/*
 * Skips white space and comments, dropping the markers of executable
 * comments.  Hint markers are tokens: returns true with *t set to one.
 * *sep tells whether anything was skipped.
 */
static bool lex_blank(struct dg *d, struct tok *t, bool *sep)
{
	const unsigned char *p = d->p, *end = d->end;

	for (; p < end; *sep = true) {
		unsigned char c = *p;

		if (is_c(c, C_SPACE)) {
			p++;
		} else if (c == '*' && end - p >= 2 && p[1] == '/' && (d->in_hint || d->in_exec)) {
			p += 2;
			if (d->in_hint) {
				d->in_hint = false;
				d->p = p;
				set_marker(t, T_HINT_CLOSE);
				return true;
			}
			d->in_exec = false;
		} else if (d->in_hint) {
			break;
		} else if (c == '#') {
			p = sql_line_end(p + 1, end);
		} else if (c == '-' && sql_is_dash_comment(p, end)) {
			p = sql_line_end(p + 2, end);
		} else if (c == '/' && end - p >= 2 && p[1] == '*') {
			struct sql_opener o;

			sql_open_comment(p, end, &o);
			if (o.kind == SQL_OPEN_HINT) {
				d->in_hint = true;
				d->p = p + 3;
				set_marker(t, T_HINT_OPEN);
				return true;
			}
			if (o.kind == SQL_OPEN_EXEC) {
				p = o.body;
				d->in_exec = true;
			} else {
				p = sql_comment_end(p + 2, end);
			}
		} else {
			break;
		}
	}
	d->p = p;
	return false;
}

/* A string and the strings right after it, separated by white space only. */
static void lex_string(struct dg *d, struct tok *t)
{
	const unsigned char *p = d->p, *end = d->end;

	for (;;) {
		const unsigned char *q;

		p = sql_quoted_end(p, end, true);
		for (q = p; q < end && is_c(*q, C_SPACE); q++)
			;
		if (q == end || (*q != '\'' && *q != '"'))
			break;
		p = q;
	}
	d->p = p;
	t->type = T_LIT;
}

/* X'1F' and B'101': p is at the letter. */
static void lex_bits(struct dg *d, struct tok *t)
{
	const unsigned char *p = d->p + 2, *end = d->end;
	const unsigned char *q = memchr(p, '\'', (size_t)(end - p));

	d->p = q ? q + 1 : end;
	t->type = T_LIT;
}

static bool is_bits_start(const unsigned char *p, const unsigned char *end)
{
	return end - p >= 2 && p[1] == '\'' && ((*p | 0x20) == 'x' || (*p | 0x20) == 'b');
}

/*
 * `name`: written bare when it could be written bare again, otherwise kept
 * verbatim, which also keeps an unterminated one (it ends the input).
 */
static void lex_backquoted(struct dg *d, struct tok *t)
{
	const unsigned char *s = d->p + 1, *end = d->end, *p = s, *q;
	bool bare = true;

	for (;;) {
		q = memchr(p, '`', (size_t)(end - p));
		if (!q) {
			d->p = end;
			t->type = T_NAME;
			t->len = (size_t)(end - (s - 1));
			return;
		}
		if (q + 1 < end && q[1] == '`') {
			bare = false;
			p = q + 2;
			continue;
		}
		break;
	}
	d->p = q + 1;
	if (bare && q > s && !is_c(*s, C_DIGIT)) {
		for (p = s; p < q && is_c(*p, C_BARE); p++)
			;
		if (p == q && !kw_find(s, (size_t)(q - s))) {
			t->type = T_WORD;
			t->s = (const char *)s;
			t->len = (size_t)(q - s);
			return;
		}
	}
	t->type = T_NAME;
	t->len = (size_t)(q + 1 - (s - 1));
}

/*
 * Returns the end of the number at p, or NULL when the digits are the start
 * of an identifier ("1abc", "0x1g", "1e5x").  A '.' or a signed exponent
 * ends a number: "1.5abc" is a number and a word.
 */
static const unsigned char *scan_number(const unsigned char *p, const unsigned char *end)
{
	const unsigned char *q = p;
	bool word_ok = true;

	if (end - p >= 3 && p[0] == '0' && (p[1] == 'x' || p[1] == 'b')) {
		uint8_t cls = p[1] == 'x' ? C_HEX : C_BIT;

		for (q = p + 2; q < end && is_c(*q, cls); q++)
			;
		if (q == p + 2 || (q < end && is_c(*q, C_WORD)))
			return NULL;
		return q;
	}
	while (q < end && is_c(*q, C_DIGIT))
		q++;
	if (q < end && *q == '.') {
		word_ok = false;
		for (q++; q < end && is_c(*q, C_DIGIT); q++)
			;
	}
	if (q < end && (*q | 0x20) == 'e') {
		const unsigned char *e = q + 1;

		if (e < end && (*e == '+' || *e == '-')) {
			e++;
			if (e < end && is_c(*e, C_DIGIT))
				word_ok = false;
		}
		if (e < end && is_c(*e, C_DIGIT)) {
			for (q = e; q < end && is_c(*q, C_DIGIT); q++)
				;
		}
	}
	if (word_ok && q < end && is_c(*q, C_WORD))
		return NULL;
	return q;
}

static void lex_plain_word(struct dg *d, struct tok *t)
{
	const unsigned char *q = d->p;

	while (q < d->end && is_c(*q, C_WORD))
		q++;
	t->type = T_WORD;
	t->len = (size_t)(q - d->p);
	d->p = q;
}

static void lex_number(struct dg *d, struct tok *t)
{
	const unsigned char *q = scan_number(d->p, d->end);

	if (!q) {
		lex_plain_word(d, t);
		return;
	}
	t->type = T_NUM;
	d->p = q;
}

/* _utf8mb4'x', _binary X'1F', _binary 0x1F: q is just after the word. */
static bool lex_introduced(struct dg *d, struct tok *t, const unsigned char *q)
{
	const unsigned char *end = d->end, *num;

	while (q < end && is_c(*q, C_SPACE))
		q++;
	if (q == end)
		return false;
	d->p = q;
	if (*q == '\'' || *q == '"') {
		lex_string(d, t);
		return true;
	}
	if (is_bits_start(q, end)) {
		lex_bits(d, t);
		return true;
	}
	if (end - q >= 2 && q[0] == '0' && (q[1] == 'x' || q[1] == 'b')) {
		num = scan_number(q, end);
		if (num) {
			d->p = num;
			t->type = T_LIT;
			return true;
		}
	}
	return false;
}

static void lex_word(struct dg *d, struct tok *t, uint8_t nn)
{
	const unsigned char *p = d->p, *end = d->end, *q = p;
	const struct keyword *k;
	bool kwchars = true;

	if (is_bits_start(p, end)) {
		lex_bits(d, t);
		return;
	}
	if ((*p | 0x20) == 'n' && end - p >= 2 && p[1] == '\'') {
		d->p = p + 1;
		lex_string(d, t);
		return;
	}
	for (; q < end && is_c(*q, C_WORD); q++) {
		if (!is_c(*q, C_KW))
			kwchars = false;
	}
	t->type = T_WORD;
	t->len = (size_t)(q - p);
	d->p = q;
	if (nn != NN_NO)
		return;
	if (*p == '_' && q - p >= 2 && lex_introduced(d, t, q))
		return;
	d->p = q;
	if (!kwchars)
		return;
	k = kw_find(p, (size_t)(q - p));
	if (k) {
		t->type = T_KEYWORD;
		t->s = k->name;
		t->kw = k->flags;
	}
}

static size_t op_len(const unsigned char *p, const unsigned char *end)
{
	unsigned char c1 = end - p >= 2 ? p[1] : 0;
	unsigned char c2 = end - p >= 3 ? p[2] : 0;

	switch (p[0]) {
	case '<':
		if (c1 == '=')
			return c2 == '>' ? 3 : 2;
		return c1 == '>' || c1 == '<' ? 2 : 1;
	case '>':
		return c1 == '=' || c1 == '>' ? 2 : 1;
	case '!':
	case ':':
		return c1 == '=' ? 2 : 1;
	case '|':
	case '&':
		return c1 == p[0] ? 2 : 1;
	case '-':
		if (c1 == '>')
			return c2 == '>' ? 3 : 2;
		return 1;
	default:
		return 1;
	}
}

static void lex_dot(struct dg *d, struct tok *t)
{
	if (d->prev == T_WORD || d->prev == T_NAME) {
		d->name_next = NN_ANY;
		t->kw = DOT_QUAL;
	} else if (d->end - d->p >= 2 && is_c(d->p[1], C_DIGIT)) {
		lex_number(d, t);
		return;
	} else {
		d->name_next = NN_WORD;
	}
	t->type = T_DOT;
	t->len = 1;
	d->p++;
}

/* One-byte tokens and operators. */
static void lex_punct(struct dg *d, struct tok *t)
{
	unsigned char c = *d->p;

	t->len = 1;
	switch (c) {
	case '(': t->type = T_LPAREN; break;
	case ')': t->type = T_RPAREN; break;
	case ',': t->type = T_COMMA; break;
	case ';': t->type = T_SEMI; break;
	case '?': t->type = T_PARAM; break;
	case '@':
		t->type = T_AT;
		t->len = d->end - d->p >= 2 && d->p[1] == '@' ? 2 : 1;
		d->name_next = NN_ANY;
		break;
	case '=': case '<': case '>': case '!': case '|': case '&': case '-':
	case '+': case '*': case '/': case '%': case '~': case '^':
		t->type = T_OP;
		t->len = op_len(d->p, d->end);
		break;
	case ':':
		t->len = op_len(d->p, d->end);
		t->type = t->len == 2 ? T_OP : T_OTHER;
		break;
	default:
		t->type = T_OTHER;
		break;
	}
	d->p += t->len;
}

static bool lex(struct dg *d, struct tok *t)
{
	bool sep = false;
	uint8_t nn;

	t->kw = 0;
	if (lex_blank(d, t, &sep)) {
		d->name_next = NN_NO;
		d->prev = t->type;
		return true;
	}
	if (d->p == d->end)
		return false;
	t->adj = !sep;
	t->s = (const char *)d->p;
	t->len = 0;
	nn = d->name_next;
	d->name_next = NN_NO;
	switch (*d->p) {
	case '\'':
	case '"':
		lex_string(d, t);
		break;
	case '`':
		lex_backquoted(d, t);
		break;
	case '.':
		lex_dot(d, t);
		break;
	case '0' ... '9':
		if (nn == NN_ANY)
			lex_plain_word(d, t);
		else
			lex_number(d, t);
		break;
	default:
		if (is_c(*d->p, C_WORD))
			lex_word(d, t, nn);
		else
			lex_punct(d, t);
		break;
	}
	d->prev = t->type;
	return true;
}

/* ------------------------------------------------------------------ */
/* Output */

static void out_bytes(struct dg *d, const char *s, size_t n)
{
	uint64_t h = d->hash;

	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * FNV_PRIME;
	d->hash = h;
	if (d->total < d->room) {
		size_t k = d->room - d->total;

		memcpy(d->text + d->total, s, n < k ? n : k);
	}
	d->total += n;
}

static bool want_space(const struct dg *d, const struct tok *t)
{
	uint8_t prev = d->oprev;

	if (prev == T_NONE)
		return false;
	if (prev == T_HINT_OPEN || prev == T_HINT_CLOSE ||
	    t->type == T_HINT_OPEN || t->type == T_HINT_CLOSE)
		return true;
	if (prev == T_DOT && !(d->oprev_kw & DOT_QUAL) && t->type == T_WORD &&
	    is_c((unsigned char)t->s[0], C_DIGIT))
		return true;    /* ". 1abc" glued would read ".1" "abc" */
	if (prev == T_LPAREN || prev == T_DOT || prev == T_AT)
		return false;
	switch (t->type) {
	case T_RPAREN:
	case T_COMMA:
	case T_DOT:
	case T_ELLIPSIS:
		return false;
	case T_LPAREN:
		/* a call "f(" stays a call, "t (" a table and its columns */
		return !(t->adj && (prev == T_WORD || prev == T_NAME ||
				    (prev == T_KEYWORD && !(d->oprev_kw & KW_SP))));
	case T_AT:
		/* an account: root@localhost, 'u'@'h' */
		return !(t->adj && (prev == T_WORD || prev == T_NAME || prev == T_LIT ||
				    prev == T_NUM || prev == T_PARAM));
	default:
		return true;
	}
}

static void out_tok(struct dg *d, const struct tok *t)
{
	if (t->type == T_HINT_CLOSE) {
		if (!d->hint_open)
			return;
		d->hint_open = false;
	} else if (t->type == T_HINT_OPEN) {
		d->hint_open = true;
	}
	if (want_space(d, t))
		out_bytes(d, " ", 1);
	switch (t->type) {
	case T_LIT:
	case T_NUM:
	case T_PARAM:
		out_bytes(d, "?", 1);
		break;
	default:
		out_bytes(d, t->s, t->len);
		break;
	}
	d->oprev = t->type;
	d->oprev_kw = t->kw;
}

/* ------------------------------------------------------------------ */
/* Stages */

static void semi_push(struct dg *d, const struct tok *t)
{
	if (t->type == T_SEMI) {
		d->semis++;
		return;
	}
	for (; d->semis; d->semis--)
		out_tok(d, &tok_semi);
	out_tok(d, t);
}

static bool is_literal(const struct tok *t)
{
	return t->type == T_LIT || t->type == T_NUM || t->type == T_PARAM;
}

/* Gives back what the IN stage held: "(" and literals, maybe a ','. */
static void in_flush(struct dg *d)
{
	if (d->istate != I_ELEM && d->istate != I_SEP)
		return;
	semi_push(d, &tok_lparen);
	for (size_t i = 0; i < d->in_n; i++) {
		if (i)
			semi_push(d, &tok_comma);
		semi_push(d, &tok_param);
	}
	if (d->istate == I_ELEM && d->in_n)
		semi_push(d, &tok_comma);
	d->istate = I_IDLE;
}

static void in_push(struct dg *d, const struct tok *t)
{
	switch (d->istate) {
	case I_SAW:
		if (t->type == T_LPAREN) {
			d->istate = I_ELEM;
			d->in_n = 0;
			return;
		}
		break;
	case I_ELEM:
		if (is_literal(t)) {
			d->in_n++;
			d->istate = I_SEP;
			return;
		}
		break;
	case I_SEP:
		if (t->type == T_COMMA) {
			d->istate = I_ELEM;
			return;
		}
		if (t->type == T_RPAREN) {
			semi_push(d, &tok_lparen);
			semi_push(d, &tok_ellipsis);
			semi_push(d, &tok_rparen);
			d->istate = I_IDLE;
			return;
		}
		break;
	}
	in_flush(d);
	d->istate = t->type == T_KEYWORD && (t->kw & KW_IN) ? I_SAW : I_IDLE;
	semi_push(d, t);
}

static void values_pass(struct dg *d, const struct tok *t)
{
	d->vprev = t->type;
	in_push(d, t);
}

/* Gives back the ',' and ROW held after VALUES. */
static void values_flush(struct dg *d)
{
	if (d->vstate == V_COMMA || d->vstate == V_COMMA_ROW)
		values_pass(d, &tok_comma);
	if (d->vstate == V_ROW || d->vstate == V_COMMA_ROW)
		values_pass(d, &tok_row);
	d->vstate = V_IDLE;
}

static void values_tuple(struct dg *d)
{
	if (d->vstate == V_SAW || d->vstate == V_ROW) {
		values_pass(d, &tok_lparen);
		values_pass(d, &tok_ellipsis);
		values_pass(d, &tok_rparen);
	}
	d->vstate = V_TUPLE;
	d->vdepth = 1;
}

/*
 * Inside a tuple everything is swallowed, a hint too.  A hint that was open
 * before the tuple ends the tuple when it closes: the fingerprint must
 * close the hint it opened, and what follows is no longer hint text.
 */
static bool values_swallow(struct dg *d, const struct tok *t)
{
	switch (t->type) {
	case T_LPAREN:
		d->vdepth++;
		return true;
	case T_RPAREN:
		if (--d->vdepth == 0)
			d->vstate = V_AFTER;
		return true;
	case T_HINT_OPEN:
		d->vorphan = true;
		return true;
	case T_HINT_CLOSE:
		d->vstate = V_IDLE;
		return false;
	default:
		return true;
	}
}

static bool is_kw(const struct tok *t, uint8_t flag)
{
	return t->type == T_KEYWORD && (t->kw & flag);
}

static void values_push(struct dg *d, const struct tok *t)
{
	/*
	 * A hint opened inside a tuple is swallowed whole, ')' included: what
	 * it holds was lexed as hint text and would read differently outside.
	 */
	if (d->vorphan) {
		if (t->type == T_HINT_CLOSE)
			d->vorphan = false;
		return;
	}
	switch (d->vstate) {
	case V_TUPLE:
		if (values_swallow(d, t))
			return;
		break;
	case V_SAW:
	case V_COMMA:
		if (t->type == T_LPAREN) {
			values_tuple(d);
			return;
		}
		if (is_kw(t, KW_ROW)) {
			d->vstate = d->vstate == V_SAW ? V_ROW : V_COMMA_ROW;
			return;
		}
		break;
	case V_ROW:
	case V_COMMA_ROW:
		if (t->type == T_LPAREN) {
			values_tuple(d);
			return;
		}
		break;
	case V_AFTER:
		if (t->type == T_COMMA) {
			d->vstate = V_COMMA;
			return;
		}
		break;
	}
	values_flush(d);
	/* VALUES(col) in ON DUPLICATE KEY UPDATE is a function */
	if (is_kw(t, KW_LIST) && d->vprev != T_OP && d->vprev != T_LPAREN &&
	    d->vprev != T_COMMA)
		d->vstate = V_SAW;
	values_pass(d, t);
}

static bool is_sign(const struct tok *t)
{
	return t->type == T_OP && t->len == 1 && (t->s[0] == '-' || t->s[0] == '+');
}

static bool unary_after(uint8_t type, uint8_t kw)
{
	switch (type) {
	case T_WORD:
	case T_NAME:
	case T_LIT:
	case T_NUM:
	case T_PARAM:
	case T_RPAREN:
		return false;
	case T_KEYWORD:
		return !(kw & KW_VAL);
	default:
		return true;
	}
}

static void sign_pass(struct dg *d, const struct tok *t)
{
	d->sprev = t->type;
	d->sprev_kw = t->kw;
	values_push(d, t);
}

static void sign_push(struct dg *d, const struct tok *t)
{
	if (d->sign_held) {
		d->sign_held = false;
		if (t->type == T_NUM) {
			sign_pass(d, t);
			return;
		}
		sign_pass(d, &d->sign);
	}
	if (is_sign(t) && unary_after(d->sprev, d->sprev_kw)) {
		d->sign = *t;
		d->sign_held = true;
		return;
	}
	sign_pass(d, t);
}

/* End of input: give back what the stages hold, except trailing ';'. */
static void flush_all(struct dg *d)
{
	if (d->sign_held) {
		d->sign_held = false;
		sign_pass(d, &d->sign);
	}
	if (d->vstate != V_TUPLE)
		values_flush(d);
	in_flush(d);
}

static void finish_text(struct dg *d, char *text, size_t cap, size_t *text_len)
{
	size_t n = 0;

	if (text && cap) {
		n = d->total;
		if (n > d->room) {
			size_t dots;

			n = d->room;
			dots = n < 3 ? n : 3;
			memset(text + n - dots, '.', dots);
		}
		text[n] = '\0';
	}
	if (text_len)
		*text_len = n;
}

uint64_t digest_normalize(const char *sql, size_t len, char *text, size_t cap, size_t *text_len)
{
	struct dg d = { 0 };
	struct tok t;

	if (!sql)
		sql = "", len = 0;
	d.p = (const unsigned char *)sql;
	d.end = d.p + len;
	d.text = text;
	d.room = text && cap ? cap - 1 : 0;
	d.hash = FNV_OFFSET;
	while (lex(&d, &t))
		sign_push(&d, &t);
	flush_all(&d);
	finish_text(&d, text, cap, text_len);
	return d.hash ? d.hash : 1;
}
