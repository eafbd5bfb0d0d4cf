/*
 * sql_ast.c - the syntax tree's memory (arena), an output buffer, and the
 * tree as an S-expression (see sql_ast.h).
 */
#include "sql_ast.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- arena ----------------------------------------------------------- */

struct sql_arena_block {
	struct sql_arena_block *prev;
	size_t size;                    /* bytes of data */
	_Alignas(16) char data[];
};

#define ARENA_MIN_BLOCK 8192

void sql_arena_init(struct sql_arena *a, size_t limit)
{
	memset(a, 0, sizeof(*a));
	a->limit = limit ? limit : SQL_ARENA_DEFAULT_LIMIT;
}

static void free_blocks(struct sql_arena_block *b)
{
	while (b) {
		struct sql_arena_block *prev = b->prev;

		free(b);
		b = prev;
	}
}

void sql_arena_reset(struct sql_arena *a)
{
	struct sql_arena_block *b = a->head;

	if (b && !b->prev) {
		/* One block held it all: keep it. */
		a->cur = b->data;
		a->used = 0;
		return;
	}
	/* Several: next time, one block of the size they took together. */
	if (a->used > a->keep)
		a->keep = a->used;
	free_blocks(b);
	a->head = NULL;
	a->cur = a->end = NULL;
	a->used = 0;
}

void sql_arena_free(struct sql_arena *a)
{
	size_t limit = a->limit;

	free_blocks(a->head);
	sql_arena_init(a, limit);
}

void *sql_arena_alloc(struct sql_arena *a, size_t n)
{
	struct sql_arena_block *b;
	size_t size;
	char *p;

	n = (n + 7) & ~(size_t)7;
	if (n > a->limit || a->used > a->limit - n)
		return NULL;
	if ((size_t)(a->end - a->cur) < n) {
		size = a->head ? a->head->size * 2 : ARENA_MIN_BLOCK;
		if (size < a->keep)
			size = a->keep;
		if (size < n)
			size = n;
		/* never more than the limit leaves (n fits, checked above) */
		if (size > a->limit - a->used)
			size = a->limit - a->used;
		b = malloc(sizeof(*b) + size);
		if (!b)
			return NULL;
		b->prev = a->head;
		b->size = size;
		a->head = b;
		a->cur = b->data;
		a->end = b->data + size;
	}
	p = a->cur;
	a->cur += n;
	a->used += n;
	memset(p, 0, n);
	return p;
}

const char *sql_arena_dup(struct sql_arena *a, const char *s, size_t n)
{
	char *p = sql_arena_alloc(a, n ? n : 1);

	if (p && n)
		memcpy(p, s, n);
	return p;
}

/* ---- output ---------------------------------------------------------- */

static bool buf_reserve(struct sql_buf *b, size_t n)
{
	size_t cap;
	char *nb;

	if (b->oom)
		return false;
	if (b->cap - b->len >= n)
		return true;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len < n) {
		if (cap > (size_t)-1 / 2) {
			b->oom = true;
			return false;
		}
		cap *= 2;
	}
	nb = realloc(b->buf, cap);
	if (!nb) {
		b->oom = true;
		return false;
	}
	b->buf = nb;
	b->cap = cap;
	return true;
}

void sql_buf_put(struct sql_buf *b, const void *s, size_t n)
{
	if (n && buf_reserve(b, n)) {
		memcpy(b->buf + b->len, s, n);
		b->len += n;
	}
}

void sql_buf_puts(struct sql_buf *b, const char *s)
{
	sql_buf_put(b, s, strlen(s));
}

void sql_buf_putc(struct sql_buf *b, char c)
{
	if (buf_reserve(b, 1))
		b->buf[b->len++] = c;
}

void sql_buf_free(struct sql_buf *b)
{
	free(b->buf);
	memset(b, 0, sizeof(*b));
}

unsigned sql_expr_count(const struct sql_expr *list)
{
	unsigned n = 0;

	for (; list; list = list->next)
		n++;
	return n;
}

/* ---- dump ------------------------------------------------------------ */

static void put_str(struct sql_buf *o, struct sql_str s)
{
	sql_buf_put(o, s.ptr, s.len);
}

/* A name bare when it is plain, else in back quotes. */
static void put_ident(struct sql_buf *o, struct sql_str s)
{
	bool plain = s.len > 0;

	for (size_t i = 0; i < s.len && plain; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
			(c >= '0' && c <= '9') || c == '_' || c == '$';
	}
	if (plain) {
		put_str(o, s);
		return;
	}
	sql_buf_putc(o, '`');
	for (size_t i = 0; i < s.len; i++) {
		if (s.ptr[i] == '`')
			sql_buf_putc(o, '`');
		sql_buf_putc(o, s.ptr[i]);
	}
	sql_buf_putc(o, '`');
}

/* A string value, C-escaped so that every byte shows. */
static void put_quoted(struct sql_buf *o, struct sql_str s)
{
	static const char hex[] = "0123456789abcdef";

	sql_buf_putc(o, '\'');
	for (size_t i = 0; i < s.len; i++) {
		unsigned char c = (unsigned char)s.ptr[i];

		if (c == '\'' || c == '\\') {
			sql_buf_putc(o, '\\');
			sql_buf_putc(o, (char)c);
		} else if (c < 0x20 || c >= 0x7f) {
			char x[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };

			sql_buf_put(o, x, 4);
		} else {
			sql_buf_putc(o, (char)c);
		}
	}
	sql_buf_putc(o, '\'');
}

static void put_qualified(struct sql_buf *o, struct sql_str a,
			  struct sql_str b)
{
	if (a.len) {
		put_ident(o, a);
		sql_buf_putc(o, '.');
	}
	put_ident(o, b);
}

static const char *const op_names[] = {
	[SQL_OP_NEG] = "neg", [SQL_OP_PLUS] = "plus", [SQL_OP_BITNOT] = "~",
	[SQL_OP_NOT] = "not", [SQL_OP_BINARY] = "binary",
	[SQL_OP_ADD] = "+", [SQL_OP_SUB] = "-", [SQL_OP_MUL] = "*",
	[SQL_OP_DIV] = "/", [SQL_OP_INTDIV] = "div", [SQL_OP_MOD] = "%",
	[SQL_OP_BITAND] = "&", [SQL_OP_BITOR] = "|", [SQL_OP_BITXOR] = "^",
	[SQL_OP_SHL] = "<<", [SQL_OP_SHR] = ">>",
	[SQL_OP_EQ] = "=", [SQL_OP_NULLEQ] = "<=>", [SQL_OP_NE] = "<>",
	[SQL_OP_LT] = "<", [SQL_OP_LE] = "<=", [SQL_OP_GT] = ">",
	[SQL_OP_GE] = ">=", [SQL_OP_JSON] = "->", [SQL_OP_JSON_TEXT] = "->>",
	[SQL_OP_AND] = "and", [SQL_OP_OR] = "or", [SQL_OP_XOR] = "xor",
	[SQL_OP_IS_NULL] = "null", [SQL_OP_IS_TRUE] = "true",
	[SQL_OP_IS_FALSE] = "false", [SQL_OP_IS_UNKNOWN] = "unknown",
	[SQL_OP_LIKE] = "like", [SQL_OP_REGEXP] = "regexp",
	[SQL_OP_SOUNDS_LIKE] = "sounds-like",
	[SQL_OP_MATCH_NATURAL] = "natural",
	[SQL_OP_MATCH_NATURAL_QE] = "natural-expansion",
	[SQL_OP_MATCH_BOOLEAN] = "boolean",
	[SQL_OP_MATCH_QE] = "expansion",
};

static const char *op_name(unsigned op)
{
	return op < sizeof(op_names) / sizeof(op_names[0]) && op_names[op] ?
	       op_names[op] : "?";
}

static const char *const sep_names[] = {
	[SQL_SEP_COMMA] = "", [SQL_SEP_FROM] = "from:", [SQL_SEP_FOR] = "for:",
	[SQL_SEP_IN] = "in:", [SQL_SEP_USING] = "using:", [SQL_SEP_AS] = "as:",
	[SQL_SEP_SPACE] = "_:",
};

static void dump_query(struct sql_buf *o, const struct sql_query *q);
static void dump_expr(struct sql_buf *o, const struct sql_expr *e);

static void dump_list(struct sql_buf *o, const struct sql_expr *e)
{
	for (; e; e = e->next) {
		sql_buf_putc(o, ' ');
		if (e->sep < sizeof(sep_names) / sizeof(sep_names[0]))
			sql_buf_puts(o, sep_names[e->sep]);
		dump_expr(o, e);
	}
}

static void dump_order(struct sql_buf *o, const char *tag,
		       const struct sql_order *ord)
{
	if (!ord)
		return;
	sql_buf_puts(o, " (");
	sql_buf_puts(o, tag);
	for (; ord; ord = ord->next) {
		sql_buf_puts(o, ord->desc ? " (desc " : " ");
		dump_expr(o, ord->expr);
		if (ord->desc)
			sql_buf_putc(o, ')');
	}
	sql_buf_putc(o, ')');
}

static void dump_names(struct sql_buf *o, const char *tag,
		       const struct sql_name *n)
{
	sql_buf_puts(o, " (");
	sql_buf_puts(o, tag);
	for (; n; n = n->next) {
		sql_buf_putc(o, ' ');
		put_ident(o, n->name);
	}
	sql_buf_putc(o, ')');
}

static void dump_literal(struct sql_buf *o, const struct sql_expr *e)
{
	if (e->charset.len) {
		sql_buf_putc(o, '_');
		put_str(o, e->charset);
		sql_buf_putc(o, ' ');
	}
	switch (e->op) {
	case SQL_LIT_INT:
	case SQL_LIT_DECIMAL:
	case SQL_LIT_FLOAT:
		if (e->flags & SQL_EF_NEG)
			sql_buf_putc(o, '-');
		put_str(o, e->text);
		break;
	case SQL_LIT_STRING:
		if (e->flags & SQL_EF_NATIONAL)
			sql_buf_putc(o, 'N');
		put_quoted(o, e->text);
		break;
	case SQL_LIT_HEX:
	case SQL_LIT_BIT:
		put_str(o, e->text);
		break;
	case SQL_LIT_NULL:
		sql_buf_puts(o, "null");
		break;
	case SQL_LIT_TRUE:
		sql_buf_puts(o, "true");
		break;
	case SQL_LIT_FALSE:
		sql_buf_puts(o, "false");
		break;
	case SQL_LIT_DATE:
	case SQL_LIT_TIME:
	case SQL_LIT_TIMESTAMP:
		sql_buf_puts(o, e->op == SQL_LIT_DATE ? "(date " :
				e->op == SQL_LIT_TIME ? "(time " :
				"(timestamp ");
		put_quoted(o, e->text);
		sql_buf_putc(o, ')');
		break;
	default:
		sql_buf_puts(o, "?lit");
	}
}

static void dump_expr(struct sql_buf *o, const struct sql_expr *e)
{
	char num[16];

	if (!e) {
		sql_buf_puts(o, "()");
		return;
	}
	switch (e->kind) {
	case SQL_E_COLUMN:
	case SQL_E_STAR:
		if (e->schema.len) {
			put_ident(o, e->schema);
			sql_buf_putc(o, '.');
		}
		if (e->table.len) {
			put_ident(o, e->table);
			sql_buf_putc(o, '.');
		}
		if (e->kind == SQL_E_STAR)
			sql_buf_putc(o, '*');
		else
			put_ident(o, e->column);
		break;
	case SQL_E_LITERAL:
		dump_literal(o, e);
		break;
	case SQL_E_PARAM:
		snprintf(num, sizeof(num), "?%u", e->param);
		sql_buf_puts(o, num);
		break;
	case SQL_E_USERVAR:
		sql_buf_putc(o, '@');
		put_ident(o, e->name);
		break;
	case SQL_E_SYSVAR:
		sql_buf_puts(o, e->op == SQL_SCOPE_GLOBAL ? "@@global." :
				e->op == SQL_SCOPE_SESSION ? "@@session." :
				"@@");
		put_ident(o, e->name);
		break;
	case SQL_E_UNARY:
		sql_buf_putc(o, '(');
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ' ');
		dump_expr(o, e->left);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_BINARY:
		sql_buf_putc(o, '(');
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ' ');
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		dump_expr(o, e->right);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_LOGIC:
		sql_buf_putc(o, '(');
		sql_buf_puts(o, op_name(e->op));
		dump_list(o, e->args);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_IS:
		sql_buf_puts(o, e->flags & SQL_EF_NOT ? "(is-not " : "(is ");
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ')');
		break;
	case SQL_E_IN:
		sql_buf_puts(o, e->flags & SQL_EF_NOT ? "(not-in " : "(in ");
		dump_expr(o, e->left);
		if (e->query) {
			sql_buf_putc(o, ' ');
			dump_query(o, e->query);
		} else {
			dump_list(o, e->args);
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_BETWEEN:
		sql_buf_puts(o, e->flags & SQL_EF_NOT ? "(not-between " :
				"(between ");
		dump_expr(o, e->left);
		dump_list(o, e->args);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_LIKE:
		sql_buf_puts(o, e->flags & SQL_EF_NOT ? "(not-" : "(");
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ' ');
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		dump_expr(o, e->right);
		if (e->args) {
			sql_buf_puts(o, " (escape ");
			dump_expr(o, e->args);
			sql_buf_putc(o, ')');
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_QUANT:
		sql_buf_puts(o, e->flags & SQL_EF_ALL ? "(all " : "(any ");
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ' ');
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		dump_query(o, e->query);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_FUNC:
		sql_buf_puts(o, "(fn ");
		if (e->flags & SQL_EF_QUOTED) {
			if (e->fschema.len) {
				put_ident(o, e->fschema);
				sql_buf_putc(o, '.');
			}
			sql_buf_putc(o, '`');
			put_str(o, e->fname);
			sql_buf_putc(o, '`');
		} else {
			put_qualified(o, e->fschema, e->fname);
		}
		if (e->flags & SQL_EF_DISTINCT)
			sql_buf_puts(o, " distinct");
		dump_list(o, e->args);
		dump_order(o, "order", e->forder);
		if (e->separator) {
			sql_buf_puts(o, " (separator ");
			dump_expr(o, e->separator);
			sql_buf_putc(o, ')');
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_CASE:
		sql_buf_puts(o, "(case");
		if (e->left) {
			sql_buf_putc(o, ' ');
			dump_expr(o, e->left);
		}
		for (const struct sql_expr *w = e->args; w && w->next;
		     w = w->next->next) {
			sql_buf_puts(o, " (when ");
			dump_expr(o, w);
			sql_buf_putc(o, ' ');
			dump_expr(o, w->next);
			sql_buf_putc(o, ')');
		}
		if (e->right) {
			sql_buf_puts(o, " (else ");
			dump_expr(o, e->right);
			sql_buf_putc(o, ')');
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_TYPE:
		sql_buf_puts(o, "(type ");
		put_str(o, e->tname);
		if (e->tlen.len) {
			sql_buf_putc(o, '(');
			put_str(o, e->tlen);
			if (e->tscale.len) {
				sql_buf_putc(o, ',');
				put_str(o, e->tscale);
			}
			sql_buf_putc(o, ')');
		}
		if (e->tcharset.len) {
			sql_buf_puts(o, " charset:");
			put_ident(o, e->tcharset);
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_INTERVAL:
		sql_buf_puts(o, "(interval ");
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		put_str(o, e->name);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_COLLATE:
		sql_buf_puts(o, "(collate ");
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		put_ident(o, e->name);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_SUBQUERY:
	case SQL_E_EXISTS:
		sql_buf_puts(o, e->kind == SQL_E_EXISTS ? "(exists " :
				"(subquery ");
		dump_query(o, e->query);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_ROW:
		sql_buf_puts(o, "(row");
		dump_list(o, e->args);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_ASSIGN:
		sql_buf_puts(o, "(:= @");
		put_ident(o, e->name);
		sql_buf_putc(o, ' ');
		dump_expr(o, e->left);
		sql_buf_putc(o, ')');
		break;
	case SQL_E_DEFAULT:
		sql_buf_puts(o, "default");
		break;
	case SQL_E_KEYWORD:
		sql_buf_puts(o, "(kw ");
		if (e->flags & SQL_EF_QUOTED) {
			sql_buf_putc(o, '`');
			put_str(o, e->name);
			sql_buf_putc(o, '`');
		} else {
			put_str(o, e->name);
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_E_MATCH:
		sql_buf_puts(o, "(match (");
		for (const struct sql_expr *c = e->args; c; c = c->next) {
			dump_expr(o, c);
			if (c->next)
				sql_buf_putc(o, ' ');
		}
		sql_buf_puts(o, ") ");
		dump_expr(o, e->left);
		sql_buf_putc(o, ' ');
		sql_buf_puts(o, op_name(e->op));
		sql_buf_putc(o, ')');
		break;
	default:
		sql_buf_puts(o, "(?)");
	}
}

void sql_dump_expr(struct sql_buf *out, const struct sql_expr *e)
{
	dump_expr(out, e);
}

static void dump_hints(struct sql_buf *o, const struct sql_index_hint *h)
{
	static const char *const kinds[] = {
		[SQL_HINT_USE] = "use-index", [SQL_HINT_FORCE] = "force-index",
		[SQL_HINT_IGNORE] = "ignore-index",
	};
	static const char *const scopes[] = {
		[SQL_HINT_ANY] = "", [SQL_HINT_JOIN] = " for-join",
		[SQL_HINT_ORDER_BY] = " for-order-by",
		[SQL_HINT_GROUP_BY] = " for-group-by",
	};

	for (; h; h = h->next) {
		sql_buf_puts(o, " (");
		sql_buf_puts(o, h->kind < 4 && kinds[h->kind] ? kinds[h->kind] :
				"?");
		sql_buf_puts(o, h->scope < 4 ? scopes[h->scope] : "?");
		for (const struct sql_name *n = h->names; n; n = n->next) {
			sql_buf_putc(o, ' ');
			put_ident(o, n->name);
		}
		sql_buf_putc(o, ')');
	}
}

static void dump_from(struct sql_buf *o, const struct sql_from *f)
{
	static const char *const joins[] = {
		[SQL_JOIN_INNER] = "join", [SQL_JOIN_LEFT] = "left-join",
		[SQL_JOIN_RIGHT] = "right-join",
		[SQL_JOIN_STRAIGHT] = "straight-join",
	};

	switch (f->kind) {
	case SQL_FROM_TABLE:
		if (!f->alias.len && !f->hints && !f->star) {
			put_qualified(o, f->schema, f->name);
			break;
		}
		sql_buf_puts(o, "(table ");
		put_qualified(o, f->schema, f->name);
		if (f->star)
			sql_buf_puts(o, ".*");
		if (f->alias.len) {
			sql_buf_puts(o, " (as ");
			put_ident(o, f->alias);
			sql_buf_putc(o, ')');
		}
		dump_hints(o, f->hints);
		sql_buf_putc(o, ')');
		break;
	case SQL_FROM_DERIVED:
		sql_buf_puts(o, "(derived ");
		dump_query(o, f->query);
		if (f->alias.len) {
			sql_buf_puts(o, " (as ");
			put_ident(o, f->alias);
			sql_buf_putc(o, ')');
		}
		if (f->columns)
			dump_names(o, "cols", f->columns);
		sql_buf_putc(o, ')');
		break;
	case SQL_FROM_JOIN:
		sql_buf_putc(o, '(');
		if (f->natural)
			sql_buf_puts(o, "natural-");
		sql_buf_puts(o, f->join < 5 && joins[f->join] ? joins[f->join] :
				"?join");
		sql_buf_putc(o, ' ');
		dump_from(o, f->left);
		sql_buf_putc(o, ' ');
		dump_from(o, f->right);
		if (f->on) {
			sql_buf_puts(o, " (on ");
			dump_expr(o, f->on);
			sql_buf_putc(o, ')');
		}
		if (f->using_cols)
			dump_names(o, "using", f->using_cols);
		sql_buf_putc(o, ')');
		break;
	case SQL_FROM_NEST:
		sql_buf_puts(o, "(nest");
		for (const struct sql_from *n = f->list; n; n = n->next) {
			sql_buf_putc(o, ' ');
			dump_from(o, n);
		}
		sql_buf_putc(o, ')');
		break;
	default:
		sql_buf_puts(o, "(?from)");
	}
}

static void dump_from_list(struct sql_buf *o, const char *tag,
			   const struct sql_from *f)
{
	sql_buf_puts(o, " (");
	sql_buf_puts(o, tag);
	for (; f; f = f->next) {
		sql_buf_putc(o, ' ');
		dump_from(o, f);
	}
	sql_buf_putc(o, ')');
}

static void dump_tagged(struct sql_buf *o, const char *tag,
			const struct sql_expr *e)
{
	if (!e)
		return;
	sql_buf_puts(o, " (");
	sql_buf_puts(o, tag);
	sql_buf_putc(o, ' ');
	dump_expr(o, e);
	sql_buf_putc(o, ')');
}

static void dump_query(struct sql_buf *o, const struct sql_query *q)
{
	static const struct {
		unsigned flag;
		const char *name;
	} options[] = {
		{ SQL_SEL_DISTINCT, " distinct" },
		{ SQL_SEL_HIGH_PRIORITY, " high-priority" },
		{ SQL_SEL_STRAIGHT_JOIN, " straight-join" },
		{ SQL_SEL_SMALL_RESULT, " small-result" },
		{ SQL_SEL_BIG_RESULT, " big-result" },
		{ SQL_SEL_BUFFER_RESULT, " buffer-result" },
		{ SQL_SEL_CACHE, " cache" },
		{ SQL_SEL_NO_CACHE, " no-cache" },
		{ SQL_SEL_CALC_FOUND_ROWS, " calc-found-rows" },
	};
	static const char *const locks[] = {
		[SQL_LOCK_UPDATE] = "update", [SQL_LOCK_SHARE] = "share",
		[SQL_LOCK_SHARE_MODE] = "share-mode",
	};

	if (!q) {
		sql_buf_puts(o, "()");
		return;
	}
	switch (q->kind) {
	case SQL_Q_SELECT:
		sql_buf_puts(o, "(select");
		break;
	case SQL_Q_UNION:
		sql_buf_puts(o, q->all ? "(union-all" : "(union");
		break;
	case SQL_Q_EXCEPT:
		sql_buf_puts(o, q->all ? "(except-all" : "(except");
		break;
	case SQL_Q_INTERSECT:
		sql_buf_puts(o, q->all ? "(intersect-all" : "(intersect");
		break;
	case SQL_Q_PAREN:
		sql_buf_puts(o, "(paren");
		break;
	default:
		sql_buf_puts(o, "(?query");
	}
	if (q->with) {
		sql_buf_puts(o, q->recursive ? " (with-recursive" : " (with");
		for (const struct sql_cte *c = q->with; c; c = c->next) {
			sql_buf_puts(o, " (");
			put_ident(o, c->name);
			if (c->columns)
				dump_names(o, "cols", c->columns);
			sql_buf_putc(o, ' ');
			dump_query(o, c->query);
			sql_buf_putc(o, ')');
		}
		sql_buf_putc(o, ')');
	}
	if (q->kind == SQL_Q_SELECT) {
		for (size_t i = 0; i < sizeof(options) / sizeof(options[0]);
		     i++)
			if (q->options & options[i].flag)
				sql_buf_puts(o, options[i].name);
		sql_buf_puts(o, " (items");
		for (const struct sql_item *it = q->items; it; it = it->next) {
			sql_buf_putc(o, ' ');
			if (it->alias.len)
				sql_buf_puts(o, "(as ");
			dump_expr(o, it->expr);
			if (it->alias.len) {
				sql_buf_putc(o, ' ');
				put_ident(o, it->alias);
				sql_buf_putc(o, ')');
			}
		}
		sql_buf_putc(o, ')');
		if (q->from)
			dump_from_list(o, "from", q->from);
		if (q->from_dual)
			sql_buf_puts(o, " (from dual)");
		dump_tagged(o, "where", q->where);
		dump_order(o, "group", q->group);
		dump_tagged(o, "having", q->having);
	} else {
		sql_buf_putc(o, ' ');
		dump_query(o, q->left);
		if (q->kind != SQL_Q_PAREN) {
			sql_buf_putc(o, ' ');
			dump_query(o, q->right);
		}
	}
	dump_order(o, "order", q->order);
	dump_tagged(o, "limit", q->limit);
	dump_tagged(o, "offset", q->offset);
	if (q->lock) {
		sql_buf_puts(o, " (lock ");
		sql_buf_puts(o, q->lock < 4 ? locks[q->lock] : "?");
		if (q->lock_wait == SQL_WAIT_NOWAIT)
			sql_buf_puts(o, " nowait");
		else if (q->lock_wait == SQL_WAIT_SKIP_LOCKED)
			sql_buf_puts(o, " skip-locked");
		else if (q->lock_wait == SQL_WAIT_SECONDS)
			dump_tagged(o, "wait", q->lock_wait_secs);
		sql_buf_putc(o, ')');
	}
	sql_buf_putc(o, ')');
}

static void dump_assigns(struct sql_buf *o, const char *tag,
			 const struct sql_assign *a)
{
	sql_buf_puts(o, " (");
	sql_buf_puts(o, tag);
	for (; a; a = a->next) {
		sql_buf_puts(o, " (= ");
		dump_expr(o, a->column);
		sql_buf_putc(o, ' ');
		dump_expr(o, a->value);
		sql_buf_putc(o, ')');
	}
	sql_buf_putc(o, ')');
}

static void dump_flags(struct sql_buf *o, unsigned flags,
		       const unsigned *bits, const char *const *names,
		       size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (flags & bits[i]) {
			sql_buf_putc(o, ' ');
			sql_buf_puts(o, names[i]);
		}
}

static void dump_insert(struct sql_buf *o, const struct sql_insert *in)
{
	static const unsigned bits[] = {
		SQL_INS_LOW_PRIORITY, SQL_INS_DELAYED, SQL_INS_HIGH_PRIORITY,
		SQL_INS_IGNORE,
	};
	static const char *const names[] = {
		"low-priority", "delayed", "high-priority", "ignore",
	};

	sql_buf_puts(o, in->flags & SQL_INS_REPLACE ? "(replace" : "(insert");
	dump_flags(o, in->flags, bits, names, 4);
	sql_buf_putc(o, ' ');
	put_qualified(o, in->schema, in->table);
	if (in->columns)
		dump_names(o, "cols", in->columns);
	if (in->rows) {
		sql_buf_puts(o, " (values");
		dump_list(o, in->rows);
		sql_buf_putc(o, ')');
	}
	if (in->set)
		dump_assigns(o, "set", in->set);
	if (in->query) {
		sql_buf_putc(o, ' ');
		dump_query(o, in->query);
	}
	if (in->update)
		dump_assigns(o, "on-duplicate", in->update);
	sql_buf_putc(o, ')');
}

static const unsigned dml_bits[] = {
	SQL_DML_LOW_PRIORITY, SQL_DML_QUICK, SQL_DML_IGNORE,
};
static const char *const dml_names[] = { "low-priority", "quick", "ignore" };

static void dump_set(struct sql_buf *o, const struct sql_set_item *s)
{
	static const char *const iso[] = {
		[SQL_ISO_READ_UNCOMMITTED] = " read-uncommitted",
		[SQL_ISO_READ_COMMITTED] = " read-committed",
		[SQL_ISO_REPEATABLE_READ] = " repeatable-read",
		[SQL_ISO_SERIALIZABLE] = " serializable",
	};
	static const char *const scopes[] = {
		[SQL_SCOPE_NONE] = "", [SQL_SCOPE_GLOBAL] = " global",
		[SQL_SCOPE_SESSION] = " session",
	};

	sql_buf_puts(o, "(set");
	for (; s; s = s->next) {
		const char *scope = s->scope < 3 ? scopes[s->scope] : " ?";

		switch (s->kind) {
		case SQL_SET_USER:
			sql_buf_puts(o, " (@");
			put_ident(o, s->name);
			sql_buf_putc(o, ' ');
			dump_expr(o, s->value);
			sql_buf_putc(o, ')');
			break;
		case SQL_SET_SYSVAR:
			sql_buf_puts(o, s->at_form ? " (@@var" : " (var");
			sql_buf_puts(o, scope);
			sql_buf_putc(o, ' ');
			put_ident(o, s->name);
			sql_buf_putc(o, ' ');
			dump_expr(o, s->value);
			sql_buf_putc(o, ')');
			break;
		case SQL_SET_NAMES:
		case SQL_SET_CHARSET:
			sql_buf_puts(o, s->kind == SQL_SET_NAMES ? " (names " :
					" (charset ");
			if (s->is_default)
				sql_buf_puts(o, "default");
			else
				put_ident(o, s->name);
			if (s->collation.len) {
				sql_buf_puts(o, " (collate ");
				put_ident(o, s->collation);
				sql_buf_putc(o, ')');
			}
			sql_buf_putc(o, ')');
			break;
		case SQL_SET_TRANSACTION:
			sql_buf_puts(o, " (transaction");
			sql_buf_puts(o, scope);
			if (s->isolation && s->isolation < 5)
				sql_buf_puts(o, iso[s->isolation]);
			if (s->access == SQL_ACCESS_READ_ONLY)
				sql_buf_puts(o, " read-only");
			else if (s->access == SQL_ACCESS_READ_WRITE)
				sql_buf_puts(o, " read-write");
			sql_buf_putc(o, ')');
			break;
		default:
			sql_buf_puts(o, " (?)");
		}
	}
	sql_buf_putc(o, ')');
}

void sql_dump(struct sql_buf *o, const struct sql_statement *st)
{
	static const unsigned txn_bits[] = {
		SQL_TXN_CONSISTENT_SNAPSHOT, SQL_TXN_READ_ONLY,
		SQL_TXN_READ_WRITE, SQL_TXN_CHAIN, SQL_TXN_NO_CHAIN,
		SQL_TXN_RELEASE, SQL_TXN_NO_RELEASE,
	};
	static const char *const txn_names[] = {
		"consistent-snapshot", "read-only", "read-write", "chain",
		"no-chain", "release", "no-release",
	};

	if (!st) {
		sql_buf_puts(o, "()");
		return;
	}
	switch (st->kind) {
	case SQL_ST_SELECT:
		dump_query(o, st->query);
		break;
	case SQL_ST_INSERT:
		dump_insert(o, st->insert);
		break;
	case SQL_ST_UPDATE:
		sql_buf_puts(o, st->update->multi ? "(update-multi" :
				"(update");
		dump_flags(o, st->update->flags, dml_bits, dml_names, 3);
		dump_from_list(o, "tables", st->update->tables);
		dump_assigns(o, "set", st->update->set);
		dump_tagged(o, "where", st->update->where);
		dump_order(o, "order", st->update->order);
		dump_tagged(o, "limit", st->update->limit);
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_DELETE:
		sql_buf_puts(o, st->del->form == SQL_DELETE_MULTI ?
				"(delete-multi" :
				st->del->form == SQL_DELETE_USING ?
				"(delete-using" : "(delete");
		dump_flags(o, st->del->flags, dml_bits, dml_names, 3);
		if (st->del->targets)
			dump_from_list(o, "targets", st->del->targets);
		dump_from_list(o, "tables", st->del->tables);
		dump_tagged(o, "where", st->del->where);
		dump_order(o, "order", st->del->order);
		dump_tagged(o, "limit", st->del->limit);
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_SET:
		dump_set(o, st->set);
		break;
	case SQL_ST_USE:
	case SQL_ST_SAVEPOINT:
	case SQL_ST_ROLLBACK_TO:
	case SQL_ST_RELEASE:
		sql_buf_puts(o, st->kind == SQL_ST_USE ? "(use " :
				st->kind == SQL_ST_SAVEPOINT ? "(savepoint " :
				st->kind == SQL_ST_ROLLBACK_TO ?
				"(rollback-to " : "(release-savepoint ");
		put_ident(o, st->name);
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_BEGIN:
	case SQL_ST_COMMIT:
	case SQL_ST_ROLLBACK:
		sql_buf_puts(o, st->kind == SQL_ST_BEGIN ? "(begin" :
				st->kind == SQL_ST_COMMIT ? "(commit" :
				"(rollback");
		dump_flags(o, st->txn, txn_bits, txn_names, 7);
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_SHOW:
		sql_buf_puts(o, "(show ");
		put_str(o, st->word);
		if (st->rest.len) {
			sql_buf_putc(o, ' ');
			put_quoted(o, st->rest);
		}
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_EXPLAIN:
		sql_buf_puts(o, st->shards ? "(explain-shards " : "(explain ");
		sql_dump(o, st->explained);
		sql_buf_putc(o, ')');
		break;
	case SQL_ST_OTHER:
		sql_buf_puts(o, "(other ");
		put_str(o, st->word);
		sql_buf_putc(o, ' ');
		put_quoted(o, st->text);
		sql_buf_putc(o, ')');
		break;
	default:
		sql_buf_puts(o, "(?statement)");
	}
}
