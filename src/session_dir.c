/*
 * session_dir.c - pooled sessions' ids and their published entries (see
 * session_dir.h).
 */
#include "session_dir.h"

#include <stdlib.h>

#define SEQ_MASK 0xFFFFFFu

int sdir_init(struct session_dir *d, uint32_t max_sessions)
{
	uint32_t n = 64;

	while (n < 2 * (uint64_t)max_sessions && n < (SEQ_MASK + 1) / 2)
		n *= 2;
	d->e = calloc(n, sizeof(*d->e));
	d->mask = n - 1;
	d->seq = 0;
	return d->e ? 0 : -1;
}

void sdir_free(struct session_dir *d)
{
	free(d->e);
	d->e = NULL;
}

struct sdir_entry *sdir_add(struct session_dir *d, unsigned worker,
			    uint32_t *conn_id)
{
	for (uint32_t tries = 0; tries <= d->mask; tries++) {
		struct sdir_entry *e;

		d->seq = (d->seq + 1) & SEQ_MASK;
		if (!d->seq)
			d->seq = 1;
		e = &d->e[d->seq & d->mask];
		/* A held entry stays out of use until its KILL QUERY ends. */
		if (atomic_load_explicit(&e->conn_id, memory_order_relaxed) ||
		    atomic_load(&e->hold))
			continue;
		*conn_id = (uint32_t)worker << 24 | d->seq;
		atomic_store_explicit(&e->user, 0, memory_order_relaxed);
		atomic_store_explicit(&e->backend, 0, memory_order_relaxed);
		atomic_store_explicit(&e->kill, 0, memory_order_relaxed);
		atomic_store_explicit(&e->conn_id, *conn_id, memory_order_release);
		return e;
	}
	return NULL;
}

void sdir_remove(struct sdir_entry *e)
{
	atomic_store(&e->backend, 0);
	atomic_store_explicit(&e->conn_id, 0, memory_order_release);
}

struct sdir_entry *sdir_find(struct session_dir *d, uint32_t conn_id)
{
	struct sdir_entry *e;

	if (!(conn_id & SEQ_MASK) || !d->e)
		return NULL;
	e = &d->e[conn_id & d->mask];
	return atomic_load_explicit(&e->conn_id, memory_order_acquire) ==
	       conn_id ? e : NULL;
}

void sdir_set_backend(struct sdir_entry *e, uint32_t backend)
{
	atomic_store(&e->backend, backend);
}

bool sdir_release(struct sdir_entry *e, uint32_t backend)
{
	atomic_store(&e->backend, 0);
	if (atomic_load(&e->hold) == 0)
		return true;
	atomic_store(&e->backend, backend);
	return false;
}

bool sdir_hold(struct sdir_entry *e, uint32_t holder, uint32_t *backend)
{
	uint32_t none = 0;

	*backend = 0;
	if (!atomic_compare_exchange_strong(&e->hold, &none, holder))
		return false;
	*backend = atomic_load(&e->backend);
	if (!*backend)
		atomic_store(&e->hold, 0);
	return true;
}

void sdir_unhold(struct sdir_entry *e, uint32_t holder)
{
	uint32_t h = holder;

	atomic_compare_exchange_strong(&e->hold, &h, 0);
}
