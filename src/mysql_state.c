#include "mysql_state.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static bool str_eq_ci(const char *a, size_t alen, const char *b)
{
	return alen == strlen(b) && strncasecmp(a, b, alen) == 0;
}

/* ---- the session-state block ------------------------------------------ */

int mysql_track_next(struct mysql_track_iter *it, struct mysql_track_entry *e)
{
	size_t pos = it->pos, dpos = 0;
	const uint8_t *d;
	uint64_t spec;
	int n;

	if (pos >= it->len)
		return 0;
	memset(e, 0, sizeof(*e));
	e->type = it->p[pos++];
	if (mysql_get_lenenc_str(it->p, it->len, &pos, &e->data))
		return -1;
	e->off = it->pos;
	e->len = pos - it->pos;
	d = (const uint8_t *)e->data.ptr;
	switch (e->type) {
	case SESSION_TRACK_SYSTEM_VARIABLES:
		if (mysql_get_lenenc_str(d, e->data.len, &dpos, &e->name) ||
		    mysql_get_lenenc_str(d, e->data.len, &dpos, &e->value))
			return -1;
		break;
	case SESSION_TRACK_SCHEMA:
		if (mysql_get_lenenc_str(d, e->data.len, &dpos, &e->name))
			return -1;
		e->value = e->name;
		break;
	case SESSION_TRACK_GTIDS:
		n = mysql_get_lenenc(d, e->data.len, &spec);
		if (n < 0)
			return -1;
		dpos = (size_t)n;
		if (mysql_get_lenenc_str(d, e->data.len, &dpos, &e->value))
			return -1;
		break;
	case SESSION_TRACK_TRANSACTION_CHARACTERISTICS:
	case SESSION_TRACK_TRANSACTION_STATE:
		if (mysql_get_lenenc_str(d, e->data.len, &dpos, &e->value))
			return -1;
		break;
	default: /* STATE_CHANGE ("1") and types this code does not know */
		e->value = e->data;
		dpos = e->data.len;
		break;
	}
	/* A known type's fields must fill its data exactly. */
	if (dpos != e->data.len)
		return -1;
	it->pos = pos;
	return 1;
}

/* ---- a client's own tracking settings ---------------------------------- */

#define DEFAULT_TRACKED_VARS                                                   \
	"autocommit,character_set_client,character_set_connection,"            \
	"character_set_results,time_zone"

void mysql_track_cfg_default(struct mysql_track_cfg *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->schema = true;
	cfg->vars_len = sizeof(DEFAULT_TRACKED_VARS) - 1;
	memcpy(cfg->vars, DEFAULT_TRACKED_VARS, cfg->vars_len + 1);
}

/* ON/OFF as the server reports a boolean (it accepts 1/0, TRUE/FALSE). */
static int parse_bool(const char *v, size_t len)
{
	if (str_eq_ci(v, len, "ON") || str_eq_ci(v, len, "1") ||
	    str_eq_ci(v, len, "TRUE"))
		return 1;
	if (str_eq_ci(v, len, "OFF") || str_eq_ci(v, len, "0") ||
	    str_eq_ci(v, len, "FALSE"))
		return 0;
	return -1;
}

/* The list lower case, without blanks or empty items (a comma is written
 * only before an item that has a character); '*' means all. */
static int set_tracked_vars(struct mysql_track_cfg *cfg, const char *v,
			    size_t len)
{
	char list[MYSQL_TRACK_VARS_MAX + 1];
	size_t n = 0, i = 0;
	bool all = false;

	while (i < len) {
		size_t start = n;

		while (i < len && (v[i] == ' ' || v[i] == '\t'))
			i++;
		if (n && i < len && v[i] != ',') {
			if (n >= MYSQL_TRACK_VARS_MAX)
				return -1;
			list[n++] = ',';
			start = n;
		}
		for (; i < len && v[i] != ','; i++) {
			char c = v[i];
			if (c == ' ' || c == '\t')
				continue;
			if (n >= MYSQL_TRACK_VARS_MAX)
				return -1;
			list[n++] = (c >= 'A' && c <= 'Z') ? (char)(c + 32) : c;
		}
		if (n - start == 1 && list[start] == '*')
			all = true;
		i++; /* the comma */
	}
	list[n] = '\0';
	memcpy(cfg->vars, list, n + 1);
	cfg->vars_len = (uint16_t)n;
	cfg->all_vars = all;
	return 0;
}

int mysql_track_cfg_set(struct mysql_track_cfg *cfg, const char *name,
			size_t name_len, const char *value, size_t value_len)
{
	int b;

	if (str_eq_ci(name, name_len, "session_track_system_variables"))
		return set_tracked_vars(cfg, value, value_len) ? -1 : 1;
	if (str_eq_ci(name, name_len, "session_track_schema")) {
		if ((b = parse_bool(value, value_len)) < 0)
			return -1;
		cfg->schema = b;
		return 1;
	}
	if (str_eq_ci(name, name_len, "session_track_state_change")) {
		if ((b = parse_bool(value, value_len)) < 0)
			return -1;
		cfg->state_change = b;
		return 1;
	}
	if (str_eq_ci(name, name_len, "session_track_transaction_info")) {
		if (str_eq_ci(value, value_len, "OFF") ||
		    str_eq_ci(value, value_len, "0"))
			cfg->trx_info = TRACK_TRX_OFF;
		else if (str_eq_ci(value, value_len, "STATE") ||
			 str_eq_ci(value, value_len, "1"))
			cfg->trx_info = TRACK_TRX_STATE;
		else if (str_eq_ci(value, value_len, "CHARACTERISTICS") ||
			 str_eq_ci(value, value_len, "2"))
			cfg->trx_info = TRACK_TRX_CHARACTERISTICS;
		else
			return -1;
		return 1;
	}
	if (str_eq_ci(name, name_len, "session_track_gtids")) {
		/* MySQL: OFF, OWN_GTID, ALL_GTIDS.  myring never asks for
		 * GTIDs on its connections, so there are none to show. */
		cfg->gtids = !str_eq_ci(value, value_len, "OFF") &&
			     !str_eq_ci(value, value_len, "0");
		return 1;
	}
	return 0;
}

static bool list_has(const char *list, size_t list_len, const char *name,
		     size_t name_len)
{
	size_t i = 0;

	while (i < list_len) {
		const char *comma = memchr(list + i, ',', list_len - i);
		size_t end = comma ? (size_t)(comma - list) : list_len;

		if (end - i == name_len &&
		    strncasecmp(list + i, name, name_len) == 0)
			return true;
		i = end + 1;
	}
	return false;
}

bool mysql_track_cfg_keeps(const struct mysql_track_cfg *cfg,
			   const struct mysql_track_entry *e)
{
	switch (e->type) {
	case SESSION_TRACK_SYSTEM_VARIABLES:
		return cfg->all_vars || list_has(cfg->vars, cfg->vars_len,
						 e->name.ptr, e->name.len);
	case SESSION_TRACK_SCHEMA:
		return cfg->schema;
	case SESSION_TRACK_STATE_CHANGE:
		return cfg->state_change;
	case SESSION_TRACK_GTIDS:
		return cfg->gtids;
	case SESSION_TRACK_TRANSACTION_STATE:
		return cfg->trx_info >= TRACK_TRX_STATE;
	case SESSION_TRACK_TRANSACTION_CHARACTERISTICS:
		return cfg->trx_info == TRACK_TRX_CHARACTERISTICS;
	default:
		return false;
	}
}

long mysql_ok_filter_session_track(uint8_t *p, size_t len, uint64_t caps,
				   const struct mysql_track_cfg *cfg)
{
	struct mysql_ok_ext ok;
	struct mysql_track_iter it;
	struct mysql_track_entry e;
	size_t blk, w, kept, ps;
	uint16_t status;
	int r;

	if (mysql_parse_ok_ext(p, len, caps, &ok))
		return -1;
	status = ok.ok.status & ~SERVER_SESSION_STATE_CHANGED;
	if (!ok.state_off) {
		if (!cfg && ok.status_off)
			mysql_put_u16(p + ok.status_off, status);
		return (long)len;
	}
	/* Check the whole block before moving a byte. */
	mysql_track_iter_init(&it, ok.session_state);
	while ((r = mysql_track_next(&it, &e)) == 1)
		;
	if (r < 0)
		return -1;

	/* Kept entries slide towards the block's start; a write never
	 * reaches an entry not yet read. */
	blk = (size_t)((const uint8_t *)ok.session_state.ptr - p);
	w = blk;
	mysql_track_iter_init(&it, ok.session_state);
	while (mysql_track_next(&it, &e) == 1) {
		if (!cfg || !mysql_track_cfg_keeps(cfg, &e))
			continue;
		memmove(p + w, p + blk + e.off, e.len);
		w += e.len;
	}
	kept = w - blk;
	if (cfg && kept == ok.session_state.len) /* nothing dropped */
		return (long)ok.end_off;
	if (kept == 0) {
		mysql_put_u16(p + ok.status_off, status);
		/* A server omits an empty info when no state follows. */
		return (long)(ok.info.len ? ok.state_off : ok.tail_off);
	}
	/* The shorter block's length never takes more bytes than before. */
	ps = mysql_lenenc_size(kept);
	memmove(p + ok.state_off + ps, p + blk, kept);
	mysql_put_lenenc(p + ok.state_off, kept);
	return (long)(ok.state_off + ps + kept);
}

/* ---- variables ---------------------------------------------------------- */

static bool is_ident(const char *s, size_t len)
{
	if (len == 0 || len > MYSQL_STATE_MAX_NAME)
		return false;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '$'))
			return false;
	}
	return true;
}

static struct mysql_state_var *find_var(struct mysql_state_var *vars,
					uint16_t n, const char *name,
					size_t len)
{
	for (uint16_t i = 0; i < n; i++)
		if (vars[i].name_len == len &&
		    strncasecmp(vars[i].name, name, len) == 0)
			return &vars[i];
	return NULL;
}

static size_t var_bytes(const struct mysql_state_var *v)
{
	return (size_t)v->name_len + 1 + (v->value ? v->value_len + 1 : 0);
}

static void var_drop(struct mysql_sess_state *st, struct mysql_state_var *vars,
		     uint16_t *n, struct mysql_state_var *v)
{
	st->bytes -= (uint32_t)var_bytes(v);
	free(v->name);
	/* Keep the order of the others: replays list them as they came. */
	memmove(v, v + 1, (size_t)(&vars[*n] - (v + 1)) * sizeof(*v));
	(*n)--;
}

static void overflow(struct mysql_sess_state *st)
{
	st->overflow = true;
}

/* Inserts or replaces name -> value in one of the two maps. */
static int var_put(struct mysql_sess_state *st, bool user, const char *name,
		   size_t name_len, const char *value, size_t value_len,
		   bool lower)
{
	struct mysql_state_var **vars = user ? &st->user_vars : &st->vars;
	uint16_t *n = user ? &st->n_user_vars : &st->n_vars;
	uint16_t *cap = user ? &st->cap_user_vars : &st->cap_vars;
	unsigned max = user ? MYSQL_STATE_MAX_USER_VARS : MYSQL_STATE_MAX_VARS;
	struct mysql_state_var *v = find_var(*vars, *n, name, name_len);
	size_t need, old = v ? var_bytes(v) : 0;
	char *text;

	if (name_len == 0 || name_len > MYSQL_STATE_MAX_NAME ||
	    (value && value_len > MYSQL_STATE_MAX_VALUE)) {
		overflow(st);
		return -1;
	}
	need = name_len + 1 + (value ? value_len + 1 : 0);
	if (!v && *n == *cap) {
		uint16_t ncap = *cap ? (uint16_t)(*cap * 2) : 8;
		struct mysql_state_var *nv;

		if (*n >= max) {
			overflow(st);
			return -1;
		}
		if (ncap > max)
			ncap = (uint16_t)max;
		if (st->bytes + (ncap - *cap) * sizeof(**vars) >
		    MYSQL_STATE_MAX_BYTES) {
			overflow(st);
			return -1;
		}
		nv = realloc(*vars, ncap * sizeof(**vars));
		if (!nv) {
			overflow(st);
			return -1;
		}
		st->bytes += (uint32_t)((ncap - *cap) * sizeof(**vars));
		*vars = nv;
		*cap = ncap;
	}
	if (st->bytes - old + need > MYSQL_STATE_MAX_BYTES) {
		overflow(st);
		return -1;
	}
	text = malloc(need);
	if (!text) {
		overflow(st);
		return -1;
	}
	for (size_t i = 0; i < name_len; i++) {
		char c = name[i];
		text[i] = lower && c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
	}
	text[name_len] = '\0';
	if (value) {
		memcpy(text + name_len + 1, value, value_len);
		text[name_len + 1 + value_len] = '\0';
	}
	if (v) {
		free(v->name);
		st->bytes -= (uint32_t)old;
	} else {
		v = &(*vars)[(*n)++];
	}
	v->name = text;
	v->name_len = (uint16_t)name_len;
	v->value = value ? text + name_len + 1 : NULL;
	v->value_len = value ? (uint32_t)value_len : 0;
	st->bytes += (uint32_t)need;
	return 0;
}

void mysql_state_init(struct mysql_sess_state *st)
{
	memset(st, 0, sizeof(*st));
	memset(st->trx_state, '_', sizeof(st->trx_state));
	mysql_track_cfg_default(&st->track);
}

static void free_vars(struct mysql_state_var *vars, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		free(vars[i].name);
	free(vars);
}

void mysql_state_free(struct mysql_sess_state *st)
{
	free_vars(st->vars, st->n_vars);
	free_vars(st->user_vars, st->n_user_vars);
	mysql_state_init(st);
}

static int copy_vars(struct mysql_sess_state *dst, bool user,
		     const struct mysql_state_var *vars, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		if (var_put(dst, user, vars[i].name, vars[i].name_len,
			    vars[i].value, vars[i].value_len, false))
			return -1;
	return 0;
}

int mysql_state_copy(struct mysql_sess_state *dst,
		     const struct mysql_sess_state *src)
{
	if (dst == src)
		return 0;
	mysql_state_free(dst);
	/* Scalars and fixed arrays first, then the maps entry by entry. */
	*dst = *src;
	dst->vars = dst->user_vars = NULL;
	dst->n_vars = dst->cap_vars = dst->n_user_vars = dst->cap_user_vars = 0;
	dst->bytes = 0;
	if (copy_vars(dst, false, src->vars, src->n_vars) ||
	    copy_vars(dst, true, src->user_vars, src->n_user_vars)) {
		mysql_state_free(dst);
		dst->overflow = true;
		return -1;
	}
	return 0;
}

int mysql_state_set_var(struct mysql_sess_state *st, const char *name,
			size_t name_len, const char *value, size_t value_len)
{
	if (!is_ident(name, name_len))
		return -1;
	return var_put(st, false, name, name_len, value, value_len, true);
}

const struct mysql_state_var *mysql_state_get_var(
	const struct mysql_sess_state *st, const char *name)
{
	return find_var(st->vars, st->n_vars, name, strlen(name));
}

static void del_var(struct mysql_sess_state *st, const char *name)
{
	struct mysql_state_var *v = find_var(st->vars, st->n_vars, name,
					     strlen(name));
	if (v)
		var_drop(st, st->vars, &st->n_vars, v);
}

int mysql_state_set_user_var(struct mysql_sess_state *st, const char *name,
			     size_t name_len, const char *literal,
			     size_t literal_len)
{
	struct mysql_state_var *v;

	if (!literal) {
		v = find_var(st->user_vars, st->n_user_vars, name, name_len);
		if (v)
			var_drop(st, st->user_vars, &st->n_user_vars, v);
		return 0;
	}
	/* No identifier holds a NUL, not even a quoted one. */
	if (literal_len == 0 || memchr(name, '\0', name_len))
		return -1;
	return var_put(st, true, name, name_len, literal, literal_len, false);
}

int mysql_state_set_schema(struct mysql_sess_state *st, const char *schema,
			   size_t len)
{
	if (len > MYSQL_STATE_MAX_SCHEMA) {
		overflow(st);
		return -1;
	}
	st->has_schema = schema && len;
	st->schema_len = (uint16_t)(st->has_schema ? len : 0);
	if (st->has_schema)
		memcpy(st->schema, schema, len);
	st->schema[st->schema_len] = '\0';
	return 0;
}

/* Character set of each collation id below 256 that a client may use in
 * its handshake, from MariaDB 10.11's information_schema.COLLATIONS (ucs2,
 * utf16, utf16le and utf32 left out: the server refuses them as a client
 * character set).  MySQL numbers these ids the same way. */
static const char *const charsets[] = {
	NULL, "big5", "latin2", "dec8", "cp850", "latin1", "hp8", "koi8r",
	"swe7", "ascii", "ujis", "sjis", "cp1251", "hebrew", "tis620",
	"euckr", "latin7", "koi8u", "gb2312", "greek", "cp1250", "gbk",
	"cp1257", "latin5", "armscii8", "utf8mb3", "cp866", "keybcs2",
	"macce", "macroman", "cp852", "utf8mb4", "cp1256", "binary",
	"geostd8", "cp932", "eucjpms",
};

static const uint8_t charset_of[256] = {
	 0,  1,  2,  3,  4,  5,  6,  7,  5,  2,  8,  9, 10, 11, 12,  5,
	13,  0, 14, 15, 16,  2, 17, 12, 18, 19, 20,  2, 21, 22, 23,  5,
	24, 25, 20,  0, 26, 27, 28, 29, 30, 16, 16, 28, 20, 31, 31,  5,
	 5,  5, 12, 12, 12, 29,  0,  0,  0, 32, 22, 22,  0,  0,  0, 33,
	24,  9, 20, 32, 26,  3, 19, 13,  6, 27,  7, 17,  0,  2, 23, 16,
	 4, 30,  8, 25,  1, 15, 18, 21, 11, 14,  0, 10, 34, 34,  5, 35,
	35, 36, 36, 20,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	 0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,  0,
	25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25, 25,
	25, 25, 25, 25, 25, 25, 25, 25,  0,  0,  0,  0,  0,  0,  0, 25,
	31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31, 31,
	31, 31, 31, 31, 31, 31, 31, 31,  0,  0,  0,  0,  0,  0,  0,  0,
};

const char *mysql_charset_of_collation(uint8_t collation)
{
	return charsets[charset_of[collation]];
}

int mysql_state_seed_charset(struct mysql_sess_state *st, uint8_t collation)
{
	const char *cs = mysql_charset_of_collation(collation);
	char id[4];
	int n;

	if (!cs)
		return -1;
	n = snprintf(id, sizeof(id), "%u", collation);
	if (mysql_state_set_var(st, "character_set_client", 20, cs, strlen(cs)) ||
	    mysql_state_set_var(st, "character_set_results", 21, cs, strlen(cs)) ||
	    mysql_state_set_var(st, "character_set_connection", 24, cs,
				strlen(cs)) ||
	    mysql_state_set_var(st, "collation_connection", 20, id, (size_t)n))
		return -1;
	return 0;
}

bool mysql_state_trx_idle(const struct mysql_sess_state *st)
{
	for (size_t i = 0; i < sizeof(st->trx_state); i++)
		if (st->trx_state[i] != '_')
			return false;
	return !st->trx_chars_pending;
}

void mysql_state_trx_ended(struct mysql_sess_state *st)
{
	memset(st->trx_state, '_', sizeof(st->trx_state));
}

/* ---- applying an OK ------------------------------------------------------ */

enum var_policy {
	VP_REPLAY,      /* keep name -> value, replay it */
	VP_PIN,         /* cannot be replayed */
	VP_TRACKING,    /* myring's own: the client's view only */
	VP_INSERT_ID,   /* LAST_INSERT_ID() */
	VP_GTID,        /* last_gtid: what the session's last commit wrote */
};

/*
 * Variables that need more than "replay the reported value":
 * - timestamp: SET timestamp=DEFAULT is reported with the old value
 *   (MariaDB 10.11), and a replayed value would freeze the clock;
 * - insert_id, rand_seed1/2, gtid_seq_no: used up by the next statement
 *   that needs them: replaying later would apply them to the wrong one;
 * - session_track_*: the backend connection must keep myring's settings;
 * - last_gtid (MariaDB, with a binary log): read-only, reported after every
 *   commit; kept for causal reads, never replayed.
 */
static enum var_policy var_policy(const char *name, size_t len)
{
	static const struct {
		const char *name;
		enum var_policy policy;
	} table[] = {
		{"timestamp", VP_PIN},
		{"insert_id", VP_PIN},
		{"rand_seed1", VP_PIN},
		{"rand_seed2", VP_PIN},
		{"gtid_seq_no", VP_PIN},
		{"last_insert_id", VP_INSERT_ID},
		{"identity", VP_INSERT_ID},
		{"session_track_system_variables", VP_TRACKING},
		{"session_track_schema", VP_TRACKING},
		{"session_track_state_change", VP_TRACKING},
		{"session_track_transaction_info", VP_TRACKING},
		{"session_track_gtids", VP_TRACKING},
		{"last_gtid", VP_GTID},
	};

	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++)
		if (str_eq_ci(name, len, table[i].name))
			return table[i].policy;
	return VP_REPLAY;
}

static bool parse_u64(const char *s, size_t len, uint64_t *v)
{
	uint64_t x = 0;

	if (len == 0 || len > 20)
		return false;
	for (size_t i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return false;
		if (x > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return false;
		x = x * 10 + (uint64_t)(s[i] - '0');
	}
	*v = x;
	return true;
}

static int apply_var(struct mysql_sess_state *st,
		     const struct mysql_track_entry *e, bool *cs_conn,
		     bool *collation)
{
	const char *name = e->name.ptr;
	size_t len = e->name.len;
	uint64_t id;

	switch (var_policy(name, len)) {
	case VP_PIN:
		return MYSQL_STATE_PIN;
	case VP_TRACKING:
		/* A view myring cannot follow would show the client the
		 * wrong entries: as good as unknown state. */
		if (mysql_track_cfg_set(&st->track, name, len, e->value.ptr,
					e->value.len) < 0)
			return MYSQL_STATE_TRACKING | MYSQL_STATE_PIN;
		return MYSQL_STATE_TRACKING;
	case VP_INSERT_ID:
		if (!parse_u64(e->value.ptr, e->value.len, &id))
			return MYSQL_STATE_PIN;
		st->last_insert_id = id;
		return MYSQL_STATE_INSERT_ID;
	case VP_GTID:
		if (e->value.len >= sizeof(st->last_gtid))
			return MYSQL_STATE_GTID;
		memcpy(st->last_gtid, e->value.ptr, e->value.len);
		st->last_gtid[e->value.len] = '\0';
		return MYSQL_STATE_GTID;
	case VP_REPLAY:
		break;
	}
	if (str_eq_ci(name, len, "character_set_connection"))
		*cs_conn = true;
	if (str_eq_ci(name, len, "collation_connection"))
		*collation = true;
	/* SET character_set_results=NULL is reported as an empty value;
	 * '' is no character set the server would accept back. */
	if (str_eq_ci(name, len, "character_set_results") && e->value.len == 0)
		return mysql_state_set_var(st, name, len, NULL, 0) ?
			       MYSQL_STATE_OVERFLOW : MYSQL_STATE_VARS;
	return mysql_state_set_var(st, name, len, e->value.ptr, e->value.len) ?
		       MYSQL_STATE_OVERFLOW : MYSQL_STATE_VARS;
}

int mysql_state_apply(struct mysql_sess_state *st,
		      const struct mysql_ok_ext *ok, unsigned opts)
{
	struct mysql_track_iter it;
	struct mysql_track_entry e;
	bool state_change = false, explained = false;
	bool cs_conn = false, collation = false;
	int r, flags = 0;

	/* Validate everything before changing anything. */
	mysql_track_iter_init(&it, ok->session_state);
	while ((r = mysql_track_next(&it, &e)) == 1) {
		if (e.type == SESSION_TRACK_SYSTEM_VARIABLES &&
		    !is_ident(e.name.ptr, e.name.len))
			return -1;
		if (e.type == SESSION_TRACK_TRANSACTION_STATE &&
		    e.value.len != sizeof(st->trx_state))
			return -1;
	}
	if (r < 0)
		return -1;

	mysql_track_iter_init(&it, ok->session_state);
	while (mysql_track_next(&it, &e) == 1) {
		switch (e.type) {
		case SESSION_TRACK_SYSTEM_VARIABLES:
			explained = true;
			if (!(opts & MYSQL_APPLY_SKIP_VARS))
				flags |= apply_var(st, &e, &cs_conn, &collation);
			break;
		case SESSION_TRACK_SCHEMA:
			explained = true;
			flags |= MYSQL_STATE_SCHEMA;
			if (mysql_state_set_schema(st, e.name.ptr, e.name.len))
				flags |= MYSQL_STATE_OVERFLOW;
			break;
		case SESSION_TRACK_STATE_CHANGE:
			state_change = true;
			break;
		case SESSION_TRACK_GTIDS:
			flags |= MYSQL_STATE_GTIDS;
			break;
		case SESSION_TRACK_TRANSACTION_CHARACTERISTICS:
			st->trx_chars_pending = e.value.len > 0;
			flags |= MYSQL_STATE_TRX;
			break;
		case SESSION_TRACK_TRANSACTION_STATE:
			memcpy(st->trx_state, e.value.ptr, sizeof(st->trx_state));
			flags |= MYSQL_STATE_TRX;
			break;
		default:
			flags |= MYSQL_STATE_UNEXPLAINED;
			break;
		}
	}
	/* SET NAMES, SET CHARACTER SET and SET character_set_connection
	 * report the character sets but not collation_connection, which
	 * becomes the connection charset's default, unless COLLATE named
	 * another (MariaDB 10.11; MySQL marks the same three). */
	if (cs_conn && !collation) {
		del_var(st, "collation_connection");
		flags |= MYSQL_STATE_CHARSET;
	}
	if (state_change && !explained)
		flags |= MYSQL_STATE_UNEXPLAINED;
	/* The flag with no entry at all: what MariaDB answers to a SET that
	 * turns tracking off for the very variables it sets. */
	if ((ok->ok.status & SERVER_SESSION_STATE_CHANGED) &&
	    ok->session_state.len == 0)
		flags |= MYSQL_STATE_UNEXPLAINED;
	if (!(opts & MYSQL_APPLY_NO_INSERT_ID) && ok->ok.last_insert_id) {
		st->last_insert_id = ok->ok.last_insert_id;
		flags |= MYSQL_STATE_INSERT_ID;
	}
	if (st->overflow)
		flags |= MYSQL_STATE_OVERFLOW;
	return flags;
}

int mysql_state_apply_ok(struct mysql_sess_state *st, const uint8_t *payload,
			 size_t len, uint64_t caps, unsigned opts)
{
	struct mysql_ok_ext ok;

	if (mysql_parse_ok_ext(payload, len, caps, &ok))
		return -1;
	return mysql_state_apply(st, &ok, opts);
}

/* ---- SQL literals ---------------------------------------------------- */

/* Appends to a bounded buffer, counting what it could not write. */
struct out {
	char *p;
	size_t cap, len;
};

static void put_mem(struct out *o, const char *s, size_t n)
{
	if (o->len < o->cap)
		memcpy(o->p + o->len, s, o->len + n <= o->cap ? n : o->cap - o->len);
	o->len += n;
}

static void put_str(struct out *o, const char *s)
{
	put_mem(o, s, strlen(s));
}

static void put_hex(struct out *o, const char *s, size_t n)
{
	static const char hex[] = "0123456789ABCDEF";

	put_str(o, "X'");
	for (size_t i = 0; i < n; i++) {
		char h[2] = {hex[(uint8_t)s[i] >> 4], hex[(uint8_t)s[i] & 15]};
		put_mem(o, h, 2);
	}
	put_str(o, "'");
}

static bool is_number(const char *s, size_t n)
{
	size_t i = 0, digits = 0;

	if (i < n && s[i] == '-')
		i++;
	while (i < n && s[i] >= '0' && s[i] <= '9')
		i++, digits++;
	if (!digits)
		return false;
	if (i < n && s[i] == '.') {
		size_t frac = 0;
		i++;
		while (i < n && s[i] >= '0' && s[i] <= '9')
			i++, frac++;
		if (!frac)
			return false;
	}
	return i == n;
}

/* Text that reads the same in single quotes under any sql_mode and in any
 * client character set: printable ASCII without quote or backslash. */
static bool is_plain(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < 0x20 || s[i] > 0x7E || s[i] == '\'' || s[i] == '\\')
			return false;
	return true;
}

size_t mysql_sql_value_literal(char *buf, size_t cap, const char *v, size_t len)
{
	struct out o = {buf, cap, 0};

	if (is_number(v, len)) {
		put_mem(&o, v, len);
	} else if (is_plain(v, len)) {
		put_str(&o, "'");
		put_mem(&o, v, len);
		put_str(&o, "'");
	} else {
		put_hex(&o, v, len);
	}
	return o.len;
}

size_t mysql_sql_string_literal(char *buf, size_t cap, const char *v,
				size_t len, const char *charset,
				const char *collation)
{
	struct out o = {buf, cap, 0};

	if ((charset && !is_ident(charset, strlen(charset))) ||
	    (collation && !is_ident(collation, strlen(collation))))
		return 0;
	if (charset) {
		put_str(&o, "_");
		put_str(&o, charset);
	}
	if (is_plain(v, len)) {
		put_str(&o, "'");
		put_mem(&o, v, len);
		put_str(&o, "'");
	} else {
		if (charset)
			put_str(&o, " ");
		put_hex(&o, v, len);
	}
	if (collation) {
		put_str(&o, " COLLATE ");
		put_str(&o, collation);
	}
	return o.len;
}

/* ---- replaying --------------------------------------------------------- */

/* The four variables SET NAMES touches, in the order a replay sets them:
 * character_set_connection resets collation_connection to its charset's
 * default, so the collation comes last. */
static const char *const charset_vars[] = {
	"character_set_client", "character_set_results",
	"character_set_connection", "collation_connection",
};

static bool is_charset_var(const char *name)
{
	for (size_t i = 0; i < 4; i++)
		if (strcmp(name, charset_vars[i]) == 0)
			return true;
	return false;
}

static bool same_value(const struct mysql_state_var *a,
		       const struct mysql_state_var *b)
{
	if (!a || !b)
		return a == b;
	if (!a->value || !b->value)
		return a->value == b->value;
	return a->value_len == b->value_len &&
	       memcmp(a->value, b->value, a->value_len) == 0;
}

static const struct mysql_state_var *get_var(const struct mysql_sess_state *st,
					     const char *name, size_t len)
{
	return find_var(st->vars, st->n_vars, name, len);
}

static const struct mysql_state_var *get_user(const struct mysql_sess_state *st,
					      const struct mysql_state_var *v)
{
	return find_var(st->user_vars, st->n_user_vars, v->name, v->name_len);
}

/* The SET statement under construction: "SET " before the first item,
 * ", " before the others. */
struct set_stmt {
	struct out o;
	unsigned items;
};

static void item(struct set_stmt *s)
{
	put_str(&s->o, s->items++ ? ", " : "SET ");
}

static void set_sysvar(struct set_stmt *s, const char *name,
		       const struct mysql_state_var *v)
{
	item(s);
	put_str(&s->o, "@@session.");
	put_str(&s->o, name);
	put_str(&s->o, "=");
	if (!v) {
		put_str(&s->o, "DEFAULT");
	} else if (!v->value) {
		put_str(&s->o, "NULL");
	} else {
		size_t at = s->o.len < s->o.cap ? s->o.len : s->o.cap;
		s->o.len += mysql_sql_value_literal(s->o.p + at, s->o.cap - at,
						    v->value, v->value_len);
	}
}

static void set_user(struct set_stmt *s, const struct mysql_state_var *v,
		     bool null)
{
	item(s);
	put_str(&s->o, "@`");
	for (size_t i = 0; i < v->name_len; i++) {
		if (v->name[i] == '`')
			put_str(&s->o, "`");
		put_mem(&s->o, &v->name[i], 1);
	}
	put_str(&s->o, "`=");
	if (null)
		put_str(&s->o, "NULL");
	else
		put_mem(&s->o, v->value, v->value_len);
}

static bool charset_group_differs(const struct mysql_sess_state *want,
				  const struct mysql_sess_state *have)
{
	for (size_t i = 0; i < 4; i++) {
		size_t n = strlen(charset_vars[i]);
		if (!same_value(get_var(want, charset_vars[i], n),
				get_var(have, charset_vars[i], n)))
			return true;
	}
	return false;
}

static void set_charsets(struct set_stmt *s,
			 const struct mysql_sess_state *want)
{
	const struct mysql_state_var *conn = get_var(want, charset_vars[2], 24);
	const struct mysql_state_var *coll = get_var(want, charset_vars[3], 20);

	for (size_t i = 0; i < 3; i++)
		set_sysvar(s, charset_vars[i],
			   get_var(want, charset_vars[i],
				   strlen(charset_vars[i])));
	/* Without a collation the connection charset's default is meant;
	 * without either, the server's. */
	if (coll || !conn)
		set_sysvar(s, charset_vars[3], coll);
}

static void build_set(struct set_stmt *s, const struct mysql_sess_state *want,
		      const struct mysql_sess_state *have)
{
	/* Back to the default first: a later item may set what a DEFAULT
	 * would otherwise undo. */
	for (uint16_t i = 0; i < have->n_vars; i++) {
		const struct mysql_state_var *v = &have->vars[i];
		if (!is_charset_var(v->name) &&
		    !get_var(want, v->name, v->name_len))
			set_sysvar(s, v->name, NULL);
	}
	if (charset_group_differs(want, have))
		set_charsets(s, want);
	for (uint16_t i = 0; i < want->n_vars; i++) {
		const struct mysql_state_var *v = &want->vars[i];
		if (!is_charset_var(v->name) &&
		    !same_value(v, get_var(have, v->name, v->name_len)))
			set_sysvar(s, v->name, v);
	}
	if (want->last_insert_id != have->last_insert_id) {
		char n[24];
		item(s);
		put_str(&s->o, "@@session.last_insert_id=");
		snprintf(n, sizeof(n), "%llu",
			 (unsigned long long)want->last_insert_id);
		put_str(&s->o, n);
	}
	for (uint16_t i = 0; i < have->n_user_vars; i++)
		if (!get_user(want, &have->user_vars[i]))
			set_user(s, &have->user_vars[i], true);
	for (uint16_t i = 0; i < want->n_user_vars; i++)
		if (!same_value(&want->user_vars[i],
				get_user(have, &want->user_vars[i])))
			set_user(s, &want->user_vars[i], false);
}

size_t mysql_state_replay_bound(const struct mysql_sess_state *want,
				const struct mysql_sess_state *have)
{
	/* COM_SET_OPTION, COM_INIT_DB, "\x03SET " and last_insert_id */
	size_t n = 3 + 1 + MYSQL_STATE_MAX_SCHEMA + 5 + 64;

	/* An item: ", @@session." name '=' literal (hex doubles a value),
	 * or ", @`" name (backticks doubled) "`=" literal / "NULL". */
	for (uint16_t i = 0; i < want->n_vars; i++)
		n += 16 + want->vars[i].name_len + 3 +
		     2 * (size_t)want->vars[i].value_len;
	for (uint16_t i = 0; i < have->n_vars; i++)
		n += 24 + have->vars[i].name_len;
	n += 4 * (24 + 24); /* the charset group as DEFAULTs */
	for (uint16_t i = 0; i < want->n_user_vars; i++)
		n += 8 + 2 * (size_t)want->user_vars[i].name_len +
		     want->user_vars[i].value_len;
	for (uint16_t i = 0; i < have->n_user_vars; i++)
		n += 12 + 2 * (size_t)have->user_vars[i].name_len;
	return n;
}

static bool is_ascii(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((uint8_t)s[i] >= 0x80)
			return false;
	return true;
}

/* Whether COM_INIT_DB reads a utf8 name right on a connection in this
 * state (character_set_client known to be utf8). */
static bool utf8_client(const struct mysql_sess_state *st)
{
	const struct mysql_state_var *v = get_var(st, "character_set_client", 20);

	return v && v->value &&
	       (str_eq_ci(v->value, v->value_len, "utf8") ||
		str_eq_ci(v->value, v->value_len, "utf8mb3") ||
		str_eq_ci(v->value, v->value_len, "utf8mb4"));
}

/* Appends one command payload (command byte, then data) to buf. */
static bool emit(struct mysql_replay *out, uint8_t *buf, size_t cap,
		 size_t *used, uint8_t cmd, const void *data, size_t len)
{
	if (cap - *used < 1 + len)
		return false;
	buf[*used] = cmd;
	memcpy(buf + *used + 1, data, len);
	out->cmd[out->n].payload = buf + *used;
	out->cmd[out->n++].len = 1 + len;
	*used += 1 + len;
	return true;
}

int mysql_state_diff_sql(const struct mysql_sess_state *want,
			 const struct mysql_sess_state *have,
			 struct mysql_replay *out, uint8_t *buf, size_t cap)
{
	struct set_stmt s = {{NULL, 0, 0}, 0};
	bool schema, init_db_first;
	size_t used = 0;

	out->n = 0;
	if (want->overflow || have->overflow)
		return MYSQL_REPLAY_CANNOT;
	if (!want->has_schema && have->has_schema)
		return MYSQL_REPLAY_CANNOT;
	schema = want->has_schema &&
		 (want->schema_len != have->schema_len ||
		  memcmp(want->schema, have->schema, want->schema_len) != 0);
	init_db_first = schema && (is_ascii(want->schema, want->schema_len) ||
				   utf8_client(have));
	if (schema && !init_db_first && !utf8_client(want))
		return MYSQL_REPLAY_CANNOT;

	if (want->multi_statements != have->multi_statements) {
		/* MYSQL_OPTION_MULTI_STATEMENTS_ON is 0, _OFF is 1. */
		uint8_t option[2] = {want->multi_statements ? 0 : 1, 0};
		if (!emit(out, buf, cap, &used, COM_SET_OPTION, option, 2))
			return MYSQL_REPLAY_NOSPACE;
	}
	if (init_db_first &&
	    !emit(out, buf, cap, &used, COM_INIT_DB, want->schema,
		  want->schema_len))
		return MYSQL_REPLAY_NOSPACE;
	if (cap - used < 1)
		return MYSQL_REPLAY_NOSPACE;
	/* The SET text goes straight into buf after its command byte. */
	s.o.p = (char *)buf + used + 1;
	s.o.cap = cap - used - 1;
	build_set(&s, want, have);
	if (s.o.len > s.o.cap)
		return MYSQL_REPLAY_NOSPACE;
	if (s.items) {
		buf[used] = COM_QUERY;
		out->cmd[out->n].payload = buf + used;
		out->cmd[out->n++].len = 1 + s.o.len;
		used += 1 + s.o.len;
	}
	if (schema && !init_db_first &&
	    !emit(out, buf, cap, &used, COM_INIT_DB, want->schema,
		  want->schema_len))
		return MYSQL_REPLAY_NOSPACE;
	return MYSQL_REPLAY_OK;
}
