/*
 * sql_hint.c - routing hints in comments (see sql_hint.h).
 */
#include "sql_hint.h"

#include "sql_scan.h"

#include <stdbool.h>
#include <string.h>
#include <strings.h>

static bool word_is(const unsigned char *w, size_t n, const char *name)
{
	return n == strlen(name) && !strncasecmp((const char *)w, name, n);
}

/* The flags of one comment's text [p, end). */
static unsigned comment_hints(const unsigned char *p, const unsigned char *end)
{
	static const char tag[] = "myring:";
	unsigned flags = 0;

	while (p < end && sql_is_space(*p))
		p++;
	if ((size_t)(end - p) < sizeof(tag) - 1 ||
	    strncasecmp((const char *)p, tag, sizeof(tag) - 1))
		return 0;
	p += sizeof(tag) - 1;
	while (p < end) {
		const unsigned char *w;

		while (p < end && (sql_is_space(*p) || *p == ','))
			p++;
		w = p;
		while (p < end && !sql_is_space(*p) && *p != ',')
			p++;
		if (word_is(w, (size_t)(p - w), "primary"))
			flags |= SQL_HINT_PRIMARY;
		else if (word_is(w, (size_t)(p - w), "causal"))
			flags |= SQL_HINT_CAUSAL;
		else if (word_is(w, (size_t)(p - w), "no-causal"))
			flags |= SQL_HINT_NO_CAUSAL;
	}
	return flags;
}

/* Where a / * comment's text ends: before its "* /", or at the end of an
 * unterminated one. */
static const unsigned char *text_end(const unsigned char *body,
				     const unsigned char *after)
{
	if (after - body >= 2 && after[-2] == '*' && after[-1] == '/')
		return after - 2;
	return after;
}

unsigned sql_hints(const char *sql, size_t len)
{
	const unsigned char *p = (const unsigned char *)sql, *end = p + len;
	unsigned flags = 0;

	while (p < end) {
		const unsigned char *body, *after;

		switch (*p) {
		case '\'':
		case '"':
		case '`':
			p = sql_quoted_end(p, end, *p != '`');
			continue;
		case '#':
			body = p + 1;
			after = sql_line_end(body, end);
			flags |= comment_hints(body, after);
			p = after;
			continue;
		case '-':
			if (!sql_is_dash_comment(p, end))
				break;
			body = p + 2;
			after = sql_line_end(body, end);
			flags |= comment_hints(body, after);
			p = after;
			continue;
		case '/':
			if (end - p < 2 || p[1] != '*')
				break;
			body = p + 2;
			after = sql_comment_end(body, end);
			/* The server's own: optimizer hints, executable code. */
			if (body < end && *body != '+' && *body != '!' &&
			    !(end - body >= 2 && body[0] == 'M' && body[1] == '!'))
				flags |= comment_hints(body, text_end(body, after));
			p = after;
			continue;
		default:
			break;
		}
		p++;
	}
	return flags;
}
