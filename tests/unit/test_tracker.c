/* Response tracking: where each response ends, fed real packet layouts. */
#include <criterion/criterion.h>
#include <string.h>

#include "mysql_proto.h"
#include "mysql_tracker.h"

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
