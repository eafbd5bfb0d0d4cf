/*
 * libFuzzer target for the pooling modules: the OK packet's session-state
 * block (mysql_parse_ok_ext, mysql_track_next), applying OKs to a state
 * and replaying it (mysql_state), the OK rewrite for clients, and the
 * COM_STMT_* packet helpers (stmt_cache).  Built by tests/fuzz/build.sh
 * with ASan and UBSan; a broken invariant aborts.
 *
 * Input: byte 0 options, byte 1 a parameter count, then packets, each
 * preceded by one length byte (the last one takes what is left).
 */
#include "mysql_proto.h"
#include "mysql_state.h"
#include "stmt_cache.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_at(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_state.c:%d: invariant broken\n", line);
		abort();
	}
}
#define check(ok) check_at((ok), __LINE__)

static const struct stmt_secret secret = {1, 2};

/* Every entry lies inside the block; returns the count, or -1. */
static int entries(struct mysql_str block)
{
	struct mysql_track_iter it;
	struct mysql_track_entry e;
	int n = 0, r;

	mysql_track_iter_init(&it, block);
	while ((r = mysql_track_next(&it, &e)) == 1) {
		check(e.off + e.len <= block.len && e.len >= 2);
		check(e.data.ptr >= block.ptr &&
		      e.data.ptr + e.data.len <= block.ptr + block.len);
		n++;
	}
	return r < 0 ? -1 : n;
}

static void ok_rewrites(const uint8_t *p, size_t n, uint64_t caps)
{
	struct mysql_ok_ext ok, ok2;
	struct mysql_track_cfg cfg, all;
	uint8_t *c = malloc(n ? n : 1);
	long len;

	check(c != NULL);
	int parsed = mysql_parse_ok_ext(p, n, caps, &ok);
	int count = parsed == 0 ? entries(ok.session_state) : -1;
	if (parsed == 0) {
		check(ok.end_off <= n && ok.tail_off <= ok.end_off);
		check(!ok.state_off || (ok.state_off >= ok.tail_off &&
					ok.state_off < ok.end_off));
	}

	/* strip: no block, no flag, never longer */
	memcpy(c, p, n);
	len = mysql_ok_strip_session_track(c, n, caps);
	check(len == -1 || (size_t)len <= n);
	if (len == -1) {
		check(count == -1);
		check(memcmp(c, p, n) == 0);
	} else {
		check(mysql_parse_ok_ext(c, (size_t)len, caps, &ok2) == 0);
		check(!(ok2.ok.status & SERVER_SESSION_STATE_CHANGED));
		check(ok2.session_state.len == 0);
		check(ok2.ok.affected_rows == ok.ok.affected_rows);
		check(ok2.info.len == ok.info.len);
	}

	/* a client's view: what is left is what it keeps */
	mysql_track_cfg_default(&cfg);
	if (n)
		cfg.state_change = p[0] & 1, cfg.trx_info = p[0] % 3;
	memcpy(c, p, n);
	len = mysql_ok_filter_session_track(c, n, caps, &cfg);
	check((len == -1) == (count == -1));
	if (len >= 0) {
		struct mysql_track_iter it;
		struct mysql_track_entry e;

		check((size_t)len <= n);
		check(mysql_parse_ok_ext(c, (size_t)len, caps, &ok2) == 0);
		check(entries(ok2.session_state) >= 0);
		mysql_track_iter_init(&it, ok2.session_state);
		while (mysql_track_next(&it, &e) == 1)
			check(mysql_track_cfg_keeps(&cfg, &e));
	}

	/* keeping everything changes nothing but what follows the block */
	memset(&all, 0, sizeof(all));
	all.schema = all.state_change = all.gtids = all.all_vars = true;
	all.trx_info = TRACK_TRX_CHARACTERISTICS;
	memcpy(c, p, n);
	len = mysql_ok_filter_session_track(c, n, caps, &all);
	if (len >= 0) {
		bool unknown = false;
		struct mysql_track_iter it;
		struct mysql_track_entry e;

		mysql_track_iter_init(&it, ok.session_state);
		while (mysql_track_next(&it, &e) == 1)
			unknown |= e.type > SESSION_TRACK_TRANSACTION_STATE;
		if (!ok.state_off)
			check((size_t)len == n && memcmp(c, p, n) == 0);
		else
			check(unknown || ((size_t)len == ok.end_off &&
					  memcmp(c, p, (size_t)len) == 0));
	}
	free(c);
}

static void state_and_replay(const uint8_t *p, size_t n, uint64_t caps,
			     uint8_t opts)
{
	struct mysql_sess_state a, b;
	struct mysql_replay r;

	mysql_state_init(&a);
	mysql_state_init(&b);
	mysql_state_seed_charset(&b, opts);
	int f = mysql_state_apply_ok(&a, p, n, caps, opts & 3);
	check(f == -1 || f >= 0);
	check(a.bytes <= MYSQL_STATE_MAX_BYTES);
	check((mysql_state_apply_ok(&b, p, n, caps, 0) == -1) == (f == -1));
	if (n > 2)
		mysql_track_cfg_set(&a.track, "session_track_system_variables",
				    30, (const char *)p + 2, n - 2);
	if (n > 1)
		mysql_state_set_user_var(&a, (const char *)p, 1 + p[0] % (n - 1 > 64 ? 64 : n - 1),
					 "1", 1);

	size_t bound = mysql_state_replay_bound(&a, &b);
	uint8_t *buf = malloc(bound);
	int ret = mysql_state_diff_sql(&a, &b, &r, buf, bound);
	check(ret != MYSQL_REPLAY_NOSPACE);
	if (ret == MYSQL_REPLAY_OK) {
		size_t used = 0;
		check(r.n <= MYSQL_REPLAY_MAX_CMDS);
		for (unsigned i = 0; i < r.n; i++) {
			check(r.cmd[i].payload >= buf &&
			      r.cmd[i].payload + r.cmd[i].len <= buf + bound);
			used += r.cmd[i].len;
		}
		/* any smaller buffer: refused, never overrun */
		size_t cap = n ? (size_t)p[n - 1] * used / 255 : 0;
		if (cap < used) {
			uint8_t *small = malloc(cap ? cap : 1);
			check(mysql_state_diff_sql(&a, &b, &r, small, cap) ==
			      MYSQL_REPLAY_NOSPACE);
			free(small);
		}
	}
	free(buf);

	/* a copy replays to nothing */
	check(mysql_state_copy(&b, &a) == 0 || a.overflow);
	if (!a.overflow) {
		uint8_t tiny[8];
		check(mysql_state_diff_sql(&a, &b, &r, tiny, sizeof(tiny)) ==
		      MYSQL_REPLAY_OK && r.n == 0);
	}
	mysql_state_free(&a);
	mysql_state_free(&b);
}

static void stmt_packets(const uint8_t *p, size_t n, uint16_t np)
{
	uint8_t *c = malloc(n ? n : 1);
	struct stmt_execute ex;
	struct stmt_prepare_ok pok;
	uint32_t id;

	check(c != NULL);
	memcpy(c, p, n);
	if (stmt_cmd_get_id(c, n, &id) == 0) {
		check(stmt_cmd_set_id(c, n, ~id) == 0);
		uint32_t id2;
		check(stmt_cmd_get_id(c, n, &id2) == 0 && id2 == ~id);
		check(n < 6 || memcmp(c + 5, p + 5, n - 5) == 0);
	} else {
		check(stmt_cmd_set_id(c, n, 1) == -1);
	}
	memcpy(c, p, n);
	if (stmt_prepare_ok_parse(c, n, &pok) == 0)
		check(stmt_prepare_ok_set_id(c, n, 7) == 0);

	if (stmt_execute_parse(p, n, np, &ex) == 0) {
		check(ex.values_off <= n);
		check(!ex.types_off || ex.types_off + 2u * np <= n);
		size_t cap = n + 2u * np;
		uint8_t *out = malloc(cap ? cap : 1);
		uint8_t types[2 * 256];
		memset(types, 0xAB, sizeof(types));
		uint16_t tnp = np > 256 ? 256 : np;
		long len = stmt_execute_add_types(p, n, tnp, types, out, n + 2u * tnp);
		if (tnp == np && np && !ex.new_params_bound) {
			check(len == (long)(n + 2u * np));
			struct stmt_execute ex2;
			check(stmt_execute_parse(out, (size_t)len, np, &ex2) == 0);
			check(ex2.new_params_bound && ex2.id == ex.id);
			check(memcmp(out + ex2.values_off, p + ex.values_off,
				     n - ex.values_off) == 0);
			check(stmt_execute_add_types(p, n, np, types, out,
						     n + 2u * np - 1) == -1);
		} else if (np == tnp) {
			check(len == -1);
		}
		free(out);
		/* Every parameter's value, with the packet's types or
		 * arbitrary ones: never read past the packet, and what is
		 * read lies inside it (or in buf). */
		const uint8_t *ty = ex.new_params_bound ? p + ex.types_off :
				    types;
		for (unsigned i = 0; i < np && i < 256; i++) {
			struct stmt_param_value v;
			char buf[32];
			int r = stmt_execute_param(p, n, np, &ex, ty, i, buf,
						   sizeof(buf), &v);
			check(r >= -1 && r <= 1);
			if (r == 1)
				check((v.text >= buf && v.text + v.len <=
				       buf + sizeof(buf)) ||
				      ((const uint8_t *)v.text >= p &&
				       (const uint8_t *)v.text + v.len <= p + n));
		}
	}
	free(c);

	/* the client map and the cache under the input's ids and keys */
	struct stmt_clients m;
	struct stmt_cache cache;
	stmt_clients_init(&m, 8, 4096);
	check(stmt_cache_init(&cache, 4) == 0);
	for (size_t i = 0; i + 4 <= n; i += 4) {
		uint32_t v = mysql_get_u32(p + i), ev;
		switch (v & 3) {
		case 0:
			stmt_client_add(&m, v, (const char *)p, i, "", 0, 1, 0);
			break;
		case 1:
			stmt_client_remove(&m, v >> 2);
			break;
		case 2:
			stmt_cache_put(&cache, v >> 4, v, 0, 0, &ev);
			break;
		case 3:
			stmt_cache_remove(&cache, v >> 4, &ev);
			break;
		}
		check(m.count <= 8 && m.bytes <= 4096 && cache.count <= 4);
	}
	stmt_clients_free(&m);
	stmt_cache_free(&cache);
	(void)stmt_key(&secret, (const char *)p, n, "", 0, NULL, 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	uint8_t opts = data[0];
	uint64_t caps = CLIENT_PROTOCOL_41 |
			(opts & 0x80 ? 0 : CLIENT_SESSION_TRACK);
	uint16_t np = (uint16_t)(data[1] | (opts & 0x40 ? 0x100 : 0));
	const uint8_t *p = data + 2;
	size_t n = size - 2;

	/* the whole input as one packet, then its pieces */
	ok_rewrites(p, n, caps);
	stmt_packets(p, n, np);
	while (n) {
		size_t len = p[0] < n - 1 ? p[0] : n - 1;
		ok_rewrites(p + 1, len, caps);
		state_and_replay(p + 1, len, caps, opts);
		p += 1 + len;
		n -= 1 + len;
	}

	char out[16];
	size_t l = mysql_sql_value_literal(out, sizeof(out) - 1,
					   (const char *)data, size);
	check(l >= size);
	return 0;
}
