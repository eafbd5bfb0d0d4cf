/*
 * libFuzzer target for the pure protocol layer: every parser, and the
 * framer + tracker fed the input as a server stream cut at a point the
 * input chooses.  Built by tests/fuzz/build.sh with ASan and UBSan.
 */
#include "mysql_framer.h"
#include "mysql_proto.h"
#include "mysql_tracker.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mysql_greeting g;
	struct mysql_handshake_response r;
	struct mysql_change_user cu;
	struct mysql_ok ok;
	struct mysql_err err;
	uint16_t st, w;
	uint64_t v;

	if (size < 3)
		return 0;
	/* First bytes choose how the rest is used. */
	uint8_t kind = data[0], cut_hint = data[1], flags = data[2];
	const uint8_t *p = data + 3;
	size_t n = size - 3;
	uint8_t *copy = malloc(n ? n : 1);
	memcpy(copy, p, n);

	mysql_get_lenenc(p, n, &v);
	if (mysql_parse_greeting(copy, n, &g) == 0)
		mysql_greeting_set_caps(copy, &g, g.caps & ~MYSQL_CAPS_PROXY_MASK);
	memcpy(copy, p, n);
	if (mysql_parse_handshake_response(copy, n, flags & 1 ? 0 : CLIENT_MYSQL, &r) == 0) {
		size_t pos = 0;
		struct mysql_str k, val;
		while (mysql_attrs_next(r.attrs, &pos, &k, &val) == 1)
			;
		mysql_handshake_response_set_caps(copy, &r, r.caps & ~MYSQL_CAPS_PROXY_MASK);
	}
	mysql_parse_change_user(p, n, flags & 2 ? ~0ull : 0, &cu);
	mysql_parse_ok(p, n, &ok);
	mysql_parse_err(p, n, &err);
	mysql_parse_eof(p, n, &st, &w);

	/* Framer + tracker over the stream, in two pieces. */
	memcpy(copy, p, n);
	struct mysql_framer f;
	struct mysql_tracker t;
	struct mysql_frame fr;
	size_t cut = n ? cut_hint % (n + 1) : 0;
	size_t parts[2] = {cut, n - cut}, base = 0;
	mysql_framer_init(&f);
	f.seq_delta = flags >> 4;
	mysql_tracker_start(&t, (enum mysql_resp_kind)(kind % 8), flags & 4);
	for (int i = 0; i < 2; i++) {
		size_t pos = 0;
		while (mysql_framer_next(&f, copy + base, parts[i], &pos, &fr)) {
			if (fr.peek_len > fr.len || fr.peek_len > MYSQL_PEEK)
				abort();
			if (mysql_tracker_feed(&t, &fr) != TRACK_MORE)
				mysql_tracker_start(&t, (enum mysql_resp_kind)(kind % 8),
						    flags & 4);
		}
		if (pos != parts[i])
			abort();
		base += parts[i];
	}
	free(copy);
	return 0;
}
