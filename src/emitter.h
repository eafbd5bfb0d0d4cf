/*
 * emitter.h - lays a receive buffer out as chunks queued for a socket,
 * without copying: bytes before `cursor` are decided, those from `from` to
 * `cursor` are queued at the next flush, and a drop skips bytes.  The
 * command path (client bytes to the backend) and the response path
 * (server bytes to the client) cut buffers only where a packet is
 * dropped, replaced or copied.
 */
#ifndef MYRING_EMITTER_H
#define MYRING_EMITTER_H

#include "session.h"

struct emitter {
	struct session *s;
	bool to_backend;         /* the bytes go to the backend, else the client */
	uint8_t *buf;
	int32_t bid;
	size_t from;             /* start of the bytes not yet queued */
	size_t cursor;           /* bytes before this are decided */
};

static inline void em_flush(struct emitter *e)
{
	if (e->cursor > e->from)
		(e->to_backend ? session_to_backend : session_to_client)(
			e->s, e->buf + e->from, (uint32_t)(e->cursor - e->from),
			e->bid, NULL);
	e->from = e->cursor;
}

static inline void em_forward(struct emitter *e, size_t to)
{
	e->cursor = to;
}

static inline void em_drop(struct emitter *e, size_t to)
{
	em_flush(e);
	e->from = e->cursor = to;
}

#endif
