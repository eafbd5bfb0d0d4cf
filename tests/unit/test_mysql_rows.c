/* The checker's text result-set reader (mysql_rows.h), fed responses built
 * by the server-side builders (mysql_srv.h) and hand-made bad ones. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mysql_proto.h"
#include "mysql_rows.h"
#include "mysql_srv.h"

static struct rows_cell cells[ROWS_MAX_COLS];

/* Feeds every packet of pb; returns the events, one letter each:
 * m(ore) r(ow) d(one) e(rr) b(ad); rows' cells are appended to out as
 * "a|NULL|c;". */
static void feed_all(struct rows_reader *r, const struct pkt_buf *pb,
		     char *events, char *out, size_t outlen)
{
	size_t off = 0, ne = 0;

	out[0] = '\0';
	while (off + 4 <= pb->len) {
		uint32_t len = mysql_get_u24(pb->data + off);
		enum rows_event ev = rows_feed(r, pb->data + off + 4, len, cells);

		events[ne++] = "mrdeb"[ev];
		if (ev == ROWS_ROW) {
			for (unsigned i = 0; i < r->ncols; i++) {
				size_t n = strlen(out);
				snprintf(out + n, outlen - n, "%s%.*s", i ? "|" : "",
					 cells[i].null ? 4 : (int)cells[i].len,
					 cells[i].null ? "NULL" : cells[i].ptr);
			}
			strncat(out, ";", outlen - strlen(out) - 1);
		}
		off += 4 + len;
	}
	events[ne] = '\0';
}

static void build(struct pkt_buf *pb, uint64_t caps, uint16_t status)
{
	static const char *const row1[] = {"0", "1", "0-1-5", NULL};
	static const char *const row2[] = {"Yes", "", "0-1-4", "x"};
	size_t lens1[] = {1, 1, 5, 0}, lens2[] = {3, 0, 5, 1};

	pkt_buf_init(pb);
	pb->seq = 1;
	srv_resultset_begin(pb, 4);
	srv_column(pb, "@@read_only", SRV_COL_INT, caps);
	srv_column(pb, "@@server_id", SRV_COL_UINT, caps);
	srv_column(pb, "@@gtid_binlog_pos", SRV_COL_TEXT, caps);
	srv_column(pb, "Seconds_Behind_Master", SRV_COL_UINT, caps);
	srv_columns_end(pb, caps);
	srv_row(pb, row1, lens1, 4);
	srv_row(pb, row2, lens2, 4);
	srv_resultset_end(pb, caps, status);
}

Test(mysql_rows, result_set_with_eof)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[256];

	build(&pb, 0, SERVER_STATUS_AUTOCOMMIT);
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	/* count, 4 columns, EOF, 2 rows, EOF */
	cr_assert_str_eq(ev, "mmmmmmrrd");
	cr_assert_str_eq(out, "0|1|0-1-5|NULL;Yes||0-1-4|x;");
	cr_assert_eq(r.ncols, 4);
	cr_assert_eq(rows_column(&r, "@@server_id"), 1);
	cr_assert_eq(rows_column(&r, "seconds_behind_master"), 3);
	cr_assert_eq(rows_column(&r, "Slave_IO_Running"), -1);
	cr_assert_eq(r.status, SERVER_STATUS_AUTOCOMMIT);
	pkt_buf_free(&pb);
}

Test(mysql_rows, result_set_with_deprecate_eof)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[256];

	build(&pb, CLIENT_DEPRECATE_EOF, 0x22);
	rows_init(&r, true);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "mmmmmrrd");
	cr_assert_str_eq(out, "0|1|0-1-5|NULL;Yes||0-1-4|x;");
	cr_assert_eq(r.status, 0x22);
	pkt_buf_free(&pb);
}

Test(mysql_rows, empty_result_set)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[64];

	pkt_buf_init(&pb);
	srv_resultset_begin(&pb, 1);
	srv_column(&pb, "Connection_name", SRV_COL_TEXT, 0);
	srv_columns_end(&pb, 0);
	srv_resultset_end(&pb, 0, 0);
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "mmmd");
	cr_assert_str_eq(out, "");
	cr_assert_eq(rows_column(&r, "connection_name"), 0);
	pkt_buf_free(&pb);
}

Test(mysql_rows, ok_and_err_responses)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[64];

	pkt_buf_init(&pb);
	srv_ok(&pb, 0, 0, NULL);
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "d");

	pkt_buf_reset(&pb);
	srv_err(&pb, 1227, "42000", "Access denied; you need the SUPER privilege");
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "e");
	cr_assert_eq(r.err_code, 1227);
	cr_assert_str_eq(r.err_state, "42000");
	cr_assert_str_eq(r.err_msg, "Access denied; you need the SUPER privilege");
	pkt_buf_free(&pb);
}

Test(mysql_rows, err_instead_of_a_row)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[256];
	const char *cell = "1";
	size_t len = 1;

	pkt_buf_init(&pb);
	srv_resultset_begin(&pb, 1);
	srv_column(&pb, "a", SRV_COL_INT, 0);
	srv_columns_end(&pb, 0);
	srv_row(&pb, &cell, &len, 1);
	srv_err(&pb, 1317, "70100", "Query execution was interrupted");
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "mmmre");
	cr_assert_eq(r.err_code, 1317);
	pkt_buf_free(&pb);
}

Test(mysql_rows, more_results_start_over)
{
	struct rows_reader r;
	struct pkt_buf pb;
	char ev[64], out[256];
	const char *cell = "7";
	size_t len = 1;

	pkt_buf_init(&pb);
	srv_resultset_begin(&pb, 1);
	srv_column(&pb, "a", SRV_COL_INT, 0);
	srv_columns_end(&pb, 0);
	srv_row(&pb, &cell, &len, 1);
	srv_resultset_end(&pb, 0, SERVER_MORE_RESULTS_EXISTS);
	srv_ok(&pb, 0, 0, NULL);
	rows_init(&r, false);
	feed_all(&r, &pb, ev, out, sizeof(out));
	cr_assert_str_eq(ev, "mmmrmd");
	cr_assert_str_eq(out, "7;");
	pkt_buf_free(&pb);
}

Test(mysql_rows, malformed_packets_are_bad)
{
	struct rows_reader r;
	static const uint8_t infile[] = {0xFB, 'f'};
	static const uint8_t zero_cols[] = {0xFC, 0, 0};
	static const uint8_t too_many[] = {ROWS_MAX_COLS + 1};
	static const uint8_t two[] = {2};
	static const uint8_t short_def[] = {3, 'd', 'e', 'f', 0};
	static const uint8_t one[] = {1};
	static const uint8_t def[] = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c,
				      0x3f, 0, 11, 0, 0, 0, 3, 0x80, 0, 0, 0, 0};
	static const uint8_t not_eof[] = {0x01, 'x'};
	static const uint8_t eof[] = {0xFE, 0, 0, 2, 0};
	static const uint8_t truncated_row[] = {5, 'a', 'b'};
	static const uint8_t trailing_row[] = {1, 'a', 'z'};

	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, infile, sizeof(infile), cells), ROWS_BAD);
	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, zero_cols, sizeof(zero_cols), cells), ROWS_BAD);
	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, too_many, sizeof(too_many), cells), ROWS_BAD);
	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, NULL, 0, cells), ROWS_BAD);
	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, two, sizeof(two), cells), ROWS_MORE);
	cr_assert_eq(rows_feed(&r, short_def, sizeof(short_def), cells), ROWS_BAD);

	rows_init(&r, false);
	cr_assert_eq(rows_feed(&r, one, 1, cells), ROWS_MORE);
	cr_assert_eq(rows_feed(&r, def, sizeof(def), cells), ROWS_MORE);
	cr_assert_str_eq(r.names[0], "a");
	cr_assert_eq(rows_feed(&r, not_eof, sizeof(not_eof), cells), ROWS_BAD);

	rows_init(&r, false);
	rows_feed(&r, one, 1, cells);
	rows_feed(&r, def, sizeof(def), cells);
	cr_assert_eq(rows_feed(&r, eof, sizeof(eof), cells), ROWS_MORE);
	cr_assert_eq(rows_feed(&r, truncated_row, sizeof(truncated_row), cells),
		     ROWS_BAD);
	cr_assert_eq(rows_feed(&r, trailing_row, sizeof(trailing_row), cells),
		     ROWS_BAD);
	cr_assert_eq(rows_feed(&r, eof, sizeof(eof), cells), ROWS_DONE);
	/* Nothing follows the end. */
	cr_assert_eq(rows_feed(&r, eof, sizeof(eof), cells), ROWS_BAD);
}

Test(mysql_rows, cells)
{
	struct rows_cell c = {.ptr = "Yes", .len = 3};
	uint64_t v = 99;

	cr_assert(rows_cell_is(&c, "yes"));
	cr_assert(!rows_cell_is(&c, "Ye"));
	cr_assert(!rows_cell_is(&c, "Yess"));
	cr_assert_eq(rows_cell_u64(&c, &v), -1);
	c = (struct rows_cell){.ptr = "18446744073709551615", .len = 20};
	cr_assert_eq(rows_cell_u64(&c, &v), 0);
	cr_assert_eq(v, UINT64_MAX);
	c = (struct rows_cell){.ptr = "18446744073709551616", .len = 20};
	cr_assert_eq(rows_cell_u64(&c, &v), -1);
	c = (struct rows_cell){.ptr = "42x", .len = 2};
	cr_assert_eq(rows_cell_u64(&c, &v), 0);
	cr_assert_eq(v, 42);
	c = (struct rows_cell){.ptr = "", .len = 0};
	cr_assert_eq(rows_cell_u64(&c, &v), -1);
	c = (struct rows_cell){.ptr = "", .null = true};
	cr_assert_eq(rows_cell_u64(&c, &v), -1);
	cr_assert(!rows_cell_is(&c, ""));
}
