/*
 * admin_engine.c - evaluation of admin statements over virtual tables
 * (see admin_engine.h).
 *
 * A statement runs in passes, all before the first byte is written, so
 * that an error is always a clean ERR packet:
 *   1. resolve: every column name to a column of the table (1054), every
 *      @@variable to an entry of the variable table (1193);
 *   2. type: each expression node gets the type its values will have, so
 *      the column definitions can go out before the rows;
 *   3. filter (WHERE), then either accumulate the aggregates into one row
 *      or compute the ORDER BY keys and sort;
 *   4. write the rows in [OFFSET, OFFSET + LIMIT), evaluating the select
 *      list for each.  Runtime errors (BIGINT overflow) truncate out back
 *      to where it was.
 * Text values never need new storage: they point into the table, the
 * statement's text pool, the context or a few buffers of the engine
 * filled once (NOW(), USER()), so values can be kept as sort keys.
 */
#include "admin_engine.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MAX_OUT_COLS 256

/* ---- errors --------------------------------------------------------------- */

static const char *sqlstate(uint16_t code)
{
	switch (code) {
	case 1046: return "3D000";       /* no database selected */
	case 1049: return "42000";       /* unknown database */
	case 1054: return "42S22";       /* unknown column */
	case 1064: return "42000";       /* syntax */
	case 1109: return "42S02";       /* unknown table */
	case 1140: return "42000";       /* mixing aggregates and columns */
	case 1146: return "42S02";       /* table doesn't exist */
	case 1690: return "22003";       /* out of range */
	default: return "HY000";
	}
}

void admin_err_set(struct admin_err *e, uint16_t code, const char *fmt, ...)
{
	va_list ap;
	int n = snprintf(e->msg, sizeof(e->msg), "myring admin: ");

	e->code = code;
	memcpy(e->state, sqlstate(code), 6);
	va_start(ap, fmt);
	vsnprintf(e->msg + n, sizeof(e->msg) - (size_t)n, fmt, ap);
	va_end(ap);
}

/* ---- system variables ----------------------------------------------------- */

enum var_kind { VK_TEXT, VK_INT, VK_UINT, VK_BOOL, VK_VERSION, VK_MAX_PACKET,
		VK_PORT };

#if defined(__x86_64__)
#define MACHINE "x86_64"
#elif defined(__aarch64__)
#define MACHINE "aarch64"
#else
#define MACHINE "unknown"
#endif

/* What connectors and GUIs ask for on connect, with the values that
 * describe the admin port truthfully (utf8mb4, UTC, no TLS, autocommit,
 * names compared caselessly).  Sorted by name. */
static const struct var {
	const char *name;
	uint8_t kind;
	const char *text;
	uint64_t num;
} vars[] = {
	{"auto_increment_increment", VK_UINT, NULL, 1},
	{"auto_increment_offset", VK_UINT, NULL, 1},
	{"autocommit", VK_BOOL, NULL, 1},
	{"character_set_client", VK_TEXT, "utf8mb4", 0},
	{"character_set_connection", VK_TEXT, "utf8mb4", 0},
	{"character_set_database", VK_TEXT, "utf8mb4", 0},
	{"character_set_filesystem", VK_TEXT, "binary", 0},
	{"character_set_results", VK_TEXT, "utf8mb4", 0},
	{"character_set_server", VK_TEXT, "utf8mb4", 0},
	{"character_set_system", VK_TEXT, "utf8mb3", 0},
	{"collation_connection", VK_TEXT, "utf8mb4_general_ci", 0},
	{"collation_database", VK_TEXT, "utf8mb4_general_ci", 0},
	{"collation_server", VK_TEXT, "utf8mb4_general_ci", 0},
	{"error_count", VK_UINT, NULL, 0},
	{"have_openssl", VK_TEXT, "DISABLED", 0},
	{"have_ssl", VK_TEXT, "DISABLED", 0},
	{"init_connect", VK_TEXT, "", 0},
	{"interactive_timeout", VK_UINT, NULL, 28800},
	{"license", VK_TEXT, "MIT", 0},
	{"lower_case_table_names", VK_UINT, NULL, 1},
	{"max_allowed_packet", VK_MAX_PACKET, NULL, 0},
	{"net_buffer_length", VK_UINT, NULL, 16384},
	{"net_read_timeout", VK_UINT, NULL, 30},
	{"net_write_timeout", VK_UINT, NULL, 60},
	{"performance_schema", VK_BOOL, NULL, 0},
	{"port", VK_PORT, NULL, 0},
	{"protocol_version", VK_UINT, NULL, 10},
	{"query_cache_size", VK_UINT, NULL, 0},
	{"query_cache_type", VK_TEXT, "OFF", 0},
	{"read_only", VK_BOOL, NULL, 1},
	{"sql_auto_is_null", VK_BOOL, NULL, 0},
	{"sql_mode", VK_TEXT, "", 0},
	{"sql_select_limit", VK_UINT, NULL, UINT64_MAX},
	{"system_time_zone", VK_TEXT, "UTC", 0},
	{"time_zone", VK_TEXT, "SYSTEM", 0},
	{"transaction_isolation", VK_TEXT, "REPEATABLE-READ", 0},
	{"transaction_read_only", VK_BOOL, NULL, 0},
	{"tx_isolation", VK_TEXT, "REPEATABLE-READ", 0},
	{"tx_read_only", VK_BOOL, NULL, 0},
	{"version", VK_VERSION, NULL, 0},
	{"version_comment", VK_TEXT, "myring admin", 0},
	{"version_compile_machine", VK_TEXT, MACHINE, 0},
	{"version_compile_os", VK_TEXT, "Linux", 0},
	{"wait_timeout", VK_UINT, NULL, 28800},
	{"warning_count", VK_UINT, NULL, 0},
};
#define NVARS (sizeof(vars) / sizeof(vars[0]))

static uint64_t var_num(const struct admin_ctx *ctx, const struct var *v)
{
	switch (v->kind) {
	case VK_MAX_PACKET: return ctx->max_packet;
	case VK_PORT: return ctx->port;
	default: return v->num;
	}
}

unsigned admin_nvariables(void)
{
	return NVARS;
}

const char *admin_variable(const struct admin_ctx *ctx, unsigned i, char *buf,
			   size_t cap)
{
	const struct var *v = &vars[i];

	switch (v->kind) {
	case VK_TEXT:
		snprintf(buf, cap, "%s", v->text);
		break;
	case VK_VERSION:
		snprintf(buf, cap, "%s", ctx->version ? ctx->version : "");
		break;
	case VK_BOOL:
		snprintf(buf, cap, "%s", v->num ? "ON" : "OFF");
		break;
	default:
		snprintf(buf, cap, "%" PRIu64, var_num(ctx, v));
		break;
	}
	return v->name;
}

static int find_var(const char *name)
{
	for (unsigned i = 0; i < NVARS; i++)
		if (!strcasecmp(vars[i].name, name))
			return (int)i;
	return -1;
}

/* ---- values --------------------------------------------------------------- */

enum vt { V_NULL, V_INT, V_UINT, V_DOUBLE, V_TEXT };

struct val {
	uint8_t t;
	union {
		int64_t i;
		uint64_t u;
		double d;
	};
	const char *s;
	size_t n;
};

static bool intish(uint8_t t)
{
	return t == V_INT || t == V_UINT || t == V_NULL;
}

static double text_num(const char *s, size_t n)
{
	char buf[64];

	while (n && isspace((unsigned char)*s)) {
		s++;
		n--;
	}
	if (n >= sizeof(buf))
		n = sizeof(buf) - 1;
	memcpy(buf, s, n);
	buf[n] = '\0';
	return strtod(buf, NULL);
}

static double num(const struct val *v)
{
	switch (v->t) {
	case V_INT: return (double)v->i;
	case V_UINT: return (double)v->u;
	case V_DOUBLE: return v->d;
	case V_TEXT: return text_num(v->s, v->n);
	default: return 0;
	}
}

static bool truth(const struct val *v)
{
	switch (v->t) {
	case V_INT: return v->i != 0;
	case V_UINT: return v->u != 0;
	default: return num(v) != 0;
	}
}

static int cmp_text(const char *a, size_t an, const char *b, size_t bn)
{
	size_t n = an < bn ? an : bn;

	for (size_t i = 0; i < n; i++) {
		int x = tolower((unsigned char)a[i]), y = tolower((unsigned char)b[i]);
		if (x != y)
			return x < y ? -1 : 1;
	}
	/* Trailing spaces do not count (PAD SPACE collations). */
	while (an > n && a[an - 1] == ' ')
		an--;
	while (bn > n && b[bn - 1] == ' ')
		bn--;
	return (an > bn) - (an < bn);
}

/* Both non-NULL: text with text caselessly, integers exactly, anything
 * else as numbers (MySQL's rules, minus DECIMAL). */
static int compare(const struct val *a, const struct val *b)
{
	if (a->t == V_TEXT && b->t == V_TEXT)
		return cmp_text(a->s, a->n, b->s, b->n);
	if (intish(a->t) && intish(b->t)) {
		if (a->t == V_INT && a->i < 0 && b->t == V_UINT)
			return -1;
		if (b->t == V_INT && b->i < 0 && a->t == V_UINT)
			return 1;
		if (a->t == V_INT && b->t == V_INT)
			return (a->i > b->i) - (a->i < b->i);
		uint64_t x = a->t == V_INT ? (uint64_t)a->i : a->u;
		uint64_t y = b->t == V_INT ? (uint64_t)b->i : b->u;
		return (x > y) - (x < y);
	}
	double x = num(a), y = num(b);
	return (x > y) - (x < y);
}

/* Text for LIKE and output; numbers are formatted into buf. */
static void as_text(const struct val *v, char *buf, size_t cap,
		    const char **s, size_t *n)
{
	int k;

	switch (v->t) {
	case V_TEXT:
		*s = v->s;
		*n = v->n;
		return;
	case V_INT:
		k = snprintf(buf, cap, "%" PRId64, v->i);
		break;
	case V_UINT:
		k = snprintf(buf, cap, "%" PRIu64, v->u);
		break;
	case V_DOUBLE:
		k = snprintf(buf, cap, "%.15g", v->d);
		break;
	default:
		k = 0;
		buf[0] = '\0';
		break;
	}
	*s = buf;
	*n = k < 0 ? 0 : (size_t)k >= cap ? cap - 1 : (size_t)k;
}

bool admin_like(const char *s, size_t n, const char *pat, size_t patn)
{
	/* Iterative with one backtrack point: linear for one '%'. */
	size_t i = 0, p = 0, star_s = 0, star_p = SIZE_MAX;

	while (i < n) {
		if (p < patn && pat[p] == '%') {
			star_p = ++p;
			star_s = i;
			continue;
		}
		if (p < patn) {
			bool esc = pat[p] == '\\' && p + 1 < patn;
			char c = pat[p + esc];
			if ((!esc && c == '_') || tolower((unsigned char)c) ==
			    tolower((unsigned char)s[i])) {
				p += 1 + esc;
				i++;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return false;
		p = star_p;
		i = ++star_s;
	}
	while (p < patn && pat[p] == '%')
		p++;
	return p == patn;
}

/* ---- the engine ----------------------------------------------------------- */

struct agg {
	uint64_t count;
	int64_t isum;
	double dsum;
	struct val best;             /* MIN / MAX so far */
	bool any;
};

/* An output column or an ORDER BY key: an expression, or a table column
 * taken whole (from *). */
struct outcol {
	int16_t expr;
	int col;
	bool desc;
	const char *name;
};

struct engine {
	const struct admin_stmt *st;
	const struct admin_table *t;
	const struct admin_ctx *ctx;
	struct admin_err *e;
	size_t row;
	bool final;                  /* aggregates yield their results */
	int16_t col[ADMIN_MAX_NODES];
	int16_t var[ADMIN_MAX_NODES];
	uint8_t type[ADMIN_MAX_NODES];
	struct agg agg[ADMIN_MAX_NODES];
	unsigned nout, nkeys;
	struct outcol out[MAX_OUT_COLS];
	struct outcol keys[ADMIN_MAX_ORDER];
	char now[32], date[16], time[16], user[200];
	/* one output row */
	const char *cells[MAX_OUT_COLS];
	size_t lens[MAX_OUT_COLS];
	char nums[MAX_OUT_COLS][32];
};

static const struct admin_ctx default_ctx = {
	.user = "", .host = "", .version = "", .max_packet = 1 << 20,
};

static const struct admin_table dual = {.nrows = 1};

static int unknown_column(struct engine *g, const struct admin_expr *x,
			  const char *clause)
{
	const struct admin_stmt *st = g->st;
	char cols[256];
	size_t k = 0;

	cols[0] = '\0';
	for (unsigned c = 0; c < g->t->ncols && k + 1 < sizeof(cols); c++) {
		int w = snprintf(cols + k, sizeof(cols) - k, "%s%s", c ? ", " : "",
				 g->t->names[c]);
		if (w < 0)
			break;
		k += (size_t)w;
	}
	if (k >= sizeof(cols))
		memcpy(cols + sizeof(cols) - 4, "...", 4);
	admin_err_set(g->e, 1054, "Unknown column '%s%s%s' in '%s'%s%s",
		      admin_text(st, x->qual), x->qual.len ? "." : "",
		      admin_text(st, x->name), clause,
		      g->t->ncols ? "; columns: " : "", cols);
	return -1;
}

/* A table qualifier names this table: its name or its alias. */
static bool qualifier_ok(struct engine *g, struct admin_ref qdb,
			 struct admin_ref qual)
{
	const struct admin_stmt *st = g->st;

	if (qdb.len && (!g->t->name || st->alias.len ||
			strcasecmp(admin_text(st, qdb), st->db.len ?
				   admin_text(st, st->db) :
				   g->ctx->db ? g->ctx->db : "")))
		return false;
	if (!qual.len)
		return true;
	if (st->alias.len)
		return !strcasecmp(admin_text(st, qual), admin_text(st, st->alias));
	return g->t->name && !strcasecmp(admin_text(st, qual), g->t->name);
}

static int resolve(struct engine *g, int16_t n, const char *clause)
{
	const struct admin_stmt *st = g->st;

	while (n >= 0) {
		const struct admin_expr *x = &st->nodes[n];

		switch (x->op) {
		case AX_COLUMN:
			if (qualifier_ok(g, x->qdb, x->qual))
				for (unsigned c = 0; c < g->t->ncols; c++)
					if (!strcasecmp(g->t->names[c],
							admin_text(st, x->name))) {
						g->col[n] = (int16_t)c;
						break;
					}
			if (g->col[n] < 0)
				return unknown_column(g, x, clause);
			return 0;
		case AX_COLUMN_AT:
			if (x->i < 0 || x->i >= (int64_t)g->t->ncols) {
				admin_err_set(g->e, 1054, "no column %" PRId64,
					      x->i + 1);
				return -1;
			}
			g->col[n] = (int16_t)x->i;
			return 0;
		case AX_VAR:
			g->var[n] = (int16_t)find_var(admin_text(st, x->name));
			if (g->var[n] < 0) {
				admin_err_set(g->e, 1193, "Unknown system variable "
					      "'%s'", admin_text(st, x->name));
				return -1;
			}
			return 0;
		case AX_IN:
			if (resolve(g, x->a, clause))
				return -1;
			for (int16_t i = x->b; i >= 0; i = st->nodes[i].next)
				if (resolve(g, i, clause))
					return -1;
			return 0;
		default:
			break;
		}
		if (x->b >= 0 && resolve(g, x->b, clause))
			return -1;
		if (x->c >= 0 && resolve(g, x->c, clause))
			return -1;
		n = x->a;            /* the last operand without recursion */
	}
	return 0;
}

static uint8_t col_vt(enum admin_col_type t)
{
	switch (t) {
	case ADMIN_COL_INT: return V_INT;
	case ADMIN_COL_UINT: return V_UINT;
	case ADMIN_COL_DOUBLE: return V_DOUBLE;
	default: return V_TEXT;
	}
}

/* Operands have lower indexes than the nodes that use them. */
static void infer_types(struct engine *g)
{
	const struct admin_stmt *st = g->st;

	for (unsigned n = 0; n < st->nnodes; n++) {
		const struct admin_expr *x = &st->nodes[n];
		uint8_t a = x->a >= 0 ? g->type[x->a] : V_NULL;
		uint8_t b = x->b >= 0 ? g->type[x->b] : V_NULL;
		uint8_t t;

		switch (x->op) {
		case AX_NULL: t = V_NULL; break;
		case AX_INT: t = V_INT; break;
		case AX_DOUBLE: t = V_DOUBLE; break;
		case AX_STRING: t = V_TEXT; break;
		case AX_COLUMN:
		case AX_COLUMN_AT:
			t = g->col[n] >= 0 ? col_vt(g->t->types[g->col[n]]) : V_TEXT;
			break;
		case AX_VAR:
			if (g->var[n] < 0)
				t = V_TEXT;
			else if (vars[g->var[n]].kind == VK_BOOL)
				t = V_INT;
			else if (vars[g->var[n]].kind == VK_TEXT ||
				 vars[g->var[n]].kind == VK_VERSION)
				t = V_TEXT;
			else
				t = V_UINT;
			break;
		case AX_FUNC:
			t = x->fn == AF_UNIX_TIMESTAMP ? V_INT :
			    x->fn == AF_CONNECTION_ID ? V_UINT : V_TEXT;
			break;
		case AX_AGG:
			switch (x->fn) {
			case AG_SUM: t = intish(a) ? V_INT : V_DOUBLE; break;
			case AG_AVG: t = V_DOUBLE; break;
			case AG_MIN:
			case AG_MAX: t = a; break;
			default: t = V_INT; break;
			}
			break;
		case AX_NEG:
			t = intish(a) ? V_INT : V_DOUBLE;
			break;
		case AX_ADD:
		case AX_SUB:
		case AX_MUL:
		case AX_MOD:
			t = intish(a) && intish(b) ? V_INT : V_DOUBLE;
			break;
		case AX_DIV:
			t = V_DOUBLE;
			break;
		default:
			t = V_INT;       /* comparisons, logic, INTDIV */
			break;
		}
		g->type[n] = t;
	}
}

static int out_of_range(struct engine *g)
{
	admin_err_set(g->e, 1690, "BIGINT value is out of range");
	return -1;
}

static int to_int(struct engine *g, const struct val *v, int64_t *out)
{
	if (v->t == V_UINT) {
		if (v->u > INT64_MAX)
			return out_of_range(g);
		*out = (int64_t)v->u;
	} else if (v->t == V_INT) {
		*out = v->i;
	} else {
		double d = num(v);
		if (!(d >= -9223372036854775808.0 && d < 9223372036854775808.0))
			return out_of_range(g);
		*out = (int64_t)d;
	}
	return 0;
}

static void set_int(struct val *v, int64_t i)
{
	v->t = V_INT;
	v->i = i;
}

static void set_double(struct val *v, double d)
{
	v->t = isfinite(d) ? V_DOUBLE : V_NULL;
	v->d = d;
}

static void set_text(struct val *v, const char *s)
{
	v->t = V_TEXT;
	v->s = s;
	v->n = strlen(s);
}

/* 1, 0 or NULL */
static void set_bool(struct val *v, int b)
{
	if (b < 0) {
		v->t = V_NULL;
	} else {
		v->t = V_INT;
		v->i = b;
	}
}

static int eval(struct engine *g, int16_t n, struct val *v);

static void cell(struct engine *g, int col, struct val *v)
{
	const struct admin_value *c = &g->t->cells[g->row * g->t->ncols +
						  (unsigned)col];

	if (c->null) {
		v->t = V_NULL;
		return;
	}
	switch (g->t->types[col]) {
	case ADMIN_COL_INT: set_int(v, c->i); break;
	case ADMIN_COL_UINT: v->t = V_UINT; v->u = c->u; break;
	case ADMIN_COL_DOUBLE: v->t = V_DOUBLE; v->d = c->d; break;
	default: v->t = V_TEXT; v->s = c->s ? c->s : ""; v->n = c->s ? c->len : 0;
	}
}

static void func(struct engine *g, uint8_t fn, struct val *v)
{
	switch (fn) {
	case AF_NOW: set_text(v, g->now); break;
	case AF_CURDATE: set_text(v, g->date); break;
	case AF_CURTIME: set_text(v, g->time); break;
	case AF_UNIX_TIMESTAMP: set_int(v, (int64_t)g->ctx->now); break;
	case AF_VERSION: set_text(v, g->ctx->version ? g->ctx->version : ""); break;
	case AF_DATABASE:
		if (g->ctx->db)
			set_text(v, g->ctx->db);
		else
			v->t = V_NULL;
		break;
	case AF_USER: set_text(v, g->user); break;
	default: v->t = V_UINT; v->u = g->ctx->conn_id; break;
	}
}

static void variable(struct engine *g, int idx, struct val *v)
{
	const struct var *x = &vars[idx];

	switch (x->kind) {
	case VK_TEXT: set_text(v, x->text); break;
	case VK_VERSION: set_text(v, g->ctx->version ? g->ctx->version : ""); break;
	case VK_BOOL: set_int(v, x->num != 0); break;
	default: v->t = V_UINT; v->u = var_num(g->ctx, x); break;
	}
}

static void agg_result(struct engine *g, int16_t n, struct val *v)
{
	const struct admin_expr *x = &g->st->nodes[n];
	const struct agg *a = &g->agg[n];

	v->t = V_NULL;
	switch (x->fn) {
	case AG_COUNT_STAR:
	case AG_COUNT:
		set_int(v, (int64_t)a->count);
		break;
	case AG_SUM:
		if (!a->count)
			break;
		if (g->type[n] == V_INT)
			set_int(v, a->isum);
		else
			set_double(v, a->dsum);
		break;
	case AG_AVG:
		if (a->count)
			set_double(v, a->dsum / (double)a->count);
		break;
	default:
		if (a->any)
			*v = a->best;
		break;
	}
}

static int arith(struct engine *g, int16_t n, const struct val *a,
		 const struct val *b, struct val *v)
{
	uint8_t op = g->st->nodes[n].op;
	int64_t x, y, r;

	if (a->t == V_NULL || b->t == V_NULL) {
		v->t = V_NULL;
		return 0;
	}
	if (g->type[n] == V_INT && op != AX_INTDIV) {
		if (to_int(g, a, &x) || to_int(g, b, &y))
			return -1;
		switch (op) {
		case AX_ADD:
			if (__builtin_add_overflow(x, y, &r))
				return out_of_range(g);
			break;
		case AX_SUB:
			if (__builtin_sub_overflow(x, y, &r))
				return out_of_range(g);
			break;
		case AX_MUL:
			if (__builtin_mul_overflow(x, y, &r))
				return out_of_range(g);
			break;
		default:             /* MOD */
			if (y == 0) {
				v->t = V_NULL;
				return 0;
			}
			r = y == -1 ? 0 : x % y;
			break;
		}
		set_int(v, r);
		return 0;
	}
	if (op == AX_INTDIV) {
		if (intish(a->t) && intish(b->t)) {
			if (to_int(g, a, &x) || to_int(g, b, &y))
				return -1;
			if (y == 0) {
				v->t = V_NULL;
				return 0;
			}
			if (x == INT64_MIN && y == -1)
				return out_of_range(g);
			set_int(v, x / y);
			return 0;
		}
		if (num(b) == 0) {
			v->t = V_NULL;
			return 0;
		}
		/* to_int truncates toward zero, as DIV does */
		struct val q = {.t = V_DOUBLE, .d = num(a) / num(b)};
		if (to_int(g, &q, &x))
			return -1;
		set_int(v, x);
		return 0;
	}
	double p = num(a), q = num(b);
	switch (op) {
	case AX_ADD: set_double(v, p + q); break;
	case AX_SUB: set_double(v, p - q); break;
	case AX_MUL: set_double(v, p * q); break;
	case AX_DIV:
		if (q == 0)
			v->t = V_NULL;
		else
			set_double(v, p / q);
		break;
	default:
		/* p - q * trunc(p / q), without libm */
		if (q == 0)
			v->t = V_NULL;
		else if (!(p / q > -9e18 && p / q < 9e18))
			return out_of_range(g);
		else
			set_double(v, p - q * (double)(int64_t)(p / q));
		break;
	}
	return 0;
}

static int like(struct engine *g, const struct admin_expr *x, struct val *v)
{
	struct val a, b;
	char abuf[32], bbuf[32];
	const char *s, *p;
	size_t sn, pn;

	if (eval(g, x->a, &a) || eval(g, x->b, &b))
		return -1;
	if (a.t == V_NULL || b.t == V_NULL) {
		v->t = V_NULL;
		return 0;
	}
	as_text(&a, abuf, sizeof(abuf), &s, &sn);
	as_text(&b, bbuf, sizeof(bbuf), &p, &pn);
	set_bool(v, admin_like(s, sn, p, pn) != x->negated);
	return 0;
}

static int in_list(struct engine *g, const struct admin_expr *x, struct val *v)
{
	struct val a, b;
	bool saw_null = false;

	if (eval(g, x->a, &a))
		return -1;
	if (a.t == V_NULL) {
		v->t = V_NULL;
		return 0;
	}
	for (int16_t i = x->b; i >= 0; i = g->st->nodes[i].next) {
		if (eval(g, i, &b))
			return -1;
		if (b.t == V_NULL) {
			saw_null = true;
		} else if (compare(&a, &b) == 0) {
			set_bool(v, !x->negated);
			return 0;
		}
	}
	set_bool(v, saw_null ? -1 : x->negated);
	return 0;
}

static int between(struct engine *g, const struct admin_expr *x, struct val *v)
{
	struct val a, lo, hi;
	int ge, le, r;

	if (eval(g, x->a, &a) || eval(g, x->b, &lo) || eval(g, x->c, &hi))
		return -1;
	if (a.t == V_NULL) {
		v->t = V_NULL;
		return 0;
	}
	ge = lo.t == V_NULL ? -1 : compare(&a, &lo) >= 0;
	le = hi.t == V_NULL ? -1 : compare(&a, &hi) <= 0;
	r = ge == 0 || le == 0 ? 0 : ge < 0 || le < 0 ? -1 : 1;
	set_bool(v, r < 0 ? -1 : x->negated ? !r : r);
	return 0;
}

static int eval(struct engine *g, int16_t n, struct val *v)
{
	const struct admin_expr *x = &g->st->nodes[n];
	struct val a, b;
	int c;

	switch (x->op) {
	case AX_NULL:
		v->t = V_NULL;
		return 0;
	case AX_INT:
		set_int(v, x->i);
		return 0;
	case AX_DOUBLE:
		set_double(v, x->d);
		return 0;
	case AX_STRING:
		v->t = V_TEXT;
		v->s = admin_text(g->st, x->name);
		v->n = x->name.len;
		return 0;
	case AX_COLUMN:
	case AX_COLUMN_AT:
		cell(g, g->col[n], v);
		return 0;
	case AX_VAR:
		variable(g, g->var[n], v);
		return 0;
	case AX_FUNC:
		func(g, x->fn, v);
		return 0;
	case AX_AGG:
		agg_result(g, n, v);
		return 0;
	case AX_NEG:
		if (eval(g, x->a, &a))
			return -1;
		if (a.t == V_NULL) {
			v->t = V_NULL;
		} else if (g->type[n] == V_INT) {
			int64_t i;
			if (to_int(g, &a, &i))
				return -1;
			if (i == INT64_MIN)
				return out_of_range(g);
			set_int(v, -i);
		} else {
			set_double(v, -num(&a));
		}
		return 0;
	case AX_NOT:
		if (eval(g, x->a, &a))
			return -1;
		set_bool(v, a.t == V_NULL ? -1 : !truth(&a));
		return 0;
	case AX_ADD:
	case AX_SUB:
	case AX_MUL:
	case AX_DIV:
	case AX_INTDIV:
	case AX_MOD:
		if (eval(g, x->a, &a) || eval(g, x->b, &b))
			return -1;
		return arith(g, n, &a, &b, v);
	case AX_AND:
		if (eval(g, x->a, &a))
			return -1;
		if (a.t != V_NULL && !truth(&a)) {
			set_bool(v, 0);
			return 0;
		}
		if (eval(g, x->b, &b))
			return -1;
		if (b.t != V_NULL && !truth(&b))
			set_bool(v, 0);
		else
			set_bool(v, a.t == V_NULL || b.t == V_NULL ? -1 : 1);
		return 0;
	case AX_OR:
		if (eval(g, x->a, &a))
			return -1;
		if (a.t != V_NULL && truth(&a)) {
			set_bool(v, 1);
			return 0;
		}
		if (eval(g, x->b, &b))
			return -1;
		if (b.t != V_NULL && truth(&b))
			set_bool(v, 1);
		else
			set_bool(v, a.t == V_NULL || b.t == V_NULL ? -1 : 0);
		return 0;
	case AX_XOR:
		if (eval(g, x->a, &a) || eval(g, x->b, &b))
			return -1;
		set_bool(v, a.t == V_NULL || b.t == V_NULL ? -1 :
			 truth(&a) != truth(&b));
		return 0;
	case AX_LIKE:
		return like(g, x, v);
	case AX_IN:
		return in_list(g, x, v);
	case AX_BETWEEN:
		return between(g, x, v);
	case AX_ISNULL:
		if (eval(g, x->a, &a))
			return -1;
		set_bool(v, (a.t == V_NULL) != x->negated);
		return 0;
	default:
		break;
	}
	/* comparisons */
	if (eval(g, x->a, &a) || eval(g, x->b, &b))
		return -1;
	if (x->op == AX_NSEQ) {
		set_bool(v, a.t == V_NULL || b.t == V_NULL ?
			 a.t == b.t : compare(&a, &b) == 0);
		return 0;
	}
	if (a.t == V_NULL || b.t == V_NULL) {
		v->t = V_NULL;
		return 0;
	}
	c = compare(&a, &b);
	switch (x->op) {
	case AX_EQ: set_bool(v, c == 0); break;
	case AX_NE: set_bool(v, c != 0); break;
	case AX_LT: set_bool(v, c < 0); break;
	case AX_LE: set_bool(v, c <= 0); break;
	case AX_GT: set_bool(v, c > 0); break;
	default: set_bool(v, c >= 0); break;
	}
	return 0;
}

/* The value of an output column or key at the current row. */
static int outval(struct engine *g, const struct outcol *o, struct val *v)
{
	if (o->expr < 0) {
		cell(g, o->col, v);
		return 0;
	}
	return eval(g, o->expr, v);
}

/* ---- aggregates ------------------------------------------------------------- */

/* Columns outside an aggregate would need GROUP BY to mean anything. */
static int check_grouped(struct engine *g, int16_t n)
{
	const struct admin_stmt *st = g->st;

	while (n >= 0) {
		const struct admin_expr *x = &st->nodes[n];
		if (x->op == AX_AGG)
			return 0;
		if (x->op == AX_COLUMN || x->op == AX_COLUMN_AT) {
			admin_err_set(g->e, 1140, "column '%s' is outside an "
				      "aggregate (COUNT, SUM, AVG, MIN, MAX) and "
				      "GROUP BY is not supported",
				      g->t->names[g->col[n]]);
			return -1;
		}
		if (x->op == AX_IN)
			for (int16_t i = x->b; i >= 0; i = st->nodes[i].next)
				if (check_grouped(g, i))
					return -1;
		if (x->op != AX_IN && x->b >= 0 && check_grouped(g, x->b))
			return -1;
		if (x->c >= 0 && check_grouped(g, x->c))
			return -1;
		n = x->a;
	}
	return 0;
}

static int accumulate(struct engine *g, int16_t n)
{
	const struct admin_expr *x = &g->st->nodes[n];
	struct agg *a = &g->agg[n];
	struct val v;

	if (x->fn == AG_COUNT_STAR) {
		a->count++;
		return 0;
	}
	if (eval(g, x->a, &v))
		return -1;
	if (v.t == V_NULL)
		return 0;
	a->count++;
	switch (x->fn) {
	case AG_SUM:
		if (g->type[n] == V_INT) {
			int64_t i;
			if (to_int(g, &v, &i))
				return -1;
			if (__builtin_add_overflow(a->isum, i, &a->isum))
				return out_of_range(g);
			break;
		}
		/* fall through */
	case AG_AVG:
		a->dsum += num(&v);
		break;
	case AG_MIN:
	case AG_MAX:
		if (!a->any || (x->fn == AG_MIN ? compare(&v, &a->best) < 0 :
				compare(&v, &a->best) > 0))
			a->best = v;
		a->any = true;
		break;
	default:
		break;
	}
	return 0;
}

/* ---- sorting ------------------------------------------------------------------ */

struct sort_ctx {
	const struct val *keys;      /* nrows x nkeys, by table row */
	const struct outcol *k;
	unsigned nkeys;
};

static int cmp_rows(const void *x, const void *y, void *arg)
{
	const struct sort_ctx *sc = arg;
	size_t a = *(const size_t *)x, b = *(const size_t *)y;

	for (unsigned i = 0; i < sc->nkeys; i++) {
		const struct val *va = &sc->keys[a * sc->nkeys + i];
		const struct val *vb = &sc->keys[b * sc->nkeys + i];
		int c;
		if (va->t == V_NULL || vb->t == V_NULL)
			c = (vb->t == V_NULL) - (va->t == V_NULL);  /* NULL first */
		else
			c = compare(va, vb);
		if (c)
			return sc->k[i].desc ? -c : c;
	}
	/* Stable: ties keep table order. */
	return (a > b) - (a < b);
}

/* ---- the statement -------------------------------------------------------- */

static enum srv_col_type srv_type(uint8_t t)
{
	switch (t) {
	case V_INT: return SRV_COL_INT;
	case V_UINT: return SRV_COL_UINT;
	case V_DOUBLE: return SRV_COL_DOUBLE;
	default: return SRV_COL_TEXT;
	}
}

static int add_out(struct engine *g, int16_t expr, int col, const char *name)
{
	if (g->nout == MAX_OUT_COLS) {
		admin_err_set(g->e, 1064, "more than %d columns selected",
			      MAX_OUT_COLS);
		return -1;
	}
	g->out[g->nout++] = (struct outcol){expr, col, false, name};
	return 0;
}

/* The select list with * expanded. */
static int plan_columns(struct engine *g)
{
	const struct admin_stmt *st = g->st;

	if (!st || st->nitems == 0) {
		for (unsigned c = 0; c < g->t->ncols; c++)
			if (add_out(g, -1, (int)c, g->t->names[c]))
				return -1;
		return 0;
	}
	for (unsigned i = 0; i < st->nitems; i++) {
		const struct admin_item *it = &st->items[i];
		if (it->expr >= 0) {
			if (add_out(g, it->expr, -1, admin_text(st, it->name)) ||
			    resolve(g, it->expr, "field list"))
				return -1;
			continue;
		}
		if (g->t == &dual) {
			admin_err_set(g->e, 1096, "No tables used");
			return -1;
		}
		if (!qualifier_ok(g, it->qdb, it->qual)) {
			admin_err_set(g->e, 1051, "Unknown table '%s'",
				      admin_text(st, it->qual));
			return -1;
		}
		if (st->has_agg) {
			admin_err_set(g->e, 1140, "* with an aggregate needs GROUP "
				      "BY, which is not supported");
			return -1;
		}
		for (unsigned c = 0; c < g->t->ncols; c++)
			if (add_out(g, -1, (int)c, g->t->names[c]))
				return -1;
	}
	return 0;
}

/* ORDER BY: a position, an alias of the select list, or an expression. */
static int plan_order(struct engine *g)
{
	const struct admin_stmt *st = g->st;

	for (unsigned i = 0; st && i < st->norder; i++) {
		const struct admin_expr *x = &st->nodes[st->order[i].expr];
		struct outcol *k = &g->keys[g->nkeys++];

		*k = (struct outcol){st->order[i].expr, -1, st->order[i].desc, NULL};
		if (x->op == AX_INT) {
			if (x->i < 1 || x->i > (int64_t)g->nout) {
				admin_err_set(g->e, 1054, "Unknown column '%" PRId64
					      "' in 'order clause'", x->i);
				return -1;
			}
			k->expr = g->out[x->i - 1].expr;
			k->col = g->out[x->i - 1].col;
			continue;
		}
		if (x->op == AX_COLUMN && !x->qual.len) {
			const char *name = admin_text(st, x->name);
			bool found = false;
			for (unsigned j = 0; j < st->nitems && !found; j++) {
				const struct admin_item *it = &st->items[j];
				const struct admin_expr *ix = it->expr >= 0 ?
					&st->nodes[it->expr] : NULL;
				/* An alias, not a plain column of the same name. */
				if (ix && !(ix->op == AX_COLUMN &&
					    it->name.off == ix->name.off) &&
				    !strcasecmp(admin_text(st, it->name), name)) {
					k->expr = it->expr;
					found = true;
				}
			}
			if (found)
				continue;
		}
		if (resolve(g, k->expr, "order clause"))
			return -1;
	}
	return 0;
}

static void format_cell(struct engine *g, unsigned i, const struct val *v)
{
	if (v->t == V_NULL) {
		g->cells[i] = NULL;
		g->lens[i] = 0;
		return;
	}
	as_text(v, g->nums[i], sizeof(g->nums[i]), &g->cells[i], &g->lens[i]);
}

static void init_engine(struct engine *g, const struct admin_table *t,
			const struct admin_stmt *st,
			const struct admin_ctx *ctx, struct admin_err *e)
{
	time_t now;
	struct tm tm;

	g->st = st;
	g->t = t ? t : &dual;
	g->ctx = ctx ? ctx : &default_ctx;
	g->e = e;
	for (unsigned i = 0; i < ADMIN_MAX_NODES; i++)
		g->col[i] = g->var[i] = -1;
	now = (time_t)g->ctx->now;
	gmtime_r(&now, &tm);
	strftime(g->now, sizeof(g->now), "%Y-%m-%d %H:%M:%S", &tm);
	strftime(g->date, sizeof(g->date), "%Y-%m-%d", &tm);
	strftime(g->time, sizeof(g->time), "%H:%M:%S", &tm);
	snprintf(g->user, sizeof(g->user), "%s@%s",
		 g->ctx->user ? g->ctx->user : "", g->ctx->host ? g->ctx->host : "");
}

static int run(struct engine *g, struct pkt_buf *out, uint64_t caps,
	       size_t **rowsp, struct val **keysp)
{
	const struct admin_stmt *st = g->st;
	const struct admin_table *t = g->t;
	size_t nrows = 0, first, last, *rows;
	struct val v;

	if (plan_columns(g))
		return -1;
	if (st && st->where >= 0 && resolve(g, st->where, "where clause"))
		return -1;
	if (plan_order(g))
		return -1;
	if (st)
		infer_types(g);
	for (unsigned i = 0; st && st->has_agg && i < g->nout; i++)
		if (check_grouped(g, g->out[i].expr))
			return -1;

	rows = *rowsp = malloc((t->nrows ? t->nrows : 1) * sizeof(*rows));
	if (!rows) {
		admin_err_set(g->e, 1105, "out of memory");
		return -1;
	}
	for (size_t r = 0; r < t->nrows; r++) {
		g->row = r;
		if (st && st->where >= 0) {
			if (eval(g, st->where, &v))
				return -1;
			if (v.t == V_NULL || !truth(&v))
				continue;
		}
		rows[nrows++] = r;
	}
	if (st && st->has_agg) {
		/* One row, so ORDER BY has nothing to sort. */
		for (size_t k = 0; k < nrows; k++) {
			g->row = rows[k];
			for (unsigned n = 0; n < st->nnodes; n++)
				if (st->nodes[n].op == AX_AGG && accumulate(g, (int16_t)n))
					return -1;
		}
		g->final = true;
		nrows = 1;
		rows[0] = 0;
	} else if (g->nkeys && nrows > 1) {
		struct val *keys = *keysp = malloc(t->nrows * g->nkeys * sizeof(*keys));
		if (!keys) {
			admin_err_set(g->e, 1105, "out of memory");
			return -1;
		}
		for (size_t k = 0; k < nrows; k++) {
			g->row = rows[k];
			for (unsigned i = 0; i < g->nkeys; i++)
				if (outval(g, &g->keys[i], &keys[rows[k] * g->nkeys + i]))
					return -1;
		}
		struct sort_ctx sc = {keys, g->keys, g->nkeys};
		qsort_r(rows, nrows, sizeof(*rows), cmp_rows, &sc);
	}
	first = st && st->offset < nrows ? (size_t)st->offset : st ? nrows : 0;
	last = st && st->has_limit && st->limit < nrows - first ?
	       first + (size_t)st->limit : nrows;
	if (!st)
		first = 0;

	srv_resultset_begin(out, g->nout);
	for (unsigned i = 0; i < g->nout; i++) {
		const struct outcol *o = &g->out[i];
		uint8_t ty = o->expr >= 0 ? g->type[o->expr] :
			     col_vt(t->types[o->col]);
		srv_column(out, o->name, srv_type(ty), caps);
	}
	srv_columns_end(out, caps);
	for (size_t k = first; k < last; k++) {
		g->row = rows[k];
		for (unsigned i = 0; i < g->nout; i++) {
			if (outval(g, &g->out[i], &v))
				return -1;
			format_cell(g, i, &v);
		}
		srv_row(out, g->cells, g->lens, g->nout);
	}
	srv_resultset_end(out, caps, SERVER_STATUS_AUTOCOMMIT);
	if (out->oom) {
		admin_err_set(g->e, 1105, "out of memory");
		return -1;
	}
	return 0;
}

int admin_select(const struct admin_table *t, const struct admin_stmt *st,
		 const struct admin_ctx *ctx, struct pkt_buf *out,
		 uint64_t caps, struct admin_err *e)
{
	struct engine *g = calloc(1, sizeof(*g));
	size_t mark = out->len, *rows = NULL;
	uint8_t seq = out->seq;
	struct val *keys = NULL;
	int rc;

	if (!g) {
		admin_err_set(e, 1105, "out of memory");
		return -1;
	}
	init_engine(g, t, st, ctx, e);
	rc = run(g, out, caps, &rows, &keys);
	if (rc) {
		out->len = mark;
		out->seq = seq;
		out->oom = false;
	}
	free(keys);
	free(rows);
	free(g);
	return rc;
}
