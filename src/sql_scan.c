/*
 * sql_scan.c - comments, quoted text and statement ends (see sql_scan.h).
 *
 * The rules follow MariaDB's lexer (sql_lex.cc), checked against MariaDB
 * 10.11, and MySQL 8's where they differ:
 *  - "#" and "-- " (a "--" before white space, a control byte or the end)
 *    comment to the end of the line; "/ *" to the first "* /", with no
 *    nesting; an unterminated comment runs to the end of the text.
 *  - "/ *!" and "/ *M!" open executable comments: unless a version rules
 *    it out their text is code and the first "* /" ends them (a plain
 *    comment inside is skipped as usual).  A version is 5 or 6 digits;
 *    MariaDB skips a comment whose version is above its own, and a "/ *!"
 *    one whose version is in 50700..99999 (MySQL 5.7+ syntax); MySQL skips
 *    one above its own and every "/ *M!".  A skipped executable comment
 *    may hold one level of "/ * * /" inside.
 *  - '..' and ".." are strings, `..` a name; a doubled quote stands for
 *    one; '\' escapes the next byte in strings unless a reading says not.
 *    In a multi-byte character set a lead byte and a valid trail byte are
 *    one character wherever they are (strings, names, identifiers).
 *  - ';' outside quotes and comments ends a statement.  A ';' inside an
 *    executable comment that is code ends one here too; the server reports
 *    a syntax error there instead, so splitting it is only stricter.
 * Comments and executable comments' markers become one space each, so the
 * tokens on both sides stay apart as they do for the server.
 *
 * Output never grows: every replaced span is at least one byte long and
 * becomes one byte.  So a reading that strips reserves, once, as many
 * bytes as the input has left, and never reallocates while it writes.
 */
#include "sql_scan.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

/* ---- lexical facts ------------------------------------------------- */

const unsigned char *sql_line_end(const unsigned char *p,
				  const unsigned char *end)
{
	const unsigned char *nl = memchr(p, '\n', (size_t)(end - p));

	return nl ? nl + 1 : end;
}

bool sql_is_dash_comment(const unsigned char *p, const unsigned char *end)
{
	return end - p >= 2 && p[0] == '-' && p[1] == '-' &&
	       (end - p == 2 || sql_is_space(p[2]));
}

const unsigned char *sql_comment_end(const unsigned char *p,
				     const unsigned char *end)
{
	while (p < end) {
		const unsigned char *star = memchr(p, '*', (size_t)(end - p));

		if (!star || star + 1 >= end)
			return end;
		if (star[1] == '/')
			return star + 2;
		p = star + 1;
	}
	return end;
}

const unsigned char *sql_quoted_end(const unsigned char *p,
				    const unsigned char *end, bool backslash)
{
	unsigned char q = *p++;

	while (p < end) {
		unsigned char c = *p++;

		if (c == '\\' && backslash) {
			if (p < end)
				p++;
		} else if (c == q) {
			if (p == end || *p != q)
				return p;
			p++;
		}
	}
	return end;
}

static bool is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}

void sql_open_comment(const unsigned char *p, const unsigned char *end,
		      struct sql_opener *o)
{
	const unsigned char *b;
	unsigned n = 0;

	memset(o, 0, sizeof(*o));
	o->kind = SQL_OPEN_COMMENT;
	if (end - p >= 3 && p[2] == '+') {
		o->kind = SQL_OPEN_HINT;
		return;
	}
	if (end - p >= 3 && p[2] == '!') {
		b = p + 3;
	} else if (end - p >= 4 && p[2] == 'M' && p[3] == '!') {
		b = p + 4;
		o->mariadb = true;
	} else {
		return;
	}
	o->kind = SQL_OPEN_EXEC;
	while (n < 6 && b + n < end && is_digit(b[n]))
		n++;
	if (n >= 5) {
		for (unsigned i = 0; i < n; i++)
			o->version = o->version * 10 + (uint32_t)(b[i] - '0');
		o->digits = (uint8_t)n;
		b += n;
	}
	o->body = b;
}

/* ---- one reading --------------------------------------------------- */

/* Per-scan findings that call for more readings. */
#define F_BS_SINGLE 0x1u   /* a '\' inside a '..' string */
#define F_BS_DOUBLE 0x2u   /* a '\' inside a ".." string */
#define F_MB        0x4u   /* a '\' in a string, or a '`' opening or in
			    * a name, right after a byte 0x81..0xfe */

/* Bytes that need a look in code; the rest is copied as it is. */
static const uint8_t code_stop[256] = {
	['\''] = 1, ['"'] = 1, ['`'] = 1, ['#'] = 1, ['-'] = 1, ['/'] = 1,
	['*'] = 1, [';'] = 1,
};

/* The same plus every possible lead byte of a multi-byte character. */
static const uint8_t code_stop_mb[256] = {
	['\''] = 1, ['"'] = 1, ['`'] = 1, ['#'] = 1, ['-'] = 1, ['/'] = 1,
	['*'] = 1, [';'] = 1, [0x81 ... 0xfe] = 1,
};

/* a and b form one character (ctype-gbk.c, ctype-big5.c, ctype-sjis.c,
 * ctype-cp932.c; gb18030's 4-byte characters hold no ASCII punctuation). */
static bool mb_pair(uint8_t cs, unsigned char a, unsigned char b)
{
	switch (cs) {
	case SQL_CS_GBK:
		return a >= 0x81 && a <= 0xfe &&
		       ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfe));
	case SQL_CS_BIG5:
		return a >= 0xa1 && a <= 0xf9 &&
		       ((b >= 0x40 && b <= 0x7e) || (b >= 0xa1 && b <= 0xfe));
	case SQL_CS_SJIS:
		return ((a >= 0x81 && a <= 0x9f) || (a >= 0xe0 && a <= 0xfc)) &&
		       ((b >= 0x40 && b <= 0x7e) || (b >= 0x80 && b <= 0xfc));
	default:
		return false;
	}
}

struct scan {
	struct sql_split *sp;
	const struct sql_reading *rd;
	const unsigned char *in, *end;
	const unsigned char *raw_start;  /* after the last ';' */
	/* Until the first comment the output is the input itself and the
	 * statement being read starts at stmt_in; from then on it is copied
	 * to sp->buf from obase, and the statement starts at stmt_out. */
	bool copying;
	const unsigned char *stmt_in;
	size_t obase, olen, stmt_out;
	bool in_exec;
	bool primary;
	unsigned count;                  /* statements found, empty ones not */
	unsigned reading;                /* its index: 0 is the primary */
	int err;
	/* Per earlier reading: where the comparison with it has got to.
	 * Last, and set only up to `reading`: the hot path is one reading. */
	unsigned cur[SQL_MAX_READINGS];
};

static int reserve_stmt(struct sql_split *sp)
{
	struct sql_stmt *n;
	unsigned cap;

	if (sp->n < sp->cap)
		return 0;
	cap = sp->cap ? sp->cap * 2 : 16;
	n = realloc(sp->stmts, cap * sizeof(*n));
	if (!n)
		return -1;
	sp->stmts = n;
	sp->cap = cap;
	return 0;
}

static const char *stmt_text(const struct sql_split *sp, const char *in,
			     const struct sql_stmt *st)
{
	return st->in_buf_ ? sp->buf + st->off_ : in + st->off_;
}

static void emit(struct scan *s, const unsigned char *from,
		 const unsigned char *to)
{
	if (s->copying && to > from) {
		memcpy(s->sp->buf + s->obase + s->olen, from, (size_t)(to - from));
		s->olen += (size_t)(to - from);
	}
}

/* Switches to copying at input position at. */
static bool start_copy(struct scan *s, const unsigned char *at)
{
	struct sql_split *sp = s->sp;
	size_t need = (size_t)(s->end - s->stmt_in);

	/* Readings whose texts differ all the way would need a copy of the
	 * command each; beyond a few, the command is not worth the memory. */
	if (sp->buf_len + need > SQL_MAX_COPIES * (size_t)(s->end - s->in) +
				 65536) {
		s->err = SQL_SPLIT_AMBIGUOUS;
		return false;
	}
	if (sp->buf_len + need > sp->buf_cap) {
		size_t cap = sp->buf_cap ? sp->buf_cap : 256;
		char *n;

		while (cap < sp->buf_len + need)
			cap *= 2;
		n = realloc(sp->buf, cap);
		if (!n) {
			s->err = SQL_SPLIT_NOMEM;
			return false;
		}
		sp->buf = n;
		sp->buf_cap = cap;
	}
	s->copying = true;
	s->obase = sp->buf_len;
	s->olen = 0;
	s->stmt_out = 0;
	emit(s, s->stmt_in, at);
	sp->stripped = true;
	return true;
}

/* Input [at, after) becomes one space: a comment or a marker. */
static const unsigned char *blank(struct scan *s, const unsigned char *at,
				  const unsigned char *after)
{
	if (!s->copying && !start_copy(s, at))
		return s->end;
	s->sp->buf[s->obase + s->olen++] = ' ';
	return after;
}

/* An earlier reading has this statement at the same position.  Each
 * reading's statements are in position order, so one cursor per earlier
 * reading only moves forward. */
static bool seen_before(struct scan *s, unsigned pos, const char *t,
			size_t len)
{
	struct sql_split *sp = s->sp;

	for (unsigned r = 0; r < s->reading; r++) {
		unsigned end = sp->first[r + 1];
		unsigned *c = &s->cur[r];

		if (*c < sp->first[r])
			*c = sp->first[r];
		while (*c < end && sp->stmts[*c].pos_ < pos)
			(*c)++;
		if (*c < end && sp->stmts[*c].pos_ == pos &&
		    sp->stmts[*c].len == len &&
		    !memcmp(stmt_text(sp, (const char *)s->in, &sp->stmts[*c]),
			    t, len))
			return true;
	}
	return false;
}

/* Adds a statement unless an earlier reading has it; true if added. */
static bool push_stmt(struct scan *s, bool in_buf, size_t off, size_t len,
		      const unsigned char *raw_end)
{
	struct sql_split *sp = s->sp;
	const char *base = in_buf ? sp->buf : (const char *)s->in;
	struct sql_stmt *st;
	unsigned pos = s->count++;

	if (s->count > 1)
		sp->multi = true;
	if (seen_before(s, pos, base + off, len))
		return false;
	if (reserve_stmt(sp)) {
		s->err = SQL_SPLIT_NOMEM;
		return false;
	}
	st = &sp->stmts[sp->n++];
	st->text = NULL;
	st->len = len;
	st->off_ = off;
	st->pos_ = pos;
	st->in_buf_ = in_buf;
	st->raw_start = (size_t)(s->raw_start - s->in);
	st->raw_end = (size_t)(raw_end - s->in);
	return true;
}

/* The statement ends at input position at: a ';', or the end. */
static void end_stmt(struct scan *s, const unsigned char *at)
{
	bool last = at == s->end;
	size_t start = s->stmt_out;
	const char *t;
	size_t off, len;

	if (s->copying) {
		off = s->obase + s->stmt_out;
		len = s->olen - s->stmt_out;
		t = s->sp->buf + off;
	} else {
		off = (size_t)(s->stmt_in - s->in);
		len = (size_t)(at - s->stmt_in);
		t = (const char *)s->stmt_in;
		if (!last)
			s->stmt_in = at + 1;
	}
	while (len && sql_is_space((unsigned char)t[0]))
		t++, off++, len--;
	while (len && sql_is_space((unsigned char)t[len - 1]))
		len--;
	/* The copy keeps only statements that were added: what another
	 * reading found already costs no memory twice. */
	if (!(len && push_stmt(s, s->copying, off, len, at)) && s->copying)
		s->olen = start;
	s->stmt_out = s->olen;
	if (!last)
		s->raw_start = at + 1;
}

static bool may_lead(unsigned char c)
{
	return c >= 0x81 && c <= 0xfe;
}

/*
 * p is at an opening quote.  Notes what calls for other readings: a '\'
 * in a string (other sql_modes), and a '\' in a string or a '`' in a name
 * right after a byte that may lead a multi-byte character (other
 * character sets).  A '\' or '`' elsewhere means the same in every
 * reading, and so does any byte inside a comment.
 */
static const unsigned char *quoted_in(const struct sql_reading *rd,
				      const unsigned char *p,
				      const unsigned char *end,
				      unsigned *flags)
{
	uint8_t cs = rd->charset;
	unsigned char q = *p++;
	bool backslash = q == '\'' ? rd->escapes != SQL_ESC_NONE :
			 q == '"' ? rd->escapes == SQL_ESC_ALL : false;
	unsigned bs_flag = q == '\'' ? F_BS_SINGLE : F_BS_DOUBLE;

	if (cs == SQL_CS_BYTE) {
		for (;;) {
			while (p < end && *p != q && *p != '\\')
				p++;
			if (p == end)
				return end;
			if (*p == '\\') {
				if (q == '`') {
					p++;
					continue;
				}
				*flags |= bs_flag |
					  (may_lead(p[-1]) ? F_MB : 0);
				p += backslash && p + 1 < end ? 2 : 1;
				continue;
			}
			if (q == '`' && may_lead(p[-1]))
				*flags |= F_MB;
			if (p + 1 == end || p[1] != q)
				return p + 1;
			p += 2;
		}
	}
	while (p < end) {
		unsigned char c = *p;

		if (may_lead(c) && p + 1 < end && mb_pair(cs, c, p[1])) {
			p += 2;
		} else if (c == q) {
			if (p + 1 == end || p[1] != q)
				return p + 1;
			p += 2;
		} else if (c == '\\' && q != '`') {
			*flags |= bs_flag;
			p += backslash && p + 1 < end ? 2 : 1;
		} else {
			p++;
		}
	}
	return end;
}

static const unsigned char *quoted(struct scan *s, const unsigned char *p)
{
	return quoted_in(s->rd, p, s->end, &s->sp->flags);
}

static bool is_hex(unsigned char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

const unsigned char *sql_number_end(const unsigned char *p,
				    const unsigned char *end,
				    enum sql_number *kind)
{
	const unsigned char *q = p;

	*kind = SQL_NUM_INT;
	if (end - p > 2 && p[0] == '0' && (p[1] == 'x' || p[1] == 'b')) {
		bool hex = p[1] == 'x';

		q = p + 2;
		while (q < end && (hex ? is_hex(*q) : (*q == '0' || *q == '1')))
			q++;
		if (q == p + 2)
			return p + 1;   /* "0x" alone: 0, then a word */
		*kind = hex ? SQL_NUM_HEX : SQL_NUM_BIT;
		return q;
	}
	while (q < end && is_digit(*q))
		q++;
	if (q < end && *q == '.') {
		*kind = SQL_NUM_DECIMAL;
		q++;
		while (q < end && is_digit(*q))
			q++;
	}
	if (q < end && (*q == 'e' || *q == 'E')) {
		const unsigned char *r = q + 1;

		if (r < end && (*r == '+' || *r == '-'))
			r++;
		if (r < end && is_digit(*r)) {
			while (r < end && is_digit(*r))
				r++;
			q = r;
			*kind = SQL_NUM_FLOAT;
		}
	}
	return q;
}

const unsigned char *sql_quoted_end_as(const unsigned char *p,
				       const unsigned char *end,
				       const struct sql_reading *rd)
{
	unsigned flags = 0;

	return quoted_in(rd, p, end, &flags);
}

unsigned sql_char_len(uint8_t cs, const unsigned char *p,
		      const unsigned char *end)
{
	return cs != SQL_CS_BYTE && p + 1 < end && mb_pair(cs, p[0], p[1]) ?
	       2 : 1;
}

/* MariaDB's and MySQL's consume_comment(lip, 1): p is just after "/ *";
 * one "/ * ... * /" inside is skipped whole. */
static const unsigned char *nested_comment_end(const unsigned char *p,
					       const unsigned char *end)
{
	while (p < end) {
		unsigned char c = *p++;

		if (c == '/' && p < end && *p == '*')
			p = sql_comment_end(p + 1, end);
		else if (c == '*' && p < end && *p == '/')
			return p + 1;
	}
	return end;
}

/* What a reading does with an executable comment. */
enum exec_fate {
	EXEC_CODE,          /* its text is code */
	EXEC_SKIP,          /* skipped; one "/ * * /" may be nested inside */
	EXEC_PLAIN,         /* a plain comment: MySQL's "/ *M!" */
};

static enum exec_fate exec_fate(const struct sql_reading *rd,
				uint32_t version, uint32_t version5,
				bool mariadb)
{
	switch (rd->server) {
	case SQL_SERVER_MARIADB:
		if (version > rd->version)
			return EXEC_SKIP;
		return mariadb || version < 50700 || version > 99999 ?
		       EXEC_CODE : EXEC_SKIP;
	case SQL_SERVER_MYSQL:
		if (mariadb)
			return EXEC_PLAIN;
		return version5 <= rd->version ? EXEC_CODE : EXEC_SKIP;
	default:
		return EXEC_CODE;
	}
}

const unsigned char *sql_comment_as(const unsigned char *p,
				    const unsigned char *end,
				    const struct sql_reading *rd, bool *code)
{
	struct sql_opener o;
	uint32_t version5;

	*code = false;
	sql_open_comment(p, end, &o);
	if (o.kind != SQL_OPEN_EXEC)
		return sql_comment_end(p + 2, end);
	/* as comment() below reads it */
	version5 = o.digits == 6 ? o.version / 10 : o.version;
	switch (exec_fate(rd, o.version, version5, o.mariadb)) {
	case EXEC_CODE:
		*code = true;
		return o.digits == 6 && rd->server == SQL_SERVER_MYSQL ?
		       o.body - 1 : o.body;
	case EXEC_PLAIN:
		return sql_comment_end(p + 2, end);
	default:
		return nested_comment_end(p + 2, end);
	}
}

static void add_class(struct scan *s, const struct sql_opener *o,
		      uint32_t version5)
{
	struct sql_split *sp = s->sp;

	for (unsigned i = 0; i < sp->nclasses; i++)
		if (sp->classes[i].version == o->version &&
		    sp->classes[i].version5 == version5 &&
		    sp->classes[i].mariadb == o->mariadb)
			return;
	if (sp->nclasses == SQL_MAX_CLASSES) {
		s->err = SQL_SPLIT_AMBIGUOUS;
		return;
	}
	sp->classes[sp->nclasses++] = (struct sql_vclass){
		o->version, version5, o->mariadb
	};
}

/* p is at "/ *". */
static const unsigned char *comment(struct scan *s, const unsigned char *p)
{
	const struct sql_reading *rd = s->rd;
	const unsigned char *end = s->end, *body;
	struct sql_opener o;
	uint32_t version5;

	sql_open_comment(p, end, &o);
	if (o.kind != SQL_OPEN_EXEC)
		return blank(s, p, sql_comment_end(p + 2, end));
	/* MySQL reads 5 digits; a sixth is code. */
	version5 = o.digits == 6 ? o.version / 10 : o.version;
	body = o.body;
	if (o.digits == 6 && rd->server == SQL_SERVER_MYSQL)
		body--;
	/* Only versions and "M!" make readings differ: a plain "/ *!" is
	 * code everywhere. */
	if (o.digits || o.mariadb)
		add_class(s, &o, version5);
	switch (exec_fate(rd, o.version, version5, o.mariadb)) {
	case EXEC_CODE:
		s->in_exec = true;
		return blank(s, p, body);
	case EXEC_PLAIN:
		return blank(s, p, sql_comment_end(p + 2, end));
	default:
		return blank(s, p, nested_comment_end(p + 2, end));
	}
}

static void scan_text(struct scan *s)
{
	const uint8_t *stop = s->rd->charset == SQL_CS_BYTE ? code_stop :
			      code_stop_mb;
	const unsigned char *p = s->in, *end = s->end, *q;

	while (p < end && !s->err) {
		for (q = p; q < end && !stop[*q]; q++)
			;
		emit(s, p, q);
		if (q == end)
			break;
		p = q;
		switch (*p) {
		case '`':
			if (p > s->in && may_lead(p[-1]))
				s->sp->flags |= F_MB;
			/* fall through */
		case '\'':
		case '"':
			q = quoted(s, p);
			emit(s, p, q);
			p = q;
			break;
		case '#':
			p = blank(s, p, sql_line_end(p + 1, end));
			break;
		case '-':
			if (sql_is_dash_comment(p, end)) {
				p = blank(s, p, sql_line_end(p + 2, end));
			} else {
				emit(s, p, p + 1);
				p++;
			}
			break;
		case '/':
			if (p + 1 < end && p[1] == '*') {
				p = comment(s, p);
			} else {
				emit(s, p, p + 1);
				p++;
			}
			break;
		case '*':
			if (s->in_exec && p + 1 < end && p[1] == '/') {
				s->in_exec = false;
				p = blank(s, p, p + 2);
			} else {
				emit(s, p, p + 1);
				p++;
			}
			break;
		case ';':
			end_stmt(s, p);
			p++;
			break;
		default:
			/* A possible lead byte (multi-byte readings only). */
			q = p + 1 < end && mb_pair(s->rd->charset, p[0], p[1]) ?
			    p + 2 : p + 1;
			emit(s, p, q);
			p = q;
			break;
		}
	}
	if (s->err)
		return;
	end_stmt(s, end);
	if (s->copying)
		s->sp->buf_len = s->obase + s->olen;
}

static int scan_reading(struct sql_split *sp, const char *sql, size_t len,
			const struct sql_reading *rd, bool primary)
{
	struct scan s;

	memset(&s, 0, offsetof(struct scan, cur));
	s.sp = sp;
	s.rd = rd;
	s.in = (const unsigned char *)sql;
	s.end = s.in + len;
	s.raw_start = s.in;
	s.stmt_in = s.in;
	s.primary = primary;
	s.reading = sp->readings;
	memset(s.cur, 0, s.reading * sizeof(s.cur[0]));
	sp->first[sp->readings++] = sp->n;
	scan_text(&s);
	if (!s.err && primary) {
		/* Always one statement, so that a rule sees an empty or
		 * comment-only command as the empty text. */
		if (!s.count) {
			s.raw_start = s.in;
			push_stmt(&s, false, 0, 0, s.end);
		}
		sp->nprimary = sp->n;
	}
	return s.err;
}

/* ---- every reading ------------------------------------------------- */

static void reset(struct sql_split *sp)
{
	sp->n = 0;
	sp->nprimary = 0;
	sp->readings = 0;
	sp->multi = false;
	sp->stripped = false;
	sp->buf_len = 0;
	sp->flags = 0;
	sp->nclasses = 0;
}

static int finish(struct sql_split *sp, const char *sql, int rc)
{
	if (rc) {
		sp->n = 0;
		sp->nprimary = 0;
		return rc;
	}
	for (unsigned i = 0; i < sp->n; i++)
		sp->stmts[i].text = stmt_text(sp, sql, &sp->stmts[i]);
	return SQL_SPLIT_OK;
}

/* Bits 2i, 2i + 1: what reading rd does with comments of class i. */
static uint64_t decisions(const struct sql_split *sp,
			  const struct sql_reading *rd)
{
	uint64_t bits = 0;

	for (unsigned i = 0; i < sp->nclasses; i++) {
		const struct sql_vclass *c = &sp->classes[i];

		bits |= (uint64_t)exec_fate(rd, c->version, c->version5,
					    c->mariadb) << (2 * i);
	}
	return bits;
}

/* Readings that agree on escapes, character set and what they do with
 * every kind of executable comment seen so far scan alike: each makes the
 * same decision at every step, and any comment one of them meets was
 * seen.  (A MySQL reading
 * keeps a sixth version digit as code where the others drop it: one
 * digit, which neither ends nor starts anything, is no reason to read the
 * text again.) */
static bool already_read(const struct sql_split *sp,
			 const struct sql_reading *done, unsigned ndone,
			 const struct sql_reading *rd)
{
	uint64_t want = decisions(sp, rd);

	for (unsigned i = 0; i < ndone; i++)
		if (done[i].escapes == rd->escapes &&
		    done[i].charset == rd->charset &&
		    decisions(sp, &done[i]) == want)
			return true;
	return false;
}

static bool escapes_matter(unsigned flags, uint8_t esc)
{
	switch (esc) {
	case SQL_ESC_SINGLE:
		return flags & F_BS_DOUBLE;
	case SQL_ESC_NONE:
		return flags & (F_BS_SINGLE | F_BS_DOUBLE);
	default:
		return true;
	}
}

/* The next reading not scanned yet, or false when every one that can
 * differ has been. */
static bool next_reading(const struct sql_split *sp,
			 const struct sql_reading *done, unsigned ndone,
			 struct sql_reading *rd)
{
	for (uint8_t esc = SQL_ESC_ALL; esc <= SQL_ESC_NONE; esc++) {
		if (!escapes_matter(sp->flags, esc))
			continue;
		for (uint8_t cs = SQL_CS_BYTE; cs <= SQL_CS_SJIS; cs++) {
			if (cs != SQL_CS_BYTE && !(sp->flags & F_MB))
				continue;
			for (uint8_t srv = SQL_SERVER_ANY;
			     srv <= SQL_SERVER_MYSQL; srv++) {
				/* Server versions: none, then each version
				 * seen, which is where decisions change. */
				for (unsigned v = 0; v <= sp->nclasses; v++) {
					const struct sql_vclass *c =
						&sp->classes[v ? v - 1 : 0];

					if (srv == SQL_SERVER_ANY && v)
						break;
					*rd = (struct sql_reading){
						esc, cs, srv,
						!v ? 0 : srv == SQL_SERVER_MYSQL ?
						c->version5 : c->version,
					};
					if (!already_read(sp, done, ndone, rd))
						return true;
				}
			}
		}
	}
	return false;
}

int sql_split(struct sql_split *sp, const char *sql, size_t len)
{
	static const struct sql_reading primary = {
		SQL_ESC_ALL, SQL_CS_BYTE, SQL_SERVER_ANY, 0
	};
	struct sql_reading done[SQL_MAX_READINGS], rd;
	unsigned ndone = 0;
	int rc;

	if (!sql)
		sql = "", len = 0;
	reset(sp);
	rc = scan_reading(sp, sql, len, &primary, true);
	if (rc)
		return finish(sp, sql, rc);
	if (!sp->flags && !sp->nclasses)
		return finish(sp, sql, SQL_SPLIT_OK);
	done[ndone++] = primary;
	/* Each scan may find more to vary (a string, a name or a comment
	 * that only this reading sees), so candidates are recomputed after
	 * each. */
	while (next_reading(sp, done, ndone, &rd)) {
		if (ndone == SQL_MAX_READINGS)
			return finish(sp, sql, SQL_SPLIT_AMBIGUOUS);
		done[ndone++] = rd;
		rc = scan_reading(sp, sql, len, &rd, false);
		if (rc)
			return finish(sp, sql, rc);
	}
	return finish(sp, sql, SQL_SPLIT_OK);
}

int sql_split_reading(struct sql_split *sp, const char *sql, size_t len,
		      const struct sql_reading *rd)
{
	if (!sql)
		sql = "", len = 0;
	reset(sp);
	return finish(sp, sql, scan_reading(sp, sql, len, rd, true));
}

void sql_split_shrink(struct sql_split *sp, size_t keep)
{
	if (sp->buf_cap > keep) {
		free(sp->buf);
		sp->buf = NULL;
		sp->buf_cap = 0;
		sp->buf_len = 0;
	}
	if (sp->cap * sizeof(*sp->stmts) > keep) {
		free(sp->stmts);
		sp->stmts = NULL;
		sp->cap = 0;
		sp->n = 0;
		sp->nprimary = 0;
	}
}

void sql_split_init(struct sql_split *sp)
{
	memset(sp, 0, sizeof(*sp));
}

void sql_split_free(struct sql_split *sp)
{
	free(sp->stmts);
	free(sp->buf);
	sql_split_init(sp);
}
