/*
 * mysql_compress.h - the frames of the compressed protocol
 * (CLIENT_COMPRESS), both ways.  Pure: bytes in, bytes out, zlib.
 *
 * Once a login has ended (the OK that ends it is the last packet sent
 * plain), every byte either side sends is a frame:
 *
 *   int<3> payload length   int<1> sequence id   int<3> uncompressed length
 *   payload: one zlib stream that inflates to exactly that many bytes, or,
 *            when the uncompressed length is 0, the bytes as they are
 *
 * A frame carries any run of the packet stream: a piece of a packet, or
 * several packets.  Frames and receive buffers cut the stream anywhere, so
 * the reader keeps a partial 7-byte header and a zlib stream across calls,
 * the way mysql_framer.c keeps a partial packet header.
 *
 * Sequence ids count frames, not packets: they restart at 0 with each
 * command and go on across a change of direction (a response's first
 * frame follows the command's last), independently of the packets'
 * sequence ids inside (which a compressing peer does not check, and which
 * MariaDB and libmariadb resynchronise to the frame count at each flush).
 */
#ifndef MYRING_MYSQL_COMPRESS_H
#define MYRING_MYSQL_COMPRESS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <zlib.h>

#define MYSQL_ZHDR_LEN 7
/* Payloads shorter than this are stored, as MySQL and MariaDB do
 * (MIN_COMPRESS_LENGTH): a zlib stream would be longer. */
#define MYSQL_ZMIN 50
/* Largest payload a frame can say it has (3 bytes). */
#define MYSQL_ZMAX 0xFFFFFFu

/* The reading side of one connection. */
struct zreader {
	z_stream zs;
	bool zs_ready;             /* inflateInit done */
	bool in_frame;             /* a header has been read, its payload not */
	bool stream_end;           /* the frame's zlib stream has ended */
	uint8_t hdr[MYSQL_ZHDR_LEN];
	uint8_t hdr_have;
	uint8_t seq;               /* of the frame in progress (or last) */
	uint32_t left;             /* payload bytes of the frame still due */
	uint32_t raw_len;          /* its uncompressed length; 0: stored */
	uint32_t out_left;         /* uncompressed bytes still due */
	uint64_t frames;           /* frames read (statistics) */
};

enum zr_result {
	ZR_NEED_INPUT,   /* the input is used up, nothing more to give now */
	ZR_OUTPUT,       /* *out_len bytes were inflated into out */
	ZR_STORED,       /* *out_len stored bytes lie in the input at *slice */
	ZR_ERROR,        /* not a valid frame: the connection is broken */
};

void zreader_init(struct zreader *z);
void zreader_free(struct zreader *z);

/*
 * Advances over in[*pos, n).  Inflated bytes go to out[0, cap) (cap >= 1);
 * the bytes of a stored frame are not copied but pointed at (*slice), at
 * most cap of them per call.
 * Each result covers bytes of one frame only, whose sequence id is z->seq,
 * and ends at the frame's end, at the end of out, or at the end of the
 * input, whichever comes first.  A header straddling calls is kept.
 * *why says what is wrong on ZR_ERROR.
 */
enum zr_result zreader_next(struct zreader *z, const uint8_t *in, size_t n,
			    size_t *pos, uint8_t *out, size_t cap,
			    size_t *out_len, const uint8_t **slice,
			    const char **why);

/* True between frames (nothing of a frame is pending). */
static inline bool zreader_at_boundary(const struct zreader *z)
{
	return !z->in_frame && z->hdr_have == 0;
}

/* Room a frame of len payload bytes may need. */
size_t mysql_zframe_bound(size_t len);

/*
 * Writes one frame of src[0, len) (len <= MYSQL_ZMAX) with sequence id
 * seq into dst (room for mysql_zframe_bound(len)): zlib at level through
 * zs (a deflate stream the caller keeps, made with mysql_zdeflate_init
 * and reset here), or stored when len < MYSQL_ZMIN or compressing would
 * not make it shorter.  Returns the frame's length, 0 on a zlib error.
 */
size_t mysql_zframe_build(z_stream *zs, uint8_t *dst, const uint8_t *src,
			  size_t len, uint8_t seq);
int mysql_zdeflate_init(z_stream *zs, int level);

#endif
