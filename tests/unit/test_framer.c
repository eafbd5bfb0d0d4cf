/* The framer must report the same frames however the stream is cut. */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_framer.h"
#include "mysql_proto.h"

struct rec {
	uint32_t len;
	uint8_t seq;
	bool continuation;
	uint8_t peek[MYSQL_PEEK];
	uint32_t peek_len;
	bool start_in_buf;
	size_t abs_start;  /* absolute offset of the header when start_in_buf */
};

/* Appends a packet to a stream. */
static size_t put_pkt(uint8_t *s, size_t off, uint32_t len, uint8_t seq,
		      uint8_t fill)
{
	mysql_put_header(s + off, len, seq);
	for (uint32_t i = 0; i < len; i++)
		s[off + 4 + i] = (uint8_t)(fill + i);
	return off + 4 + len;
}

/* Feeds stream in pieces given by cuts[] (sizes); records frames. */
static int feed(uint8_t *stream, size_t n, const size_t *sizes, size_t nsizes,
		struct rec *out, int max, unsigned *partial_at_end)
{
	struct mysql_framer f;
	size_t abs = 0;
	int count = 0;

	mysql_framer_init(&f);
	for (size_t k = 0; abs < n; k++) {
		size_t len = k < nsizes ? sizes[k] : n - abs;
		if (len > n - abs)
			len = n - abs;
		size_t pos = 0;
		struct mysql_frame fr;
		while (mysql_framer_next(&f, stream + abs, len, &pos, &fr)) {
			cr_assert_lt(count, max);
			out[count].len = fr.len;
			out[count].seq = fr.seq;
			out[count].continuation = fr.continuation;
			out[count].peek_len = fr.peek_len;
			memcpy(out[count].peek, fr.peek, fr.peek_len);
			out[count].start_in_buf = fr.start_in_buf;
			out[count].abs_start = abs + fr.start;
			if (fr.start_in_buf)
				cr_assert_leq(fr.start, pos);
			count++;
		}
		cr_assert_eq(pos, len, "framer must consume the whole buffer");
		abs += len;
	}
	if (partial_at_end)
		*partial_at_end = mysql_framer_partial(&f);
	return count;
}

static size_t sample_stream(uint8_t *s)
{
	size_t off = 0;
	off = put_pkt(s, off, 1, 0, 0x03);       /* 1-byte payload */
	off = put_pkt(s, off, 0, 1, 0);          /* empty packet */
	off = put_pkt(s, off, 40, 2, 0x10);      /* longer than the peek */
	off = put_pkt(s, off, 7, 3, 0xFE);       /* EOF-like */
	off = put_pkt(s, off, 32, 4, 0x20);      /* exactly the peek */
	off = put_pkt(s, off, 300, 5, 0x01);
	return off;
}

Test(framer, whole_stream_in_one_buffer)
{
	uint8_t s[1024];
	struct rec r[16];
	size_t n = sample_stream(s);
	int c = feed(s, n, NULL, 0, r, 16, NULL);

	cr_assert_eq(c, 6);
	uint32_t lens[] = {1, 0, 40, 7, 32, 300};
	for (int i = 0; i < 6; i++) {
		cr_assert_eq(r[i].len, lens[i]);
		cr_assert_eq(r[i].seq, i);
		cr_assert_not(r[i].continuation);
		cr_assert_eq(r[i].peek_len, lens[i] < MYSQL_PEEK ? lens[i] : MYSQL_PEEK);
		cr_assert(r[i].start_in_buf);
	}
	cr_assert_eq(r[0].peek[0], 0x03);
	cr_assert_eq(r[3].peek[0], 0xFE);
	cr_assert_eq(r[5].peek[31], (uint8_t)(0x01 + 31));
	cr_assert_eq(r[2].abs_start, 4 + 1 + 4);
}

Test(framer, split_at_every_offset_gives_same_frames)
{
	uint8_t s[1024];
	struct rec ref[16], r[16];
	size_t n = sample_stream(s);
	int c = feed(s, n, NULL, 0, ref, 16, NULL);

	for (size_t cut = 1; cut < n; cut++) {
		size_t sizes[2] = {cut, n - cut};
		cr_assert_eq(feed(s, n, sizes, 2, r, 16, NULL), c, "cut %zu", cut);
		for (int i = 0; i < c; i++) {
			cr_assert_eq(r[i].len, ref[i].len, "cut %zu frame %d", cut, i);
			cr_assert_eq(r[i].seq, ref[i].seq);
			cr_assert_eq(r[i].peek_len, ref[i].peek_len);
			cr_assert_arr_eq(r[i].peek, ref[i].peek, ref[i].peek_len,
					 "cut %zu frame %d", cut, i);
			/* A frame is reported in the buffer where its header and
			 * peek complete; it "starts in" that buffer unless the cut
			 * fell inside them. */
			bool header_split = ref[i].abs_start < cut &&
					    ref[i].abs_start + 4 + ref[i].peek_len > cut;
			if (!header_split)
				cr_assert(r[i].start_in_buf, "cut %zu frame %d", cut, i);
			else
				cr_assert_not(r[i].start_in_buf);
			if (r[i].start_in_buf)
				cr_assert_eq(r[i].abs_start, ref[i].abs_start);
		}
	}
}

Test(framer, one_byte_at_a_time)
{
	uint8_t s[1024];
	struct rec ref[16], r[16];
	size_t n = sample_stream(s);
	size_t *ones = malloc(n * sizeof(*ones));
	int c = feed(s, n, NULL, 0, ref, 16, NULL);

	for (size_t i = 0; i < n; i++)
		ones[i] = 1;
	cr_assert_eq(feed(s, n, ones, n, r, 16, NULL), c);
	for (int i = 0; i < c; i++) {
		cr_assert_eq(r[i].len, ref[i].len);
		cr_assert_arr_eq(r[i].peek, ref[i].peek, ref[i].peek_len);
	}
	free(ones);
}

Test(framer, partial_counts_unreported_bytes)
{
	uint8_t s[64];
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos = 0;

	put_pkt(s, 0, 10, 0, 0x03);
	mysql_framer_init(&f);
	/* 2 header bytes */
	cr_assert_not(mysql_framer_next(&f, s, 2, &pos, &fr));
	cr_assert_eq(mysql_framer_partial(&f), 2);
	/* 2 more header bytes and 3 of the 10 peek bytes */
	pos = 0;
	cr_assert_not(mysql_framer_next(&f, s + 2, 5, &pos, &fr));
	cr_assert_eq(mysql_framer_partial(&f), 7);
	/* the rest */
	pos = 0;
	cr_assert(mysql_framer_next(&f, s + 7, 7, &pos, &fr));
	cr_assert_eq(fr.len, 10);
	cr_assert_not(fr.start_in_buf);
	cr_assert_eq(fr.peek_len, 10);
	cr_assert_eq(fr.peek[0], 0x03);
	cr_assert_eq(fr.peek[9], 0x03 + 9);
	cr_assert_eq(mysql_framer_partial(&f), 0);
	cr_assert(mysql_framer_at_boundary(&f));
}

Test(framer, whole_flag)
{
	uint8_t s[64];
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos = 0;

	put_pkt(s, 0, 40, 0, 0x03);
	mysql_framer_init(&f);
	cr_assert(mysql_framer_next(&f, s, 44, &pos, &fr));
	cr_assert(fr.whole);
	mysql_framer_init(&f);
	pos = 0;
	cr_assert(mysql_framer_next(&f, s, 40, &pos, &fr));
	cr_assert_not(fr.whole, "payload continues in the next buffer");
	cr_assert_not(mysql_framer_at_boundary(&f));
	cr_assert(mysql_framer_in_message(&f));
}

Test(framer, max_payload_packets_are_continued)
{
	/* A 0xFFFFFF packet, an empty packet ending that message, then a new
	 * message; and a 0xFFFFFF packet followed by a short one. */
	size_t n = 4 + MYSQL_MAX_PAYLOAD + 4 + 4 + 1 + 4 + MYSQL_MAX_PAYLOAD + 4 + 3;
	uint8_t *s = calloc(1, n);
	size_t off = 0;
	struct rec r[8];

	mysql_put_header(s + off, MYSQL_MAX_PAYLOAD, 0);
	s[off + 4] = 0xFE; /* looks like a terminator but is payload */
	off += 4 + MYSQL_MAX_PAYLOAD;
	mysql_put_header(s + off, 0, 1);
	off += 4;
	off = put_pkt(s, off, 1, 0, 0x0E);
	mysql_put_header(s + off, MYSQL_MAX_PAYLOAD, 0);
	off += 4 + MYSQL_MAX_PAYLOAD;
	off = put_pkt(s, off, 3, 1, 0xFF);
	cr_assert_eq(off, n);

	size_t sizes[] = {16384, 16384, 3, 1, 65536};
	int c = feed(s, n, sizes, 5, r, 8, NULL);
	cr_assert_eq(c, 5);
	cr_assert_eq(r[0].len, MYSQL_MAX_PAYLOAD);
	cr_assert_not(r[0].continuation);
	cr_assert_eq(r[1].len, 0);
	cr_assert(r[1].continuation, "the empty packet continues the message");
	cr_assert_not(r[2].continuation);
	cr_assert_eq(r[2].peek[0], 0x0E);
	cr_assert_not(r[3].continuation);
	cr_assert(r[4].continuation);
	cr_assert_eq(r[4].peek[0], 0xFF, "payload byte, not an ERR");
	free(s);
}

Test(framer, seq_delta_rewrites_in_place)
{
	uint8_t s[64];
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos = 0, off;

	off = put_pkt(s, 0, 3, 1, 0x00);
	off = put_pkt(s, off, 3, 2, 0x00);
	mysql_framer_init(&f);
	f.seq_delta = 3;
	/* Split the second header after its seq byte's predecessor. */
	cr_assert(mysql_framer_next(&f, s, 10, &pos, &fr));
	cr_assert_eq(fr.seq, 1, "reports the seq as received");
	cr_assert_eq(s[3], 4, "rewritten in the buffer");
	cr_assert_not(mysql_framer_next(&f, s, 10, &pos, &fr));
	pos = 0;
	cr_assert(mysql_framer_next(&f, s + 10, off - 10, &pos, &fr));
	cr_assert_eq(fr.seq, 2);
	cr_assert_eq(s[10], 5);
	/* wrap-around */
	mysql_framer_init(&f);
	f.seq_delta = 255;
	put_pkt(s, 0, 1, 0, 0);
	pos = 0;
	cr_assert(mysql_framer_next(&f, s, 5, &pos, &fr));
	cr_assert_eq(s[3], 255);
}

Test(framer, header_lengths_are_never_trusted_beyond_the_buffer)
{
	/* A header claiming 16 MiB followed by 3 bytes: the framer reports the
	 * frame with the bytes it has only once the peek is complete. */
	uint8_t s[8] = {0xFF, 0xFF, 0xFF, 0x00, 0x03, 'a', 'b', 'c'};
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos = 0;

	mysql_framer_init(&f);
	cr_assert_not(mysql_framer_next(&f, s, sizeof(s), &pos, &fr));
	cr_assert_eq(pos, sizeof(s));
	cr_assert_eq(mysql_framer_partial(&f), 8);
}

/* For every 2-way split: after the first buffer, partial() is the number
 * of header + peek bytes of the packet cut by the split (0 if the cut is
 * at a boundary or inside the skipped part of a payload). */
Test(framer, partial_at_every_split)
{
	uint8_t s[1024];
	size_t n = sample_stream(s);
	uint32_t lens[] = {1, 0, 40, 7, 32, 300};

	for (size_t cut = 0; cut <= n; cut++) {
		struct mysql_framer f;
		struct mysql_frame fr;
		size_t pos = 0, off = 0, want = 0;

		for (int i = 0; i < 6; i++) {
			size_t peek = lens[i] < MYSQL_PEEK ? lens[i] : MYSQL_PEEK;
			if (cut > off && cut < off + 4 + peek)
				want = cut - off;
			/* an empty packet is reported right after its header */
			off += 4 + lens[i];
		}
		mysql_framer_init(&f);
		while (mysql_framer_next(&f, s, cut, &pos, &fr))
			;
		cr_assert_eq(mysql_framer_partial(&f), want, "cut %zu", cut);
		cr_assert_eq(mysql_framer_at_boundary(&f),
			     want == 0 && (cut == 0 || cut == n || cut == 5 ||
					   cut == 9 || cut == 53 || cut == 64 ||
					   cut == 100),
			     "cut %zu", cut);
	}
}

Test(framer, seq_delta_same_bytes_at_every_split)
{
	uint8_t ref[1024], s[1024];
	size_t n = sample_stream(ref);
	struct mysql_framer f;
	struct mysql_frame fr;

	/* one buffer */
	mysql_framer_init(&f);
	f.seq_delta = 250;
	size_t pos = 0;
	int frames = 0;
	while (mysql_framer_next(&f, ref, n, &pos, &fr)) {
		cr_assert_eq(fr.seq, frames, "reports the received seq");
		frames++;
	}
	cr_assert_eq(frames, 6);
	/* headers at 0, 5, 9, 53, 64, 100: seq i + 250, wrapping */
	size_t hdr[] = {0, 5, 9, 53, 64, 100};
	for (int i = 0; i < 6; i++)
		cr_assert_eq(ref[hdr[i] + 3], (uint8_t)(i + 250), "packet %d", i);

	for (size_t cut = 1; cut < n; cut++) {
		sample_stream(s);
		mysql_framer_init(&f);
		f.seq_delta = 250;
		pos = 0;
		while (mysql_framer_next(&f, s, cut, &pos, &fr))
			;
		pos = 0;
		while (mysql_framer_next(&f, s + cut, n - cut, &pos, &fr))
			;
		cr_assert_arr_eq(s, ref, n, "cut %zu", cut);
	}
}

Test(framer, empty_packet_at_buffer_end_is_reported_at_once)
{
	uint8_t s[8] = {0, 0, 0, 7};
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos = 0;

	mysql_framer_init(&f);
	cr_assert(mysql_framer_next(&f, s, 4, &pos, &fr));
	cr_assert_eq(fr.len, 0);
	cr_assert_eq(fr.peek_len, 0);
	cr_assert_eq(fr.seq, 7);
	cr_assert(fr.whole);
	cr_assert_eq(pos, 4);
	cr_assert(mysql_framer_at_boundary(&f));
	cr_assert_not(mysql_framer_in_message(&f));
	cr_assert_not(mysql_framer_next(&f, s, 4, &pos, &fr));
	cr_assert_eq(mysql_framer_partial(&f), 0);
}

Test(framer, chained_max_packets_synthetic)
{
	/* Three 0xFFFFFF packets, a 2-byte one ending the message, then a new
	 * 1-byte packet.  Headers and payloads come as separate buffers; one
	 * zeroed 16 MiB buffer is reused for every payload. */
	uint8_t *zero = calloc(1, MYSQL_MAX_PAYLOAD);
	uint8_t hdr[4], tail[2] = {0xFE, 0x00}, next[5];
	struct mysql_framer f;
	struct mysql_frame fr;
	size_t pos;

	cr_assert_not_null(zero);
	mysql_framer_init(&f);
	for (int i = 0; i < 3; i++) {
		mysql_put_header(hdr, MYSQL_MAX_PAYLOAD, (uint8_t)i);
		pos = 0;
		cr_assert_not(mysql_framer_next(&f, hdr, 4, &pos, &fr));
		cr_assert_eq(mysql_framer_partial(&f), 4);
		pos = 0;
		cr_assert(mysql_framer_next(&f, zero, MYSQL_MAX_PAYLOAD, &pos, &fr));
		cr_assert_eq(fr.len, MYSQL_MAX_PAYLOAD);
		cr_assert_eq(fr.seq, i);
		cr_assert_eq(fr.continuation, i > 0, "packet %d", i);
		cr_assert_not(fr.start_in_buf);
		cr_assert_not(fr.whole);
		cr_assert_eq(fr.peek_len, MYSQL_PEEK);
		cr_assert_eq(pos, MYSQL_PEEK);
		cr_assert_not(mysql_framer_next(&f, zero, MYSQL_MAX_PAYLOAD, &pos, &fr));
		cr_assert(mysql_framer_at_boundary(&f));
		cr_assert(mysql_framer_in_message(&f), "a 0xFFFFFF packet continues");
	}
	free(zero);
	mysql_put_header(hdr, 2, 3);
	pos = 0;
	cr_assert_not(mysql_framer_next(&f, hdr, 4, &pos, &fr));
	pos = 0;
	cr_assert(mysql_framer_next(&f, tail, 2, &pos, &fr));
	cr_assert(fr.continuation);
	cr_assert_eq(fr.peek[0], 0xFE, "payload, not a terminator");
	cr_assert_not(mysql_framer_in_message(&f));
	mysql_put_header(next, 1, 0);
	next[4] = COM_PING;
	pos = 0;
	cr_assert(mysql_framer_next(&f, next, 5, &pos, &fr));
	cr_assert_not(fr.continuation);
	cr_assert(fr.whole);
}
