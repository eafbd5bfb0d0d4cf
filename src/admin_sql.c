/*
 * admin_sql.c - lexer and parser for the admin port's SQL subset (see
 * admin_sql.h).
 *
 * Expressions follow MySQL's precedence, loosest first:
 *
 *   OR, ||  >  XOR  >  AND, &&  >  NOT  >  comparison, IS [NOT] NULL,
 *   [NOT] LIKE, [NOT] IN (...), [NOT] BETWEEN ... AND ...  >  +, -  >
 *   *, /, DIV, %, MOD  >  unary -, +, !  >  literals, names, @@variables,
 *   function calls, ( ... )
 *
 * Every recursion either consumes a token and allocates a node from the
 * fixed pool or is counted against ADMIN_MAX_DEPTH, so hostile input
 * (thousands of parentheses or NOTs) ends in an error, not a deep stack.
 */
#include "admin_sql.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUPPORTED                                                              \
	"supported: SELECT ... FROM stats.{digests|rules|workers|stats} or "      \
	"information_schema.{SCHEMATA|TABLES|COLUMNS|PROCESSLIST}, SELECT "       \
	"<expressions>, SHOW STATS, SHOW STATUS, SHOW VARIABLES, SHOW CONFIG, "   \
	"SHOW DATABASES, SHOW [FULL] TABLES, SHOW TABLE STATUS, SHOW [FULL] "     \
	"COLUMNS, SHOW INDEX, SHOW CREATE TABLE, SHOW [FULL] PROCESSLIST, "       \
	"SHOW WARNINGS, SHOW CHARSET, SHOW COLLATION, SHOW ENGINES, DESCRIBE, "    \
	"USE, RELOAD CONFIG, RESET STATS, XA COMMIT|ROLLBACK 'gtrid', SET "     \
	"(ignored)"

#define HEADER_MAX 256               /* column names, as MySQL cuts them */

/* ---- tokens ------------------------------------------------------------- */

enum tok_kind { T_END, T_WORD, T_NUMBER, T_STRING, T_PUNCT };

struct tok {
	enum tok_kind kind;
	bool quoted;                 /* `word`: never a keyword */
	char quote;                  /* the quote of a string or `word` */
	const char *p;               /* as written, without quotes */
	size_t n;
	const char *start, *end;     /* the whole token in the SQL */
};

struct lexer {
	const char *s, *end;
	struct tok t;                /* current token */
	const char *prev_end;        /* end of the token before it */
	bool bad;
};

static void skip_space(struct lexer *lx)
{
	while (lx->s < lx->end) {
		if (isspace((unsigned char)*lx->s)) {
			lx->s++;
		} else if (*lx->s == '#' ||
			   (*lx->s == '-' && lx->end - lx->s >= 2 && lx->s[1] == '-' &&
			    (lx->end - lx->s == 2 || isspace((unsigned char)lx->s[2])))) {
			while (lx->s < lx->end && *lx->s != '\n')
				lx->s++;
		} else if (*lx->s == '/' && lx->end - lx->s >= 2 && lx->s[1] == '*') {
			const char *e = lx->s + 2;
			while (e + 1 < lx->end && !(e[0] == '*' && e[1] == '/'))
				e++;
			lx->s = e + 1 < lx->end ? e + 2 : lx->end;
		} else {
			break;
		}
	}
}

static bool word_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '$' ||
	       (unsigned char)c >= 0x80;
}

static void next(struct lexer *lx)
{
	const char *s;

	lx->prev_end = lx->t.end;
	skip_space(lx);
	s = lx->s;
	lx->t = (struct tok){T_END, false, 0, s, 0, s, s};
	if (s >= lx->end)
		return;
	if (isalpha((unsigned char)*s) || *s == '_' || *s == '$' ||
	    (unsigned char)*s >= 0x80) {
		while (s < lx->end && word_char(*s))
			s++;
		lx->t.kind = T_WORD;
		lx->t.n = (size_t)(s - lx->s);
	} else if (isdigit((unsigned char)*s) ||
		   (*s == '.' && s + 1 < lx->end && isdigit((unsigned char)s[1]))) {
		/* Everything up to the next separator, so that 0x1F or 1abc
		 * is one bad number rather than two tokens; 1e-5 has a sign. */
		while (s < lx->end && (isalnum((unsigned char)*s) || *s == '.' ||
				       ((*s == '-' || *s == '+') &&
					(s[-1] == 'e' || s[-1] == 'E'))))
			s++;
		lx->t.kind = T_NUMBER;
		lx->t.n = (size_t)(s - lx->s);
	} else if (*s == '`' || *s == '\'' || *s == '"') {
		/* A doubled quote stands for itself; backslash escapes in
		 * strings (not in `names`), as without NO_BACKSLASH_ESCAPES. */
		char q = *s++;
		const char *b = s;
		for (;;) {
			if (s >= lx->end) {
				lx->bad = true;
				lx->t.end = lx->s = lx->end;
				return;
			}
			if (*s == '\\' && q != '`') {
				if (lx->end - s < 2) {
					s = lx->end;
					continue;
				}
				s += 2;
			} else if (*s == q) {
				if (lx->end - s >= 2 && s[1] == q)
					s += 2;
				else
					break;
			} else {
				s++;
			}
		}
		lx->t.kind = q == '`' ? T_WORD : T_STRING;
		lx->t.quoted = true;
		lx->t.quote = q;
		lx->t.p = b;
		lx->t.n = (size_t)(s - b);
		s++;
	} else {
		static const char *const multi[] = {"<=>", "<=", ">=", "<>", "!=",
						    "@@", "||", "&&"};
		size_t n = 1;
		for (size_t i = 0; i < sizeof(multi) / sizeof(multi[0]); i++) {
			size_t m = strlen(multi[i]);
			if ((size_t)(lx->end - s) >= m && !memcmp(s, multi[i], m)) {
				n = m;
				break;
			}
		}
		lx->t.kind = T_PUNCT;
		lx->t.n = n;
		s += n;
	}
	lx->t.end = lx->s = s;
}

static bool is_kw(const struct lexer *lx, const char *w)
{
	return lx->t.kind == T_WORD && !lx->t.quoted && lx->t.n == strlen(w) &&
	       !strncasecmp(lx->t.p, w, lx->t.n);
}

static bool is_punct(const struct lexer *lx, const char *p)
{
	return lx->t.kind == T_PUNCT && lx->t.n == strlen(p) &&
	       !memcmp(lx->t.p, p, lx->t.n);
}

static bool accept_kw(struct lexer *lx, const char *w)
{
	if (!is_kw(lx, w))
		return false;
	next(lx);
	return true;
}

static bool accept_punct(struct lexer *lx, const char *p)
{
	if (!is_punct(lx, p))
		return false;
	next(lx);
	return true;
}

/* Words that end an expression or a select item: never a column name or
 * an alias unless `quoted`. */
static bool reserved(const struct tok *t)
{
	static const char *const words[] = {
		"ALL", "AND", "AS", "ASC", "BETWEEN", "BINARY", "BY", "CASE",
		"COLLATE", "CROSS", "DESC", "DISTINCT", "DISTINCTROW", "DIV",
		"ELSE", "END", "ESCAPE", "EXISTS", "FALSE", "FOR", "FROM", "GROUP",
		"HAVING", "IN", "INNER", "INTERVAL", "INTO", "IS", "JOIN", "LEFT",
		"LIKE", "LIMIT", "LOCK", "MOD", "NATURAL", "NOT", "NULL", "OFFSET",
		"ON", "OR", "ORDER", "PROCEDURE", "REGEXP", "RIGHT", "RLIKE",
		"SELECT", "SOUNDS", "STRAIGHT_JOIN", "THEN", "TRUE", "UNION",
		"USING", "WHEN", "WHERE", "WINDOW", "WITH", "XOR",
	};

	if (t->kind != T_WORD || t->quoted)
		return false;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		if (t->n == strlen(words[i]) && !strncasecmp(t->p, words[i], t->n))
			return true;
	return false;
}

/* ---- parser state --------------------------------------------------------- */

struct parser {
	struct lexer lx;
	struct admin_stmt *st;
	char *err;
	size_t errlen;
	bool failed;
	unsigned depth;
	bool agg_ok;                 /* parsing a select item */
	bool in_agg;                 /* inside an aggregate's argument */
};

static int failf(struct parser *p, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static int failf(struct parser *p, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (p->failed)
		return -1;
	p->failed = true;
	n = snprintf(p->err, p->errlen, "myring admin: ");
	if (n < 0 || (size_t)n >= p->errlen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(p->err + n, p->errlen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

/* "what, got 'token'" */
static int fail(struct parser *p, const char *what)
{
	const struct tok *t = &p->lx.t;
	const char *b = t->start;
	size_t n = (size_t)(t->end - t->start);

	if (t->kind == T_END)
		return failf(p, "%s, got the end of the statement", what);
	return failf(p, "%s, got '%.*s'", what, (int)(n > 40 ? 40 : n), b);
}

static int expect_punct(struct parser *p, const char *punct, const char *what)
{
	if (accept_punct(&p->lx, punct))
		return 0;
	return fail(p, what);
}

/* Copies n bytes to the text pool (NUL-terminated); -1 when full. */
static int store(struct parser *p, const char *s, size_t n,
		 struct admin_ref *r)
{
	struct admin_stmt *st = p->st;

	if (n >= ADMIN_TEXT_MAX - st->ntext)
		return failf(p, "statement too long (names and strings over "
			     "%d bytes)", ADMIN_TEXT_MAX);
	memcpy(st->text + st->ntext, s, n);
	st->text[st->ntext + n] = '\0';
	r->off = (uint16_t)st->ntext;
	r->len = (uint16_t)n;
	st->ntext += (unsigned)n + 1;
	return 0;
}

/*
 * The value of a quoted token into the text pool.  Strings: MySQL's
 * escapes, except that \% and \_ keep their backslash (LIKE reads them
 * as a literal % or _).  `names`: a doubled ` is one.  With append, the
 * bytes extend the last string stored ('a' 'b' is 'ab').
 */
static int store_token(struct parser *p, const struct tok *t,
		       struct admin_ref *r, bool append)
{
	struct admin_stmt *st = p->st;
	unsigned at = append ? st->ntext - 1 : st->ntext;
	unsigned start = at;

	for (size_t i = 0; i < t->n; i++) {
		char c = t->p[i];
		char two[2];
		size_t k = 1;

		if (t->quoted && c == t->quote && i + 1 < t->n &&
		    t->p[i + 1] == t->quote) {
			i++;
		} else if (t->quoted && c == '\\' && t->quote != '`' &&
			   i + 1 < t->n) {
			char e = t->p[++i];
			switch (e) {
			case '0': c = '\0'; break;
			case 'b': c = '\b'; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'Z': c = '\x1A'; break;
			case '%':
			case '_':
				two[0] = '\\';
				two[1] = e;
				k = 2;
				break;
			default: c = e; break;
			}
		}
		if (at + k + 1 > ADMIN_TEXT_MAX)
			return failf(p, "statement too long (names and strings "
				     "over %d bytes)", ADMIN_TEXT_MAX);
		if (k == 2)
			memcpy(st->text + at, two, 2);
		else
			st->text[at] = c;
		at += (unsigned)k;
	}
	st->text[at] = '\0';
	if (append) {
		r->len = (uint16_t)(r->len + (at - start));
	} else {
		r->off = (uint16_t)start;
		r->len = (uint16_t)(at - start);
	}
	st->ntext = at + 1;
	return 0;
}

/* An identifier (plain or `quoted`) into the pool. */
static int ident(struct parser *p, struct admin_ref *r, const char *what)
{
	struct lexer *lx = &p->lx;

	if (lx->t.kind != T_WORD || reserved(&lx->t) || lx->t.n == 0 ||
	    lx->t.n > ADMIN_NAME_MAX)
		return fail(p, what);
	if (store_token(p, &lx->t, r, false))
		return -1;
	next(lx);
	return 0;
}

static int16_t node(struct parser *p, uint8_t op, int16_t a, int16_t b)
{
	struct admin_stmt *st = p->st;
	struct admin_expr *e;

	if (st->nnodes == ADMIN_MAX_NODES)
		return (int16_t)failf(p, "statement too complex (over %d "
				      "expression terms)", ADMIN_MAX_NODES);
	e = &st->nodes[st->nnodes];
	memset(e, 0, sizeof(*e));
	e->op = op;
	e->a = a;
	e->b = b;
	e->c = -1;
	e->next = -1;
	return (int16_t)st->nnodes++;
}

/* ---- expressions ---------------------------------------------------------- */

static int16_t expr(struct parser *p);

static int16_t number(struct parser *p)
{
	const struct tok *t = &p->lx.t;
	char buf[64], *end;
	int16_t n;
	bool digits = true;

	if (t->n >= sizeof(buf))
		return (int16_t)fail(p, "number too long");
	memcpy(buf, t->p, t->n);
	buf[t->n] = '\0';
	for (size_t i = 0; i < t->n; i++)
		digits &= isdigit((unsigned char)buf[i]) != 0;
	if (digits) {
		unsigned long long v = strtoull(buf, &end, 10);
		if (v <= INT64_MAX && t->n < 20) {
			if ((n = node(p, AX_INT, -1, -1)) < 0)
				return -1;
			p->st->nodes[n].i = (int64_t)v;
			next(&p->lx);
			return n;
		}
	}
	/* Decimals, exponents and integers past BIGINT: a double (not
	 * strtod's hex, inf or nan). */
	double d = strtod(buf, &end);
	if (*end || end == buf || strpbrk(buf, "xXpPiInN"))
		return (int16_t)fail(p, "not a number");
	if ((n = node(p, AX_DOUBLE, -1, -1)) < 0)
		return -1;
	p->st->nodes[n].d = d;
	next(&p->lx);
	return n;
}

/* 'a' 'b' is one string, as in MySQL. */
static int16_t string(struct parser *p)
{
	int16_t n = node(p, AX_STRING, -1, -1);
	bool append = false;

	if (n < 0)
		return -1;
	while (p->lx.t.kind == T_STRING) {
		if (store_token(p, &p->lx.t, &p->st->nodes[n].name, append))
			return -1;
		append = true;
		next(&p->lx);
	}
	return n;
}

static int16_t variable(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_ref name;
	int16_t n;

	/* @@global.x, @@session.x, @@local.x: one set of values here. */
	if (is_kw(lx, "GLOBAL") || is_kw(lx, "SESSION") || is_kw(lx, "LOCAL")) {
		struct lexer probe = *lx;
		next(&probe);
		if (is_punct(&probe, ".")) {
			next(lx);
			next(lx);
		}
	}
	if (lx->t.kind != T_WORD || lx->t.n > ADMIN_NAME_MAX)
		return (int16_t)fail(p, "expected a variable name after '@@'");
	if (store_token(p, &lx->t, &name, false))
		return -1;
	next(lx);
	if ((n = node(p, AX_VAR, -1, -1)) < 0)
		return -1;
	p->st->nodes[n].name = name;
	return n;
}

static const struct func {
	const char *name;
	uint8_t op;                  /* AX_FUNC or AX_AGG */
	uint8_t fn;
	bool bare;                   /* may be written without () */
} funcs[] = {
	{"NOW", AX_FUNC, AF_NOW, false},
	{"CURRENT_TIMESTAMP", AX_FUNC, AF_NOW, true},
	{"LOCALTIME", AX_FUNC, AF_NOW, true},
	{"LOCALTIMESTAMP", AX_FUNC, AF_NOW, true},
	{"SYSDATE", AX_FUNC, AF_NOW, false},
	{"UTC_TIMESTAMP", AX_FUNC, AF_NOW, true},
	{"CURDATE", AX_FUNC, AF_CURDATE, false},
	{"CURRENT_DATE", AX_FUNC, AF_CURDATE, true},
	{"UTC_DATE", AX_FUNC, AF_CURDATE, true},
	{"CURTIME", AX_FUNC, AF_CURTIME, false},
	{"CURRENT_TIME", AX_FUNC, AF_CURTIME, true},
	{"UTC_TIME", AX_FUNC, AF_CURTIME, true},
	{"UNIX_TIMESTAMP", AX_FUNC, AF_UNIX_TIMESTAMP, false},
	{"VERSION", AX_FUNC, AF_VERSION, false},
	{"DATABASE", AX_FUNC, AF_DATABASE, false},
	{"SCHEMA", AX_FUNC, AF_DATABASE, false},
	{"USER", AX_FUNC, AF_USER, false},
	{"CURRENT_USER", AX_FUNC, AF_USER, true},
	{"SESSION_USER", AX_FUNC, AF_USER, false},
	{"SYSTEM_USER", AX_FUNC, AF_USER, false},
	{"CONNECTION_ID", AX_FUNC, AF_CONNECTION_ID, false},
	{"COUNT", AX_AGG, AG_COUNT, false},
	{"SUM", AX_AGG, AG_SUM, false},
	{"AVG", AX_AGG, AG_AVG, false},
	{"MIN", AX_AGG, AG_MIN, false},
	{"MAX", AX_AGG, AG_MAX, false},
};

static const struct func *find_func(const struct tok *t)
{
	for (size_t i = 0; i < sizeof(funcs) / sizeof(funcs[0]); i++)
		if (t->n == strlen(funcs[i].name) &&
		    !strncasecmp(t->p, funcs[i].name, t->n))
			return &funcs[i];
	return NULL;
}

static int16_t call(struct parser *p, const struct func *f, bool parens)
{
	struct lexer *lx = &p->lx;
	const char *name = f->name;
	int16_t n, arg = -1;
	uint8_t fn = f->fn;

	if (f->op == AX_FUNC) {
		if (parens && !is_punct(lx, ")"))
			return (int16_t)failf(p, "%s() takes no arguments here",
					      name);
		if (parens)
			next(lx);
		if ((n = node(p, AX_FUNC, -1, -1)) >= 0)
			p->st->nodes[n].fn = fn;
		return n;
	}
	if (!p->agg_ok)
		return (int16_t)failf(p, "%s() is only supported in the select "
				      "list", name);
	if (p->in_agg)
		return (int16_t)failf(p, "%s() inside another aggregate", name);
	if (is_kw(lx, "DISTINCT"))
		return (int16_t)failf(p, "%s(DISTINCT ...) is not supported",
				      name);
	if (fn == AG_COUNT && accept_punct(lx, "*")) {
		fn = AG_COUNT_STAR;
	} else {
		p->in_agg = true;
		arg = expr(p);
		p->in_agg = false;
		if (arg < 0)
			return -1;
	}
	if (expect_punct(p, ")", "expected ')' after the argument"))
		return -1;
	if ((n = node(p, AX_AGG, arg, -1)) >= 0)
		p->st->nodes[n].fn = fn;
	p->st->has_agg = true;
	return n;
}

/* name, table.name or db.table.name */
static int16_t column(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_ref parts[3];
	unsigned n = 0;
	int16_t c;

	for (;;) {
		if (lx->t.kind != T_WORD || lx->t.n > ADMIN_NAME_MAX)
			return (int16_t)fail(p, "expected a column name");
		if (store_token(p, &lx->t, &parts[n++], false))
			return -1;
		next(lx);
		if (n == 3 || !is_punct(lx, "."))
			break;
		next(lx);
	}
	if ((c = node(p, AX_COLUMN, -1, -1)) < 0)
		return -1;
	p->st->nodes[c].name = parts[n - 1];
	if (n >= 2)
		p->st->nodes[c].qual = parts[n - 2];
	if (n == 3)
		p->st->nodes[c].qdb = parts[0];
	return c;
}

static int16_t primary(struct parser *p)
{
	struct lexer *lx = &p->lx;
	int16_t n;

	switch (lx->t.kind) {
	case T_NUMBER:
		return number(p);
	case T_STRING:
		return string(p);
	case T_PUNCT:
		if (accept_punct(lx, "(")) {
			if ((n = expr(p)) < 0)
				return -1;
			if (expect_punct(p, ")", "expected ')'"))
				return -1;
			return n;
		}
		if (accept_punct(lx, "@@"))
			return variable(p);
		if (is_punct(lx, "@"))
			return (int16_t)fail(p, "user variables are not supported");
		return (int16_t)fail(p, "expected an expression");
	case T_WORD:
		break;
	default:
		return (int16_t)fail(p, "expected an expression");
	}
	if (!lx->t.quoted) {
		const struct func *f;
		struct lexer probe = *lx;
		bool parens;

		if (accept_kw(lx, "NULL"))
			return node(p, AX_NULL, -1, -1);
		if (is_kw(lx, "TRUE") || is_kw(lx, "FALSE")) {
			if ((n = node(p, AX_INT, -1, -1)) >= 0)
				p->st->nodes[n].i = is_kw(lx, "TRUE");
			next(lx);
			return n;
		}
		next(&probe);
		parens = is_punct(&probe, "(");
		f = find_func(&lx->t);
		if (f && (parens || f->bare)) {
			next(lx);
			if (parens)
				next(lx);
			return call(p, f, parens);
		}
		if (parens)
			return (int16_t)failf(p, "function %.*s() is not supported; "
					      "functions: NOW(), CURRENT_TIMESTAMP, "
					      "CURDATE(), CURTIME(), UNIX_TIMESTAMP(), "
					      "VERSION(), DATABASE(), USER(), "
					      "CURRENT_USER(), CONNECTION_ID(), COUNT(), "
					      "SUM(), AVG(), MIN(), MAX()",
					      (int)(lx->t.n > 40 ? 40 : lx->t.n),
					      lx->t.p);
		if (reserved(&lx->t))
			return (int16_t)fail(p, "expected an expression");
	}
	return column(p);
}

/* Prefix -, + and !, applied innermost first. */
static int16_t unary(struct parser *p)
{
	struct lexer *lx = &p->lx;
	char ops[ADMIN_MAX_DEPTH];
	unsigned nops = 0;
	int16_t x;

	while (is_punct(lx, "-") || is_punct(lx, "+") || is_punct(lx, "!")) {
		if (nops == ADMIN_MAX_DEPTH)
			return (int16_t)fail(p, "too many unary operators");
		ops[nops++] = lx->t.p[0];
		next(lx);
	}
	if ((x = primary(p)) < 0)
		return -1;
	while (nops) {
		struct admin_expr *e = &p->st->nodes[x];
		char op = ops[--nops];

		if (op == '+')
			continue;
		if (op == '-' && e->op == AX_INT && e->i != INT64_MIN) {
			e->i = -e->i;
		} else if (op == '-' && e->op == AX_DOUBLE) {
			e->d = -e->d;
		} else if ((x = node(p, op == '-' ? AX_NEG : AX_NOT, x, -1)) < 0) {
			return -1;
		}
	}
	return x;
}

static int16_t term(struct parser *p)
{
	struct lexer *lx = &p->lx;
	int16_t l = unary(p), r;

	while (l >= 0) {
		uint8_t op;
		if (is_punct(lx, "*"))
			op = AX_MUL;
		else if (is_punct(lx, "/"))
			op = AX_DIV;
		else if (is_punct(lx, "%") || is_kw(lx, "MOD"))
			op = AX_MOD;
		else if (is_kw(lx, "DIV"))
			op = AX_INTDIV;
		else
			break;
		next(lx);
		if ((r = unary(p)) < 0)
			return -1;
		l = node(p, op, l, r);
	}
	return l;
}

static int16_t bitexpr(struct parser *p)
{
	struct lexer *lx = &p->lx;
	int16_t l = term(p), r;

	while (l >= 0 && (is_punct(lx, "+") || is_punct(lx, "-"))) {
		uint8_t op = is_punct(lx, "+") ? AX_ADD : AX_SUB;
		next(lx);
		if ((r = term(p)) < 0)
			return -1;
		l = node(p, op, l, r);
	}
	return l;
}

static int16_t in_list(struct parser *p, int16_t l, bool neg)
{
	struct lexer *lx = &p->lx;
	int16_t first = -1, last = -1, n;

	if (expect_punct(p, "(", "IN: expected '('"))
		return -1;
	if (is_kw(lx, "SELECT"))
		return (int16_t)fail(p, "IN: subqueries are not supported");
	do {
		int16_t e = expr(p);
		if (e < 0)
			return -1;
		if (last >= 0)
			p->st->nodes[last].next = e;
		else
			first = e;
		last = e;
	} while (accept_punct(lx, ","));
	if (expect_punct(p, ")", "IN: expected ',' or ')'"))
		return -1;
	if ((n = node(p, AX_IN, l, first)) >= 0)
		p->st->nodes[n].negated = neg;
	return n;
}

static int16_t predicate(struct parser *p)
{
	static const struct { const char *p; uint8_t op; } cmps[] = {
		{"=", AX_EQ}, {"<=>", AX_NSEQ}, {"!=", AX_NE}, {"<>", AX_NE},
		{"<=", AX_LE}, {">=", AX_GE}, {"<", AX_LT}, {">", AX_GT},
	};
	struct lexer *lx = &p->lx;
	int16_t l = bitexpr(p), r, hi;

	while (l >= 0) {
		bool found = false, neg = false;

		for (size_t i = 0; i < sizeof(cmps) / sizeof(cmps[0]); i++) {
			if (is_punct(lx, cmps[i].p)) {
				next(lx);
				if ((r = bitexpr(p)) < 0)
					return -1;
				l = node(p, cmps[i].op, l, r);
				found = true;
				break;
			}
		}
		if (found)
			continue;
		if (accept_kw(lx, "IS")) {
			neg = accept_kw(lx, "NOT");
			if (!accept_kw(lx, "NULL"))
				return (int16_t)fail(p, neg ? "IS NOT: expected NULL" :
						     "IS: expected NULL or NOT NULL");
			if ((l = node(p, AX_ISNULL, l, -1)) >= 0)
				p->st->nodes[l].negated = neg;
			continue;
		}
		struct lexer save = *lx;
		neg = accept_kw(lx, "NOT");
		if (accept_kw(lx, "LIKE")) {
			if ((r = bitexpr(p)) < 0)
				return -1;
			if ((l = node(p, AX_LIKE, l, r)) >= 0)
				p->st->nodes[l].negated = neg;
		} else if (accept_kw(lx, "IN")) {
			l = in_list(p, l, neg);
		} else if (accept_kw(lx, "BETWEEN")) {
			if ((r = bitexpr(p)) < 0)
				return -1;
			if (!accept_kw(lx, "AND"))
				return (int16_t)fail(p, "BETWEEN: expected AND");
			if ((hi = bitexpr(p)) < 0)
				return -1;
			if ((l = node(p, AX_BETWEEN, l, r)) >= 0) {
				p->st->nodes[l].c = hi;
				p->st->nodes[l].negated = neg;
			}
		} else {
			*lx = save;
			break;
		}
	}
	return l;
}

static int16_t not_expr(struct parser *p)
{
	unsigned nots = 0;
	int16_t x;

	while (accept_kw(&p->lx, "NOT"))
		if (++nots > ADMIN_MAX_DEPTH)
			return (int16_t)fail(p, "too many NOTs");
	x = predicate(p);
	while (x >= 0 && nots--)
		x = node(p, AX_NOT, x, -1);
	return x;
}

static int16_t and_expr(struct parser *p)
{
	int16_t l = not_expr(p), r;

	while (l >= 0 && (accept_kw(&p->lx, "AND") || accept_punct(&p->lx, "&&"))) {
		if ((r = not_expr(p)) < 0)
			return -1;
		l = node(p, AX_AND, l, r);
	}
	return l;
}

static int16_t xor_expr(struct parser *p)
{
	int16_t l = and_expr(p), r;

	while (l >= 0 && accept_kw(&p->lx, "XOR")) {
		if ((r = and_expr(p)) < 0)
			return -1;
		l = node(p, AX_XOR, l, r);
	}
	return l;
}

static int16_t expr(struct parser *p)
{
	int16_t l, r;

	if (p->depth >= ADMIN_MAX_DEPTH)
		return (int16_t)fail(p, "expression nested too deeply");
	p->depth++;
	l = xor_expr(p);
	while (l >= 0 && (accept_kw(&p->lx, "OR") || accept_punct(&p->lx, "||"))) {
		if ((r = xor_expr(p)) < 0)
			return -1;
		l = node(p, AX_OR, l, r);
	}
	p->depth--;
	return l;
}

/* ---- statements ----------------------------------------------------------- */

static int at_end(struct parser *p)
{
	accept_punct(&p->lx, ";");
	if (p->lx.t.kind != T_END)
		return fail(p, "expected the end of the statement");
	return 0;
}

/* [db.]table */
static int table_name(struct parser *p, const char *what)
{
	struct admin_stmt *st = p->st;

	if (ident(p, &st->table, what))
		return -1;
	if (accept_punct(&p->lx, ".")) {
		st->db = st->table;
		if (ident(p, &st->table, "expected a table name after the "
			  "database"))
			return -1;
	}
	return 0;
}

/* The column header of an item without alias: a column's name, a
 * string's value, else the expression as written (as MySQL names them). */
static int item_name(struct parser *p, struct admin_item *it,
		     const char *start)
{
	const struct admin_expr *e = &p->st->nodes[it->expr];
	size_t n = (size_t)(p->lx.prev_end - start);

	if (e->op == AX_COLUMN || (e->op == AX_STRING && e->name.len <= HEADER_MAX)) {
		it->name = e->name;
		return 0;
	}
	return store(p, start, n > HEADER_MAX ? HEADER_MAX : n, &it->name);
}

static int select_item(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_stmt *st = p->st;
	struct admin_item *it;
	const char *start = lx->t.start;
	struct lexer probe = *lx;

	if (st->nitems == ADMIN_MAX_ITEMS)
		return failf(p, "more than %d columns selected", ADMIN_MAX_ITEMS);
	it = &st->items[st->nitems++];
	memset(it, 0, sizeof(*it));
	it->expr = -1;
	if (accept_punct(lx, "*"))
		return 0;
	/* tbl.* and db.tbl.* */
	for (int parts = 0; parts < 2 && probe.t.kind == T_WORD; parts++) {
		next(&probe);
		if (!is_punct(&probe, "."))
			break;
		next(&probe);
		if (is_punct(&probe, "*")) {
			if (parts == 1 && ident(p, &it->qdb, "expected a name"))
				return -1;
			if (parts == 1)
				next(lx);
			if (ident(p, &it->qual, "expected a table name"))
				return -1;
			next(lx);
			next(lx);
			return 0;
		}
	}
	p->agg_ok = true;
	it->expr = expr(p);
	p->agg_ok = false;
	if (it->expr < 0)
		return -1;
	if (item_name(p, it, start))
		return -1;
	if (accept_kw(lx, "AS")) {
		if (lx->t.kind != T_WORD && lx->t.kind != T_STRING)
			return fail(p, "AS: expected an alias");
		if (lx->t.kind == T_WORD && reserved(&lx->t))
			return fail(p, "AS: expected an alias");
	} else if (!(lx->t.kind == T_STRING ||
		     (lx->t.kind == T_WORD && !reserved(&lx->t)))) {
		return 0;
	}
	if (lx->t.n > HEADER_MAX)
		return fail(p, "alias too long");
	if (store_token(p, &lx->t, &it->name, false))
		return -1;
	next(lx);
	return 0;
}

static int whole_number(struct parser *p, uint64_t *v, const char *what)
{
	struct lexer *lx = &p->lx;
	char buf[24], *end;

	if (lx->t.kind != T_NUMBER || lx->t.n >= sizeof(buf))
		return fail(p, what);
	memcpy(buf, lx->t.p, lx->t.n);
	buf[lx->t.n] = '\0';
	*v = strtoull(buf, &end, 10);
	if (*end || !isdigit((unsigned char)buf[0]))
		return fail(p, what);
	next(lx);
	return 0;
}

/* LIMIT n, LIMIT offset, n, LIMIT n OFFSET offset */
static int limit_clause(struct parser *p)
{
	struct admin_stmt *st = p->st;
	uint64_t a, b;

	if (whole_number(p, &a, "LIMIT: expected a number"))
		return -1;
	st->has_limit = true;
	st->limit = a;
	if (accept_punct(&p->lx, ",")) {
		if (whole_number(p, &b, "LIMIT: expected a row count after ','"))
			return -1;
		st->offset = a;
		st->limit = b;
	} else if (accept_kw(&p->lx, "OFFSET")) {
		if (whole_number(p, &b, "OFFSET: expected a number"))
			return -1;
		st->offset = b;
	}
	return 0;
}

static int parse_select(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_stmt *st = p->st;

	st->kind = ADMIN_SELECT;
	while (accept_kw(lx, "SQL_NO_CACHE") || accept_kw(lx, "SQL_CACHE") ||
	       accept_kw(lx, "ALL"))
		;
	if (is_kw(lx, "DISTINCT") || is_kw(lx, "DISTINCTROW"))
		return fail(p, "SELECT: DISTINCT is not supported");
	do {
		if (select_item(p))
			return -1;
	} while (accept_punct(lx, ","));
	if (accept_kw(lx, "FROM")) {
		if (accept_kw(lx, "DUAL")) {
			/* no table */
		} else {
			if (table_name(p, "FROM: expected a table name"))
				return -1;
			if (accept_kw(lx, "AS")) {
				if (ident(p, &st->alias, "AS: expected an alias"))
					return -1;
			} else if (lx->t.kind == T_WORD && !reserved(&lx->t)) {
				if (ident(p, &st->alias, "expected an alias"))
					return -1;
			}
			if (is_punct(lx, ",") || is_kw(lx, "JOIN") ||
			    is_kw(lx, "INNER") || is_kw(lx, "LEFT") ||
			    is_kw(lx, "CROSS") || is_kw(lx, "NATURAL"))
				return fail(p, "FROM: joins are not supported");
		}
	}
	if (accept_kw(lx, "WHERE") && (st->where = expr(p)) < 0)
		return -1;
	if (is_kw(lx, "GROUP") || is_kw(lx, "HAVING"))
		return fail(p, "GROUP BY and HAVING are not supported");
	if (accept_kw(lx, "ORDER")) {
		if (!accept_kw(lx, "BY"))
			return fail(p, "ORDER: expected BY");
		do {
			struct admin_order *o;
			if (st->norder == ADMIN_MAX_ORDER)
				return failf(p, "ORDER BY: more than %d keys",
					     ADMIN_MAX_ORDER);
			o = &st->order[st->norder++];
			if ((o->expr = expr(p)) < 0)
				return -1;
			o->desc = accept_kw(lx, "DESC");
			if (!o->desc)
				accept_kw(lx, "ASC");
		} while (accept_punct(lx, ","));
	}
	if (accept_kw(lx, "LIMIT") && limit_clause(p))
		return -1;
	return at_end(p);
}

/* [LIKE 'pattern' | WHERE expr]: LIKE filters on the first column. */
static int show_filter(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_stmt *st = p->st;
	int16_t col, pat;

	if (accept_kw(lx, "LIKE")) {
		if (lx->t.kind != T_STRING)
			return fail(p, "LIKE: expected a quoted pattern");
		if ((col = node(p, AX_COLUMN_AT, -1, -1)) < 0 ||
		    (pat = string(p)) < 0)
			return -1;
		st->nodes[col].i = 0;
		if ((st->where = node(p, AX_LIKE, col, pat)) < 0)
			return -1;
	} else if (accept_kw(lx, "WHERE")) {
		if ((st->where = expr(p)) < 0)
			return -1;
	}
	return at_end(p);
}

/* FROM|IN db */
static int show_from_db(struct parser *p)
{
	if (accept_kw(&p->lx, "FROM") || accept_kw(&p->lx, "IN"))
		return ident(p, &p->st->db, "expected a database name");
	return 0;
}

/* FROM|IN [db.]table [FROM|IN db] */
static int show_from_table(struct parser *p, const char *what)
{
	if (!accept_kw(&p->lx, "FROM") && !accept_kw(&p->lx, "IN"))
		return fail(p, what);
	if (table_name(p, "expected a table name"))
		return -1;
	return show_from_db(p);
}

static int parse_show(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_stmt *st = p->st;
	bool full = accept_kw(lx, "FULL");
	bool scoped = false;

	st->kind = ADMIN_SHOW;
	st->full = full;
	if (!full && (accept_kw(lx, "GLOBAL") || accept_kw(lx, "SESSION") ||
		      accept_kw(lx, "LOCAL")))
		scoped = true;
	if (scoped && !is_kw(lx, "VARIABLES") && !is_kw(lx, "STATUS"))
		return fail(p, "SHOW GLOBAL/SESSION: expected VARIABLES or STATUS");
	if (full && !is_kw(lx, "TABLES") && !is_kw(lx, "COLUMNS") &&
	    !is_kw(lx, "FIELDS") && !is_kw(lx, "PROCESSLIST"))
		return fail(p, "SHOW FULL: expected TABLES, COLUMNS or PROCESSLIST");
	if (accept_kw(lx, "STATS") || accept_kw(lx, "STATUS")) {
		st->show = SHOW_STATS;
	} else if (accept_kw(lx, "VARIABLES")) {
		st->show = SHOW_VARIABLES;
	} else if (accept_kw(lx, "CONFIG")) {
		st->show = SHOW_CONFIG;
	} else if (accept_kw(lx, "DATABASES") || accept_kw(lx, "SCHEMAS")) {
		st->show = SHOW_DATABASES;
	} else if (accept_kw(lx, "TABLES")) {
		st->show = SHOW_TABLES;
		if (show_from_db(p))
			return -1;
	} else if (accept_kw(lx, "TABLE")) {
		if (!accept_kw(lx, "STATUS"))
			return fail(p, "SHOW TABLE: expected STATUS");
		st->show = SHOW_TABLE_STATUS;
		if (show_from_db(p))
			return -1;
	} else if (accept_kw(lx, "COLUMNS") || accept_kw(lx, "FIELDS")) {
		st->show = SHOW_COLUMNS;
		if (show_from_table(p, "SHOW COLUMNS: expected FROM"))
			return -1;
	} else if (accept_kw(lx, "INDEX") || accept_kw(lx, "INDEXES") ||
		   accept_kw(lx, "KEYS")) {
		st->show = SHOW_INDEX;
		if (show_from_table(p, "SHOW INDEX: expected FROM"))
			return -1;
	} else if (accept_kw(lx, "CREATE")) {
		if (!accept_kw(lx, "TABLE"))
			return fail(p, "SHOW CREATE: expected TABLE");
		st->show = SHOW_CREATE_TABLE;
		if (table_name(p, "SHOW CREATE TABLE: expected a table name"))
			return -1;
		return at_end(p);
	} else if (accept_kw(lx, "PROCESSLIST")) {
		st->show = SHOW_PROCESSLIST;
		return at_end(p);
	} else if (accept_kw(lx, "BACKENDS")) {
		st->show = SHOW_BACKENDS;
		return at_end(p);
	} else if (accept_kw(lx, "SHARDS")) {
		st->show = SHOW_SHARDS;
		return at_end(p);
	} else if (accept_kw(lx, "CHARSET")) {
		st->show = SHOW_CHARSET;
	} else if (accept_kw(lx, "CHARACTER")) {
		if (!accept_kw(lx, "SET"))
			return fail(p, "SHOW CHARACTER: expected SET");
		st->show = SHOW_CHARSET;
	} else if (accept_kw(lx, "COLLATION")) {
		st->show = SHOW_COLLATION;
	} else if (accept_kw(lx, "ENGINES") ||
		   (accept_kw(lx, "STORAGE") && accept_kw(lx, "ENGINES"))) {
		st->show = SHOW_ENGINES;
	} else if (accept_kw(lx, "WARNINGS") || accept_kw(lx, "ERRORS")) {
		st->show = SHOW_WARNINGS;
		if (accept_kw(lx, "LIMIT") && limit_clause(p))
			return -1;
		return at_end(p);
	} else {
		return fail(p, "SHOW: expected STATS, STATUS, VARIABLES, CONFIG, "
			    "DATABASES, TABLES, TABLE STATUS, COLUMNS, INDEX, "
			    "CREATE TABLE, PROCESSLIST, WARNINGS, CHARSET, "
			    "COLLATION or ENGINES");
	}
	return show_filter(p);
}

/* DESCRIBE t [column or 'pattern'] = SHOW COLUMNS FROM t [LIKE ...] */
static int parse_describe(struct parser *p)
{
	struct lexer *lx = &p->lx;
	struct admin_stmt *st = p->st;
	int16_t col, pat;

	st->kind = ADMIN_SHOW;
	st->show = SHOW_COLUMNS;
	if (table_name(p, "DESCRIBE: expected a table name"))
		return -1;
	if (lx->t.kind == T_WORD || lx->t.kind == T_STRING) {
		if ((col = node(p, AX_COLUMN_AT, -1, -1)) < 0 ||
		    (pat = node(p, AX_STRING, -1, -1)) < 0)
			return -1;
		if (lx->t.kind == T_STRING) {
			if (store_token(p, &lx->t, &st->nodes[pat].name, false))
				return -1;
		} else if (store(p, lx->t.p, lx->t.n, &st->nodes[pat].name)) {
			return -1;
		}
		next(lx);
		if ((st->where = node(p, AX_LIKE, col, pat)) < 0)
			return -1;
	}
	return at_end(p);
}

int admin_parse(const char *sql, size_t len, struct admin_stmt *st, char *err,
		size_t errlen)
{
	struct parser p = {
		.lx = {sql, sql + len, {0}, sql, false},
		.st = st, .err = err, .errlen = errlen,
	};
	struct lexer *lx = &p.lx;

	memset(st, 0, offsetof(struct admin_stmt, nodes));
	st->nnodes = 0;
	st->ntext = 1;                /* offset 0: the empty string */
	st->text[0] = '\0';
	st->where = -1;
	if (errlen)
		err[0] = '\0';
	for (struct lexer probe = *lx;;) {
		next(&probe);
		if (probe.bad)
			return failf(&p, "unterminated quoted string or "
				     "identifier");
		if (probe.t.kind == T_END)
			break;
	}
	lx->t.end = sql;
	next(lx);
	if (accept_kw(lx, "SELECT"))
		return parse_select(&p);
	if (accept_kw(lx, "SHOW"))
		return parse_show(&p);
	if (accept_kw(lx, "DESCRIBE") || accept_kw(lx, "DESC"))
		return parse_describe(&p);
	if (accept_kw(lx, "USE")) {
		st->kind = ADMIN_USE;
		if (ident(&p, &st->db, "USE: expected a database name"))
			return -1;
		return at_end(&p);
	}
	if (accept_kw(lx, "RELOAD")) {
		if (!accept_kw(lx, "CONFIG"))
			return fail(&p, "RELOAD: expected CONFIG");
		st->kind = ADMIN_RELOAD_CONFIG;
		return at_end(&p);
	}
	if (accept_kw(lx, "XA")) {
		/* An in-doubt transaction over shards resolved by hand
		 * (docs/transactions.md). */
		st->kind = ADMIN_XA_RESOLVE;
		if (accept_kw(lx, "COMMIT"))
			st->full = true;
		else if (!accept_kw(lx, "ROLLBACK"))
			return fail(&p, "XA: expected COMMIT or ROLLBACK");
		if (lx->t.kind != T_STRING)
			return fail(&p, "XA: expected the transaction's gtrid "
				    "as a string (see stats.transactions)");
		if (store(&p, lx->t.p, lx->t.n, &st->db))
			return -1;
		next(lx);
		return at_end(&p);
	}
	if (accept_kw(lx, "RESET")) {
		if (!accept_kw(lx, "STATS"))
			return fail(&p, "RESET: expected STATS");
		st->kind = ADMIN_RESET_STATS;
		return at_end(&p);
	}
	if (is_kw(lx, "SET") || is_kw(lx, "BEGIN") || is_kw(lx, "COMMIT") ||
	    is_kw(lx, "ROLLBACK") || is_kw(lx, "START")) {
		st->kind = ADMIN_NOOP;
		return 0;
	}
	return failf(&p, "unsupported statement; " SUPPORTED);
}
