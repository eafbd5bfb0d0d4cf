/* Compressed-protocol frames (mysql_compress.c). */
#include "mysql_compress.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

/* Reads stream[0, n) fed in pieces of `piece` bytes with `room` bytes of
 * output each call; returns 0 and the output, or -1 on ZR_ERROR (why). */
static int read_all(const uint8_t *stream, size_t n, size_t piece, size_t room,
		    uint8_t *out, size_t *out_len, uint8_t *last_seq,
		    const char **why)
{
	struct zreader z;
	size_t off = 0, got = 0;
	int rc = 0;

	zreader_init(&z);
	while (off < n && !rc) {
		size_t len = n - off < piece ? n - off : piece, pos = 0;
		for (;;) {
			uint8_t buf[1 << 16];
			size_t k = 0;
			const uint8_t *slice = NULL;
			enum zr_result r = zreader_next(&z, stream + off, len, &pos,
							buf, room, &k, &slice, why);
			if (r == ZR_ERROR) {
				rc = -1;
				break;
			}
			if (r == ZR_NEED_INPUT)
				break;
			memcpy(out + got, r == ZR_STORED ? slice : buf, k);
			got += k;
			*last_seq = z.seq;
		}
		off += len;
	}
	if (!rc && !zreader_at_boundary(&z)) {
		*why = "ends inside a frame";
		rc = -1;
	}
	zreader_free(&z);
	*out_len = got;
	return rc;
}

static size_t build(uint8_t *dst, const uint8_t *src, size_t len, uint8_t seq,
		    int level)
{
	z_stream zs;
	cr_assert_eq(mysql_zdeflate_init(&zs, level), 0);
	size_t n = mysql_zframe_build(&zs, dst, src, len, seq);
	deflateEnd(&zs);
	cr_assert_gt(n, 0);
	return n;
}

Test(compress, small_payloads_are_stored)
{
	uint8_t f[64];
	size_t n = build(f, (const uint8_t *)"\x05\x00\x00\x00\x03SELECT 1", 13, 7, 6);
	cr_assert_eq(n, 7 + 13);
	cr_assert_eq(f[0], 13);
	cr_assert_eq(f[3], 7);
	cr_assert_eq(f[4] | f[5] | f[6], 0, "uncompressed length 0: stored");
}

Test(compress, round_trip_across_every_cut)
{
	static uint8_t plain[200000], stream[400000], out[200000];
	size_t slen = 0, off = 0, out_len;
	uint8_t seq = 0, last = 0;
	const char *why = "";

	for (size_t i = 0; i < sizeof(plain); i++)
		plain[i] = (uint8_t)("row data "[i % 9] + (i / 997) % 3);
	/* Frames of assorted sizes: stored (< 50) and compressed. */
	static const size_t sizes[] = {10, 49, 50, 4096, 65536, 1, 70000};
	for (int k = 0; off < sizeof(plain); k++) {
		size_t fl = sizes[k % 7];
		if (fl > sizeof(plain) - off)
			fl = sizeof(plain) - off;
		slen += build(stream + slen, plain + off, fl, seq++, 1 + k % 9);
		off += fl;
	}
	static const size_t pieces[] = {1, 3, 7, 1000, 32768, 400000};
	static const size_t rooms[] = {1, 5, 4096, 65536};
	for (int p = 0; p < 6; p++)
		for (int r = 0; r < 4; r++) {
			if (pieces[p] < 7 && rooms[r] < 4096)
				continue; /* slow, and the other cuts cover it */
			cr_assert_eq(read_all(stream, slen, pieces[p], rooms[r], out,
					      &out_len, &last, &why), 0,
				     "piece %zu room %zu: %s", pieces[p], rooms[r], why);
			cr_assert_eq(out_len, sizeof(plain));
			cr_assert_eq(memcmp(out, plain, sizeof(plain)), 0);
			cr_assert_eq(last, (uint8_t)(seq - 1));
		}
}

Test(compress, a_frame_that_lies_about_its_length_is_refused)
{
	uint8_t plain[1000], f[2048], out[4096];
	size_t out_len;
	uint8_t last;
	const char *why = "";

	memset(plain, 'a', sizeof(plain));
	size_t n = build(f, plain, sizeof(plain), 0, 6);
	/* Says 999 bytes: inflates to more. */
	f[4] = (uint8_t)(999 & 0xff), f[5] = (uint8_t)(999 >> 8);
	cr_assert_eq(read_all(f, n, 4096, 4096, out, &out_len, &last, &why), -1);
	cr_assert(strstr(why, "more"), "%s", why);
	/* Says 1001: inflates to less. */
	f[4] = (uint8_t)(1001 & 0xff), f[5] = (uint8_t)(1001 >> 8);
	cr_assert_eq(read_all(f, n, 4096, 4096, out, &out_len, &last, &why), -1);
	cr_assert(strstr(why, "less"), "%s", why);
	/* A truncated stream inside a frame that says it is shorter. */
	f[4] = (uint8_t)(1000 & 0xff), f[5] = (uint8_t)(1000 >> 8);
	f[0] = (uint8_t)(f[0] - 3);
	cr_assert_eq(read_all(f, n - 3, 4096, 4096, out, &out_len, &last, &why), -1);
	/* Not zlib at all. */
	uint8_t junk[] = {20, 0, 0, 0, 100, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 9,
			  10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20};
	cr_assert_eq(read_all(junk, sizeof(junk), 4096, 4096, out, &out_len,
			      &last, &why), -1);
}

Test(compress, a_header_split_over_buffers_is_kept)
{
	uint8_t f[64], out[64];
	size_t n = build(f, (const uint8_t *)"hello", 5, 3, 6), out_len;
	uint8_t last = 0;
	const char *why = "";

	cr_assert_eq(read_all(f, n, 1, 64, out, &out_len, &last, &why), 0, "%s", why);
	cr_assert_eq(out_len, 5);
	cr_assert_eq(memcmp(out, "hello", 5), 0);
	cr_assert_eq(last, 3);
	/* Ending inside the header is reported, not taken for a frame. */
	cr_assert_eq(read_all(f, 5, 64, 64, out, &out_len, &last, &why), -1);
}
