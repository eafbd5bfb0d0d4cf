/*
 * sql_rewrite.c - replacing a built-in function call in SQL text (see
 * sql_rewrite.h).
 */
#include "sql_rewrite.h"

#include <string.h>
#include <strings.h>

struct out {
	char *buf;
	size_t cap, len;
};

static void emit(struct out *o, const void *p, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->buf + o->len, p, n < o->cap - o->len ? n : o->cap - o->len);
	o->len += n;
}

static bool ident_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$' || c >= 0x80;
}

/* p just after a name: past "( )" (spaces allowed), or NULL. */
static const unsigned char *empty_args(const unsigned char *p,
				       const unsigned char *end)
{
	while (p < end && sql_is_space(*p))
		p++;
	if (p == end || *p != '(')
		return NULL;
	p++;
	while (p < end && sql_is_space(*p))
		p++;
	return p < end && *p == ')' ? p + 1 : NULL;
}

/* The last byte written before the name that is not a space: '.' makes it
 * schema-qualified, '@' a user variable. */
static unsigned char before(const unsigned char *start, const unsigned char *p)
{
	while (p > start && sql_is_space(p[-1]))
		p--;
	return p > start ? p[-1] : 0;
}

static bool word_is(const unsigned char *p, const unsigned char *end,
		    const char *w)
{
	size_t n = strlen(w);

	return (size_t)(end - p) >= n && !strncasecmp((const char *)p, w, n) &&
	       (p + n == end || !ident_byte(p[n]));
}

/* Past white space and comments (not executable ones). */
static const unsigned char *skip_blank(const unsigned char *p,
				       const unsigned char *end)
{
	for (;;) {
		while (p < end && sql_is_space(*p))
			p++;
		if (p < end && *p == '#')
			p = sql_line_end(p + 1, end);
		else if (p < end && *p == '-' && sql_is_dash_comment(p, end))
			p = sql_line_end(p + 1, end);
		else if (p + 1 < end && p[0] == '/' && p[1] == '*' &&
			 (p + 2 >= end || p[2] != '!') &&
			 !(p + 3 < end && p[2] == 'M' && p[3] == '!'))
			p = sql_comment_end(p + 2, end);
		else
			return p;
	}
}

/* Whether the call ending at q is a whole item of a select list whose
 * name the client will see: the next thing ends the item. */
static bool ends_item(const unsigned char *q, const unsigned char *end)
{
	q = skip_blank(q, end);
	return q == end || *q == ',' || *q == ';' || word_is(q, end, "FROM") ||
	       word_is(q, end, "INTO") || word_is(q, end, "UNION") ||
	       word_is(q, end, "LIMIT") || word_is(q, end, "ORDER") ||
	       word_is(q, end, "GROUP") || word_is(q, end, "WHERE") ||
	       word_is(q, end, "HAVING") || word_is(q, end, "FOR");
}

/* `with` for the call at [p, q): with an alias of the call's own text when
 * it is a whole select item, so the column keeps its name. */
static void emit_call(struct out *o, const char *with, bool item,
		      const unsigned char *p, const unsigned char *q)
{
	emit(o, with, strlen(with));
	if (!item)
		return;
	emit(o, " AS `", 5);
	for (; p < q; p++) {
		emit(o, p, 1);
		if (*p == '`')
			emit(o, p, 1);
	}
	emit(o, "`", 1);
}

/* Where a select item starts: after SELECT (and its modifiers) or a
 * ',' of the outermost select list. */
struct items {
	unsigned depth;            /* parentheses open */
	bool in_list;              /* in the outermost SELECT's list */
	bool at_start;             /* the next thing starts an item */
};

static void saw_word(struct items *it, const unsigned char *p,
		     const unsigned char *end)
{
	if (it->depth)
		return;
	if (word_is(p, end, "SELECT")) {
		it->in_list = it->at_start = true;
		return;
	}
	if (it->at_start && (word_is(p, end, "DISTINCT") ||
			     word_is(p, end, "ALL") ||
			     word_is(p, end, "DISTINCTROW") ||
			     word_is(p, end, "SQL_NO_CACHE") ||
			     word_is(p, end, "SQL_CACHE") ||
			     word_is(p, end, "SQL_CALC_FOUND_ROWS") ||
			     word_is(p, end, "STRAIGHT_JOIN") ||
			     word_is(p, end, "HIGH_PRIORITY")))
		return;
	it->at_start = false;
	if (word_is(p, end, "FROM") || word_is(p, end, "INTO") ||
	    word_is(p, end, "WHERE") || word_is(p, end, "UNION") ||
	    word_is(p, end, "LIMIT") || word_is(p, end, "ORDER") ||
	    word_is(p, end, "GROUP") || word_is(p, end, "HAVING"))
		it->in_list = false;
}

static void saw_punct(struct items *it, unsigned char c)
{
	if (c == '(') {
		it->depth++;
	} else if (c == ')') {
		if (it->depth)
			it->depth--;
	} else if (c == ';') {
		it->in_list = false;
		it->depth = 0;
	}
	it->at_start = !it->depth && it->in_list && c == ',';
}

size_t sql_replace_call(const char *sql, size_t len,
			const struct sql_reading *rd, const char *func,
			const char *with, char *out, size_t cap,
			unsigned *count)
{
	const unsigned char *start = (const unsigned char *)sql, *p = start;
	const unsigned char *end = start + len;
	size_t flen = strlen(func);
	struct out o = {out, cap, 0};
	struct items it = {0};

	*count = 0;
	while (p < end) {
		const unsigned char *q = p, *call_end = NULL;
		unsigned char c = *p;
		bool name = false;

		if (c == '\'' || c == '"' || c == '`') {
			q = sql_quoted_end_as(p, end, rd);
			/* `func`() is the built-in function too. */
			name = c == '`' && (size_t)(q - p) == flen + 2 &&
			       !strncasecmp((const char *)p + 1, func, flen);
			if (!name)
				it.at_start = false;
		} else if (c == '#' ||
			   (c == '-' && sql_is_dash_comment(p, end))) {
			q = sql_line_end(p + 1, end);
		} else if (c == '/' && p + 1 < end && p[1] == '*') {
			struct sql_opener op;
			sql_open_comment(p, end, &op);
			/* Executable comments' code is scanned as code. */
			q = op.kind == SQL_OPEN_EXEC ? op.body :
			    sql_comment_end(p + 2, end);
		} else if (c == '@') {
			/* @name, @@name: variables, never calls. */
			q = p + 1;
			while (q < end && (*q == '@' || ident_byte(*q) ||
					   *q == '.'))
				q++;
			it.at_start = false;
		} else if (ident_byte(c)) {
			while (q < end && ident_byte(*q))
				q += sql_char_len(rd->charset, q, end);
			if (q > end)
				q = end;
			name = (size_t)(q - p) == flen &&
			       !strncasecmp((const char *)p, func, flen);
			if (!name)
				saw_word(&it, p, end);
		} else {
			q = p + sql_char_len(rd->charset, p, end);
			if (!sql_is_space(c))
				saw_punct(&it, c);
		}
		if (name && before(start, p) != '.' &&
		    (call_end = empty_args(q, end))) {
			emit_call(&o, with, it.at_start && ends_item(call_end, end),
				  p, call_end);
			(*count)++;
			it.at_start = false;
			p = call_end;
			continue;
		}
		if (name)
			it.at_start = false;
		if (q <= p)
			q = p + 1;
		if (q > end)
			q = end;
		emit(&o, p, (size_t)(q - p));
		p = q;
	}
	return o.len;
}
