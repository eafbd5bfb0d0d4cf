/*
 * worker.h - one thread per core: its ring, listener, buffers, sessions.
 *
 * Nothing here is shared between workers on the hot path.  The main thread
 * reads the counters (relaxed loads of monotonic uint64_t) and asks workers
 * to drain through an atomic flag they poll on every tick.
 */
#ifndef MYRING_WORKER_H
#define MYRING_WORKER_H

#include "backend.h"
#include "bufring.h"
#include "cli.h"
#include "histogram.h"
#include "net.h"
#include "pins.h"
#include "pool.h"
#include "session_dir.h"
#include "session_effects.h"
#include "sql_arena.h"
#include "myring/hook.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

struct conn;
struct ctl_req;
typedef struct ssl_ctx_st SSL_CTX;
struct pool;

/* Read-only after start-up; shared by all workers. */
struct proxy {
	struct config cfg;
	struct netaddr listen;
	struct netaddr backend;
	unsigned nworkers;
	struct worker *workers;
	atomic_int drain;            /* 1: drain requested, 2: cut now */
	/* auth: proxy: the server's greeting (what clients are shown) and
	 * the pooled server's shared connection count. */
	struct backend_profile profile;
	/* The servers (every group's, in order) and the groups: one group
	 * "default" of --backend's one server unless groups are configured
	 * (groups.h).  Shared by every worker; written by the checker only. */
	struct backend_server *servers;  /* room for SERVERS_MAX */
	_Atomic unsigned nservers;       /* grows on reload (groups_reload) */
	struct backend_group *groups;
	unsigned ngroups;
	bool configured_groups;      /* from groups: (a reload may change
	                              * them), not from flags */
	struct auth_rsa *rsa;        /* caching_sha2 full auth, or NULL */
	/* The server takes statement id 0xFFFFFFFF as "the last prepared"
	 * (MariaDB): pooled sessions' statements can move between
	 * connections. */
	bool backend_mariadb;
	struct stmt_secret stmt_secret;  /* keys statement hashes */
};

/*
 * Error codes MySQL and MariaDB send to clients lie in 1000-4999 (server
 * errors 1000-1999 and 3000-4999, client-library errors 2000-2999), so
 * the count by code is a table indexed by code: one compare and one add
 * per ERR, no lookup, and at most ERR_CODE_SLOTS series.  Slot 0 counts
 * the codes outside that range.
 */
#define ERR_CODE_FIRST 1000u
#define ERR_CODE_LAST 4999u
#define ERR_CODE_SLOTS (ERR_CODE_LAST - ERR_CODE_FIRST + 2)

struct worker_stats {
	uint64_t accepted;
	uint64_t closed;
	uint64_t backend_connect_failed;
	uint64_t protocol_errors;
	uint64_t rejected;           /* answered with an ERR by a hook */
	uint64_t answered;           /* answered with a fixed reply by a hook */
	uint64_t delayed;
	uint64_t errors;             /* responses that ended in ERR */
	uint64_t rows_sent;
	uint64_t backend_connects;
	struct histogram latency;    /* command -> end of response, us */
	uint64_t latency_sum_us;
	uint64_t bytes_from[2];      /* received, indexed by enum side */
	uint64_t bytes_to[2];        /* sent (completed sends), by enum side */
	/* Event-loop batching: completions / loop_turns is how much work one
	 * io_uring_enter (and one wake-up) carries. */
	uint64_t loop_turns;
	uint64_t completions;
	/* Stalled sends whose bytes were moved out of the receive buffers
	 * because the pool ran low. */
	uint64_t send_evictions;
	/* TLS handshakes completed and failed, both legs. */
	uint64_t tls_handshakes;
	uint64_t tls_failures;
	uint64_t commands[256];
	/* ERR packets queued for clients, by error code (stats_count_err). */
	uint64_t errs_by_code[ERR_CODE_SLOTS];
	/* auth: proxy: the pools' counts, and sessions pinned by reason
	 * (every time a session gains the reason). */
	struct pool_stats pool;
	uint64_t pins[PIN_NREASONS];
	/* Causal reads: waits sent to replicas, and those that timed out
	 * (the read went to the primary). */
	uint64_t causal_waits;
	uint64_t causal_fallbacks;
	uint64_t splices;            /* packet bodies moved by splice */
	uint64_t spliced_bytes;
	/* Keyspace statements by plan (session_shard.c). */
	uint64_t shard_single;       /* sent to one shard as written */
	uint64_t shard_fanouts;      /* run on several shards, merged */
	uint64_t shard_fanout_parts; /* the shards those ran on */
	uint64_t shard_refused;      /* refused: no exact answer */
	/* Transactions over several shards (session_xa.c). */
	uint64_t xa_transactions;    /* that gained a second shard */
	uint64_t xa_committed;
	uint64_t xa_rolled_back;     /* by ROLLBACK, a failure or a deadlock */
	uint64_t xa_unknown;         /* outcome left to recovery */
	uint64_t xa_doomed;          /* ended by an error inside them */
	uint64_t xa_recovered;       /* branches recovery committed or
	                              * rolled back (xa_recover.c) */
	/* Time the commits spent in each step (session_xa.c), so that a
	 * benchmark can say what each phase of two-phase commit costs. */
	uint64_t xa_prepare_us;      /* XA END + XA PREPARE on the branches */
	uint64_t xa_record_us;       /* the decision record's INSERT */
	uint64_t xa_decide_us;       /* the decision shard's COMMIT */
	uint64_t xa_finish_us;       /* XA COMMIT on the branches */
	/* The keyspace's sequences (shard_seq.c). */
	uint64_t shard_seq_keys;     /* keys handed out */
	uint64_t shard_seq_blocks;   /* blocks fetched */
	uint64_t shard_seq_errors;   /* fetches that failed */
};

static inline unsigned err_code_slot(uint16_t code)
{
	return code >= ERR_CODE_FIRST && code <= ERR_CODE_LAST ?
	       code - ERR_CODE_FIRST + 1 : 0;
}

static inline void stats_count_err(struct worker_stats *st, uint16_t code)
{
	st->errs_by_code[err_code_slot(code)]++;
}

/* The worker's table of connections: user_data names a slot and its
 * generation, so a completion finds its conn, and one that outlived it
 * would be recognised (the generation moves on when the slot is freed). */
struct slot {
	struct conn *c;
	uint32_t next_free;
	uint16_t gen;
};

struct conn_ref {
	uint32_t slot;
	uint16_t gen;
};

/* Conns to visit at the end of the current loop turn: to send what they
 * queued (several receives batched into one send), or to free. */
struct conn_refs {
	struct conn_ref *v;
	uint32_t n, cap;
};

/* Empty pipes kept for splice pumps (splice.h). */
#define WORKER_SPARE_PIPES 4

struct worker {
	unsigned id;
	int cpu;                     /* -1: not pinned */
	struct proxy *px;
	pthread_t thread;
	struct io_uring ring;
	struct bufring bufs;
	int listen_fd;               /* bound by main.c; the worker closes it */
	bool accept_armed;
	bool draining;
	bool idle_swept;             /* the drain closed its idle sessions */
	uint64_t drain_deadline_us;
	uint64_t now_us;             /* CLOCK_MONOTONIC at this loop turn */
	struct {
		int rd, wr;
		uint32_t cap;
	} pipes[WORKER_SPARE_PIPES];
	unsigned npipes;
	struct slot *slots;
	uint32_t nslots;
	uint32_t free_slot;          /* head of the free list, UINT32_MAX if none */
	uint32_t nfixed;             /* entries of the registered file table:
	                              * slots below it use it (fixed_files.h) */
	uint32_t nsessions;          /* client sessions, for --max-conns */
	uint64_t next_session_id;
	struct conn *buf_waiters;    /* conns waiting for receive buffers */
	struct conn *xbuf_waiters;   /* waiting for buffers of its own (xprt) */
	struct conn_refs dirty;
	struct conn_refs settle;
	uint32_t nconns;             /* conns with a slot (clients, backends) */
	struct pool **pools;         /* auth: proxy: one per login and caps */
	struct session_dir dir;      /* auth: proxy: its sessions' ids */
	struct effects_scratch effects; /* classifying pooled commands */
	/* Planning a keyspace session's statements: reset per statement;
	 * a plan over several shards takes it with it (session_shard.c). */
	struct sql_arena plan_arena;
	/* The keyspace's sequences: this worker's blocks (shard_seq.h),
	 * made on first use. */
	struct shard_seqs *seqs;
	/* The keyspace's lookup tables exist (this worker made sure once,
	 * shard_plan_lookup.c). */
	bool lookups_ready;
	unsigned route_rr;           /* where reads start looking (rotates) */
	uint64_t *routed;            /* commands sent, per server (auth: proxy;
	                              * read by the control thread) */
	unsigned npools;
	struct __kernel_timespec tick_ts;
	/* The backend connect timeout, for linked timeouts (conn_connect). */
	struct __kernel_timespec connect_ts;
	void *hook_state[MYRING_MAX_HOOKS];
	char *digest_buf;            /* fingerprint scratch (hooks_want_digest) */
	size_t digest_cap;
	/* TLS contexts in force on this worker (tls.h) and the generation
	 * they come from, which the reload thread reads. */
	SSL_CTX *tls_srv, *tls_cli;
	/* The generation itself, for each server's context: no reference
	 * needed, it is freed only once every worker has a newer one. */
	const struct tls_pair *tls_pair;
	atomic_uint_fast64_t tls_gen;
	/* zlib's deflate state for the frames this worker compresses. */
	void *zdef;
	int zdef_level;
	/* A request from the control thread (ctl.c), or NULL. */
	_Atomic(struct ctl_req *) ctl;
	struct worker_stats stats;
	/* Gauges another thread reads (relaxed): the pools' connections by
	 * state (published each tick), and the sessions pinned now, by
	 * reason (kept as pins come and go). */
	struct pool_gauges pool_now;
	uint64_t pinned_now[PIN_NREASONS];
	bool backend_down;           /* the last backend connect failed */
	int start_error;             /* set before the thread signals start-up */
	char start_msg[512];
};

/* Spawns the thread and waits for its set-up; w->listen_fd must be bound. */
int worker_start(struct worker *w);

/* A counter a worker writes, read from another thread: one relaxed load
 * of an aligned 64-bit word that only grows. */
static inline uint64_t stat_peek(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}
/* The worker_stats field at offset, summed over all workers. */
uint64_t stats_sum(const struct proxy *px, size_t offset);
#define STATS_SUM(px, field) stats_sum(px, offsetof(struct worker_stats, field))
void worker_join(struct worker *w);

/* What the worker offers to the conns it runs (conn.c). */
int32_t worker_take_slot(struct worker *w, struct conn *c);
void worker_free_slot(struct worker *w, uint32_t slot);
void worker_mark_dirty(struct worker *w, struct conn *c);
void worker_defer_settle(struct worker *w, struct conn *c);
void worker_wait_buffers(struct worker *w, struct conn *c);
void worker_unwait_buffers(struct worker *w, struct conn *c);
void worker_wait_xbuffers(struct worker *w, struct conn *c);
void worker_unwait_xbuffers(struct worker *w, struct conn *c);

/* Hooks registered before start-up (hooks.c). */
extern const struct myring_hook *hooks[MYRING_MAX_HOOKS];
extern unsigned nhooks;
extern bool hooks_want_text;
extern bool hooks_want_result;
extern bool hooks_want_digest;

#endif
