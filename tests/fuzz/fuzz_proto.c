/*
 * libFuzzer target for the pure protocol layer.  Every parser gets the
 * input; then the framer + tracker get it as a server stream, once in one
 * buffer and once cut into pieces whose sizes the input chooses: both runs
 * must report the same frames and the same tracker results, and leave the
 * same bytes behind (seq renumbering).  Built by tests/fuzz/build.sh with
 * ASan and UBSan; any disagreement aborts.
 */
#include "mysql_framer.h"
#include "mysql_proto.h"
#include "mysql_tracker.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_FRAMES 4096

struct seen {
	uint32_t len;
	uint8_t seq;
	bool continuation;
	uint32_t peek_len;
	uint8_t peek[MYSQL_PEEK];
	uint8_t result;          /* enum mysql_track_result */
};

#include <stdio.h>

static void check_at(bool ok, int line)
{
	if (!ok) {
		fprintf(stderr, "fuzz_proto.c:%d: invariant broken\n", line);
		abort();
	}
}
#define check(ok) check_at((ok), __LINE__)

static bool str_inside(struct mysql_str s, const uint8_t *p, size_t n)
{
	return s.len == 0 ||
	       ((const uint8_t *)s.ptr >= p && s.len <= n &&
		(const uint8_t *)s.ptr - p <= (ptrdiff_t)(n - s.len));
}

static void parsers(const uint8_t *p, size_t n, uint8_t flags)
{
	struct mysql_greeting g;
	struct mysql_handshake_response r;
	struct mysql_change_user cu;
	struct mysql_ok ok;
	struct mysql_err err;
	uint16_t st, w;
	uint64_t v;
	uint8_t *copy = malloc(n ? n : 1);

	check(copy != NULL);
	int used = mysql_get_lenenc(p, n, &v);
	check(used == -1 || ((used == 1 || used == 3 || used == 4 || used == 9) &&
			     (size_t)used <= n));
	if (used > 0) {
		/* re-encoding is minimal: never longer than what was read */
		uint8_t enc[9];
		uint64_t v2;
		size_t el = (size_t)(mysql_put_lenenc(enc, v) - enc);
		check(el == mysql_lenenc_size(v) && el <= (size_t)used);
		check(mysql_get_lenenc(enc, el, &v2) == (int)el && v2 == v);
	}

	memcpy(copy, p, n);
	if (mysql_parse_greeting(copy, n, &g) == 0) {
		check(str_inside(g.server_version, copy, n));
		check(str_inside(g.auth_plugin, copy, n));
		check(g.caps_lo_off + 2 <= n);
		check(!g.caps_hi_off || g.caps_hi_off + 2 <= n);
		check(!g.ext_caps_off || g.ext_caps_off + 4 <= n);
		uint64_t want = g.caps & ~MYSQL_CAPS_PROXY_MASK;
		mysql_greeting_set_caps(copy, &g, want);
		struct mysql_greeting g2;
		check(mysql_parse_greeting(copy, n, &g2) == 0);
		/* bits beyond what the packet holds cannot be rewritten */
		uint64_t held = 0xFFFF | (g.caps_hi_off ? 0xFFFF0000ull : 0) |
				(g.ext_caps_off ? 0xFFFFFFFF00000000ull : 0);
		check((g2.caps & held) == (want & held));
	}

	memcpy(copy, p, n);
	uint64_t server = flags & 1 ? ~CLIENT_MYSQL : ~0ull;
	if (mysql_parse_handshake_response(copy, n, server, &r) == 0) {
		size_t pos = 0, count = 0;
		struct mysql_str k, val;
		check(str_inside(r.user, copy, n) && str_inside(r.auth, copy, n) &&
		      str_inside(r.schema, copy, n) && str_inside(r.plugin, copy, n) &&
		      str_inside(r.attrs, copy, n));
		while (mysql_attrs_next(r.attrs, &pos, &k, &val) == 1) {
			check(str_inside(k, (const uint8_t *)r.attrs.ptr, r.attrs.len));
			check(str_inside(val, (const uint8_t *)r.attrs.ptr, r.attrs.len));
			check(++count <= r.attrs.len);
		}
		mysql_handshake_response_set_caps(copy, &r,
						  r.caps & ~MYSQL_CAPS_PROXY_MASK);
		struct mysql_handshake_response r2;
		check(mysql_parse_handshake_response(copy, n, server, &r2) == 0 ||
		      r.ssl_request);
	}
	if (mysql_parse_change_user(p, n, flags & 2 ? ~0ull : 0, &cu) == 0)
		check(str_inside(cu.user, p, n) && str_inside(cu.auth, p, n) &&
		      str_inside(cu.schema, p, n) && str_inside(cu.plugin, p, n) &&
		      str_inside(cu.attrs, p, n));
	mysql_parse_ok(p, n, &ok);
	if (mysql_parse_err(p, n, &err) == 0)
		check(str_inside(err.message, p, n) && err.sqlstate[5] == 0);
	mysql_parse_eof(p, n, &st, &w);
	(void)mysql_command_name(n ? p[0] : 0);

	/* builders round-trip whatever the fields */
	if (n >= 18) {
		uint8_t b[27];
		uint64_t aff = mysql_get_u32(p + 1) | (uint64_t)mysql_get_u32(p + 5) << 32;
		size_t len = mysql_build_ok(b, p[0], aff, mysql_get_u32(p + 9),
					    mysql_get_u16(p + 13), mysql_get_u16(p + 15));
		check(len <= 27 && mysql_get_u24(b) == len - 4 && b[3] == p[0]);
		check(mysql_parse_ok(b + 4, len - 4, &ok) == 0);
		check(ok.affected_rows == aff && ok.last_insert_id == mysql_get_u32(p + 9) &&
		      ok.status == mysql_get_u16(p + 13) &&
		      ok.warnings == mysql_get_u16(p + 15));

		char msg[64];
		uint8_t e[80];
		size_t ml = n - 17 < sizeof(msg) - 1 ? n - 17 : sizeof(msg) - 1;
		memcpy(msg, p + 17, ml);
		msg[ml] = 0;
		size_t cap = p[1] % sizeof(e);
		len = mysql_build_err(e, cap, p[2], mysql_get_u16(p + 3), "42S02", msg);
		check(cap < 13 ? len == 0 : len >= 13 && len <= cap);
		if (len) {
			check(mysql_parse_err(e + 4, len - 4, &err) == 0);
			check(err.code == mysql_get_u16(p + 3));
			check(strcmp(err.sqlstate, "42S02") == 0);
			check(err.message.len == len - 13 && err.message.len <= strlen(msg));
			check(memcmp(err.message.ptr, msg, err.message.len) == 0);
		}
	}
	free(copy);
}

/* Runs framer + tracker over stream[0, n) cut at the given sizes (sizes
 * NULL: one buffer).  Returns the number of frames recorded. */
static size_t stream_run(uint8_t *stream, size_t n, const uint8_t *sizes,
			 size_t nsizes, uint8_t kind, bool dep, uint8_t delta,
			 struct seen *out)
{
	struct mysql_framer f;
	struct mysql_tracker t;
	struct mysql_frame fr;
	size_t count = 0, base = 0, k = 0;

	mysql_framer_init(&f);
	f.seq_delta = delta;
	mysql_tracker_start(&t, (enum mysql_resp_kind)kind, dep);
	while (base < n) {
		size_t len = n - base;
		if (sizes && k < nsizes) {
			len = sizes[k++] % 64; /* 0 too: an empty buffer */
			if (len > n - base)
				len = n - base;
		}
		size_t pos = 0;
		while (mysql_framer_next(&f, stream + base, len, &pos, &fr)) {
			check(fr.peek_len <= fr.len && fr.peek_len <= MYSQL_PEEK);
			check(fr.peek_len == (fr.len < MYSQL_PEEK ? fr.len : MYSQL_PEEK));
			check(pos <= len);
			check(!fr.start_in_buf || fr.start + 4 + fr.peek_len <= pos);
			check(!fr.whole || fr.start_in_buf);
			check(mysql_framer_partial(&f) == 0);
			enum mysql_track_result r = mysql_tracker_feed(&t, &fr);
			check(r <= TRACK_BAD);
			if (count < MAX_FRAMES) {
				struct seen *s = &out[count];
				s->len = fr.len;
				s->seq = fr.seq;
				s->continuation = fr.continuation;
				s->peek_len = fr.peek_len;
				memcpy(s->peek, fr.peek, fr.peek_len);
				s->result = (uint8_t)r;
			}
			count++;
			if (r != TRACK_MORE && r != TRACK_LOCAL_INFILE)
				mysql_tracker_start(&t, (enum mysql_resp_kind)kind, dep);
		}
		check(pos == len);
		check(mysql_framer_partial(&f) <= 4 + MYSQL_PEEK - 1);
		base += len;
	}
	return count;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct seen a[MAX_FRAMES], b[MAX_FRAMES];

	if (size < 4)
		return 0;
	/* Header: tracker kind, flags, seq delta, number of cut sizes. */
	uint8_t kind = data[0] % 8, flags = data[1], delta = data[2];
	size_t nsizes = data[3] % 32;
	const uint8_t *p = data + 4;
	size_t n = size - 4;
	if (nsizes > n)
		nsizes = n;
	const uint8_t *sizes = p;

	parsers(p, n, flags);

	/* The stream is what follows the cut sizes. */
	const uint8_t *sp = p + nsizes;
	size_t sn = n - nsizes;
	uint8_t *s1 = malloc(sn ? sn : 1), *s2 = malloc(sn ? sn : 1);
	check(s1 && s2);
	memcpy(s1, sp, sn);
	memcpy(s2, sp, sn);
	size_t c1 = stream_run(s1, sn, NULL, 0, kind, flags & 4, delta, a);
	size_t c2 = stream_run(s2, sn, sizes, nsizes, kind, flags & 4, delta, b);
	check(c1 == c2);
	for (size_t i = 0; i < c1 && i < MAX_FRAMES; i++) {
		check(a[i].len == b[i].len && a[i].seq == b[i].seq);
		check(a[i].continuation == b[i].continuation);
		check(a[i].peek_len == b[i].peek_len);
		check(memcmp(a[i].peek, b[i].peek, a[i].peek_len) == 0);
		check(a[i].result == b[i].result);
	}
	check(memcmp(s1, s2, sn) == 0);
	free(s1);
	free(s2);
	return 0;
}
