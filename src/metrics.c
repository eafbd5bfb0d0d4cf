#include "metrics.h"

#include "counters.h"
#include "hooks.h"
#include "intercept.h"
#include "mysql_proto.h"
#include "procstat.h"
#include "reload.h"

#include <limits.h>
#include <link.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif

#if defined(__clang__)
#define COMPILER "clang " __clang_version__
#elif defined(__GNUC__)
#define COMPILER "gcc " __VERSION__
#else
#define COMPILER "unknown"
#endif

static void family(struct strbuf *sb, const char *name, const char *type,
		   const char *help)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void counter(struct strbuf *sb, const char *name, const char *help,
		    uint64_t v)
{
	family(sb, name, "counter", help);
	sb_printf(sb, "%s %llu\n", name, (unsigned long long)v);
}

/* A sample value as the text format spells it: +Inf, and 15 significant
 * digits, enough for every figure here (integers are exact to 2^53). */
static void value(struct strbuf *sb, double v)
{
	if (isinf(v))
		sb_printf(sb, "%sInf\n", v > 0 ? "+" : "-");
	else
		sb_printf(sb, "%.15g\n", v);
}

static void gauge(struct strbuf *sb, const char *name, const char *help,
		  double v)
{
	family(sb, name, "gauge", help);
	sb_printf(sb, "%s ", name);
	value(sb, v);
}

/* Label values escape backslash, quote and newline. */
static void label_value(struct strbuf *sb, const char *s)
{
	for (; *s; s++) {
		if (*s == '\\' || *s == '"')
			sb_printf(sb, "\\%c", *s);
		else if (*s == '\n')
			sb_printf(sb, "\\n");
		else
			sb_printf(sb, "%c", *s);
	}
}

static void commands(const struct proxy *px, struct strbuf *sb)
{
	sb_printf(sb, "# HELP myring_commands_total Client commands received, "
		  "by type.\n# TYPE myring_commands_total counter\n");
	for (unsigned c = 0; c < 256; c++) {
		uint64_t n = 0;
		for (unsigned i = 0; i < px->nworkers; i++)
			n += stat_peek(&px->workers[i].stats.commands[c]);
		if (n || c == COM_QUERY)
			sb_printf(sb, "myring_commands_total{command=\"%s\"} %llu\n",
				  mysql_command_name((uint8_t)c),
				  (unsigned long long)n);
	}
}

/* The fine buckets at powers of two (16 us .. 2^31 us) are exact
 * Prometheus buckets: each power of two starts a bucket. */
static void latency(const struct proxy *px, struct strbuf *sb)
{
	uint64_t counts[HIST_BUCKETS] = {0}, cum = 0, total_us = 0;
	unsigned b = 0;

	for (unsigned i = 0; i < px->nworkers; i++) {
		const struct worker_stats *st = &px->workers[i].stats;
		for (unsigned k = 0; k < HIST_BUCKETS; k++)
			counts[k] += __atomic_load_n(&st->latency.count[k],
						     __ATOMIC_RELAXED);
		total_us += stat_peek(&st->latency_sum_us);
	}
	sb_printf(sb, "# HELP myring_command_duration_seconds Time from a "
		  "command's arrival to the end of its response.\n"
		  "# TYPE myring_command_duration_seconds histogram\n");
	for (unsigned e = 4; e <= 31; e++) {
		uint64_t bound = 1ull << e;
		while (b < HIST_BUCKETS && hist_bucket_high(b) <= bound)
			cum += counts[b++];
		sb_printf(sb, "myring_command_duration_seconds_bucket{le=\"%.6f\"} "
			  "%llu\n", (double)bound / 1e6, (unsigned long long)cum);
	}
	while (b < HIST_BUCKETS)
		cum += counts[b++];
	sb_printf(sb, "myring_command_duration_seconds_bucket{le=\"+Inf\"} %llu\n"
		  "myring_command_duration_seconds_sum %.6f\n"
		  "myring_command_duration_seconds_count %llu\n",
		  (unsigned long long)cum, (double)total_us / 1e6,
		  (unsigned long long)cum);
}

static void rules(struct strbuf *sb)
{
	const struct ruleset *rs;

	sb_printf(sb, "# HELP myring_rule_hits_total Commands each query rule "
		  "matched (since the rule set was loaded).\n"
		  "# TYPE myring_rule_hits_total counter\n");
	reload_lock();
	rs = intercept_current();
	for (unsigned i = 0; i < ruleset_count(rs); i++) {
		sb_printf(sb, "myring_rule_hits_total{rule=\"");
		label_value(sb, ruleset_rule(rs, i)->name);
		sb_printf(sb, "\"} %llu\n", (unsigned long long)ruleset_hits(rs, i));
	}
	reload_unlock();
}

/* dl_iterate_phdr callback: the version in the file name liburing.so.X.Y
 * that the loaded liburing.so.2 resolves to. */
static int liburing_file(struct dl_phdr_info *info, size_t size, void *arg)
{
	char real[PATH_MAX];
	const char *name = info->dlpi_name, *base = strrchr(name, '/');

	if (strncmp(base ? base + 1 : name, "liburing.so.", 12))
		return 0;
	if (realpath(name, real))
		name = real;
	base = strrchr(name, '/');
	base = base ? base + 1 : name;
	if (!strncmp(base, "liburing.so.", 12) && base[12])
		snprintf(arg, 32, "%s", base + 12);
	return 1;
}

/*
 * The *_build_info convention: a gauge of 1 whose labels describe the
 * build.  `liburing` is the library loaded (liburing has version macros
 * only from 2.4 on), `kernel` the running kernel's release:
 * together they decide which io_uring features the workers get.
 */
static void build_info(struct strbuf *sb)
{
	static char liburing[32];  /* found once; scrapes are single-threaded */
	struct utsname u;

	if (!liburing[0]) {
		snprintf(liburing, sizeof(liburing), "unknown");
		dl_iterate_phdr(liburing_file, liburing);
	}
	if (uname(&u))
		snprintf(u.release, sizeof(u.release), "unknown");
	family(sb, "myring_build_info", "gauge", "Always 1; the labels describe "
	       "the build: myring version, liburing, compiler, running kernel.");
	sb_printf(sb, "myring_build_info{version=\"");
	label_value(sb, MYRING_VERSION);
	sb_printf(sb, "\",liburing=\"");
	label_value(sb, liburing);
	sb_printf(sb, "\",compiler=\"");
	label_value(sb, COMPILER);
	sb_printf(sb, "\",kernel=\"");
	label_value(sb, u.release);
	sb_printf(sb, "\"} 1\n");
}

/* Named, typed and explained exactly as the Prometheus client libraries'
 * process collectors do, so the usual dashboards work unchanged. */
static void process(struct strbuf *sb)
{
	struct procstat ps;

	procstat_read(&ps);
	if (ps.have_stat) {
		family(sb, "process_cpu_seconds_total", "counter",
		       "Total user and system CPU time spent in seconds.");
		sb_printf(sb, "process_cpu_seconds_total ");
		value(sb, ps.cpu_seconds);
		gauge(sb, "process_virtual_memory_bytes",
		      "Virtual memory size in bytes.", (double)ps.virtual_bytes);
		gauge(sb, "process_resident_memory_bytes",
		      "Resident memory size in bytes.", (double)ps.resident_bytes);
		gauge(sb, "process_start_time_seconds",
		      "Start time of the process since unix epoch in seconds.",
		      ps.start_time);
	}
	if (ps.have_fds) {
		gauge(sb, "process_open_fds", "Number of open file descriptors.",
		      (double)ps.open_fds);
		gauge(sb, "process_max_fds",
		      "Maximum number of open file descriptors.", ps.max_fds);
	}
}

/* Indexed by enum side (session.h): 0 the client, 1 the backend. */
static void bytes(const struct proxy *px, struct strbuf *sb)
{
	family(sb, "myring_received_bytes_total", "counter",
	       "Bytes myring received, by the peer that sent them.");
	sb_printf(sb, "myring_received_bytes_total{peer=\"client\"} %llu\n"
		  "myring_received_bytes_total{peer=\"backend\"} %llu\n",
		  (unsigned long long)STATS_SUM(px, bytes_from[0]),
		  (unsigned long long)STATS_SUM(px, bytes_from[1]));
	family(sb, "myring_sent_bytes_total", "counter",
	       "Bytes myring sent (sends completed), by the peer they went to.");
	sb_printf(sb, "myring_sent_bytes_total{peer=\"client\"} %llu\n"
		  "myring_sent_bytes_total{peer=\"backend\"} %llu\n",
		  (unsigned long long)STATS_SUM(px, bytes_to[0]),
		  (unsigned long long)STATS_SUM(px, bytes_to[1]));
}

/* Codes never seen are left out: the series are the codes that occurred,
 * at most one per slot of the table. */
static void errors_by_code(const struct proxy *px, struct strbuf *sb)
{
	family(sb, "myring_errors_by_code_total", "counter",
	       "ERR packets sent to clients, from the server or from myring, "
	       "by MySQL error code (codes outside 1000-4999: other).");
	for (unsigned k = 0; k < ERR_CODE_SLOTS; k++) {
		/* Slot 0 (other) last. */
		unsigned slot = (k + 1) % ERR_CODE_SLOTS;
		uint64_t n = 0;

		for (unsigned i = 0; i < px->nworkers; i++)
			n += stat_peek(&px->workers[i].stats.errs_by_code[slot]);
		if (!n)
			continue;
		if (slot)
			sb_printf(sb, "myring_errors_by_code_total{code=\"%u\"} "
				  "%llu\n", ERR_CODE_FIRST + slot - 1,
				  (unsigned long long)n);
		else
			sb_printf(sb, "myring_errors_by_code_total{code=\"other\"} "
				  "%llu\n", (unsigned long long)n);
	}
}

static uint64_t gauge_sum(const struct proxy *px, size_t offset)
{
	uint64_t n = 0;

	for (unsigned i = 0; i < px->nworkers; i++)
		n += stat_peek((const uint64_t *)((const char *)&px->workers[i] +
						  offset));
	return n;
}
#define GAUGE_SUM(px, field) gauge_sum(px, offsetof(struct worker, field))

static void pools(const struct proxy *px, struct strbuf *sb)
{
	static const struct {
		const char *state;
		size_t offset;
	} states[] = {
		{"idle", offsetof(struct worker, pool_now.idle)},
		{"in_use", offsetof(struct worker, pool_now.in_use)},
		{"connecting", offsetof(struct worker, pool_now.opening)},
		{"resetting", offsetof(struct worker, pool_now.resetting)},
	};

	family(sb, "myring_pool_connections", "gauge",
	       "Pooled backend connections by state (auth: proxy; as of the "
	       "workers' last tick, 100 ms).");
	for (size_t k = 0; k < sizeof(states) / sizeof(states[0]); k++)
		sb_printf(sb, "myring_pool_connections{state=\"%s\"} %llu\n",
			  states[k].state,
			  (unsigned long long)gauge_sum(px, states[k].offset));
	gauge(sb, "myring_pool_waiting_clients",
	      "Sessions waiting for a pooled connection.",
	      (double)GAUGE_SUM(px, pool_now.waiting));
	family(sb, "myring_pool_connect_duration_seconds", "summary",
	       "Time to open, log in and set up a pooled connection.");
	sb_printf(sb, "myring_pool_connect_duration_seconds_sum %.6f\n"
		  "myring_pool_connect_duration_seconds_count %llu\n",
		  (double)STATS_SUM(px, pool.connect_us) / 1e6,
		  (unsigned long long)STATS_SUM(px, pool.connects));
	family(sb, "myring_pins_total", "counter",
	       "Times a pooled session was pinned to its backend connection, "
	       "by reason.");
	for (unsigned i = 0; i < PIN_NREASONS; i++)
		sb_printf(sb, "myring_pins_total{reason=\"%s\"} %llu\n",
			  pin_reason_name(i),
			  (unsigned long long)STATS_SUM(px, pins[i]));
	family(sb, "myring_pinned_sessions", "gauge",
	       "Pooled sessions pinned now, by reason.");
	for (unsigned i = 0; i < PIN_NREASONS; i++)
		sb_printf(sb, "myring_pinned_sessions{reason=\"%s\"} %llu\n",
			  pin_reason_name(i),
			  (unsigned long long)GAUGE_SUM(px, pinned_now[i]));
}

/* Per server of the groups (auth: proxy): what the checker says and what
 * was sent there.  Labels: server (as configured) and group. */
static void servers(const struct proxy *px, struct strbuf *sb)
{
	static const char *const roles[] = {"unknown", "primary", "replica"};
	static const char *const healths[] = {
		"unknown", "online", "shunned", "lagging", "draining",
	};

#define LABELS(i) sb_printf(sb, "{server=\""), \
		  label_value(sb, px->servers[i].addr.text), \
		  sb_printf(sb, "\",group=\""), \
		  label_value(sb, px->groups[px->servers[i].group].name), \
		  sb_printf(sb, "\"")
	family(sb, "myring_server_up", "gauge", "1 while the server is usable "
	       "(online, or not checked yet in a group of one server).");
	for (unsigned i = 0; i < px->nservers; i++) {
		uint8_t h = server_health(&px->servers[i]);
		bool one = px->groups[px->servers[i].group].nservers == 1;
		sb_printf(sb, "myring_server_up");
		LABELS(i);
		sb_printf(sb, "} %d\n", h == HEALTH_ONLINE ||
			  (one && h == HEALTH_UNKNOWN));
	}
	family(sb, "myring_server_info", "gauge", "Always 1; the labels say the "
	       "server's role and status as the health checker found them.");
	for (unsigned i = 0; i < px->nservers; i++) {
		uint8_t r = atomic_load(&px->servers[i].check.role);
		uint8_t h = server_health(&px->servers[i]);
		sb_printf(sb, "myring_server_info");
		LABELS(i);
		sb_printf(sb, ",role=\"%s\",status=\"%s\"} 1\n",
			  roles[r < 3 ? r : 0], healths[h < 5 ? h : 0]);
	}
	family(sb, "myring_server_lag_seconds", "gauge", "Replication lag of a "
	       "replica as its last check reported it (absent when unknown).");
	for (unsigned i = 0; i < px->nservers; i++) {
		int64_t lag = atomic_load(&px->servers[i].check.lag_ms);
		if (lag < 0)
			continue;
		sb_printf(sb, "myring_server_lag_seconds");
		LABELS(i);
		sb_printf(sb, "} %.3f\n", (double)lag / 1000);
	}
	family(sb, "myring_server_check_seconds", "gauge",
	       "Duration of the server's last health check.");
	for (unsigned i = 0; i < px->nservers; i++) {
		if (!atomic_load(&px->servers[i].check.checks))
			continue;
		sb_printf(sb, "myring_server_check_seconds");
		LABELS(i);
		sb_printf(sb, "} %.6f\n",
			  (double)atomic_load(&px->servers[i].check.check_us) / 1e6);
	}
	family(sb, "myring_server_commands_total", "counter",
	       "Commands pooled sessions sent to the server.");
	for (unsigned i = 0; i < px->nservers; i++) {
		uint64_t n = 0;
		for (unsigned w = 0; w < px->nworkers; w++)
			if (px->workers[w].routed)
				n += stat_peek(&px->workers[w].routed[i]);
		sb_printf(sb, "myring_server_commands_total");
		LABELS(i);
		sb_printf(sb, "} %llu\n", (unsigned long long)n);
	}
#undef LABELS
}

void metrics_render(const struct proxy *px, uint64_t start_s,
		    struct strbuf *sb)
{
	uint64_t accepted = STATS_SUM(px, accepted), closed = STATS_SUM(px, closed);

	build_info(sb);
	process(sb);
	gauge(sb, "myring_up", "1 while myring is serving.", 1);
	gauge(sb, "myring_start_time_seconds", "Start time (unix seconds).",
	      (double)start_s);
	gauge(sb, "myring_workers", "Worker threads.", px->nworkers);
	gauge(sb, "myring_connections", "Client connections open now.",
	      (double)(accepted - closed));
	commands(px, sb);
	for (size_t i = 0; i < nworker_counters; i++)
		counter(sb, worker_counters[i].metric, worker_counters[i].help,
			stats_sum(px, worker_counters[i].offset));
	errors_by_code(px, sb);
	bytes(px, sb);
	if (px->cfg.auth == AUTH_PROXY) {
		pools(px, sb);
		servers(px, sb);
	}
	latency(px, sb);
	rules(sb);
	sb_printf(sb, "# HELP myring_backend_up Whether the last backend "
		  "connection attempt on any worker succeeded.\n"
		  "# TYPE myring_backend_up gauge\nmyring_backend_up{backend=\"");
	label_value(sb, px->backend.text);
	{
		bool up = true;
		for (unsigned i = 0; i < px->nworkers; i++)
			if (__atomic_load_n(&px->workers[i].backend_down,
					    __ATOMIC_RELAXED))
				up = false;
		sb_printf(sb, "\"} %d\n", up ? 1 : 0);
	}
	{
		uint64_t live, ev;
		intercept_digest_totals(&live, &ev);
		gauge(sb, "myring_digest_entries",
		      "Digest table entries (summed over workers).", (double)live);
		counter(sb, "myring_digest_evictions_total",
			"Digest entries evicted to stay within digest-max.", ev);
	}
	counter(sb, "myring_config_reloads_total", "Successful config reloads.",
		reload_count());
	counter(sb, "myring_config_reload_failures_total",
		"Rejected config reloads.", reload_failures());
	counter(sb, "myring_query_log_dropped_total",
		"Query log lines dropped because the disk fell behind.",
		querylog_dropped());
}
