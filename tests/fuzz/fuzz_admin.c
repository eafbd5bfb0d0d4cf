/*
 * libFuzzer target for the admin port's input side: the SQL subset parser
 * and, for statements that parse, the table engine over a small fixed
 * table (projection, WHERE, ORDER BY, LIMIT), and the server-side
 * handshake parser on the same bytes.  Anything unknown must be an error,
 * never a crash or an over-read.
 */
#include "admin_sql.h"
#include "mysql_proto.h"

#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const names[] = {"name", "count", "avg", "delta"};
static const enum admin_col_type types[] = {ADMIN_COL_TEXT, ADMIN_COL_UINT,
					    ADMIN_COL_DOUBLE, ADMIN_COL_INT};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct admin_value cells[4 * 4];
	struct admin_stmt st;
	struct mysql_handshake_response hr;
	char err[512];
	char *sql = malloc(size ? size : 1);

	/* The parser gets exactly size bytes: no terminator to lean on. */
	memcpy(sql, data, size);
	if (admin_parse(sql, size, &st, err, sizeof(err)) == 0 &&
	    st.kind == ADMIN_SELECT) {
		for (int r = 0; r < 4; r++) {
			admin_value_set_text(&cells[r * 4], &"abc"[r % 3], (size_t)(3 - r % 3));
			admin_value_set_uint(&cells[r * 4 + 1], (uint64_t)r * 7 % 3);
			if (r == 2)
				admin_value_set_null(&cells[r * 4 + 2]);
			else
				admin_value_set_double(&cells[r * 4 + 2], r * 0.5);
			admin_value_set_int(&cells[r * 4 + 3], -r);
		}
		struct admin_table t = {names, types, 4, cells, 4};
		struct pkt_buf pb;
		uint16_t code;
		pkt_buf_init(&pb);
		admin_select(&t, &st, &pb, CLIENT_PROTOCOL_41, err, sizeof(err), &code);
		pkt_buf_free(&pb);
	}
	mysql_parse_handshake_response(data, size, CLIENT_PROTOCOL_41 |
				       CLIENT_PLUGIN_AUTH | CLIENT_CONNECT_ATTRS |
				       CLIENT_SECURE_CONNECTION, &hr);
	free(sql);
	return 0;
}
