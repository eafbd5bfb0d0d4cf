/*
 * admin.c - an admin-port connection (see admin.h).
 *
 * Tables: stats.stats (= SHOW STATS), stats.workers, stats.rules and
 * stats.digests; SHOW CONFIG; RELOAD CONFIG; RESET STATS.  Digests need
 * every worker's table, so that statement waits for a control request;
 * everything else is answered at once from counters that only grow.
 */
#include "admin.h"

#include "admin_sql.h"
#include "counters.h"
#include "histogram.h"
#include "hooks.h"
#include "intercept.h"
#include "log.h"
#include "mysql_auth.h"
#include "mysql_proto.h"
#include "reload.h"
#include "strbuf.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif

enum phase { AD_HANDSHAKE, AD_SWITCH, AD_COMMAND };

struct admin_conn {
	const struct proxy *px;
	uint32_t id;
	uint64_t start_s;
	char peer[64];
	uint8_t scramble[20];
	uint8_t stage2[20];
	bool empty_password;
	enum phase phase;
	uint64_t caps;
	char user[64];
	enum admin_wait waiting;
	uint8_t reply_seq;         /* of the answer to the waiting statement */
	struct admin_stmt stmt;    /* the statement waiting for the workers */
	char *sql;                 /* its text (stmt may point into it) */
};

/* ---- building tables ---------------------------------------------------- */

/* Cells are filled row by row; text goes to one buffer and the pointers
 * are fixed up once it stops moving. */
struct table {
	const char *const *names;
	const enum admin_col_type *types;
	unsigned ncols;
	struct admin_value *cells;
	size_t nrows, cap_rows;
	size_t *text_off;          /* per cell: offset in text, or SIZE_MAX */
	struct strbuf text;
	bool oom;
};

static void tb_init(struct table *t, const char *const *names,
		    const enum admin_col_type *types, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->names = names;
	t->types = types;
	t->ncols = ncols;
}

static struct admin_value *tb_cell(struct table *t, size_t row, unsigned col)
{
	return &t->cells[row * t->ncols + col];
}

static size_t tb_row(struct table *t)
{
	if (t->nrows == t->cap_rows) {
		size_t ncap = t->cap_rows ? t->cap_rows * 2 : 16;
		struct admin_value *c = realloc(t->cells, ncap * t->ncols *
						sizeof(*c));
		size_t *o = c ? realloc(t->text_off, ncap * t->ncols *
					sizeof(*o)) : NULL;
		if (c)
			t->cells = c;
		if (!c || !o) {
			t->oom = true;
			return SIZE_MAX;
		}
		t->text_off = o;
		t->cap_rows = ncap;
	}
	memset(tb_cell(t, t->nrows, 0), 0, t->ncols * sizeof(*t->cells));
	for (unsigned c = 0; c < t->ncols; c++)
		t->text_off[t->nrows * t->ncols + c] = SIZE_MAX;
	return t->nrows++;
}

static void tb_u64(struct table *t, size_t row, unsigned col, uint64_t v)
{
	if (row == SIZE_MAX)
		return;
	admin_value_set_uint(tb_cell(t, row, col), v);
}

static void tb_null(struct table *t, size_t row, unsigned col)
{
	if (row == SIZE_MAX)
		return;
	admin_value_set_null(tb_cell(t, row, col));
}

static void tb_text(struct table *t, size_t row, unsigned col,
		    const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void tb_text(struct table *t, size_t row, unsigned col,
		    const char *fmt, ...)
{
	va_list ap;
	char small[512], *s = small;
	int n;

	if (row == SIZE_MAX)
		return;
	va_start(ap, fmt);
	n = vsnprintf(small, sizeof(small), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(small)) {
		s = malloc((size_t)n + 1);
		if (!s) {
			t->oom = true;
			return;
		}
		va_start(ap, fmt);
		vsnprintf(s, (size_t)n + 1, fmt, ap);
		va_end(ap);
	}
	t->text_off[row * t->ncols + col] = t->text.len;
	admin_value_set_text(tb_cell(t, row, col), NULL, (size_t)n);
	sb_printf(&t->text, "%s", s);
	sb_printf(&t->text, "%c", '\0');
	if (s != small)
		free(s);
}

static void tb_finish(struct table *t, struct admin_table *out)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		if (t->text_off[i] != SIZE_MAX)
			admin_value_set_text(&t->cells[i],
					     t->text.data + t->text_off[i],
					     t->cells[i].len);
	out->names = t->names;
	out->types = t->types;
	out->ncols = t->ncols;
	out->cells = t->cells;
	out->nrows = t->nrows;
}

static void tb_free(struct table *t)
{
	free(t->cells);
	free(t->text_off);
	sb_free(&t->text);
}

/* ---- replies ------------------------------------------------------------ */

static void reply_err(struct pkt_buf *out, uint16_t code, const char *state,
		      const char *msg)
{
	srv_err(out, code, state, msg);
}

/* Sends t filtered/sorted/limited by st, or whole when st is NULL. */
static void reply_table(struct admin_conn *a, struct table *t,
			const struct admin_stmt *st, struct pkt_buf *out)
{
	struct admin_table at;
	char err[512];
	uint16_t code = 0;

	if (t->oom || t->text.oom) {
		reply_err(out, 1105, "HY000", "myring admin: out of memory");
		tb_free(t);
		return;
	}
	tb_finish(t, &at);
	if (admin_select(&at, st, out, a->caps, err, sizeof(err), &code))
		reply_err(out, code ? code : 1064, code == 1054 ? "42S22" :
			  "42000", err);
	tb_free(t);
}

/* ---- tables ------------------------------------------------------------- */

static const char *const kv_names[] = {"Variable_name", "Value"};
static const enum admin_col_type kv_types[] = {ADMIN_COL_TEXT, ADMIN_COL_TEXT};

static void kv(struct table *t, const char *name, uint64_t v)
{
	size_t r = tb_row(t);
	tb_text(t, r, 0, "%s", name);
	tb_text(t, r, 1, "%" PRIu64, v);
}

static void stats_table(struct admin_conn *a, struct table *t)
{
	const struct proxy *px = a->px;
	uint64_t commands = 0, accepted = STATS_SUM(px, accepted);
	size_t r;

	tb_init(t, kv_names, kv_types, 2);
	for (unsigned i = 0; i < px->nworkers; i++)
		for (unsigned c = 0; c < 256; c++)
			commands += stat_peek(&px->workers[i].stats.commands[c]);
	r = tb_row(t);
	tb_text(t, r, 0, "version");
	tb_text(t, r, 1, "%s", MYRING_VERSION);
	kv(t, "uptime_seconds", (uint64_t)time(NULL) - a->start_s);
	kv(t, "workers", px->nworkers);
	kv(t, "connections", accepted - STATS_SUM(px, closed));
	kv(t, "commands", commands);
	kv(t, "queries", STATS_SUM(px, commands[COM_QUERY]));
	for (size_t i = 0; i < nworker_counters; i++)
		kv(t, worker_counters[i].name,
		   stats_sum(px, worker_counters[i].offset));
	kv(t, "bytes_from_clients", STATS_SUM(px, bytes_from[0]));
	kv(t, "bytes_from_backend", STATS_SUM(px, bytes_from[1]));
	kv(t, "rules", ruleset_count(intercept_current()));
	kv(t, "digests_enabled", intercept_digests());
	{
		uint64_t live, ev;
		intercept_digest_totals(&live, &ev);
		kv(t, "digest_entries", live);
		kv(t, "digest_evictions", ev);
	}
	kv(t, "config_reloads", reload_count());
	kv(t, "config_reload_failures", reload_failures());
	kv(t, "query_log_dropped", querylog_dropped());
}

static const char *const worker_names[] = {
	"worker", "cpu", "connections", "accepted", "commands", "errors",
	"rows_sent", "bytes_from_clients", "bytes_from_backend",
	"backend_connect_failures", "buffers_free", "buffers", "p50_us",
	"p99_us", "digest_entries", "digest_evictions", "loop_turns",
	"completions",
};
static const enum admin_col_type worker_types[] = {
	ADMIN_COL_UINT, ADMIN_COL_INT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT,
};

static void workers_table(struct admin_conn *a, struct table *t)
{
	const struct proxy *px = a->px;

	tb_init(t, worker_names, worker_types, 18);
	for (unsigned i = 0; i < px->nworkers; i++) {
		const struct worker *w = &px->workers[i];
		const struct worker_stats *st = &w->stats;
		uint32_t counts[HIST_BUCKETS];
		uint64_t commands = 0, total = 0;
		size_t r = tb_row(t);

		for (unsigned c = 0; c < 256; c++)
			commands += stat_peek(&st->commands[c]);
		for (unsigned b = 0; b < HIST_BUCKETS; b++) {
			counts[b] = __atomic_load_n(&st->latency.count[b],
						    __ATOMIC_RELAXED);
			total += counts[b];
		}
		tb_u64(t, r, 0, i);
		if (w->cpu >= 0)
			admin_value_set_int(tb_cell(t, r, 1), w->cpu);
		else
			tb_null(t, r, 1);
		tb_u64(t, r, 2, stat_peek(&st->accepted) - stat_peek(&st->closed));
		tb_u64(t, r, 3, stat_peek(&st->accepted));
		tb_u64(t, r, 4, commands);
		tb_u64(t, r, 5, stat_peek(&st->errors));
		tb_u64(t, r, 6, stat_peek(&st->rows_sent));
		tb_u64(t, r, 7, stat_peek(&st->bytes_from[0]));
		tb_u64(t, r, 8, stat_peek(&st->bytes_from[1]));
		tb_u64(t, r, 9, stat_peek(&st->backend_connect_failed));
		tb_u64(t, r, 10, __atomic_load_n(&w->bufs.free, __ATOMIC_RELAXED));
		tb_u64(t, r, 11, w->bufs.nbufs);
		tb_u64(t, r, 12, hist_quantile(counts, total, 0.50, 0, 0));
		tb_u64(t, r, 13, hist_quantile(counts, total, 0.99, 0, 0));
		uint64_t live, ev;
		intercept_digest_counts(i, &live, &ev);
		tb_u64(t, r, 14, live);
		tb_u64(t, r, 15, ev);
		tb_u64(t, r, 16, stat_peek(&st->loop_turns));
		tb_u64(t, r, 17, stat_peek(&st->completions));
	}
}

static const char *const rule_names[] = {
	"rule", "name", "line", "hits", "action", "match", "digest", "user",
	"schema", "client", "log", "delay_ms", "route", "continue",
};
static const enum admin_col_type rule_types[] = {
	ADMIN_COL_UINT, ADMIN_COL_TEXT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_TEXT, ADMIN_COL_TEXT, ADMIN_COL_TEXT, ADMIN_COL_TEXT,
	ADMIN_COL_TEXT, ADMIN_COL_TEXT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_TEXT, ADMIN_COL_UINT,
};

static void rules_table(struct table *t)
{
	static const char *const actions[] = {"none", "reject", "rewrite",
					      "answer"};
	const struct ruleset *rs;

	tb_init(t, rule_names, rule_types, 14);
	reload_lock();
	rs = intercept_current();
	for (unsigned i = 0; i < ruleset_count(rs); i++) {
		const struct rule_spec *sp = ruleset_rule(rs, i);
		size_t r = tb_row(t);

		tb_u64(t, r, 0, i + 1);
		tb_text(t, r, 1, "%s", sp->name);
		tb_u64(t, r, 2, sp->line);
		tb_u64(t, r, 3, ruleset_hits(rs, i));
		tb_text(t, r, 4, "%s", actions[sp->action]);
		if (sp->match)
			tb_text(t, r, 5, "%s", sp->match);
		else
			tb_null(t, r, 5);
		if (sp->has_digest)
			tb_text(t, r, 6, "0x%016" PRIx64, sp->digest);
		else
			tb_null(t, r, 6);
		if (sp->user)
			tb_text(t, r, 7, "%s", sp->user);
		else
			tb_null(t, r, 7);
		if (sp->schema)
			tb_text(t, r, 8, "%s", sp->schema);
		else
			tb_null(t, r, 8);
		if (sp->has_client) {
			char ip[64];
			inet_ntop(sp->client_family, sp->client_addr, ip,
				  sizeof(ip));
			tb_text(t, r, 9, "%s/%u", ip, sp->client_prefix);
		} else {
			tb_null(t, r, 9);
		}
		tb_u64(t, r, 10, sp->log);
		tb_u64(t, r, 11, sp->delay_ms);
		if (sp->route)
			tb_text(t, r, 12, "%s", sp->route);
		else
			tb_null(t, r, 12);
		tb_u64(t, r, 13, sp->cont);
	}
	reload_unlock();
}

static const char *const digest_names[] = {
	"digest", "fingerprint", "user", "schema", "count", "errors",
	"rows_sent", "rows_affected", "sum_time_us", "min_time_us",
	"max_time_us", "avg_time_us", "p50_us", "p95_us", "p99_us",
	"first_seen", "last_seen",
};
static const enum admin_col_type digest_types[] = {
	ADMIN_COL_TEXT, ADMIN_COL_TEXT, ADMIN_COL_TEXT, ADMIN_COL_TEXT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT,
	ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_UINT, ADMIN_COL_TEXT,
	ADMIN_COL_TEXT,
};

static void iso_time(char *out, size_t cap, uint64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

static void digests_table(struct table *t, struct dstat_rows *rows)
{
	tb_init(t, digest_names, digest_types, 17);
	for (size_t i = 0; i < rows->n; i++) {
		const struct dstat *e = &rows->rows[i];
		uint64_t min = e->count ? e->min_us : 0;
		char ts[32];
		size_t r = tb_row(t);

		tb_text(t, r, 0, "0x%016" PRIx64, e->digest);
		tb_text(t, r, 1, "%s", e->text);
		tb_text(t, r, 2, "%s", e->user);
		tb_text(t, r, 3, "%s", e->schema);
		tb_u64(t, r, 4, e->count);
		tb_u64(t, r, 5, e->errors);
		tb_u64(t, r, 6, e->rows_sent);
		tb_u64(t, r, 7, e->rows_affected);
		tb_u64(t, r, 8, e->sum_us);
		tb_u64(t, r, 9, min);
		tb_u64(t, r, 10, e->max_us);
		tb_u64(t, r, 11, e->count ? e->sum_us / e->count : 0);
		tb_u64(t, r, 12, hist_quantile(e->hist.count, e->count, 0.50,
					       min, e->max_us));
		tb_u64(t, r, 13, hist_quantile(e->hist.count, e->count, 0.95,
					       min, e->max_us));
		tb_u64(t, r, 14, hist_quantile(e->hist.count, e->count, 0.99,
					       min, e->max_us));
		iso_time(ts, sizeof(ts), e->first_seen);
		tb_text(t, r, 15, "%s", ts);
		iso_time(ts, sizeof(ts), e->last_seen);
		tb_text(t, r, 16, "%s", ts);
	}
}

static void config_rows(const struct config *cfg, void *arg)
{
	struct table *t = arg;
	size_t r;

#define ROW(name, ...) (r = tb_row(t), tb_text(t, r, 0, "%s", name), \
			tb_text(t, r, 1, __VA_ARGS__))
	ROW("config", "%s", cfg->config_path ? cfg->config_path : "");
	ROW("listen", "%s:%s", cfg->listen.host, cfg->listen.port);
	ROW("backend", "%s:%s", cfg->backend.host, cfg->backend.port);
	ROW("threads", "%u", cfg->threads);
	ROW("cpus", "%u cpu(s)", cfg->ncpus);
	ROW("log-queries", "%s", cfg->log_queries ? cfg->log_queries : "");
	ROW("log-queries-mode", "%s", cfg->log_marked_only ? "rules" : "all");
	ROW("log-level", "%s", (const char *[]){"error", "warn", "info",
						"debug"}[cfg->log_level]);
	for (unsigned i = 0; i < cfg->ndeny; i++)
		ROW("deny", "%s", cfg->deny[i]);
	for (unsigned i = 0; i < cfg->nrewrite; i++)
		ROW("rewrite", "%s", cfg->rewrite[i]);
	ROW("max-packet", "%u", cfg->max_packet);
	ROW("connect-timeout", "%u", cfg->connect_timeout_ms);
	ROW("drain-timeout", "%u", cfg->drain_timeout_ms);
	ROW("buffers", "%u", cfg->buffers);
	ROW("buffer-size", "%u", cfg->buffer_size);
	ROW("max-conns", "%u", cfg->max_conns);
	ROW("admin", "%s%s%s", cfg->admin.host, cfg->admin.host[0] ? ":" : "",
	    cfg->admin.port);
	ROW("admin-user", "%s", cfg->admin_user);
	ROW("metrics", "%s%s%s", cfg->metrics.host,
	    cfg->metrics.host[0] ? ":" : "", cfg->metrics.port);
	ROW("digests", "%s", cfg->digests < 0 ? "auto" :
	    cfg->digests ? "on" : "off");
	ROW("digest-max", "%u", cfg->digest_max);
	ROW("digest-text-max", "%u", cfg->digest_text_max);
	ROW("rules", "%u", cfg->nrules);
#undef ROW
}

/* ---- statements --------------------------------------------------------- */

static void select_expr(struct admin_conn *a, const struct admin_stmt *st,
			struct pkt_buf *out)
{
	static const enum admin_col_type text1[] = {ADMIN_COL_TEXT};
	const char *names[1] = {st->expr};
	struct table t;
	size_t r;

	tb_init(&t, names, text1, 1);
	r = tb_row(&t);
	if (!strcasecmp(st->expr, "@@version_comment"))
		tb_text(&t, r, 0, "myring admin");
	else if (!strcasecmp(st->expr, "@@version") ||
		 !strcasecmp(st->expr, "version()"))
		tb_text(&t, r, 0, "%s", MYRING_VERSION);
	else if (!strcasecmp(st->expr, "database()"))
		tb_text(&t, r, 0, "stats");
	else if (!strcasecmp(st->expr, "user()") ||
		 !strcasecmp(st->expr, "current_user()"))
		tb_text(&t, r, 0, "%s@%s", a->user, a->peer);
	else if (st->expr[0] == '@')
		tb_null(&t, r, 0);
	else
		tb_text(&t, r, 0, "%s", st->expr);
	reply_table(a, &t, NULL, out);
}

static void name_list(struct admin_conn *a, const char *col,
		      const char *const *items, unsigned n, struct pkt_buf *out)
{
	static const enum admin_col_type text1[] = {ADMIN_COL_TEXT};
	const char *names[1] = {col};
	struct table t;

	tb_init(&t, names, text1, 1);
	for (unsigned i = 0; i < n; i++)
		tb_text(&t, tb_row(&t), 0, "%s", items[i]);
	reply_table(a, &t, NULL, out);
}

static void query(struct admin_conn *a, const uint8_t *sql, size_t len,
		  struct pkt_buf *out, enum admin_wait *wait)
{
	static const char *const tables[] = {"digests", "rules", "stats",
					     "workers"};
	struct table t;
	char err[512];

	free(a->sql);
	a->sql = malloc(len + 1);
	if (!a->sql) {
		reply_err(out, 1105, "HY000", "myring admin: out of memory");
		return;
	}
	memcpy(a->sql, sql, len);
	a->sql[len] = '\0';
	if (admin_parse(a->sql, len, &a->stmt, err, sizeof(err))) {
		reply_err(out, 1064, "42000", err);
		return;
	}
	switch (a->stmt.kind) {
	case ADMIN_SHOW_STATS:
		stats_table(a, &t);
		reply_table(a, &t, NULL, out);
		break;
	case ADMIN_SHOW_CONFIG: {
		static const char *const names[] = {"Setting", "Value"};
		tb_init(&t, names, kv_types, 2);
		reload_with_config(config_rows, &t);
		reply_table(a, &t, NULL, out);
		break;
	}
	case ADMIN_SHOW_TABLES:
		name_list(a, "Tables_in_stats", tables, 4, out);
		break;
	case ADMIN_SHOW_DATABASES: {
		static const char *const dbs[] = {"stats"};
		name_list(a, "Database", dbs, 1, out);
		break;
	}
	case ADMIN_SELECT_EXPR:
		select_expr(a, &a->stmt, out);
		break;
	case ADMIN_NOOP:
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		break;
	case ADMIN_RELOAD_CONFIG:
		a->waiting = *wait = AW_RELOAD;
		break;
	case ADMIN_RESET_STATS:
		a->waiting = *wait = AW_RESET;
		break;
	case ADMIN_SELECT:
		if (!strcasecmp(a->stmt.table, "digests")) {
			if (!intercept_digests()) {
				reply_err(out, 1105, "HY000",
					  "myring admin: digests are off (start "
					  "with --digests on, or with --admin / "
					  "--metrics and digests: auto)");
				break;
			}
			a->waiting = *wait = AW_SNAPSHOT;
		} else if (!strcasecmp(a->stmt.table, "rules")) {
			rules_table(&t);
			reply_table(a, &t, &a->stmt, out);
		} else if (!strcasecmp(a->stmt.table, "workers")) {
			workers_table(a, &t);
			reply_table(a, &t, &a->stmt, out);
		} else if (!strcasecmp(a->stmt.table, "stats")) {
			stats_table(a, &t);
			reply_table(a, &t, &a->stmt, out);
		} else {
			snprintf(err, sizeof(err), "myring admin: table "
				 "'stats.%s' doesn't exist; tables: stats.digests, "
				 "stats.rules, stats.workers, stats.stats",
				 a->stmt.table);
			reply_err(out, 1146, "42S02", err);
		}
		break;
	}
}

void admin_resume(struct admin_conn *a, struct ctl_result *res, unsigned n,
		  const char *msg, int rc, struct pkt_buf *out)
{
	enum admin_wait w = a->waiting;

	a->waiting = AW_NONE;
	/* The buffer was reset by the sends since the statement came. */
	out->seq = a->reply_seq;
	if (rc) {
		reply_err(out, 1105, "HY000", msg ? msg : "myring admin: failed");
		return;
	}
	switch (w) {
	case AW_RELOAD:
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, "config reloaded");
		break;
	case AW_RESET:
		LOGI("admin %s: RESET STATS", a->peer);
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, "stats reset");
		break;
	case AW_SNAPSHOT: {
		struct dstat_rows *snaps = calloc(n ? n : 1, sizeof(*snaps));
		struct dstat_rows merged = {0};
		struct table t;

		if (!snaps) {
			reply_err(out, 1105, "HY000", "myring admin: out of memory");
			break;
		}
		for (unsigned i = 0; i < n; i++) {
			snaps[i] = res[i].rows;
			res[i].rows.rows = NULL;
			res[i].rows.n = 0;
		}
		if (dstat_merge(snaps, n, &merged)) {
			for (unsigned i = 0; i < n; i++)
				dstat_rows_free(&snaps[i]);
			free(snaps);
			reply_err(out, 1105, "HY000", "myring admin: out of memory");
			break;
		}
		free(snaps);
		digests_table(&t, &merged);
		reply_table(a, &t, &a->stmt, out);
		dstat_rows_free(&merged);
		break;
	}
	case AW_NONE:
		break;
	}
}

/* ---- connection phase ------------------------------------------------- */

struct admin_conn *admin_open(const struct proxy *px, uint32_t id,
			      const char *peer, uint64_t start_s,
			      struct pkt_buf *out)
{
	struct admin_conn *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->px = px;
	a->id = id;
	a->start_s = start_s;
	snprintf(a->peer, sizeof(a->peer), "%s", peer);
	srv_scramble(a->scramble);
	a->empty_password = px->cfg.admin_password[0] == '\0';
	auth_native_stage2(px->cfg.admin_password, a->stage2);
	out->seq = 0;
	srv_build_greeting(out, id, a->scramble, "8.0.99-myring-" MYRING_VERSION
			   "-admin", SRV_CAPS);
	return a;
}

static int authenticate(struct admin_conn *a, const uint8_t *auth, size_t len,
			struct pkt_buf *out)
{
	char msg[256];

	if (!strcmp(a->user, a->px->cfg.admin_user) &&
	    auth_native_verify(a->scramble, auth, len, a->stage2,
			      a->empty_password)) {
		a->phase = AD_COMMAND;
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		LOGD("admin %s: '%s' logged in", a->peer, a->user);
		return 0;
	}
	snprintf(msg, sizeof(msg),
		 "Access denied for user '%s'@'%s' (using password: %s)",
		 a->user, a->peer, len ? "YES" : "NO");
	LOGW("admin %s: %s", a->peer, msg);
	srv_err(out, 1045, "28000", msg);
	return -1;
}

static int handshake(struct admin_conn *a, const uint8_t *p, size_t len,
		     struct pkt_buf *out)
{
	struct mysql_handshake_response r;

	if (mysql_parse_handshake_response(p, len, SRV_CAPS, &r)) {
		srv_err(out, 1043, "08S01", "Bad handshake");
		return -1;
	}
	if (r.ssl_request) {
		srv_err(out, 1043, "08S01",
			"myring admin: TLS is not supported on the admin port");
		return -1;
	}
	snprintf(a->user, sizeof(a->user), "%.*s", (int)r.user.len, r.user.ptr);
	a->caps = r.caps & SRV_CAPS;
	if (r.plugin.len && (r.plugin.len != 21 ||
			     memcmp(r.plugin.ptr, "mysql_native_password", 21))) {
		a->phase = AD_SWITCH;
		auth_build_switch(out, AUTH_NATIVE, a->scramble, 20);
		return 0;
	}
	return authenticate(a, (const uint8_t *)r.auth.ptr, r.auth.len, out);
}

int admin_packet(struct admin_conn *a, const uint8_t *pkt, size_t len,
		 struct pkt_buf *out, enum admin_wait *wait)
{
	const uint8_t *p = pkt + MYSQL_HDR_LEN;
	size_t plen = len - MYSQL_HDR_LEN;
	char msg[160];

	*wait = AW_NONE;
	out->seq = (uint8_t)(pkt[3] + 1);
	a->reply_seq = out->seq;
	switch (a->phase) {
	case AD_HANDSHAKE:
		return handshake(a, p, plen, out);
	case AD_SWITCH:
		return authenticate(a, p, plen, out);
	case AD_COMMAND:
		break;
	}
	if (plen == 0) {
		srv_err(out, 1047, "08S01", "malformed packet: empty command");
		return -1;
	}
	switch (p[0]) {
	case COM_QUIT:
		return -1;
	case COM_QUERY:
		query(a, p + 1, plen - 1, out, wait);
		return 0;
	case COM_PING:
	case COM_INIT_DB:
	case COM_RESET_CONNECTION:
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		return 0;
	case COM_FIELD_LIST:
		/* No columns: clients that complete names just get none. */
		srv_resultset_end(out, a->caps, SERVER_STATUS_AUTOCOMMIT);
		return 0;
	default:
		snprintf(msg, sizeof(msg), "myring admin: command %s is not "
			 "supported; send SQL (SHOW STATS, SELECT ... FROM "
			 "stats.digests, ...)", mysql_command_name(p[0]));
		srv_err(out, 1047, "08S01", msg);
		return 0;
	}
}

void admin_free(struct admin_conn *a)
{
	free(a->sql);
	free(a);
}
