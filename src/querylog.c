/*
 * querylog.c - the --log-queries hook: one line per command.
 *
 *   TIMESTAMP \t CLIENT \t USER \t SCHEMA \t COMMAND \t SQL \t DURATION_US \t RESULT
 *   \t SERVER
 *
 * Workers format lines into a private 64 KiB chunk and hand full chunks
 * (and, every tick, partial ones) to one writer thread; the only shared
 * state is the hand-off list, touched once per chunk, never per query.
 * A worker never waits for the disk.  If the disk falls behind by more
 * than QUEUE_MAX bytes, lines are dropped and counted, and the count is
 * logged: memory stays bounded and nothing is lost silently.
 */
#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define CHUNK_SIZE (64u << 10)
#define QUEUE_MAX (64u << 20)
#define TEXT_MAX (64u << 10)  /* longer SQL is logged as a marked prefix */

struct qchunk {
	struct qchunk *next;
	size_t len, cap;
	uint64_t lines;
	char data[];
};

static struct {
	int fd;
	pthread_t writer;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	struct qchunk *head, **tail;
	size_t queued;
	uint64_t dropped;
	int next_fd;               /* reopened file, adopted by the writer */
	bool stop;
	bool started;
	_Atomic int mode;          /* enum querylog_mode */
} ql = {.fd = -1, .next_fd = -1};

struct ql_worker {
	struct qchunk *cur;
};

/* What on_result needs that only exists at command time. */
struct ql_cmd {
	int64_t ts_us;             /* wall clock when the command arrived */
	const char *name;
	size_t text_len;           /* bytes kept */
	size_t text_total;         /* bytes the command had */
	bool has_text;
	char text[];
};

static struct qchunk *chunk_new(size_t need)
{
	size_t cap = need > CHUNK_SIZE ? need : CHUNK_SIZE;
	struct qchunk *c = malloc(sizeof(*c) + cap);

	if (c) {
		c->next = NULL;
		c->len = 0;
		c->cap = cap;
		c->lines = 0;
	}
	return c;
}

static void hand_off(struct ql_worker *qw)
{
	struct qchunk *c = qw->cur;

	if (!c || c->len == 0)
		return;
	qw->cur = NULL;
	pthread_mutex_lock(&ql.lock);
	if (ql.queued + c->len > QUEUE_MAX) {
		ql.dropped += c->lines;
		free(c);
	} else {
		ql.queued += c->len;
		*ql.tail = c;
		ql.tail = &c->next;
		pthread_cond_signal(&ql.cond);
	}
	pthread_mutex_unlock(&ql.lock);
}

static void *writer_main(void *arg)
{
	uint64_t reported = 0;

	log_worker = -1;
	pthread_mutex_lock(&ql.lock);
	for (;;) {
		struct qchunk *list;

		while (!ql.head && !ql.stop)
			pthread_cond_wait(&ql.cond, &ql.lock);
		if (ql.next_fd >= 0) {
			/* Reopened (reload, log rotation): later chunks go to
			 * the new file. */
			if (ql.fd >= 0)
				close(ql.fd);
			ql.fd = ql.next_fd;
			ql.next_fd = -1;
		}
		list = ql.head;
		ql.head = NULL;
		ql.tail = &ql.head;
		if (ql.dropped != reported) {
			LOGW("query log: %llu line(s) dropped: the disk is slower "
			     "than the query rate",
			     (unsigned long long)(ql.dropped - reported));
			reported = ql.dropped;
		}
		if (!list && ql.stop)
			break;
		pthread_mutex_unlock(&ql.lock);
		while (list) {
			struct qchunk *c = list;
			size_t off = 0;
			list = c->next;
			while (ql.fd >= 0 && off < c->len) {
				ssize_t w = write(ql.fd, c->data + off, c->len - off);
				if (w < 0 && errno == EINTR)
					continue;
				if (w <= 0) {
					LOGE("query log: write: %s", strerror(errno));
					break;
				}
				off += (size_t)w;
			}
			pthread_mutex_lock(&ql.lock);
			ql.queued -= c->len;
			pthread_mutex_unlock(&ql.lock);
			free(c);
		}
		pthread_mutex_lock(&ql.lock);
	}
	pthread_mutex_unlock(&ql.lock);
	return NULL;
}

static void *ql_worker_init(void *arg, unsigned worker)
{
	return calloc(1, sizeof(struct ql_worker));
}

static void ql_worker_fini(void *ws)
{
	if (!ws)
		return; /* the worker failed to start */
	hand_off(ws);
	free(ws);
}

static void ql_tick(void *ws, uint64_t now_us)
{
	hand_off(ws);
}

static enum myring_verdict ql_command(void *ws, const struct myring_session *s,
				      const struct myring_command *cmd,
				      struct myring_reply *reply, void **cookie)
{
	size_t keep = cmd->text ? (cmd->text_len < TEXT_MAX ? cmd->text_len :
				   TEXT_MAX) : 0;
	int mode = atomic_load_explicit(&ql.mode, memory_order_relaxed);
	struct ql_cmd *c;
	struct timespec ts;

	if (mode == QL_OFF ||
	    (mode == QL_MARKED && !(cmd->marks & MYRING_MARK_LOG)))
		return MYRING_FORWARD;
	c = malloc(sizeof(*c) + keep);
	if (!c) {
		pthread_mutex_lock(&ql.lock);
		ql.dropped++;
		pthread_mutex_unlock(&ql.lock);
		return MYRING_FORWARD;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	c->ts_us = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	c->name = cmd->name;
	c->has_text = cmd->text != NULL;
	c->text_len = keep;
	c->text_total = cmd->text ? cmd->text_len : 0;
	if (keep)
		memcpy(c->text, cmd->text, keep);
	*cookie = c;
	return MYRING_FORWARD;
}

/* Appends src escaped so a line stays one line and one field per tab. */
static char *escape(char *out, const char *src, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		char ch = src[i];
		switch (ch) {
		case '\\': *out++ = '\\'; *out++ = '\\'; break;
		case '\t': *out++ = '\\'; *out++ = 't'; break;
		case '\n': *out++ = '\\'; *out++ = 'n'; break;
		case '\r': *out++ = '\\'; *out++ = 'r'; break;
		default: *out++ = ch; break;
		}
	}
	return out;
}

static void ql_result(void *ws, const struct myring_session *s,
		      const struct myring_result *r, void *cookie)
{
	struct ql_worker *qw = ws;
	struct ql_cmd *c = cookie;
	size_t ulen, slen, need;
	char *p;
	struct tm tm;
	time_t secs;

	if (!c)
		return;
	ulen = strlen(s->user);
	slen = strlen(s->schema);
	need = 2 * (ulen + slen + c->text_len) + strlen(s->client) + 256 +
	       (r->server ? strlen(r->server) + 64 : 0);
	if (!qw->cur || qw->cur->cap - qw->cur->len < need) {
		hand_off(qw);
		qw->cur = chunk_new(need);
		if (!qw->cur) {
			free(c);
			return;
		}
	}
	p = qw->cur->data + qw->cur->len;
	secs = (time_t)(c->ts_us / 1000000);
	gmtime_r(&secs, &tm);
	p += strftime(p, 32, "%Y-%m-%dT%H:%M:%S", &tm);
	p += sprintf(p, ".%06lldZ\t%s\t", (long long)(c->ts_us % 1000000),
		     s->client);
	p = ulen ? escape(p, s->user, ulen) : (*p++ = '-', p);
	*p++ = '\t';
	p = slen ? escape(p, s->schema, slen) : (*p++ = '-', p);
	*p++ = '\t';
	p += sprintf(p, "%s\t", c->name);
	if (c->has_text) {
		p = escape(p, c->text, c->text_len);
		if (c->text_total > c->text_len)
			p += sprintf(p, "...[truncated: %zu bytes]", c->text_total);
	} else {
		*p++ = '-';
	}
	p += sprintf(p, "\t%llu\t", (unsigned long long)r->duration_us);
	if (r->aborted)
		p += sprintf(p, "aborted");
	else if (r->err_code)
		p += sprintf(p, "err=%u", r->err_code);
	else if (r->no_response)
		p += sprintf(p, "none");
	else if (r->result_set)
		p += sprintf(p, "rows=%llu", (unsigned long long)r->rows);
	else
		p += sprintf(p, "affected=%llu",
			     (unsigned long long)r->affected_rows);
	/* Where it went (auth: proxy), and why. */
	if (r->server)
		p += sprintf(p, "\t%s %s", r->server, r->route ? r->route : "");
	else
		p += sprintf(p, "\t-");
	*p++ = '\n';
	qw->cur->len = (size_t)(p - qw->cur->data);
	qw->cur->lines++;
	free(c);
}

static const struct myring_hook querylog_hook = {
	.name = "query-log",
	.flags = MYRING_HOOK_TEXT | MYRING_HOOK_RESULT,
	.worker_init = ql_worker_init,
	.worker_fini = ql_worker_fini,
	.on_tick = ql_tick,
	.on_command = ql_command,
	.on_result = ql_result,
};

static int open_log(const char *path, char *err, size_t errlen)
{
	int fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);

	if (fd < 0)
		snprintf(err, errlen, "log-queries: cannot open '%s': %s", path,
			 strerror(errno));
	return fd;
}

int querylog_install(const char *path, enum querylog_mode mode, char *err,
		     size_t errlen)
{
	int rc;

	if (path) {
		ql.fd = open_log(path, err, errlen);
		if (ql.fd < 0)
			return -1;
	}
	pthread_mutex_init(&ql.lock, NULL);
	pthread_cond_init(&ql.cond, NULL);
	ql.tail = &ql.head;
	rc = pthread_create(&ql.writer, NULL, writer_main, NULL);
	if (rc) {
		snprintf(err, errlen, "log-queries: cannot start writer: %s",
			 strerror(rc));
		if (ql.fd >= 0)
			close(ql.fd);
		return -1;
	}
	ql.started = true;
	atomic_store(&ql.mode, path ? mode : QL_OFF);
	return myring_hook_register(&querylog_hook);
}

int querylog_configure(const char *path, enum querylog_mode mode, char *err,
		       size_t errlen)
{
	int fd = -1;

	if (!ql.started) {
		if (path) {
			snprintf(err, errlen, "log-queries: the query log was not "
				 "set up at start-up; restart to enable it");
			return -1;
		}
		return 0;
	}
	if (path) {
		fd = open_log(path, err, errlen);
		if (fd < 0)
			return -1;
		pthread_mutex_lock(&ql.lock);
		if (ql.next_fd >= 0)
			close(ql.next_fd);
		ql.next_fd = fd;
		pthread_cond_signal(&ql.cond);
		pthread_mutex_unlock(&ql.lock);
	}
	atomic_store(&ql.mode, path ? mode : QL_OFF);
	return 0;
}

uint64_t querylog_dropped(void)
{
	uint64_t n;

	if (!ql.started)
		return 0;
	pthread_mutex_lock(&ql.lock);
	n = ql.dropped;
	pthread_mutex_unlock(&ql.lock);
	return n;
}

void querylog_shutdown(void)
{
	if (!ql.started)
		return;
	pthread_mutex_lock(&ql.lock);
	ql.stop = true;
	pthread_cond_signal(&ql.cond);
	pthread_mutex_unlock(&ql.lock);
	pthread_join(ql.writer, NULL);
	if (ql.fd >= 0)
		close(ql.fd);
	if (ql.next_fd >= 0)
		close(ql.next_fd);
	ql.fd = ql.next_fd = -1;
	ql.started = false;
}
