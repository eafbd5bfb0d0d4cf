/*
 * admin_pool_tables.c - the admin tables of backend connections:
 * stats.backends, stats.pools, stats.sessions (from the copies the
 * workers made, ctl.c) and stats.pins (from counters and gauges).
 */
#include "admin_tables.h"

#include "pins.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

static void tb_for(struct table *t, const char *name)
{
	const struct catalog_entry *ce = catalog_find("stats", name);

	tb_init(t, ce->name, ce->cols, ce->types, ce->ncols);
}

static uint64_t avg(uint64_t sum, uint64_t n)
{
	return n ? sum / n : 0;
}

/* Columns connects .. lost_idle, from col on, as both tables have them. */
static unsigned pool_counts(struct table *t, size_t r, unsigned col,
			    const struct pool_stats *st, uint64_t connect_max_us)
{
	tb_u64(t, r, col++, st->connects);
	tb_u64(t, r, col++, st->connect_errors);
	tb_u64(t, r, col++, avg(st->connect_us, st->connects));
	tb_u64(t, r, col++, connect_max_us);
	tb_u64(t, r, col++, st->borrows);
	tb_u64(t, r, col++, st->waits);
	tb_u64(t, r, col++, st->wait_timeouts);
	tb_u64(t, r, col++, st->resets);
	tb_u64(t, r, col++, st->closed_idle);
	tb_u64(t, r, col++, st->lost_idle);
	return col;
}

static void pool_stats_add(struct pool_stats *to, const struct pool_stats *st)
{
	to->connects += st->connects;
	to->connect_us += st->connect_us;
	to->connect_errors += st->connect_errors;
	to->borrows += st->borrows;
	to->waits += st->waits;
	to->wait_timeouts += st->wait_timeouts;
	to->resets += st->resets;
	to->closed_idle += st->closed_idle;
	to->lost_idle += st->lost_idle;
	to->commands += st->commands;
	to->pinned_commands += st->pinned_commands;
}

void pools_table(const struct ctl_result *res, unsigned n, struct table *t)
{
	tb_for(t, "pools");
	for (unsigned w = 0; w < n; w++)
		for (size_t i = 0; i < res[w].npools; i++) {
			const struct ctl_pool *p = &res[w].pools[i];
			size_t r = tb_row(t);
			unsigned col;

			tb_u64(t, r, 0, p->worker);
			tb_text(t, r, 1, "%s", p->user);
			tb_text(t, r, 2, "%s", p->server);
			tb_u64(t, r, 3, p->charset);
			tb_u64(t, r, 4, p->idle);
			tb_u64(t, r, 5, p->in_use);
			tb_u64(t, r, 6, p->opening);
			tb_u64(t, r, 7, p->resetting);
			tb_u64(t, r, 8, p->waiting);
			col = pool_counts(t, r, 9, &p->stats, p->connect_max_us);
			tb_u64(t, r, col++, p->stats.commands);
			tb_u64(t, r, col++, p->stats.pinned_commands);
			tb_u64(t, r, col++, p->backoff_ms);
			if (p->last_error[0])
				tb_text(t, r, col, "%s", p->last_error);
		}
}

static const char *const role_names[] = {"unknown", "primary", "replica"};
static const char *const health_names[] = {
	"unknown", "online", "shunned", "lagging", "draining",
};

/* What the checker says of server i (columns grp .. gtid_position). */
static void check_columns(const struct proxy *px, unsigned i, struct table *t,
			  size_t r)
{
	const struct backend_server *sv = &px->servers[i];
	const struct server_check *c = &sv->check;
	uint8_t role = atomic_load(&c->role), health = server_health(sv);
	int64_t lag = atomic_load(&c->lag_ms);
	uint64_t since = atomic_load(&c->since_s), commands = 0;
	char err[256], gtid[GTID_POS_MAX];
	time_t ts;
	struct tm tm;

	for (unsigned w = 0; w < px->nworkers; w++)
		if (px->workers[w].routed)
			commands += stat_peek(&px->workers[w].routed[i]);
	server_check_strings(c, err, sizeof(err), gtid, sizeof(gtid));
	tb_text(t, r, 21, "%s", px->groups[sv->group].name);
	tb_text(t, r, 22, "%s", role_names[role < 3 ? role : 0]);
	tb_text(t, r, 23, "%s", health_names[health < 5 ? health : 0]);
	if (lag >= 0)
		tb_i64(t, r, 24, lag);
	if (atomic_load(&c->server_id))
		tb_u64(t, r, 25, atomic_load(&c->server_id));
	tb_u64(t, r, 26, sv->weight);
	tb_u64(t, r, 27, commands);
	if (atomic_load(&c->checks))
		tb_u64(t, r, 28, atomic_load(&c->check_us));
	tb_u64(t, r, 29, atomic_load(&c->checks));
	tb_u64(t, r, 30, atomic_load(&c->failures));
	if (since) {
		ts = (time_t)since;
		gmtime_r(&ts, &tm);
		tb_text(t, r, 31, "%04d-%02d-%02d %02d:%02d:%02d",
			tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour,
			tm.tm_min, tm.tm_sec);
	}
	if (err[0])
		tb_text(t, r, 32, "%s", err);
	if (gtid[0])
		tb_text(t, r, 33, "%s", gtid);
}

/* In pass-through mode each client has a connection of its own for life
 * to --backend: one row counts those. */
static void passthrough_row(const struct proxy *px,
			    const struct ctl_result *res, unsigned n,
			    struct table *t)
{
	unsigned in_use = 0;
	size_t r = tb_row(t);

	tb_text(t, r, 0, "%s", px->backend.text);
	tb_text(t, r, 1, "passthrough");
	for (unsigned w = 0; w < n; w++)
		for (size_t i = 0; i < res[w].nsessions; i++)
			in_use += res[w].sessions[i].backend_thread != 0;
	tb_u64(t, r, 3, in_use);
	tb_u64(t, r, 4, in_use);
	tb_u64(t, r, 9, STATS_SUM(px, backend_connects));
	tb_u64(t, r, 10, STATS_SUM(px, backend_connect_failed));
}

/* One row per server (auth: proxy), summing every worker's pools on it. */
void backends_table(const struct proxy *px, const struct ctl_result *res,
		    unsigned n, struct table *t)
{
	tb_for(t, "backends");
	if (px->cfg.auth != AUTH_PROXY) {
		passthrough_row(px, res, n, t);
		return;
	}
	for (unsigned s = 0; s < px->nservers; s++) {
		struct pool_stats st = {0};
		unsigned idle = 0, in_use = 0, opening = 0, resetting = 0;
		unsigned waiting = 0;
		uint64_t connect_max_us = 0, backoff_ms = 0;
		const char *last_error = NULL;
		size_t r = tb_row(t);

		for (unsigned w = 0; w < n; w++)
			for (size_t i = 0; i < res[w].npools; i++) {
				const struct ctl_pool *p = &res[w].pools[i];

				if (p->server_idx != s)
					continue;
				idle += p->idle;
				in_use += p->in_use;
				opening += p->opening;
				resetting += p->resetting;
				waiting += p->waiting;
				pool_stats_add(&st, &p->stats);
				if (p->connect_max_us > connect_max_us)
					connect_max_us = p->connect_max_us;
				if (p->backoff_ms > backoff_ms)
					backoff_ms = p->backoff_ms;
				if (p->last_error[0])
					last_error = p->last_error;
			}
		tb_text(t, r, 0, "%s", px->servers[s].addr.text);
		tb_text(t, r, 1, "proxy");
		tb_u64(t, r, 2, px->servers[s].max_conns);
		tb_u64(t, r, 3, atomic_load_explicit(&px->servers[s].open,
						     memory_order_relaxed));
		tb_u64(t, r, 4, in_use);
		tb_u64(t, r, 5, idle);
		tb_u64(t, r, 6, opening);
		tb_u64(t, r, 7, resetting);
		tb_u64(t, r, 8, waiting);
		pool_counts(t, r, 9, &st, connect_max_us);
		tb_u64(t, r, 19, backoff_ms);
		if (last_error)
			tb_text(t, r, 20, "%s", last_error);
		check_columns(px, s, t, r);
	}
}

void pins_table(const struct proxy *px, struct table *t)
{
	tb_for(t, "pins");
	for (unsigned i = 0; i < PIN_NREASONS; i++) {
		uint64_t count = 0, now = 0;
		size_t r;

		for (unsigned w = 0; w < px->nworkers; w++) {
			count += stat_peek(&px->workers[w].stats.pins[i]);
			now += stat_peek(&px->workers[w].pinned_now[i]);
		}
		r = tb_row(t);
		tb_text(t, r, 0, "%s", pin_reason_name(i));
		tb_u64(t, r, 1, count);
		tb_u64(t, r, 2, now);
	}
}

/* "temporary_table,named_lock", or "" when the session is not pinned. */
static void pin_list(uint32_t pins, char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < PIN_NREASONS && len < cap; i++)
		if (pins & (1u << i)) {
			int k = snprintf(out + len, cap - len, "%s%s",
					 len ? "," : "", pin_reason_name(i));
			if (k < 0)
				break;
			len += (size_t)k;
		}
}

void sessions_table(const struct ctl_result *res, unsigned n,
		    uint64_t id_base, struct table *t)
{
	tb_for(t, "sessions");
	for (unsigned w = 0; w < n; w++)
		for (size_t i = 0; i < res[w].nsessions; i++) {
			const struct ctl_session *s = &res[w].sessions[i];
			char pins[256];
			size_t r = tb_row(t);

			tb_u64(t, r, 0, s->id + id_base);
			if (s->connection_id)
				tb_u64(t, r, 1, s->connection_id);
			tb_u64(t, r, 2, s->worker);
			if (s->user[0])
				tb_text(t, r, 3, "%s", s->user);
			if (s->schema[0])
				tb_text(t, r, 4, "%s", s->schema);
			tb_text(t, r, 5, "%s", s->client);
			tb_text(t, r, 6, "%s", s->command);
			tb_u64(t, r, 7, s->busy_us / 1000);
			tb_text(t, r, 8, "%s", s->state);
			if (s->backend_thread)
				tb_u64(t, r, 9, s->backend_thread);
			pin_list(s->pins, pins, sizeof(pins));
			tb_text(t, r, 10, "%s", pins);
			tb_u64(t, r, 11, s->in_trans);
			tb_text(t, r, 12, "%s", s->pooled ? "proxy" : "passthrough");
		}
}
