/*
 * session_effects.c - what a pooled session's statements leave on its
 * server connection (see session_effects.h).
 */
#include "session_effects.h"

#include "log.h"
#include "mysql_state.h"
#include "session.h"

#include <ctype.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* A user variable's literal longer than this is not carried: pinned. */
#define USER_VAR_LITERAL_MAX 65536u

/* ---- names the server holds for the session --------------------------- */

struct name_set {
	char **v;                  /* each: 4-byte length, then the bytes */
	uint32_t n, cap;
};

static uint32_t name_len(const char *e)
{
	uint32_t n;

	memcpy(&n, e, 4);
	return n;
}

static int set_find(const struct name_set *ns, const char *k, uint32_t len)
{
	for (uint32_t i = 0; i < ns->n; i++)
		if (name_len(ns->v[i]) == len && !memcmp(ns->v[i] + 4, k, len))
			return (int)i;
	return -1;
}

/* -1 when out of memory (the caller pins for good). */
static int set_add(struct name_set *ns, const char *k, uint32_t len)
{
	char *e;

	if (set_find(ns, k, len) >= 0)
		return 0;
	if (ns->n == ns->cap) {
		uint32_t cap = ns->cap ? ns->cap * 2 : 4;
		char **v = realloc(ns->v, cap * sizeof(*v));
		if (!v)
			return -1;
		ns->v = v;
		ns->cap = cap;
	}
	e = malloc(4 + (size_t)len);
	if (!e)
		return -1;
	memcpy(e, &len, 4);
	memcpy(e + 4, k, len);
	ns->v[ns->n++] = e;
	return 0;
}

static void set_remove(struct name_set *ns, const char *k, uint32_t len)
{
	int i = set_find(ns, k, len);

	if (i < 0)
		return;
	free(ns->v[i]);
	ns->v[i] = ns->v[--ns->n];
}

static void set_clear(struct name_set *ns)
{
	for (uint32_t i = 0; i < ns->n; i++)
		free(ns->v[i]);
	free(ns->v);
	memset(ns, 0, sizeof(*ns));
}

struct sess_resources {
	struct name_set temp_tables;  /* schema NUL name */
	struct name_set locks;        /* GET_LOCK names as the server read them */
	struct name_set handlers;     /* HANDLER aliases */
	struct name_set prepared;     /* PREPARE names, lower case */
	bool table_lock;              /* LOCK TABLES, FTWRL, BACKUP */
	bool found_rows;              /* SQL_CALC_FOUND_ROWS, for the next */
	uint32_t sticky;              /* pins only a reset ends */
};

/* ---- what one command does -------------------------------------------- */

enum effect_kind {
	EF_TEMP_CREATE, EF_TABLE_DROP, EF_TABLE_RENAME,
	EF_GET_LOCK, EF_RELEASE_LOCK, EF_RELEASE_ALL,
	EF_TABLE_LOCK, EF_TABLE_UNLOCK,
	EF_HANDLER_OPEN, EF_HANDLER_CLOSE,
	EF_PREPARE, EF_DEALLOCATE,
	EF_USER_VAR, EF_COLLATION,
	EF_XA_BEGIN, EF_XA_END,
	EF_FOUND_ROWS_START, EF_FOUND_ROWS_END,
};

/* Whether an effect takes something (recorded even when a statement of
 * a multi-statement failed: it may have run) or gives it back (recorded
 * only when every statement succeeded). */
static bool acquires(uint8_t kind)
{
	return kind == EF_TEMP_CREATE || kind == EF_GET_LOCK ||
	       kind == EF_TABLE_LOCK || kind == EF_HANDLER_OPEN ||
	       kind == EF_PREPARE || kind == EF_XA_BEGIN ||
	       kind == EF_FOUND_ROWS_START;
}

struct effect {
	uint8_t kind;
	uint32_t a_off, a_len, b_off, b_len;
};

#define MAX_EFFECTS (SQLC_MAX_ITEMS + 8)

struct cmd_effects {
	uint32_t sticky;           /* pins until reset */
	uint16_t n;
	bool multi;
	bool prepare;              /* a PREPARE: pins once it succeeded */
	bool dirty;                /* code myring cannot see: reset after */
	struct effect e[MAX_EFFECTS];
	uint32_t len;
	char buf[];
};

/* Building one: strings go to a growing buffer (offsets, since it moves). */
struct builder {
	struct cmd_effects hdr;
	char *buf;
	uint32_t len, cap;
	bool oom;
};

static uint32_t put(struct builder *bd, const char *p, size_t n)
{
	uint32_t off = bd->len;

	if (bd->oom || n > UINT32_MAX / 2)
		return bd->oom = true, 0;
	if (bd->len + n > bd->cap) {
		uint32_t cap = bd->cap ? bd->cap : 256;
		char *nb;
		while (cap < bd->len + n)
			cap *= 2;
		nb = realloc(bd->buf, cap);
		if (!nb)
			return bd->oom = true, 0;
		bd->buf = nb;
		bd->cap = cap;
	}
	memcpy(bd->buf + bd->len, p, n);
	bd->len += (uint32_t)n;
	return off;
}

static struct effect *add(struct builder *bd, uint8_t kind)
{
	struct effect *e;

	if (bd->hdr.n >= MAX_EFFECTS) {
		bd->oom = true;
		return NULL;
	}
	e = &bd->hdr.e[bd->hdr.n++];
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	return e;
}

static void add_text(struct builder *bd, uint8_t kind, const char *a,
		     size_t alen)
{
	struct effect *e = add(bd, kind);

	if (e) {
		e->a_off = put(bd, a, alen);
		e->a_len = (uint32_t)alen;
	}
}

/* Lower-cases what was just put at off (names the server compares
 * without regard to case). */
static void lower_at(struct builder *bd, uint32_t off, uint32_t len)
{
	if (bd->oom)
		return;
	for (uint32_t i = 0; i < len; i++)
		bd->buf[off + i] = (char)tolower((unsigned char)bd->buf[off + i]);
}

/* "schema NUL name" of a table: its own schema, else the session's. */
static void put_table(struct builder *bd, const struct session *s,
		      const struct sql_text *schema, const struct sql_text *name,
		      uint32_t *off, uint32_t *len)
{
	const char *sc = schema->len ? schema->ptr : s->st.schema;
	size_t sl = schema->len ? schema->len :
		    s->st.has_schema ? s->st.schema_len : 0;

	*off = put(bd, sc, sl);
	put(bd, "", 1);
	put(bd, name->ptr, name->len);
	*len = (uint32_t)(sl + 1 + name->len);
}

/* A string literal's value as the server reads it; NULL if it is not
 * one (the caller pins). */
static char *string_value(const struct sql_text *lit,
			  const struct sql_reading *rd, size_t *len)
{
	size_t n = sql_string_value(lit->ptr, lit->len, rd, NULL, 0);
	char *v;

	if (n == (size_t)-1 || !(v = malloc(n ? n : 1)))
		return NULL;
	sql_string_value(lit->ptr, lit->len, rd, v, n);
	*len = n;
	return v;
}

static const char *var_value(const struct session *s, const char *name)
{
	const struct mysql_state_var *v = mysql_state_get_var(&s->st, name);

	return v ? v->value : NULL;
}

/* The id of a character set's default collation (MariaDB 10.11), for
 * the charsets clients' handshakes name; 0 for others. */
static unsigned default_collation(const char *charset)
{
	static const struct {
		const char *cs;
		unsigned id;
	} defaults[] = {
		{"big5", 1}, {"latin2", 9}, {"latin1", 8}, {"ascii", 11},
		{"sjis", 13}, {"gbk", 28}, {"utf8mb3", 33}, {"utf8", 33},
		{"utf8mb4", 45}, {"cp1251", 51}, {"cp1250", 26}, {"binary", 63},
		{"cp932", 95}, {"gb2312", 24}, {"euckr", 19}, {"koi8r", 7},
	};

	for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
		if (!strcasecmp(defaults[i].cs, charset))
			return defaults[i].id;
	return 0;
}

/* SET @name = literal: the literal to replay, as mysql_state keeps it. */
static bool user_var(struct builder *bd, const struct session *s,
		     const struct sql_item *it, const struct sql_reading *rd)
{
	struct effect *e;
	char *lit = NULL;
	size_t lit_len;

	if (!it->name.len || it->name.len > 64)
		return false;
	if (it->detail == SQL_LIT_VERBATIM) {
		lit_len = it->value.len;
		if (!lit_len || lit_len > USER_VAR_LITERAL_MAX)
			return false;
	} else {
		char cs[65], coll[65];
		const char *charset, *collation;
		size_t vlen;
		char *v = string_value(&it->value, rd, &vlen);

		if (!v)
			return false;
		if (it->charset.len) {
			snprintf(cs, sizeof(cs), "%.*s", (int)it->charset.len,
				 it->charset.ptr);
			charset = cs;
		} else {
			charset = var_value(s, "character_set_connection");
		}
		if (it->collation.len) {
			snprintf(coll, sizeof(coll), "%.*s", (int)it->collation.len,
				 it->collation.ptr);
			collation = coll;
		} else {
			collation = it->charset.len ? NULL :
				    var_value(s, "collation_connection");
		}
		/* The handshake's collation is a number, which COLLATE does
		 * not take: exact only when it is the charset's default,
		 * which _charset'...' implies. */
		if (collation && isdigit((unsigned char)collation[0])) {
			if (charset && default_collation(charset) ==
			    (unsigned)atoi(collation))
				collation = NULL;
			else
				charset = NULL;
		}
		if (!charset) {
			free(v);
			return false;
		}
		lit_len = mysql_sql_string_literal(NULL, 0, v, vlen, charset,
						   collation);
		if (!lit_len || lit_len > USER_VAR_LITERAL_MAX ||
		    !(lit = malloc(lit_len))) {
			free(v);
			return false;
		}
		mysql_sql_string_literal(lit, lit_len, v, vlen, charset,
					 collation);
		free(v);
	}
	e = add(bd, EF_USER_VAR);
	if (e) {
		e->a_off = put(bd, it->name.ptr, it->name.len);
		e->a_len = (uint32_t)it->name.len;
		lower_at(bd, e->a_off, e->a_len);
		e->b_off = put(bd, lit ? lit : it->value.ptr, lit_len);
		e->b_len = (uint32_t)lit_len;
	}
	free(lit);
	return true;
}

static void items(struct builder *bd, const struct session *s,
		  const struct sql_class *c, const struct sql_reading *rd)
{
	bool inexact = c->flags & SQLC_INEXACT;
	/* A USE before a table item in the same command moves the schema
	 * its unqualified names mean. */
	bool schema_moves = c->flags & SQLC_USE && c->nstmts > 1;

	for (unsigned i = 0; i < c->nitems; i++) {
		const struct sql_item *it = &c->items[i];
		struct effect *e;
		char *v;
		size_t vlen;

		switch (it->kind) {
		case SQLI_USER_VAR:
			if (!user_var(bd, s, it, rd))
				bd->hdr.sticky |= PIN_USER_VARIABLE;
			break;
		case SQLI_TEMP_TABLE:
			if (schema_moves) {
				bd->hdr.sticky |= PIN_TEMPORARY_TABLE;
				break;
			}
			if ((e = add(bd, EF_TEMP_CREATE)))
				put_table(bd, s, &it->schema, &it->name,
					  &e->a_off, &e->a_len);
			break;
		case SQLI_DROP_TABLE:
			if (!schema_moves && !inexact && (e = add(bd, EF_TABLE_DROP)))
				put_table(bd, s, &it->schema, &it->name,
					  &e->a_off, &e->a_len);
			break;
		case SQLI_RENAME_TABLE:
			if (schema_moves || inexact) {
				/* A temporary table may now have a name myring
				 * does not know. */
				bd->hdr.sticky |= PIN_TEMPORARY_TABLE;
				break;
			}
			if ((e = add(bd, EF_TABLE_RENAME))) {
				put_table(bd, s, &it->schema, &it->name,
					  &e->a_off, &e->a_len);
				put_table(bd, s, &it->to_schema, &it->to_name,
					  &e->b_off, &e->b_len);
			}
			break;
		case SQLI_GET_LOCK:
		case SQLI_RELEASE_LOCK:
			v = string_value(&it->value, rd, &vlen);
			if (!v) {
				if (it->kind == SQLI_GET_LOCK)
					bd->hdr.sticky |= PIN_NAMED_LOCK;
				break;
			}
			if (it->kind == SQLI_GET_LOCK || !inexact)
				add_text(bd, it->kind == SQLI_GET_LOCK ?
					 EF_GET_LOCK : EF_RELEASE_LOCK, v, vlen);
			free(v);
			break;
		case SQLI_SET_NAMES:
			if (it->collation.len &&
			    (e = add(bd, EF_COLLATION))) {
				e->a_off = put(bd, it->collation.ptr,
					       it->collation.len);
				e->a_len = (uint32_t)it->collation.len;
				lower_at(bd, e->a_off, e->a_len);
			}
			break;
		case SQLI_PREPARE:
		case SQLI_DEALLOCATE:
			if (it->kind == SQLI_DEALLOCATE && inexact)
				break;
			if ((e = add(bd, it->kind == SQLI_PREPARE ? EF_PREPARE :
				     EF_DEALLOCATE))) {
				e->a_off = put(bd, it->name.ptr, it->name.len);
				e->a_len = (uint32_t)it->name.len;
				lower_at(bd, e->a_off, e->a_len);
			}
			break;
		case SQLI_HANDLER_OPEN:
			add_text(bd, EF_HANDLER_OPEN, it->to_name.ptr,
				 it->to_name.len);
			break;
		case SQLI_HANDLER_CLOSE:
			if (!inexact)
				add_text(bd, EF_HANDLER_CLOSE, it->name.ptr,
					 it->name.len);
			break;
		default:
			break;
		}
	}
}

/* What a flag says without items, and the acquisitions an inexact
 * command's items may not name (pinned until a reset). */
static void flags(struct builder *bd, const struct session *s,
		  const struct sql_class *c)
{
	uint64_t f = c->flags;

	if (f & SQLC_INEXACT) {
		if (f & (SQLC_TEMP_TABLE_CREATE | SQLC_TABLE_RENAME))
			bd->hdr.sticky |= PIN_TEMPORARY_TABLE;
		if (f & SQLC_GET_LOCK)
			bd->hdr.sticky |= PIN_NAMED_LOCK;
		if (f & SQLC_HANDLER)
			bd->hdr.sticky |= PIN_HANDLER;
		if (f & SQLC_SQL_PREPARE)
			bd->hdr.sticky |= PIN_SQL_PREPARE;
		if (f & SQLC_USER_VAR_SET)
			bd->hdr.sticky |= PIN_USER_VARIABLE;
	}
	if (f & SQLC_USER_VAR_ASSIGN)
		bd->hdr.sticky |= PIN_USER_VARIABLE;
	if (f & SQLC_LAST_INSERT_ID_SET)
		bd->hdr.sticky |= PIN_LAST_INSERT_ID;
	if (f & SQLC_SEQUENCE)
		bd->hdr.sticky |= PIN_SEQUENCE;
	if (f & (SQLC_SET_ROLE | SQLC_UNKNOWN))
		bd->hdr.sticky |= PIN_STATE;
	if (f & (SQLC_CALL | SQLC_STORED_FUNC))
		bd->hdr.dirty = true;
	if (f & SQLC_RELEASE_ALL_LOCKS && !(f & SQLC_INEXACT))
		add(bd, EF_RELEASE_ALL);
	if (f & (SQLC_LOCK_TABLES | SQLC_FLUSH_TABLES_READ_LOCK |
		 SQLC_BACKUP_LOCK))
		add(bd, EF_TABLE_LOCK);
	else if (f & (SQLC_UNLOCK_TABLES | SQLC_BACKUP_UNLOCK))
		add(bd, EF_TABLE_UNLOCK);
	if (f & SQLC_XA) {
		if (f & SQLC_TXN_BEGIN)
			add(bd, EF_XA_BEGIN);
		else if (f & SQLC_TXN_END)
			add(bd, EF_XA_END);
	}
	if (f & SQLC_CALC_FOUND_ROWS)
		add(bd, EF_FOUND_ROWS_START);
	else if (s->pins & PIN_FOUND_ROWS)
		add(bd, EF_FOUND_ROWS_END);
}

/* What a PREPARE's statement will do each time it is executed: pinned
 * once it is prepared, for the session's life (myring does not read
 * the executions). */
static uint32_t prepared_pins(const struct sql_class *c)
{
	uint64_t f = c->flags;
	uint32_t pins = 0;

	if (f & SQLC_TEMP_TABLE_CREATE)
		pins |= PIN_TEMPORARY_TABLE;
	if (f & SQLC_GET_LOCK)
		pins |= PIN_NAMED_LOCK;
	if (f & (SQLC_LOCK_TABLES | SQLC_FLUSH_TABLES_READ_LOCK |
		 SQLC_BACKUP_LOCK))
		pins |= PIN_TABLE_LOCK;
	if (f & SQLC_HANDLER)
		pins |= PIN_HANDLER;
	if (f & (SQLC_USER_VAR_SET | SQLC_USER_VAR_ASSIGN))
		pins |= PIN_USER_VARIABLE;
	if (f & SQLC_LAST_INSERT_ID_SET)
		pins |= PIN_LAST_INSERT_ID;
	if (f & SQLC_SEQUENCE)
		pins |= PIN_SEQUENCE;
	if (f & SQLC_CALC_FOUND_ROWS)
		pins |= PIN_FOUND_ROWS;
	if (f & (SQLC_CALL | SQLC_STORED_FUNC | SQLC_UNKNOWN | SQLC_SET_ROLE |
		 SQLC_SQL_PREPARE | SQLC_XA))
		pins |= PIN_STATE;
	return pins;
}

/* ---- the reading -------------------------------------------------------- */

/* "10.11.6-MariaDB-..." (or "5.5.5-10.11.6-MariaDB", the prefix old
 * clients need) -> 101106. */
static uint32_t version_number(const char *v)
{
	unsigned a = 0, b = 0, c = 0;

	if (!strncmp(v, "5.5.5-", 6) && strstr(v, "MariaDB"))
		v += 6;
	if (sscanf(v, "%u.%u.%u", &a, &b, &c) < 2)
		return 0;
	return a * 10000 + b * 100 + c;
}

void effects_reading(const struct session *s, struct sql_reading *rd)
{
	const struct mysql_state_var *mode =
		mysql_state_get_var(&s->st, "sql_mode");
	const struct mysql_state_var *cs =
		mysql_state_get_var(&s->st, "character_set_client");
	struct effects_scratch *es = &s->c.w->effects;

	if (!es->version) {
		const struct proxy *px = s->c.w->px;
		es->server = px->backend_mariadb ? SQL_SERVER_MARIADB :
			     SQL_SERVER_MYSQL;
		es->version = version_number(px->profile.version);
	}
	sql_reading_for_session(rd, mode ? mode->value : NULL,
				mode && mode->value ? mode->value_len : 0,
				cs ? cs->value : NULL,
				cs && cs->value ? cs->value_len : 0,
				es->server, es->version);
}

/* ---- classify ----------------------------------------------------------- */

void effects_scratch_free(struct effects_scratch *es)
{
	if (es->ready)
		sql_split_free(&es->split);
	es->ready = false;
}

const struct sql_class *effects_classify(struct session *s, struct pending *p,
					 const char *sql, size_t len,
					 bool prepare)
{
	struct effects_scratch *es = &s->c.w->effects;
	struct sql_class *c = &es->cls;
	struct sql_reading rd;
	struct builder bd;

	if (!es->ready) {
		sql_split_init(&es->split);
		es->ready = true;
	}
	effects_reading(s, &rd);
	sql_classify(&es->split, sql, len, &rd, c);
	/* A big command's scratch is not kept. */
	sql_split_shrink(&es->split, 1u << 20);
	p->explained = !(c->flags & (SQLC_UNKNOWN | SQLC_INEXACT | SQLC_CALL |
				     SQLC_STORED_FUNC));
	if (c->flags & SQLC_SET_STATEMENT)
		p->apply_opts |= MYSQL_APPLY_SKIP_VARS;

	memset(&bd, 0, sizeof(bd));
	bd.hdr.multi = c->nstmts > 1;
	if (prepare) {
		bd.hdr.prepare = true;
		bd.hdr.sticky = prepared_pins(c);
	} else {
		items(&bd, s, c, &rd);
		flags(&bd, s, c);
	}
	if (!bd.hdr.n && !bd.hdr.sticky && !bd.hdr.dirty && !bd.oom) {
		free(bd.buf);
		return c;
	}
	if (!bd.oom)
		p->effects = malloc(sizeof(*p->effects) + bd.len);
	if (!p->effects) {
		/* Nothing of it can be known: the session keeps its
		 * connection. */
		free(bd.buf);
		session_pin(s, PIN_STATE);
		p->explained = false;
		return c;
	}
	*p->effects = bd.hdr;
	p->effects->len = bd.len;
	if (bd.len)
		memcpy(p->effects->buf, bd.buf, bd.len);
	free(bd.buf);
	return c;
}

/* ---- apply -------------------------------------------------------------- */

static struct sess_resources *resources(struct session *s)
{
	if (!s->res)
		s->res = calloc(1, sizeof(*s->res));
	return s->res;
}

static void record(struct session *s, struct sess_resources *r,
		   const struct cmd_effects *ce, const struct effect *e)
{
	const char *a = ce->buf + e->a_off, *b = ce->buf + e->b_off;
	int rc = 0;

	switch (e->kind) {
	case EF_TEMP_CREATE:
		rc = set_add(&r->temp_tables, a, e->a_len);
		break;
	case EF_TABLE_DROP:
		set_remove(&r->temp_tables, a, e->a_len);
		break;
	case EF_TABLE_RENAME:
		if (set_find(&r->temp_tables, a, e->a_len) >= 0) {
			set_remove(&r->temp_tables, a, e->a_len);
			rc = set_add(&r->temp_tables, b, e->b_len);
		}
		break;
	case EF_GET_LOCK:
		rc = set_add(&r->locks, a, e->a_len);
		break;
	case EF_RELEASE_LOCK:
		set_remove(&r->locks, a, e->a_len);
		break;
	case EF_RELEASE_ALL:
		set_clear(&r->locks);
		break;
	case EF_TABLE_LOCK:
		r->table_lock = true;
		break;
	case EF_TABLE_UNLOCK:
		r->table_lock = false;
		break;
	case EF_HANDLER_OPEN:
		rc = set_add(&r->handlers, a, e->a_len);
		break;
	case EF_HANDLER_CLOSE:
		set_remove(&r->handlers, a, e->a_len);
		break;
	case EF_PREPARE:
		rc = set_add(&r->prepared, a, e->a_len);
		break;
	case EF_DEALLOCATE:
		set_remove(&r->prepared, a, e->a_len);
		break;
	case EF_USER_VAR:
		if (mysql_state_set_user_var(&s->st, a, e->a_len, b, e->b_len))
			r->sticky |= PIN_USER_VARIABLE;
		s->state_moved = true;
		break;
	case EF_COLLATION:
		if (mysql_state_set_var(&s->st, "collation_connection", 20, a,
					e->a_len))
			r->sticky |= PIN_STATE;
		s->state_moved = true;
		break;
	case EF_XA_BEGIN:
		session_pin(s, PIN_TRANSACTION);
		break;
	case EF_XA_END:
		if (s->c.w->px->cfg.pool_mode != POOL_STATEMENT)
			session_unpin(s, PIN_TRANSACTION);
		break;
	case EF_FOUND_ROWS_START:
		r->found_rows = true;
		break;
	case EF_FOUND_ROWS_END:
		r->found_rows = false;
		break;
	}
	if (rc)
		r->sticky |= PIN_STATE;
}

/* The pins these resources make, with the others kept as they are. */
static void repin(struct session *s)
{
	const struct sess_resources *r = s->res;
	uint32_t pins = s->pins & ~(uint32_t)EFFECT_PINS;

	if (r) {
		pins |= r->sticky;
		if (r->temp_tables.n)
			pins |= PIN_TEMPORARY_TABLE;
		if (r->locks.n)
			pins |= PIN_NAMED_LOCK;
		if (r->table_lock)
			pins |= PIN_TABLE_LOCK;
		if (r->handlers.n)
			pins |= PIN_HANDLER;
		if (r->prepared.n)
			pins |= PIN_SQL_PREPARE;
		if (r->found_rows)
			pins |= PIN_FOUND_ROWS;
	}
	pins |= s->pins & PIN_TRANSACTION;
	session_set_pins(s, pins);
}

void effects_apply(struct session *s, struct pending *p, uint16_t err)
{
	struct cmd_effects *ce = p->effects;
	struct sess_resources *r;
	/* A statement that failed alone did nothing; in a multi-statement
	 * those before it ran. */
	bool ran_some = !err || (ce && ce->multi && !ce->prepare);

	if (!ce)
		return;
	p->effects = NULL;
	if (ce->dirty && s->be)
		/* Code myring did not see may have left anything. */
		s->be->dirty = true;
	if (!ran_some || !(r = resources(s))) {
		if (ran_some)
			session_pin(s, PIN_STATE);
		free(ce);
		return;
	}
	r->sticky |= ce->sticky;
	for (unsigned i = 0; i < ce->n; i++) {
		const struct effect *e = &ce->e[i];

		if (!err || acquires(e->kind))
			record(s, r, ce, e);
		else if (e->kind == EF_USER_VAR)
			/* It may or may not have been set. */
			r->sticky |= PIN_USER_VARIABLE;
	}
	free(ce);
	repin(s);
}

void effects_discard(struct pending *p)
{
	free(p->effects);
	p->effects = NULL;
}

void effects_reset(struct session *s)
{
	if (!s->res)
		return;
	effects_free(s);
}

void effects_free(struct session *s)
{
	struct sess_resources *r = s->res;

	if (!r)
		return;
	set_clear(&r->temp_tables);
	set_clear(&r->locks);
	set_clear(&r->handlers);
	set_clear(&r->prepared);
	free(r);
	s->res = NULL;
}
