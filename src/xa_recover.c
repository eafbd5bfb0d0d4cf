/*
 * xa_recover.c - this process's instance id, and the recovery of
 * in-doubt XA branches (docs/transactions.md, "Recovery").
 *
 * Worker 0 sweeps the shards every xa-recovery-interval-ms (default 5 s),
 * through its own pools (the first configured user), with the same
 * non-blocking requests as everything else:
 *
 *   borrow one connection per shard
 *   -> on each: create myring.xa_decisions if missing (first sweep), read
 *      its records                                 (all shards, together)
 *   -> on each: XA RECOVER                         (all shards, together)
 *   -> per prepared branch of myring's format, one at a time:
 *        record 'commit' on its decision shard ... XA COMMIT
 *        record 'rollback' ........................ XA ROLLBACK
 *        no record, prepared for xa-grace-ms (default 10 s) or
 *        resolved by hand: a 'rollback' tombstone inserted (or the
 *        coordinator's record found, if it won the race) ... as above
 *   -> records no branch needs any more are deleted (tombstones after an
 *      hour), the connections go back, stats.transactions is published.
 *
 * Records are read before any shard is asked for its prepared branches:
 * a record whose gtrid no shard lists was complete when it was read (its
 * branches were all prepared before it was committed: it is written
 * beside the prepares but commits only once they are all in), so
 * deleting it loses nothing.
 */
#include "session.h"
#include "session_xa.h"

#include "log.h"
#include "mysql_proto.h"
#include "rs_codec.h"
#include "shard_map.h"
#include "xa_coord.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

/* ---- the instance ---------------------------------------------------- */

static char instance[17];
static pthread_once_t instance_once = PTHREAD_ONCE_INIT;

static void instance_init(void)
{
	uint64_t v = 0;

	/* Random, so that two instances (or one restarted) never make the
	 * same gtrid: recovery tells their transactions apart by it. */
	if (getrandom(&v, sizeof(v), 0) != sizeof(v))
		v = ((uint64_t)time(NULL) << 20) ^ (uint64_t)getpid();
	snprintf(instance, sizeof(instance), "%016llx", (unsigned long long)v);
}

const char *xa_instance(void)
{
	pthread_once(&instance_once, instance_init);
	return instance;
}

/* ---- what the admin port shows (stats.transactions) ------------------ */

static pthread_mutex_t shown_lock = PTHREAD_MUTEX_INITIALIZER;
static struct xa_indoubt *shown;
static unsigned nshown;
/* Resolutions asked for by hand (admin XA COMMIT / XA ROLLBACK). */
static struct xa_manual {
	char gtrid[XA_GTRID_MAX + 1];
	bool commit;
} manual[64];
static unsigned nmanual;

unsigned xa_indoubt_copy(struct xa_indoubt *out, unsigned max)
{
	unsigned n;

	pthread_mutex_lock(&shown_lock);
	n = nshown < max ? nshown : max;
	if (n)
		memcpy(out, shown, n * sizeof(*out));
	pthread_mutex_unlock(&shown_lock);
	return n;
}

int xa_resolve(const char *gtrid, bool commit)
{
	int rc = -1;

	if (xa_gtrid_decision_shard(gtrid, strlen(gtrid)) < 0 ||
	    strchr(gtrid, '\''))
		return -1;
	pthread_mutex_lock(&shown_lock);
	if (nmanual < sizeof(manual) / sizeof(manual[0])) {
		snprintf(manual[nmanual].gtrid, sizeof(manual[0].gtrid), "%s",
			 gtrid);
		manual[nmanual++].commit = commit;
		rc = 0;
	}
	pthread_mutex_unlock(&shown_lock);
	return rc;
}

/* ---- a sweep --------------------------------------------------------- */

enum rec_phase { RP_IDLE, RP_BORROW, RP_RECORDS, RP_PREPARED, RP_ACT };
enum rec_query { RQ_NONE, RQ_RECORDS, RQ_RECOVER, RQ_DECISION };
enum act { ACT_WAIT, ACT_COMMIT, ACT_ROLLBACK, ACT_TOMBSTONE };

struct rec_shard {
	struct rec *r;
	unsigned shard;
	struct pool *pool;
	struct pool_waiter wait;
	struct bconn *b;
	bool ok;                   /* answered every step so far */
	bool table_made;
	/* The result set being read (the sink). */
	uint8_t query;             /* enum rec_query */
	uint8_t rs_phase;          /* 0 count, 1 columns, 2 EOF, 3 rows */
	uint64_t ncols, cols_seen;
};

struct rec_record {
	char gtrid[XA_GTRID_MAX + 1];
	unsigned shard;
	bool commit;
	long age_s;
	bool needed;               /* a branch of it is still prepared */
};

struct rec_branch {
	char gtrid[XA_GTRID_MAX + 1];
	unsigned shard, bqual;
	uint8_t act;               /* enum act */
	bool manual_commit;
};

struct seen {
	char gtrid[XA_GTRID_MAX + 1];
	unsigned shard;
	uint64_t first_us;
	bool again;
};

struct rec {
	struct worker *w;
	uint8_t phase;
	uint64_t next_us;
	uint64_t interval_us, grace_us;
	unsigned running;          /* shards whose step runs */
	unsigned nshards;
	struct rec_shard sh[SHARDS_MAX];
	struct rec_record *recs;
	unsigned nrecs, caprecs;
	struct rec_branch *br;
	unsigned nbr, capbr;
	unsigned act_next;         /* the branch acted on next */
	int decided;               /* the decision the lookup read: 1 commit,
	                            * 0 rollback, -1 none */
	struct seen *seen;
	unsigned nseen;
};

static struct rec *rec_state;

#define TOMBSTONE_KEEP_S 3600

static const char table_sql[] =
	"CREATE TABLE IF NOT EXISTS myring.xa_decisions ("
	"gtrid VARBINARY(64) NOT NULL PRIMARY KEY, "
	"decision ENUM('commit','rollback') NOT NULL, "
	"participants VARCHAR(255) NOT NULL DEFAULT '', "
	"created TIMESTAMP(6) NOT NULL DEFAULT CURRENT_TIMESTAMP(6)"
	") ENGINE=InnoDB";

static void step(struct rec *r);

static int request(struct bconn *b, const char *sql)
{
	size_t n = strlen(sql);
	uint8_t *q = malloc(n + 1);
	int rc;

	if (!q)
		return -1;
	q[0] = COM_QUERY;
	memcpy(q + 1, sql, n);
	rc = bconn_request(b, q, n + 1, RESP_RESULT);
	free(q);
	return rc;
}

static void shard_release(struct rec_shard *rs, bool clean)
{
	struct bconn *b = rs->b;

	if (rs->wait.queued)
		pool_cancel(rs->pool, &rs->wait);
	if (!b)
		return;
	rs->b = NULL;
	b->sink = NULL;
	b->sink_ctx = NULL;
	conn_resume(&b->c, PAUSE_IDLE);
	if (clean && !b->failed && !b->c.closing)
		pool_return(rs->pool, b);
	else
		pool_drop(rs->pool, b);
}

/* ---- reading result sets --------------------------------------------- */

static void add_record(struct rec *r, unsigned shard, const struct mysql_str *f)
{
	struct rec_record *rr;

	if (r->nrecs == r->caprecs) {
		unsigned cap = r->caprecs ? r->caprecs * 2 : 16;
		void *n = realloc(r->recs, cap * sizeof(*r->recs));
		if (!n)
			return;
		r->recs = n;
		r->caprecs = cap;
	}
	rr = &r->recs[r->nrecs++];
	memset(rr, 0, sizeof(*rr));
	snprintf(rr->gtrid, sizeof(rr->gtrid), "%.*s",
		 (int)(f[0].len > XA_GTRID_MAX ? XA_GTRID_MAX : f[0].len),
		 f[0].ptr);
	rr->shard = shard;
	rr->commit = f[1].len == 6 && !memcmp(f[1].ptr, "commit", 6);
	rr->age_s = strtol(f[2].ptr ? f[2].ptr : "0", NULL, 10);
}

static void add_branch(struct rec *r, unsigned shard, const struct mysql_str *f)
{
	struct rec_branch *b;
	long fmt = strtol(f[0].ptr, NULL, 10);
	long glen = strtol(f[1].ptr, NULL, 10);
	long blen = strtol(f[2].ptr, NULL, 10);

	if (fmt != XA_FORMAT_ID || glen <= 0 || glen > XA_GTRID_MAX ||
	    blen <= 0 || blen > 8 || (size_t)(glen + blen) != f[3].len ||
	    xa_gtrid_decision_shard(f[3].ptr, (size_t)glen) < 0)
		return;   /* not myring's */
	if (r->nbr == r->capbr) {
		unsigned cap = r->capbr ? r->capbr * 2 : 16;
		void *n = realloc(r->br, cap * sizeof(*r->br));
		if (!n)
			return;
		r->br = n;
		r->capbr = cap;
	}
	b = &r->br[r->nbr++];
	memset(b, 0, sizeof(*b));
	memcpy(b->gtrid, f[3].ptr, (size_t)glen);
	b->gtrid[glen] = '\0';
	b->shard = shard;
	b->bqual = (unsigned)strtoul(f[3].ptr + glen, NULL, 10);
}

/* A row's first four fields, NUL-free text (NULL fields empty). */
static int row_fields(const uint8_t *pkt, uint32_t len, struct mysql_str *f,
		      char bufs[4][160])
{
	size_t pos = 0;

	for (unsigned i = 0; i < 4; i++) {
		f[i].ptr = "";
		f[i].len = 0;
		if (pos >= len)
			continue;
		if (pkt[pos] == 0xFB) {
			pos++;
			continue;
		}
		if (mysql_get_lenenc_str(pkt, len, &pos, &f[i]))
			return -1;
		snprintf(bufs[i], 160, "%.*s", (int)(f[i].len > 159 ? 159 :
						     f[i].len), f[i].ptr);
		f[i].ptr = bufs[i];
	}
	return 0;
}

static void rows_sink(void *ctx, const uint8_t *pkt, uint32_t len)
{
	struct rec_shard *rs = ctx;
	struct rec *r = rs->r;
	struct mysql_str f[4];
	char bufs[4][160];

	if (len && pkt[0] == 0xFF)
		return;
	switch (rs->rs_phase) {
	case 0:
		if (rs_parse_column_count(pkt, len, &rs->ncols))
			rs->rs_phase = 4;     /* an OK: nothing to read */
		else
			rs->rs_phase = 1;
		rs->cols_seen = 0;
		return;
	case 1:
		if (++rs->cols_seen == rs->ncols)
			rs->rs_phase = rs->b->caps & CLIENT_DEPRECATE_EOF ? 3 : 2;
		return;
	case 2:
		rs->rs_phase = 3;
		return;
	case 3:
		if (rs_row_pkt_kind(pkt, len, rs->b->caps) != RS_PKT_ROW) {
			rs->rs_phase = 4;
			return;
		}
		if (row_fields(pkt, len, f, bufs))
			return;
		if (rs->query == RQ_RECORDS)
			add_record(r, rs->shard, f);
		else if (rs->query == RQ_RECOVER)
			add_branch(r, rs->shard, f);
		else if (rs->query == RQ_DECISION)
			r->decided = f[0].len == 6 &&
				     !memcmp(f[0].ptr, "commit", 6);
		return;
	default:
		return;
	}
}

/* ---- the steps ------------------------------------------------------- */

static void shard_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct rec_shard *rs = b->sink_ctx;
	struct rec *r = rs->r;

	b->sink = NULL;
	/* A read that failed leaves the view incomplete; an action that
	 * failed (a branch already committed by its coordinator: XAER_NOTA)
	 * is simply done. */
	if (b->failed || b->c.closing ||
	    (err && (rs->query == RQ_RECORDS || rs->query == RQ_RECOVER))) {
		LOGW("xa recovery: shard %s: %u %s",
		     r->w->px->cfg.keyspace->shards[rs->shard].name, err, msg);
		rs->ok = false;
		shard_release(rs, false);
	} else {
		/* Held between steps: a server that goes away meanwhile is
		 * seen by the next request (an idle connection that closes
		 * would be freed under us). */
		conn_pause(&b->c, PAUSE_IDLE);
	}
	if (rs->query == RQ_RECORDS && rs->ok)
		rs->table_made = true;
	rs->query = RQ_NONE;
	if (!--r->running)
		step(r);
}

/* Sends sql (and the table's creation first, when asked) on the shard's
 * connection; the rows go to the sink as query. */
static void shard_query(struct rec_shard *rs, enum rec_query query,
			const char *sql, bool make_table)
{
	struct rec *r = rs->r;

	if (!rs->ok || !rs->b)
		return;
	if ((make_table &&
	     (request(rs->b, "CREATE DATABASE IF NOT EXISTS myring") ||
	      request(rs->b, table_sql))) || request(rs->b, sql)) {
		rs->ok = false;
		shard_release(rs, false);
		return;
	}
	rs->query = (uint8_t)query;
	rs->rs_phase = 0;
	rs->b->sink = rows_sink;
	rs->b->sink_ctx = rs;
	r->running++;
	conn_resume(&rs->b->c, PAUSE_IDLE);
	bconn_run(rs->b, shard_done);
}

static void lent(struct pool_waiter *wt, struct bconn *b, uint16_t err,
		 const char *msg)
{
	struct rec_shard *rs = (struct rec_shard *)((char *)wt -
		offsetof(struct rec_shard, wait));
	struct rec *r = rs->r;

	(void)err;
	if (!b) {
		LOGD("xa recovery: shard %s: %s",
		     r->w->px->cfg.keyspace->shards[rs->shard].name, msg);
		rs->ok = false;
	} else {
		rs->b = b;
		conn_pause(&b->c, PAUSE_IDLE);
	}
	if (!--r->running)
		step(r);
}

/* The write server of a group: its primary, or its first. */
static int write_server(const struct proxy *px, int g)
{
	const struct backend_group *grp;
	unsigned n;

	if (g < 0)
		return -1;
	grp = &px->groups[g];
	n = atomic_load(&grp->nservers);
	for (unsigned i = 0; i < n; i++)
		if (atomic_load(&px->servers[grp->servers[i]].check.role) ==
		    ROLE_PRIMARY)
			return (int)grp->servers[i];
	return n ? (int)grp->servers[0] : -1;
}

static void borrow_all(struct rec *r)
{
	const struct proxy *px = r->w->px;
	const struct keyspace *ks = px->cfg.keyspace;

	r->phase = RP_BORROW;
	r->nshards = ks->nshards;
	r->running = 1;
	for (unsigned i = 0; i < ks->nshards; i++) {
		struct rec_shard *rs = &r->sh[i];
		int sv = write_server(px, ks->shards[i].group_index);
		struct pool_key key = {
			.user = 0,
			.caps = CLIENT_MULTI_RESULTS | CLIENT_DEPRECATE_EOF,
			.charset = 45,
		};
		struct bconn *b = NULL;
		uint16_t err = 0;
		char msg[200];
		enum pool_borrow rb;

		rs->r = r;
		rs->shard = i;
		rs->ok = false;
		rs->b = NULL;
		rs->wait.cont = lent;
		if (sv < 0)
			continue;
		key.server = (unsigned)sv;
		rs->pool = pool_for(r->w, &key);
		if (!rs->pool)
			continue;
		rs->ok = true;
		r->running++;
		rb = pool_borrow(rs->pool, &rs->wait, NULL, &b, &err, msg,
				 sizeof(msg));
		pool_borrowed(&rs->wait, rb, b, err, msg);
	}
	if (!--r->running)
		step(r);
}

static struct rec_record *record_of(struct rec *r, const char *gtrid,
				    unsigned shard)
{
	for (unsigned i = 0; i < r->nrecs; i++)
		if (r->recs[i].shard == shard && !strcmp(r->recs[i].gtrid, gtrid))
			return &r->recs[i];
	return NULL;
}

/* How long this branch has been seen prepared (grace for a coordinator
 * that is still at work), remembered across sweeps. */
static uint64_t prepared_for(struct rec *r, const struct rec_branch *b)
{
	for (unsigned i = 0; i < r->nseen; i++)
		if (r->seen[i].shard == b->shard &&
		    !strcmp(r->seen[i].gtrid, b->gtrid)) {
			r->seen[i].again = true;
			return r->w->now_us - r->seen[i].first_us;
		}
	void *n = realloc(r->seen, (r->nseen + 1) * sizeof(*r->seen));
	if (n) {
		r->seen = n;
		memset(&r->seen[r->nseen], 0, sizeof(r->seen[0]));
		snprintf(r->seen[r->nseen].gtrid, sizeof(r->seen[0].gtrid),
			 "%s", b->gtrid);
		r->seen[r->nseen].shard = b->shard;
		r->seen[r->nseen].first_us = r->w->now_us;
		r->seen[r->nseen].again = true;
		r->nseen++;
	}
	return 0;
}

static int take_manual(const char *gtrid, bool *commit)
{
	int found = -1;

	pthread_mutex_lock(&shown_lock);
	for (unsigned i = 0; i < nmanual; i++)
		if (!strcmp(manual[i].gtrid, gtrid)) {
			*commit = manual[i].commit;
			manual[i--] = manual[--nmanual];
			found = 0;
		}
	pthread_mutex_unlock(&shown_lock);
	return found;
}

static void decide(struct rec *r)
{
	for (unsigned i = 0; i < r->nseen; i++)
		r->seen[i].again = false;
	for (unsigned i = 0; i < r->nbr; i++) {
		struct rec_branch *b = &r->br[i];
		int d = xa_gtrid_decision_shard(b->gtrid, strlen(b->gtrid));
		struct rec_record *rr = record_of(r, b->gtrid, (unsigned)d);
		uint64_t age = prepared_for(r, b);
		bool commit;

		b->act = ACT_WAIT;
		if ((unsigned)d >= r->nshards || !r->sh[d].ok)
			continue;    /* its records could not be read */
		if (rr) {
			rr->needed = true;
			b->act = rr->commit ? ACT_COMMIT : ACT_ROLLBACK;
		} else if (take_manual(b->gtrid, &commit) == 0) {
			b->act = ACT_TOMBSTONE;
			b->manual_commit = commit;
		} else if (age >= r->grace_us) {
			b->act = ACT_TOMBSTONE;
		}
	}
	/* Forget what is prepared no more. */
	for (unsigned i = 0; i < r->nseen;) {
		if (!r->seen[i].again)
			r->seen[i] = r->seen[--r->nseen];
		else
			i++;
	}
}

/* What stats.transactions shows: one row per prepared gtrid. */
static void publish(struct rec *r)
{
	struct xa_indoubt *v = calloc(r->nbr ? r->nbr : 1, sizeof(*v));
	unsigned n = 0;

	if (!v)
		return;
	for (unsigned i = 0; i < r->nbr; i++) {
		const struct rec_branch *b = &r->br[i];
		unsigned k;
		for (k = 0; k < n; k++)
			if (!strcmp(v[k].gtrid, b->gtrid))
				break;
		if (k == n) {
			int d = xa_gtrid_decision_shard(b->gtrid,
							strlen(b->gtrid));
			struct rec_record *rr = record_of(r, b->gtrid,
							  (unsigned)d);
			snprintf(v[k].gtrid, sizeof(v[k].gtrid), "%s", b->gtrid);
			v[k].decision_shard = (unsigned)d;
			v[k].state = rr ? (rr->commit ? "committing" :
					   "rolling back") :
				     b->act == ACT_WAIT ? "in doubt" :
				     "rolling back";
			v[k].age_ms = 0;
			for (unsigned j = 0; j < r->nseen; j++)
				if (!strcmp(r->seen[j].gtrid, b->gtrid) &&
				    (r->w->now_us - r->seen[j].first_us) / 1000 >
				    v[k].age_ms)
					v[k].age_ms = (r->w->now_us -
						       r->seen[j].first_us) / 1000;
			n++;
		}
		size_t l = strlen(v[k].participants);
		snprintf(v[k].participants + l, sizeof(v[k].participants) - l,
			 "%s%s", l ? "," : "",
			 r->w->px->cfg.keyspace->shards[b->shard].name);
	}
	pthread_mutex_lock(&shown_lock);
	free(shown);
	shown = v;
	nshown = n;
	pthread_mutex_unlock(&shown_lock);
}

/* The next branch to act on: a tombstone (and the decision it finds)
 * on its decision shard, then XA COMMIT / ROLLBACK on its own. */
static void act_next(struct rec *r)
{
	char sql[400], q[200];

	while (r->act_next < r->nbr) {
		struct rec_branch *b = &r->br[r->act_next];
		struct rec_shard *at = &r->sh[b->shard];
		int d = xa_gtrid_decision_shard(b->gtrid, strlen(b->gtrid));

		if (b->act == ACT_TOMBSTONE) {
			struct rec_shard *ds = &r->sh[d];
			/* Whoever commits first wins the key: the coordinator's
			 * record (then its decision stands) or this one. */
			snprintf(sql, sizeof(sql), "INSERT INTO "
				 "myring.xa_decisions (gtrid, decision) VALUES "
				 "('%s', '%s') ON DUPLICATE KEY UPDATE gtrid = "
				 "gtrid", b->gtrid, b->manual_commit ? "commit" :
				 "rollback");
			if (!ds->ok || !ds->b || request(ds->b, sql)) {
				b->act = ACT_WAIT;
				continue;
			}
			snprintf(sql, sizeof(sql), "SELECT decision FROM "
				 "myring.xa_decisions WHERE gtrid = '%s'",
				 b->gtrid);
			r->decided = -1;
			b->act = ACT_WAIT;
			shard_query(ds, RQ_DECISION, sql, false);
			/* Once read, the branch is acted on (same index). */
			b->act = ACT_TOMBSTONE + 1;
			if (r->running)
				return;
			continue;
		}
		if (b->act == ACT_TOMBSTONE + 1) {
			b->act = r->decided == 1 ? ACT_COMMIT :
				 r->decided == 0 ? ACT_ROLLBACK : ACT_WAIT;
			if (b->act == ACT_WAIT) {
				r->act_next++;
				continue;
			}
		}
		r->act_next++;
		if (b->act == ACT_WAIT || !at->ok || !at->b)
			continue;
		if (xa_sql(q, sizeof(q), b->act == ACT_COMMIT ? "COMMIT" :
			   "ROLLBACK", b->gtrid, b->bqual) < 0)
			continue;
		LOGI("xa recovery: %s branch %u of %s on shard %s",
		     b->act == ACT_COMMIT ? "committing" : "rolling back",
		     b->bqual, b->gtrid,
		     r->w->px->cfg.keyspace->shards[b->shard].name);
		r->w->stats.xa_recovered++;
		shard_query(at, RQ_NONE, q, false);
		if (r->running)
			return;
	}
	/* Every branch acted on: the records nobody needs go. */
	for (unsigned s = 0; s < r->nshards; s++) {
		struct rec_shard *rs = &r->sh[s];
		size_t off;
		bool any = false;

		if (!rs->ok || !rs->b)
			continue;
		off = (size_t)snprintf(sql, sizeof(sql), "DELETE FROM "
				       "myring.xa_decisions WHERE gtrid IN (");
		for (unsigned i = 0; i < r->nrecs; i++) {
			struct rec_record *rr = &r->recs[i];
			size_t need = strlen(rr->gtrid) + 4;
			if (rr->shard != s || rr->needed ||
			    (!rr->commit && rr->age_s < TOMBSTONE_KEEP_S) ||
			    off + need + 2 >= sizeof(sql))
				continue;
			off += (size_t)snprintf(sql + off, sizeof(sql) - off,
						"%s'%s'", any ? "," : "",
						rr->gtrid);
			any = true;
			rr->needed = true;   /* once */
		}
		if (!any)
			continue;
		snprintf(sql + off, sizeof(sql) - off, ")");
		shard_query(rs, RQ_NONE, sql, false);
		if (r->running)
			return;
	}
	r->phase = RP_IDLE;
	for (unsigned s = 0; s < r->nshards; s++)
		shard_release(&r->sh[s], true);
	r->next_us = r->w->now_us + r->interval_us;
}

static void step(struct rec *r)
{
	bool all_ok = true;

	switch (r->phase) {
	case RP_BORROW:
		r->phase = RP_RECORDS;
		r->nrecs = 0;
		r->nbr = 0;
		r->running = 1;
		for (unsigned i = 0; i < r->nshards; i++)
			shard_query(&r->sh[i], RQ_RECORDS, "SELECT gtrid, "
				    "decision, TIMESTAMPDIFF(SECOND, created, "
				    "NOW(6)) FROM myring.xa_decisions",
				    !r->sh[i].table_made);
		if (!--r->running)
			step(r);
		return;
	case RP_RECORDS:
		r->phase = RP_PREPARED;
		r->running = 1;
		for (unsigned i = 0; i < r->nshards; i++)
			shard_query(&r->sh[i], RQ_RECOVER, "XA RECOVER", false);
		if (!--r->running)
			step(r);
		return;
	case RP_PREPARED:
		for (unsigned i = 0; i < r->nshards; i++)
			all_ok = all_ok && r->sh[i].ok;
		decide(r);
		if (!all_ok)
			/* Only a complete view may delete records. */
			for (unsigned i = 0; i < r->nrecs; i++)
				r->recs[i].needed = true;
		publish(r);
		r->phase = RP_ACT;
		r->act_next = 0;
		act_next(r);
		return;
	case RP_ACT:
		act_next(r);
		return;
	default:
		return;
	}
}

void xa_recover_tick(struct worker *w)
{
	struct rec *r = rec_state;

	/* Not while draining: the worker ends once no connection is left. */
	if (w->id != 0 || !w->px->cfg.keyspace || !w->px->cfg.nusers ||
	    w->draining)
		return;
	if (!r) {
		r = rec_state = calloc(1, sizeof(*r));
		if (!r)
			return;
		r->w = w;
		r->interval_us = (uint64_t)w->px->cfg.xa_recovery_interval_ms *
				 1000;
		r->grace_us = (uint64_t)w->px->cfg.xa_grace_ms * 1000;
		/* The first sweep at once: it makes the table too. */
		r->next_us = w->now_us;
	}
	if (r->phase != RP_IDLE || w->now_us < r->next_us)
		return;
	borrow_all(r);
}
