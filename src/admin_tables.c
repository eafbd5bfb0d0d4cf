/*
 * admin_tables.c - the tables of the admin port (see admin_tables.h).
 *
 * Counters that only grow are read straight from the workers with
 * relaxed loads; the rule set under the reload lock; digests and
 * sessions arrive as copies the workers made (ctl.c).
 */
#include "admin_tables.h"

#include "counters.h"
#include "histogram.h"
#include "hooks.h"
#include "intercept.h"
#include "mysql_proto.h"
#include "reload.h"

#include <arpa/inet.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif

#define T ADMIN_COL_TEXT
#define I ADMIN_COL_INT
#define U ADMIN_COL_UINT
#define D ADMIN_COL_DOUBLE

/* ---- building tables ---------------------------------------------------- */

void tb_init(struct table *t, const char *name, const char *const *names,
	     const enum admin_col_type *types, unsigned ncols)
{
	memset(t, 0, sizeof(*t));
	t->name = name;
	t->names = names;
	t->types = types;
	t->ncols = ncols;
}

static struct admin_value *tb_cell(struct table *t, size_t row, unsigned col)
{
	return &t->cells[row * t->ncols + col];
}

size_t tb_row(struct table *t)
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
	for (unsigned c = 0; c < t->ncols; c++) {
		t->text_off[t->nrows * t->ncols + c] = SIZE_MAX;
		admin_value_set_null(tb_cell(t, t->nrows, c));
	}
	return t->nrows++;
}

void tb_u64(struct table *t, size_t row, unsigned col, uint64_t v)
{
	if (row != SIZE_MAX)
		admin_value_set_uint(tb_cell(t, row, col), v);
}

void tb_i64(struct table *t, size_t row, unsigned col, int64_t v)
{
	if (row != SIZE_MAX)
		admin_value_set_int(tb_cell(t, row, col), v);
}

void tb_null(struct table *t, size_t row, unsigned col)
{
	if (row != SIZE_MAX)
		admin_value_set_null(tb_cell(t, row, col));
}

void tb_text(struct table *t, size_t row, unsigned col, const char *fmt, ...)
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

/* NULL stays NULL. */
static void tb_str(struct table *t, size_t row, unsigned col, const char *s)
{
	if (s)
		tb_text(t, row, col, "%s", s);
}

void tb_finish(struct table *t, struct admin_table *out)
{
	for (size_t i = 0; i < t->nrows * t->ncols; i++)
		if (t->text_off[i] != SIZE_MAX)
			admin_value_set_text(&t->cells[i],
					     t->text.data + t->text_off[i],
					     t->cells[i].len);
	out->name = t->name;
	out->names = t->names;
	out->types = t->types;
	out->ncols = t->ncols;
	out->cells = t->cells;
	out->nrows = t->nrows;
}

void tb_free(struct table *t)
{
	free(t->cells);
	free(t->text_off);
	sb_free(&t->text);
}

/* ---- the catalog ---------------------------------------------------------- */

static const char *const kv_names[] = {"Variable_name", "Value"};
static const enum admin_col_type kv_types[] = {T, T};

static const char *const worker_names[] = {
	"worker", "cpu", "connections", "accepted", "commands", "errors",
	"rows_sent", "bytes_from_clients", "bytes_from_backend",
	"backend_connect_failures", "buffers_free", "buffers", "p50_us",
	"p99_us", "digest_entries", "digest_evictions", "loop_turns",
	"completions",
};
static const enum admin_col_type worker_types[] = {
	U, I, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U,
};

static const char *const rule_names[] = {
	"rule", "name", "line", "hits", "action", "match", "digest", "user",
	"schema", "client", "log", "delay_ms", "route", "continue",
};
static const enum admin_col_type rule_types[] = {
	U, T, U, U, T, T, T, T, T, T, U, U, T, U,
};

static const char *const digest_names[] = {
	"digest", "fingerprint", "user", "schema", "count", "errors",
	"rows_sent", "rows_affected", "sum_time_us", "min_time_us",
	"max_time_us", "avg_time_us", "p50_us", "p95_us", "p99_us",
	"first_seen", "last_seen",
};
static const enum admin_col_type digest_types[] = {
	T, T, T, T, U, U, U, U, U, U, U, U, U, U, U, T, T,
};

static const char *const schemata_names[] = {
	"CATALOG_NAME", "SCHEMA_NAME", "DEFAULT_CHARACTER_SET_NAME",
	"DEFAULT_COLLATION_NAME", "SQL_PATH", "DEFAULT_ENCRYPTION",
	"SCHEMA_COMMENT",
};
static const enum admin_col_type schemata_types[] = {T, T, T, T, T, T, T};

static const char *const is_tables_names[] = {
	"TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "TABLE_TYPE", "ENGINE",
	"VERSION", "ROW_FORMAT", "TABLE_ROWS", "AVG_ROW_LENGTH", "DATA_LENGTH",
	"MAX_DATA_LENGTH", "INDEX_LENGTH", "DATA_FREE", "AUTO_INCREMENT",
	"CREATE_TIME", "UPDATE_TIME", "CHECK_TIME", "TABLE_COLLATION",
	"CHECKSUM", "CREATE_OPTIONS", "TABLE_COMMENT",
};
static const enum admin_col_type is_tables_types[] = {
	T, T, T, T, T, U, T, U, U, U, U, U, U, U, T, T, T, T, U, T, T,
};

static const char *const is_columns_names[] = {
	"TABLE_CATALOG", "TABLE_SCHEMA", "TABLE_NAME", "COLUMN_NAME",
	"ORDINAL_POSITION", "COLUMN_DEFAULT", "IS_NULLABLE", "DATA_TYPE",
	"CHARACTER_MAXIMUM_LENGTH", "CHARACTER_OCTET_LENGTH",
	"NUMERIC_PRECISION", "NUMERIC_SCALE", "DATETIME_PRECISION",
	"CHARACTER_SET_NAME", "COLLATION_NAME", "COLUMN_TYPE", "COLUMN_KEY",
	"EXTRA", "PRIVILEGES", "COLUMN_COMMENT", "GENERATION_EXPRESSION",
};
static const enum admin_col_type is_columns_types[] = {
	T, T, T, T, U, T, T, T, U, U, U, U, U, T, T, T, T, T, T, T, T,
};

static const char *const proc_names[] = {
	"Id", "User", "Host", "db", "Command", "Time", "State", "Info",
};
static const char *const is_proc_names[] = {
	"ID", "USER", "HOST", "DB", "COMMAND", "TIME", "STATE", "INFO",
};
static const enum admin_col_type proc_types[] = {U, T, T, T, T, I, T, T};

static const char *const backend_names[] = {
	"server", "auth", "max_connections", "open", "in_use", "idle",
	"connecting", "resetting", "waiting_clients", "connects",
	"connect_errors", "connect_avg_us", "connect_max_us", "borrows",
	"waits", "wait_timeouts", "resets", "closed_idle", "lost_idle",
	"backoff_ms", "last_error", "group_name", "role", "status", "lag_ms",
	"server_id", "weight", "commands", "check_us", "checks",
	"check_failures", "status_since", "check_error", "gtid_position",
	"tls",
};
static const enum admin_col_type backend_types[] = {
	T, T, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, T,
	T, T, T, I, U, U, U, U, U, U, T, T, T, T,
};

static const char *const pool_names[] = {
	"worker", "user", "server", "collation_id", "idle", "in_use",
	"connecting", "resetting", "waiting_clients", "connects",
	"connect_errors", "connect_avg_us", "connect_max_us", "borrows",
	"waits", "wait_timeouts", "resets", "closed_idle", "lost_idle",
	"commands", "pinned_commands", "backoff_ms", "last_error",
};
static const enum admin_col_type pool_types[] = {
	U, T, T, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, U, T,
};

static const char *const pin_names[] = {"reason", "count", "current"};
static const enum admin_col_type pin_types[] = {T, U, U};

static const char *const session_names[] = {
	"id", "connection_id", "worker", "user", "schema", "client",
	"command", "time_ms", "state", "backend_connection", "pinned",
	"in_transaction", "auth",
};
static const enum admin_col_type session_types[] = {
	U, U, U, T, T, T, T, U, T, U, T, U, T,
};

static const char *const shard_names[] = {
	"shard", "group_name", "hash_lo", "hash_hi", "servers", "primary",
	"status",
};
static const enum admin_col_type shard_types[] = {T, T, T, T, U, T, T};

static const char *const xa_names[] = {
	"xid", "decision_shard", "participants", "state", "age_ms",
};
static const enum admin_col_type xa_types[] = {T, T, T, T, U};

static const char *const shard_table_names[] = {
	"table_name", "kind", "shard_key", "function", "key_type", "collation",
	"shard", "bounds", "line", "sequence", "sequence_shard",
	"sequence_block", "lookups",
};
static const enum admin_col_type shard_table_types[] = {
	T, T, T, T, T, T, T, T, U, T, T, U, T,
};

#define N(a) (unsigned)(sizeof(a) / sizeof((a)[0]))

/* By database, then name, as SHOW TABLES sorts. */
static const struct catalog_entry catalog[] = {
	{"information_schema", "COLUMNS", is_columns_names, is_columns_types,
	 N(is_columns_names), ""},
	{"information_schema", "PROCESSLIST", is_proc_names, proc_types,
	 N(is_proc_names), ""},
	{"information_schema", "SCHEMATA", schemata_names, schemata_types,
	 N(schemata_names), ""},
	{"information_schema", "TABLES", is_tables_names, is_tables_types,
	 N(is_tables_names), ""},
	{"stats", "backends", backend_names, backend_types, N(backend_names),
	 "one row per backend server: its connections by state, connects, "
	 "errors and connect latency"},
	{"stats", "digests", digest_names, digest_types, N(digest_names),
	 "one row per query fingerprint, user and schema, merged over the "
	 "workers"},
	{"stats", "pins", pin_names, pin_types, N(pin_names),
	 "why pooled sessions keep their backend connection: sessions "
	 "pinned by reason, ever and now"},
	{"stats", "pools", pool_names, pool_types, N(pool_names),
	 "one row per worker and pool (login): connections by state and "
	 "what the pool did"},
	{"stats", "rules", rule_names, rule_types, N(rule_names),
	 "the query rules in force and their hits"},
	{"stats", "sessions", session_names, session_types, N(session_names),
	 "one row per client session: its backend connection now and why "
	 "it is pinned"},
	{"stats", "shard_tables", shard_table_names, shard_table_types,
	 N(shard_table_names),
	 "the keyspace's tables: how each is spread over the shards"},
	{"stats", "shards", shard_names, shard_types, N(shard_names),
	 "one row per shard of the keyspace: its group, its part of the hash "
	 "space and the group's primary (SHOW SHARDS)"},
	{"stats", "stats", kv_names, kv_types, N(kv_names),
	 "global counters, summed over the workers (SHOW STATS)"},
	{"stats", "transactions", xa_names, xa_types, N(xa_names),
	 "transactions over shards left prepared (in doubt), as recovery "
	 "last saw them: XA COMMIT|ROLLBACK 'xid' resolves one by hand"},
	{"stats", "workers", worker_names, worker_types, N(worker_names),
	 "one row per worker thread"},
};

unsigned catalog_count(void)
{
	return N(catalog);
}

const struct catalog_entry *catalog_at(unsigned i)
{
	return &catalog[i];
}

const char *catalog_db(const char *name)
{
	if (!strcasecmp(name, "stats"))
		return "stats";
	if (!strcasecmp(name, "information_schema"))
		return "information_schema";
	return NULL;
}

void catalog_list(char *out, size_t cap)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < N(catalog) && len < cap; i++) {
		int k = snprintf(out + len, cap - len, "%s%s.%s", i ? ", " : "",
				 catalog[i].db, catalog[i].name);
		if (k < 0)
			break;
		len += (size_t)k;
	}
}

const struct catalog_entry *catalog_find(const char *db, const char *name)
{
	for (unsigned i = 0; i < N(catalog); i++)
		if (!strcasecmp(catalog[i].db, db) &&
		    !strcasecmp(catalog[i].name, name))
			return &catalog[i];
	return NULL;
}

static bool is_system(const struct catalog_entry *ce)
{
	return !strcmp(ce->db, "information_schema");
}

/* ---- stats.* ---------------------------------------------------------------- */

static void kv(struct table *t, const char *name, uint64_t v)
{
	size_t r = tb_row(t);
	tb_text(t, r, 0, "%s", name);
	tb_text(t, r, 1, "%" PRIu64, v);
}

void stats_table(const struct proxy *px, uint64_t start_s, struct table *t)
{
	uint64_t commands = 0, accepted = STATS_SUM(px, accepted);
	size_t r;

	tb_init(t, "stats", kv_names, kv_types, 2);
	for (unsigned i = 0; i < px->nworkers; i++)
		for (unsigned c = 0; c < 256; c++)
			commands += stat_peek(&px->workers[i].stats.commands[c]);
	r = tb_row(t);
	tb_text(t, r, 0, "version");
	tb_text(t, r, 1, "%s", MYRING_VERSION);
	kv(t, "uptime_seconds", (uint64_t)time(NULL) - start_s);
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

void workers_table(const struct proxy *px, struct table *t)
{
	tb_init(t, "workers", worker_names, worker_types, N(worker_names));
	for (unsigned i = 0; i < px->nworkers; i++) {
		const struct worker *w = &px->workers[i];
		const struct worker_stats *st = &w->stats;
		uint32_t counts[HIST_BUCKETS];
		uint64_t commands = 0, total = 0, live, ev;
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
			tb_i64(t, r, 1, w->cpu);
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
		intercept_digest_counts(i, &live, &ev);
		tb_u64(t, r, 14, live);
		tb_u64(t, r, 15, ev);
		tb_u64(t, r, 16, stat_peek(&st->loop_turns));
		tb_u64(t, r, 17, stat_peek(&st->completions));
	}
}

void rules_table(struct table *t)
{
	static const char *const actions[] = {"none", "reject", "rewrite",
					      "answer"};
	const struct ruleset *rs;

	tb_init(t, "rules", rule_names, rule_types, N(rule_names));
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
		tb_str(t, r, 5, sp->match);
		if (sp->has_digest)
			tb_text(t, r, 6, "0x%016" PRIx64, sp->digest);
		tb_str(t, r, 7, sp->user);
		tb_str(t, r, 8, sp->schema);
		if (sp->has_client) {
			char ip[64];
			inet_ntop(sp->client_family, sp->client_addr, ip,
				  sizeof(ip));
			tb_text(t, r, 9, "%s/%u", ip, sp->client_prefix);
		}
		tb_u64(t, r, 10, sp->log);
		tb_u64(t, r, 11, sp->delay_ms);
		tb_str(t, r, 12, sp->route);
		tb_u64(t, r, 13, sp->cont);
	}
	reload_unlock();
}

static void iso_time(char *out, size_t cap, uint64_t s)
{
	time_t t = (time_t)s;
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, cap, "%Y-%m-%d %H:%M:%S", &tm);
}

void digests_table(struct dstat_rows *rows, struct table *t)
{
	tb_init(t, "digests", digest_names, digest_types, N(digest_names));
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

/* ---- SHOW results ------------------------------------------------------------ */

static void config_rows(const struct config *cfg, void *arg)
{
	struct table *t = arg;
	size_t r;

#define ROW(name, ...) (r = tb_row(t), tb_text(t, r, 0, "%s", name), \
			tb_text(t, r, 1, __VA_ARGS__))
	ROW("config", "%s", cfg->config_path ? cfg->config_path : "");
	char addr[300];

	cli_format_hostport(&cfg->listen, addr, sizeof(addr));
	ROW("listen", "%s", addr);
	cli_format_hostport(&cfg->backend, addr, sizeof(addr));
	ROW("backend", "%s", addr);
	ROW("threads", "%u", cfg->threads);
	ROW("cpus", "%u cpu(s)", cfg->ncpus);
	ROW("pin", "%s", cfg->no_pin ? "off" : "on");
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
	ROW("auth", "%s", cfg->auth == AUTH_PROXY ? "proxy" : "passthrough");
	for (unsigned i = 0; i < cfg->nusers; i++)
		ROW("user", "%s (%s)", cfg->users[i].name,
		    auth_plugin_name(cfg->users[i].plugin));
	ROW("pool", "%s", (const char *[]){"session", "transaction",
					   "statement"}[cfg->pool_mode]);
	ROW("pool-size", "%u", cfg->pool_size);
	ROW("pool-wait-ms", "%u", cfg->pool_wait_ms);
	ROW("pool-min-idle", "%u", cfg->pool_min_idle);
	ROW("pool-idle-timeout", "%u", cfg->pool_idle_timeout_ms);
	ROW("pool-max-age", "%u", cfg->pool_max_age_ms);
	ROW("xa-recovery-interval-ms", "%u", cfg->xa_recovery_interval_ms);
	ROW("xa-grace-ms", "%u", cfg->xa_grace_ms);
	ROW("monitor-user", "%s", cfg->monitor_user ? cfg->monitor_user : "");
	cli_format_hostport(&cfg->admin, addr, sizeof(addr));
	ROW("admin", "%s", addr);
	ROW("admin-user", "%s", cfg->admin_user);
	cli_format_hostport(&cfg->metrics, addr, sizeof(addr));
	ROW("metrics", "%s", addr);
	ROW("digests", "%s", cfg->digests < 0 ? "auto" :
	    cfg->digests ? "on" : "off");
	ROW("digest-max", "%u", cfg->digest_max);
	ROW("digest-text-max", "%u", cfg->digest_text_max);
	ROW("rules", "%u", cfg->nrules);
#undef ROW
}

void config_table(struct table *t)
{
	static const char *const names[] = {"Setting", "Value"};

	tb_init(t, NULL, names, kv_types, 2);
	reload_with_config(config_rows, t);
}

void variables_table(const struct admin_ctx *ctx, struct table *t)
{
	tb_init(t, NULL, kv_names, kv_types, 2);
	for (unsigned i = 0; i < admin_nvariables(); i++) {
		char buf[256];
		const char *name = admin_variable(ctx, i, buf, sizeof(buf));
		size_t r = tb_row(t);
		tb_text(t, r, 0, "%s", name);
		tb_text(t, r, 1, "%s", buf);
	}
}

void databases_table(struct table *t)
{
	static const char *const names[] = {"Database"};
	static const enum admin_col_type types[] = {T};

	tb_init(t, NULL, names, types, 1);
	tb_text(t, tb_row(t), 0, "information_schema");
	tb_text(t, tb_row(t), 0, "stats");
}

void show_tables_table(const char *db, bool full, struct table *t)
{
	static const enum admin_col_type types[] = {T, T};

	tb_init(t, NULL, NULL, types, full ? 2 : 1);
	snprintf(t->own_name, sizeof(t->own_name), "Tables_in_%s", db);
	t->own_names[0] = t->own_name;
	t->own_names[1] = "Table_type";
	t->names = t->own_names;
	for (unsigned i = 0; i < N(catalog); i++) {
		size_t r;
		if (strcmp(catalog[i].db, db))
			continue;
		r = tb_row(t);
		tb_text(t, r, 0, "%s", catalog[i].name);
		if (full)
			tb_text(t, r, 1, "%s", is_system(&catalog[i]) ?
				"SYSTEM VIEW" : "BASE TABLE");
	}
}

/* One row of information_schema.TABLES or SHOW TABLE STATUS: the same
 * facts, status omitting the first three columns and the type. */
static void table_facts(struct table *t, const struct catalog_entry *ce,
			bool status)
{
	size_t r = tb_row(t);
	unsigned c = 0;

	if (!status) {
		tb_text(t, r, c++, "def");
		tb_text(t, r, c++, "%s", ce->db);
	}
	tb_text(t, r, c++, "%s", ce->name);
	if (!status)
		tb_text(t, r, c++, "%s", is_system(ce) ? "SYSTEM VIEW" :
			"BASE TABLE");
	tb_text(t, r, c++, "%s", is_system(ce) ? "MEMORY" : "MYRING");
	tb_u64(t, r, c++, 10);                       /* VERSION */
	tb_text(t, r, c++, "Dynamic");
	c++;                                         /* TABLE_ROWS: unknown */
	for (int i = 0; i < 5; i++)                  /* lengths, DATA_FREE */
		tb_u64(t, r, c++, 0);
	c += 4;                                      /* AUTO_INCREMENT, times */
	tb_text(t, r, c++, "utf8mb4_general_ci");
	c++;                                         /* CHECKSUM */
	tb_str(t, r, c++, "");
	tb_text(t, r, c++, "%s", ce->comment);
}

void is_tables_table(struct table *t)
{
	tb_init(t, "TABLES", is_tables_names, is_tables_types,
		N(is_tables_names));
	for (unsigned i = 0; i < N(catalog); i++)
		table_facts(t, &catalog[i], false);
}

void table_status_table(const char *db, struct table *t)
{
	static const char *const names[] = {
		"Name", "Engine", "Version", "Row_format", "Rows",
		"Avg_row_length", "Data_length", "Max_data_length",
		"Index_length", "Data_free", "Auto_increment", "Create_time",
		"Update_time", "Check_time", "Collation", "Checksum",
		"Create_options", "Comment",
	};
	/* is_tables_types without TABLE_CATALOG, _SCHEMA and _TYPE */
	static const enum admin_col_type types[] = {
		T, T, U, T, U, U, U, U, U, U, U, T, T, T, T, U, T, T,
	};

	tb_init(t, NULL, names, types, N(names));
	for (unsigned i = 0; i < N(catalog); i++)
		if (!strcmp(catalog[i].db, db))
			table_facts(t, &catalog[i], true);
}

/* MySQL's words for a column of the given type. */
static const char *sql_type(enum admin_col_type ty, bool full)
{
	switch (ty) {
	case ADMIN_COL_INT: return full ? "bigint(20)" : "bigint";
	case ADMIN_COL_UINT: return full ? "bigint(20) unsigned" : "bigint";
	case ADMIN_COL_DOUBLE: return "double";
	default: return "text";
	}
}

void show_columns_table(const struct catalog_entry *ce, bool full,
			struct table *t)
{
	static const char *const names[] = {"Field", "Type", "Null", "Key",
					    "Default", "Extra"};
	static const char *const full_names[] = {
		"Field", "Type", "Collation", "Null", "Key", "Default", "Extra",
		"Privileges", "Comment",
	};
	static const enum admin_col_type types[] = {T, T, T, T, T, T, T, T, T};

	if (full)
		tb_init(t, NULL, full_names, types, N(full_names));
	else
		tb_init(t, NULL, names, types, N(names));
	for (unsigned i = 0; i < ce->ncols; i++) {
		bool text = ce->types[i] == ADMIN_COL_TEXT;
		size_t r = tb_row(t);
		unsigned c = 0;

		tb_text(t, r, c++, "%s", ce->cols[i]);
		tb_text(t, r, c++, "%s", sql_type(ce->types[i], true));
		if (full)
			tb_str(t, r, c++, text ? "utf8mb4_general_ci" : NULL);
		tb_text(t, r, c++, "YES");
		tb_str(t, r, c++, "");
		c++;                                 /* Default NULL */
		tb_str(t, r, c++, "");
		if (full) {
			tb_text(t, r, c++, "select");
			tb_str(t, r, c++, "");
		}
	}
}

void is_columns_table(struct table *t)
{
	tb_init(t, "COLUMNS", is_columns_names, is_columns_types,
		N(is_columns_names));
	for (unsigned k = 0; k < N(catalog); k++) {
		const struct catalog_entry *ce = &catalog[k];
		for (unsigned i = 0; i < ce->ncols; i++) {
			enum admin_col_type ty = ce->types[i];
			bool text = ty == ADMIN_COL_TEXT;
			size_t r = tb_row(t);

			tb_text(t, r, 0, "def");
			tb_text(t, r, 1, "%s", ce->db);
			tb_text(t, r, 2, "%s", ce->name);
			tb_text(t, r, 3, "%s", ce->cols[i]);
			tb_u64(t, r, 4, i + 1);
			/* 5: COLUMN_DEFAULT NULL */
			tb_text(t, r, 6, "YES");
			tb_text(t, r, 7, "%s", sql_type(ty, false));
			if (text) {
				tb_u64(t, r, 8, 65535);
				tb_u64(t, r, 9, 65535);
				tb_text(t, r, 13, "utf8mb4");
				tb_text(t, r, 14, "utf8mb4_general_ci");
			} else {
				tb_u64(t, r, 10, ty == ADMIN_COL_DOUBLE ? 22 :
				       ty == ADMIN_COL_UINT ? 20 : 19);
				if (ty != ADMIN_COL_DOUBLE)
					tb_u64(t, r, 11, 0);
			}
			tb_text(t, r, 15, "%s", sql_type(ty, true));
			tb_str(t, r, 16, "");
			tb_str(t, r, 17, "");
			tb_text(t, r, 18, "select");
			tb_str(t, r, 19, "");
			tb_str(t, r, 20, "");
		}
	}
}

void index_table(struct table *t)
{
	static const char *const names[] = {
		"Table", "Non_unique", "Key_name", "Seq_in_index", "Column_name",
		"Collation", "Cardinality", "Sub_part", "Packed", "Null",
		"Index_type", "Comment", "Index_comment",
	};
	static const enum admin_col_type types[] = {
		T, U, T, U, T, T, U, U, T, T, T, T, T,
	};

	/* The tables have no indexes. */
	tb_init(t, NULL, names, types, N(names));
}

void create_table_table(const struct catalog_entry *ce, struct table *t)
{
	static const char *const names[] = {"Table", "Create Table"};
	struct strbuf sb = {0};
	size_t r;

	tb_init(t, NULL, names, kv_types, 2);
	sb_printf(&sb, "CREATE %sTABLE `%s` (\n", is_system(ce) ?
		  "TEMPORARY " : "", ce->name);
	for (unsigned i = 0; i < ce->ncols; i++)
		sb_printf(&sb, "  `%s` %s%s\n", ce->cols[i],
			  sql_type(ce->types[i], true),
			  i + 1 < ce->ncols ? "," : "");
	sb_printf(&sb, ") ENGINE=%s DEFAULT CHARSET=utf8mb4%s%s%s",
		  is_system(ce) ? "MEMORY" : "MYRING", ce->comment[0] ?
		  " COMMENT='" : "", ce->comment, ce->comment[0] ? "'" : "");
	r = tb_row(t);
	tb_text(t, r, 0, "%s", ce->name);
	if (sb.oom)
		t->oom = true;
	else
		tb_text(t, r, 1, "%s", sb.data);
	sb_free(&sb);
}

void warnings_table(struct table *t)
{
	static const char *const names[] = {"Level", "Code", "Message"};
	static const enum admin_col_type types[] = {T, U, T};

	/* Nothing here warns: errors are ERR packets. */
	tb_init(t, NULL, names, types, N(names));
}

/* What the admin port speaks: utf8mb4 with the collation of the
 * greeting (id 45), for connectors that map ids to names on connect. */
void charset_table(struct table *t)
{
	static const char *const names[] = {"Charset", "Description",
					    "Default collation", "Maxlen"};
	static const enum admin_col_type types[] = {T, T, T, U};
	size_t r;

	tb_init(t, NULL, names, types, N(names));
	r = tb_row(t);
	tb_text(t, r, 0, "utf8mb4");
	tb_text(t, r, 1, "UTF-8 Unicode");
	tb_text(t, r, 2, "utf8mb4_general_ci");
	tb_u64(t, r, 3, 4);
}

void collation_table(struct table *t)
{
	static const char *const names[] = {"Collation", "Charset", "Id", "Default",
					    "Compiled", "Sortlen", "Pad_attribute"};
	static const enum admin_col_type types[] = {T, T, U, T, T, U, T};
	size_t r;

	tb_init(t, NULL, names, types, N(names));
	r = tb_row(t);
	tb_text(t, r, 0, "utf8mb4_general_ci");
	tb_text(t, r, 1, "utf8mb4");
	tb_u64(t, r, 2, 45);
	tb_text(t, r, 3, "Yes");
	tb_text(t, r, 4, "Yes");
	tb_u64(t, r, 5, 1);
	tb_text(t, r, 6, "PAD SPACE");
}

void engines_table(struct table *t)
{
	static const char *const names[] = {"Engine", "Support", "Comment",
					    "Transactions", "XA", "Savepoints"};
	static const enum admin_col_type types[] = {T, T, T, T, T, T};
	static const char *const rows[][3] = {
		{"MYRING", "DEFAULT", "myring's statistics tables, read-only"},
		{"MEMORY", "YES", "information_schema"},
	};

	tb_init(t, NULL, names, types, N(names));
	for (unsigned i = 0; i < 2; i++) {
		size_t r = tb_row(t);
		for (unsigned c = 0; c < 3; c++)
			tb_text(t, r, c, "%s", rows[i][c]);
		for (unsigned c = 3; c < 6; c++)
			tb_text(t, r, c, "NO");
	}
}

/* ---- information_schema ------------------------------------------------------- */

void schemata_table(struct table *t)
{
	static const char *const dbs[] = {"information_schema", "stats"};

	tb_init(t, "SCHEMATA", schemata_names, schemata_types,
		N(schemata_names));
	for (unsigned i = 0; i < 2; i++) {
		size_t r = tb_row(t);
		tb_text(t, r, 0, "def");
		tb_text(t, r, 1, "%s", dbs[i]);
		tb_text(t, r, 2, "utf8mb4");
		tb_text(t, r, 3, "utf8mb4_general_ci");
		/* 4: SQL_PATH NULL */
		tb_text(t, r, 5, "NO");
		tb_text(t, r, 6, "%s", i ? "myring statistics" : "");
	}
}

void processlist_init(struct table *t, bool upper)
{
	tb_init(t, upper ? "PROCESSLIST" : NULL, upper ? is_proc_names :
		proc_names, proc_types, N(proc_names));
}

void processlist_row(struct table *t, uint64_t id, const char *user,
		     const char *host, const char *db, const char *command,
		     int64_t time_s, const char *state, const char *info)
{
	size_t r = tb_row(t);

	tb_u64(t, r, 0, id);
	tb_str(t, r, 1, user);
	tb_str(t, r, 2, host);
	tb_str(t, r, 3, db);
	tb_str(t, r, 4, command);
	if (time_s >= 0)
		tb_i64(t, r, 5, time_s);
	tb_str(t, r, 6, state);
	tb_str(t, r, 7, info);
}
