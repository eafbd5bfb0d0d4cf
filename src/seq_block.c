/*
 * seq_block.c - a worker's cache of a sequence's keys (seq_block.h).
 */
#include "seq_block.h"

int seq_block_take(struct seq_block *b, uint64_t n, int64_t *keys)
{
	uint64_t k = 0;

	if (n > b->avail)
		return -1;
	while (k < n) {
		unsigned i = b->head;

		while (k < n && b->next[i] < b->end[i])
			keys[k++] = (int64_t)b->next[i]++;
		if (b->next[i] == b->end[i]) {
			b->head = (b->head + 1) % SEQ_BLOCK_RANGES;
			b->n--;
		}
	}
	b->avail -= n;
	return 0;
}

int seq_block_add(struct seq_block *b, uint64_t start, uint64_t end)
{
	unsigned last = (b->head + b->n + SEQ_BLOCK_RANGES - 1) %
			SEQ_BLOCK_RANGES;

	if (start >= end || (b->n && start < b->end[last]))
		return -1;
	if (b->n && start == b->end[last]) {
		b->end[last] = end;     /* contiguous: one range */
	} else {
		if (b->n == SEQ_BLOCK_RANGES)
			return -1;
		last = (b->head + b->n) % SEQ_BLOCK_RANGES;
		b->next[last] = start;
		b->end[last] = end;
		b->n++;
	}
	b->avail += end - start;
	return 0;
}

uint64_t seq_block_want(const struct seq_block *b, uint64_t block,
			uint64_t need)
{
	if (b->avail >= need && b->avail - need >= block / 2)
		return 0;
	if (b->n == SEQ_BLOCK_RANGES)
		return 0;
	if (need > b->avail && need - b->avail > block)
		return need - b->avail;
	return block;
}

int seq_block_from_ok(uint64_t last_insert_id, uint64_t n, uint64_t *start,
		      uint64_t *end)
{
	if (!n || last_insert_id < n + 1 ||
	    last_insert_id - 1 > (uint64_t)INT64_MAX)
		return -1;
	*start = last_insert_id - n;
	*end = last_insert_id;
	return 0;
}
