/*
 * The server side of the protocol (admin port): greeting parsed back by
 * our own client-side codec, packet splitting, and result sets in both
 * EOF styles and with MariaDB extended metadata.  (mysql_native_password
 * is tested with the rest of authentication in test_mysql_auth.c.)
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_srv.h"

Test(mysql_srv, greeting_parses_back)
{
	struct pkt_buf pb;
	struct mysql_greeting g;
	uint8_t scramble[20];

	srv_scramble(scramble);
	for (int i = 0; i < 20; i++)
		cr_assert(scramble[i] >= 33 && scramble[i] < 127, "printable");
	pkt_buf_init(&pb);
	srv_build_greeting(&pb, 42, scramble, "8.0.99-myring", SRV_CAPS);
	cr_assert(!pb.oom);
	cr_assert_eq(pb.data[3], 0, "sequence 0");
	cr_assert_eq(mysql_get_u24(pb.data), pb.len - 4);
	cr_assert_eq(mysql_parse_greeting(pb.data + 4, pb.len - 4, &g), 0);
	cr_assert_eq(g.protocol, 10);
	cr_assert_eq(g.connection_id, 42);
	cr_assert_eq(g.caps & 0xFFFFFFFFu, SRV_CAPS & 0xFFFFFFFFu);
	cr_assert(!(g.caps & CLIENT_SSL));
	cr_assert_eq(memcmp(g.scramble1, scramble, 8), 0);
	cr_assert_eq(g.scramble2_len, 12);
	cr_assert_eq(memcmp(g.scramble2, scramble + 8, 12), 0);
	cr_assert_eq(g.auth_plugin.len, 21);
	cr_assert_eq(memcmp(g.auth_plugin.ptr, "mysql_native_password", 21), 0);
	pkt_buf_free(&pb);
}

Test(mysql_srv, big_payloads_are_split)
{
	struct pkt_buf pb;
	size_t n = MYSQL_MAX_PAYLOAD + 10;
	uint8_t *big = calloc(1, n);

	pkt_buf_init(&pb);
	pb.seq = 3;
	pkt_buf_packet(&pb, big, n);
	cr_assert_eq(pb.len, n + 8);
	cr_assert_eq(mysql_get_u24(pb.data), MYSQL_MAX_PAYLOAD);
	cr_assert_eq(pb.data[3], 3);
	cr_assert_eq(mysql_get_u24(pb.data + 4 + MYSQL_MAX_PAYLOAD), 10);
	cr_assert_eq(pb.data[4 + MYSQL_MAX_PAYLOAD + 3], 4);
	/* An exact multiple ends with an empty packet. */
	pkt_buf_reset(&pb);
	pkt_buf_packet(&pb, big, MYSQL_MAX_PAYLOAD);
	cr_assert_eq(pb.len, MYSQL_MAX_PAYLOAD + 8);
	cr_assert_eq(mysql_get_u24(pb.data + 4 + MYSQL_MAX_PAYLOAD), 0);
	pkt_buf_free(&pb);
	free(big);
}

/* head || body framed as one command: the split falls anywhere, also
 * inside the head, and the bytes come out in order. */
Test(mysql_srv, head_and_body_are_framed_as_one_payload)
{
	static const size_t body_lens[] = {0, 5, MYSQL_MAX_PAYLOAD - 3,
					   MYSQL_MAX_PAYLOAD - 2, MYSQL_MAX_PAYLOAD,
					   2 * MYSQL_MAX_PAYLOAD + 7};
	const uint8_t head[3] = {0xA1, 0xA2, 0xA3};
	size_t maxb = 2 * MYSQL_MAX_PAYLOAD + 7;
	uint8_t *body = malloc(maxb);

	for (size_t i = 0; i < maxb; i++)
		body[i] = (uint8_t)(i * 7 + 1);
	for (size_t k = 0; k < sizeof(body_lens) / sizeof(body_lens[0]); k++) {
		size_t blen = body_lens[k], total = 3 + blen, off = 0, seen = 0;
		struct pkt_buf pb;
		uint8_t seq = 0;

		pkt_buf_init(&pb);
		pkt_buf_packet2(&pb, head, 3, body, blen);
		cr_assert(!pb.oom);
		for (;;) {
			uint32_t n = mysql_get_u24(pb.data + off);
			cr_assert_eq(pb.data[off + 3], seq++, "body %zu", blen);
			for (uint32_t j = 0; j < n; j++, seen++) {
				uint8_t want = seen < 3 ? head[seen] : body[seen - 3];
				cr_assert_eq(pb.data[off + 4 + j], want,
					     "body %zu byte %zu", blen, seen);
			}
			off += 4 + n;
			if (n < MYSQL_MAX_PAYLOAD)
				break;
		}
		cr_assert_eq(seen, total);
		cr_assert_eq(off, pb.len, "nothing after the last packet");
		cr_assert_eq(pb.seq, seq);
		pkt_buf_free(&pb);
	}
	free(body);
}

/* Walks packets: returns payload i (0-based) and checks sequence ids. */
static const uint8_t *packet(const struct pkt_buf *pb, unsigned i, size_t *len,
			     uint8_t first_seq)
{
	size_t off = 0;
	for (unsigned k = 0; k <= i; k++) {
		cr_assert_lt(off + 4, pb->len + 1);
		cr_assert_eq(pb->data[off + 3], (uint8_t)(first_seq + k));
		if (k == i) {
			*len = mysql_get_u24(pb->data + off);
			return pb->data + off + 4;
		}
		off += 4 + mysql_get_u24(pb->data + off);
	}
	return NULL;
}

Test(mysql_srv, result_set_with_eof_packets)
{
	struct pkt_buf pb;
	char big[300];
	const char *row1[] = {"one", NULL};
	const char *row2[] = {big, "2"};
	size_t lens1[] = {3, 0}, lens2[] = {300, 1}, n;
	const uint8_t *p;

	memset(big, 'x', sizeof(big));
	pkt_buf_init(&pb);
	pb.seq = 1;
	srv_resultset_begin(&pb, 2);
	srv_column(&pb, "name", SRV_COL_TEXT, CLIENT_PROTOCOL_41);
	srv_column(&pb, "n", SRV_COL_UINT, CLIENT_PROTOCOL_41);
	srv_columns_end(&pb, CLIENT_PROTOCOL_41);
	srv_row(&pb, row1, lens1, 2);
	srv_row(&pb, row2, lens2, 2);
	srv_resultset_end(&pb, CLIENT_PROTOCOL_41, SERVER_STATUS_AUTOCOMMIT);
	p = packet(&pb, 0, &n, 1);
	cr_assert_eq(n, 1);
	cr_assert_eq(p[0], 2);
	p = packet(&pb, 1, &n, 1);
	static const uint8_t coldef[] = {3, 'd', 'e', 'f', 5, 's', 't', 'a', 't', 's', 0, 0,
					 4, 'n', 'a', 'm', 'e', 4, 'n', 'a', 'm', 'e', 0x0c,
					 45, 0, 0, 0x10, 0, 0, 0xfd, 0, 0, 0, 0, 0};
	cr_assert_eq(n, sizeof(coldef));
	cr_assert_eq(memcmp(p, coldef, n), 0);
	p = packet(&pb, 2, &n, 1);
	cr_assert_eq(p[n - 6], 0x08, "LONGLONG type");
	p = packet(&pb, 3, &n, 1);
	cr_assert_eq(n, 5);
	cr_assert_eq(p[0], 0xFE, "EOF after the columns");
	p = packet(&pb, 4, &n, 1);
	static const uint8_t r1[] = {3, 'o', 'n', 'e', 0xFB};
	cr_assert_eq(n, sizeof(r1));
	cr_assert_eq(memcmp(p, r1, n), 0);
	p = packet(&pb, 5, &n, 1);
	cr_assert_eq(n, 3 + 300 + 2);
	cr_assert_eq(p[0], 0xFC, "lenenc 2-byte length for 300 bytes");
	cr_assert_eq(mysql_get_u16(p + 1), 300);
	p = packet(&pb, 6, &n, 1);
	cr_assert_eq(n, 5);
	cr_assert_eq(p[0], 0xFE);
	cr_assert_eq(mysql_get_u16(p + 3), SERVER_STATUS_AUTOCOMMIT);
	pkt_buf_free(&pb);
}

Test(mysql_srv, result_set_deprecate_eof_and_extended_metadata)
{
	struct pkt_buf pb;
	uint64_t caps = CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF |
			MARIADB_CLIENT_EXTENDED_METADATA;
	const char *row[] = {"v"};
	size_t lens[] = {1}, n;
	const uint8_t *p;
	struct mysql_ok ok;

	pkt_buf_init(&pb);
	pb.seq = 1;
	srv_resultset_begin(&pb, 1);
	srv_column(&pb, "c", SRV_COL_TEXT, caps);
	srv_columns_end(&pb, caps);
	srv_row(&pb, row, lens, 1);
	srv_resultset_end(&pb, caps, SERVER_STATUS_AUTOCOMMIT);
	p = packet(&pb, 1, &n, 1);
	/* def, stats, "", "", c, c, then the empty extended metadata. */
	cr_assert_eq(p[4 + 6 + 1 + 1 + 2 + 2], 0, "extended metadata length");
	cr_assert_eq(p[4 + 6 + 1 + 1 + 2 + 2 + 1], 0x0c);
	p = packet(&pb, 2, &n, 1);
	cr_assert_eq(p[0], 1, "the row follows the columns directly");
	p = packet(&pb, 3, &n, 1);
	cr_assert_eq(p[0], 0xFE);
	cr_assert_eq(mysql_parse_ok(p, n, &ok), 0);
	cr_assert_eq(ok.status, SERVER_STATUS_AUTOCOMMIT);
	cr_assert_eq(pb.len, (size_t)(p + n - pb.data), "nothing after the OK");
	pkt_buf_free(&pb);
}

Test(mysql_srv, ok_info_and_err)
{
	struct pkt_buf pb;
	struct mysql_err e;
	size_t n;
	const uint8_t *p;

	pkt_buf_init(&pb);
	pb.seq = 1;
	srv_ok(&pb, 5, SERVER_STATUS_AUTOCOMMIT, "stats reset");
	srv_err(&pb, 1045, "28000", "Access denied");
	p = packet(&pb, 0, &n, 1);
	cr_assert_eq(n, 7 + 1 + 11);
	cr_assert_eq(p[1], 5);
	cr_assert_eq(p[7], 11, "info is length-encoded, as MariaDB sends it");
	cr_assert_eq(memcmp(p + 8, "stats reset", 11), 0);
	p = packet(&pb, 1, &n, 1);
	cr_assert_eq(mysql_parse_err(p, n, &e), 0);
	cr_assert_eq(e.code, 1045);
	cr_assert_str_eq(e.sqlstate, "28000");
	cr_assert_eq(e.message.len, 13);
	pkt_buf_free(&pb);
}
