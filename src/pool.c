/*
 * pool.c - a worker's backend connections for one server and login: lend,
 * take back, reset, open, close (see pool.h).
 */
#include "pool.h"

#include "log.h"
#include "mysql_proto.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a session waiting for a server that went away hears. */
#define ER_BACKEND_UNREACHABLE_POOL 1429

/* Connect failures back off from this to BACKOFF_MAX_MS, doubling. */
#define BACKOFF_MIN_MS 100u
#define BACKOFF_MAX_MS 5000u

static const struct bconn_owner_ops pool_owner_ops;

/* Counted for the pool and for its worker. */
#define COUNT(p, field, n) ((p)->stats.field += (n), \
			    (p)->w->stats.pool.field += (n))

static const struct config *cfg_of(const struct pool *p)
{
	return &p->w->px->cfg;
}

/* A server the checker shunned (or a reload removed) keeps no idle
 * connection and opens none; lent ones close when they come back. */
static bool server_usable(const struct pool *p)
{
	uint8_t h = server_health(p->srv);

	return h != HEALTH_SHUNNED && h != HEALTH_DRAINING;
}

/* A pool of its own per login and per set of client capabilities that
 * change the server's answers (and the handshake's collation, so that no
 * connection needs its character set replayed). */
static void pool_init(struct pool *p, struct worker *w,
		      const struct pool_key *key)
{
	const struct auth_user *u = &w->px->cfg.users[key->user];

	memset(p, 0, sizeof(*p));
	p->w = w;
	p->srv = &w->px->servers[key->server];
	p->key = *key;
	/* The login the config names for this user's connections, or the
	 * user itself with what is known of its password (more may come
	 * from its clients' logins: pool_learn_secret). */
	snprintf(p->user, sizeof(p->user), "%s",
		 u->backend_explicit ? u->backend_user : u->name);
	p->login.user = p->user;
	if (u->backend_explicit)
		p->secret = u->backend_secret;
	else if (u->have & (AUTH_USER_PLAIN | AUTH_USER_EMPTY))
		p->secret = u->secret;
	p->login.secret = &p->secret;
	p->login.charset = key->charset;
	p->login.caps = key->caps;
	p->waiters_tail = &p->waiters;
}

static void learn_one(struct pool *p, const struct auth_secret *secret);

struct pool *pool_for(struct worker *w, const struct pool_key *key)
{
	struct pool *p, **grown;

	for (unsigned i = 0; i < w->npools; i++) {
		p = w->pools[i];
		if (p->key.server == key->server && p->key.user == key->user &&
		    p->key.caps == key->caps &&
		    p->key.charset == key->charset)
			return p;
	}
	grown = realloc(w->pools, (w->npools + 1) * sizeof(*grown));
	if (!grown)
		return NULL;
	w->pools = grown;
	p = calloc(1, sizeof(*p));
	if (!p)
		return NULL;
	pool_init(p, w, key);
	/* A pool for another server of a login already seen here knows what
	 * its sibling learned of the password. */
	for (unsigned i = 0; i < w->npools; i++)
		if (w->pools[i]->key.user == key->user &&
		    w->pools[i]->secret.know)
			learn_one(p, &w->pools[i]->secret);
	w->pools[w->npools++] = p;
	return p;
}

static void learn_one(struct pool *p, const struct auth_secret *secret)
{
	if (secret->know & AUTH_KNOW_PLAIN) {
		if (!(p->secret.know & AUTH_KNOW_PLAIN))
			p->secret = *secret;
		return;
	}
	if (secret->know & AUTH_KNOW_NATIVE) {
		memcpy(p->secret.native_stage1, secret->native_stage1, 20);
		p->secret.know |= AUTH_KNOW_NATIVE;
	}
	if (secret->know & AUTH_KNOW_SHA2) {
		memcpy(p->secret.sha2_stage1, secret->sha2_stage1, 32);
		p->secret.know |= AUTH_KNOW_SHA2;
	}
}

/* Every pool of the login on this worker learns it: one per server. */
void pool_learn_secret(struct pool *p, const struct auth_secret *secret)
{
	struct worker *w = p->w;

	for (unsigned i = 0; i < w->npools; i++)
		if (w->pools[i]->key.user == p->key.user)
			learn_one(w->pools[i], secret);
}

unsigned pool_open(const struct pool *p)
{
	return p->nidle + p->nlent + p->nopening + p->nresetting;
}

/* Counts a connection against the server's cap; false at the cap. */
static bool reserve(struct pool *p)
{
	unsigned n = atomic_fetch_add(&p->srv->open, 1);

	if (n < p->srv->max_conns)
		return true;
	atomic_fetch_sub(&p->srv->open, 1);
	return false;
}

static void unreserve(struct pool *p)
{
	atomic_fetch_sub(&p->srv->open, 1);
}

static bool open_one(struct pool *p)
{
	struct bconn *b;

	/* Nothing known of the password yet (a user configured with the
	 * server's hash, before any client logged in): no login possible. */
	if (!p->secret.know || p->w->now_us < p->backoff_until_us ||
	    !reserve(p))
		return false;
	b = bconn_open(p->w, p->srv, &p->login, &pool_owner_ops, p);
	if (!b) {
		unreserve(p);
		snprintf(p->last_error, sizeof(p->last_error),
			 "out of memory or descriptors");
		return false;
	}
	p->nopening++;
	return true;
}

/* ---- waiters -------------------------------------------------------- */

/* Whether b can serve wt: no command unselects a schema, so a session
 * without one needs a connection without one. */
static bool fits(const struct pool_waiter *wt, const struct bconn *b)
{
	return !b || !wt->no_schema || !b->st.has_schema;
}

/* Takes the first waiter b fits out of line (b NULL: the first one). */
static struct pool_waiter *take_waiter(struct pool *p, const struct bconn *b)
{
	struct pool_waiter **pp = &p->waiters, *wt;

	while (*pp && !fits(*pp, b))
		pp = &(*pp)->next;
	wt = *pp;
	if (!wt)
		return NULL;
	*pp = wt->next;
	if (!*pp)
		p->waiters_tail = pp;
	wt->next = NULL;
	wt->queued = false;
	p->nwaiters--;
	return wt;
}

void pool_borrowed(struct pool_waiter *wt, enum pool_borrow r,
		   struct bconn *b, uint16_t err, const char *msg)
{
	if (r == BORROW_NOW)
		wt->cont(wt, b, 0, NULL);
	else if (r == BORROW_FAILED)
		wt->cont(wt, NULL, err, msg);
}

void pool_cancel(struct pool *p, struct pool_waiter *wt)
{
	struct pool_waiter **pp = &p->waiters;

	if (!wt->queued)
		return;
	while (*pp && *pp != wt)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = wt->next;
		if (!*pp)
			p->waiters_tail = pp;
		p->nwaiters--;
	}
	wt->next = NULL;
	wt->queued = false;
}

/* Every waiter gets err: nothing is coming for them. */
static void fail_waiters(struct pool *p, uint16_t err, const char *msg)
{
	struct pool_waiter *wt;

	while ((wt = take_waiter(p, NULL)))
		wt->cont(wt, NULL, err, msg);
}

/* ---- lending -------------------------------------------------------- */

static void lend(struct pool *p, struct bconn *b)
{
	b->state = BS_LINKED;
	b->used_us = p->w->now_us;
	p->nlent++;
	COUNT(p, borrows, 1);
}

/* b is set up and clean: to the first waiter, else idle. */
static void available(struct pool *p, struct bconn *b)
{
	struct pool_waiter *wt = take_waiter(p, b);

	if (p->shut) {
		bconn_close(b);
		return;
	}
	if (wt) {
		lend(p, b);
		wt->cont(wt, b, 0, NULL);
		return;
	}
	b->state = BS_IDLE;
	b->idle_since_us = p->w->now_us;
	b->next = p->idle;
	p->idle = b;
	p->nidle++;
	conn_arm_recv(&b->c);
}

/* The idle connection to lend for schema: the most recently returned one
 * that is in it already, else the most recent that fits. */
static struct bconn **pick_idle(struct pool *p, const struct pool_waiter *wt,
				const char *schema)
{
	struct bconn **best = NULL;
	unsigned looked = 0;

	for (struct bconn **pp = &p->idle; *pp && looked < 16;
	     pp = &(*pp)->next, looked++) {
		if (!fits(wt, *pp))
			continue;
		if (!strcmp((*pp)->st.schema, schema ? schema : ""))
			return pp;
		if (!best)
			best = pp;
	}
	return best;
}

enum pool_borrow pool_borrow(struct pool *p, struct pool_waiter *wt,
			     const char *schema, struct bconn **out,
			     uint16_t *err, char *msg, size_t msglen)
{
	struct bconn **pp, *b;

	wt->no_schema = !schema || !schema[0];
	pp = pick_idle(p, wt, schema);
	if (pp) {
		b = *pp;
		*pp = b->next;
		b->next = NULL;
		p->nidle--;
		lend(p, b);
		*out = b;
		return BORROW_NOW;
	}
	/* One new connection per waiter at most: connections being opened
	 * or reset already serve the ones in line before this one. */
	if (p->nopening + p->nresetting <= p->nwaiters && !open_one(p) &&
	    p->w->now_us < p->backoff_until_us && pool_open(p) == 0) {
		/* The server is down and nothing of ours can come back. */
		*err = 1429;
		snprintf(msg, msglen, "%s", p->last_error);
		return BORROW_FAILED;
	}
	wt->deadline_us = p->w->now_us + (uint64_t)cfg_of(p)->pool_wait_ms * 1000u;
	wt->queued = true;
	wt->next = NULL;
	*p->waiters_tail = wt;
	p->waiters_tail = &wt->next;
	p->nwaiters++;
	COUNT(p, waits, 1);
	return BORROW_WAIT;
}

static void reset_done(struct bconn *b, uint16_t err, const char *msg)
{
	struct pool *p = b->pool;

	p->nresetting--;
	if (err) {
		LOGW("backend %s: resetting a connection failed: %u %s; closing it",
		     p->srv->addr.text, err, msg);
		bconn_close(b);
		return;
	}
	b->dirty = false;
	bconn_state_fresh(b);
	/* The reset closed the connection's statements. */
	stmt_cache_clear(&b->stc);
	available(p, b);
}

void pool_drop(struct pool *p, struct bconn *b)
{
	p->nlent--;
	bconn_take_back(b);
	bconn_close(b);
}

void pool_return(struct pool *p, struct bconn *b)
{
	const struct config *cfg = cfg_of(p);
	static const uint8_t reset[] = {COM_RESET_CONNECTION};

	p->nlent--;
	bconn_take_back(b);
	if (p->shut || !server_usable(p)) {
		bconn_close(b);
		return;
	}
	if (cfg->pool_max_age_ms &&
	    p->w->now_us - b->created_us > (uint64_t)cfg->pool_max_age_ms * 1000u) {
		COUNT(p, closed_idle, 1);
		bconn_close(b);
		return;
	}
	if (!b->dirty) {
		available(p, b);
		return;
	}
	/* COM_RESET_CONNECTION drops what the last borrower left (temporary
	 * tables, locks, variables, prepared statements) and the session
	 * trackers with it, so they are set up again. */
	p->nresetting++;
	COUNT(p, resets, 1);
	if (bconn_request(b, reset, sizeof(reset), RESP_SINGLE) ||
	    bconn_setup_request(b)) {
		p->nresetting--;
		bconn_close(b);
		return;
	}
	bconn_run(b, reset_done);
}

/* ---- what backend.c reports ----------------------------------------- */

static void on_ready(struct bconn *b)
{
	struct pool *p = b->pool;

	p->nopening--;
	COUNT(p, connects, 1);
	COUNT(p, connect_us, p->w->now_us - b->created_us);
	if (p->w->now_us - b->created_us > p->connect_max_us)
		p->connect_max_us = p->w->now_us - b->created_us;
	p->backoff_ms = 0;
	p->w->backend_down = false;
	available(p, b);
}

/* Connecting, logging in or setting up failed (lent connections and
 * resets hear of failures through their requests' continuation). */
static void on_failed(struct bconn *b, const char *why)
{
	struct pool *p = b->pool;

	snprintf(p->last_error, sizeof(p->last_error),
		 "cannot connect to backend %.100s: %.180s", p->srv->addr.text,
		 why);
	LOGW("%s", p->last_error);
	p->nopening--;
	COUNT(p, connect_errors, 1);
	p->w->stats.backend_connect_failed++;
	p->w->backend_down = true;
	atomic_fetch_add(&p->srv->connect_errors, 1);
	p->backoff_ms = p->backoff_ms ? p->backoff_ms * 2 : BACKOFF_MIN_MS;
	if (p->backoff_ms > BACKOFF_MAX_MS)
		p->backoff_ms = BACKOFF_MAX_MS;
	p->backoff_until_us = p->w->now_us + (uint64_t)p->backoff_ms * 1000u;
	/* Waiters nothing else can serve hear it now, not at their
	 * deadline; the message names the server (a group has several). */
	if (p->nwaiters > p->nopening + p->nresetting + p->nlent) {
		char msg[sizeof(p->last_error)];
		snprintf(msg, sizeof(msg), "%s", p->last_error);
		fail_waiters(p, 1429, msg);
	}
}

static void unlink_idle(struct pool *p, struct bconn *b)
{
	struct bconn **pp = &p->idle;

	while (*pp && *pp != b)
		pp = &(*pp)->next;
	if (*pp) {
		*pp = b->next;
		p->nidle--;
	}
	b->next = NULL;
}

static void on_lost(struct bconn *b)
{
	struct pool *p = b->pool;

	unlink_idle(p, b);
	COUNT(p, lost_idle, 1);
	LOGI("backend %s: an idle connection (thread %u) was closed by the "
	     "server", p->srv->addr.text, b->thread_id);
}

/* The conn is released: the cap gets its place back.  Lists no longer
 * hold b: idle ones are unlinked when closed (lost, tick, shutdown). */
static void on_gone(struct bconn *b)
{
	unreserve(b->pool);
}

static const struct bconn_owner_ops pool_owner_ops = {
	.ready = on_ready,
	.failed = on_failed,
	.gone = on_gone,
	.lost = on_lost,
};

/* ---- housekeeping --------------------------------------------------- */

static void close_idle(struct pool *p, struct bconn **pp)
{
	struct bconn *b = *pp;

	*pp = b->next;
	b->next = NULL;
	p->nidle--;
	bconn_close(b);
}

void pool_shutdown(struct pool *p)
{
	p->shut = true;
	while (p->idle)
		close_idle(p, &p->idle);
	fail_waiters(p, 1053, "proxy shutting down");
}

void pool_tick(struct pool *p)
{
	const struct config *cfg = cfg_of(p);
	uint64_t now = p->w->now_us;
	struct pool_waiter *wt;
	unsigned wanted;

	/* Waiters are in arrival order, so deadlines are too. */
	while ((wt = p->waiters) && now >= wt->deadline_us) {
		char msg[300];
		take_waiter(p, NULL);
		COUNT(p, wait_timeouts, 1);
		snprintf(msg, sizeof(msg), "no backend connection free within "
			 "%u ms (--pool-size %u reached)", cfg->pool_wait_ms,
			 p->srv->max_conns);
		wt->cont(wt, NULL, 1040, msg);
	}
	/* Idle connections past their time go, down to the minimum; also
	 * one per worker tick when another worker waits at the cap. */
	wanted = atomic_load_explicit(&p->srv->wanted, memory_order_relaxed);
	for (struct bconn **pp = &p->idle; *pp;) {
		struct bconn *b = *pp;
		bool old = cfg->pool_max_age_ms &&
			   now - b->created_us > (uint64_t)cfg->pool_max_age_ms * 1000u;
		bool stale = cfg->pool_idle_timeout_ms && p->nidle > cfg->pool_min_idle &&
			     now - b->idle_since_us >
			     (uint64_t)cfg->pool_idle_timeout_ms * 1000u;
		bool give = wanted && !p->nwaiters &&
			    atomic_compare_exchange_strong(&p->srv->wanted,
							   &wanted, wanted - 1);
		if (!old && !stale && !give) {
			pp = &b->next;
			continue;
		}
		COUNT(p, closed_idle, 1);
		close_idle(p, pp);
		wanted = atomic_load_explicit(&p->srv->wanted,
					      memory_order_relaxed);
	}
	if (p->shut)
		return;
	if (!server_usable(p)) {
		char msg[300];

		while (p->idle)
			close_idle(p, &p->idle);
		if (p->nwaiters) {
			snprintf(msg, sizeof(msg), "backend %.100s is %s",
				 p->srv->addr.text,
				 server_health(p->srv) == HEALTH_SHUNNED ?
				 "shunned by the health checks" :
				 "draining (removed by a reload)");
			fail_waiters(p, ER_BACKEND_UNREACHABLE_POOL, msg);
		}
		return;
	}
	/* Waiters with nothing coming (a connection was closed meanwhile,
	 * another worker gave one back to the cap) get a new one; at the cap,
	 * the other workers are asked to close an idle one of theirs. */
	while (p->nwaiters > p->nopening + p->nresetting) {
		unsigned zero = 0;
		if (open_one(p))
			continue;
		if (now >= p->backoff_until_us)
			atomic_compare_exchange_strong(&p->srv->wanted, &zero, 1);
		break;
	}
	while (p->nidle + p->nopening < cfg->pool_min_idle && open_one(p))
		;
}

void pool_count_command(struct pool *p, bool pinned)
{
	COUNT(p, commands, 1);
	if (pinned)
		COUNT(p, pinned_commands, 1);
}

void pool_publish(struct worker *w)
{
	struct pool_gauges g = {0};

	for (unsigned i = 0; i < w->npools; i++) {
		const struct pool *p = w->pools[i];
		g.idle += p->nidle;
		g.in_use += p->nlent;
		g.opening += p->nopening;
		g.resetting += p->nresetting;
		g.waiting += p->nwaiters;
	}
	__atomic_store_n(&w->pool_now.idle, g.idle, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pool_now.in_use, g.in_use, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pool_now.opening, g.opening, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pool_now.resetting, g.resetting, __ATOMIC_RELAXED);
	__atomic_store_n(&w->pool_now.waiting, g.waiting, __ATOMIC_RELAXED);
}
