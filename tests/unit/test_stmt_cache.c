/*
 * Prepared statements for pooling: keys, a session's statement map, a
 * backend connection's LRU cache, and the COM_STMT_* packet helpers.  The
 * packets are what libmariadb 3.3 (Connector/C) sent to MariaDB 10.11.19
 * and what the server answered, captured by a logging relay.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_proto.h"
#include "stmt_cache.h"

/* PREPARE "SELECT ?, ?, ?, ?" -> PREPARE_OK: id 2, 4 columns, 4 params */
#define PREPARE_OK_4 "000200000004000400000000"
/* EXECUTE after binding ULONGLONG 42, STRING "hello", DOUBLE 2.5, LONG
 * NULL: types sent (new-params-bound 1) */
#define EXEC_TYPES "1702000000000100000008010880fe00050003002a000000000000000568656c6c6f0000000000000440"
/* the next EXECUTE with 7, "world!", same types: not sent again */
#define EXEC_NO_TYPES "170200000000010000000800070000000000000006776f726c64210000000000000440"
#define STMT_RESET "1a02000000"
/* PREPARE "SELECT LENGTH(?)": id 3, 1 column, 1 param */
#define PREPARE_OK_1 "000300000001000100000000"
/* SEND_LONG_DATA for parameter 0: "abcdef" */
#define LONG_DATA "18030000000000616263646566"
/* the EXECUTE that uses it: BLOB type, the parameter flagged in the NULL
 * bitmap and sent as long data */
#define EXEC_LONG_DATA "170300000000010000000101fc00"
#define STMT_CLOSE_3 "1903000000"
/* EXECUTE with a read-only cursor, no parameters, then FETCH 1 row */
#define EXEC_CURSOR "17040000000101000000"
#define FETCH "1c0400000001000000"
/* PREPARE "DO 1": no columns, no parameters; its EXECUTE */
#define PREPARE_OK_0 "000500000000000000000000"
#define EXEC_NO_PARAMS "17050000000001000000"

static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	cr_assert(b);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

static const struct stmt_secret secret = {0x0706050403020100ull,
					  0x0f0e0d0c0b0a0908ull};

/* ---- keys -------------------------------------------------------------- */

Test(stmt, siphash_reference_vectors)
{
	/* SipHash-2-4, key 00..0f, messages 00..(n-1): the paper's vectors */
	uint8_t msg[64];

	for (size_t i = 0; i < sizeof(msg); i++)
		msg[i] = (uint8_t)i;
	cr_assert_eq(stmt_hash(&secret, msg, 0), 0x726fdb47dd0e0e31ull);
	cr_assert_eq(stmt_hash(&secret, msg, 1), 0x74f839c593dc67fdull);
	cr_assert_eq(stmt_hash(&secret, msg, 8), 0x93f5f5799a932462ull);
	cr_assert_eq(stmt_hash(&secret, msg, 15), 0xa129ca6149be45e5ull);
	cr_assert_eq(stmt_hash(&secret, msg, 63), 0x958a324ceb064572ull);
}

Test(stmt, keys_separate_their_parts)
{
	uint64_t a = stmt_key(&secret, "SELECT 1", 8, "db", 2, "m", 1);

	cr_assert_eq(a, stmt_key(&secret, "SELECT 1", 8, "db", 2, "m", 1));
	cr_assert_neq(a, stmt_key(&secret, "SELECT 1", 8, "db2", 3, "m", 1));
	cr_assert_neq(a, stmt_key(&secret, "SELECT 1", 8, "db", 2, "n", 1));
	/* moving a byte from one part to the next changes the key */
	cr_assert_neq(stmt_key(&secret, "ab", 2, "c", 1, "", 0),
		      stmt_key(&secret, "a", 1, "bc", 2, "", 0));
	/* another secret, another key */
	struct stmt_secret other = {1, 2};
	cr_assert_neq(a, stmt_key(&other, "SELECT 1", 8, "db", 2, "m", 1));
}

/* ---- a session's statements ---------------------------------------------- */

Test(stmt, clients_add_get_remove)
{
	struct stmt_clients m;
	struct stmt_client *s;

	stmt_clients_init(&m, 100, 1 << 20);
	cr_assert_null(stmt_client_get(&m, 1));
	cr_assert_null(stmt_client_get(&m, STMT_ID_LAST));
	s = stmt_client_add(&m, 77, "SELECT ?", 8, "db", 2, 1, 1);
	cr_assert_not_null(s);
	cr_assert_eq(s->id, 1);
	cr_assert_str_eq(s->sql, "SELECT ?");
	cr_assert_str_eq(s->schema, "db");
	cr_assert_eq(s->key, 77);
	cr_assert_eq(s->flags, 0);
	s = stmt_client_add(&m, 78, "DO 1", 4, "", 0, 0, 0);
	cr_assert_eq(s->id, 2);
	cr_assert_eq(stmt_client_get(&m, STMT_ID_LAST)->id, 2);
	cr_assert_eq(stmt_client_get(&m, 1)->key, 77);
	cr_assert(stmt_client_remove(&m, 2));
	cr_assert_not(stmt_client_remove(&m, 2));
	cr_assert_null(stmt_client_get(&m, STMT_ID_LAST));
	cr_assert_null(stmt_client_get(&m, 0));
	/* ids are not reused */
	cr_assert_eq(stmt_client_add(&m, 79, "DO 2", 4, "", 0, 0, 0)->id, 3);
	stmt_clients_free(&m);
	cr_assert_eq(m.count, 0);
	cr_assert_eq(m.bytes, 0);
}

Test(stmt, clients_limits)
{
	struct stmt_clients m;

	stmt_clients_init(&m, 3, 1 << 20);
	for (int i = 0; i < 3; i++)
		cr_assert_not_null(stmt_client_add(&m, 1, "x", 1, "", 0, 0, 0));
	cr_assert_null(stmt_client_add(&m, 1, "x", 1, "", 0, 0, 0));
	stmt_clients_free(&m);

	/* the byte budget counts the table, the texts and the types */
	stmt_clients_init(&m, 1000, 8 * sizeof(struct stmt_client) + 60);
	struct stmt_client *s = stmt_client_add(&m, 1, "0123456789", 10, "db", 2, 40, 0);
	cr_assert_not_null(s);
	uint8_t types[80] = {0};
	cr_assert_eq(stmt_client_set_types(&m, s, types, &secret), -1);
	cr_assert_eq(s->flags & STMT_CLIENT_TYPES, 0);
	s->num_params = 20;
	cr_assert_eq(stmt_client_set_types(&m, s, types, &secret), 0);
	cr_assert_leq(m.bytes, m.max_bytes);
	char big[100];
	memset(big, 'x', sizeof(big));
	cr_assert_null(stmt_client_add(&m, 1, big, sizeof(big), "", 0, 0, 0));
	stmt_clients_free(&m);
}

Test(stmt, clients_types)
{
	struct stmt_clients m;
	size_t n;
	uint8_t *ex = unhex(EXEC_TYPES, &n);

	stmt_clients_init(&m, 10, 1 << 20);
	struct stmt_client *s = stmt_client_add(&m, 5, "SELECT ?, ?, ?, ?", 17, "", 0, 4, 4);
	cr_assert_eq(stmt_client_set_types(&m, s, ex + 12, &secret), 0);
	cr_assert(s->flags & STMT_CLIENT_TYPES);
	cr_assert_eq(memcmp(s->types, "\x08\x80\xfe\x00\x05\x00\x03\x00", 8), 0);
	cr_assert_eq(s->types_hash, stmt_hash(&secret, ex + 12, 8));
	/* a statement without parameters has no types to keep */
	struct stmt_client *z = stmt_client_add(&m, 6, "DO 1", 4, "", 0, 0, 0);
	cr_assert_eq(stmt_client_set_types(&m, z, NULL, &secret), 0);
	cr_assert_null(z->types);

	/* needs types: the server statement has none, or others */
	struct stmt_backend b = {.num_params = 4};
	s = stmt_client_get(&m, 1);
	cr_assert(stmt_needs_types(s, &b));
	b.types_sent = true;
	b.types_hash = s->types_hash;
	cr_assert_not(stmt_needs_types(s, &b));
	b.types_hash ^= 1;
	cr_assert(stmt_needs_types(s, &b));
	cr_assert_not(stmt_needs_types(stmt_client_get(&m, 2), &b));
	free(ex);
	stmt_clients_free(&m);
}

Test(stmt, clients_ids_after_a_wrap_skip_those_in_use)
{
	struct stmt_clients m;

	stmt_clients_init(&m, 10, 1 << 20);
	cr_assert_eq(stmt_client_add(&m, 1, "a", 1, "", 0, 0, 0)->id, 1);
	cr_assert_eq(stmt_client_add(&m, 1, "b", 1, "", 0, 0, 0)->id, 2);
	m.next_id = UINT32_MAX - 1;
	cr_assert_eq(stmt_client_add(&m, 1, "c", 1, "", 0, 0, 0)->id, UINT32_MAX - 1);
	/* neither 0xFFFFFFFF (last prepared), nor 0, nor 1 and 2 */
	cr_assert_eq(stmt_client_add(&m, 1, "d", 1, "", 0, 0, 0)->id, 3);
	cr_assert_str_eq(stmt_client_get(&m, 1)->sql, "a");
	cr_assert_str_eq(stmt_client_get(&m, UINT32_MAX - 1)->sql, "c");
	stmt_clients_free(&m);
}

Test(stmt, clients_random_operations_match_a_model)
{
	/* Adds and removes at random; after each step every live id is found
	 * with its text and every dead one is not (backward-shift deletion
	 * keeps probe runs intact). */
	enum { N = 3000 };
	static bool live[N + 1];
	struct stmt_clients m;
	unsigned seed = 12345;

	memset(live, 0, sizeof(live));
	stmt_clients_init(&m, 400, 1 << 24);
	for (int step = 0; step < 20000; step++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8;
		if (r % 3 != 0 && m.next_id <= N) {
			char t[16];
			int n = snprintf(t, sizeof(t), "q%u", m.next_id);
			struct stmt_client *s = stmt_client_add(&m, 0, t, (size_t)n, "", 0, 0, 0);
			if (m.count == 400 && !s)
				continue;
			cr_assert_not_null(s);
			live[s->id] = true;
		} else {
			uint32_t id = 1 + r % N;
			cr_assert_eq(stmt_client_remove(&m, id), live[id], "id %u", id);
			live[id] = false;
		}
		if (step % 97 == 0) {
			for (uint32_t id = 1; id <= N; id++) {
				struct stmt_client *s = stmt_client_get(&m, id);
				cr_assert_eq(s != NULL, live[id], "id %u", id);
				if (s) {
					char t[16];
					snprintf(t, sizeof(t), "q%u", id);
					cr_assert_str_eq(s->sql, t);
				}
			}
		}
	}
	stmt_clients_free(&m);
}

/* ---- a backend connection's statements ------------------------------------ */

Test(stmt, cache_lru_eviction)
{
	struct stmt_cache c;
	uint32_t ev = 0;

	cr_assert_eq(stmt_cache_init(&c, 0), -1);
	cr_assert_eq(stmt_cache_init(&c, 3), 0);
	cr_assert_null(stmt_cache_get(&c, 10));
	cr_assert_eq(stmt_cache_put(&c, 10, 100, 1, 1, &ev), 0);
	cr_assert_eq(stmt_cache_put(&c, 11, 101, 2, 0, &ev), 0);
	cr_assert_eq(stmt_cache_put(&c, 12, 102, 0, 0, &ev), 0);
	cr_assert_eq(c.count, 3);
	/* 10 used again: 11 is now the least recently used */
	struct stmt_backend *b = stmt_cache_get(&c, 10);
	cr_assert_eq(b->server_id, 100);
	cr_assert_eq(b->num_params, 1);
	cr_assert_eq(stmt_cache_put(&c, 13, 103, 0, 0, &ev), 1);
	cr_assert_eq(ev, 101);
	cr_assert_null(stmt_cache_get(&c, 11));
	/* pinned entries stay: 12 is pinned, so 10 goes */
	stmt_cache_get(&c, 10);
	stmt_cache_get(&c, 13);
	stmt_cache_get(&c, 12)->pins = 1;
	stmt_cache_get(&c, 10);
	stmt_cache_get(&c, 13);
	cr_assert_eq(stmt_cache_put(&c, 14, 104, 0, 0, &ev), 1);
	cr_assert_eq(ev, 100);
	/* all pinned: nothing can be cached */
	stmt_cache_get(&c, 13)->pins = 1;
	stmt_cache_get(&c, 14)->pins = 2;
	cr_assert_eq(stmt_cache_put(&c, 15, 105, 0, 0, &ev), -1);
	cr_assert_not(stmt_cache_evict(&c, &ev));
	cr_assert_null(stmt_cache_get(&c, 15));
	stmt_cache_get(&c, 14)->pins = 0;
	cr_assert(stmt_cache_evict(&c, &ev));
	cr_assert_eq(ev, 104);
	cr_assert_eq(c.count, 2);
	stmt_cache_free(&c);
}

Test(stmt, cache_replace_remove_clear)
{
	struct stmt_cache c;
	uint32_t ev = 0, id = 0;

	cr_assert_eq(stmt_cache_init(&c, 4), 0);
	stmt_cache_put(&c, 1, 10, 2, 0, &ev);
	struct stmt_backend *b = stmt_cache_get(&c, 1);
	b->types_sent = true;
	b->types_hash = 99;
	/* prepared again: the old server id is to be closed */
	cr_assert_eq(stmt_cache_put(&c, 1, 11, 2, 0, &ev), 1);
	cr_assert_eq(ev, 10);
	b = stmt_cache_get(&c, 1);
	cr_assert_eq(b->server_id, 11);
	cr_assert_not(b->types_sent);
	cr_assert_eq(c.count, 1);
	/* not while the old one is in use */
	b->pins = 1;
	cr_assert_eq(stmt_cache_put(&c, 1, 12, 2, 0, &ev), -1);
	cr_assert_eq(stmt_cache_get(&c, 1)->server_id, 11);
	b->pins = 0;
	cr_assert(stmt_cache_remove(&c, 1, &id));
	cr_assert_eq(id, 11);
	cr_assert_not(stmt_cache_remove(&c, 1, &id));
	stmt_cache_put(&c, 2, 20, 0, 0, &ev);
	stmt_cache_put(&c, 3, 30, 0, 0, &ev);
	stmt_cache_clear(&c);
	cr_assert_eq(c.count, 0);
	cr_assert_null(stmt_cache_get(&c, 2));
	for (uint64_t k = 0; k < 4; k++)
		cr_assert_eq(stmt_cache_put(&c, k, (uint32_t)k, 0, 0, &ev), 0);
	stmt_cache_free(&c);
}

Test(stmt, cache_random_operations_match_a_model)
{
	/* A model with use stamps: the evicted entry is always the unpinned
	 * one used longest ago, and lookups agree with the model.  Keys share
	 * their low bits so probe runs are long. */
	enum { MAX = 16, KEYS = 64 };
	struct { bool in; uint32_t id; uint64_t used; bool pinned; } model[KEYS];
	struct stmt_cache c;
	uint64_t clock = 0;
	unsigned seed = 99;

	memset(model, 0, sizeof(model));
	cr_assert_eq(stmt_cache_init(&c, MAX), 0);
	for (int step = 0; step < 50000; step++) {
		seed = seed * 1103515245u + 12345u;
		uint32_t r = seed >> 8, k = r % KEYS;
		uint64_t key = (uint64_t)k << 40 | (k & 3);
		uint32_t ev = 0;
		switch ((r >> 8) % 4) {
		case 0: { /* get */
			struct stmt_backend *b = stmt_cache_get(&c, key);
			cr_assert_eq(b != NULL, model[k].in);
			if (b) {
				cr_assert_eq(b->server_id, model[k].id);
				model[k].used = ++clock;
			}
			break;
		}
		case 1: { /* put */
			uint32_t id = (uint32_t)step;
			int want_victim = -1;
			unsigned n = 0;
			for (int i = 0; i < KEYS; i++)
				n += model[i].in;
			if (model[k].in) {
				want_victim = model[k].pinned ? -2 : (int)k;
			} else if (n == MAX) {
				uint64_t oldest = UINT64_MAX;
				for (int i = 0; i < KEYS; i++)
					if (model[i].in && !model[i].pinned &&
					    model[i].used < oldest)
						oldest = model[i].used, want_victim = i;
				if (want_victim < 0)
					want_victim = -2;
			}
			int ret = stmt_cache_put(&c, key, id, 0, 0, &ev);
			if (want_victim == -2) {
				cr_assert_eq(ret, -1);
				break;
			}
			cr_assert_eq(ret, want_victim >= 0 ? 1 : 0);
			if (want_victim >= 0) {
				cr_assert_eq(ev, model[want_victim].id);
				model[want_victim].in = false;
			}
			model[k] = (typeof(model[k])){true, id, ++clock, false};
			break;
		}
		case 2: /* remove */
			cr_assert_eq(stmt_cache_remove(&c, key, &ev), model[k].in);
			if (model[k].in)
				cr_assert_eq(ev, model[k].id);
			model[k].in = false;
			break;
		case 3: /* pin or unpin, without touching the order */
			if (model[k].in) {
				struct stmt_backend *b = NULL;
				for (uint32_t i = 0; i < c.max; i++)
					if (c.entries[i].key == key && c.entries[i].server_id == model[k].id)
						b = &c.entries[i];
				cr_assert_not_null(b);
				model[k].pinned = !model[k].pinned && (r & 1);
				b->pins = model[k].pinned;
			}
			break;
		}
	}
	stmt_cache_free(&c);
}

/* ---- packets ------------------------------------------------------------ */

Test(stmt, ids_in_real_commands)
{
	static const struct {
		const char *hex;
		uint32_t id;
	} cmds[] = {
		{EXEC_TYPES, 2}, {EXEC_NO_TYPES, 2}, {STMT_RESET, 2},
		{LONG_DATA, 3}, {EXEC_LONG_DATA, 3}, {STMT_CLOSE_3, 3},
		{EXEC_CURSOR, 4}, {FETCH, 4}, {EXEC_NO_PARAMS, 5},
	};

	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++) {
		size_t n;
		uint8_t *p = unhex(cmds[i].hex, &n);
		uint32_t id = 0;

		cr_assert_eq(stmt_cmd_get_id(p, n, &id), 0, "cmd %zu", i);
		cr_assert_eq(id, cmds[i].id, "cmd %zu", i);
		cr_assert_eq(stmt_cmd_set_id(p, n, 0x01020304), 0);
		cr_assert_eq(stmt_cmd_get_id(p, n, &id), 0);
		cr_assert_eq(id, 0x01020304);
		/* nothing else moved */
		size_t n2;
		uint8_t *orig = unhex(cmds[i].hex, &n2);
		cr_assert_eq(memcmp(p + 5, orig + 5, n - 5), 0);
		/* cut short of its fixed fields: refused */
		cr_assert_eq(stmt_cmd_get_id(p, cmds[i].hex[1] == '7' ? 9 :
					     p[0] == COM_STMT_FETCH ? 8 :
					     p[0] == COM_STMT_SEND_LONG_DATA ? 6 : 4, &id), -1,
			     "cmd %zu", i);
		free(orig);
		free(p);
	}
	const uint8_t query[] = {COM_QUERY, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	uint32_t id;
	cr_assert_eq(stmt_cmd_get_id(query, sizeof(query), &id), -1);
	cr_assert_eq(stmt_cmd_get_id(query, 0, &id), -1);
	const uint8_t bulk[] = {COM_STMT_BULK_EXECUTE, 9, 0, 0, 0, 0x80, 0};
	cr_assert_eq(stmt_cmd_get_id(bulk, sizeof(bulk), &id), 0);
	cr_assert_eq(id, 9);
}

Test(stmt, prepare_ok)
{
	struct stmt_prepare_ok ok;
	size_t n;
	uint8_t *p = unhex(PREPARE_OK_4, &n);

	cr_assert_eq(stmt_prepare_ok_parse(p, n, &ok), 0);
	cr_assert_eq(ok.id, 2);
	cr_assert_eq(ok.num_columns, 4);
	cr_assert_eq(ok.num_params, 4);
	cr_assert_eq(ok.warnings, 0);
	cr_assert_eq(stmt_prepare_ok_set_id(p, n, 77), 0);
	cr_assert_eq(stmt_prepare_ok_parse(p, n, &ok), 0);
	cr_assert_eq(ok.id, 77);
	cr_assert_eq(ok.num_params, 4);
	cr_assert_eq(stmt_prepare_ok_parse(p, 9, &ok), -1);
	cr_assert_eq(stmt_prepare_ok_set_id(p, 9, 1), -1);
	p[0] = 0xFF;
	cr_assert_eq(stmt_prepare_ok_parse(p, n, &ok), -1);
	cr_assert_eq(stmt_prepare_ok_set_id(p, n, 1), -1);
	free(p);
	p = unhex(PREPARE_OK_1, &n);
	cr_assert_eq(stmt_prepare_ok_parse(p, n, &ok), 0);
	cr_assert_eq(ok.id, 3);
	cr_assert_eq(ok.num_columns, 1);
	cr_assert_eq(ok.num_params, 1);
	free(p);
	p = unhex(PREPARE_OK_0, &n);
	cr_assert_eq(stmt_prepare_ok_parse(p, n, &ok), 0);
	cr_assert_eq(ok.id, 5);
	cr_assert_eq(ok.num_columns + ok.num_params, 0);
	free(p);
}

Test(stmt, execute_layouts)
{
	struct stmt_execute ex;
	size_t n;
	uint8_t *p = unhex(EXEC_TYPES, &n);

	cr_assert_eq(stmt_execute_parse(p, n, 4, &ex), 0);
	cr_assert_eq(ex.id, 2);
	cr_assert_eq(ex.flags, 0);
	cr_assert_eq(ex.iterations, 1);
	cr_assert_eq(ex.null_off, 10);
	cr_assert_eq(p[ex.null_off], 0x08); /* the 4th parameter is NULL */
	cr_assert_eq(ex.bound_off, 11);
	cr_assert(ex.new_params_bound);
	cr_assert_eq(ex.types_off, 12);
	cr_assert_eq(ex.values_off, 20);
	cr_assert_eq(p[ex.values_off], 42);
	/* the values are not checked; the fixed parts are */
	cr_assert_eq(stmt_execute_parse(p, 21, 4, &ex), 0);
	cr_assert_eq(stmt_execute_parse(p, 19, 4, &ex), -1);
	free(p);

	p = unhex(EXEC_NO_TYPES, &n);
	cr_assert_eq(stmt_execute_parse(p, n, 4, &ex), 0);
	cr_assert_not(ex.new_params_bound);
	cr_assert_eq(ex.types_off, 0);
	cr_assert_eq(ex.values_off, 12);
	cr_assert_eq(stmt_execute_parse(p, 11, 4, &ex), -1);
	p[11] = 2; /* new-params-bound is 0 or 1 */
	cr_assert_eq(stmt_execute_parse(p, n, 4, &ex), -1);
	free(p);

	p = unhex(EXEC_CURSOR, &n);
	cr_assert_eq(stmt_execute_parse(p, n, 0, &ex), 0);
	cr_assert_eq(ex.flags, 1);
	cr_assert_eq(ex.values_off, n);
	cr_assert_eq(ex.bound_off, 0);
	/* with a parameter the statement does not have, it is too short */
	cr_assert_eq(stmt_execute_parse(p, n, 1, &ex), -1);
	free(p);

	p = unhex(EXEC_LONG_DATA, &n);
	cr_assert_eq(stmt_execute_parse(p, n, 1, &ex), 0);
	cr_assert(ex.new_params_bound);
	cr_assert_eq(ex.values_off, n); /* the value went as long data */
	free(p);

	p = unhex(FETCH, &n);
	cr_assert_eq(stmt_execute_parse(p, n, 0, &ex), -1);
	free(p);
}

Test(stmt, execute_gets_the_types_it_lacks)
{
	size_t n1, n2, nw;
	uint8_t *with = unhex(EXEC_TYPES, &n1);
	uint8_t *without = unhex(EXEC_NO_TYPES, &n2);
	uint8_t *want = unhex("17020000000001000000" "08" "01" "0880fe0005000300"
			      "0700000000000000" "06776f726c6421" "0000000000000440",
			      &nw);
	uint8_t out[128];
	struct stmt_execute ex;

	memset(out, 0xAA, sizeof(out));
	long len = stmt_execute_add_types(without, n2, 4, with + 12, out, sizeof(out));
	cr_assert_eq(len, (long)nw);
	cr_assert_eq(len, (long)(n2 + 8));
	cr_assert_eq(memcmp(out, want, nw), 0);
	cr_assert_eq(out[nw], 0xAA);
	cr_assert_eq(stmt_execute_parse(out, (size_t)len, 4, &ex), 0);
	cr_assert(ex.new_params_bound);

	/* exactly enough room, and one byte less */
	cr_assert_eq(stmt_execute_add_types(without, n2, 4, with + 12, out, nw), (long)nw);
	cr_assert_eq(stmt_execute_add_types(without, n2, 4, with + 12, out, nw - 1), -1);
	/* types already there, none to add, or not an EXECUTE */
	cr_assert_eq(stmt_execute_add_types(with, n1, 4, with + 12, out, sizeof(out)), -1);
	cr_assert_eq(stmt_execute_add_types(without, n2, 0, with + 12, out, sizeof(out)), -1);
	without[0] = COM_STMT_FETCH;
	cr_assert_eq(stmt_execute_add_types(without, n2, 4, with + 12, out, sizeof(out)), -1);
	free(with);
	free(without);
	free(want);
}

/* What an EXECUTE binds, read back as literals: a signed and an unsigned
 * integer, a NULL, a string, a DECIMAL, a DATE (not read), in order. */
Test(stmt_cache, execute_parameters_read_as_literals)
{
	uint8_t p[128];
	size_t n = 0;
	struct stmt_execute ex;
	struct stmt_param_value v;
	char buf[32];
	static const uint8_t types[12] = {
		0x08, 0x00, 0x03, 0x80, 0x08, 0x00,
		0xfd, 0x00, 0xf6, 0x00, 0x0a, 0x00,
	};

	p[n++] = 0x17;
	memset(p + n, 0, 9);          /* id, flags, iterations */
	n += 9;
	p[n++] = 0x04;                /* NULL bitmap: parameter 2 */
	p[n++] = 1;                   /* new params bound */
	memcpy(p + n, types, sizeof(types));
	n += sizeof(types);
	/* -42 as LONGLONG */
	static const uint8_t m42[8] = {0xd6, 0xff, 0xff, 0xff, 0xff, 0xff,
				       0xff, 0xff};
	memcpy(p + n, m42, 8);
	n += 8;
	/* 4294967295 as an unsigned LONG */
	memset(p + n, 0xff, 4);
	n += 4;
	p[n++] = 3;                   /* 'abc' */
	memcpy(p + n, "abc", 3);
	n += 3;
	p[n++] = 4;                   /* 1.50 */
	memcpy(p + n, "1.50", 4);
	n += 4;
	p[n++] = 4;                   /* DATE 2024-01-02 */
	p[n++] = 0xe8;
	p[n++] = 0x07;
	p[n++] = 1;
	p[n++] = 2;
	cr_assert_eq(stmt_execute_parse(p, n, 6, &ex), 0);
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 0, buf,
					sizeof(buf), &v), 1);
	cr_assert_eq(v.len, 3);
	cr_assert_eq(memcmp(v.text, "-42", 3), 0);
	cr_assert(!v.is_string);
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 1, buf,
					sizeof(buf), &v), 1);
	cr_assert_eq(v.len, 10);
	cr_assert_eq(memcmp(v.text, "4294967295", 10), 0);
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 2, buf,
					sizeof(buf), &v), 0, "NULL");
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 3, buf,
					sizeof(buf), &v), 1);
	cr_assert(v.is_string);
	cr_assert_eq(v.len, 3);
	cr_assert_eq(memcmp(v.text, "abc", 3), 0);
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 4, buf,
					sizeof(buf), &v), 1);
	cr_assert(!v.is_string);
	cr_assert_eq(memcmp(v.text, "1.50", 4), 0);
	cr_assert_eq(stmt_execute_param(p, n, 6, &ex, p + ex.types_off, 5, buf,
					sizeof(buf), &v), 0, "a DATE is not read");
	/* Cut short: malformed, never read beyond the packet. */
	cr_assert_eq(stmt_execute_param(p, n - 8, 6, &ex, p + ex.types_off, 5,
					buf, sizeof(buf), &v), -1);
}

/* The FLOAT columns an execution over several shards met, kept with the
 * statement, counted in its bytes and given back when it goes. */
Test(stmt, clients_floats)
{
	struct stmt_clients m;
	uint8_t defs[40];

	memset(defs, 7, sizeof(defs));
	stmt_clients_init(&m, 10, 8 * sizeof(struct stmt_client) + 80);
	struct stmt_client *s = stmt_client_add(&m, 5, "SELECT f", 8, "", 0, 0, 1);
	size_t before = m.bytes;

	cr_assert_eq(stmt_client_set_floats(&m, s, 0x5, 3, defs, 40), 0);
	cr_assert_eq(s->float_cols, 0x5);
	cr_assert_eq(s->float_ncols, 3);
	cr_assert_eq(memcmp(s->float_defs, defs, 40), 0);
	cr_assert_eq(m.bytes, before + 40);
	/* again: replaced, not added */
	cr_assert_eq(stmt_client_set_floats(&m, s, 0x1, 1, defs, 20), 0);
	cr_assert_eq(m.bytes, before + 20);
	/* over the budget: refused, the old ones kept */
	cr_assert_eq(stmt_client_set_floats(&m, s, 0x3, 2, defs, 100000), -1);
	cr_assert_eq(s->float_cols, 0x1);
	cr_assert(stmt_client_remove(&m, s->id));
	cr_assert_eq(m.bytes, before - (8 + 1 + 0 + 1));
	stmt_clients_free(&m);
}
