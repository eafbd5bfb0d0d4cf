/*
 * shard_seq.h - the keyspace's sequences on one worker (docs/sharding.md,
 * "Sequences"): keys for INSERTs that leave a sequenced table's key to
 * myring, handed out from blocks the worker fetches from its sequence's
 * row in myring.sequences on the sequence's shard.
 *
 * Each worker keeps its own blocks (seq_block.h), so taking keys takes no
 * lock.  A block is fetched through the worker's ring on a connection
 * borrowed from the shard's pool, as a fanout's are: the UPDATE that
 * takes it, and on the first fetch the CREATE ... IF NOT EXISTS and the
 * INSERT of the row when they are missing.  Sessions that need keys
 * while a fetch runs wait for that one fetch, first come first served.
 */
#ifndef MYRING_SHARD_SEQ_H
#define MYRING_SHARD_SEQ_H

#include <stdbool.h>
#include <stdint.h>

struct session;
struct worker;

/* A session's wait for keys: n keys go to keys[] (ascending), then cont
 * is called with err 0, or with the error that stopped the fetch. */
struct seq_wait {
	struct seq_wait *next;
	struct session *s;          /* whose pool key and route a fetch uses */
	unsigned n;
	int64_t *keys;
	void (*cont)(struct seq_wait *wt, uint16_t err, const char *msg);
	bool queued;
};

/* n keys of sequence seq (an index into the keyspace's sequences) into
 * keys[] now: 0, or -1 when the worker does not hold as many.  A fetch
 * starts when the worker runs low (half a block left), so that the next
 * block is there before this one runs out. */
int shard_seq_take(struct session *s, unsigned seq, unsigned n,
		   int64_t *keys);

/* A block is fetched now unless one is on its way or the worker holds
 * at least half a block (for a session that cannot wait for one). */
void shard_seq_prefetch(struct session *s, unsigned seq);

/* wt (n, keys, cont and s set) waits for its keys; cont may run before
 * this returns (an error that needs no round trip). */
void shard_seq_wait(struct session *s, unsigned seq, struct seq_wait *wt);

/* wt's session is going away: wt leaves the line (cont is not called). */
void shard_seq_cancel(struct worker *w, unsigned seq, struct seq_wait *wt);

/* The worker ends. */
void shard_seq_free(struct worker *w);

#endif
