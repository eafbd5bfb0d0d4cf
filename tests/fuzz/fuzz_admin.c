/*
 * libFuzzer target for the admin port's input side: the SQL parser and,
 * for statements that parse, the engine (expressions, WHERE, ORDER BY,
 * aggregates, LIMIT) over a small fixed table and over no table; LIKE on
 * the two halves of the input; and the server-side handshake parser on
 * the same bytes.  Anything unknown must be an error, never a crash, an
 * over-read or a deep stack.
 */
#include "admin_engine.h"
#include "admin_sql.h"
#include "mysql_proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"name", "count", "avg", "delta"};
static const enum admin_col_type types[] = {ADMIN_COL_TEXT, ADMIN_COL_UINT,
					    ADMIN_COL_DOUBLE, ADMIN_COL_INT};

static const struct admin_ctx ctx = {
	.user = "admin", .host = "127.0.0.1", .db = "stats",
	.version = "8.0.99-myring-fuzz-admin", .conn_id = 7, .now = 1700000000,
	.max_packet = 1 << 20, .port = 6032,
};

static void run(const struct admin_table *t, const struct admin_stmt *st)
{
	struct admin_err e;
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	if (admin_select(t, st, &ctx, &pb, CLIENT_PROTOCOL_41, &e) && pb.len)
		abort();             /* an error leaves nothing behind */
	pkt_buf_free(&pb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct admin_stmt st;
	struct admin_value cells[4 * 4];
	struct mysql_handshake_response hr;
	char err[512];
	char *sql = malloc(size ? size : 1);

	/* The parser gets exactly size bytes: no terminator to lean on. */
	memcpy(sql, data, size);
	if (admin_parse(sql, size, &st, err, sizeof(err)) == 0 &&
	    (st.kind == ADMIN_SELECT || st.kind == ADMIN_SHOW)) {
		for (int r = 0; r < 4; r++) {
			admin_value_set_text(&cells[r * 4], &"abc"[r % 3], (size_t)(3 - r % 3));
			admin_value_set_uint(&cells[r * 4 + 1],
					     r == 3 ? UINT64_MAX : (uint64_t)r * 7 % 3);
			if (r == 2)
				admin_value_set_null(&cells[r * 4 + 2]);
			else
				admin_value_set_double(&cells[r * 4 + 2], r * 0.5);
			admin_value_set_int(&cells[r * 4 + 3], r == 1 ? INT64_MIN : -r);
		}
		struct admin_table t = {"t", names, types, 4, cells, 4};
		run(&t, &st);
		run(NULL, &st);
	}
	admin_like(sql, size / 2, sql + size / 2, size - size / 2);
	mysql_parse_handshake_response(data, size, CLIENT_PROTOCOL_41 |
				       CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS |
				       CLIENT_SECURE_CONNECTION, &hr);
	free(sql);
	return 0;
}
