#include "mysql_framer.h"

#include "mysql_proto.h"

#include <string.h>

static void fill_frame(struct mysql_framer *f, struct mysql_frame *out,
		       const uint8_t *peek, bool here, size_t start,
		       size_t buf_len)
{
	out->len = f->cur_len;
	out->seq = f->hdr[3];
	out->continuation = f->cur_continuation;
	out->start_in_buf = here;
	out->start = here ? start : 0;
	out->whole = here && buf_len - start >= MYSQL_HDR_LEN + (size_t)f->cur_len;
	out->peek = peek;
	out->peek_len = f->peek_want;
	f->payload_left = f->cur_len - f->peek_want;
	f->peek_want = 0;
	f->peek_have = 0;
	f->partial = 0;
}

bool mysql_framer_next(struct mysql_framer *f, uint8_t *buf, size_t len,
		       size_t *pos, struct mysql_frame *out)
{
	size_t p = *pos, start = 0;
	bool here = false; /* the frame in progress began in this buffer */

	for (;;) {
		if (f->payload_left) {
			size_t skip = len - p < f->payload_left ?
				      len - p : f->payload_left;
			p += skip;
			f->payload_left -= (uint32_t)skip;
			if (f->payload_left)
				break;
		}
		if (f->peek_want) {
			/* The rest of a peek that straddled buffers. */
			size_t want = (size_t)(f->peek_want - f->peek_have);
			size_t take = len - p < want ? len - p : want;
			memcpy(f->peek + f->peek_have, buf + p, take);
			f->peek_have = (uint8_t)(f->peek_have + take);
			f->partial = (uint8_t)(f->partial + take);
			p += take;
			if (f->peek_have < f->peek_want)
				break;
			fill_frame(f, out, f->peek, here, start, len);
			*pos = p;
			return true;
		}
		if (p == len)
			break;
		if (f->hdr_have == 0) {
			here = true;
			start = p;
			f->partial = 0;
		}
		while (f->hdr_have < MYSQL_HDR_LEN && p < len) {
			/* The sequence byte is renumbered where it lies. */
			if (f->hdr_have == 3)
				buf[p] = (uint8_t)(buf[p] + f->seq_delta);
			f->hdr[f->hdr_have++] = buf[p++];
			f->partial++;
		}
		if (f->hdr_have < MYSQL_HDR_LEN)
			break;
		/* The header is complete: the frame begins. */
		f->hdr[3] = (uint8_t)(f->hdr[3] - f->seq_delta); /* as received */
		f->hdr_have = 0;
		f->cur_len = mysql_get_u24(f->hdr);
		f->cur_continuation = f->continued;
		f->continued = f->cur_len == MYSQL_MAX_PAYLOAD;
		f->peek_want = (uint8_t)(f->cur_len < MYSQL_PEEK ? f->cur_len :
					 MYSQL_PEEK);
		f->peek_have = 0;
		if (len - p >= f->peek_want) {
			/* The common case: the peek is in place. */
			const uint8_t *peek = buf + p;
			p += f->peek_want;
			fill_frame(f, out, peek, here, start, len);
			*pos = p;
			return true;
		}
		/* The peek straddles: the loop collects what this buffer has. */
	}
	*pos = len;
	return false;
}
