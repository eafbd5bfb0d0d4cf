/*
 * admin_pool_tables.c - the admin tables of backend connections:
 * stats.backends, stats.pools, stats.sessions (from the copies the
 * workers made, ctl.c) and stats.pins (from counters and gauges).
 */
#include "admin_tables.h"

#include "pins.h"

#include <stdio.h>
#include <string.h>

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

/*
 * One server for now (--backend); its row sums the pools of every
 * worker.  In pass-through mode each client has a connection of its own
 * for life: the row counts those.
 */
void backends_table(const struct proxy *px, const struct ctl_result *res,
		    unsigned n, struct table *t)
{
	struct pool_stats st = {0};
	unsigned idle = 0, in_use = 0, opening = 0, resetting = 0, waiting = 0;
	uint64_t connect_max_us = 0, backoff_ms = 0;
	const char *last_error = NULL;
	size_t r;

	tb_for(t, "backends");
	r = tb_row(t);
	tb_text(t, r, 0, "%s", px->backend.text);
	if (px->cfg.auth != AUTH_PROXY) {
		tb_text(t, r, 1, "passthrough");
		for (unsigned w = 0; w < n; w++)
			for (size_t i = 0; i < res[w].nsessions; i++)
				in_use += res[w].sessions[i].backend_thread != 0;
		st.connects = STATS_SUM(px, backend_connects);
		st.connect_errors = STATS_SUM(px, backend_connect_failed);
		tb_u64(t, r, 3, in_use);
		tb_u64(t, r, 4, in_use);
		tb_u64(t, r, 9, st.connects);
		tb_u64(t, r, 10, st.connect_errors);
		return;
	}
	for (unsigned w = 0; w < n; w++)
		for (size_t i = 0; i < res[w].npools; i++) {
			const struct ctl_pool *p = &res[w].pools[i];

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
	tb_text(t, r, 1, "proxy");
	tb_u64(t, r, 2, px->servers[0].max_conns);
	tb_u64(t, r, 3, atomic_load_explicit(&px->servers[0].open,
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
