/* Response tracking: where each response ends, fed real packet layouts. */
#include <criterion/criterion.h>
#include <string.h>

#include "mysql_proto.h"
#include "mysql_tracker.h"
#include "mysql_srv.h"

/* Builds a stream of packets with consecutive seq ids; the test then feeds
 * it through the framer into the tracker, so both are exercised. */
struct stream {
	uint8_t b[8192];
	size_t n;
	uint8_t seq;
};

static void pkt(struct stream *s, const void *payload, size_t len)
{
	mysql_put_header(s->b + s->n, (uint32_t)len, s->seq++);
	memcpy(s->b + s->n + 4, payload, len);
	s->n += 4 + len;
}

#define PKT(s, ...) do { const uint8_t p_[] = {__VA_ARGS__}; pkt(s, p_, sizeof(p_)); } while (0)

static void ok_pkt(struct stream *s, uint8_t hdr, uint64_t affected, uint16_t status)
{
	uint8_t p[32], *q = p;
	*q++ = hdr;
	q = mysql_put_lenenc(q, affected);
	q = mysql_put_lenenc(q, 0);
	mysql_put_u16(q, status);
	mysql_put_u16(q + 2, 0);
	q += 4;
	pkt(s, p, (size_t)(q - p));
}

static void eof_pkt(struct stream *s, uint16_t status)
{
	uint8_t p[5] = {0xFE, 0, 0};
	mysql_put_u16(p + 3, status);
	pkt(s, p, 5);
}

static void coldef(struct stream *s)
{
	static const uint8_t def[] = {3, 'd', 'e', 'f', 0, 0, 0, 1, 'a', 0, 0x0c,
				      0x3f, 0, 11, 0, 0, 0, 3, 0x80, 0, 0, 0, 0};
	pkt(s, def, sizeof(def));
}

static void text_row(struct stream *s, const char *v)
{
	uint8_t p[64];
	size_t n = strlen(v);
	p[0] = (uint8_t)n;
	memcpy(p + 1, v, n);
	pkt(s, p, n + 1);
}

static void err_pkt(struct stream *s, uint16_t code)
{
	uint8_t p[32] = {0xFF};
	mysql_put_u16(p + 1, code);
	memcpy(p + 3, "#42000oops", 10);
	pkt(s, p, 13);
}

/* Feeds the stream split at `cut`; returns the index of the packet that
 * ended the response (-1 if none) and checks nothing follows it. */
static int run(struct mysql_tracker *t, struct stream *s, size_t cut,
	       int *infile_at)
{
	struct mysql_framer f;
	struct mysql_frame fr;
	int idx = 0, done = -1;
	size_t parts[2] = {cut ? cut : s->n, s->n - (cut ? cut : s->n)};
	size_t base = 0;

	if (infile_at)
		*infile_at = -1;
	mysql_framer_init(&f);
	for (int k = 0; k < 2; k++) {
		size_t pos = 0;
		while (mysql_framer_next(&f, s->b + base, parts[k], &pos, &fr)) {
			enum mysql_track_result r = mysql_tracker_feed(t, &fr);
			cr_assert_neq(r, TRACK_BAD, "packet %d judged impossible", idx);
			if (r == TRACK_LOCAL_INFILE && infile_at)
				*infile_at = idx;
			if (r == TRACK_DONE) {
				cr_assert_eq(done, -1, "response ended twice");
				done = idx;
			}
			idx++;
		}
		base += parts[k];
	}
	return done;
}

static void check_all_cuts(enum mysql_resp_kind kind, bool deprecate,
			   struct stream *s, int expect_done)
{
	for (size_t cut = 0; cut < s->n; cut++) {
		struct mysql_tracker t;
		mysql_tracker_start(&t, kind, deprecate);
		cr_assert_eq(run(&t, s, cut, NULL), expect_done, "cut %zu", cut);
	}
}

Test(tracker, response_kinds)
{
	cr_assert_eq(mysql_response_kind(COM_QUERY), RESP_RESULT);
	cr_assert_eq(mysql_response_kind(COM_STMT_EXECUTE), RESP_RESULT);
	cr_assert_eq(mysql_response_kind(COM_STMT_PREPARE), RESP_PREPARE);
	cr_assert_eq(mysql_response_kind(COM_STMT_FETCH), RESP_FETCH);
	cr_assert_eq(mysql_response_kind(COM_STMT_CLOSE), RESP_NONE);
	cr_assert_eq(mysql_response_kind(COM_STMT_SEND_LONG_DATA), RESP_NONE);
	cr_assert_eq(mysql_response_kind(COM_QUIT), RESP_NONE);
	cr_assert_eq(mysql_response_kind(COM_CHANGE_USER), RESP_AUTH);
	cr_assert_eq(mysql_response_kind(COM_FIELD_LIST), RESP_FIELD_LIST);
	cr_assert_eq(mysql_response_kind(COM_BINLOG_DUMP), RESP_STREAM);
	cr_assert_eq(mysql_response_kind(COM_PING), RESP_SINGLE);
	cr_assert_eq(mysql_response_kind(COM_STATISTICS), RESP_SINGLE);
	cr_assert_eq(mysql_response_kind(COM_RESET_CONNECTION), RESP_SINGLE);
	cr_assert_eq(mysql_response_kind(0xEE), RESP_SINGLE);
}

Test(tracker, ok_and_err)
{
	struct stream s = {.seq = 1};
	struct mysql_tracker t;

	ok_pkt(&s, 0x00, 3, SERVER_STATUS_AUTOCOMMIT);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(run(&t, &s, 0, NULL), 0);
	cr_assert_eq(t.affected_rows, 3);
	cr_assert_eq(t.err_code, 0);
	cr_assert_eq(t.result_sets, 0);

	struct stream e = {.seq = 1};
	err_pkt(&e, 1064);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(run(&t, &e, 0, NULL), 0);
	cr_assert_eq(t.err_code, 1064);
}

static void resultset(struct stream *s, bool deprecate, int ncols, int nrows,
		      uint16_t final_status)
{
	uint8_t cc = (uint8_t)ncols;
	pkt(s, &cc, 1);
	for (int i = 0; i < ncols; i++)
		coldef(s);
	if (!deprecate)
		eof_pkt(s, 0);
	for (int i = 0; i < nrows; i++)
		text_row(s, "v");
	if (deprecate)
		ok_pkt(s, 0xFE, 0, final_status);
	else
		eof_pkt(s, final_status);
}

Test(tracker, text_resultset_classic_eof)
{
	struct stream s = {.seq = 1};
	resultset(&s, false, 3, 5, SERVER_STATUS_AUTOCOMMIT);
	/* 1 count + 3 defs + EOF + 5 rows + EOF = 11 packets */
	check_all_cuts(RESP_RESULT, false, &s, 10);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_RESULT, false);
	run(&t, &s, 0, NULL);
	cr_assert_eq(t.rows, 5);
	cr_assert_eq(t.result_sets, 1);
}

Test(tracker, text_resultset_deprecate_eof)
{
	struct stream s = {.seq = 1};
	resultset(&s, true, 2, 4, SERVER_STATUS_AUTOCOMMIT);
	check_all_cuts(RESP_RESULT, true, &s, 1 + 2 + 4);
}

Test(tracker, empty_resultset)
{
	struct stream s = {.seq = 1};
	resultset(&s, false, 1, 0, 0);
	check_all_cuts(RESP_RESULT, false, &s, 3);
}

Test(tracker, multi_results)
{
	struct stream s = {.seq = 1};
	resultset(&s, false, 1, 2, SERVER_MORE_RESULTS_EXISTS);   /* 0..5 */
	ok_pkt(&s, 0x00, 7, SERVER_MORE_RESULTS_EXISTS);          /* 6 */
	resultset(&s, false, 2, 1, 0);                            /* 7..12 */
	check_all_cuts(RESP_RESULT, false, &s, 12);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_RESULT, false);
	run(&t, &s, 0, NULL);
	cr_assert_eq(t.rows, 3);
	cr_assert_eq(t.affected_rows, 7);
	cr_assert_eq(t.result_sets, 2);
}

Test(tracker, error_in_the_middle_of_multi_results_ends_it)
{
	struct stream s = {.seq = 1};
	resultset(&s, true, 1, 1, SERVER_MORE_RESULTS_EXISTS); /* 0..3 */
	err_pkt(&s, 1146);                                      /* 4 */
	check_all_cuts(RESP_RESULT, true, &s, 4);
}

Test(tracker, error_instead_of_a_row)
{
	struct stream s = {.seq = 1};
	PKT(&s, 1);
	coldef(&s);
	eof_pkt(&s, 0);
	text_row(&s, "a");
	err_pkt(&s, 1317);
	check_all_cuts(RESP_RESULT, false, &s, 4);
}

Test(tracker, fe_row_of_16mib_is_not_a_terminator)
{
	struct mysql_tracker t;
	uint8_t big_row_peek[MYSQL_PEEK] = {0xFE};
	struct mysql_frame f = {.len = MYSQL_MAX_PAYLOAD, .peek = big_row_peek,
				.peek_len = MYSQL_PEEK};
	uint8_t one = 1;
	struct mysql_frame count = {.len = 1, .peek = &one, .peek_len = 1};
	uint8_t def[MYSQL_PEEK] = {3, 'd', 'e', 'f'};
	struct mysql_frame d = {.len = 30, .peek = def, .peek_len = MYSQL_PEEK};
	uint8_t eof[5] = {0xFE, 0, 0, 0, 0};
	struct mysql_frame e = {.len = 5, .peek = eof, .peek_len = 5};
	uint8_t okfe[7] = {0xFE, 0, 0, 2, 0, 0, 0};
	struct mysql_frame o = {.len = 7, .peek = okfe, .peek_len = 7};

	for (int dep = 0; dep < 2; dep++) {
		mysql_tracker_start(&t, RESP_RESULT, dep);
		cr_assert_eq(mysql_tracker_feed(&t, &count), TRACK_MORE);
		cr_assert_eq(mysql_tracker_feed(&t, &d), TRACK_MORE);
		if (!dep)
			cr_assert_eq(mysql_tracker_feed(&t, &e), TRACK_MORE);
		cr_assert_eq(mysql_tracker_feed(&t, &f), TRACK_MORE, "a row");
		/* its continuation packets are ignored */
		struct mysql_frame cont = f;
		cont.continuation = true;
		cont.len = 10;
		cr_assert_eq(mysql_tracker_feed(&t, &cont), TRACK_MORE);
		cr_assert_eq(t.rows, 1);
		cr_assert_eq(mysql_tracker_feed(&t, dep ? &o : &e), TRACK_DONE);
	}
}

Test(tracker, local_infile)
{
	struct stream s = {.seq = 1};
	int infile_at;
	struct mysql_tracker t;

	PKT(&s, 0xFB, '/', 't', 'm', 'p', '/', 'x');
	/* (client streams the file; the server then answers) */
	ok_pkt(&s, 0x00, 100, 0);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(run(&t, &s, 0, &infile_at), 1);
	cr_assert_eq(infile_at, 0);
	cr_assert_eq(t.affected_rows, 100);
}

Test(tracker, prepare_ok_with_params_and_columns)
{
	struct stream s = {.seq = 1};
	/* stmt id 7, 2 columns, 3 params */
	PKT(&s, 0x00, 7, 0, 0, 0, 2, 0, 3, 0, 0, 0, 0);
	for (int i = 0; i < 3; i++)
		coldef(&s);
	eof_pkt(&s, 0);
	for (int i = 0; i < 2; i++)
		coldef(&s);
	eof_pkt(&s, 0);
	check_all_cuts(RESP_PREPARE, false, &s, 7);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_PREPARE, false);
	run(&t, &s, 0, NULL);
	cr_assert_eq(t.stmt_id, 7);
}

Test(tracker, prepare_variants)
{
	struct stream none = {.seq = 1}, only_params = {.seq = 1},
		      only_cols = {.seq = 1}, dep = {.seq = 1};

	PKT(&none, 0x00, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
	check_all_cuts(RESP_PREPARE, false, &none, 0);

	PKT(&only_params, 0x00, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0);
	coldef(&only_params);
	coldef(&only_params);
	eof_pkt(&only_params, 0);
	check_all_cuts(RESP_PREPARE, false, &only_params, 3);

	PKT(&only_cols, 0x00, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0);
	coldef(&only_cols);
	eof_pkt(&only_cols, 0);
	check_all_cuts(RESP_PREPARE, false, &only_cols, 2);

	PKT(&dep, 0x00, 1, 0, 0, 0, 1, 0, 1, 0, 0, 0, 0);
	coldef(&dep);
	coldef(&dep);
	check_all_cuts(RESP_PREPARE, true, &dep, 2);

	struct stream err = {.seq = 1};
	err_pkt(&err, 1064);
	check_all_cuts(RESP_PREPARE, false, &err, 0);
}

Test(tracker, execute_binary_rows_and_cursor)
{
	struct stream s = {.seq = 1};
	PKT(&s, 2);
	coldef(&s);
	coldef(&s);
	eof_pkt(&s, 0);
	PKT(&s, 0x00, 0x00, 1, 0, 0, 0, 2, 'h', 'i'); /* binary row */
	PKT(&s, 0x00, 0x00, 2, 0, 0, 0, 2, 'h', 'o');
	eof_pkt(&s, SERVER_STATUS_AUTOCOMMIT);
	check_all_cuts(RESP_RESULT, false, &s, 6);

	/* cursor: metadata, then EOF with CURSOR_EXISTS, no rows */
	struct stream c = {.seq = 1};
	PKT(&c, 1);
	coldef(&c);
	eof_pkt(&c, SERVER_STATUS_CURSOR_EXISTS);
	check_all_cuts(RESP_RESULT, false, &c, 2);

	/* the same with DEPRECATE_EOF: OK-with-0xFE carries CURSOR_EXISTS */
	struct stream cd = {.seq = 1};
	PKT(&cd, 1);
	coldef(&cd);
	ok_pkt(&cd, 0xFE, 0, SERVER_STATUS_CURSOR_EXISTS);
	check_all_cuts(RESP_RESULT, true, &cd, 2);
}

Test(tracker, fetch)
{
	struct stream s = {.seq = 1};
	PKT(&s, 0x00, 0x00, 1, 0, 0, 0);
	PKT(&s, 0x00, 0x00, 2, 0, 0, 0);
	eof_pkt(&s, SERVER_STATUS_CURSOR_EXISTS | SERVER_STATUS_LAST_ROW_SENT);
	check_all_cuts(RESP_FETCH, false, &s, 2);
	struct stream e = {.seq = 1};
	err_pkt(&e, 1421);
	check_all_cuts(RESP_FETCH, false, &e, 0);
}

Test(tracker, field_list)
{
	struct stream s = {.seq = 1};
	coldef(&s);
	coldef(&s);
	eof_pkt(&s, 0);
	check_all_cuts(RESP_FIELD_LIST, false, &s, 2);
}

Test(tracker, auth_exchanges)
{
	/* auth switch, client answers (not fed here), OK */
	struct stream sw = {.seq = 2};
	PKT(&sw, 0xFE, 'c', 'l', 'i', 'e', 'n', 't', '_', 'e', 'd', '2', '5',
	    '5', '1', '9', 0, 1, 2, 3);
	ok_pkt(&sw, 0x00, 0, SERVER_STATUS_AUTOCOMMIT);
	check_all_cuts(RESP_AUTH, false, &sw, 1);

	/* caching_sha2_password fast path: 0x01 0x03 then OK */
	struct stream fast = {.seq = 2};
	PKT(&fast, 0x01, 0x03);
	ok_pkt(&fast, 0x00, 0, 0);
	check_all_cuts(RESP_AUTH, false, &fast, 1);

	/* full path: 0x01 0x04, public key (0x01 + PEM), then OK */
	struct stream full = {.seq = 2};
	PKT(&full, 0x01, 0x04);
	PKT(&full, 0x01, '-', '-', '-', '-', '-', 'B', 'E', 'G', 'I', 'N');
	ok_pkt(&full, 0x00, 0, 0);
	check_all_cuts(RESP_AUTH, false, &full, 2);

	/* wrong password */
	struct stream bad = {.seq = 2};
	err_pkt(&bad, 1045);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_AUTH, false);
	cr_assert_eq(run(&t, &bad, 0, NULL), 0);
	cr_assert_eq(t.err_code, 1045);
}

Test(tracker, single_packet_responses)
{
	struct stream ping = {.seq = 1};
	ok_pkt(&ping, 0x00, 0, SERVER_STATUS_AUTOCOMMIT);
	check_all_cuts(RESP_SINGLE, false, &ping, 0);

	struct stream stat = {.seq = 1};
	pkt(&stat, "Uptime: 5  Threads: 1", 21);
	check_all_cuts(RESP_SINGLE, false, &stat, 0);
}

Test(tracker, impossible_packets_are_reported)
{
	struct mysql_tracker t;
	uint8_t zero = 0;
	struct mysql_frame zero_cols = {.len = 1, .peek = &zero, .peek_len = 1};
	struct mysql_frame empty = {.len = 0, .peek = &zero, .peek_len = 0};
	uint8_t short_ok[2] = {0x00, 0xFC}; /* lenenc truncated */
	struct mysql_frame bad_ok = {.len = 2, .peek = short_ok, .peek_len = 2};

	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &bad_ok), TRACK_BAD);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &empty), TRACK_BAD);
	mysql_tracker_start(&t, RESP_PREPARE, false);
	cr_assert_eq(mysql_tracker_feed(&t, &zero_cols), TRACK_BAD);
	/* a packet after the end */
	struct stream s = {.seq = 1};
	ok_pkt(&s, 0x00, 0, 0);
	mysql_tracker_start(&t, RESP_RESULT, false);
	run(&t, &s, 0, NULL);
	uint8_t okb[7] = {0};
	struct mysql_frame again = {.len = 7, .peek = okb, .peek_len = 7};
	cr_assert_eq(mysql_tracker_feed(&t, &again), TRACK_BAD);
	/* classic EOF position holding something else */
	mysql_tracker_start(&t, RESP_RESULT, false);
	uint8_t one = 1;
	struct mysql_frame cnt = {.len = 1, .peek = &one, .peek_len = 1};
	uint8_t def[4] = {3, 'd', 'e', 'f'};
	struct mysql_frame d = {.len = 30, .peek = def, .peek_len = 4};
	mysql_tracker_feed(&t, &cnt);
	mysql_tracker_feed(&t, &d);
	cr_assert_eq(mysql_tracker_feed(&t, &d), TRACK_BAD);
}

/* ---- captured MariaDB 10.11.19 responses (no DEPRECATE_EOF: libmariadb
 * does not ask for it) ------------------------------------------------ */

/* CALL p() where p does SELECT 1; SELECT 2,3: two result sets whose EOFs
 * carry MORE_RESULTS, then the procedure's final OK. 12 packets. */
static const uint8_t call_p_stream[157] = {
	0x02, 0x00, 0x00, 0x01, 0x01, 0x01, 0x18, 0x00, 0x00, 0x02, 0x03, 0x64,
	0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x31, 0x00, 0x00, 0x0c, 0x3f, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
	0x00, 0x03, 0xfe, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x00, 0x00, 0x04, 0x01,
	0x31, 0x05, 0x00, 0x00, 0x05, 0xfe, 0x00, 0x00, 0x0a, 0x00, 0x02, 0x00,
	0x00, 0x06, 0x02, 0x01, 0x18, 0x00, 0x00, 0x07, 0x03, 0x64, 0x65, 0x66,
	0x00, 0x00, 0x00, 0x01, 0x32, 0x00, 0x00, 0x0c, 0x3f, 0x00, 0x01, 0x00,
	0x00, 0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x08,
	0x03, 0x64, 0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x33, 0x00, 0x00, 0x0c,
	0x3f, 0x00, 0x01, 0x00, 0x00, 0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00,
	0x05, 0x00, 0x00, 0x09, 0xfe, 0x00, 0x00, 0x0a, 0x00, 0x04, 0x00, 0x00,
	0x0a, 0x01, 0x32, 0x01, 0x33, 0x05, 0x00, 0x00, 0x0b, 0xfe, 0x00, 0x00,
	0x0a, 0x00, 0x07, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x00, 0x02, 0x00, 0x00,
	0x00,
};

/* Login as an ed25519 user announced as mysql_native_password: the
 * AuthSwitchRequest (plugin + 32-byte nonce), then (after the client's
 * answer) the OK with the schema change in its session state. */
static const uint8_t auth_switch_stream[71] = {
	0x30, 0x00, 0x00, 0x02, 0xfe, 0x63, 0x6c, 0x69, 0x65, 0x6e, 0x74, 0x5f,
	0x65, 0x64, 0x32, 0x35, 0x35, 0x31, 0x39, 0x00, 0x82, 0x17, 0xfe, 0xee,
	0x67, 0x97, 0x17, 0xe6, 0x55, 0x7d, 0x2c, 0x2c, 0x2b, 0x82, 0xaf, 0xa2,
	0x9b, 0x49, 0xdc, 0xd5, 0xc9, 0xfd, 0x5c, 0xbc, 0x31, 0x77, 0x1c, 0x7a,
	0x7b, 0xe7, 0x19, 0xd0, 0x0f, 0x00, 0x00, 0x04, 0x00, 0x00, 0x00, 0x02,
	0x40, 0x00, 0x00, 0x00, 0x06, 0x01, 0x04, 0x03, 0x64, 0x62, 0x31,
};

/* COM_STMT_PREPARE "select ?+1 as a, 'x' as b union select 5, 'y'":
 * PREPARE_OK (stmt 1, 2 columns, 1 param), param def, EOF, 2 column defs,
 * EOF. */
static const uint8_t prepare_stream[120] = {
	0x0c, 0x00, 0x00, 0x01, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x18, 0x00, 0x00, 0x02, 0x03, 0x64, 0x65, 0x66,
	0x00, 0x00, 0x00, 0x01, 0x3f, 0x00, 0x00, 0x0c, 0x3f, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x06, 0x80, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x03,
	0xfe, 0x00, 0x00, 0x02, 0x00, 0x19, 0x00, 0x00, 0x04, 0x03, 0x64, 0x65,
	0x66, 0x00, 0x00, 0x00, 0x01, 0x61, 0x01, 0x61, 0x00, 0x0c, 0x3f, 0x00,
	0x11, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19, 0x00,
	0x00, 0x05, 0x03, 0x64, 0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x62, 0x01,
	0x62, 0x00, 0x0c, 0x2d, 0x00, 0x04, 0x00, 0x00, 0x00, 0xfd, 0x01, 0x00,
	0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x06, 0xfe, 0x00, 0x00, 0x02, 0x00,
};

/* COM_STMT_EXECUTE with CURSOR_TYPE_READ_ONLY: count, 2 defs, EOF whose
 * status is CURSOR_EXISTS|0x20|AUTOCOMMIT; no rows. */
static const uint8_t cursor_execute_stream[73] = {
	0x02, 0x00, 0x00, 0x01, 0x02, 0x01, 0x19, 0x00, 0x00, 0x02, 0x03, 0x64,
	0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x61, 0x01, 0x61, 0x00, 0x0c, 0x3f,
	0x00, 0x0c, 0x00, 0x00, 0x00, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x19,
	0x00, 0x00, 0x03, 0x03, 0x64, 0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x62,
	0x01, 0x62, 0x00, 0x0c, 0x2d, 0x00, 0x04, 0x00, 0x00, 0x00, 0xfd, 0x01,
	0x00, 0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x04, 0xfe, 0x00, 0x00, 0x62,
	0x00,
};

/* COM_STMT_FETCH of 1 row: the binary row, EOF (CURSOR_EXISTS). */
static const uint8_t fetch1_stream[25] = {
	0x0c, 0x00, 0x00, 0x01, 0x00, 0x00, 0x2a, 0x00, 0x00, 0x00, 0x00, 0x00,
	0x00, 0x00, 0x01, 0x78, 0x05, 0x00, 0x00, 0x02, 0xfe, 0x00, 0x00, 0x42,
	0x00,
};

/* The FETCH after the last row: only EOF with LAST_ROW_SENT. */
static const uint8_t fetch_last_stream[9] = {
	0x05, 0x00, 0x00, 0x01, 0xfe, 0x00, 0x00, 0x82, 0x00,
};

/* "select 1 from dual where 0": count, def, EOF, EOF. */
static const uint8_t empty_result_stream[52] = {
	0x02, 0x00, 0x00, 0x01, 0x01, 0x01, 0x18, 0x00, 0x00, 0x02, 0x03, 0x64,
	0x65, 0x66, 0x00, 0x00, 0x00, 0x01, 0x31, 0x00, 0x00, 0x0c, 0x3f, 0x00,
	0x01, 0x00, 0x00, 0x00, 0x03, 0x81, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00,
	0x00, 0x03, 0xfe, 0x00, 0x00, 0x02, 0x00, 0x05, 0x00, 0x00, 0x04, 0xfe,
	0x00, 0x00, 0x02, 0x00,
};

/* Feeds bytes in chunks of `chunk` (0: one buffer, else also every 2-way
 * split); returns the index of the packet that ended the response. */
static int run_bytes(struct mysql_tracker *t, const uint8_t *bytes, size_t n,
		     size_t chunk)
{
	struct stream s = {.n = n};
	struct mysql_framer f;
	struct mysql_frame fr;
	int idx = 0, done = -1;

	memcpy(s.b, bytes, n);
	mysql_framer_init(&f);
	for (size_t base = 0; base < n;) {
		size_t len = chunk && chunk < n - base ? chunk : n - base;
		size_t pos = 0;
		while (mysql_framer_next(&f, s.b + base, len, &pos, &fr)) {
			enum mysql_track_result r = mysql_tracker_feed(t, &fr);
			cr_assert_neq(r, TRACK_BAD, "packet %d judged impossible", idx);
			if (r == TRACK_DONE) {
				cr_assert_eq(done, -1, "response ended twice");
				done = idx;
			}
			idx++;
		}
		base += len;
	}
	return done;
}

/* Checks a captured response in one buffer, in 1-byte chunks and split
 * at every offset; returns the tracker of the one-buffer run. */
static struct mysql_tracker check_capture(enum mysql_resp_kind kind,
					  const uint8_t *bytes, size_t n,
					  int expect_done)
{
	struct mysql_tracker t, one;

	mysql_tracker_start(&one, kind, false);
	cr_assert_eq(run_bytes(&one, bytes, n, 0), expect_done);
	mysql_tracker_start(&t, kind, false);
	cr_assert_eq(run_bytes(&t, bytes, n, 1), expect_done);
	cr_assert_eq(t.rows, one.rows);
	cr_assert_eq(t.status, one.status);
	struct stream s = {.n = n};
	memcpy(s.b, bytes, n);
	check_all_cuts(kind, false, &s, expect_done);
	return one;
}

Test(tracker, captured_call_multi_results)
{
	struct mysql_tracker t = check_capture(RESP_RESULT, call_p_stream,
					       sizeof(call_p_stream), 11);

	cr_assert_eq(t.result_sets, 2);
	cr_assert_eq(t.rows, 2);
	cr_assert_eq(t.status, SERVER_STATUS_AUTOCOMMIT, "from the final OK");
	cr_assert_eq(t.err_code, 0);
}

Test(tracker, captured_ed25519_switch_then_ok)
{
	struct mysql_tracker t = check_capture(RESP_AUTH, auth_switch_stream,
					       sizeof(auth_switch_stream), 1);

	cr_assert_eq(t.status, SERVER_SESSION_STATE_CHANGED | SERVER_STATUS_AUTOCOMMIT);
}

Test(tracker, captured_prepare)
{
	struct mysql_tracker t = check_capture(RESP_PREPARE, prepare_stream,
					       sizeof(prepare_stream), 5);

	cr_assert_eq(t.stmt_id, 1);
	cr_assert_eq(t.prep_columns, 2);
}

Test(tracker, captured_cursor_execute_and_fetches)
{
	struct mysql_tracker t = check_capture(RESP_RESULT, cursor_execute_stream,
					       sizeof(cursor_execute_stream), 3);

	cr_assert(t.status & SERVER_STATUS_CURSOR_EXISTS);
	cr_assert_eq(t.rows, 0);
	t = check_capture(RESP_FETCH, fetch1_stream, sizeof(fetch1_stream), 1);
	cr_assert_eq(t.rows, 1);
	t = check_capture(RESP_FETCH, fetch_last_stream, sizeof(fetch_last_stream), 0);
	cr_assert_eq(t.rows, 0);
	cr_assert(t.status & SERVER_STATUS_LAST_ROW_SENT);
}

Test(tracker, captured_empty_result)
{
	struct mysql_tracker t = check_capture(RESP_RESULT, empty_result_stream,
					       sizeof(empty_result_stream), 3);

	cr_assert_eq(t.rows, 0);
	cr_assert_eq(t.result_sets, 1);
}

/* ---- more synthetic sequences ----------------------------------------- */

Test(tracker, multi_results_with_deprecate_eof)
{
	struct stream s = {.seq = 1};

	resultset(&s, true, 2, 3, SERVER_MORE_RESULTS_EXISTS);    /* 0..6 */
	resultset(&s, true, 1, 1, SERVER_MORE_RESULTS_EXISTS);    /* 7..10 */
	ok_pkt(&s, 0x00, 4, 0);                                   /* 11 */
	check_all_cuts(RESP_RESULT, true, &s, 11);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_RESULT, true);
	run(&t, &s, 0, NULL);
	cr_assert_eq(t.rows, 4);
	cr_assert_eq(t.result_sets, 2);
	cr_assert_eq(t.affected_rows, 4);
}

Test(tracker, ok_with_more_results_then_ok)
{
	struct stream s = {.seq = 1};

	ok_pkt(&s, 0x00, 1, SERVER_MORE_RESULTS_EXISTS);
	ok_pkt(&s, 0x00, 2, SERVER_MORE_RESULTS_EXISTS);
	ok_pkt(&s, 0x00, 3, SERVER_STATUS_IN_TRANS);
	check_all_cuts(RESP_RESULT, false, &s, 2);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_RESULT, false);
	run(&t, &s, 0, NULL);
	cr_assert_eq(t.affected_rows, 6);
	cr_assert_eq(t.status, SERVER_STATUS_IN_TRANS);
	cr_assert_eq(t.result_sets, 0, "OK packets are not result sets");
}

Test(tracker, local_infile_inside_multi_statements)
{
	struct stream s = {.seq = 1};
	int infile_at;
	struct mysql_tracker t;

	PKT(&s, 0xFB, 'x');
	ok_pkt(&s, 0x00, 5, SERVER_MORE_RESULTS_EXISTS);   /* after the file */
	resultset(&s, false, 1, 1, 0);                     /* 2..6 */
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(run(&t, &s, 0, &infile_at), 6);
	cr_assert_eq(infile_at, 0);
	cr_assert_eq(t.affected_rows, 5);
	cr_assert_eq(t.rows, 1);

	/* the server refuses the file */
	struct stream e = {.seq = 1};
	PKT(&e, 0xFB, 'x');
	err_pkt(&e, 1148);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(run(&t, &e, 0, &infile_at), 1);
	cr_assert_eq(t.err_code, 1148);
}

Test(tracker, prepare_with_deprecate_eof_variants)
{
	struct stream cols = {.seq = 1}, params = {.seq = 1}, none = {.seq = 1};

	PKT(&cols, 0x00, 9, 0, 0, 0, 3, 0, 0, 0, 0, 0, 0);
	coldef(&cols);
	coldef(&cols);
	coldef(&cols);
	check_all_cuts(RESP_PREPARE, true, &cols, 3);
	PKT(&params, 0x00, 9, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0);
	coldef(&params);
	coldef(&params);
	check_all_cuts(RESP_PREPARE, true, &params, 2);
	PKT(&none, 0x00, 9, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0);
	check_all_cuts(RESP_PREPARE, true, &none, 0);
}

Test(tracker, fetch_with_deprecate_eof_and_error_mid_rows)
{
	struct stream s = {.seq = 1};

	PKT(&s, 0x00, 0x00, 7, 0, 0, 0);
	ok_pkt(&s, 0xFE, 0, SERVER_STATUS_CURSOR_EXISTS | SERVER_STATUS_LAST_ROW_SENT);
	check_all_cuts(RESP_FETCH, true, &s, 1);
	struct stream e = {.seq = 1};
	PKT(&e, 0x00, 0x00, 7, 0, 0, 0);
	err_pkt(&e, 1317);
	struct mysql_tracker t;
	mysql_tracker_start(&t, RESP_FETCH, false);
	cr_assert_eq(run(&t, &e, 0, NULL), 1);
	cr_assert_eq(t.rows, 1);
	cr_assert_eq(t.err_code, 1317);
}

Test(tracker, field_list_variants)
{
	struct stream dep = {.seq = 1}, err = {.seq = 1};
	struct mysql_tracker t;

	coldef(&dep);
	ok_pkt(&dep, 0xFE, 0, SERVER_STATUS_AUTOCOMMIT);
	check_all_cuts(RESP_FIELD_LIST, true, &dep, 1);
	mysql_tracker_start(&t, RESP_FIELD_LIST, true);
	run(&t, &dep, 0, NULL);
	cr_assert_eq(t.status, SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(t.rows, 0, "definitions are not rows");
	err_pkt(&err, 1146);
	mysql_tracker_start(&t, RESP_FIELD_LIST, false);
	cr_assert_eq(run(&t, &err, 0, NULL), 0);
	cr_assert_eq(t.err_code, 1146);
}

Test(tracker, auth_full_path_with_rsa_key_then_error)
{
	struct stream s = {.seq = 2};
	struct mysql_tracker t;

	PKT(&s, 0x01, 0x04);
	PKT(&s, 0x01, '-', '-', '-', '-', '-', 'B', 'E', 'G', 'I', 'N', ' ', 'P');
	err_pkt(&s, 1045);
	mysql_tracker_start(&t, RESP_AUTH, false);
	cr_assert_eq(run(&t, &s, 0, NULL), 2);
	cr_assert_eq(t.err_code, 1045);
}

Test(tracker, single_records_status_and_errors)
{
	struct stream ok = {.seq = 1}, err = {.seq = 1}, eof = {.seq = 1};
	struct mysql_tracker t;

	ok_pkt(&ok, 0x00, 0, SERVER_STATUS_IN_TRANS);
	mysql_tracker_start(&t, RESP_SINGLE, false);
	cr_assert_eq(run(&t, &ok, 0, NULL), 0);
	cr_assert_eq(t.status, SERVER_STATUS_IN_TRANS);
	err_pkt(&err, 1047);
	mysql_tracker_start(&t, RESP_SINGLE, false);
	cr_assert_eq(run(&t, &err, 0, NULL), 0);
	cr_assert_eq(t.err_code, 1047);
	eof_pkt(&eof, 0); /* COM_SET_OPTION */
	mysql_tracker_start(&t, RESP_SINGLE, false);
	cr_assert_eq(run(&t, &eof, 0, NULL), 0);
	cr_assert_eq(t.err_code, 0);
	/* an empty COM_STATISTICS answer */
	struct mysql_frame empty = {.len = 0};
	mysql_tracker_start(&t, RESP_SINGLE, false);
	cr_assert_eq(mysql_tracker_feed(&t, &empty), TRACK_DONE);
}

Test(tracker, more_impossible_packets)
{
	struct mysql_tracker t;
	uint8_t b[MYSQL_PEEK] = {0};
#define FR(len_, n_) ((struct mysql_frame){.len = (len_), .peek = b, .peek_len = (n_)})

	/* ERR too short for its code */
	b[0] = 0xFF;
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(2, 2)), TRACK_BAD);
	/* unknown first byte in an auth exchange */
	b[0] = 0x05;
	mysql_tracker_start(&t, RESP_AUTH, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(3, 3)), TRACK_BAD);
	/* a server answering a command that has no response */
	b[0] = 0x00;
	mysql_tracker_start(&t, RESP_NONE, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(7, 7)), TRACK_BAD);
	/* PREPARE_OK shorter than its 12 bytes */
	mysql_tracker_start(&t, RESP_PREPARE, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(9, 9)), TRACK_BAD);
	/* column count too large / truncated lenenc */
	b[0] = 0xFD; b[1] = 0xFF; b[2] = 0xFF; b[3] = 0xFF;
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(4, 4)), TRACK_BAD);
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(3, 3)), TRACK_BAD);
	/* an EOF where a column definition must be */
	b[0] = 1;
	mysql_tracker_start(&t, RESP_RESULT, false);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(1, 1)), TRACK_MORE);
	b[0] = 0xFE; b[1] = 0; b[2] = 0; b[3] = 2; b[4] = 0;
	cr_assert_eq(mysql_tracker_feed(&t, &FR(5, 5)), TRACK_BAD);
	/* an EOF that is cut short in ROWS with DEPRECATE_EOF (OK layout) */
	b[0] = 1;
	mysql_tracker_start(&t, RESP_RESULT, true);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(1, 1)), TRACK_MORE);
	b[0] = 3;
	cr_assert_eq(mysql_tracker_feed(&t, &FR(30, 30)), TRACK_MORE);
	b[0] = 0xFE; b[1] = 0xFC;
	cr_assert_eq(mysql_tracker_feed(&t, &FR(2, 2)), TRACK_BAD);
	/* after a PREPARE's parameter block something other than EOF */
	uint8_t prep[12] = {0x00, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0};
	struct mysql_frame pf = {.len = 12, .peek = prep, .peek_len = 12};
	mysql_tracker_start(&t, RESP_PREPARE, false);
	cr_assert_eq(mysql_tracker_feed(&t, &pf), TRACK_MORE);
	b[0] = 3;
	cr_assert_eq(mysql_tracker_feed(&t, &FR(30, 30)), TRACK_MORE);
	cr_assert_eq(mysql_tracker_feed(&t, &FR(30, 30)), TRACK_BAD);
#undef FR
}

Test(tracker, continuations_change_nothing)
{
	struct mysql_tracker t;
	uint8_t ff[MYSQL_PEEK] = {0xFF, 0x10, 0x04};
	struct mysql_frame cont = {.len = 5, .continuation = true, .peek = ff,
				   .peek_len = 5};
	struct mysql_frame empty_cont = {.len = 0, .continuation = true};

	for (int kind = RESP_SINGLE; kind <= RESP_AUTH; kind++) {
		mysql_tracker_start(&t, (enum mysql_resp_kind)kind, false);
		struct mysql_tracker before = t;
		cr_assert_eq(mysql_tracker_feed(&t, &cont), TRACK_MORE);
		cr_assert_eq(mysql_tracker_feed(&t, &empty_cont), TRACK_MORE);
		cr_assert_eq(memcmp(&t, &before, sizeof(t)), 0, "kind %d", kind);
	}
}

Test(tracker, stream_kind_is_never_done_but_by_err)
{
	struct mysql_tracker t;
	uint8_t ev[MYSQL_PEEK] = {0x00, 1, 2, 3};
	uint8_t fe[5] = {0xFE, 0, 0, 0, 0};
	struct mysql_frame evf = {.len = 50, .peek = ev, .peek_len = MYSQL_PEEK};
	struct mysql_frame fef = {.len = 5, .peek = fe, .peek_len = 5};

	mysql_tracker_start(&t, RESP_STREAM, false);
	for (int i = 0; i < 100; i++)
		cr_assert_eq(mysql_tracker_feed(&t, &evf), TRACK_MORE);
	cr_assert_eq(mysql_tracker_feed(&t, &fef), TRACK_MORE);
	cr_assert_eq(mysql_response_kind(COM_BINLOG_DUMP_GTID), RESP_STREAM);
}

Test(tracker, every_command_kind)
{
	static const struct {
		uint8_t cmd;
		enum mysql_resp_kind kind;
	} map[] = {
		{COM_QUIT, RESP_NONE}, {COM_STMT_CLOSE, RESP_NONE},
		{COM_STMT_SEND_LONG_DATA, RESP_NONE},
		{COM_QUERY, RESP_RESULT}, {COM_STMT_EXECUTE, RESP_RESULT},
		{COM_PROCESS_INFO, RESP_RESULT},
		{COM_STMT_BULK_EXECUTE, RESP_RESULT},
		{COM_STMT_PREPARE, RESP_PREPARE}, {COM_STMT_FETCH, RESP_FETCH},
		{COM_FIELD_LIST, RESP_FIELD_LIST}, {COM_CHANGE_USER, RESP_AUTH},
		{COM_BINLOG_DUMP, RESP_STREAM}, {COM_BINLOG_DUMP_GTID, RESP_STREAM},
		{COM_STATISTICS, RESP_SINGLE}, {COM_INIT_DB, RESP_SINGLE},
		{COM_SET_OPTION, RESP_SINGLE}, {COM_STMT_RESET, RESP_SINGLE},
		{COM_PROCESS_KILL, RESP_SINGLE}, {COM_SLEEP, RESP_SINGLE},
		{0xFF, RESP_SINGLE},
	};

	for (size_t i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		cr_assert_eq(mysql_response_kind(map[i].cmd), map[i].kind,
			     "command %#x", map[i].cmd);
}

/* A response the proxy built itself, read back whole. */
Test(tracker, run_over_a_built_response)
{
	struct mysql_tracker t;
	struct pkt_buf pb;
	const char *cells[2] = {"a", "b"};
	size_t lens[2] = {1, 1};

	for (int deprecate = 0; deprecate < 2; deprecate++) {
		uint64_t caps = CLIENT_PROTOCOL_41 |
				(deprecate ? CLIENT_DEPRECATE_EOF : 0);
		pkt_buf_init(&pb);
		pb.seq = 1;
		srv_resultset_begin(&pb, 2);
		srv_column(&pb, "x", SRV_COL_TEXT, caps);
		srv_column(&pb, "y", SRV_COL_TEXT, caps);
		srv_columns_end(&pb, caps);
		for (int i = 0; i < 3; i++)
			srv_row(&pb, cells, lens, 2);
		srv_resultset_end(&pb, caps, SERVER_STATUS_AUTOCOMMIT);
		cr_assert_eq(mysql_tracker_run(&t, RESP_RESULT, deprecate, pb.data,
					       pb.len), 0);
		cr_assert_eq(t.rows, 3);
		cr_assert_eq(t.result_sets, 1);
		cr_assert_eq(mysql_tracker_run(&t, RESP_RESULT, deprecate, pb.data,
					       pb.len - 1), -1, "cut short");
		pkt_buf_free(&pb);
	}
	pkt_buf_init(&pb);
	pb.seq = 1;
	srv_ok(&pb, 7, SERVER_STATUS_AUTOCOMMIT, NULL);
	srv_ok(&pb, 1, SERVER_STATUS_AUTOCOMMIT, NULL);
	cr_assert_eq(mysql_tracker_run(&t, RESP_RESULT, false, pb.data, pb.len), -1,
		     "bytes after the end");
	pb.len /= 2;
	cr_assert_eq(mysql_tracker_run(&t, RESP_RESULT, false, pb.data, pb.len), 0);
	cr_assert_eq(t.affected_rows, 7);
	cr_assert_eq(t.result_sets, 0);
	pkt_buf_free(&pb);
}
