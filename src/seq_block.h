/*
 * seq_block.h - one worker's cache of a sequence's keys (docs/sharding.md,
 * "Sequences"): the blocks it fetched from myring.sequences and has not
 * handed out yet.  Pure: shard_seq.c does the fetching.
 *
 * A block is fetched with one statement,
 *
 *   UPDATE myring.sequences SET next_id = LAST_INSERT_ID(next_id + n)
 *   WHERE name = '...'
 *
 * whose OK carries the row's new next_id E in its last_insert_id: the
 * block is [E - n, E), and no other worker or myring process can get a
 * key of it (the row lock orders the UPDATEs).  Keys are handed out in
 * ascending order; what a worker holds when myring stops is never handed
 * out (a gap).
 */
#ifndef MYRING_SEQ_BLOCK_H
#define MYRING_SEQ_BLOCK_H

#include <stdint.h>

#define SEQ_BLOCK_RANGES 4

struct seq_block {
	/* ranges [next, end), oldest (lowest) first, in a ring */
	uint64_t next[SEQ_BLOCK_RANGES], end[SEQ_BLOCK_RANGES];
	unsigned head, n;
	uint64_t avail;         /* keys in them */
};

/* n keys into keys[], ascending: 0, or -1 (nothing taken) when fewer
 * than n are cached. */
int seq_block_take(struct seq_block *b, uint64_t n, int64_t *keys);

/* Adds the block [start, end) (above every key cached).  -1 when it is
 * empty, not above them, or the cache holds SEQ_BLOCK_RANGES ranges. */
int seq_block_add(struct seq_block *b, uint64_t start, uint64_t end);

/* How many keys to fetch now, with `need` keys asked for by waiters and
 * the sequence's block size: 0 when the cache is enough and at least
 * half a block stays after them (fetching early keeps the next block on
 * its way before this one runs out); else the block size, or what the
 * waiters lack if that is more (one round trip serves a large INSERT). */
uint64_t seq_block_want(const struct seq_block *b, uint64_t block,
			uint64_t need);

/* The block an UPDATE of n keys got, from its OK's last_insert_id (the
 * row's new next_id): 0 with [*start, *end), or -1 when that cannot be
 * (the row's value is past the keys' range: signed 64-bit, above 0). */
int seq_block_from_ok(uint64_t last_insert_id, uint64_t n, uint64_t *start,
		      uint64_t *end);

#endif
