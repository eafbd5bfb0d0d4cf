/*
 * sql_print.c - a syntax tree back to SQL (see sql_print.h).
 *
 * Parentheses: every expression node has a precedence (prec() below,
 * mirroring how sql_parse.c reads operators); an operand is wrapped when
 * its node binds looser than its place needs.  Operators are left
 * associative, so a right operand needs one level more than its
 * operator's.
 */
#include "sql_print.h"
#include "sql_parse.h"

#include <string.h>

struct printer {
	struct sql_buf *o;
	const struct sql_print_opts *opts;
	const struct sql_reading *rd;   /* NULL: any */
	bool inexact;
	bool too_deep;
	unsigned depth;                 /* nodes being printed */
};

enum prec {
	PR_LOWEST = 0,
	PR_ASSIGN,      /* @a := x */
	PR_OR,
	PR_XOR,
	PR_AND,
	PR_NOT,         /* NOT x */
	PR_ISBOOL,      /* x IS [NOT] TRUE | FALSE | UNKNOWN */
	PR_CMP,         /* comparisons, IS [NOT] NULL, ANY / ALL */
	PR_PRED,        /* IN, BETWEEN, LIKE, REGEXP, SOUNDS LIKE */
	PR_BITOR,
	PR_BITAND,
	PR_SHIFT,
	PR_ADD,
	PR_MUL,
	PR_BITXOR,
	PR_UNARY,       /* - + ~ BINARY */
	PR_COLLATE,
	PR_PRIMARY,
};

/*
 * The printer recurses over the tree.  A tree from the parser nests at
 * most SQL_PARSE_MAX_DEPTH levels; one built or rewritten by other code
 * might not, and past SQL_PRINT_MAX_DEPTH the result is
 * SQL_PRINT_TOO_DEEP rather than a stack overflow.
 */
static bool deeper(struct printer *p)
{
	if (p->depth >= SQL_PRINT_MAX_DEPTH) {
		p->too_deep = true;
		return false;
	}
	p->depth++;
	return true;
}

static void put(struct printer *p, const char *s)
{
	sql_buf_puts(p->o, s);
}

static void put_str(struct printer *p, struct sql_str s)
{
	sql_buf_put(p->o, s.ptr, s.len);
}

static void putc_(struct printer *p, char c)
{
	sql_buf_putc(p->o, c);
}

/* ---- names and literals ---------------------------------------------- */

static bool is_word_byte(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	       (c >= '0' && c <= '9') || c == '_' || c == '$';
}

static bool may_lead(unsigned char c)
{
	return c >= 0x81 && c <= 0xfe;
}

/* A name the lexer reads as one word that is no keyword. */
static bool plain_name(struct sql_str s)
{
	if (!s.len || (s.ptr[0] >= '0' && s.ptr[0] <= '9'))
		return false;
	for (size_t i = 0; i < s.len; i++)
		if (!is_word_byte((unsigned char)s.ptr[i]))
			return false;
	return !sql_is_keyword(s.ptr, s.len);
}

/* Bytes of the character at s[i]: 2 for a lead and trail byte of the
 * reading's multi-byte character set, else 1. */
static size_t char_len(const struct printer *p, struct sql_str s, size_t i)
{
	const unsigned char *u = (const unsigned char *)s.ptr;

	if (!p->rd || p->rd->charset == SQL_CS_BYTE || u[i] < 0x81)
		return 1;
	return sql_char_len(p->rd->charset, u + i, u + s.len);
}

/*
 * `name`, a '`' doubled.  In gbk, big5 and sjis a lead byte takes a '`'
 * after it for its trail byte: a name with a lone lead byte last (not a
 * valid name in such a character set) cannot be quoted for that reading,
 * nor without a reading when a lead byte comes before a '`' or last.
 */
static void quoted_name(struct printer *p, struct sql_str s)
{
	bool mb = p->rd && p->rd->charset != SQL_CS_BYTE;

	putc_(p, '`');
	for (size_t i = 0; i < s.len;) {
		size_t n = char_len(p, s, i);
		unsigned char c = (unsigned char)s.ptr[i];

		if (n == 1 && c == '`')
			putc_(p, '`');
		if (n == 1 && may_lead(c) && (mb || !p->rd) &&
		    (i + 1 == s.len || (!p->rd && s.ptr[i + 1] == '`')))
			p->inexact = true;
		sql_buf_put(p->o, s.ptr + i, n);
		i += n;
	}
	putc_(p, '`');
}

static void name(struct printer *p, struct sql_str s)
{
	if (plain_name(s))
		put_str(p, s);
	else
		quoted_name(p, s);
}

static void qualified(struct printer *p, struct sql_str a, struct sql_str b)
{
	if (a.len) {
		name(p, a);
		putc_(p, '.');
	}
	name(p, b);
}

/*
 * A string's value in single quotes (see sql_print.h).  For a known
 * reading with backslash escapes, the bytes mysql_real_escape_string()
 * escapes are escaped; without one, only a quote is touched, and a
 * backslash unless "\%" or "\_" follows (then the text is INEXACT).
 *
 * In gbk, big5 and sjis a byte that may lead a character takes a '\'
 * after it for its trail byte.  A lone one (the value holds it without a
 * valid trail byte after it) is followed by a control byte as it is, and
 * by a backslash only after the string is closed and a new part opened:
 * 'a' '\\' is one string to the server.
 */
static void string(struct printer *p, struct sql_str s)
{
	bool escapes = p->rd && p->rd->escapes != SQL_ESC_NONE;
	bool mb = p->rd && p->rd->charset != SQL_CS_BYTE;
	bool lone_lead = false;

	putc_(p, '\'');
	for (size_t i = 0; i < s.len;) {
		size_t n = char_len(p, s, i);
		char c = s.ptr[i];

		if (n > 1) {
			sql_buf_put(p->o, s.ptr + i, n);
			i += n;
			lone_lead = false;
			continue;
		}
		i++;
		if (c == '\'') {
			put(p, "''");
		} else if (c == '\\' && !p->rd) {
			/* \% and \_ read as written in every mode */
			if (i < s.len && (s.ptr[i] == '%' || s.ptr[i] == '_')) {
				putc_(p, c);
			} else {
				p->inexact = true;
				put(p, "\\\\");
			}
		} else if (!escapes) {
			putc_(p, c);
		} else if (c == '\\') {
			put(p, lone_lead ? "' '\\\\" : "\\\\");
		} else if (lone_lead) {
			putc_(p, c);
		} else if (c == '\0') {
			put(p, "\\0");
		} else if (c == '\n') {
			put(p, "\\n");
		} else if (c == '\r') {
			put(p, "\\r");
		} else if (c == 0x1a) {
			put(p, "\\Z");
		} else {
			putc_(p, c);
		}
		lone_lead = mb && may_lead((unsigned char)c);
	}
	putc_(p, '\'');
}

static void literal(struct printer *p, const struct sql_expr *e)
{
	bool intro = e->charset.len > 0;

	if (intro) {
		putc_(p, '_');
		put_str(p, e->charset);
		if (e->op != SQL_LIT_STRING)
			putc_(p, ' ');
	}
	switch (e->op) {
	case SQL_LIT_INT:
	case SQL_LIT_DECIMAL:
	case SQL_LIT_FLOAT:
		if (e->flags & SQL_EF_NEG)
			putc_(p, '-');
		put_str(p, e->text);
		break;
	case SQL_LIT_STRING:
		if (e->flags & SQL_EF_NATIONAL)
			putc_(p, 'N');
		string(p, e->text);
		break;
	case SQL_LIT_HEX:
	case SQL_LIT_BIT:
		put_str(p, e->text);
		break;
	case SQL_LIT_NULL:
		put(p, "NULL");
		break;
	case SQL_LIT_TRUE:
		put(p, "TRUE");
		break;
	case SQL_LIT_FALSE:
		put(p, "FALSE");
		break;
	case SQL_LIT_DATE:
	case SQL_LIT_TIME:
	case SQL_LIT_TIMESTAMP:
		put(p, e->op == SQL_LIT_DATE ? "DATE " :
		       e->op == SQL_LIT_TIME ? "TIME " : "TIMESTAMP ");
		string(p, e->text);
		break;
	}
}

/* @name: bare when the lexer reads it whole, else @`name`. */
static void user_var(struct printer *p, struct sql_str s)
{
	bool plain = s.len > 0;

	for (size_t i = 0; i < s.len && plain; i++)
		plain = is_word_byte((unsigned char)s.ptr[i]) ||
			s.ptr[i] == '.';
	putc_(p, '@');
	if (plain)
		put_str(p, s);
	else
		quoted_name(p, s);
}

/* ---- expressions ----------------------------------------------------- */

static void expr(struct printer *p, const struct sql_expr *e, unsigned min);
static void query(struct printer *p, const struct sql_query *q);
static void statement(struct printer *p,
		      const struct sql_statement *st);

static unsigned binary_prec(unsigned op)
{
	switch (op) {
	case SQL_OP_BITOR: return PR_BITOR;
	case SQL_OP_BITAND: return PR_BITAND;
	case SQL_OP_SHL: case SQL_OP_SHR: return PR_SHIFT;
	case SQL_OP_ADD: case SQL_OP_SUB: return PR_ADD;
	case SQL_OP_MUL: case SQL_OP_DIV: case SQL_OP_INTDIV:
	case SQL_OP_MOD: return PR_MUL;
	case SQL_OP_BITXOR: return PR_BITXOR;
	case SQL_OP_JSON: case SQL_OP_JSON_TEXT: return PR_PRIMARY;
	default: return PR_CMP;
	}
}

static unsigned prec(const struct sql_expr *e)
{
	switch (e->kind) {
	case SQL_E_ASSIGN:
		return PR_ASSIGN;
	case SQL_E_LOGIC:
		return e->op == SQL_OP_OR ? PR_OR : e->op == SQL_OP_XOR ?
		       PR_XOR : PR_AND;
	case SQL_E_UNARY:
		return e->op == SQL_OP_NOT ? PR_NOT : PR_UNARY;
	case SQL_E_IS:
		return e->op == SQL_OP_IS_NULL ? PR_CMP : PR_ISBOOL;
	case SQL_E_QUANT:
		return PR_CMP;
	case SQL_E_IN:
	case SQL_E_BETWEEN:
	case SQL_E_LIKE:
		return PR_PRED;
	case SQL_E_BINARY:
		return binary_prec(e->op);
	case SQL_E_COLLATE:
		return PR_COLLATE;
	default:
		return PR_PRIMARY;
	}
}

static const char *op_text(unsigned op)
{
	switch (op) {
	case SQL_OP_ADD: return " + ";
	case SQL_OP_SUB: return " - ";
	case SQL_OP_MUL: return " * ";
	case SQL_OP_DIV: return " / ";
	case SQL_OP_INTDIV: return " DIV ";
	case SQL_OP_MOD: return " % ";
	case SQL_OP_BITAND: return " & ";
	case SQL_OP_BITOR: return " | ";
	case SQL_OP_BITXOR: return " ^ ";
	case SQL_OP_SHL: return " << ";
	case SQL_OP_SHR: return " >> ";
	case SQL_OP_EQ: return " = ";
	case SQL_OP_NULLEQ: return " <=> ";
	case SQL_OP_NE: return " <> ";
	case SQL_OP_LT: return " < ";
	case SQL_OP_LE: return " <= ";
	case SQL_OP_GT: return " > ";
	case SQL_OP_GE: return " >= ";
	case SQL_OP_JSON: return "->";
	case SQL_OP_JSON_TEXT: return "->>";
	case SQL_OP_AND: return " AND ";
	case SQL_OP_OR: return " OR ";
	case SQL_OP_XOR: return " XOR ";
	default: return " ? ";
	}
}

static void list(struct printer *p, const struct sql_expr *e)
{
	for (; e; e = e->next) {
		expr(p, e, PR_LOWEST);
		if (e->next)
			put(p, ", ");
	}
}

static void order(struct printer *p, const struct sql_order *o)
{
	for (; o; o = o->next) {
		expr(p, o->expr, PR_LOWEST);
		if (o->desc)
			put(p, " DESC");
		if (o->next)
			put(p, ", ");
	}
}

static const char *const sep_text[] = {
	[SQL_SEP_COMMA] = ", ", [SQL_SEP_FROM] = " FROM ",
	[SQL_SEP_FOR] = " FOR ", [SQL_SEP_IN] = " IN ",
	[SQL_SEP_USING] = " USING ", [SQL_SEP_AS] = " AS ",
	[SQL_SEP_SPACE] = " ",
};

static void func(struct printer *p, const struct sql_expr *e)
{
	if (e->flags & SQL_EF_QUOTED) {
		if (e->fschema.len) {
			name(p, e->fschema);
			putc_(p, '.');
		}
		quoted_name(p, e->fname);
	} else if (e->fschema.len) {
		qualified(p, e->fschema, e->fname);
	} else {
		put_str(p, e->fname);   /* a word, as written */
	}
	putc_(p, '(');
	if (e->flags & SQL_EF_DISTINCT)
		put(p, "DISTINCT ");
	for (const struct sql_expr *a = e->args; a; a = a->next) {
		if (a != e->args)
			put(p, a->sep < sizeof(sep_text) / sizeof(sep_text[0]) ?
			       sep_text[a->sep] : ", ");
		/* POSITION(a IN b) reads a without IN */
		expr(p, a, a->next && a->next->sep == SQL_SEP_IN ? PR_UNARY :
			PR_LOWEST);
	}
	if (e->forder) {
		put(p, " ORDER BY ");
		order(p, e->forder);
	}
	if (e->separator) {
		put(p, " SEPARATOR ");
		expr(p, e->separator, PR_PRIMARY);
	}
	putc_(p, ')');
}

static void type(struct printer *p, const struct sql_expr *e)
{
	put_str(p, e->tname);
	if (e->tlen.len) {
		putc_(p, '(');
		put_str(p, e->tlen);
		if (e->tscale.len) {
			put(p, ", ");
			put_str(p, e->tscale);
		}
		putc_(p, ')');
	}
	if (e->tcharset.len) {
		put(p, " CHARACTER SET ");
		name(p, e->tcharset);
	}
}

/* A word standing for itself (DAY, LEADING, a character set): as
 * written, or quoted when it was (or was a string). */
static void keyword(struct printer *p, const struct sql_expr *e)
{
	if (e->flags & SQL_EF_QUOTED)
		quoted_name(p, e->name);
	else
		put_str(p, e->name);
}

static void unary(struct printer *p, const struct sql_expr *e)
{
	const struct sql_expr *x = e->left;

	switch (e->op) {
	case SQL_OP_NEG:
		putc_(p, '-');
		/* "--" would start a comment, "-1" is a literal */
		if (x && ((x->kind == SQL_E_LITERAL &&
			   (x->op == SQL_LIT_INT || x->op == SQL_LIT_DECIMAL ||
			    x->op == SQL_LIT_FLOAT)) ||
			  (x->kind == SQL_E_UNARY && x->op == SQL_OP_NEG))) {
			putc_(p, '(');
			expr(p, x, PR_LOWEST);
			putc_(p, ')');
			return;
		}
		break;
	case SQL_OP_PLUS:
		putc_(p, '+');
		break;
	case SQL_OP_BITNOT:
		putc_(p, '~');
		break;
	case SQL_OP_NOT:
		/* NOT (a = b) reads the same with HIGH_NOT_PRECEDENCE; NOT
		 * NOT a needs no parentheses either way */
		put(p, "NOT ");
		if (x && x->kind == SQL_E_UNARY && x->op == SQL_OP_NOT) {
			expr(p, x, PR_NOT);
			return;
		}
		break;
	case SQL_OP_BINARY:
		put(p, "BINARY ");
		break;
	}
	expr(p, x, PR_UNARY);
}

static void expr_node(struct printer *p, const struct sql_expr *e,
		      unsigned min)
{
	bool wrap;

	if (!e) {
		put(p, "NULL");
		return;
	}
	wrap = prec(e) < min;
	if (wrap)
		putc_(p, '(');
	switch (e->kind) {
	case SQL_E_COLUMN:
		if (e->schema.len) {
			name(p, e->schema);
			putc_(p, '.');
		}
		qualified(p, e->table, e->column);
		break;
	case SQL_E_STAR:
		if (e->schema.len) {
			name(p, e->schema);
			putc_(p, '.');
		}
		if (e->table.len) {
			name(p, e->table);
			putc_(p, '.');
		}
		putc_(p, '*');
		break;
	case SQL_E_LITERAL:
		literal(p, e);
		break;
	case SQL_E_PARAM:
		putc_(p, '?');
		break;
	case SQL_E_USERVAR:
		user_var(p, e->name);
		break;
	case SQL_E_SYSVAR:
		put(p, e->op == SQL_SCOPE_GLOBAL ? "@@GLOBAL." :
		       e->op == SQL_SCOPE_SESSION ? "@@SESSION." : "@@");
		name(p, e->name);
		break;
	case SQL_E_UNARY:
		unary(p, e);
		break;
	case SQL_E_BINARY:
		expr(p, e->left, binary_prec(e->op));
		put(p, op_text(e->op));
		expr(p, e->right, binary_prec(e->op) == PR_CMP ? PR_PRED :
			binary_prec(e->op) + 1);
		break;
	case SQL_E_LOGIC:
		for (const struct sql_expr *a = e->args; a; a = a->next) {
			expr(p, a, prec(e) + 1);
			if (a->next)
				put(p, op_text(e->op));
		}
		break;
	case SQL_E_IS:
		expr(p, e->left, PR_CMP);
		put(p, e->flags & SQL_EF_NOT ? " IS NOT " : " IS ");
		put(p, e->op == SQL_OP_IS_NULL ? "NULL" :
		       e->op == SQL_OP_IS_TRUE ? "TRUE" :
		       e->op == SQL_OP_IS_FALSE ? "FALSE" : "UNKNOWN");
		break;
	case SQL_E_IN:
		expr(p, e->left, PR_BITOR);
		put(p, e->flags & SQL_EF_NOT ? " NOT IN (" : " IN (");
		if (e->query)
			query(p, e->query);
		else
			list(p, e->args);
		putc_(p, ')');
		break;
	case SQL_E_BETWEEN:
		expr(p, e->left, PR_BITOR);
		put(p, e->flags & SQL_EF_NOT ? " NOT BETWEEN " : " BETWEEN ");
		expr(p, e->args, PR_BITOR);
		put(p, " AND ");
		expr(p, e->args ? e->args->next : NULL, PR_BITOR);
		break;
	case SQL_E_LIKE:
		expr(p, e->left, PR_BITOR);
		if (e->flags & SQL_EF_NOT)
			put(p, " NOT");
		put(p, e->op == SQL_OP_LIKE ? " LIKE " :
		       e->op == SQL_OP_REGEXP ? " REGEXP " : " SOUNDS LIKE ");
		/* MySQL reads a LIKE pattern as a simple expression */
		expr(p, e->right, e->op == SQL_OP_LIKE ? PR_UNARY : PR_BITOR);
		if (e->args) {
			put(p, " ESCAPE ");
			expr(p, e->args, PR_UNARY);
		}
		break;
	case SQL_E_QUANT:
		expr(p, e->left, PR_CMP);
		put(p, op_text(e->op));
		put(p, e->flags & SQL_EF_ALL ? "ALL (" : "ANY (");
		query(p, e->query);
		putc_(p, ')');
		break;
	case SQL_E_FUNC:
		func(p, e);
		break;
	case SQL_E_CASE:
		put(p, "CASE ");
		if (e->left) {
			expr(p, e->left, PR_LOWEST);
			putc_(p, ' ');
		}
		for (const struct sql_expr *w = e->args; w && w->next;
		     w = w->next->next) {
			put(p, "WHEN ");
			expr(p, w, PR_LOWEST);
			put(p, " THEN ");
			expr(p, w->next, PR_LOWEST);
			putc_(p, ' ');
		}
		if (e->right) {
			put(p, "ELSE ");
			expr(p, e->right, PR_LOWEST);
			putc_(p, ' ');
		}
		put(p, "END");
		break;
	case SQL_E_TYPE:
		type(p, e);
		break;
	case SQL_E_INTERVAL:
		put(p, "INTERVAL ");
		expr(p, e->left, PR_LOWEST);
		putc_(p, ' ');
		put_str(p, e->name);
		break;
	case SQL_E_COLLATE:
		expr(p, e->left, PR_COLLATE);
		put(p, " COLLATE ");
		name(p, e->name);
		break;
	case SQL_E_SUBQUERY:
	case SQL_E_EXISTS:
		put(p, e->kind == SQL_E_EXISTS ? "EXISTS (" : "(");
		query(p, e->query);
		putc_(p, ')');
		break;
	case SQL_E_ROW:
		put(p, sql_expr_count(e->args) < 2 ? "ROW(" : "(");
		list(p, e->args);
		putc_(p, ')');
		break;
	case SQL_E_ASSIGN:
		user_var(p, e->name);
		put(p, " := ");
		expr(p, e->left, PR_ASSIGN);
		break;
	case SQL_E_DEFAULT:
		put(p, "DEFAULT");
		break;
	case SQL_E_KEYWORD:
		keyword(p, e);
		break;
	case SQL_E_MATCH:
		put(p, "MATCH (");
		list(p, e->args);
		put(p, ") AGAINST (");
		expr(p, e->left, PR_UNARY);
		switch (e->op) {
		case SQL_OP_MATCH_NATURAL_QE:
			put(p, " IN NATURAL LANGUAGE MODE WITH QUERY EXPANSION");
			break;
		case SQL_OP_MATCH_BOOLEAN:
			put(p, " IN BOOLEAN MODE");
			break;
		case SQL_OP_MATCH_QE:
			put(p, " WITH QUERY EXPANSION");
			break;
		}
		putc_(p, ')');
		break;
	default:
		put(p, "NULL");
	}
	if (wrap)
		putc_(p, ')');
}

static void expr(struct printer *p, const struct sql_expr *e, unsigned min)
{
	if (!deeper(p))
		return;
	expr_node(p, e, min);
	p->depth--;
}

/* ---- queries --------------------------------------------------------- */

static void from_list(struct printer *p, const struct sql_from *f);
static void from(struct printer *p, const struct sql_from *f);

static void names(struct printer *p, const struct sql_name *n)
{
	putc_(p, '(');
	for (; n; n = n->next) {
		name(p, n->name);
		if (n->next)
			put(p, ", ");
	}
	putc_(p, ')');
}

static void hints(struct printer *p, const struct sql_index_hint *h)
{
	static const char *const kinds[] = {
		[SQL_HINT_USE] = " USE INDEX", [SQL_HINT_FORCE] = " FORCE INDEX",
		[SQL_HINT_IGNORE] = " IGNORE INDEX",
	};
	static const char *const scopes[] = {
		[SQL_HINT_ANY] = " ", [SQL_HINT_JOIN] = " FOR JOIN ",
		[SQL_HINT_ORDER_BY] = " FOR ORDER BY ",
		[SQL_HINT_GROUP_BY] = " FOR GROUP BY ",
	};

	for (; h; h = h->next) {
		put(p, h->kind <= SQL_HINT_IGNORE && h->kind ? kinds[h->kind] :
		       " USE INDEX");
		put(p, h->scope <= SQL_HINT_GROUP_BY ? scopes[h->scope] : " ");
		names(p, h->names);
	}
}

/* A join with no condition that MySQL would extend to the right: "a
 * JOIN b" followed by "JOIN c ON x" reads as a JOIN (b JOIN c ON x). */
static bool open_join(const struct sql_from *f)
{
	return f->kind == SQL_FROM_JOIN && !f->natural && !f->on &&
	       !f->using_cols && f->join != SQL_JOIN_STRAIGHT;
}

static void from_node(struct printer *p, const struct sql_from *f)
{
	switch (f->kind) {
	case SQL_FROM_TABLE:
		qualified(p, f->schema, f->name);
		if (f->alias.len) {
			put(p, " AS ");
			name(p, f->alias);
		}
		hints(p, f->hints);
		break;
	case SQL_FROM_DERIVED:
		putc_(p, '(');
		query(p, f->query);
		putc_(p, ')');
		if (f->alias.len) {
			put(p, " AS ");
			name(p, f->alias);
		}
		if (f->columns) {
			putc_(p, ' ');
			names(p, f->columns);
		}
		break;
	case SQL_FROM_JOIN:
		if (open_join(f->left)) {
			putc_(p, '(');
			from(p, f->left);
			putc_(p, ')');
		} else {
			from(p, f->left);
		}
		if (f->natural)
			put(p, " NATURAL");
		put(p, f->join == SQL_JOIN_LEFT ? " LEFT JOIN " :
		       f->join == SQL_JOIN_RIGHT ? " RIGHT JOIN " :
		       f->join == SQL_JOIN_STRAIGHT ? " STRAIGHT_JOIN " :
		       " JOIN ");
		if (f->right->kind == SQL_FROM_JOIN) {
			putc_(p, '(');
			from(p, f->right);
			putc_(p, ')');
		} else {
			from(p, f->right);
		}
		if (f->on) {
			put(p, " ON ");
			expr(p, f->on, PR_LOWEST);
		} else if (f->using_cols) {
			put(p, " USING ");
			names(p, f->using_cols);
		}
		break;
	case SQL_FROM_NEST:
		putc_(p, '(');
		from_list(p, f->list);
		putc_(p, ')');
		break;
	}
}

static void from(struct printer *p, const struct sql_from *f)
{
	if (!deeper(p))
		return;
	from_node(p, f);
	p->depth--;
}

static void from_list(struct printer *p, const struct sql_from *f)
{
	for (; f; f = f->next) {
		from(p, f);
		if (f->next)
			put(p, ", ");
	}
}

static bool has_tail(const struct sql_query *q)
{
	return q->order || q->limit || q->offset || q->lock;
}

static bool is_set_op(const struct sql_query *q)
{
	return q->kind == SQL_Q_UNION || q->kind == SQL_Q_EXCEPT ||
	       q->kind == SQL_Q_INTERSECT;
}

/* An operand of a set operation: in parentheses when it has clauses of
 * its own, is a set operation on the right (they associate to the
 * left), or a UNION or EXCEPT under an INTERSECT (which binds tighter). */
static void term(struct printer *p, const struct sql_query *t,
		 const struct sql_query *parent, bool right)
{
	bool wrap = t->with || has_tail(t) ||
		    (is_set_op(t) && (right ||
				      (parent->kind == SQL_Q_INTERSECT &&
				       t->kind != SQL_Q_INTERSECT)));

	if (wrap)
		putc_(p, '(');
	query(p, t);
	if (wrap)
		putc_(p, ')');
}

/* The item's text as written, as its alias, where the printed text
 * differs (SQL_PRINT_KEEP_NAMES). */
static void keep_name(struct printer *p, const struct sql_item *it,
		      size_t printed_from)
{
	struct sql_str orig;

	if (!(p->opts->flags & SQL_PRINT_KEEP_NAMES) || !p->opts->sql ||
	    it->alias.len || it->end <= it->start ||
	    it->end - it->start > 256 ||
	    it->expr->kind == SQL_E_COLUMN || it->expr->kind == SQL_E_STAR ||
	    (it->expr->kind == SQL_E_LITERAL &&
	     !(it->expr->flags & SQL_EF_BOUND)) || p->o->oom)
		return;
	orig = (struct sql_str){ p->opts->sql + it->start,
				 it->end - it->start };
	if (p->o->len - printed_from == orig.len &&
	    !memcmp(p->o->buf + printed_from, orig.ptr, orig.len))
		return;
	put(p, " AS ");
	quoted_name(p, orig);
}

static void select_core(struct printer *p, const struct sql_query *q)
{
	static const struct {
		unsigned flag;
		const char *text;
	} options[] = {
		{ SQL_SEL_DISTINCT, " DISTINCT" },
		{ SQL_SEL_HIGH_PRIORITY, " HIGH_PRIORITY" },
		{ SQL_SEL_STRAIGHT_JOIN, " STRAIGHT_JOIN" },
		{ SQL_SEL_SMALL_RESULT, " SQL_SMALL_RESULT" },
		{ SQL_SEL_BIG_RESULT, " SQL_BIG_RESULT" },
		{ SQL_SEL_BUFFER_RESULT, " SQL_BUFFER_RESULT" },
		{ SQL_SEL_CACHE, " SQL_CACHE" },
		{ SQL_SEL_NO_CACHE, " SQL_NO_CACHE" },
		{ SQL_SEL_CALC_FOUND_ROWS, " SQL_CALC_FOUND_ROWS" },
	};

	put(p, "SELECT");
	for (size_t i = 0; i < sizeof(options) / sizeof(options[0]); i++)
		if (q->options & options[i].flag)
			put(p, options[i].text);
	putc_(p, ' ');
	for (const struct sql_item *it = q->items; it; it = it->next) {
		size_t from_len = p->o->len;

		expr(p, it->expr, PR_LOWEST);
		if (it->alias.len) {
			put(p, " AS ");
			name(p, it->alias);
		} else {
			keep_name(p, it, from_len);
		}
		if (it->next)
			put(p, ", ");
	}
	if (q->from) {
		put(p, " FROM ");
		from_list(p, q->from);
	} else if (q->from_dual) {
		put(p, " FROM DUAL");
	}
	if (q->where) {
		put(p, " WHERE ");
		expr(p, q->where, PR_LOWEST);
	}
	if (q->group) {
		put(p, " GROUP BY ");
		order(p, q->group);
	}
	if (q->having) {
		put(p, " HAVING ");
		expr(p, q->having, PR_LOWEST);
	}
}

static void lock(struct printer *p, const struct sql_query *q)
{
	switch (q->lock) {
	case SQL_LOCK_UPDATE:
		put(p, " FOR UPDATE");
		break;
	case SQL_LOCK_SHARE:
		put(p, " FOR SHARE");
		break;
	case SQL_LOCK_SHARE_MODE:
		put(p, " LOCK IN SHARE MODE");
		return;
	default:
		return;
	}
	switch (q->lock_wait) {
	case SQL_WAIT_NOWAIT:
		put(p, " NOWAIT");
		break;
	case SQL_WAIT_SKIP_LOCKED:
		put(p, " SKIP LOCKED");
		break;
	case SQL_WAIT_SECONDS:
		put(p, " WAIT ");
		expr(p, q->lock_wait_secs, PR_PRIMARY);
		break;
	}
}

static void query_node(struct printer *p, const struct sql_query *q)
{
	if (!q) {
		put(p, "SELECT NULL");
		return;
	}
	if (q->with) {
		put(p, q->recursive ? "WITH RECURSIVE " : "WITH ");
		for (const struct sql_cte *c = q->with; c; c = c->next) {
			name(p, c->name);
			if (c->columns) {
				putc_(p, ' ');
				names(p, c->columns);
			}
			put(p, " AS (");
			query(p, c->query);
			put(p, c->next ? "), " : ") ");
		}
	}
	switch (q->kind) {
	case SQL_Q_SELECT:
		select_core(p, q);
		break;
	case SQL_Q_UNION:
	case SQL_Q_EXCEPT:
	case SQL_Q_INTERSECT:
		term(p, q->left, q, false);
		put(p, q->kind == SQL_Q_UNION ? " UNION " :
		       q->kind == SQL_Q_EXCEPT ? " EXCEPT " : " INTERSECT ");
		if (q->all)
			put(p, "ALL ");
		term(p, q->right, q, true);
		break;
	case SQL_Q_PAREN:
		putc_(p, '(');
		query(p, q->left);
		putc_(p, ')');
		break;
	}
	if (q->order) {
		put(p, " ORDER BY ");
		order(p, q->order);
	}
	if (q->limit || q->offset) {
		put(p, " LIMIT ");
		if (q->limit)
			expr(p, q->limit, PR_PRIMARY);
		else
			put(p, "18446744073709551615");
		if (q->offset) {
			put(p, " OFFSET ");
			expr(p, q->offset, PR_PRIMARY);
		}
	}
	lock(p, q);
}

static void query(struct printer *p, const struct sql_query *q)
{
	if (!deeper(p))
		return;
	query_node(p, q);
	p->depth--;
}

/* ---- statements ------------------------------------------------------ */

static void assignments(struct printer *p, const struct sql_assign *a)
{
	for (; a; a = a->next) {
		expr(p, a->column, PR_PRIMARY);
		put(p, " = ");
		expr(p, a->value, PR_LOWEST);
		if (a->next)
			put(p, ", ");
	}
}

static void insert(struct printer *p, const struct sql_insert *in)
{
	put(p, in->flags & SQL_INS_REPLACE ? "REPLACE" : "INSERT");
	if (in->flags & SQL_INS_LOW_PRIORITY)
		put(p, " LOW_PRIORITY");
	if (in->flags & SQL_INS_DELAYED)
		put(p, " DELAYED");
	if (in->flags & SQL_INS_HIGH_PRIORITY)
		put(p, " HIGH_PRIORITY");
	if (in->flags & SQL_INS_IGNORE)
		put(p, " IGNORE");
	put(p, " INTO ");
	qualified(p, in->schema, in->table);
	if (in->columns) {
		putc_(p, ' ');
		names(p, in->columns);
	}
	if (in->rows || (!in->set && !in->query)) {
		put(p, " VALUES ");
		for (const struct sql_expr *r = in->rows; r; r = r->next) {
			putc_(p, '(');
			list(p, r->args);
			put(p, r->next ? "), " : ")");
		}
		if (!in->rows)
			put(p, "()");
	} else if (in->set) {
		put(p, " SET ");
		assignments(p, in->set);
	} else {
		putc_(p, ' ');
		query(p, in->query);
	}
	if (in->update) {
		put(p, " ON DUPLICATE KEY UPDATE ");
		assignments(p, in->update);
	}
}

static void dml_flags(struct printer *p, unsigned flags)
{
	if (flags & SQL_DML_LOW_PRIORITY)
		put(p, " LOW_PRIORITY");
	if (flags & SQL_DML_QUICK)
		put(p, " QUICK");
	if (flags & SQL_DML_IGNORE)
		put(p, " IGNORE");
}

static void where_order_limit(struct printer *p, const struct sql_expr *where,
			      const struct sql_order *ord,
			      const struct sql_expr *limit)
{
	if (where) {
		put(p, " WHERE ");
		expr(p, where, PR_LOWEST);
	}
	if (ord) {
		put(p, " ORDER BY ");
		order(p, ord);
	}
	if (limit) {
		put(p, " LIMIT ");
		expr(p, limit, PR_PRIMARY);
	}
}

static void targets(struct printer *p, const struct sql_from *f)
{
	for (; f; f = f->next) {
		qualified(p, f->schema, f->name);
		if (f->star)
			put(p, ".*");
		if (f->next)
			put(p, ", ");
	}
}

static void delete(struct printer *p, const struct sql_delete *d)
{
	put(p, "DELETE");
	dml_flags(p, d->flags);
	switch (d->form) {
	case SQL_DELETE_MULTI:
		putc_(p, ' ');
		targets(p, d->targets);
		put(p, " FROM ");
		from_list(p, d->tables);
		break;
	case SQL_DELETE_USING:
		put(p, " FROM ");
		targets(p, d->targets);
		put(p, " USING ");
		from_list(p, d->tables);
		break;
	default:
		put(p, " FROM ");
		from_list(p, d->tables);
	}
	where_order_limit(p, d->where, d->order, d->limit);
}

static void set_items(struct printer *p, const struct sql_set_item *s)
{
	static const char *const iso[] = {
		[SQL_ISO_READ_UNCOMMITTED] = " ISOLATION LEVEL READ UNCOMMITTED",
		[SQL_ISO_READ_COMMITTED] = " ISOLATION LEVEL READ COMMITTED",
		[SQL_ISO_REPEATABLE_READ] = " ISOLATION LEVEL REPEATABLE READ",
		[SQL_ISO_SERIALIZABLE] = " ISOLATION LEVEL SERIALIZABLE",
	};

	put(p, "SET ");
	for (; s; s = s->next) {
		const char *scope = s->scope == SQL_SCOPE_GLOBAL ? "GLOBAL" :
				    s->scope == SQL_SCOPE_SESSION ? "SESSION" :
				    NULL;

		switch (s->kind) {
		case SQL_SET_USER:
			user_var(p, s->name);
			break;
		case SQL_SET_SYSVAR:
			if (s->at_form) {
				put(p, "@@");
				if (scope) {
					put(p, scope);
					putc_(p, '.');
				}
			} else if (scope) {
				put(p, scope);
				putc_(p, ' ');
			}
			name(p, s->name);
			break;
		case SQL_SET_NAMES:
		case SQL_SET_CHARSET:
			put(p, s->kind == SQL_SET_NAMES ? "NAMES " :
			       "CHARACTER SET ");
			if (s->is_default) {
				put(p, "DEFAULT");
			} else {
				name(p, s->name);
				if (s->collation.len) {
					put(p, " COLLATE ");
					name(p, s->collation);
				}
			}
			break;
		case SQL_SET_TRANSACTION:
			if (scope) {
				put(p, scope);
				putc_(p, ' ');
			}
			put(p, "TRANSACTION");
			if (s->isolation && s->isolation <= SQL_ISO_SERIALIZABLE)
				put(p, iso[s->isolation]);
			if (s->isolation && s->access)
				putc_(p, ',');
			if (s->access)
				put(p, s->access == SQL_ACCESS_READ_ONLY ?
				       " READ ONLY" : " READ WRITE");
			break;
		}
		if (s->kind == SQL_SET_USER || s->kind == SQL_SET_SYSVAR) {
			put(p, " = ");
			expr(p, s->value, PR_LOWEST);
		}
		if (s->next)
			put(p, ", ");
	}
}

static void completion(struct printer *p, unsigned txn)
{
	if (txn & SQL_TXN_CHAIN)
		put(p, " AND CHAIN");
	if (txn & SQL_TXN_NO_CHAIN)
		put(p, " AND NO CHAIN");
	if (txn & SQL_TXN_RELEASE)
		put(p, " RELEASE");
	if (txn & SQL_TXN_NO_RELEASE)
		put(p, " NO RELEASE");
}

static void statement_node(struct printer *p, const struct sql_statement *st)
{
	switch (st->kind) {
	case SQL_ST_SELECT:
		query(p, st->query);
		break;
	case SQL_ST_INSERT:
		insert(p, st->insert);
		break;
	case SQL_ST_UPDATE:
		put(p, "UPDATE");
		dml_flags(p, st->update->flags);
		putc_(p, ' ');
		from_list(p, st->update->tables);
		put(p, " SET ");
		assignments(p, st->update->set);
		where_order_limit(p, st->update->where, st->update->order,
				  st->update->limit);
		break;
	case SQL_ST_DELETE:
		delete(p, st->del);
		break;
	case SQL_ST_SET:
		set_items(p, st->set);
		break;
	case SQL_ST_USE:
		put(p, "USE ");
		name(p, st->name);
		break;
	case SQL_ST_BEGIN:
		if (!st->txn) {
			put(p, "BEGIN");
			break;
		}
		put(p, "START TRANSACTION");
		if (st->txn & SQL_TXN_CONSISTENT_SNAPSHOT)
			put(p, " WITH CONSISTENT SNAPSHOT");
		if ((st->txn & SQL_TXN_CONSISTENT_SNAPSHOT) &&
		    (st->txn & (SQL_TXN_READ_ONLY | SQL_TXN_READ_WRITE)))
			putc_(p, ',');
		if (st->txn & SQL_TXN_READ_ONLY)
			put(p, " READ ONLY");
		else if (st->txn & SQL_TXN_READ_WRITE)
			put(p, " READ WRITE");
		break;
	case SQL_ST_COMMIT:
	case SQL_ST_ROLLBACK:
		put(p, st->kind == SQL_ST_COMMIT ? "COMMIT" : "ROLLBACK");
		completion(p, st->txn);
		break;
	case SQL_ST_SAVEPOINT:
	case SQL_ST_ROLLBACK_TO:
	case SQL_ST_RELEASE:
		put(p, st->kind == SQL_ST_SAVEPOINT ? "SAVEPOINT " :
		       st->kind == SQL_ST_ROLLBACK_TO ? "ROLLBACK TO SAVEPOINT " :
		       "RELEASE SAVEPOINT ");
		name(p, st->name);
		break;
	case SQL_ST_EXPLAIN:
		put(p, st->shards ? "EXPLAIN SHARDS " : "EXPLAIN ");
		if (st->explained)
			statement(p, st->explained);
		break;
	case SQL_ST_SHOW:
	case SQL_ST_OTHER:
		/* as written: the reading that parsed it reads it again */
		put_str(p, st->text);
		break;
	}
}

static void statement(struct printer *p, const struct sql_statement *st)
{
	if (!deeper(p))
		return;
	statement_node(p, st);
	p->depth--;
}

/* ---- entry points ---------------------------------------------------- */

static const struct sql_print_opts no_opts;

static void start(struct printer *p, struct sql_buf *out,
		  const struct sql_print_opts *opts)
{
	p->o = out;
	p->opts = opts ? opts : &no_opts;
	p->rd = p->opts->rd;
	p->inexact = false;
	p->too_deep = false;
	p->depth = 0;
}

static int finish(const struct printer *p)
{
	return p->o->oom ? SQL_PRINT_NOMEM :
	       p->too_deep ? SQL_PRINT_TOO_DEEP :
	       p->inexact ? SQL_PRINT_INEXACT : SQL_PRINT_OK;
}

int sql_print(struct sql_buf *out, const struct sql_statement *st,
	      const struct sql_print_opts *opts)
{
	struct printer p;

	start(&p, out, opts);
	statement(&p, st);
	return finish(&p);
}

int sql_print_query(struct sql_buf *out, const struct sql_query *q,
		    const struct sql_print_opts *opts)
{
	struct printer p;

	start(&p, out, opts);
	query(&p, q);
	return finish(&p);
}

int sql_print_expr(struct sql_buf *out, const struct sql_expr *e,
		   const struct sql_print_opts *opts)
{
	struct printer p;

	start(&p, out, opts);
	expr(&p, e, PR_LOWEST);
	return finish(&p);
}
