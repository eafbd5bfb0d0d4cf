#include "metrics.h"

#include "counters.h"
#include "hooks.h"
#include "intercept.h"
#include "mysql_proto.h"
#include "reload.h"

#include <stdatomic.h>
#include <string.h>
#include <time.h>

static void counter(struct strbuf *sb, const char *name, const char *help,
		    uint64_t v)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s counter\n%s %llu\n", name, help,
		  name, name, (unsigned long long)v);
}

static void gauge(struct strbuf *sb, const char *name, const char *help,
		  double v)
{
	sb_printf(sb, "# HELP %s %s\n# TYPE %s gauge\n%s %.17g\n", name, help,
		  name, name, v);
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

void metrics_render(const struct proxy *px, uint64_t start_s,
		    struct strbuf *sb)
{
	uint64_t accepted = STATS_SUM(px, accepted), closed = STATS_SUM(px, closed);
	struct timespec now;

	clock_gettime(CLOCK_REALTIME, &now);
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
	sb_printf(sb, "# HELP myring_bytes_total Bytes received by myring, by "
		  "the side that sent them.\n# TYPE myring_bytes_total counter\n"
		  "myring_bytes_total{from=\"client\"} %llu\n"
		  "myring_bytes_total{from=\"backend\"} %llu\n",
		  (unsigned long long)STATS_SUM(px, bytes_from[0]),
		  (unsigned long long)STATS_SUM(px, bytes_from[1]));
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
	(void)now;
}
