/*
 * Answers from the proxy itself are counted like the server's: the rows the
 * client receives show in the query log, the digest statistics and the
 * metrics.
 */
#include "harness.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char *slurp(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf = calloc(1, 1 << 20);
	size_t n = 0;

	if (f) {
		n = fread(buf, 1, (1 << 20) - 1, f);
		fclose(f);
	}
	buf[n] = '\0';
	return buf;
}

/* The query log line of the command with this marker, once it is written
 * (the writer thread flushes at least every tick). */
static char *log_line(const char *path, const char *marker)
{
	for (int i = 0; i < 100; i++) {
		char *all = slurp(path);
		char *hit = strstr(all, marker);
		if (hit) {
			char *start = hit, *end = strchr(hit, '\n');
			while (start > all && start[-1] != '\n')
				start--;
			if (end)
				*end = '\0';
			char *line = strdup(start);
			free(all);
			return line;
		}
		free(all);
		usleep(50000);
	}
	cr_assert_fail("no query log line with %s in %s", marker, path);
	return NULL;
}

Test(answer, rows_of_an_answer_are_counted_as_sent, .timeout = 60)
{
	struct proxy_proc p;
	char conf[64], qlog[64], metrics[32];
	int mport = free_port();

	snprintf(conf, sizeof(conf), "/tmp/myring-answer-%d.yaml", mport);
	snprintf(qlog, sizeof(qlog), "/tmp/myring-answer-%d.log", mport);
	snprintf(metrics, sizeof(metrics), "127.0.0.1:%d", mport);
	FILE *f = fopen(conf, "w");
	fprintf(f, "rules:\n"
		   "  - name: three\n"
		   "    match: '^SELECT ''answer-three''$'\n"
		   "    action: answer\n"
		   "    columns: [n, word]\n"
		   "    rows: [[1, one], [2, two], [3, three]]\n"
		   "  - name: ok\n"
		   "    match: '^DO ''answer-ok''$'\n"
		   "    action: answer\n"
		   "    affected-rows: 5\n");
	fclose(f);
	unlink(qlog);
	const char *args[] = {"--config", conf, "--log-queries", qlog,
			      "--metrics", metrics, NULL};
	proxy_start(&p, env_int("MARIADB_PORT"), args);

	char err[256];
	MYSQL *m = connect_port(p.port, "myring", "myring-pw", "myring_test", 0,
				err, sizeof(err));
	cr_assert_not_null(m, "%s", err);
	char *before = http_get(mport, "/metrics");
	double rows0 = metric(before, "myring_rows_sent_total");
	free(before);

	cr_assert_eq(mysql_query(m, "SELECT 'answer-three'"), 0, "%s",
		     mysql_error(m));
	MYSQL_RES *r = mysql_store_result(m);
	cr_assert_not_null(r);
	cr_assert_eq(mysql_num_rows(r), 3, "the client received three rows");
	mysql_free_result(r);
	cr_assert_eq(mysql_query(m, "DO 'answer-ok'"), 0, "%s", mysql_error(m));
	cr_assert_eq(mysql_affected_rows(m), 5);
	mysql_close(m);

	char *line = log_line(qlog, "answer-three");
	cr_assert(strstr(line, "\trows=3"), "query log: %s", line);
	free(line);
	line = log_line(qlog, "answer-ok");
	cr_assert(strstr(line, "\taffected=5"), "query log: %s", line);
	free(line);
	char *after = http_get(mport, "/metrics");
	cr_assert_eq(metric(after, "myring_rows_sent_total") - rows0, 3,
		     "rows sent counts the answer's rows");
	free(after);
	cr_assert_eq(proxy_stop(&p, 20000), 0, "%s", proxy_log_tail(&p));
	unlink(conf);
	unlink(qlog);
}

Test(answer, a_delay_on_an_answer_is_refused_at_load)
{
	char conf[64], out[4096];
	FILE *f;

	snprintf(conf, sizeof(conf), "/tmp/myring-answer-delay-%d.yaml",
		 free_port());
	f = fopen(conf, "w");
	fprintf(f, "rules:\n"
		   "  - match: x\n"
		   "    action: answer\n"
		   "    delay-ms: 100\n");
	fclose(f);
	const char *args[] = {"--check-config", conf, "--listen", "127.0.0.1:1",
			      "--backend", "127.0.0.1:2", NULL};
	cr_assert_eq(myring_run(args, out, sizeof(out), 20000), 2, "%s", out);
	cr_assert(strstr(out, "delay-ms: not with action answer"), "%s", out);
	unlink(conf);
}
