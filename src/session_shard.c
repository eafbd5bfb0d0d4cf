/*
 * session_shard.c - plans a keyspace session's queries and runs the ones
 * that span shards (session_shard.h).
 *
 * A fanout's life:
 *
 *   planned ──(head of the queue)──> borrowing: one waiter per shard
 *      │                                │ each connection, as it comes:
 *      │                                v state replay + the shard's text
 *      │                             reading: every packet to part_packet
 *      │                                │  header: the first complete one
 *      │                                │  makes the merge; rows merged and
 *      │                                │  streamed to the client; OKs summed
 *      │                                v
 *      └─ session gone: orphaned ──> each part's response read to its end,
 *                                    its connection returned; the last one
 *                                    frees the fanout
 *
 * The answer goes out as the merge emits it, so the client's queue is
 * the only buffer besides what the merge holds within its budget.  An
 * error from any shard ends the answer with that ERR (between packets the
 * protocol allows one in place of a row); the other shards' answers are
 * then read and dropped, never cut, so their connections stay usable.
 */
#include "session.h"
#include "session_shard.h"
#include "session_xa.h"

#include "log.h"
#include "merge.h"
#include "mysql_proto.h"
#include "mysql_srv.h"
#include "shard_plan.h"
#include "shard_seq.h"
#include "stmt_bind.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

enum part_phase {
	PART_WAITING,      /* for a connection from the shard's pool */
	PART_COUNT,        /* the response's first packet is due */
	PART_COLS,         /* column definitions */
	PART_COLS_EOF,     /* the EOF after them (no CLIENT_DEPRECATE_EOF) */
	PART_ROWS,
	PART_ENDED,        /* the response has ended */
	PART_RETURNED,     /* and its connection is back in the pool */
};

struct fanout;

struct fanout_part {
	struct fanout *f;
	unsigned idx;
	unsigned shard;
	const char *sql;
	size_t len;
	unsigned server;
	struct pool *pool;
	struct pool_waiter wait;
	struct bconn *b;
	uint8_t phase;
	bool paused;               /* its receive waits (pace()) */
	uint64_t ncols, ncols_seen;
	/* Its column definitions (packets), kept until its header is
	 * whole: the first whole header makes the merge. */
	uint8_t *defs;
	size_t defs_len;
	struct mysql_ok ok;
	char info[64];
	struct xa_lease lease;     /* inside a transaction: whose b is */
	bool txn;                  /* it runs on the transaction's b */
};

/* The rows a step of a statement read (shard_plan.h, plan_found), kept
 * across its plannings: the cells' bytes one after another. */
struct found {
	char *data;
	size_t len, cap;
	size_t *off, *lens;        /* per cell; lens FOUND_NULL: NULL */
	unsigned ncols, ncells, cap_cells;
	bool set;                  /* a step read them */
};

#define FOUND_NULL ((size_t)-1)
/* What a step may read: a lookup's keys or the rows a write changes are
 * held whole until the next planning. */
#define FOUND_MAX (16u << 20)

/* Rows go to the client's queue in chunks of about this size. */
#define FANOUT_CHUNK (64u << 10)
/* The shards stop being read while the client has more than this to
 * read, until it is down to half: a slow client holds the shards back
 * instead of growing its queue. */
#define FANOUT_CLIENT_HIGH (1u << 20)

struct fanout {
	struct session *s;         /* NULL once answered or orphaned */
	struct pending *p;         /* its entry (valid while s is) */
	const struct keyspace *ks;
	uint32_t serial;
	uint8_t zseq;
	bool flight;               /* the compressed flight is announced */
	struct sql_arena arena;
	struct shard_plan plan;
	struct merge *m;
	struct pkt_buf out;        /* the answer, sent as it grows */
	uint64_t caps;             /* the client's */
	bool binary;               /* an execution: rows in the binary
				    * protocol (the shards send text) */
	bool started, answered;
	/* A write's first shard error, answered once every shard ended. */
	uint16_t held_code;
	char held_state[6];
	char held_msg[400];
	/* Inside a distributed transaction (in_txn), or a write in
	 * autocommit made one of its own (implicit): each part runs on the
	 * transaction's connection for its shard (session_xa.h). */
	bool in_txn, implicit;
	/* The statement begins the session's transaction (BEGIN waits for
	 * it, or autocommit is off): implicit's transaction, which stays
	 * open as the session's once the statement ends well. */
	bool begins;
	bool failed;               /* the answer is an error */
	struct xa_txn *txn;
	bool client_paused;        /* the shards wait for the client */
	unsigned ended;            /* parts whose answer ended */
	/* Parts still holding a connection or a place in a pool's line, and
	 * one for whoever is walking the parts: the last to go frees. */
	unsigned refs;
	uint64_t rows;
	unsigned npaused;
	/* The column definitions of the merge: the bytes, and the parsed
	 * definitions pointing into them. */
	uint8_t *defs;
	struct rs_coldef *cols;
	unsigned ncols;
	unsigned nparts;
	struct fanout_part *parts;
	/* An INSERT waiting for keys of a sequence (shard_seq.h): planned
	 * again with them once they are there and the fanout has started,
	 * then run on the shards they name, as any fanout. */
	bool want_keys, keys_done;
	struct seq_wait wait;
	unsigned seq;
	uint16_t keys_err;
	char keys_msg[200];
	char *sql;                 /* the client's text, to plan again */
	size_t sql_len;
	/* An execution's: its values (stmt_bind.h), in bind_arena when
	 * bind_own (an INSERT waiting for keys), else in arena. */
	const struct sql_bind *bind;
	unsigned nbind;
	struct sql_arena bind_arena;
	bool bind_own;
	/* An execution's statement, and its FLOAT columns asked for as
	 * doubles (floats_exact: stmt_client.float_cols, definitions
	 * copied), to be sent as the exact FLOATs. */
	uint32_t stmt_id;
	bool floats_exact;
	uint64_t float_cols;
	unsigned float_ncols;
	uint8_t *float_defs;
	size_t float_defs_len;
	struct worker *w;
	/* A statement in steps (a lookup's: plan.more): planned again from
	 * sql once each step's parts are back.  The step holds one ref of
	 * its own (staged) so that the fanout outlives its parts. */
	bool staged, step_ok;
	uint64_t insert_id;        /* the first step's sequence keys' */
	struct found keys, found_rows;
};

/* ---- planning --------------------------------------------------------- */

static const struct keyspace *keyspace_of(const struct session *s)
{
	return s->c.w->px->cfg.keyspace;
}

/* The shard whose group holds server, or -1. */
static int shard_of_server(const struct session *s, unsigned server)
{
	const struct keyspace *ks = keyspace_of(s);
	const struct proxy *px = s->c.w->px;

	for (unsigned i = 0; i < ks->nshards; i++) {
		const struct backend_group *g;
		unsigned n;

		if (ks->shards[i].group_index < 0)
			continue;
		g = &px->groups[ks->shards[i].group_index];
		n = atomic_load_explicit(&g->nservers, memory_order_acquire);
		for (unsigned j = 0; j < n; j++)
			if (g->servers[j] == server)
				return (int)i;
	}
	return -1;
}

static enum myring_verdict refuse(struct myring_reply *reply, uint16_t code,
				  const char *sqlstate, const char *msg)
{
	reply->err_code = code;
	snprintf(reply->sqlstate, sizeof(reply->sqlstate), "%s", sqlstate);
	snprintf(reply->message, sizeof(reply->message), "%.*s",
		 (int)sizeof(reply->message) - 1, msg);
	return MYRING_REJECT;
}

/* A keyspace statement refused: counted (shard_refused) and answered. */
static enum myring_verdict shard_refuse(struct session *s,
					struct myring_reply *reply,
					uint16_t code, const char *msg)
{
	s->c.w->stats.shard_refused++;
	return refuse(reply, code, "42000", msg);
}

/* The planner's refusal, with its own code and SQLSTATE. */
static enum myring_verdict refuse_plan(struct session *s,
				       const struct shard_plan *plan,
				       struct myring_reply *reply)
{
	s->c.w->stats.shard_refused++;
	return refuse(reply, plan->err_code, plan->sqlstate[0] ?
		      plan->sqlstate : "HY000", plan->err);
}

static enum myring_verdict answer_rows(struct session *s,
				       const struct shard_plan *plan,
				       struct myring_reply *reply)
{
	struct pkt_buf pb;
	size_t *lens = calloc(plan->ncols ? plan->ncols : 1, sizeof(*lens));

	if (!lens)
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	pkt_buf_init(&pb);
	pb.seq = 1;
	srv_resultset_begin(&pb, plan->ncols);
	for (unsigned c = 0; c < plan->ncols; c++)
		srv_column(&pb, plan->cols[c], SRV_COL_TEXT, s->caps);
	srv_columns_end(&pb, s->caps);
	for (unsigned r = 0; r < plan->nrows; r++) {
		const char *const *row = plan->cells + (size_t)r * plan->ncols;
		for (unsigned c = 0; c < plan->ncols; c++)
			lens[c] = row[c] ? strlen(row[c]) : 0;
		srv_row(&pb, row, lens, plan->ncols);
	}
	srv_resultset_end(&pb, s->caps, SERVER_STATUS_AUTOCOMMIT);
	free(lens);
	if (pb.oom) {
		pkt_buf_free(&pb);
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	}
	reply->answer = pb.data;
	reply->answer_len = pb.len;
	return MYRING_ANSWER;
}

/* The shard the session's connection is on, or the one it is waiting
 * for (a command before this one is on its way there), or -1. */
static int held_shard(const struct session *s)
{
	if (!s->be && !(s->hold & HOLD_BORROW))
		return -1;
	return shard_of_server(s, s->pool_key.server);
}

static const char *held_why(const struct session *s)
{
	return s->in_trans ? "an open transaction" :
	       s->pins ? "a pinned session (temporary table, lock, ...)" :
	       "a statement still running there (pipelined)";
}

static enum myring_verdict answer_ok(struct myring_reply *reply,
				     uint16_t status)
{
	session_reply_ok(reply, status);
	if (!reply->answer)
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	return MYRING_ANSWER;
}

/*
 * BEGIN, COMMIT and ROLLBACK of a transaction that has not reached a
 * shard yet: the BEGIN waits (shard_begin) and goes ahead of the first
 * statement, on the shard that statement picks; a COMMIT or ROLLBACK
 * before any statement ends nothing on any server.  -1: not such a
 * statement.
 */
static int lazy_transaction(struct session *s, const struct sql_class *cls,
			    const char *sql, size_t len,
			    struct myring_reply *reply,
			    enum myring_verdict *verdict)
{
	if (s->be || cls->nstmts != 1)
		return -1;
	if ((cls->flags & SQLC_TXN_BEGIN) && !(cls->flags & SQLC_TXN_END)) {
		char *text = malloc(len + 1);
		if (!text) {
			*verdict = refuse(reply, 1105, "HY000",
					  "myring: out of memory");
			return 0;
		}
		memcpy(text, sql, len);
		text[len] = '\0';
		free(s->shard_begin);
		s->shard_begin = text;
		s->in_trans = true;
		*verdict = answer_ok(reply, SERVER_STATUS_AUTOCOMMIT |
					    SERVER_STATUS_IN_TRANS);
		return 0;
	}
	if ((cls->flags & SQLC_TXN_END) && !(cls->flags & SQLC_TXN_BEGIN) &&
	    !(cls->flags & SQLC_RELEASE)) {
		free(s->shard_begin);
		s->shard_begin = NULL;
		s->in_trans = false;
		*verdict = answer_ok(reply, SERVER_STATUS_AUTOCOMMIT);
		return 0;
	}
	return -1;
}

int shard_begin_request(struct session *s, struct bconn *b)
{
	size_t n = strlen(s->shard_begin);
	uint8_t *q = malloc(1 + n);
	int rc;

	if (!q)
		return -1;
	q[0] = COM_QUERY;
	memcpy(q + 1, s->shard_begin, n);
	rc = bconn_request(b, q, 1 + n, RESP_RESULT);
	free(q);
	free(s->shard_begin);
	s->shard_begin = NULL;
	return rc;
}

/* Schema changes go to every shard, the same text (not atomic: a shard
 * that refuses it is named in the error the client gets). */
static bool broadcast_ddl(struct session *s, const struct sql_class *cls,
			  struct sql_arena *a, struct shard_plan *plan,
			  const char *sql, size_t len)
{
	const struct keyspace *ks = keyspace_of(s);
	const char *text;

	if (!(cls->flags & SQLC_DDL) || (cls->flags & SQLC_TEMP_TABLE_CREATE) ||
	    cls->nstmts != 1 || !s->st.has_schema ||
	    strcasecmp(s->st.schema, ks->schema))
		return false;
	text = sql_arena_dup(a, sql, len);
	if (!text)
		return false;
	memset(plan, 0, sizeof(*plan));
	plan->kind = PLAN_MULTI;
	plan->result = PLAN_RESULT_OK;
	plan->writes = true;
	plan->nparts = ks->nshards;
	for (unsigned i = 0; i < ks->nshards; i++)
		plan->parts[i] = (struct plan_part){i, text, len};
	return true;
}

/* The client's character set as string keys need it: UTF-8 (hashed as
 * it is) or latin1 (converted to UTF-8 first); one lookup of the
 * session's character_set_client per statement. */
static void client_charset(const struct session *s, struct plan_ctx *ctx)
{
	const struct mysql_state_var *v =
		mysql_state_get_var(&s->st, "character_set_client");

	if (!v || !v->value)
		return;
	ctx->utf8 = !strncasecmp(v->value, "utf8mb4", 7) ||
		    !strncasecmp(v->value, "utf8mb3", 7) ||
		    !strcasecmp(v->value, "utf8");
	ctx->latin1 = !strcasecmp(v->value, "latin1");
}

/* The sql_mode flags that change how a statement reads. */
static uint32_t plan_mode(const struct session *s)
{
	static const struct {
		const char *word;
		uint32_t flag;
	} words[] = {
		{"ANSI_QUOTES", PLAN_MODE_ANSI_QUOTES},
		{"NO_BACKSLASH_ESCAPES", PLAN_MODE_NO_BACKSLASH_ESCAPES},
		{"PIPES_AS_CONCAT", PLAN_MODE_PIPES_AS_CONCAT},
		{"HIGH_NOT_PRECEDENCE", PLAN_MODE_HIGH_NOT_PRECEDENCE},
		{"NO_AUTO_VALUE_ON_ZERO", PLAN_MODE_NO_AUTO_VALUE_ON_ZERO},
		{"ANSI", PLAN_MODE_ANSI_QUOTES | PLAN_MODE_PIPES_AS_CONCAT},
	};
	const struct mysql_state_var *v = mysql_state_get_var(&s->st,
							      "sql_mode");
	uint32_t flags = 0;

	if (!v || !v->value)
		return 0;
	for (size_t k = 0; k < sizeof(words) / sizeof(words[0]); k++)
		if (sql_list_has(v->value, v->value_len, words[k].word))
			flags |= words[k].flag;
	return flags;
}

/* A plan for one shard: the command goes to its group, unless the
 * session is held on another shard. */
static enum myring_verdict route_one(struct session *s, struct pending *p,
				     const struct shard_plan *plan,
				     struct myring_reply *reply,
				     enum myring_verdict verdict)
{
	const struct keyspace *ks = keyspace_of(s);
	unsigned shard = plan->parts[0].shard;
	int held = held_shard(s);
	char msg[300];

	if ((s->be || (s->hold & HOLD_BORROW)) && held != (int)shard) {
		/* A transaction's second shard joins it (session_xa.h). */
		if (s->in_trans && held >= 0)
			return session_xa_route(s, p, shard, plan->parts[0].sql,
						plan->parts[0].len, held, reply,
						verdict);
		snprintf(msg, sizeof(msg), "myring: this session's connection "
			 "is on shard %s (%s); a statement for shard %s needs "
			 "another one, which only a transaction can have "
			 "(docs/transactions.md)", held >= 0 ?
			 ks->shards[held].name : "?", held_why(s),
			 ks->shards[shard].name);
		return shard_refuse(s, reply, 1235, msg);
	}
	/* The group's name lives as long as the keyspace. */
	p->route = ks->shards[shard].group;
	s->c.w->stats.shard_single++;
	return verdict;
}

/* Whether a write is committed as it ends (autocommit on, as is usual). */
static bool autocommit_on(const struct session *s)
{
	const struct mysql_state_var *v = mysql_state_get_var(&s->st,
							      "autocommit");

	return !v || !v->value || !strcasecmp(v->value, "ON") ||
	       !strcmp(v->value, "1");
}

/* The worker's plan arena, emptied for the next statement. */
static struct sql_arena *plan_arena(struct session *s)
{
	struct sql_arena *a = &s->c.w->plan_arena;

	if (!a->limit)
		sql_arena_init(a, 0);
	sql_arena_reset(a);
	return a;
}

/* Sequence keys for a text INSERT: from the worker's blocks if it holds
 * them (shard_seq.h), else the plan says PLAN_KEYS. */
static int take_keys(void *arg, unsigned seq, unsigned n, int64_t *keys)
{
	return shard_seq_take(arg, seq, n, keys);
}

/* The keys a waiting INSERT got, for its second planning. */
struct given_keys {
	const int64_t *keys;
	unsigned n;
};

static int given_keys(void *arg, unsigned seq, unsigned n, int64_t *keys)
{
	const struct given_keys *g = arg;

	(void)seq;
	if (n != g->n)
		return -1;
	memcpy(keys, g->keys, n * sizeof(*keys));
	return 0;
}

/* A prepare takes no keys (its executions do): its INSERT is PLAN_KEYS. */
static const struct given_keys no_keys;

/* What a step read, as the planner reads it (in the arena), or NULL. */
static const struct plan_found *found_view(struct sql_arena *a,
					   const struct found *fd)
{
	struct plan_found *v;
	const char **cells;
	size_t *lens;

	if (!fd->set)
		return NULL;
	v = sql_arena_alloc(a, sizeof(*v));
	cells = sql_arena_alloc(a, (fd->ncells + 1) * sizeof(*cells));
	lens = sql_arena_alloc(a, (fd->ncells + 1) * sizeof(*lens));
	if (!v || !cells || !lens)
		return NULL;
	for (unsigned i = 0; i < fd->ncells; i++) {
		cells[i] = fd->lens[i] == FOUND_NULL ? NULL :
			   fd->data + fd->off[i];
		lens[i] = fd->lens[i] == FOUND_NULL ? 0 : fd->lens[i];
	}
	v->ncols = fd->ncols ? fd->ncols : 1;
	v->nrows = fd->ncols ? fd->ncells / fd->ncols : 0;
	v->cells = cells;
	v->lens = lens;
	return v;
}

/* Plans sql for the session into *plan, in the worker's arena as it is
 * (valid until the next statement is planned); params, bind: an
 * execution's values (shard_plan.h); keys: where an INSERT's sequence
 * keys come from (NULL: from the worker's blocks, but none for an
 * execution planned by params: that one is planned again with bind);
 * steps: a statement in steps, planned for its next step with what
 * the earlier ones read (NULL: its first planning). */
static void plan_in_arena_keyed(struct session *s, const char *sql,
				size_t len, const struct plan_param *params,
				unsigned nparams, const struct sql_bind *bind,
				unsigned nbind, const struct given_keys *keys,
				const struct stmt_client *sc,
				const struct fanout *steps,
				struct shard_plan *plan)
{
	struct sql_reading rd;
	struct plan_ctx ctx = {
		.ks = keyspace_of(s),
		.schema = s->st.has_schema ? s->st.schema : "",
		.schema_len = s->st.has_schema ? strlen(s->st.schema) : 0,
		.sql_mode = plan_mode(s),
		.rd = &rd,
		.in_trans = s->in_trans,
		.trans_shard = s->in_trans ? held_shard(s) : -1,
		.params = params,
		.nparams = nparams,
		.bind = bind,
		.nbind = nbind,
		.one_as_text = bind && s->in_trans,
		.take_keys = params || keys == &no_keys ? NULL :
			     keys ? given_keys : take_keys,
		.keys_arg = keys ? (void *)keys : (void *)s,
		.float_cols = sc ? sc->float_cols : 0,
		.float_ncols = sc ? sc->float_ncols : 0,
		.lookups_ready = s->c.w->lookups_ready,
	};

	if (steps) {
		ctx.step = steps->plan.step + 1;
		ctx.keys_found = found_view(&s->c.w->plan_arena, &steps->keys);
		ctx.rows_found = found_view(&s->c.w->plan_arena, &steps->found_rows);
	}
	client_charset(s, &ctx);
	effects_reading(s, &rd);
	shard_plan(&s->c.w->plan_arena, &ctx, sql, len, plan);
}

static void plan_in_arena(struct session *s, const char *sql, size_t len,
			  const struct plan_param *params, unsigned nparams,
			  const struct sql_bind *bind, unsigned nbind,
			  struct shard_plan *plan)
{
	plan_in_arena_keyed(s, sql, len, params, nparams, bind, nbind, NULL,
			    NULL, NULL, plan);
}

/* A one-shard INSERT given sequence keys: its rewritten text goes to
 * the shard in place of the client's. */
static enum myring_verdict route_rewritten(struct session *s,
					   struct pending *p,
					   const struct shard_plan *plan,
					   struct myring_reply *reply,
					   enum myring_verdict verdict)
{
	char *text;

	verdict = route_one(s, p, plan, reply, verdict);
	/* A transaction's other shard takes the text as its branch's
	 * (session_xa.h); otherwise the command goes with it. */
	if (verdict == MYRING_REJECT || verdict == MYRING_ANSWER ||
	    p->fanout || p->xa)
		return verdict;
	text = malloc(plan->parts[0].len ? plan->parts[0].len : 1);
	if (!text)
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	memcpy(text, plan->parts[0].sql, plan->parts[0].len);
	free(reply->rewrite);
	reply->rewrite = text;
	reply->rewrite_len = plan->parts[0].len;
	return MYRING_REWRITE;
}

static void keys_arrived(struct seq_wait *wt, uint16_t err, const char *msg);

/*
 * An INSERT whose sequence keys the worker does not hold yet: a fanout
 * without parts that waits for them (shard_seq_wait), then is planned
 * again with them (keyed_run).  A session that holds a connection cannot
 * wait (its INSERT must go there): refused, the block fetched for the
 * next try.
 */
static enum myring_verdict fanout_for_keys(struct session *s,
					   struct pending *p,
					   const struct shard_plan *plan,
					   const char *sql, size_t len,
					   const struct sql_bind *bind,
					   unsigned nbind,
					   struct myring_reply *reply,
					   enum myring_verdict verdict)
{
	const struct keyspace *ks = keyspace_of(s);
	struct fanout *f;
	char msg[300];

	if (s->be || (s->hold & HOLD_BORROW) || s->in_trans) {
		shard_seq_prefetch(s, plan->need_seq);
		snprintf(msg, sizeof(msg), "myring: sequence %s has no keys at "
			 "hand on this worker (its next block is being "
			 "fetched); with %s the INSERT cannot wait for them: "
			 "try again", ks->sequences[plan->need_seq].name,
			 s->in_trans || s->be ? held_why(s) : "a statement "
			 "still running (pipelined)");
		return shard_refuse(s, reply, 1235, msg);
	}
	f = calloc(1, sizeof(*f));
	if (f) {
		f->wait.keys = malloc(plan->need_keys * sizeof(*f->wait.keys));
		f->sql = malloc(len ? len : 1);
	}
	if (!f || !f->wait.keys || !f->sql) {
		if (f) {
			free(f->wait.keys);
			free(f->sql);
		}
		free(f);
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	}
	memcpy(f->sql, sql, len);
	f->sql_len = len;
	f->want_keys = true;
	f->seq = plan->need_seq;
	f->wait.n = plan->need_keys;
	f->wait.s = s;
	f->wait.cont = keys_arrived;
	f->plan = *plan;
	sql_arena_init(&f->arena, 0);
	if (bind) {
		/* An execution's values live in the worker's arena: they
		 * go with the fanout, to plan it again. */
		f->bind = bind;
		f->nbind = nbind;
		f->bind_own = true;
		f->bind_arena = s->c.w->plan_arena;
		sql_arena_init(&s->c.w->plan_arena, 0);
	}
	f->s = s;
	f->w = s->c.w;
	f->p = p;
	f->ks = ks;
	f->serial = p->serial;
	f->caps = s->caps;
	pkt_buf_init(&f->out);
	p->fanout = f;
	p->local = true;
	p->route_why = "sequence";
	s->fanouts++;
	session_hold(s, HOLD_FANOUT);
	shard_seq_wait(s, f->seq, &f->wait);
	return verdict;
}

static void fanout_free(struct fanout *f);

/* A plan with more steps (a lookup's, shard_plan_lookup.c): the fanout
 * keeps the statement's text to plan again and holds a ref of its own
 * between steps.  0, or -1 when out of memory. */
static int steps_begin(struct fanout *f, const struct shard_plan *plan)
{
	if (!plan->more)
		return 0;
	free(f->sql);
	f->sql = malloc(plan->replan_len ? plan->replan_len : 1);
	if (!f->sql)
		return -1;
	memcpy(f->sql, plan->replan, plan->replan_len);
	f->sql_len = plan->replan_len;
	f->staged = true;
	f->refs++;
	f->insert_id = plan->insert_id;
	return 0;
}

/*
 * A PLAN_MULTI of p: a fanout that myring answers once p is at the head
 * of the queue (p->fanout; the plan and the worker's plan arena go with
 * it).  binary: the client gets the rows in the binary protocol (an
 * execution).  The verdict, or a refusal.
 */
static enum myring_verdict fanout_new(struct session *s, struct pending *p,
				      const struct shard_plan *plan,
				      bool binary, bool ddl,
				      struct myring_reply *reply,
				      enum myring_verdict verdict)
{
	struct sql_arena *a = &s->c.w->plan_arena;
	/* A transaction with no shard yet begins with it: on its first
	 * part's shard, the others joining as branches (session_xa.h). */
	bool begins = !ddl && !s->be && !(s->hold & HOLD_BORROW) &&
		      (s->in_trans || !autocommit_on(s));
	struct fanout *f;
	char msg[300];

	if (s->in_trans && !ddl && held_shard(s) >= 0) {
		/* It runs on the transaction's branches (session_xa.h). */
		if (session_xa_fanout(s, (unsigned)held_shard(s)))
			return refuse(reply, 1105, "HY000",
				      "myring: out of memory");
	} else if (!begins &&
		   (s->be || (s->hold & HOLD_BORROW) || s->in_trans)) {
		snprintf(msg, sizeof(msg), "myring: a statement that spans "
			 "shards, with %s, is not supported yet (inside a "
			 "transaction it runs once the transaction is on a "
			 "shard, as text, and is no schema change: "
			 "docs/transactions.md)", s->in_trans || s->be ?
			 held_why(s) : "a statement still running "
			 "(pipelined)");
		return shard_refuse(s, reply, 1235, msg);
	}
	f = calloc(1, sizeof(*f));
	if (f)
		f->parts = calloc(plan->nparts, sizeof(*f->parts));
	if (!f || !f->parts) {
		free(f);
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	}
	/* The plan and its arena go with the fanout; the worker starts a
	 * new arena. */
	f->plan = *plan;
	f->arena = *a;
	sql_arena_init(a, 0);
	f->nparts = f->plan.nparts;
	f->s = s;
	f->p = p;
	f->ks = keyspace_of(s);
	f->serial = p->serial;
	f->caps = s->caps;
	f->binary = binary;
	f->in_txn = s->in_trans && !begins;
	f->begins = begins;
	/* A write in steps (its lookup rows and its rows) is atomic too. */
	f->implicit = begins || (!s->in_trans && plan->writes && !ddl &&
				 autocommit_on(s) &&
				 (plan->more || (plan->nparts > 1 &&
						 plan->result == PLAN_RESULT_OK)));
	pkt_buf_init(&f->out);
	if (steps_begin(f, &f->plan)) {
		p->fanout = NULL;
		fanout_free(f);
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	}
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];
		pt->f = f;
		pt->idx = i;
		pt->shard = f->plan.parts[i].shard;
		pt->sql = f->plan.parts[i].sql;
		pt->len = f->plan.parts[i].len;
	}
	s->c.w->stats.shard_fanouts++;
	s->c.w->stats.shard_fanout_parts += f->nparts;
	p->fanout = f;
	p->local = true;
	p->local_result_set = f->plan.more ? f->plan.select :
			      f->plan.result == PLAN_RESULT_ROWS;
	p->route_why = "shards";
	/* What the client pipelines behind it waits for its end. */
	s->fanouts++;
	session_hold(s, HOLD_FANOUT);
	return verdict;
}

/*
 * A fanout of an execution with rows: what its FLOAT columns need
 * (header_complete): the statement, the values (in the fanout's arena),
 * and the FLOAT columns the statement is known to have, whose select
 * items the plan asked for as doubles.
 */
static void execution_fanout(struct fanout *f, const struct stmt_client *sc,
			     const struct sql_bind *bind, unsigned nbind)
{
	f->stmt_id = sc->id;
	f->bind = bind;
	f->nbind = nbind;
	if (!sc->float_cols)
		return;
	f->floats_exact = true;
	f->float_cols = sc->float_cols;
	f->float_ncols = sc->float_ncols;
	f->float_defs = malloc(sc->float_defs_len ? sc->float_defs_len : 1);
	if (!f->float_defs)
		return;        /* header_complete says out of memory */
	memcpy(f->float_defs, sc->float_defs, sc->float_defs_len);
	f->float_defs_len = sc->float_defs_len;
}

enum myring_verdict shard_query(struct session *s, struct pending *p,
				const struct sql_class *cls,
				const char *sql, size_t len,
				struct myring_reply *reply,
				enum myring_verdict verdict)
{
	struct sql_arena *a;
	struct shard_plan plan;

	if (session_xa_statement(s, p, cls, sql, len, reply, &verdict) == 0 ||
	    lazy_transaction(s, cls, sql, len, reply, &verdict) == 0)
		return verdict;
	a = plan_arena(s);
	if (!broadcast_ddl(s, cls, a, &plan, sql, len))
		plan_in_arena(s, sql, len, NULL, 0, NULL, 0, &plan);
	switch (plan.kind) {
	case PLAN_PASS:
		break;
	case PLAN_ERROR:
		verdict = refuse_plan(s, &plan, reply);
		break;
	case PLAN_ANSWER:
		verdict = answer_rows(s, &plan, reply);
		break;
	case PLAN_ONE:
		if (plan.rewritten)
			verdict = route_rewritten(s, p, &plan, reply, verdict);
		else
			verdict = route_one(s, p, &plan, reply, verdict);
		break;
	case PLAN_MULTI:
		return fanout_new(s, p, &plan, false,
				  (cls->flags & SQLC_DDL) != 0, reply, verdict);
	case PLAN_KEYS:
		return fanout_for_keys(s, p, &plan, sql, len, NULL, 0, reply,
				       verdict);
	}
	return verdict;
}

/* ---- the answer -------------------------------------------------------- */

static void fanout_free(struct fanout *f)
{
	for (unsigned i = 0; i < f->nparts; i++)
		free(f->parts[i].defs);
	free(f->parts);
	free(f->wait.keys);
	free(f->sql);
	if (f->bind_own)
		sql_arena_free(&f->bind_arena);
	free(f->float_defs);
	free(f->keys.data);
	free(f->keys.off);
	free(f->keys.lens);
	free(f->found_rows.data);
	free(f->found_rows.off);
	free(f->found_rows.lens);
	merge_free(f->m);
	pkt_buf_free(&f->out);
	free(f->defs);
	free(f->cols);
	sql_arena_free(&f->arena);
	free(f);
}

/*
 * Which shards are read: not while the client has too much to read (its
 * queue above FANOUT_CLIENT_HIGH, until under half of it), and not a
 * shard whose rows the merge holds more of than it wants (merge.h: that
 * never stalls the merge, which only waits for a shard with nothing
 * queued).  Once the answer is whole, everything is read to its end.
 */
static void pace(struct fanout *f)
{
	struct session *s = f->s;
	uint64_t queued = s ? conn_queued(&s->c) : 0;
	bool client_full = !f->answered && s && !session_done(s) &&
			   (queued > FANOUT_CLIENT_HIGH ||
			    (f->client_paused && queued > FANOUT_CLIENT_HIGH / 2));

	f->client_paused = client_full;
	if (!client_full && !f->npaused && !f->m)
		return;
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];
		bool hold;

		if (!pt->b || pt->phase == PART_ENDED)
			continue;
		hold = client_full || (!f->answered && f->m &&
				       pt->phase == PART_ROWS &&
				       merge_should_pause(f->m, pt->idx));
		if (hold && !pt->paused) {
			pt->paused = true;
			f->npaused++;
			conn_pause(&pt->b->c, PAUSE_BACKPRESSURE);
		} else if (!hold && pt->paused) {
			pt->paused = false;
			f->npaused--;
			conn_resume(&pt->b->c, PAUSE_BACKPRESSURE);
		}
	}
}

/* What the answer has grown by goes to the client. */
static void flush_out(struct fanout *f)
{
	if (session_answer_flush(f->s, &f->out, &f->flight, f->serial,
				 f->zseq) &&
	    !f->client_paused && conn_queued(&f->s->c) > FANOUT_CLIENT_HIGH)
		pace(f);
}

/*
 * The statement that began the session's transaction has ended: its
 * transaction t is the session's from now on.  If a part failed (or a
 * connection went), every part is rolled back instead and the session's
 * transaction is as before the statement: open, on no shard yet (as a
 * statement's error leaves a MySQL transaction).
 */
static void begun(struct fanout *f, struct xa_txn *t)
{
	if (!f->failed && session_xa_begun(t))
		return;
	if (!f->failed && f->plan.result == PLAN_RESULT_OK) {
		/* Its OK has not gone: the write was undone. */
		uint8_t seq = f->p->reply_seq;
		pkt_buf_reset(&f->out);
		f->out.seq = seq;
		f->p->local_err = ER_BACKEND_LOST;
		srv_err(&f->out, ER_BACKEND_LOST, "08S01", "myring: a shard's "
			"connection was lost under the statement; it was "
			"rolled back on every shard");
	}
	session_xa_implicit_end(t, NULL, NULL, false);
}

/* The entry completes, and what was parked behind it goes on. */
static void entry_release(struct fanout *f)
{
	struct session *s = f->s;
	struct pending *p = f->p;
	struct xa_txn *implicit = f->implicit ? f->txn : NULL;

	f->txn = NULL;
	if (!s) {
		if (implicit)
			session_xa_implicit_end(implicit, NULL, NULL, false);
		return;
	}
	if (f->begins && implicit) {
		begun(f, implicit);
		implicit = NULL;
	}
	if (f->implicit && !implicit)
		flush_out(f);          /* it never had its transaction */
	p->local_rows = f->rows;
	p->fanout = NULL;
	f->s = NULL;
	f->p = NULL;
	if (implicit) {
		/* Its answer goes once the transaction has ended. */
		session_xa_implicit_end(implicit, p, &f->out, !f->failed);
		return;
	}
	if (f->in_txn && session_xa_fanout_end(s, p))
		return;
	if (!--s->fanouts)
		session_release(s, HOLD_FANOUT);
	if (!session_done(s))
		inject_local_heads(s);
}

/* The answer is complete.  Inside a transaction the next command may
 * need the parts' connections: the entry completes once every part has
 * given its own back (fanout_unref). */
static void answer_done(struct fanout *f)
{
	if (f->answered)
		return;
	f->answered = true;
	if (!f->implicit)
		flush_out(f);
	/* The rest of every shard's answer is read (and dropped). */
	pace(f);
	if (!f->in_txn && !f->implicit)
		entry_release(f);
}

/* The answer ends with an error, in place of whatever packet was due
 * (a client reads an ERR in place of any packet of a result). */
static void answer_error(struct fanout *f, uint16_t code, const char *state,
			 const char *msg)
{
	if (f->answered)
		return;
	f->failed = true;
	if (f->s) {
		f->p->local_err = code;
		LOGD("%s: cross-shard query failed: %u %s", f->s->client_addr,
		     code, msg);
	}
	srv_err(&f->out, code, state && state[0] ? state : "HY000", msg);
	answer_done(f);
}

static int emit_row(void *ctx, const uint8_t *payload, size_t len)
{
	struct fanout *f = ctx;

	pkt_buf_packet(&f->out, payload, len);
	f->rows++;
	/* The client's queue takes the rows in chunks as they fill. */
	if (f->out.len >= FANOUT_CHUNK)
		flush_out(f);
	return f->out.oom ? -1 : 0;
}

static uint8_t *put_lenenc_str(uint8_t *p, const char *s, size_t n)
{
	p = mysql_put_lenenc(p, n);
	memcpy(p, s, n);
	return p + n;
}

/* The shards' OKs as one: affected rows and warnings summed, the info
 * line of a multi-row INSERT or an UPDATE rebuilt from theirs. */
static void sum_oks(struct fanout *f)
{
	unsigned long long affected = 0, warnings = 0, records = 0, dups = 0;
	unsigned long long matched = 0;
	bool insert_info = false, update_info = false;
	uint8_t pkt[256], *w = pkt;
	char info[160] = "";
	int n = 0;

	/* Copies of a broadcast table: each part wrote the same rows. */
	for (unsigned i = 0; i < (f->plan.copies ? 1 : f->nparts); i++) {
		const struct fanout_part *pt = &f->parts[i];
		unsigned long long a, b, c;

		affected += pt->ok.affected_rows;
		warnings += pt->ok.warnings;
		if (sscanf(pt->info, "Records: %llu Duplicates: %llu "
			   "Warnings: %llu", &a, &b, &c) == 3) {
			insert_info = true;
			records += a;
			dups += b;
		} else if (sscanf(pt->info, "Rows matched: %llu Changed: %llu "
				  "Warnings: %llu", &a, &b, &c) == 3) {
			update_info = true;
			matched += a;
		}
	}
	if (insert_info)
		n = snprintf(info, sizeof(info), "Records: %llu  Duplicates: "
			     "%llu  Warnings: %llu", records, dups, warnings);
	else if (update_info)
		n = snprintf(info, sizeof(info), "Rows matched: %llu  Changed: "
			     "%llu  Warnings: %llu", matched, affected,
			     warnings);
	if (f->s) {
		f->p->local_affected = affected;
		/* LAST_INSERT_ID() of the keys it was given: answered on the
		 * session's next connection by its state's replay. */
		if (f->plan.insert_id)
			f->s->st.last_insert_id = f->plan.insert_id;
	}
	*w++ = 0x00;
	w = mysql_put_lenenc(w, affected);
	/* One part (one_on_branch): its own AUTO_INCREMENT key. */
	w = mysql_put_lenenc(w, f->plan.insert_id || f->nparts != 1 ?
			     f->plan.insert_id : f->parts[0].ok.last_insert_id);
	mysql_put_u16(w, SERVER_STATUS_AUTOCOMMIT);
	mysql_put_u16(w + 2, warnings > 0xFFFF ? 0xFFFF : (uint16_t)warnings);
	w += 4;
	if (n > 0)
		w = put_lenenc_str(w, info, (size_t)n);
	pkt_buf_packet(&f->out, pkt, (size_t)(w - pkt));
}

/*
 * The shards print a FLOAT in text with 6 significant digits, where the
 * binary protocol carries all of its bits; a DOUBLE's text reads back as
 * the same double, and a FLOAT is a double exactly.  So an execution's
 * FLOAT columns are asked for as doubles (shard_plan_float.c) and given
 * their FLOAT definitions back here: the merge then encodes the values
 * as the client's 4-byte FLOATs, the ones a single server sends.  The
 * first execution that meets them learns them from the shards' header
 * (float_retry).
 */

/* The FLOAT columns of the shards' header (bit j: column j); *beyond:
 * one past the 64th. */
static uint64_t float_columns(const struct fanout *f, bool *beyond)
{
	uint64_t fl = 0;

	*beyond = false;
	for (unsigned j = 0; j < f->ncols; j++)
		if (f->cols[j].type == RS_TYPE_FLOAT) {
			if (j < 64)
				fl |= 1ull << j;
			else
				*beyond = true;
		}
	return fl;
}

/* The packet (header included) of the j-th column definition in defs,
 * or NULL. */
static const uint8_t *def_at(const uint8_t *defs, size_t len, unsigned j,
			     uint32_t *plen)
{
	size_t off = 0;

	for (;;) {
		if (len - off < MYSQL_HDR_LEN)
			return NULL;
		*plen = mysql_get_u24(defs + off);
		if (len - off - MYSQL_HDR_LEN < *plen)
			return NULL;
		if (!j--)
			return defs + off;
		off += MYSQL_HDR_LEN + *plen;
	}
}

/* The columns asked for as doubles get their FLOAT definitions back.
 * 0, or -1 with the error answered. */
static int give_floats_back(struct fanout *f)
{
	bool beyond;
	uint64_t fl = float_columns(f, &beyond);
	unsigned k = 0;

	if (beyond || (fl & ~f->float_cols) || f->ncols != f->float_ncols) {
		answer_error(f, 1235, "42000", "myring: the columns of the "
			     "prepared statement changed since it met FLOAT "
			     "columns: prepare it again");
		return -1;
	}
	if (!f->float_defs) {
		answer_error(f, 1105, "HY000", "myring: out of memory");
		return -1;
	}
	for (unsigned j = 0; j < f->ncols && j < 64; j++) {
		const uint8_t *d;
		uint32_t plen;

		if (!(f->float_cols & (1ull << j)))
			continue;
		d = def_at(f->float_defs, f->float_defs_len, k++, &plen);
		if (!d || rs_parse_coldef(d + MYSQL_HDR_LEN, plen, f->caps,
					  &f->cols[j])) {
			answer_error(f, 1105, "HY000", "myring: a FLOAT column "
				     "definition could not be read");
			return -1;
		}
	}
	return 0;
}

/*
 * An execution met FLOAT columns it did not know of: its statement keeps
 * them (and their definitions), and the execution starts again as a new
 * fanout that asks for them as doubles; this one lets go of the entry
 * and its answers are read and dropped (nothing reached the client yet).
 * On failure the error is answered.
 */
static void float_retry(struct fanout *f, uint64_t fl)
{
	struct session *s = f->s;
	struct pending *p = f->p;
	struct stmt_client *sc = s && f->stmt_id ?
		stmt_client_get(&s->stmts, f->stmt_id) : NULL;
	struct myring_reply reply;
	struct shard_plan plan;
	const struct sql_bind *bind;
	uint8_t *defs = NULL;
	size_t len = 0;

	if (!sc) {
		answer_error(f, 1235, "42000", "myring: the FLOAT columns of "
			     "this execution over several shards cannot be "
			     "sent exactly: send the statement as text");
		return;
	}
	for (unsigned j = 0; j < f->ncols && j < 64; j++) {
		const uint8_t *d;
		uint32_t plen;
		uint8_t *nd;

		if (!(fl & (1ull << j)))
			continue;
		d = def_at(f->defs, SIZE_MAX, j, &plen);
		nd = d ? realloc(defs, len + MYSQL_HDR_LEN + plen) : NULL;
		if (!nd)
			goto nomem;
		defs = nd;
		memcpy(defs + len, d, MYSQL_HDR_LEN + plen);
		len += MYSQL_HDR_LEN + plen;
	}
	if (stmt_client_set_floats(&s->stmts, sc, fl, (uint16_t)f->ncols,
				   defs, (uint32_t)len))
		goto nomem;
	free(defs);
	defs = NULL;
	/* Planned again with the same values, copied to the new plan's
	 * arena (this fanout's stays with it). */
	bind = stmt_bind_copy(plan_arena(s), f->bind, f->nbind);
	if (!bind)
		goto nomem;
	plan_in_arena_keyed(s, sc->sql, sc->sql_len, NULL, 0, bind, f->nbind,
			    NULL, sc, NULL, &plan);
	if (plan.kind != PLAN_MULTI || plan.result != PLAN_RESULT_ROWS) {
		if (plan.kind == PLAN_ERROR)
			s->c.w->stats.shard_refused++;
		answer_error(f, plan.kind == PLAN_ERROR ? plan.err_code : 1105,
			     plan.sqlstate, plan.kind == PLAN_ERROR ? plan.err :
			     "myring: the statement planned differently once "
			     "it met FLOAT columns: run it again");
		return;
	}
	memset(&reply, 0, sizeof(reply));
	p->fanout = NULL;
	if (fanout_new(s, p, &plan, true, false, &reply, MYRING_FORWARD) ==
	    MYRING_REJECT || !p->fanout) {
		p->fanout = f;
		free(reply.rewrite);
		answer_error(f, reply.err_code ? reply.err_code : 1105,
			     reply.sqlstate, reply.message);
		return;
	}
	execution_fanout(p->fanout, sc, bind, f->nbind);
	{
		/* This one lets go, as a fanout whose client left. */
		struct pending gone = { .fanout = f };

		shard_fanout_orphan(&gone);
	}
	shard_fanout_start(s, p);
	return;
nomem:
	free(defs);
	answer_error(f, 1105, "HY000", "myring: out of memory");
}

/* The first header complete: the merge is made from its columns. */
static void header_complete(struct fanout *f, struct fanout_part *pt)
{
	struct merge_spec spec;
	char err[300];
	size_t off = 0;

	f->cols = calloc(pt->ncols, sizeof(*f->cols));
	if (!f->cols) {
		answer_error(f, 1105, "HY000", "myring: out of memory");
		return;
	}
	f->ncols = (unsigned)pt->ncols;
	f->defs = pt->defs;       /* the coldefs point into these bytes */
	pt->defs = NULL;
	for (unsigned i = 0; i < f->ncols; i++) {
		uint32_t plen = mysql_get_u24(f->defs + off);
		if (rs_parse_coldef(f->defs + off + MYSQL_HDR_LEN, plen,
				    pt->b->caps, &f->cols[i])) {
			answer_error(f, 1105, "HY000", "myring: a shard sent a "
				     "malformed column definition");
			return;
		}
		off += MYSQL_HDR_LEN + plen;
	}
	if (f->binary) {
		bool beyond;
		uint64_t fl;

		if (f->floats_exact) {
			if (give_floats_back(f))
				return;
		} else if ((fl = float_columns(f, &beyond)) || beyond) {
			if (beyond)
				answer_error(f, 1235, "42000", "myring: a FLOAT "
					     "column beyond the 64th of an "
					     "execution over several shards "
					     "cannot be sent exactly");
			else
				float_retry(f, fl);
			return;
		}
	}
	if (!f->plan.merge && f->nparts == 1) {
		/* One shard's rows as they come (one_on_branch), in the
		 * client's protocol. */
		memset(&spec, 0, sizeof(spec));
		spec.nstreams = 1;
		spec.in_proto = RS_TEXT;
		spec.out_proto = f->binary ? RS_BINARY : RS_TEXT;
		spec.ncols = f->ncols;
		spec.cols = f->cols;
		spec.limit = MERGE_NO_LIMIT;
	} else if (shard_plan_merge_spec(&f->plan, &f->arena, f->cols,
					 f->ncols, RS_TEXT, f->binary ?
					 RS_BINARY : RS_TEXT, &spec, err,
					 sizeof(err))) {
		answer_error(f, 1235, "42000", err);
		return;
	}
	spec.emit = emit_row;
	spec.emit_ctx = f;
	f->m = merge_new(&spec, err, sizeof(err));
	if (!f->m) {
		answer_error(f, 1235, "42000", err);
		return;
	}
	merge_write_header(f->m, &f->out, f->caps);
	flush_out(f);
}

static int keep_def(struct fanout_part *pt, const uint8_t *pkt, uint32_t len)
{
	uint8_t *nd = realloc(pt->defs, pt->defs_len + MYSQL_HDR_LEN + len);

	if (!nd)
		return -1;
	pt->defs = nd;
	mysql_put_header(nd + pt->defs_len, len, 0);
	memcpy(nd + pt->defs_len + MYSQL_HDR_LEN, pkt, len);
	pt->defs_len += MYSQL_HDR_LEN + len;
	return 0;
}

static void merged(struct fanout *f, int r)
{
	if (f->answered)
		return;
	if (r == MERGE_ERROR) {
		answer_error(f, 1105, "HY000", merge_error(f->m));
	} else if (r == MERGE_DONE) {
		flush_out(f);
		merge_write_end(&f->out, f->caps, SERVER_STATUS_AUTOCOMMIT, 0);
		answer_done(f);
	}
}

/* One more shard has ended its answer. */
static void part_ended(struct fanout *f, struct fanout_part *pt)
{
	pt->phase = PART_ENDED;
	f->ended++;
	if (f->answered)
		return;
	if (f->plan.more) {
		/* A step: the next one is planned once its parts are back
		 * (step_over). */
		if (f->ended < f->nparts)
			return;
		if (f->held_code)
			answer_error(f, f->held_code, f->held_state,
				     f->held_msg);
		else
			f->step_ok = true;
		return;
	}
	if (f->plan.result == PLAN_RESULT_OK) {
		if (f->ended < f->nparts)
			return;
		if (f->held_code) {
			answer_error(f, f->held_code, f->held_state,
				     f->held_msg);
			return;
		}
		sum_oks(f);
		answer_done(f);
		return;
	}
	if (f->m)
		merged(f, merge_end(f->m, pt->idx));
	else if (f->ended == f->nparts)
		answer_error(f, 1105, "HY000", "myring: no shard sent a result");
}

static void part_error(struct fanout *f, struct fanout_part *pt,
		       const uint8_t *pkt, uint32_t len)
{
	struct mysql_err e;
	char msg[400];

	pt->phase = PART_ENDED;
	f->ended++;
	if (f->answered)
		return;
	if (mysql_parse_err(pkt, len, &e) == 0) {
		snprintf(msg, sizeof(msg), "%.*s", (int)e.message.len,
			 e.message.ptr);
	} else {
		e.code = 1105;
		snprintf(e.sqlstate, sizeof(e.sqlstate), "HY000");
		snprintf(msg, sizeof(msg), "myring: a shard sent a malformed "
			 "error");
	}
	/* A write's error waits for the other shards' answers: a client
	 * that goes on after it must find their changes done (a schema
	 * change is on every other shard), as after one server's error. */
	if (f->plan.result == PLAN_RESULT_OK && f->ended < f->nparts) {
		if (!f->held_code) {
			f->held_code = e.code;
			snprintf(f->held_state, sizeof(f->held_state), "%s",
				 e.sqlstate);
			snprintf(f->held_msg, sizeof(f->held_msg), "%s", msg);
		}
		return;
	}
	if (f->held_code)
		answer_error(f, f->held_code, f->held_state, f->held_msg);
	else
		answer_error(f, e.code, e.sqlstate, msg);
}

/* Where the rows of f's step go (plan.collect). */
static struct found *found_of(struct fanout *f)
{
	return f->plan.collect == PLAN_COLLECT_KEYS ? &f->keys :
						      &f->found_rows;
}

/* One cell into what a step read; -1 past FOUND_MAX or out of memory. */
static int found_cell(struct found *fd, const char *p, size_t n, bool null)
{
	if (fd->ncells == fd->cap_cells) {
		unsigned cap = fd->cap_cells ? 2 * fd->cap_cells : 16;
		size_t *off;

		/* Empty cells cost their offsets only: bound those too. */
		if ((size_t)cap * 2 * sizeof(size_t) > FOUND_MAX)
			return -1;
		off = realloc(fd->off, cap * sizeof(*off));
		if (!off)
			return -1;
		fd->off = off;
		off = realloc(fd->lens, cap * sizeof(*off));
		if (!off)
			return -1;
		fd->lens = off;
		fd->cap_cells = cap;
	}
	if (!null && fd->len + n > fd->cap) {
		size_t cap = fd->cap ? 2 * fd->cap : 256;
		char *d;

		while (cap < fd->len + n)
			cap *= 2;
		if (cap > FOUND_MAX || !(d = realloc(fd->data, cap)))
			return -1;
		fd->data = d;
		fd->cap = cap;
	}
	fd->off[fd->ncells] = fd->len;
	fd->lens[fd->ncells++] = null ? FOUND_NULL : n;
	if (!null && n) {
		memcpy(fd->data + fd->len, p, n);
		fd->len += n;
	}
	return 0;
}

/* A row of a step that reads (a lookup's keys, the rows a write changes),
 * in the text protocol: kept for the next planning. */
static void collect_row(struct fanout *f, struct fanout_part *pt,
			const uint8_t *pkt, uint32_t len)
{
	struct found *fd = found_of(f);
	size_t pos = 0;

	for (uint64_t c = 0; c < pt->ncols; c++) {
		struct mysql_str v = { 0 };
		bool null = pos < len && pkt[pos] == 0xFB;

		if (null)
			pos++;
		else if (mysql_get_lenenc_str(pkt, len, &pos, &v))
			goto bad;
		if (found_cell(fd, v.ptr, v.len, null)) {
			answer_error(f, 1235, "42000", "myring: a lookup step "
				     "read more rows than myring holds (16 MiB): "
				     "narrow the statement");
			return;
		}
	}
	return;
bad:
	answer_error(f, 1105, "HY000", "myring: a shard sent a malformed row");
}

/* A packet of a shard's answer to its text (the bconn's sink). */
static void part_packet(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct fanout_part *pt = ctx;
	struct fanout *f = pt->f;
	uint64_t caps = pt->b->caps;
	bool want_rows = f->plan.result == PLAN_RESULT_ROWS;
	struct mysql_ok_ext ok;

	if (pt->phase == PART_ENDED)
		return;
	if (len && pkt[0] == 0xFF) {
		part_error(f, pt, pkt, len);
		return;
	}
	switch (pt->phase) {
	case PART_COUNT:
		if (len && pkt[0] == 0x00) {
			if (mysql_parse_ok_ext(pkt, len, caps, &ok) == 0) {
				pt->ok = ok.ok;
				/* LAST_INSERT_ID(k) in its text (a sequence's
				 * key) set it on this connection: the next
				 * borrower's replay must know. */
				if (ok.ok.last_insert_id)
					pt->b->st.last_insert_id =
						ok.ok.last_insert_id;
				snprintf(pt->info, sizeof(pt->info), "%.*s",
					 (int)ok.info.len, ok.info.ptr);
			}
			if (want_rows)
				answer_error(f, 1105, "HY000", "myring: a "
					     "shard answered a query with OK");
			part_ended(f, pt);
			return;
		}
		if (rs_parse_column_count(pkt, len, &pt->ncols) ||
		    pt->ncols == 0 || pt->ncols > 4096) {
			answer_error(f, 1105, "HY000", "myring: a shard sent "
				     "a malformed result header");
			pt->phase = PART_ROWS;
			return;
		}
		if (!want_rows)
			answer_error(f, 1105, "HY000", "myring: a shard "
				     "answered a write with rows");
		pt->phase = PART_COLS;
		return;
	case PART_COLS:
		if (!f->m && !f->answered && !f->plan.collect &&
		    keep_def(pt, pkt, len)) {
			answer_error(f, 1105, "HY000", "myring: out of memory");
			return;
		}
		if (++pt->ncols_seen < pt->ncols)
			return;
		pt->phase = caps & CLIENT_DEPRECATE_EOF ? PART_ROWS :
							  PART_COLS_EOF;
		break;
	case PART_COLS_EOF:
		pt->phase = PART_ROWS;
		break;
	case PART_ROWS:
		if (rs_row_pkt_kind(pkt, len, caps) == RS_PKT_END) {
			part_ended(f, pt);
			return;
		}
		if (f->answered)
			;
		else if (f->plan.collect)
			collect_row(f, pt, pkt, len);
		else
			merged(f, merge_row(f->m, pt->idx, pkt, len));
		if (f->npaused || f->client_paused ||
		    (f->m && merge_should_pause(f->m, pt->idx)))
			pace(f);
		return;
	default:
		return;
	}
	/* This part's header is whole. */
	if (f->answered)
		return;
	if (f->plan.collect) {
		struct found *fd = found_of(f);

		if (fd->ncols && fd->ncols != pt->ncols)
			answer_error(f, 1105, "HY000", "myring: the shards "
				     "answered a lookup's read with different "
				     "columns");
		fd->ncols = (unsigned)pt->ncols;
	} else if (!f->m) {
		header_complete(f, pt);
	} else if (pt->ncols != f->ncols) {
		answer_error(f, 1105, "HY000", "myring: the shards answered "
			     "with different columns (is the schema the same "
			     "on every shard?)");
	}
	free(pt->defs);
	pt->defs = NULL;
	pt->defs_len = 0;
}

/* ---- the shards' connections ------------------------------------------ */

static void step_over(struct fanout *f);

static void fanout_unref(struct fanout *f)
{
	if (--f->refs) {
		/* Only a statement's step hold is left: its parts are back. */
		if (f->refs == 1 && f->staged)
			step_over(f);
		return;
	}
	if (!f->answered)
		answer_error(f, ER_BACKEND_LOST, "08S01", "myring: a shard's "
			     "connection ended before its answer");
	entry_release(f);
	fanout_free(f);
}

static void part_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct fanout_part *pt = b->sink_ctx;
	struct fanout *f = pt->f;

	b->sink = NULL;
	b->sink_ctx = NULL;
	if (pt->paused) {
		pt->paused = false;
		f->npaused--;
		conn_resume(&b->c, PAUSE_BACKPRESSURE);
	}
	pt->b = NULL;
	if (err && pt->phase != PART_ENDED)
		/* The state replay failed, or the connection did. */
		answer_error(f, err, b->req_state, msg);
	if (pt->txn) {
		session_xa_give_back(&pt->lease, pt->shard, b,
				     pt->phase != PART_ENDED || b->failed ||
				     b->c.closing);
	} else if (pt->phase != PART_ENDED || b->failed || b->c.closing) {
		pool_drop(pt->pool, b);
	} else {
		/* A statement that left a transaction open (autocommit off)
		 * must not reach the next borrower. */
		if (b->status & SERVER_STATUS_IN_TRANS)
			b->dirty = true;
		pool_return(pt->pool, b);
	}
	fanout_unref(f);
}

static void part_lent(struct pool_waiter *wt, struct bconn *b, uint16_t err,
		      const char *msg)
{
	struct fanout_part *pt = (struct fanout_part *)((char *)wt -
		offsetof(struct fanout_part, wait));
	struct fanout *f = pt->f;
	struct session *s = f->s;
	struct mysql_replay rp;
	uint8_t *buf = NULL, *q = NULL;
	size_t cap;
	int rc = MYSQL_REPLAY_OK;

	if (!b) {
		char m[300];
		snprintf(m, sizeof(m), "myring: shard %s: %s",
			 f->ks->shards[pt->shard].name, msg);
		answer_error(f, err ? err : ER_BACKEND_UNREACHABLE, "HY000", m);
		fanout_unref(f);
		return;
	}
	if (!s || f->answered) {
		/* Nobody wants this shard's answer any more. */
		if (pt->txn)
			session_xa_give_back(&pt->lease, pt->shard, b, false);
		else
			pool_return(pt->pool, b);
		fanout_unref(f);
		return;
	}
	pt->b = b;
	if (pt->txn) {
		pt->pool = pt->lease.pool;
		pt->server = pt->lease.server;
	}
	cap = mysql_state_replay_bound(&s->st, &b->st);
	buf = malloc(cap ? cap : 1);
	q = malloc(1 + pt->len);
	rc = buf && q ? mysql_state_diff_sql(&s->st, &b->st, &rp, buf, cap) :
			MYSQL_REPLAY_NOSPACE;
	for (unsigned i = 0; rc == MYSQL_REPLAY_OK && i < rp.n; i++)
		if (bconn_request(b, rp.cmd[i].payload, rp.cmd[i].len,
				  rp.cmd[i].payload[0] == COM_QUERY ?
				  RESP_RESULT : RESP_SINGLE))
			rc = MYSQL_REPLAY_NOSPACE;
	if (rc == MYSQL_REPLAY_OK) {
		q[0] = COM_QUERY;
		memcpy(q + 1, pt->sql, pt->len);
		if (bconn_request(b, q, 1 + pt->len, RESP_RESULT))
			rc = MYSQL_REPLAY_NOSPACE;
	}
	free(buf);
	free(q);
	if (rc != MYSQL_REPLAY_OK) {
		pt->b = NULL;
		if (pt->txn)
			session_xa_give_back(&pt->lease, pt->shard, b, true);
		else
			pool_drop(pt->pool, b);
		answer_error(f, 1105, "HY000", "myring: cannot bring a shard's "
			     "connection to this session's state");
		fanout_unref(f);
		return;
	}
	/* Once the replay has run (a failure closes the connection). */
	mysql_state_copy(&b->st, &s->st);
	pt->phase = PART_COUNT;
	b->sink = part_packet;
	b->sink_ctx = pt;
	s->c.w->routed[pt->server]++;
	pool_count_command(pt->pool, false);
	bconn_run(b, part_done);
}

/* Inside a transaction: the part runs on the transaction's connection
 * for its shard. */
static void lend_part(struct fanout *f, struct fanout_part *pt)
{
	struct bconn *b = NULL;
	uint16_t err = 0;
	char msg[300];
	enum pool_borrow r = session_xa_lend(f->txn, pt->shard, &pt->wait,
					     &pt->lease, &b, &err, msg,
					     sizeof(msg));

	pool_borrowed(&pt->wait, r, b, err, msg);
}

/* Borrows a connection for each part, which runs as it comes. */
static void start_parts(struct session *s, struct fanout *f)
{
	const struct keyspace *ks = keyspace_of(s);
	bool read = f->plan.select && !f->plan.writes && !s->in_trans;

	/* A statement in steps holds one more of its own (steps_begin). */
	f->refs += f->nparts + 1;
	if (f->plan.collect) {
		struct found *fd = found_of(f);

		fd->len = 0;
		fd->ncells = 0;
		fd->ncols = 0;
		fd->set = true;
	}
	if (f->in_txn)
		f->txn = s->xa;
	else if (f->implicit && !f->txn && !f->plan.pooled &&
		 !(f->txn = session_xa_implicit(s, f->parts[0].shard)))
		answer_error(f, 1105, "HY000", "myring: out of memory");
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];
		const char *why;
		struct pool_key key = s->pool_key;
		struct bconn *b = NULL;
		uint16_t err = 0;
		char msg[200];
		enum pool_borrow rb;

		pt->wait.cont = part_lent;
		/* A lookup table's set-up runs outside the transaction. */
		pt->txn = (f->in_txn || f->implicit) && !f->plan.pooled;
		if (pt->txn && !f->answered) {
			lend_part(f, pt);
			continue;
		}
		if (f->answered ||
		    route_choose(s, ks->shards[pt->shard].group, read, -1,
				 &pt->server, &why, &err, msg, sizeof(msg))) {
			if (!f->answered) {
				char m[300];
				snprintf(m, sizeof(m), "myring: shard %s: %s",
					 ks->shards[pt->shard].name, msg);
				answer_error(f, err ? err : 1105, "HY000", m);
			}
			fanout_unref(f);
			continue;
		}
		key.server = pt->server;
		pt->pool = pool_for(s->c.w, &key);
		if (!pt->pool) {
			answer_error(f, 1105, "HY000", "myring: out of memory");
			fanout_unref(f);
			continue;
		}
		rb = pool_borrow(pt->pool, &pt->wait,
				 s->st.has_schema ? s->st.schema : NULL, &b,
				 &err, msg, sizeof(msg));
		pool_borrowed(&pt->wait, rb, b, err, msg);
	}
	fanout_unref(f);
}

/* The parts of a statement's step, from its plan (PLAN_ONE: the last
 * step on one shard, as a fanout of one part).  0, or -1 with the
 * answer an error. */
static int step_parts(struct fanout *f, struct shard_plan *plan)
{
	struct session *s = f->s;
	struct sql_arena *a = &s->c.w->plan_arena;

	if (plan->kind == PLAN_ONE) {
		plan->kind = PLAN_MULTI;
		plan->result = plan->select ? PLAN_RESULT_ROWS : PLAN_RESULT_OK;
	}
	if (plan->kind == PLAN_ERROR) {
		s->c.w->stats.shard_refused++;
		answer_error(f, plan->err_code, plan->sqlstate, plan->err);
		return -1;
	}
	if (plan->kind != PLAN_MULTI || !plan->nparts ||
	    (plan->result == PLAN_RESULT_ROWS && !plan->collect &&
	     !plan->merge)) {
		/* The session's state changed the statement's reading in
		 * the meantime (sql_mode): it is sent again by the client. */
		answer_error(f, 1105, "HY000", "myring: the statement read "
			     "differently between its steps: try again");
		return -1;
	}
	for (unsigned i = 0; i < f->nparts; i++)
		free(f->parts[i].defs);
	free(f->parts);
	f->parts = calloc(plan->nparts, sizeof(*f->parts));
	if (!f->parts) {
		f->nparts = 0;
		answer_error(f, 1105, "HY000", "myring: out of memory");
		return -1;
	}
	if (f->plan.pooled && !plan->pooled)
		s->c.w->lookups_ready = true;
	/* The plan and its arena go with the fanout. */
	sql_arena_free(&f->arena);
	f->arena = *a;
	sql_arena_init(a, 0);
	if (!plan->insert_id)
		plan->insert_id = f->insert_id;
	f->plan = *plan;
	f->nparts = plan->nparts;
	f->ended = 0;
	f->held_code = 0;
	f->step_ok = false;
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];

		pt->f = f;
		pt->idx = i;
		pt->shard = plan->parts[i].shard;
		pt->sql = plan->parts[i].sql;
		pt->len = plan->parts[i].len;
	}
	s->c.w->stats.shard_fanouts++;
	s->c.w->stats.shard_fanout_parts += f->nparts;
	return 0;
}

/* Every part of a statement's step gave its connection back: the next
 * step is planned with what it read and run, or (an error, the last
 * step, the session gone) the step's hold goes and the fanout ends. */
static void step_over(struct fanout *f)
{
	struct shard_plan plan;

	if (f->s && !f->answered && f->step_ok && f->plan.more) {
		plan_arena(f->s);
		plan_in_arena_keyed(f->s, f->sql, f->sql_len, NULL, 0, NULL, 0,
				    NULL, NULL, f, &plan);
		if (step_parts(f, &plan) == 0) {
			start_parts(f->s, f);
			return;
		}
	}
	f->staged = false;
	fanout_unref(f);
}

/* A fanout without parts ends with its answer (an error). */
static void keyed_fail(struct fanout *f, uint16_t code, const char *state,
		       const char *msg)
{
	answer_error(f, code, state, msg);
	f->refs = 1;
	fanout_unref(f);
}

/*
 * The keys of a waiting INSERT are there (or their fetch failed) and its
 * turn has come: it is planned again with them, and runs on the shards
 * they name, as a fanout of one or more parts (the session holds no
 * connection: fanout_for_keys made sure).
 */
static void keyed_run(struct fanout *f)
{
	struct session *s = f->s;
	struct given_keys g = { f->wait.keys, f->wait.n };
	struct sql_arena *a;
	struct shard_plan plan;

	if (f->keys_err) {
		keyed_fail(f, f->keys_err, "HY000", f->keys_msg);
		return;
	}
	a = plan_arena(s);
	plan_in_arena_keyed(s, f->sql, f->sql_len, NULL, 0, f->bind, f->nbind,
			    &g, NULL, NULL, &plan);
	if (plan.kind == PLAN_ERROR) {
		s->c.w->stats.shard_refused++;
		keyed_fail(f, plan.err_code, plan.sqlstate, plan.err);
		return;
	}
	if ((plan.kind != PLAN_ONE && plan.kind != PLAN_MULTI) ||
	    (!plan.insert_id && !plan.more)) {
		/* The session's state changed the statement's reading in
		 * the meantime (sql_mode): it is sent again by the client. */
		keyed_fail(f, 1105, "HY000", "myring: the INSERT read "
			   "differently once its sequence keys came: try again");
		return;
	}
	f->parts = calloc(plan.nparts, sizeof(*f->parts));
	if (!f->parts) {
		keyed_fail(f, 1105, "HY000", "myring: out of memory");
		return;
	}
	/* The plan and its arena go with the fanout. */
	sql_arena_free(&f->arena);
	f->arena = *a;
	sql_arena_init(a, 0);
	f->plan = plan;
	f->plan.kind = PLAN_MULTI;
	if (!plan.collect)
		f->plan.result = PLAN_RESULT_OK;
	f->nparts = plan.nparts;
	/* Over several shards, or in steps (its lookup rows first),
	 * atomic as any other such write; with autocommit off it begins
	 * the transaction (fanout_for_keys saw to it that the session has
	 * none yet). */
	f->begins = !autocommit_on(s);
	f->implicit = f->begins ||
		      ((f->nparts > 1 || plan.more) && autocommit_on(s));
	if (steps_begin(f, &f->plan)) {
		keyed_fail(f, 1105, "HY000", "myring: out of memory");
		return;
	}
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];

		pt->f = f;
		pt->idx = i;
		pt->shard = plan.parts[i].shard;
		pt->sql = plan.parts[i].sql;
		pt->len = plan.parts[i].len;
	}
	s->c.w->stats.shard_fanouts++;
	s->c.w->stats.shard_fanout_parts += f->nparts;
	start_parts(s, f);
}

static void keys_arrived(struct seq_wait *wt, uint16_t err, const char *msg)
{
	struct fanout *f = (struct fanout *)((char *)wt -
		offsetof(struct fanout, wait));

	f->keys_done = true;
	f->keys_err = err;
	if (err)
		snprintf(f->keys_msg, sizeof(f->keys_msg), "%s",
			 msg ? msg : "myring: no keys");
	if (f->started && f->s)
		keyed_run(f);
}

void shard_fanout_start(struct session *s, struct pending *p)
{
	struct fanout *f = p->fanout;

	if (f->started)
		return;
	f->started = true;
	f->zseq = p->zseq;
	f->out.seq = p->reply_seq;
	if (f->want_keys) {
		if (f->keys_done)
			keyed_run(f);
		return;
	}
	start_parts(s, f);
}

void shard_fanout_sent(struct session *s)
{
	struct pending *p = s->pend_count ? pend_at(s, 0) : NULL;

	if (p && p->fanout && p->fanout->client_paused)
		pace(p->fanout);
}

bool shard_fanout_sent_any(const struct pending *p)
{
	return p->fanout && p->fanout->flight;
}

bool shard_fanout_fail(struct pending *p, uint16_t code, const char *msg)
{
	struct fanout *f = p->fanout;

	/* An INSERT still waiting for its keys is dropped with its entry
	 * (shard_fanout_orphan); an autocommit write's answer waits for its
	 * transaction. */
	if (!f || !f->s || !f->started || f->answered || !f->parts ||
	    (f->implicit && !f->begins))
		return false;
	answer_error(f, code, "08S01", msg);
	if (f->s)
		flush_out(f);
	return true;
}

void shard_fanout_moved(struct pending *p)
{
	if (p->fanout && p->fanout->p)
		p->fanout->p = p;
}

void shard_fanout_orphan(struct pending *p)
{
	struct fanout *f = p->fanout;

	if (!f)
		return;
	p->fanout = NULL;
	if (f->s && f->s->fanouts)
		f->s->fanouts--;
	if (f->implicit && f->txn)
		session_xa_implicit_orphan(f->txn);
	f->s = NULL;
	f->p = NULL;
	f->answered = true;
	if (f->want_keys && !f->parts) {
		/* Still waiting for its keys, or not run yet. */
		shard_seq_cancel(f->w, f->seq, &f->wait);
		fanout_free(f);
		return;
	}
	if (!f->started) {
		fanout_free(f);
		return;
	}
	f->refs++;
	/* Parts held back for the client are read to their end now. */
	pace(f);
	for (unsigned i = 0; i < f->nparts; i++) {
		struct fanout_part *pt = &f->parts[i];
		if (pt->wait.queued) {
			pool_cancel(pt->pool, &pt->wait);
			fanout_unref(f);
		}
	}
	fanout_unref(f);
}

enum myring_verdict shard_prepare(struct session *s, const char *sql,
				  size_t len, struct myring_reply *reply,
				  enum myring_verdict verdict)
{
	struct shard_plan plan;

	plan_arena(s);
	plan_in_arena_keyed(s, sql, len, NULL, 0, NULL, 0, &no_keys, NULL,
			    NULL, &plan);
	switch (plan.kind) {
	case PLAN_PASS:
		return verdict;
	case PLAN_KEYS:
		/* Its executions take keys: the first finds them at hand. */
		shard_seq_prefetch(s, plan.need_seq);
		if (stmt_mapped(s))
			return verdict;
		return shard_refuse(s, reply, 1235, "myring: prepared "
				    "statements on the keyspace's tables need "
				    "myring's own statement ids");
	case PLAN_ERROR:
		/* With ? markers the refusal may be the missing values' (an
		 * INSERT's key): each execution is planned with them. */
		if (memchr(sql, '?', len) && stmt_mapped(s))
			return verdict;
		return refuse_plan(s, &plan, reply);
	case PLAN_ANSWER:
		return shard_refuse(s, reply, 1235, "myring: EXPLAIN SHARDS "
				    "cannot be prepared: send it as text");
	default:
		/* Prepared on any shard (they share the schema); each
		 * execution goes where its parameters say. */
		if (stmt_mapped(s))
			return verdict;
		return shard_refuse(s, reply, 1235, "myring: prepared "
				    "statements on the keyspace's tables need "
				    "myring's own statement ids");
	}
}

/* Whether an execution for shard runs on a branch of the session's
 * transaction (a shard other than the one the transaction holds): it
 * cannot be forwarded there as it is (the statement is the held
 * connection's), so it goes as text, answered in the binary protocol. */
static bool for_a_branch(const struct session *s, unsigned shard)
{
	int held = held_shard(s);

	return s->in_trans && held >= 0 && held != (int)shard;
}

/* An execution for one shard, planned with its values in its text
 * (one_as_text), runs on its shard's branch of the transaction as a
 * fanout of one part whose text rows are sent in the binary protocol. */
static enum myring_verdict one_on_branch(struct session *s, struct pending *p,
					 struct shard_plan *plan,
					 struct myring_reply *reply,
					 enum myring_verdict verdict)
{
	if (!plan->one_bound)
		return shard_refuse(s, reply, 1235, "myring: this execution "
				    "of a prepared statement is for another "
				    "shard of the transaction, and a ? of it "
				    "cannot be sent as its value (ORDER BY ?, "
				    "or LIMIT ? not bound to an integer)");
	plan->kind = PLAN_MULTI;
	plan->result = plan->select ? PLAN_RESULT_ROWS : PLAN_RESULT_OK;
	return fanout_new(s, p, plan, true, false, reply, verdict);
}

/* Parameters decoded per execution; the rest (rare) place nothing. */
#define EXEC_PARAMS_MAX 64

/*
 * An execution that the shard its parameters name cannot answer alone:
 * planned again with its values written into the statement
 * (stmt_bind.h), and run as text on the shards it needs, its rows merged
 * and sent to the client in the binary protocol.
 */
static enum myring_verdict execute_on_shards(struct session *s,
					     struct pending *p,
					     struct stmt_client *sc,
					     const uint8_t *payload,
					     size_t len,
					     struct myring_reply *reply,
					     enum myring_verdict verdict)
{
	struct stmt_execute ex;
	struct shard_plan plan;
	const struct sql_bind *bind;
	const uint8_t *types;
	int unknown;

	if (stmt_execute_parse(payload, len, sc->num_params, &ex))
		return shard_refuse(s, reply, 1235, "myring: a malformed "
				    "execution of a prepared statement");
	if (ex.flags)
		return shard_refuse(s, reply, 1235, "myring: a cursor over "
				    "several shards is not supported (execute "
				    "without a cursor, or bind the shard key)");
	if (sc->flags & STMT_CLIENT_LONG_DATA)
		return shard_refuse(s, reply, 1235, "myring: a prepared "
				    "statement that needs several shards "
				    "cannot take COM_STMT_SEND_LONG_DATA "
				    "parameters (bind them as values)");
	types = ex.new_params_bound ? payload + ex.types_off : sc->types;
	unknown = stmt_bind_values(payload, len, sc->num_params, &ex, types,
				   plan_arena(s), &bind);
	if (unknown < 0)
		return shard_refuse(s, reply, 1235, "myring: the parameters of "
				    "this execution could not be read");
	if (unknown)
		return shard_refuse(s, reply, 1235, "myring: this execution of "
				    "a prepared statement needs several shards, "
				    "and a value it binds has no SQL literal "
				    "that means the same (a non-finite double, "
				    "a date out of range, a YEAR or INT24 "
				    "parameter)");
	/* Later executions may send no types: these are theirs. */
	if (ex.new_params_bound &&
	    stmt_client_set_types(&s->stmts, sc, payload + ex.types_off,
				  &s->c.w->px->stmt_secret))
		return refuse(reply, 1105, "HY000", "myring: out of memory");
	plan_in_arena_keyed(s, sc->sql, sc->sql_len, NULL, 0, bind,
			    sc->num_params, NULL, sc, NULL, &plan);
	switch (plan.kind) {
	case PLAN_PASS:
		return verdict;
	case PLAN_ONE:
		if (plan.rewritten) {
			/* Given sequence keys: its text (not the client's
			 * execution) goes to the shard, and myring answers
			 * the OK. */
			plan.kind = PLAN_MULTI;
			plan.result = PLAN_RESULT_OK;
			return fanout_new(s, p, &plan, false, false, reply,
					  verdict);
		}
		if (for_a_branch(s, plan.parts[0].shard))
			return one_on_branch(s, p, &plan, reply, verdict);
		return route_one(s, p, &plan, reply, verdict);
	case PLAN_MULTI:
		/* An INSERT given keys answers an OK, as a text one does. */
		if (plan.insert_id)
			return fanout_new(s, p, &plan, false, false, reply,
					  verdict);
		verdict = fanout_new(s, p, &plan, true, false, reply, verdict);
		if (p->fanout)
			execution_fanout(p->fanout, sc, bind, sc->num_params);
		return verdict;
	case PLAN_KEYS:
		return fanout_for_keys(s, p, &plan, sc->sql, sc->sql_len, bind,
				       sc->num_params, reply, verdict);
	default:
		return refuse_plan(s, &plan, reply);
	}
}

enum myring_verdict shard_execute(struct session *s, struct pending *p,
				  struct stmt_client *sc,
				  const uint8_t *payload, size_t len,
				  struct myring_reply *reply,
				  enum myring_verdict verdict)
{
	struct plan_param params[EXEC_PARAMS_MAX];
	char bufs[EXEC_PARAMS_MAX][32];
	unsigned n = sc->num_params < EXEC_PARAMS_MAX ? sc->num_params :
		     EXEC_PARAMS_MAX;
	struct stmt_execute ex;
	struct shard_plan plan;
	const uint8_t *types = NULL;

	memset(params, 0, sizeof(params));
	/* With long data the values are not in the packet. */
	if (!(sc->flags & STMT_CLIENT_LONG_DATA) &&
	    stmt_execute_parse(payload, len, sc->num_params, &ex) == 0)
		types = ex.new_params_bound ? payload + ex.types_off :
					      sc->types;
	for (unsigned i = 0; types && i < n; i++) {
		struct stmt_param_value v;
		if (stmt_execute_param(payload, len, sc->num_params, &ex,
				       types, i, bufs[i], sizeof(bufs[i]),
				       &v) == 1)
			params[i] = (struct plan_param){v.text, v.len,
							v.is_string, true};
	}
	plan_arena(s);
	plan_in_arena(s, sc->sql, sc->sql_len, params, n, NULL, 0, &plan);
	switch (plan.kind) {
	case PLAN_PASS:
		return verdict;
	case PLAN_ONE:
		if (!for_a_branch(s, plan.parts[0].shard))
			return route_one(s, p, &plan, reply, verdict);
		/* Another shard of the transaction: as text. */
		return execute_on_shards(s, p, sc, payload, len, reply,
					 verdict);
	default:
		/* A refusal may be a marker's (LIMIT ? across shards);
		 * without markers the values change nothing. */
		if (plan.kind == PLAN_ERROR && !sc->num_params)
			return refuse_plan(s, &plan, reply);
		return execute_on_shards(s, p, sc, payload, len, reply,
					 verdict);
	}
}
