/*
 * session_dir.h - the ids pooled sessions are given (auth: proxy), and
 * what other workers may learn of a session by its id: for KILL.
 *
 * A pooled client's connection id (the greeting's, what CONNECTION_ID()
 * returns) is myring's own: the server's ids belong to connections that
 * serve many clients one after another.  KILL n names such an id, and
 * the session it names may live on any worker.  So each worker publishes
 * a small entry per session in a table of its own, indexed by the id's
 * low bits; the worker in the id's top byte owns the entry, writes it,
 * and other workers only read it, or set the two request words (kill,
 * hold).  Nothing here is on the path of a query but one relaxed store
 * when a session takes or gives back a backend connection.
 *
 * Ids: worker << 24 | sequence (24 bits, never 0), skipping sequence
 * values whose entry is taken, so no two live sessions share one and ids
 * are reused only after 16M sessions on a worker.
 */
#ifndef MYRING_SESSION_DIR_H
#define MYRING_SESSION_DIR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#define SDIR_MAX_WORKERS 256

struct sdir_entry {
	_Atomic uint32_t conn_id;  /* 0: free */
	_Atomic uint32_t user;     /* the login's user index + 1, 0 before */
	_Atomic uint32_t backend;  /* server id of the connection it holds,
	                            * 0 when none */
	_Atomic uint32_t kill;     /* KILL CONNECTION asked by another session */
	/* A KILL QUERY for `backend` is on its way to the server: the owner
	 * must not give that connection to anyone else meanwhile.  The
	 * holder's conn_id, 0 when none. */
	_Atomic uint32_t hold;
};

struct session_dir {
	struct sdir_entry *e;
	uint32_t mask;             /* entries - 1 */
	uint32_t seq;              /* last sequence given */
};

/* Room for max_sessions live sessions (twice that, a power of two, so
 * that a free entry is near).  0, or -1 when out of memory. */
int sdir_init(struct session_dir *d, uint32_t max_sessions);
void sdir_free(struct session_dir *d);

/* A new session's id and entry (owner thread).  NULL if none is free
 * (cannot happen below max_sessions). */
struct sdir_entry *sdir_add(struct session_dir *d, unsigned worker,
			    uint32_t *conn_id);
/* The session is gone (owner thread). */
void sdir_remove(struct sdir_entry *e);

/* The worker whose directory has conn_id's entry. */
static inline unsigned sdir_worker_of(uint32_t conn_id)
{
	return conn_id >> 24;
}
/* The entry of a live session id in its worker's directory d (any
 * thread), or NULL. */
struct sdir_entry *sdir_find(struct session_dir *d, uint32_t conn_id);

/*
 * The owner publishes the connection it holds (its server id) when it
 * takes one.  Before it gives it back to the pool it calls
 * sdir_release(), which says whether it may: false while another
 * session's KILL QUERY holds it (the owner keeps it and tries again
 * later).  Both sides use sequentially consistent order, so that either
 * the killer sees 0 (the connection is on its way back: no command of
 * the session runs on it) or the owner sees the hold.
 */
void sdir_set_backend(struct sdir_entry *e, uint32_t backend);
bool sdir_release(struct sdir_entry *e, uint32_t backend);

/* Killer side: holds the target's connection.  The server id to send
 * KILL QUERY for, or 0 if no command runs on one (then nothing is held).
 * false if another KILL QUERY holds it already. */
bool sdir_hold(struct sdir_entry *e, uint32_t holder, uint32_t *backend);
void sdir_unhold(struct sdir_entry *e, uint32_t holder);

#endif
