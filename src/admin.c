/*
 * admin.c - an admin-port connection (see admin.h).
 *
 * Databases: stats (digests, rules, stats, workers) and
 * information_schema (SCHEMATA, TABLES, COLUMNS, PROCESSLIST); SHOW
 * statements; RELOAD CONFIG; RESET STATS.  Digests and the client
 * sessions live in the workers, so statements on them wait for a
 * control request; everything else is answered at once from counters
 * that only grow.  Tables are built by admin_tables.c, statements run
 * by admin_engine.c.
 */
#include "admin.h"

#include "admin_engine.h"
#include "admin_tables.h"
#include "intercept.h"
#include "log.h"
#include "mysql_auth.h"
#include "mysql_proto.h"
#include "reload.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif

/* The server version of the greeting, and so of @@version and VERSION(). */
#define ADMIN_SERVER_VERSION "8.0.99-myring-" MYRING_VERSION "-admin"

/* A session's id is worker << 48 | sequence; SHOW PROCESSLIST adds this
 * so that no client session shares an Id with an admin connection (whose
 * Id is its 32-bit CONNECTION_ID()). */
#define SESSION_ID_BASE (1ull << 48)

/* SHOW PROCESSLIST cuts Info at this length (FULL does not), as MySQL. */
#define INFO_SHORT 100

enum phase { AD_HANDSHAKE, AD_SWITCH, AD_COMMAND };

struct admin_conn {
	const struct proxy *px;
	struct admin_conn *prev, *next;   /* all open admin connections */
	uint32_t id;
	uint64_t start_s;          /* the proxy's start */
	uint64_t command_s;        /* when the last command began */
	char peer[64];             /* host:port */
	char host[64];             /* without the port, for USER() */
	uint8_t scramble[20];
	uint8_t stage2[20];
	bool empty_password;
	char admin_user[64];       /* whom the login must name */
	enum phase phase;
	uint64_t caps;
	char user[64];
	char db[ADMIN_NAME_MAX + 1]; /* current database */
	enum admin_wait waiting;
	const char *live_table;    /* AW_LIVE: the table it is for */
	uint8_t reply_seq;         /* of the answer to the waiting statement */
	struct admin_stmt stmt;    /* the statement (waiting for the workers) */
	char *sql;                 /* its text */
};

static void take_credentials(const struct config *cfg, void *arg)
{
	struct admin_conn *a = arg;

	snprintf(a->admin_user, sizeof(a->admin_user), "%s", cfg->admin_user);
	a->empty_password = cfg->admin_password[0] == '\0';
	auth_native_stage2(cfg->admin_password, a->stage2);
}

/* Only the control thread opens, serves and frees admin connections. */
static struct admin_conn *all_conns;

/* ---- replies ------------------------------------------------------------ */

static void reply_err(struct pkt_buf *out, uint16_t code, const char *state,
		      const char *msg)
{
	srv_err(out, code, state, msg);
}

static void reply_admin_err(struct pkt_buf *out, const struct admin_err *e)
{
	srv_err(out, e->code, e->state, e->msg);
}

static void context(const struct admin_conn *a, struct admin_ctx *ctx)
{
	*ctx = (struct admin_ctx){
		.user = a->user,
		.host = a->host,
		.db = a->db[0] ? a->db : NULL,
		.version = ADMIN_SERVER_VERSION,
		.conn_id = a->id,
		.now = (uint64_t)time(NULL),
		.max_packet = ADMIN_MAX_PACKET,
		.port = (unsigned)atoi(a->px->cfg.admin.port),
	};
}

/* Runs the statement over t (NULL: no table) and frees t. */
static void answer(struct admin_conn *a, struct table *t, struct pkt_buf *out)
{
	struct admin_table at;
	struct admin_ctx ctx;
	struct admin_err e;

	if (t && (t->oom || t->text.oom)) {
		reply_err(out, 1105, "HY000", "myring admin: out of memory");
		tb_free(t);
		return;
	}
	if (t)
		tb_finish(t, &at);
	context(a, &ctx);
	if (admin_select(t ? &at : NULL, &a->stmt, &ctx, out, a->caps, &e))
		reply_admin_err(out, &e);
	if (t)
		tb_free(t);
}

/* ---- names ------------------------------------------------------------ */

/* The database a statement means: its own, else the current one.  NULL
 * after answering ERR 1046 / 1049. */
static const char *database(struct admin_conn *a, struct pkt_buf *out)
{
	const struct admin_stmt *st = &a->stmt;
	const char *name = st->db.len ? admin_text(st, st->db) : a->db;
	const char *db;
	struct admin_err e;

	if (!name[0]) {
		admin_err_set(&e, 1046, "No database selected");
		reply_admin_err(out, &e);
		return NULL;
	}
	if (!(db = catalog_db(name))) {
		admin_err_set(&e, 1049, "Unknown database '%s'; databases: stats, "
			      "information_schema", name);
		reply_admin_err(out, &e);
	}
	return db;
}

/* The statement's table; NULL after answering ERR 1146. */
static const struct catalog_entry *find_table(struct admin_conn *a,
					      struct pkt_buf *out)
{
	const struct admin_stmt *st = &a->stmt;
	const char *db = database(a, out);
	const struct catalog_entry *ce;
	struct admin_err e;

	if (!db)
		return NULL;
	ce = catalog_find(db, admin_text(st, st->table));
	if (!ce) {
		char tables[600];
		catalog_list(tables, sizeof(tables));
		admin_err_set(&e, 1146, "Table '%s.%s' doesn't exist; tables: %s",
			      db, admin_text(st, st->table), tables);
		reply_admin_err(out, &e);
	}
	return ce;
}

/* ---- statements --------------------------------------------------------- */

static void select_from(struct admin_conn *a, struct pkt_buf *out,
			enum admin_wait *wait)
{
	const struct catalog_entry *ce;
	struct table t;

	if (!a->stmt.table.len) {
		answer(a, NULL, out);
		return;
	}
	if (!(ce = find_table(a, out)))
		return;
	if (!strcmp(ce->name, "digests")) {
		if (!intercept_digests()) {
			reply_err(out, 1105, "HY000", "myring admin: digests are "
				  "off (start with --digests on, or with --admin "
				  "/ --metrics and digests: auto)");
			return;
		}
		a->waiting = *wait = AW_SNAPSHOT;
		return;
	}
	if (!strcmp(ce->name, "PROCESSLIST") || !strcmp(ce->name, "sessions") ||
	    !strcmp(ce->name, "pools") || !strcmp(ce->name, "backends")) {
		a->live_table = ce->name;
		a->waiting = *wait = AW_LIVE;
		return;
	}
	if (!strcmp(ce->name, "rules"))
		rules_table(&t);
	else if (!strcmp(ce->name, "workers"))
		workers_table(a->px, &t);
	else if (!strcmp(ce->name, "stats"))
		stats_table(a->px, a->start_s, &t);
	else if (!strcmp(ce->name, "pins"))
		pins_table(a->px, &t);
	else if (!strcmp(ce->name, "shards"))
		shards_table(a->px, &t);
	else if (!strcmp(ce->name, "shard_tables"))
		shard_tables_table(a->px, &t);
	else if (!strcmp(ce->name, "transactions"))
		transactions_table(a->px, &t);
	else if (!strcmp(ce->name, "SCHEMATA"))
		schemata_table(&t);
	else if (!strcmp(ce->name, "TABLES"))
		is_tables_table(&t);
	else
		is_columns_table(&t);
	answer(a, &t, out);
}

static void show(struct admin_conn *a, struct pkt_buf *out,
		 enum admin_wait *wait)
{
	const struct admin_stmt *st = &a->stmt;
	const struct catalog_entry *ce;
	struct admin_ctx ctx;
	const char *db;
	struct table t;

	switch (st->show) {
	case SHOW_STATS:
		stats_table(a->px, a->start_s, &t);
		break;
	case SHOW_CONFIG:
		config_table(&t);
		break;
	case SHOW_VARIABLES:
		context(a, &ctx);
		variables_table(&ctx, &t);
		break;
	case SHOW_DATABASES:
		databases_table(&t);
		break;
	case SHOW_TABLES:
	case SHOW_TABLE_STATUS:
		if (!(db = database(a, out)))
			return;
		if (st->show == SHOW_TABLES)
			show_tables_table(db, st->full, &t);
		else
			table_status_table(db, &t);
		break;
	case SHOW_COLUMNS:
	case SHOW_INDEX:
	case SHOW_CREATE_TABLE:
		if (!(ce = find_table(a, out)))
			return;
		if (st->show == SHOW_COLUMNS)
			show_columns_table(ce, st->full, &t);
		else if (st->show == SHOW_INDEX)
			index_table(&t);
		else
			create_table_table(ce, &t);
		break;
	case SHOW_PROCESSLIST:
		a->live_table = "PROCESSLIST";
		a->waiting = *wait = AW_LIVE;
		return;
	case SHOW_BACKENDS:
		a->live_table = "backends";
		a->waiting = *wait = AW_LIVE;
		return;
	case SHOW_SHARDS:
		shards_table(a->px, &t);
		break;
	case SHOW_CHARSET:
		charset_table(&t);
		break;
	case SHOW_COLLATION:
		collation_table(&t);
		break;
	case SHOW_ENGINES:
		engines_table(&t);
		break;
	case SHOW_WARNINGS:
	default:
		warnings_table(&t);
		break;
	}
	answer(a, &t, out);
}

static void use(struct admin_conn *a, const char *name, size_t len,
		struct pkt_buf *out)
{
	char buf[ADMIN_NAME_MAX + 1];
	const char *db;
	struct admin_err e;

	snprintf(buf, sizeof(buf), "%.*s", (int)len, name);
	if (len > ADMIN_NAME_MAX || !(db = catalog_db(buf))) {
		admin_err_set(&e, 1049, "Unknown database '%s'; databases: stats, "
			      "information_schema", buf);
		reply_admin_err(out, &e);
		return;
	}
	snprintf(a->db, sizeof(a->db), "%s", db);
	srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
}

static void query(struct admin_conn *a, const uint8_t *sql, size_t len,
		  struct pkt_buf *out, enum admin_wait *wait)
{
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
	case ADMIN_SELECT:
		select_from(a, out, wait);
		break;
	case ADMIN_SHOW:
		show(a, out, wait);
		break;
	case ADMIN_USE:
		use(a, admin_text(&a->stmt, a->stmt.db), a->stmt.db.len, out);
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
	case ADMIN_XA_RESOLVE:
		xa_resolve_stmt(admin_text(&a->stmt, a->stmt.db), a->stmt.full,
				out);
		break;
	}
}

/* ---- the statements that waited ---------------------------------------- */

static void digests_done(struct admin_conn *a, struct ctl_result *res,
			 unsigned n, struct pkt_buf *out)
{
	struct dstat_rows *snaps = calloc(n ? n : 1, sizeof(*snaps));
	struct dstat_rows merged = {0};
	struct table t;

	if (!snaps) {
		reply_err(out, 1105, "HY000", "myring admin: out of memory");
		return;
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
		return;
	}
	free(snaps);
	digests_table(&merged, &t);
	answer(a, &t, out);
	dstat_rows_free(&merged);
}

/* Admin connections first (this one is running the statement), then the
 * proxy's client sessions, worker by worker. */
static void processlist_done(struct admin_conn *a, struct ctl_result *res,
			     unsigned n, struct pkt_buf *out)
{
	uint64_t now = (uint64_t)time(NULL);
	struct table t;

	processlist_init(&t, a->stmt.kind == ADMIN_SELECT);
	for (const struct admin_conn *c = all_conns; c; c = c->next) {
		bool running = c == a || c->waiting != AW_NONE;
		char info[INFO_SHORT + 1];

		if (running && c->sql)
			snprintf(info, sizeof(info), "%s", c->sql);
		if (c->phase != AD_COMMAND)
			processlist_row(&t, c->id, "unauthenticated user", c->peer,
					NULL, "Connect", (int64_t)(now - c->command_s),
					"login", NULL);
		else
			processlist_row(&t, c->id, c->user, c->peer,
					c->db[0] ? c->db : NULL,
					running ? "Query" : "Sleep",
					(int64_t)(now - c->command_s),
					c == a ? "executing" : running ?
					"waiting for the workers" : "",
					!running || !c->sql ? NULL :
					a->stmt.full || a->stmt.kind == ADMIN_SELECT ?
					c->sql : info);
	}
	for (unsigned w = 0; w < n; w++) {
		for (size_t i = 0; i < res[w].nsessions; i++) {
			const struct ctl_session *s = &res[w].sessions[i];
			bool busy = strcmp(s->command, "Sleep") &&
				    strcmp(s->command, "Connect");
			processlist_row(&t, s->id + SESSION_ID_BASE,
					s->user[0] ? s->user :
					"unauthenticated user", s->client,
					s->schema[0] ? s->schema : NULL, s->command,
					busy ? (int64_t)(s->busy_us / 1000000) : -1,
					s->state, NULL);
		}
	}
	answer(a, &t, out);
}

static void live_done(struct admin_conn *a, struct ctl_result *res,
		      unsigned n, struct pkt_buf *out)
{
	struct table t;

	if (!strcmp(a->live_table, "PROCESSLIST")) {
		processlist_done(a, res, n, out);
		return;
	}
	if (!strcmp(a->live_table, "sessions"))
		sessions_table(res, n, SESSION_ID_BASE, &t);
	else if (!strcmp(a->live_table, "pools"))
		pools_table(res, n, &t);
	else
		backends_table(a->px, res, n, &t);
	answer(a, &t, out);
}

void admin_resume(struct admin_conn *a, struct ctl_result *res, unsigned n,
		  const char *msg, int rc, struct pkt_buf *out)
{
	enum admin_wait w = a->waiting;

	a->waiting = AW_NONE;
	/* The buffer was reset by the sends since the statement came. */
	out->seq = a->reply_seq;
	for (unsigned i = 0; !rc && res && i < n; i++)
		if (res[i].rc) {
			rc = res[i].rc;
			msg = "myring admin: a worker ran out of memory copying "
			      "its table";
		}
	if (rc) {
		reply_err(out, 1105, "HY000", msg ? msg : "myring admin: failed");
		return;
	}
	switch (w) {
	case AW_RELOAD:
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT,
		       msg ? msg : "myring: config reloaded");
		break;
	case AW_RESET:
		LOGI("admin %s: RESET STATS", a->peer);
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, "stats reset");
		break;
	case AW_SNAPSHOT:
		digests_done(a, res, n, out);
		break;
	case AW_LIVE:
		live_done(a, res, n, out);
		break;
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
	char *colon;

	if (!a)
		return NULL;
	a->px = px;
	a->id = id;
	a->start_s = start_s;
	a->command_s = (uint64_t)time(NULL);
	snprintf(a->peer, sizeof(a->peer), "%s", peer);
	/* "1.2.3.4:5" and "[::1]:5" without the port */
	snprintf(a->host, sizeof(a->host), "%s", peer[0] == '[' ? peer + 1 : peer);
	if ((colon = strrchr(a->host, peer[0] == '[' ? ']' : ':')))
		*colon = '\0';
	snprintf(a->db, sizeof(a->db), "stats");
	srv_scramble(a->scramble);
	/* The credentials in force now: a reload changes them for the logins
	 * that follow. */
	reload_with_config(take_credentials, a);
	out->seq = 0;
	srv_build_greeting(out, id, a->scramble, ADMIN_SERVER_VERSION, SRV_CAPS);
	a->next = all_conns;
	if (all_conns)
		all_conns->prev = a;
	all_conns = a;
	return a;
}

static int authenticate(struct admin_conn *a, const uint8_t *auth, size_t len,
			struct pkt_buf *out)
{
	char msg[256];

	if (!strcmp(a->user, a->admin_user) &&
	    auth_native_verify(a->scramble, auth, len, a->stage2,
			      a->empty_password)) {
		const char *db = catalog_db(a->db);
		if (!db) {
			snprintf(msg, sizeof(msg), "myring admin: Unknown database "
				 "'%s'; databases: stats, information_schema",
				 a->db);
			srv_err(out, 1049, "42000", msg);
			return -1;
		}
		snprintf(a->db, sizeof(a->db), "%s", db);
		a->phase = AD_COMMAND;
		srv_ok(out, 0, SERVER_STATUS_AUTOCOMMIT, NULL);
		LOGD("admin %s: '%s' logged in", a->peer, a->user);
		return 0;
	}
	snprintf(msg, sizeof(msg),
		 "Access denied for user '%s'@'%s' (using password: %s)",
		 a->user, a->host, len ? "YES" : "NO");
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
	/* Checked once the password is: a database named at connect. */
	if (r.schema.len)
		snprintf(a->db, sizeof(a->db), "%.*s", (int)r.schema.len,
			 r.schema.ptr);
	a->caps = r.caps & SRV_CAPS;
	if (r.plugin.len && (r.plugin.len != 21 ||
			     memcmp(r.plugin.ptr, "mysql_native_password", 21))) {
		a->phase = AD_SWITCH;
		auth_build_switch(out, AUTH_NATIVE, a->scramble, 20);
		return 0;
	}
	return authenticate(a, (const uint8_t *)r.auth.ptr, r.auth.len, out);
}

/* COM_STATISTICS: one line of text, no OK header (what mysqladmin status
 * and the mariadb CLI's status print). */
static void statistics(struct admin_conn *a, struct pkt_buf *out)
{
	const struct proxy *px = a->px;
	uint64_t up = (uint64_t)time(NULL) - a->start_s, commands = 0;
	unsigned nadmin = 0;
	char line[256];
	int n;

	for (unsigned i = 0; i < px->nworkers; i++)
		for (unsigned c = 0; c < 256; c++)
			commands += stat_peek(&px->workers[i].stats.commands[c]);
	for (const struct admin_conn *c = all_conns; c; c = c->next)
		nadmin++;
	n = snprintf(line, sizeof(line), "Uptime: %" PRIu64 "  Threads: %" PRIu64
		     "  Questions: %" PRIu64 "  Slow queries: 0  Opens: 0  "
		     "Open tables: 0  Queries per second avg: %.3f", up,
		     STATS_SUM(px, accepted) - STATS_SUM(px, closed) + nadmin,
		     commands, up ? (double)commands / (double)up : 0.0);
	pkt_buf_packet(out, line, (size_t)n);
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
	a->command_s = (uint64_t)time(NULL);
	switch (p[0]) {
	case COM_QUIT:
		return -1;
	case COM_QUERY:
		query(a, p + 1, plen - 1, out, wait);
		return 0;
	case COM_INIT_DB:
		use(a, (const char *)p + 1, plen - 1, out);
		return 0;
	case COM_STATISTICS:
		statistics(a, out);
		return 0;
	case COM_PING:
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
	if (a->prev)
		a->prev->next = a->next;
	else
		all_conns = a->next;
	if (a->next)
		a->next->prev = a->prev;
	free(a->sql);
	free(a);
}
