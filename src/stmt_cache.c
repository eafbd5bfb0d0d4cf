#include "stmt_cache.h"

#include "mysql_proto.h"
#include "rs_codec.h"

#include <stdio.h>

#include <stdlib.h>
#include <string.h>

/* ---- SipHash-2-4 (Aumasson, Bernstein), fed in pieces ------------------- */

struct sip {
	uint64_t v0, v1, v2, v3;
	uint64_t tail;           /* bytes not yet in a full word */
	size_t len;              /* all bytes fed */
};

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))

static void sip_round(struct sip *s)
{
	s->v0 += s->v1;
	s->v1 = ROTL(s->v1, 13);
	s->v1 ^= s->v0;
	s->v0 = ROTL(s->v0, 32);
	s->v2 += s->v3;
	s->v3 = ROTL(s->v3, 16);
	s->v3 ^= s->v2;
	s->v0 += s->v3;
	s->v3 = ROTL(s->v3, 21);
	s->v3 ^= s->v0;
	s->v2 += s->v1;
	s->v1 = ROTL(s->v1, 17);
	s->v1 ^= s->v2;
	s->v2 = ROTL(s->v2, 32);
}

static void sip_init(struct sip *s, const struct stmt_secret *k)
{
	s->v0 = k->k0 ^ 0x736f6d6570736575ull;
	s->v1 = k->k1 ^ 0x646f72616e646f6dull;
	s->v2 = k->k0 ^ 0x6c7967656e657261ull;
	s->v3 = k->k1 ^ 0x7465646279746573ull;
	s->tail = 0;
	s->len = 0;
}

static void sip_word(struct sip *s, uint64_t m)
{
	s->v3 ^= m;
	sip_round(s);
	sip_round(s);
	s->v0 ^= m;
}

static void sip_feed(struct sip *s, const void *data, size_t n)
{
	const uint8_t *p = data;

	for (size_t i = 0; i < n; i++) {
		s->tail |= (uint64_t)p[i] << (8 * (s->len & 7));
		if ((++s->len & 7) == 0) {
			sip_word(s, s->tail);
			s->tail = 0;
		}
	}
}

static uint64_t sip_final(struct sip *s)
{
	sip_word(s, s->tail | (uint64_t)s->len << 56);
	s->v2 ^= 0xff;
	for (int i = 0; i < 4; i++)
		sip_round(s);
	return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

uint64_t stmt_hash(const struct stmt_secret *k, const void *data, size_t len)
{
	struct sip s;

	sip_init(&s, k);
	sip_feed(&s, data, len);
	return sip_final(&s);
}

static void sip_feed_framed(struct sip *s, const void *data, size_t len)
{
	uint8_t n[8];

	for (int i = 0; i < 8; i++)
		n[i] = (uint8_t)((uint64_t)len >> (8 * i));
	sip_feed(s, n, sizeof(n));
	sip_feed(s, data, len);
}

uint64_t stmt_key(const struct stmt_secret *k, const char *sql, size_t sql_len,
		  const char *schema, size_t schema_len, const void *ctx,
		  size_t ctx_len)
{
	struct sip s;

	sip_init(&s, k);
	sip_feed_framed(&s, sql, sql_len);
	sip_feed_framed(&s, schema, schema_len);
	sip_feed_framed(&s, ctx, ctx_len);
	return sip_final(&s);
}

/* ---- a session's statements ------------------------------------------------ */

static uint32_t id_home(uint32_t id, uint32_t mask)
{
	return (id * 2654435761u) & mask;
}

void stmt_clients_init(struct stmt_clients *m, uint32_t max_count,
		       size_t max_bytes)
{
	memset(m, 0, sizeof(*m));
	m->max_count = max_count;
	m->max_bytes = max_bytes;
	m->next_id = 1;
}

static size_t client_bytes(const struct stmt_client *s)
{
	return (size_t)s->sql_len + 1 + s->schema_len + 1 +
	       (s->types ? 2 * (size_t)s->num_params : 0) + s->float_defs_len;
}

void stmt_clients_free(struct stmt_clients *m)
{
	for (uint32_t i = 0; i < m->cap; i++) {
		if (m->slots[i].id) {
			free(m->slots[i].sql);
			free(m->slots[i].types);
			free(m->slots[i].float_defs);
		}
	}
	free(m->slots);
	stmt_clients_init(m, m->max_count, m->max_bytes);
}

static struct stmt_client *slot_of(const struct stmt_clients *m, uint32_t id)
{
	uint32_t mask = m->cap - 1;

	if (!m->cap || id == 0)
		return NULL;
	for (uint32_t i = id_home(id, mask);; i = (i + 1) & mask) {
		if (m->slots[i].id == id)
			return &m->slots[i];
		if (m->slots[i].id == 0)
			return NULL;
	}
}

/* Doubles the table (keeps it at most half full, so probes stay short
 * and always meet an empty slot). */
static int grow(struct stmt_clients *m)
{
	uint32_t ncap = m->cap ? m->cap * 2 : 8, mask = ncap - 1;
	size_t add = (size_t)(ncap - m->cap) * sizeof(struct stmt_client);
	struct stmt_client *ns;

	if (ncap < m->cap || m->bytes + add > m->max_bytes)
		return -1;
	ns = calloc(ncap, sizeof(*ns));
	if (!ns)
		return -1;
	for (uint32_t i = 0; i < m->cap; i++) {
		uint32_t j;

		if (!m->slots[i].id)
			continue;
		for (j = id_home(m->slots[i].id, mask); ns[j].id;
		     j = (j + 1) & mask)
			;
		ns[j] = m->slots[i];
	}
	free(m->slots);
	m->slots = ns;
	m->cap = ncap;
	m->bytes += add;
	return 0;
}

struct stmt_client *stmt_client_add(struct stmt_clients *m, uint64_t key,
				    const char *sql, size_t sql_len,
				    const char *schema, size_t schema_len,
				    uint16_t num_params, uint16_t num_columns)
{
	size_t need = sql_len + 1 + schema_len + 1;
	struct stmt_client *s;
	uint32_t id, i;
	char *text;

	if (m->count >= m->max_count || sql_len > UINT32_MAX ||
	    schema_len > UINT16_MAX || need > m->max_bytes - m->bytes ||
	    m->bytes > m->max_bytes)
		return NULL;
	if ((m->count + 1) * 2 > m->cap && grow(m))
		return NULL;
	if (need > m->max_bytes - m->bytes)
		return NULL;
	/* Ids grow; after a wrap, skip those still in use. */
	do {
		id = m->next_id++;
	} while (id == 0 || id == STMT_ID_LAST || slot_of(m, id));
	text = malloc(need);
	if (!text)
		return NULL;
	memcpy(text, sql, sql_len);
	text[sql_len] = '\0';
	memcpy(text + sql_len + 1, schema, schema_len);
	text[sql_len + 1 + schema_len] = '\0';
	for (i = id_home(id, m->cap - 1); m->slots[i].id;
	     i = (i + 1) & (m->cap - 1))
		;
	s = &m->slots[i];
	*s = (struct stmt_client){
		.id = id,
		.num_params = num_params,
		.num_columns = num_columns,
		.sql_len = (uint32_t)sql_len,
		.schema_len = (uint16_t)schema_len,
		.key = key,
		.sql = text,
		.schema = text + sql_len + 1,
	};
	m->count++;
	m->bytes += need;
	m->last_id = id;
	return s;
}

struct stmt_client *stmt_client_get(struct stmt_clients *m, uint32_t id)
{
	return slot_of(m, id == STMT_ID_LAST ? m->last_id : id);
}

int stmt_client_set_types(struct stmt_clients *m, struct stmt_client *s,
			  const uint8_t *types, const struct stmt_secret *secret)
{
	size_t n = 2 * (size_t)s->num_params;

	if (!s->num_params)
		return 0;
	if (!s->types) {
		if (n > m->max_bytes - m->bytes || m->bytes > m->max_bytes)
			return -1;
		s->types = malloc(n);
		if (!s->types)
			return -1;
		m->bytes += n;
	}
	memcpy(s->types, types, n);
	s->types_hash = stmt_hash(secret, types, n);
	s->flags |= STMT_CLIENT_TYPES;
	return 0;
}

int stmt_client_set_floats(struct stmt_clients *m, struct stmt_client *s,
			   uint64_t cols, uint16_t ncols, const uint8_t *defs,
			   uint32_t len)
{
	uint8_t *d;

	if (len > m->max_bytes - m->bytes + s->float_defs_len ||
	    m->bytes > m->max_bytes)
		return -1;
	d = malloc(len ? len : 1);
	if (!d)
		return -1;
	memcpy(d, defs, len);
	m->bytes -= s->float_defs_len;
	free(s->float_defs);
	s->float_defs = d;
	s->float_defs_len = len;
	m->bytes += len;
	s->float_cols = cols;
	s->float_ncols = ncols;
	return 0;
}

bool stmt_client_remove(struct stmt_clients *m, uint32_t id)
{
	struct stmt_client *s = stmt_client_get(m, id);
	uint32_t mask = m->cap - 1, i, j;

	if (!s)
		return false;
	if (s->id == m->last_id)
		m->last_id = 0;
	m->bytes -= client_bytes(s);
	free(s->sql);
	free(s->types);
	free(s->float_defs);
	s->float_defs = NULL;
	s->float_defs_len = 0;
	s->id = 0;
	m->count--;
	/* Backward-shift deletion: move up each later entry of the run
	 * whose home does not lie cyclically in (i, j]. */
	i = (uint32_t)(s - m->slots);
	for (j = (i + 1) & mask; m->slots[j].id; j = (j + 1) & mask) {
		uint32_t k = id_home(m->slots[j].id, mask);

		if (((j - k) & mask) >= ((j - i) & mask)) {
			m->slots[i] = m->slots[j];
			m->slots[j].id = 0;
			i = j;
		}
	}
	return true;
}

/* ---- a backend connection's statements ------------------------------------ */

#define NIL UINT32_MAX

int stmt_cache_init(struct stmt_cache *c, uint32_t max_entries)
{
	uint32_t slots = 2;

	memset(c, 0, sizeof(*c));
	if (max_entries == 0 || max_entries > (1u << 24))
		return -1;
	while (slots < 2 * max_entries)
		slots *= 2;
	c->entries = calloc(max_entries, sizeof(*c->entries));
	c->index = calloc(slots, sizeof(*c->index));
	if (!c->entries || !c->index) {
		stmt_cache_free(c);
		return -1;
	}
	c->mask = slots - 1;
	c->max = max_entries;
	stmt_cache_clear(c);
	return 0;
}

void stmt_cache_free(struct stmt_cache *c)
{
	free(c->entries);
	free(c->index);
	memset(c, 0, sizeof(*c));
}

void stmt_cache_clear(struct stmt_cache *c)
{
	memset(c->index, 0, ((size_t)c->mask + 1) * sizeof(*c->index));
	for (uint32_t i = 0; i < c->max; i++)
		c->entries[i].next = i + 1 < c->max ? i + 1 : NIL;
	c->free_list = c->max ? 0 : NIL;
	c->head = c->tail = NIL;
	c->count = 0;
}

/* The index slot holding key, or the empty slot ending its probe run. */
static uint32_t index_slot(const struct stmt_cache *c, uint64_t key)
{
	uint32_t i = (uint32_t)key & c->mask;

	while (c->index[i] && c->entries[c->index[i] - 1].key != key)
		i = (i + 1) & c->mask;
	return i;
}

static void index_delete(struct stmt_cache *c, uint32_t i)
{
	uint32_t j;

	c->index[i] = 0;
	for (j = (i + 1) & c->mask; c->index[j]; j = (j + 1) & c->mask) {
		uint32_t k = (uint32_t)c->entries[c->index[j] - 1].key & c->mask;

		if (((j - k) & c->mask) >= ((j - i) & c->mask)) {
			c->index[i] = c->index[j];
			c->index[j] = 0;
			i = j;
		}
	}
}

static void lru_unlink(struct stmt_cache *c, uint32_t e)
{
	struct stmt_backend *b = &c->entries[e];

	if (b->prev != NIL)
		c->entries[b->prev].next = b->next;
	else
		c->head = b->next;
	if (b->next != NIL)
		c->entries[b->next].prev = b->prev;
	else
		c->tail = b->prev;
}

static void lru_push_front(struct stmt_cache *c, uint32_t e)
{
	struct stmt_backend *b = &c->entries[e];

	b->prev = NIL;
	b->next = c->head;
	if (c->head != NIL)
		c->entries[c->head].prev = e;
	c->head = e;
	if (c->tail == NIL)
		c->tail = e;
}

struct stmt_backend *stmt_cache_get(struct stmt_cache *c, uint64_t key)
{
	uint32_t i, e;

	if (!c->max)
		return NULL;
	i = index_slot(c, key);
	if (!c->index[i])
		return NULL;
	e = c->index[i] - 1;
	lru_unlink(c, e);
	lru_push_front(c, e);
	return &c->entries[e];
}

/* Unlinks entry e from the index and the list, onto the free list. */
static void drop(struct stmt_cache *c, uint32_t e)
{
	index_delete(c, index_slot(c, c->entries[e].key));
	lru_unlink(c, e);
	c->entries[e].next = c->free_list;
	c->free_list = e;
	c->count--;
}

bool stmt_cache_evict(struct stmt_cache *c, uint32_t *server_id)
{
	for (uint32_t e = c->tail; e != NIL; e = c->entries[e].prev) {
		if (c->entries[e].pins)
			continue;
		*server_id = c->entries[e].server_id;
		drop(c, e);
		return true;
	}
	return false;
}

int stmt_cache_put(struct stmt_cache *c, uint64_t key, uint32_t server_id,
		   uint16_t num_params, uint16_t num_columns,
		   uint32_t *evicted)
{
	struct stmt_backend *b;
	uint32_t i, e;
	int ret = 0;

	if (!c->max)
		return -1;
	i = index_slot(c, key);
	if (c->index[i]) {
		/* Prepared again on this connection: the new id replaces the
		 * old, which is closed, unless the old one is in use. */
		e = c->index[i] - 1;
		b = &c->entries[e];
		if (b->pins)
			return -1;
		*evicted = b->server_id;
		b->server_id = server_id;
		b->num_params = num_params;
		b->num_columns = num_columns;
		b->types_sent = false;
		b->types_hash = 0;
		lru_unlink(c, e);
		lru_push_front(c, e);
		return 1;
	}
	if (c->count == c->max) {
		if (!stmt_cache_evict(c, evicted))
			return -1;
		ret = 1;
		i = index_slot(c, key); /* the deletion moved entries */
	}
	e = c->free_list;
	c->free_list = c->entries[e].next;
	c->entries[e] = (struct stmt_backend){
		.key = key,
		.server_id = server_id,
		.num_params = num_params,
		.num_columns = num_columns,
	};
	c->index[i] = e + 1;
	lru_push_front(c, e);
	c->count++;
	return ret;
}

bool stmt_cache_remove(struct stmt_cache *c, uint64_t key, uint32_t *server_id)
{
	uint32_t i;

	if (!c->max)
		return false;
	i = index_slot(c, key);
	if (!c->index[i])
		return false;
	*server_id = c->entries[c->index[i] - 1].server_id;
	drop(c, c->index[i] - 1);
	return true;
}

/* ---- packets ---------------------------------------------------------------- */

/* The shortest well-formed payload of each command with a statement id. */
static size_t min_len(uint8_t cmd)
{
	switch (cmd) {
	case COM_STMT_EXECUTE:
		return 10; /* id, flags, iteration count */
	case COM_STMT_FETCH:
		return 9;  /* id, rows */
	case COM_STMT_SEND_LONG_DATA:
		return 7;  /* id, parameter */
	case COM_STMT_BULK_EXECUTE:
		return 7;  /* id, flags(2) */
	case COM_STMT_CLOSE:
	case COM_STMT_RESET:
		return 5;
	default:
		return 0;
	}
}

int stmt_cmd_get_id(const uint8_t *p, size_t len, uint32_t *id)
{
	if (len < 1 || !min_len(p[0]) || len < min_len(p[0]))
		return -1;
	*id = mysql_get_u32(p + 1);
	return 0;
}

int stmt_cmd_set_id(uint8_t *p, size_t len, uint32_t id)
{
	if (len < 1 || !min_len(p[0]) || len < min_len(p[0]))
		return -1;
	mysql_put_u32(p + 1, id);
	return 0;
}

int stmt_prepare_ok_parse(const uint8_t *p, size_t len,
			  struct stmt_prepare_ok *ok)
{
	memset(ok, 0, sizeof(*ok));
	if (len < 10 || p[0] != 0x00)
		return -1;
	ok->id = mysql_get_u32(p + 1);
	ok->num_columns = mysql_get_u16(p + 5);
	ok->num_params = mysql_get_u16(p + 7);
	if (len >= 12)
		ok->warnings = mysql_get_u16(p + 10);
	return 0;
}

int stmt_prepare_ok_set_id(uint8_t *p, size_t len, uint32_t id)
{
	if (len < 10 || p[0] != 0x00)
		return -1;
	mysql_put_u32(p + 1, id);
	return 0;
}

int stmt_execute_parse(const uint8_t *p, size_t len, uint16_t num_params,
		       struct stmt_execute *ex)
{
	size_t pos = 10, nulls = ((size_t)num_params + 7) / 8;

	memset(ex, 0, sizeof(*ex));
	if (len < 10 || p[0] != COM_STMT_EXECUTE)
		return -1;
	ex->id = mysql_get_u32(p + 1);
	ex->flags = p[5];
	ex->iterations = mysql_get_u32(p + 6);
	if (!num_params) {
		ex->values_off = pos;
		return 0;
	}
	if (len - pos < nulls + 1)
		return -1;
	ex->null_off = pos;
	pos += nulls;
	ex->bound_off = pos;
	if (p[pos] > 1)
		return -1;
	ex->new_params_bound = p[pos++] == 1;
	if (ex->new_params_bound) {
		if (len - pos < 2 * (size_t)num_params)
			return -1;
		ex->types_off = pos;
		pos += 2 * (size_t)num_params;
	}
	ex->values_off = pos;
	return 0;
}

long stmt_execute_add_types(const uint8_t *in, size_t len, uint16_t num_params,
			    const uint8_t *types, uint8_t *out, size_t cap)
{
	struct stmt_execute ex;
	size_t tlen = 2 * (size_t)num_params, b;

	if (!num_params || stmt_execute_parse(in, len, num_params, &ex) ||
	    ex.new_params_bound || cap < len + tlen)
		return -1;
	b = ex.bound_off;
	memcpy(out, in, b);
	out[b] = 1;
	memcpy(out + b + 1, types, tlen);
	memcpy(out + b + 1 + tlen, in + b + 1, len - b - 1);
	return (long)(len + tlen);
}

static uint64_t get_u64(const uint8_t *p)
{
	return mysql_get_u32(p) | (uint64_t)mysql_get_u32(p + 4) << 32;
}

long stmt_param_size(uint8_t t, const uint8_t *p, size_t len)
{
	uint64_t n;
	int used, fixed = rs_binary_fixed_len(t);

	switch (t) {
	case RS_TYPE_NULL:
		return 0;
	case RS_TYPE_DATE:
	case RS_TYPE_DATETIME:
	case RS_TYPE_TIMESTAMP:
	case RS_TYPE_TIME:
		return len ? 1 + (long)p[0] : -1;
	default:
		/* The integers and floating-point types: their sizes in a
		 * binary row are a parameter's too. */
		if (fixed > 0)
			return fixed;
		used = mysql_get_lenenc(p, len, &n);
		if (used < 0 || n > len - (size_t)used)
			return -1;
		return used + (long)n;
	}
}

int stmt_execute_param(const uint8_t *p, size_t len, uint16_t num_params,
		       const struct stmt_execute *ex, const uint8_t *types,
		       unsigned i, char *buf, size_t cap,
		       struct stmt_param_value *out)
{
	size_t pos = ex->values_off;

	if (i >= num_params || !types || !ex->null_off)
		return -1;
	for (unsigned k = 0; k <= i; k++) {
		uint8_t t = types[2 * k];
		bool uns = (types[2 * k + 1] & 0x80) != 0;
		const uint8_t *v = p + pos;
		long size;
		uint64_t u;
		int64_t sv;

		if (p[ex->null_off + k / 8] & (1u << (k % 8))) {
			if (k == i)
				return 0;
			continue;
		}
		if (pos > len)
			return -1;
		size = stmt_param_size(t, v, len - pos);
		if (size < 0 || (size_t)size > len - pos)
			return -1;
		pos += (size_t)size;
		if (k < i)
			continue;
		switch (t) {
		case RS_TYPE_TINY:
			u = v[0];
			sv = (int8_t)v[0];
			break;
		case RS_TYPE_SHORT:
		case RS_TYPE_YEAR:
			u = mysql_get_u16(v);
			sv = (int16_t)u;
			break;
		case RS_TYPE_LONG:
		case RS_TYPE_INT24:
			u = mysql_get_u32(v);
			sv = (int32_t)u;
			break;
		case RS_TYPE_LONGLONG:
			u = get_u64(v);
			sv = (int64_t)u;
			break;
		case RS_TYPE_FLOAT:
		case RS_TYPE_DOUBLE: {
			double d;
			if (t == RS_TYPE_FLOAT) {
				float f;
				uint32_t w = mysql_get_u32(v);
				memcpy(&f, &w, sizeof(f));
				d = f;
			} else {
				uint64_t w = get_u64(v);
				memcpy(&d, &w, sizeof(d));
			}
			out->len = (size_t)snprintf(buf, cap, "%.17g", d);
			out->text = buf;
			out->is_string = false;
			return out->len < cap ? 1 : 0;
		}
		case RS_TYPE_DECIMAL:
		case RS_TYPE_NEWDECIMAL:
		case RS_TYPE_VARCHAR:
		case RS_TYPE_VAR_STRING:
		case RS_TYPE_STRING:
		case RS_TYPE_TINY_BLOB:
		case RS_TYPE_MEDIUM_BLOB:
		case RS_TYPE_LONG_BLOB:
		case RS_TYPE_BLOB: {
			uint64_t n;
			int used = mysql_get_lenenc(v, (size_t)size, &n);
			out->text = (const char *)v + used;
			out->len = (size_t)n;
			out->is_string = t != RS_TYPE_DECIMAL &&
					 t != RS_TYPE_NEWDECIMAL;
			return 1;
		}
		default:
			return 0;
		}
		out->len = uns ? (size_t)snprintf(buf, cap, "%llu",
						  (unsigned long long)u) :
				 (size_t)snprintf(buf, cap, "%lld",
						  (long long)sv);
		out->text = buf;
		out->is_string = false;
		return out->len < cap ? 1 : 0;
	}
	return -1;
}
