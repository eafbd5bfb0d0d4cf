/*
 * admin_sql.c - parser for the admin port's SQL subset and the table
 * engine (see admin_sql.h).
 */
#include "admin_sql.h"

#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define SUPPORTED                                                              \
	"supported: SHOW STATS, SHOW CONFIG, SHOW TABLES, "                       \
	"SELECT <cols|*> FROM stats.{digests|rules|workers|stats} "               \
	"[WHERE col op value] [ORDER BY col [ASC|DESC]] [LIMIT n [OFFSET m]], "   \
	"RELOAD CONFIG, RESET STATS"

/* ---- tokens ------------------------------------------------------------- */

enum tok_kind { T_END, T_WORD, T_NUMBER, T_STRING, T_PUNCT };

struct tok {
	enum tok_kind kind;
	const char *p;               /* as written (without quotes) */
	size_t n;
	const char *start;           /* first byte in the SQL */
};

struct lexer {
	const char *s, *end;
	struct tok t;                /* current token */
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

static void next(struct lexer *lx)
{
	const char *s;

	skip_space(lx);
	s = lx->s;
	lx->t.start = s;
	if (s >= lx->end) {
		lx->t = (struct tok){T_END, s, 0, s};
		return;
	}
	if (isalpha((unsigned char)*s) || *s == '_' || *s == '$' ||
	    (unsigned char)*s >= 0x80) {
		while (s < lx->end && (isalnum((unsigned char)*s) || *s == '_' ||
				       *s == '$' || (unsigned char)*s >= 0x80))
			s++;
		lx->t = (struct tok){T_WORD, lx->s, (size_t)(s - lx->s), lx->s};
	} else if (isdigit((unsigned char)*s) ||
		   (*s == '.' && s + 1 < lx->end && isdigit((unsigned char)s[1]))) {
		while (s < lx->end && (isalnum((unsigned char)*s) || *s == '.'))
			s++;
		lx->t = (struct tok){T_NUMBER, lx->s, (size_t)(s - lx->s), lx->s};
	} else if (*s == '`' || *s == '\'' || *s == '"') {
		char q = *s++;
		const char *b = s;
		while (s < lx->end && *s != q) {
			if (*s == '\\' && q != '`' && s + 1 < lx->end)
				s++;
			s++;
		}
		if (s >= lx->end) {
			lx->bad = true;
			lx->t = (struct tok){T_END, b, 0, lx->s};
			lx->s = lx->end;
			return;
		}
		lx->t = (struct tok){q == '`' ? T_WORD : T_STRING, b,
				     (size_t)(s - b), lx->s};
		s++;
	} else {
		size_t n = 1;
		if (s + 1 < lx->end &&
		    ((s[0] == '<' && (s[1] == '=' || s[1] == '>')) ||
		     (s[0] == '>' && s[1] == '=') || (s[0] == '!' && s[1] == '=') ||
		     (s[0] == '@' && s[1] == '@')))
			n = 2;
		lx->t = (struct tok){T_PUNCT, s, n, s};
		s += n;
	}
	lx->s = s;
}

static bool is_word(const struct lexer *lx, const char *w)
{
	return lx->t.kind == T_WORD && lx->t.n == strlen(w) &&
	       !strncasecmp(lx->t.p, w, lx->t.n);
}

static bool is_punct(const struct lexer *lx, const char *p)
{
	return lx->t.kind == T_PUNCT && lx->t.n == strlen(p) &&
	       !memcmp(lx->t.p, p, lx->t.n);
}

static bool accept_word(struct lexer *lx, const char *w)
{
	if (!is_word(lx, w))
		return false;
	next(lx);
	return true;
}

static int fail(char *err, size_t errlen, const char *what,
		const struct lexer *lx)
{
	if (lx->t.kind == T_END)
		snprintf(err, errlen, "myring admin: %s, got the end of the "
			 "statement", what);
	else
		snprintf(err, errlen, "myring admin: %s, got '%.*s'", what,
			 (int)(lx->t.n > 40 ? 40 : lx->t.n), lx->t.p);
	return -1;
}

static int ident(struct lexer *lx, char *out, const char *what, char *err,
		 size_t errlen)
{
	if (lx->t.kind != T_WORD || lx->t.n >= ADMIN_NAME_MAX)
		return fail(err, errlen, what, lx);
	memcpy(out, lx->t.p, lx->t.n);
	out[lx->t.n] = '\0';
	next(lx);
	return 0;
}

static int number(struct lexer *lx, uint64_t *v, const char *what, char *err,
		  size_t errlen)
{
	char buf[32], *end;

	if (lx->t.kind != T_NUMBER || lx->t.n >= sizeof(buf))
		return fail(err, errlen, what, lx);
	memcpy(buf, lx->t.p, lx->t.n);
	buf[lx->t.n] = '\0';
	*v = strtoull(buf, &end, 10);
	if (*end)
		return fail(err, errlen, what, lx);
	next(lx);
	return 0;
}

static int at_end(struct lexer *lx, char *err, size_t errlen)
{
	if (is_punct(lx, ";"))
		next(lx);
	if (lx->t.kind != T_END)
		return fail(err, errlen, "expected the end of the statement", lx);
	return 0;
}

/* ---- statements ----------------------------------------------------------- */

static int parse_where(struct lexer *lx, struct admin_stmt *st, char *err,
		       size_t errlen)
{
	static const struct { const char *p; enum admin_op op; } ops[] = {
		{"=", AOP_EQ}, {"!=", AOP_NE}, {"<>", AOP_NE}, {"<=", AOP_LE},
		{">=", AOP_GE}, {"<", AOP_LT}, {">", AOP_GT},
	};
	bool neg = false, found = false;

	if (ident(lx, st->where_col, "WHERE: expected a column name", err, errlen))
		return -1;
	if (accept_word(lx, "LIKE")) {
		st->where_op = AOP_LIKE;
		found = true;
	}
	for (size_t i = 0; !found && i < sizeof(ops) / sizeof(ops[0]); i++)
		if (is_punct(lx, ops[i].p)) {
			st->where_op = ops[i].op;
			found = true;
			next(lx);
		}
	if (!found)
		return fail(err, errlen, "WHERE: expected =, !=, <>, <, <=, >, >= or "
			    "LIKE", lx);
	if (is_punct(lx, "-")) {
		neg = true;
		next(lx);
	}
	if (lx->t.kind != T_NUMBER && lx->t.kind != T_STRING)
		return fail(err, errlen, "WHERE: expected a number or a quoted "
			    "string", lx);
	if (lx->t.n + neg >= sizeof(st->where_val))
		return fail(err, errlen, "WHERE: value too long", lx);
	st->where_is_string = lx->t.kind == T_STRING;
	if (neg && st->where_is_string)
		return fail(err, errlen, "WHERE: expected a number after '-'", lx);
	snprintf(st->where_val, sizeof(st->where_val), "%s%.*s", neg ? "-" : "",
		 (int)lx->t.n, lx->t.p);
	st->has_where = true;
	next(lx);
	return 0;
}

static int parse_select(struct lexer *lx, const char *sql, size_t len,
			struct admin_stmt *st, char *err, size_t errlen)
{
	/* Without FROM it is an expression: what clients send on connect. */
	struct lexer probe = *lx;
	bool has_from = false;

	while (probe.t.kind != T_END) {
		if (is_word(&probe, "FROM"))
			has_from = true;
		next(&probe);
	}
	if (!has_from) {
		const char *b = lx->t.start, *e = sql + len;
		st->kind = ADMIN_SELECT_EXPR;
		/* Up to LIMIT, or the end, trimmed. */
		for (struct lexer l2 = *lx; l2.t.kind != T_END; next(&l2))
			if (is_word(&l2, "LIMIT") || is_punct(&l2, ";")) {
				e = l2.t.start;
				break;
			}
		while (e > b && isspace((unsigned char)e[-1]))
			e--;
		if (e == b)
			return fail(err, errlen, "SELECT: expected an expression", lx);
		snprintf(st->expr, sizeof(st->expr), "%.*s", (int)(e - b), b);
		return 0;
	}
	st->kind = ADMIN_SELECT;
	if (is_punct(lx, "*")) {
		st->star = true;
		next(lx);
	} else {
		for (;;) {
			if (st->ncols == ADMIN_MAX_COLS)
				return fail(err, errlen, "SELECT: too many columns", lx);
			if (is_word(lx, "FROM"))
				return fail(err, errlen, "SELECT: expected a column "
					    "name or *", lx);
			if (ident(lx, st->cols[st->ncols], "SELECT: expected a column "
				  "name or *", err, errlen))
				return -1;
			st->ncols++;
			if (!is_punct(lx, ","))
				break;
			next(lx);
		}
	}
	if (!accept_word(lx, "FROM"))
		return fail(err, errlen, "SELECT: expected FROM after the columns", lx);
	if (ident(lx, st->table, "FROM: expected a table name", err, errlen))
		return -1;
	if (is_punct(lx, ".")) {
		if (strcasecmp(st->table, "stats")) {
			snprintf(err, errlen, "myring admin: unknown database '%s'; "
				 "the tables are in 'stats'", st->table);
			return -1;
		}
		next(lx);
		if (ident(lx, st->table, "FROM: expected a table name after "
			  "'stats.'", err, errlen))
			return -1;
	}
	if (accept_word(lx, "WHERE") && parse_where(lx, st, err, errlen))
		return -1;
	if (accept_word(lx, "ORDER")) {
		if (!accept_word(lx, "BY"))
			return fail(err, errlen, "ORDER: expected BY", lx);
		if (ident(lx, st->order_col, "ORDER BY: expected a column name",
			  err, errlen))
			return -1;
		st->has_order = true;
		if (accept_word(lx, "DESC"))
			st->desc = true;
		else
			accept_word(lx, "ASC");
	}
	if (accept_word(lx, "LIMIT")) {
		uint64_t a, b;
		if (number(lx, &a, "LIMIT: expected a number", err, errlen))
			return -1;
		st->has_limit = true;
		st->limit = a;
		if (is_punct(lx, ",")) {
			next(lx);
			if (number(lx, &b, "LIMIT: expected a row count after ','",
				   err, errlen))
				return -1;
			st->offset = a;
			st->limit = b;
		} else if (accept_word(lx, "OFFSET")) {
			if (number(lx, &b, "OFFSET: expected a number", err, errlen))
				return -1;
			st->offset = b;
		}
	}
	return at_end(lx, err, errlen);
}

int admin_parse(const char *sql, size_t len, struct admin_stmt *st, char *err,
		size_t errlen)
{
	struct lexer lx = {sql, sql + len, {0}, false};

	memset(st, 0, sizeof(*st));
	for (struct lexer probe = lx;;) {
		next(&probe);
		if (probe.bad) {
			snprintf(err, errlen, "myring admin: unterminated quoted "
				 "string or identifier");
			return -1;
		}
		if (probe.t.kind == T_END)
			break;
	}
	next(&lx);
	if (accept_word(&lx, "SHOW")) {
		if (accept_word(&lx, "STATS") || accept_word(&lx, "STATUS"))
			st->kind = ADMIN_SHOW_STATS;
		else if (accept_word(&lx, "CONFIG"))
			st->kind = ADMIN_SHOW_CONFIG;
		else if (accept_word(&lx, "DATABASES") || accept_word(&lx, "SCHEMAS"))
			st->kind = ADMIN_SHOW_DATABASES;
		else if (accept_word(&lx, "TABLES")) {
			st->kind = ADMIN_SHOW_TABLES;
			if (accept_word(&lx, "FROM") || accept_word(&lx, "IN")) {
				char db[ADMIN_NAME_MAX];
				if (ident(&lx, db, "SHOW TABLES FROM: expected a database",
					  err, errlen))
					return -1;
			}
		} else {
			return fail(err, errlen, "SHOW: expected STATS, CONFIG, TABLES "
				    "or DATABASES", &lx);
		}
		return at_end(&lx, err, errlen);
	}
	if (accept_word(&lx, "RELOAD")) {
		if (!accept_word(&lx, "CONFIG"))
			return fail(err, errlen, "RELOAD: expected CONFIG", &lx);
		st->kind = ADMIN_RELOAD_CONFIG;
		return at_end(&lx, err, errlen);
	}
	if (accept_word(&lx, "RESET")) {
		if (!accept_word(&lx, "STATS"))
			return fail(err, errlen, "RESET: expected STATS", &lx);
		st->kind = ADMIN_RESET_STATS;
		return at_end(&lx, err, errlen);
	}
	if (accept_word(&lx, "SELECT"))
		return parse_select(&lx, sql, len, st, err, errlen);
	if (is_word(&lx, "SET") || is_word(&lx, "USE") || is_word(&lx, "BEGIN") ||
	    is_word(&lx, "COMMIT") || is_word(&lx, "ROLLBACK") ||
	    is_word(&lx, "START")) {
		st->kind = ADMIN_NOOP;
		return 0;
	}
	snprintf(err, errlen, "myring admin: unsupported statement; " SUPPORTED);
	return -1;
}

/* ---- the engine ------------------------------------------------------------ */

bool admin_like(const char *s, size_t n, const char *pat)
{
	/* Iterative with one backtrack point: linear for one '%'. */
	size_t i = 0, star_s = SIZE_MAX;
	const char *p = pat, *star_p = NULL;

	while (i < n) {
		if (*p == '%') {
			star_p = ++p;
			star_s = i;
		} else if (*p && (*p == '_' || tolower((unsigned char)*p) ==
				  tolower((unsigned char)s[i]))) {
			p++;
			i++;
		} else if (star_p) {
			p = star_p;
			i = ++star_s;
		} else {
			return false;
		}
	}
	while (*p == '%')
		p++;
	return *p == '\0';
}

static int find_col(const struct admin_table *t, const char *name)
{
	for (unsigned c = 0; c < t->ncols; c++)
		if (!strcasecmp(t->names[c], name))
			return (int)c;
	return -1;
}

static int unknown_col(const struct admin_table *t, const char *name,
		       const char *where, char *err, size_t errlen,
		       uint16_t *code)
{
	int n = snprintf(err, errlen, "Unknown column '%s' in '%s'; columns:",
			 name, where);

	for (unsigned c = 0; c < t->ncols && n > 0 && (size_t)n < errlen; c++)
		n += snprintf(err + n, errlen - (size_t)n, "%s %s",
			      c ? "," : "", t->names[c]);
	*code = 1054;
	return -1;
}

static double as_double(const struct admin_value *v, enum admin_col_type ty)
{
	switch (ty) {
	case ADMIN_COL_INT:
		return (double)v->i;
	case ADMIN_COL_UINT:
		return (double)v->u;
	case ADMIN_COL_DOUBLE:
		return v->d;
	default:
		return strtod(v->s ? v->s : "", NULL);
	}
}

static int cmp_text(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;
	int c = strncasecmp(a, b, n);
	return c ? c : (an > bn) - (an < bn);
}

static int cmp_values(const struct admin_value *a, const struct admin_value *b,
		      enum admin_col_type ty)
{
	if (a->null || b->null)
		return b->null - a->null;       /* NULL first */
	switch (ty) {
	case ADMIN_COL_INT:
		return (a->i > b->i) - (a->i < b->i);
	case ADMIN_COL_UINT:
		return (a->u > b->u) - (a->u < b->u);
	case ADMIN_COL_DOUBLE:
		return (a->d > b->d) - (a->d < b->d);
	default:
		return cmp_text(a->s, a->len, b->s, b->len);
	}
}

static bool where_holds(const struct admin_table *t, size_t row, int col,
			const struct admin_stmt *st)
{
	const struct admin_value *v = &t->cells[row * t->ncols + (unsigned)col];
	enum admin_col_type ty = t->types[col];
	int c;

	if (v->null)
		return false;
	if (st->where_op == AOP_LIKE) {
		char buf[64];
		if (ty == ADMIN_COL_TEXT)
			return admin_like(v->s, v->len, st->where_val);
		int n = ty == ADMIN_COL_INT ? snprintf(buf, sizeof(buf), "%" PRId64, v->i) :
			ty == ADMIN_COL_UINT ? snprintf(buf, sizeof(buf), "%" PRIu64, v->u) :
			snprintf(buf, sizeof(buf), "%g", v->d);
		return admin_like(buf, (size_t)n, st->where_val);
	}
	if (ty == ADMIN_COL_TEXT && st->where_is_string) {
		c = cmp_text(v->s, v->len, st->where_val, strlen(st->where_val));
	} else {
		double a = as_double(v, ty), b = strtod(st->where_val, NULL);
		c = (a > b) - (a < b);
	}
	switch (st->where_op) {
	case AOP_EQ: return c == 0;
	case AOP_NE: return c != 0;
	case AOP_LT: return c < 0;
	case AOP_LE: return c <= 0;
	case AOP_GT: return c > 0;
	case AOP_GE: return c >= 0;
	default: return false;
	}
}

struct sort_ctx {
	const struct admin_table *t;
	unsigned col;
	bool desc;
};

static int cmp_rows(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *sc = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;
	int c = cmp_values(&sc->t->cells[a * sc->t->ncols + sc->col],
			   &sc->t->cells[b * sc->t->ncols + sc->col],
			   sc->t->types[sc->col]);

	if (sc->desc)
		c = -c;
	/* Stable: ties keep table order. */
	return c ? c : (a > b) - (a < b);
}

static enum srv_col_type srv_type(enum admin_col_type t)
{
	switch (t) {
	case ADMIN_COL_INT: return SRV_COL_INT;
	case ADMIN_COL_UINT: return SRV_COL_UINT;
	case ADMIN_COL_DOUBLE: return SRV_COL_DOUBLE;
	default: return SRV_COL_TEXT;
	}
}

int admin_select(const struct admin_table *t, const struct admin_stmt *st,
		 struct pkt_buf *out, uint64_t caps, char *err, size_t errlen,
		 uint16_t *code)
{
	unsigned proj[ADMIN_MAX_COLS + 64], nproj = 0;
	int where_col = -1, order_col = -1;
	size_t *rows, nrows = 0, first, last;

	*code = 0;
	if (!st || st->star) {
		for (unsigned c = 0; c < t->ncols && c < sizeof(proj) / sizeof(proj[0]); c++)
			proj[nproj++] = c;
	} else {
		for (unsigned i = 0; i < st->ncols; i++) {
			int c = find_col(t, st->cols[i]);
			if (c < 0)
				return unknown_col(t, st->cols[i], "field list", err,
						   errlen, code);
			proj[nproj++] = (unsigned)c;
		}
	}
	if (st && st->has_where &&
	    (where_col = find_col(t, st->where_col)) < 0)
		return unknown_col(t, st->where_col, "where clause", err, errlen,
				   code);
	if (st && st->has_order &&
	    (order_col = find_col(t, st->order_col)) < 0)
		return unknown_col(t, st->order_col, "order clause", err, errlen,
				   code);
	rows = malloc((t->nrows ? t->nrows : 1) * sizeof(*rows));
	if (!rows) {
		snprintf(err, errlen, "myring admin: out of memory");
		*code = 1105;
		return -1;
	}
	for (size_t r = 0; r < t->nrows; r++)
		if (where_col < 0 || where_holds(t, r, where_col, st))
			rows[nrows++] = r;
	if (order_col >= 0) {
		struct sort_ctx sc = {t, (unsigned)order_col, st->desc};
		qsort_r(rows, nrows, sizeof(*rows), cmp_rows, &sc);
	}
	first = st && st->offset < nrows ? (size_t)st->offset : st ? nrows : 0;
	last = st && st->has_limit && st->limit < nrows - first ?
	       first + (size_t)st->limit : nrows;
	if (!st)
		first = 0;

	srv_resultset_begin(out, nproj);
	for (unsigned i = 0; i < nproj; i++)
		srv_column(out, t->names[proj[i]], srv_type(t->types[proj[i]]),
			   caps);
	srv_columns_end(out, caps);
	for (size_t k = first; k < last; k++) {
		const char *cells[ADMIN_MAX_COLS + 64];
		size_t lens[ADMIN_MAX_COLS + 64];
		char nums[ADMIN_MAX_COLS + 64][32];

		for (unsigned i = 0; i < nproj; i++) {
			const struct admin_value *v =
				&t->cells[rows[k] * t->ncols + proj[i]];
			int n = 0;
			if (v->null) {
				cells[i] = NULL;
				lens[i] = 0;
				continue;
			}
			switch (t->types[proj[i]]) {
			case ADMIN_COL_TEXT:
				cells[i] = v->s ? v->s : "";
				lens[i] = v->s ? v->len : 0;
				continue;
			case ADMIN_COL_INT:
				n = snprintf(nums[i], sizeof(nums[i]), "%" PRId64, v->i);
				break;
			case ADMIN_COL_UINT:
				n = snprintf(nums[i], sizeof(nums[i]), "%" PRIu64, v->u);
				break;
			case ADMIN_COL_DOUBLE:
				n = snprintf(nums[i], sizeof(nums[i]), "%.6g", v->d);
				break;
			}
			cells[i] = nums[i];
			lens[i] = (size_t)n;
		}
		srv_row(out, cells, lens, nproj);
	}
	srv_resultset_end(out, caps, SERVER_STATUS_AUTOCOMMIT);
	free(rows);
	if (out->oom) {
		snprintf(err, errlen, "myring admin: out of memory");
		*code = 1105;
		return -1;
	}
	return 0;
}
