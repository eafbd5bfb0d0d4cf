/*
 * mysql_compress.c - compressed-protocol frames (see mysql_compress.h).
 */
#include "mysql_compress.h"

#include <string.h>

static uint32_t get_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}

static void put_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}

void zreader_init(struct zreader *z)
{
	memset(z, 0, sizeof(*z));
}

void zreader_free(struct zreader *z)
{
	if (z->zs_ready)
		inflateEnd(&z->zs);
	z->zs_ready = false;
}

/* The header is whole: the frame begins. */
static int frame_begin(struct zreader *z, const char **why)
{
	z->hdr_have = 0;
	z->seq = z->hdr[3];
	z->left = get_u24(z->hdr);
	z->raw_len = get_u24(z->hdr + 4);
	z->in_frame = true;
	z->stream_end = false;
	z->frames++;
	if (!z->raw_len)
		return 0;
	/* A zlib stream is at least 8 bytes (header, empty block, check). */
	if (z->left < 8) {
		*why = "a compressed frame too short to hold a zlib stream";
		return -1;
	}
	z->out_left = z->raw_len;
	if (!z->zs_ready) {
		memset(&z->zs, 0, sizeof(z->zs));
		if (inflateInit(&z->zs) != Z_OK) {
			*why = "out of memory (zlib)";
			return -1;
		}
		z->zs_ready = true;
	} else if (inflateReset(&z->zs) != Z_OK) {
		*why = "zlib could not start a frame";
		return -1;
	}
	return 0;
}

enum zr_result zreader_next(struct zreader *z, const uint8_t *in, size_t n,
			    size_t *pos, uint8_t *out, size_t cap,
			    size_t *out_len, const uint8_t **slice,
			    const char **why)
{
	size_t p = *pos;

	*out_len = 0;
	for (;;) {
		if (!z->in_frame) {
			while (z->hdr_have < MYSQL_ZHDR_LEN && p < n)
				z->hdr[z->hdr_have++] = in[p++];
			if (z->hdr_have < MYSQL_ZHDR_LEN) {
				*pos = p;
				return ZR_NEED_INPUT;
			}
			if (frame_begin(z, why)) {
				*pos = p;
				return ZR_ERROR;
			}
		}
		if (!z->raw_len) {
			/* Stored: the bytes are handed up where they lie. */
			size_t take = n - p < z->left ? n - p : z->left;
			if (take > cap)
				take = cap;
			if (!z->left) {
				z->in_frame = false;
				continue;
			}
			if (!take) {
				*pos = p;
				return ZR_NEED_INPUT;
			}
			*slice = in + p;
			*out_len = take;
			z->left -= (uint32_t)take;
			if (!z->left)
				z->in_frame = false;
			*pos = p + take;
			return ZR_STORED;
		}
		/* Compressed: inflate what this input holds of the frame,
		 * with one byte of room beyond what the frame says it holds,
		 * so that a stream inflating to more is caught. */
		size_t avail_in = n - p < z->left ? n - p : z->left;
		size_t room = cap < (size_t)z->out_left + 1 ? cap :
			      (size_t)z->out_left + 1;
		int rc = Z_OK;

		if (!z->stream_end && (avail_in || room)) {
			z->zs.next_in = (Bytef *)(uintptr_t)(in + p);
			z->zs.avail_in = (uInt)avail_in;
			z->zs.next_out = out;
			z->zs.avail_out = (uInt)room;
			rc = inflate(&z->zs, Z_NO_FLUSH);
			size_t used = avail_in - z->zs.avail_in;
			size_t made = room - z->zs.avail_out;
			p += used;
			z->left -= (uint32_t)used;
			if (made > z->out_left) {
				*why = "a compressed frame inflates to more than "
				       "its header says";
				*pos = p;
				return ZR_ERROR;
			}
			z->out_left -= (uint32_t)made;
			*out_len = made;
			if (rc == Z_STREAM_END)
				z->stream_end = true;
			else if (rc != Z_OK && rc != Z_BUF_ERROR) {
				*why = "a compressed frame is not a valid zlib "
				       "stream";
				*pos = p;
				return ZR_ERROR;
			}
		}
		if (z->stream_end) {
			if (z->left || z->out_left) {
				*why = z->left ? "bytes after a compressed "
				       "frame's zlib stream" :
				       "a compressed frame inflates to less "
				       "than its header says";
				*pos = p;
				return ZR_ERROR;
			}
			z->in_frame = false;
		} else if (!z->left && *out_len == 0) {
			/* All of the frame's bytes are in and the stream did
			 * not end: it was cut short. */
			*why = "a compressed frame's zlib stream is truncated";
			*pos = p;
			return ZR_ERROR;
		}
		*pos = p;
		if (*out_len)
			return ZR_OUTPUT;
		if (!z->in_frame)
			continue;
		return ZR_NEED_INPUT;
	}
}

size_t mysql_zframe_bound(size_t len)
{
	return MYSQL_ZHDR_LEN + compressBound((uLong)len);
}

int mysql_zdeflate_init(z_stream *zs, int level)
{
	memset(zs, 0, sizeof(*zs));
	return deflateInit(zs, level) == Z_OK ? 0 : -1;
}

size_t mysql_zframe_build(z_stream *zs, uint8_t *dst, const uint8_t *src,
			  size_t len, uint8_t seq)
{
	size_t clen = 0;

	if (len >= MYSQL_ZMIN) {
		size_t bound = compressBound((uLong)len);
		if (deflateReset(zs) != Z_OK)
			return 0;
		zs->next_in = (Bytef *)(uintptr_t)src;
		zs->avail_in = (uInt)len;
		zs->next_out = dst + MYSQL_ZHDR_LEN;
		zs->avail_out = (uInt)bound;
		if (deflate(zs, Z_FINISH) != Z_STREAM_END)
			return 0;
		clen = bound - zs->avail_out;
	}
	if (clen && clen < len) {
		put_u24(dst, (uint32_t)clen);
		dst[3] = seq;
		put_u24(dst + 4, (uint32_t)len);
		return MYSQL_ZHDR_LEN + clen;
	}
	put_u24(dst, (uint32_t)len);
	dst[3] = seq;
	put_u24(dst + 4, 0);
	memcpy(dst + MYSQL_ZHDR_LEN, src, len);
	return MYSQL_ZHDR_LEN + len;
}
