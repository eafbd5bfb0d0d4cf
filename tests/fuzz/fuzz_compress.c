/*
 * Fuzzes the compressed protocol's frames (mysql_compress.c).
 *
 * The first byte picks the mode, the next ones how the stream is cut:
 *   even: the rest is a stream of frames as a peer might send it, read
 *         with receive buffers and output room of varying sizes: no read
 *         beyond what was given, no output beyond the room, errors are
 *         reported, never crashes;
 *   odd:  the rest is plaintext, sent as frames of varying sizes and
 *         levels (stored below 50 bytes, compressed above), then read back
 *         cut anywhere: what comes out is exactly the plaintext, each
 *         frame's sequence id as it was sent.
 */
#include "mysql_compress.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static uint8_t cut_size(const uint8_t *cuts, size_t ncuts, size_t *i)
{
	uint8_t c = ncuts ? cuts[(*i)++ % ncuts] : 64;
	return c ? c : 1;
}

/* Reads stream[0, n) in pieces; out collects what comes out (cap bytes). */
static int read_back(const uint8_t *stream, size_t n, const uint8_t *cuts,
		     size_t ncuts, uint8_t *out, size_t cap, size_t *out_len,
		     uint8_t *seqs, size_t *nseqs, size_t maxseqs)
{
	struct zreader z;
	size_t off = 0, ci = 0, got = 0;
	uint64_t last_frames = 0;
	int rc = 0;

	zreader_init(&z);
	while (off < n && rc == 0) {
		size_t piece = cut_size(cuts, ncuts, &ci) * 37u;
		if (piece > n - off)
			piece = n - off;
		size_t pos = 0;
		for (;;) {
			uint8_t buf[4096];
			size_t room = cut_size(cuts, ncuts, &ci) * 17u;
			size_t len = 0;
			const uint8_t *slice = NULL;
			const char *why = NULL;
			if (room > sizeof(buf))
				room = sizeof(buf);
			enum zr_result r = zreader_next(&z, stream + off, piece,
							&pos, buf, room, &len,
							&slice, &why);
			if (pos > piece)
				abort();
			if (r == ZR_ERROR) {
				if (!why)
					abort();
				rc = -1;
				break;
			}
			if (r == ZR_NEED_INPUT) {
				if (pos != piece)
					abort();
				break;
			}
			if (len > room)
				abort();
			if (r == ZR_STORED &&
			    (slice < stream + off || slice + len > stream + off + piece))
				abort();
			if (z.frames != last_frames && *nseqs < maxseqs) {
				seqs[(*nseqs)++] = z.seq;
				last_frames = z.frames;
			}
			if (got + len <= cap)
				memcpy(out + got, r == ZR_STORED ? slice : buf, len);
			got += len;
		}
		off += piece;
	}
	if (rc == 0 && !zreader_at_boundary(&z))
		rc = 1;   /* ends inside a frame */
	zreader_free(&z);
	*out_len = got;
	return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	size_t ncuts = data[1] % 8;
	if (size < 2 + ncuts)
		return 0;
	const uint8_t *cuts = data + 2;
	const uint8_t *rest = data + 2 + ncuts;
	size_t n = size - 2 - ncuts;

	if (!(data[0] & 1)) {
		static uint8_t out[1 << 16];
		uint8_t seqs[64];
		size_t out_len, nseqs = 0;
		read_back(rest, n, cuts, ncuts, out, sizeof(out), &out_len, seqs,
			  &nseqs, 64);
		return 0;
	}

	/* Round trip. */
	z_stream zs;
	int level = 1 + (data[0] >> 1) % 9;
	if (mysql_zdeflate_init(&zs, level))
		return 0;
	uint8_t *stream = malloc(mysql_zframe_bound(n) + n / 8 * 64 + 4096);
	uint8_t sent[256];
	size_t nsent = 0, slen = 0, off = 0, ci = 0;
	while (off < n) {
		size_t fl = cut_size(cuts, ncuts, &ci) * 3u;
		if (fl > n - off)
			fl = n - off;
		uint8_t seq = (uint8_t)(nsent * 7 + 1);
		size_t w = mysql_zframe_build(&zs, stream + slen, rest + off, fl,
					      seq);
		if (!w)
			abort();
		if (nsent < sizeof(sent))
			sent[nsent] = seq;
		nsent++;
		slen += w;
		off += fl;
	}
	deflateEnd(&zs);
	uint8_t *out = malloc(n + 1);
	uint8_t seqs[256];
	size_t out_len, nseqs = 0;
	if (read_back(stream, slen, cuts, ncuts, out, n, &out_len, seqs, &nseqs,
		      sizeof(seqs)) != 0)
		abort();
	if (out_len != n || memcmp(out, rest, n))
		abort();
	/* Every frame with output reported its own sequence id (empty
	 * frames have none to report). */
	for (size_t i = 0; i < nseqs; i++) {
		size_t k = 0;
		while (k < nsent && k < sizeof(sent) && sent[k] != seqs[i])
			k++;
		if (k == nsent || k == sizeof(sent))
			abort();
	}
	free(out);
	free(stream);
	return 0;
}
