/*
 * The pure pooling modules against a real MariaDB, without myring: a
 * session's state is read from the OK packets of one connection
 * (mysql_state), replayed on another (mysql_state_diff_sql), and the two
 * connections must then show the same SHOW SESSION VARIABLES; a
 * COM_STMT_EXECUTE without types gets them added (stmt_cache) and the
 * server runs it.
 *
 * Connector/C logs in; the test then speaks raw protocol on its socket
 * between Connector/C's own commands (it holds no unread bytes then).
 */
#include "state_conn.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* The modules under test, compiled into this binary. */
#include "mysql_proto.c"
#include "mysql_state.c"
#include "stmt_cache.c"

struct pkt {
	uint8_t *p;
	size_t len;
};

static void read_full(int fd, void *buf, size_t n)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r = read(fd, (uint8_t *)buf + got, n - got);
		cr_assert_gt(r, 0, "read from MariaDB");
		got += (size_t)r;
	}
}

static struct pkt read_pkt(int fd)
{
	uint8_t h[4];
	struct pkt k;

	read_full(fd, h, 4);
	k.len = mysql_get_u24(h);
	cr_assert_lt(k.len, MYSQL_MAX_PAYLOAD);
	k.p = malloc(k.len ? k.len : 1);
	read_full(fd, k.p, k.len);
	return k;
}

static void send_cmd(int fd, const uint8_t *payload, size_t len)
{
	uint8_t *b = malloc(4 + len);

	mysql_put_header(b, (uint32_t)len, 0);
	memcpy(b + 4, payload, len);
	cr_assert_eq(write(fd, b, 4 + len), (ssize_t)(4 + len));
	free(b);
}

/* Reads a response to its end (no CLIENT_DEPRECATE_EOF: Connector/C 3.3
 * does not ask for it) and returns its last packet; rows, if any, go to
 * *row (the first one). */
static struct pkt read_response(int fd, struct pkt *row)
{
	for (;;) {
		struct pkt k = read_pkt(fd);
		uint16_t status, warnings;
		uint64_t cols;

		if (k.p[0] == 0xFF || (k.p[0] == 0x00 && k.len >= 7) ||
		    (k.p[0] == 0xFE && k.len < 9)) {
			struct mysql_ok ok;
			if (k.p[0] == 0x00 && mysql_parse_ok(k.p, k.len, &ok) == 0 &&
			    (ok.status & SERVER_MORE_RESULTS_EXISTS)) {
				free(k.p);
				continue;
			}
			return k;
		}
		int used = mysql_get_lenenc(k.p, k.len, &cols);
		cr_assert_gt(used, 0);
		/* Connector/C asks for MARIADB_CLIENT_CACHE_METADATA: a byte
		 * after the count says whether the definitions follow (a
		 * prepared statement's second result set skips them). */
		if ((size_t)used < k.len && k.p[used] == 0)
			cols = 0;
		free(k.p);
		for (uint64_t i = 0; i < cols + 1; i++) /* definitions, EOF */
			free(read_pkt(fd).p);
		for (;;) {
			k = read_pkt(fd);
			if (k.p[0] == 0xFF)
				return k;
			if (k.p[0] == 0xFE && k.len < 9)
				break;
			if (row && !row->p)
				*row = k;
			else
				free(k.p);
		}
		cr_assert_eq(mysql_parse_eof(k.p, k.len, &status, &warnings), 0);
		if (!(status & SERVER_MORE_RESULTS_EXISTS))
			return k;
		free(k.p);
	}
}

/* Runs one statement raw and applies its OK to st. */
static int run(struct sc_conn *m, struct mysql_sess_state *st, const char *sql)
{
	size_t n = strlen(sql);
	uint8_t *p = malloc(1 + n);
	int fd = m->fd;

	p[0] = COM_QUERY;
	memcpy(p + 1, sql, n);
	send_cmd(fd, p, 1 + n);
	free(p);
	struct pkt k = read_response(fd, NULL);
	cr_assert_eq(k.p[0], 0x00, "%s: %.*s", sql, (int)k.len - 3, k.p + 3);
	int flags = st ? mysql_state_apply_ok(st, k.p, k.len, m->caps, 0) : 0;
	cr_assert_geq(flags, 0, "%s: malformed OK", sql);
	free(k.p);
	return flags;
}

/* A connection with myring's tracking, its state seeded as a pool would. */
static void tracked(struct sc_conn *m, struct mysql_sess_state *st)
{
	sc_connect(m);
	cr_assert(m->caps & CLIENT_SESSION_TRACK);
	mysql_state_init(st);
	cr_assert_eq(mysql_state_seed_charset(st, m->charset), 0);
	mysql_state_set_schema(st, "myring_test", 11);
	st->multi_statements = (m->caps & CLIENT_MULTI_STATEMENTS) != 0;
	cr_assert_eq(run(m, st, MYSQL_STATE_TRACKING_SQL) & MYSQL_STATE_TRACKING,
		     MYSQL_STATE_TRACKING);
}

/* Makes have's connection match want, then have = want. */
static void replay(struct sc_conn *m, const struct mysql_sess_state *want,
		   struct mysql_sess_state *have)
{
	size_t cap = mysql_state_replay_bound(want, have);
	uint8_t *buf = malloc(cap);
	struct mysql_replay r;
	int fd = m->fd;

	cr_assert_eq(mysql_state_diff_sql(want, have, &r, buf, cap), MYSQL_REPLAY_OK);
	cr_assert_gt(r.n, 0);
	for (unsigned i = 0; i < r.n; i++) {
		send_cmd(fd, r.cmd[i].payload, r.cmd[i].len);
		struct pkt k = read_response(fd, NULL);
		cr_assert_neq(k.p[0], 0xFF, "replay %.*s: %.*s",
			      (int)r.cmd[i].len - 1, r.cmd[i].payload + 1,
			      (int)k.len - 3, k.p + 3);
		free(k.p);
	}
	free(buf);
	cr_assert_eq(mysql_state_copy(have, want), 0);
}

Test(state, replayed_session_matches_the_original)
{
	struct mysql_sess_state sa, sb, sc;
	struct sc_conn ca, cb, cc, *a = &ca, *b = &cb, *c = &cc;

	tracked(a, &sa);
	tracked(b, &sb);
	tracked(c, &sc);
	char lit[128];
	int f;

	/* b carries another session's leftovers. */
	run(b, &sb, "SET sql_mode='', wait_timeout=100, div_precision_increment=9");
	run(b, &sb, "SET @stale=1");
	mysql_state_set_user_var(&sb, "stale", 5, "1", 1);
	run(b, &sb, "USE mysql");

	/* The client's session on a. */
	run(a, &sa, "SET sql_mode='ANSI_QUOTES,NO_BACKSLASH_ESCAPES'");
	f = run(a, &sa, "SET NAMES latin1 COLLATE latin1_german2_ci");
	cr_assert(f & MYSQL_STATE_CHARSET, "the collation is not reported");
	/* What a classifier that read the statement adds. */
	mysql_state_set_var(&sa, "collation_connection", 20, "latin1_german2_ci", 17);
	run(a, &sa, "SET autocommit=0");
	run(a, &sa, "SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED");
	run(a, &sa, "SET SESSION TRANSACTION READ ONLY");
	run(a, &sa, "SET time_zone='+05:30', lc_time_names='de_DE'");
	/* (a limit below the number of session variables would cut SHOW
	 * SESSION VARIABLES short) */
	run(a, &sa, "SET sql_select_limit=100000, max_statement_time=2.5");
	run(a, &sa, "SET character_set_results=NULL");
	run(a, &sa, "SET @@session.optimizer_switch='index_merge=off'");
	cr_assert_eq(run(a, &sa, "SET last_insert_id=1234"), MYSQL_STATE_INSERT_ID);
	cr_assert_eq(run(a, &sa, "USE information_schema") & MYSQL_STATE_SCHEMA,
		     MYSQL_STATE_SCHEMA);
	cr_assert_eq(run(a, &sa, "SET @u = 'it''s \\\\ ok'"), MYSQL_STATE_UNEXPLAINED);
	/* NO_BACKSLASH_ESCAPES: both backslashes are in the value */
	const char *uval = "it's \\\\ ok";
	size_t n = mysql_sql_string_literal(lit, sizeof(lit), uval, strlen(uval),
					    "latin1", "latin1_german2_ci");
	cr_assert_lt(n, sizeof(lit));
	mysql_state_set_user_var(&sa, "u", 1, lit, n);
	uint8_t off[3] = {COM_SET_OPTION, 1, 0};
	send_cmd(a->fd, off, 3);
	struct pkt k = read_response(a->fd, NULL);
	cr_assert_eq(k.p[0], 0xFE);
	free(k.p);
	sa.multi_statements = false;
	cr_assert(mysql_state_trx_idle(&sa));

	replay(b, &sa, &sb);
	sc_assert_same_session(a, b);
	static const char *const checks[] = {
		"SELECT DATABASE()", "SELECT LAST_INSERT_ID()", "SELECT @u",
		"SELECT COLLATION(@u)", "SELECT @stale", "SELECT NOW() - UTC_TIMESTAMP() > 0",
	};
	for (size_t i = 0; i < sizeof(checks) / sizeof(checks[0]); i++) {
		char *va = sc_value(a, checks[i]), *vb = sc_value(b, checks[i]);
		cr_assert_str_eq(va, vb, "%s", checks[i]);
		free(va);
		free(vb);
	}
	char *u = sc_value(b, "SELECT HEX(@u)");
	cr_assert_str_eq(u, "69742773205C5C206F6B"); /* it's \\ ok */
	free(u);
	/* multi-statements are off on both */
	cr_assert_neq(sc_query(a, "DO 1; DO 2"), 0);
	cr_assert_neq(sc_query(b, "DO 1; DO 2"), 0);

	/* And back: c's fresh session replayed onto b resets everything. */
	replay(b, &sc, &sb);
	sc_assert_same_session(c, b);
	char *db = sc_value(b, "SELECT DATABASE()");
	cr_assert_str_eq(db, "myring_test");
	free(db);
	cr_assert_eq(sc_query(b, "DO 1; DO 2"), 0);

	mysql_state_free(&sa);
	mysql_state_free(&sb);
	mysql_state_free(&sc);
	sc_close(a);
	sc_close(b);
	sc_close(c);
}

/* What Connector/C sent for "SELECT ?, ?, ?, ?": the first EXECUTE with
 * types (ULONGLONG 42, STRING "hello", DOUBLE 2.5, LONG NULL), the second
 * without (7, "world!"). */
static const uint8_t exec_types[] = {
	0x17, 0x02, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0x08, 0x01,
	0x08, 0x80, 0xfe, 0x00, 0x05, 0x00, 0x03, 0x00,
	0x2a, 0, 0, 0, 0, 0, 0, 0, 0x05, 'h', 'e', 'l', 'l', 'o',
	0, 0, 0, 0, 0, 0, 0x04, 0x40,
};
static const uint8_t exec_no_types[] = {
	0x17, 0x02, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0x08, 0x00,
	0x07, 0, 0, 0, 0, 0, 0, 0, 0x06, 'w', 'o', 'r', 'l', 'd', '!',
	0, 0, 0, 0, 0, 0, 0x04, 0x40,
};
/* The binary row the server answers with 7, "world!", 2.5, NULL. */
static const uint8_t row_world[] = {
	0x00, 0x20, 0x07, 0, 0, 0, 0, 0, 0, 0, 0x06, 'w', 'o', 'r', 'l', 'd', '!',
	0, 0, 0, 0, 0, 0, 0x04, 0x40,
};

static uint32_t prepare(int fd, const char *sql, struct stmt_prepare_ok *ok)
{
	size_t n = strlen(sql);
	uint8_t p[256];

	p[0] = COM_STMT_PREPARE;
	memcpy(p + 1, sql, n);
	send_cmd(fd, p, 1 + n);
	struct pkt k = read_pkt(fd);
	cr_assert_eq(stmt_prepare_ok_parse(k.p, k.len, ok), 0);
	free(k.p);
	/* definitions, each block with its EOF */
	for (unsigned i = 0; i < ok->num_params + (ok->num_params ? 1u : 0u) +
			     ok->num_columns + (ok->num_columns ? 1u : 0u); i++)
		free(read_pkt(fd).p);
	return ok->id;
}

static struct pkt execute(int fd, const uint8_t *p, size_t len, uint32_t id,
			  struct pkt *row)
{
	uint8_t *c = malloc(len);

	memcpy(c, p, len);
	cr_assert_eq(stmt_cmd_set_id(c, len, id), 0);
	send_cmd(fd, c, len);
	free(c);
	row->p = NULL;
	return read_response(fd, row);
}

Test(state, execute_without_types_gets_them_added)
{
	struct sc_conn m;
	struct stmt_prepare_ok ok;
	struct pkt k, row;
	uint8_t out[128];

	sc_connect(&m);
	int fd = m.fd;
	uint32_t id = prepare(fd, "SELECT ?, ?, ?, ?", &ok);
	cr_assert_eq(ok.num_params, 4);
	/* A server statement that never got types refuses the execute. */
	k = execute(fd, exec_no_types, sizeof(exec_no_types), id, &row);
	cr_assert_eq(k.p[0], 0xFF, "MariaDB ran an EXECUTE without types");
	free(k.p);

	/* With the client's types added it runs. */
	long n = stmt_execute_add_types(exec_no_types, sizeof(exec_no_types), 4,
					exec_types + 12, out, sizeof(out));
	cr_assert_eq(n, (long)sizeof(exec_no_types) + 8);
	k = execute(fd, out, (size_t)n, id, &row);
	cr_assert_neq(k.p[0], 0xFF, "%.*s", (int)k.len - 3, k.p + 3);
	cr_assert_not_null(row.p);
	cr_assert_eq(row.len, sizeof(row_world));
	cr_assert_eq(memcmp(row.p, row_world, sizeof(row_world)), 0);
	free(k.p);
	free(row.p);

	/* From now on the server has them: the packet as the client sent it
	 * runs too. */
	k = execute(fd, exec_no_types, sizeof(exec_no_types), id, &row);
	cr_assert_neq(k.p[0], 0xFF);
	cr_assert_eq(memcmp(row.p, row_world, sizeof(row_world)), 0);
	free(k.p);
	free(row.p);

	/* Another statement id in the same packet: the id is all that moves. */
	uint32_t id2 = prepare(fd, "SELECT ?, ?, ?, ?", &ok);
	cr_assert_neq(id2, id);
	k = execute(fd, exec_types, sizeof(exec_types), id2, &row);
	cr_assert_neq(k.p[0], 0xFF);
	cr_assert_eq(row.p[2], 42);
	free(k.p);
	free(row.p);
	sc_close(&m);
}
