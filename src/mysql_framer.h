/*
 * mysql_framer.h - walks MySQL packet headers across receive buffers.
 *
 * A stream arrives as arbitrary chunks (provided buffers).  The framer looks
 * only at the 4-byte headers and at the first MYSQL_PEEK payload bytes of
 * each packet (enough for every decision the proxy makes: command byte,
 * OK/ERR/EOF status, column counts, PREPARE_OK), and skips the rest without
 * touching it.  Headers and peeks that straddle two buffers are stashed.
 *
 *            +-------- HEADER (collect 4 bytes) <--------------+
 *            v                                                 |
 *        PEEK (collect min(len, MYSQL_PEEK) bytes)             |
 *            |  -> report one frame                            |
 *            v                                                 |
 *        SKIP (payload_left bytes, possibly over many buffers) +
 *
 * A packet whose payload is exactly 0xFFFFFF bytes is continued by the next
 * packet; the framer flags such follow-on packets as continuations so the
 * caller never mistakes their first byte for a packet type.
 */
#ifndef MYRING_MYSQL_FRAMER_H
#define MYRING_MYSQL_FRAMER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MYSQL_PEEK 32u

struct mysql_framer {
	uint32_t payload_left;   /* payload bytes still to skip (SKIP state) */
	uint32_t cur_len;        /* payload length of the packet in progress */
	uint8_t hdr[4];
	uint8_t hdr_have;        /* 0..4 header bytes collected */
	uint8_t peek_have;       /* peek bytes collected */
	uint8_t peek_want;       /* 0 when not in PEEK state */
	bool continued;          /* the last packet was 0xFFFFFF long */
	bool cur_continuation;   /* the packet in progress is a continuation */
	uint8_t seq_delta;       /* added in place to every seq byte passed */
	uint8_t partial;         /* bytes of an unreported frame at buffer end */
	uint8_t peek[MYSQL_PEEK];
};

/* One packet, reported once its header and peek bytes are complete. */
struct mysql_frame {
	uint32_t len;            /* payload length */
	uint8_t seq;             /* sequence id as received */
	bool continuation;       /* continues a 0xFFFFFF-long packet */
	bool start_in_buf;       /* header began in the current buffer */
	bool whole;              /* header and all of the payload are in it */
	size_t start;            /* offset of the header; valid if start_in_buf */
	const uint8_t *peek;     /* first peek_len payload bytes */
	uint32_t peek_len;       /* min(len, MYSQL_PEEK) */
};

static inline void mysql_framer_init(struct mysql_framer *f)
{
	*f = (struct mysql_framer){0};
}

/*
 * Advances over buf[*pos, len).  Returns true with *out filled when a frame
 * is complete (then *pos is just past its peek bytes; out->peek is valid
 * until the next call); returns false when the buffer is exhausted (*pos ==
 * len).  If seq_delta is non-zero the sequence byte of every header is
 * incremented by it in buf, in place.
 */
bool mysql_framer_next(struct mysql_framer *f, uint8_t *buf, size_t len,
		       size_t *pos, struct mysql_frame *out);

/* After mysql_framer_next() returned false: how many bytes (header plus
 * peek, possibly spread over several buffers) have been collected for a
 * packet whose frame has not been reported yet.  They are the last bytes
 * passed.  At most 4 + MYSQL_PEEK - 1. */
static inline unsigned mysql_framer_partial(const struct mysql_framer *f)
{
	return f->partial;
}

/* Sequence id, as received, of the last packet whose header was passed;
 * meaningful between packets. */
static inline uint8_t mysql_framer_last_seq(const struct mysql_framer *f)
{
	return f->hdr[3];
}

/* Payload bytes of the current packet not passed yet (0 between
 * packets or while a header or peek is being collected). */
static inline uint32_t mysql_framer_skip_left(const struct mysql_framer *f)
{
	return f->peek_want || f->hdr_have ? 0 : f->payload_left;
}

/* n of those bytes went past by another way (splice.h): n <= skip_left. */
static inline void mysql_framer_skipped(struct mysql_framer *f, uint32_t n)
{
	f->payload_left -= n;
}

/* True between packets: nothing of a packet is pending. */
static inline bool mysql_framer_at_boundary(const struct mysql_framer *f)
{
	return f->hdr_have == 0 && f->peek_want == 0 && f->payload_left == 0;
}

/* True while the logical message in progress continues: either inside a
 * packet's payload or after a 0xFFFFFF-long packet. */
static inline bool mysql_framer_in_message(const struct mysql_framer *f)
{
	return !mysql_framer_at_boundary(f) || f->continued;
}

#endif
