/*
 * Session state for pooling: the OK packet's session-state block, applying
 * it to a session's state, the SQL that replays a state on another
 * connection, and the OK rewrite for clients.  The OK packets are bytes
 * captured from MariaDB 10.11.19 (Debian 12) on a connection with
 * CLIENT_SESSION_TRACK after MYSQL_STATE_TRACKING_SQL; each says which
 * statement it answered.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mysql_proto.h"
#include "mysql_state.h"

#define CAPS (CLIENT_PROTOCOL_41 | CLIENT_SESSION_TRACK | CLIENT_DEPRECATE_EOF)

/* SET session_track_system_variables='*', ... (MYSQL_STATE_TRACKING_SQL) */
#define OK_TRACKING "00000002400000009f00211e73657373696f6e5f747261636b5f73797374656d5f7661726961626c6573012a002f1e73657373696f6e5f747261636b5f7472616e73616374696f6e5f696e666f0f43484152414354455249535449435300181473657373696f6e5f747261636b5f736368656d61024f4e001e1a73657373696f6e5f747261636b5f73746174655f6368616e6765024f4e0201310509085f5f5f5f5f5f5f5f040100"
/* SET sql_mode='ANSI_QUOTES' (status gains 0x8000, MariaDB's ANSI_QUOTES) */
#define OK_SQL_MODE "00000002c00000001a00150873716c5f6d6f64650b414e53495f51554f544553020131"
/* SET NAMES utf8mb4 (in ANSI_QUOTES mode) */
#define OK_NAMES "00000002c0000000650021186368617261637465725f7365745f636f6e6e656374696f6e07757466386d6234001d146368617261637465725f7365745f636c69656e7407757466386d6234001e156368617261637465725f7365745f726573756c747307757466386d6234020131"
/* SET autocommit=0 */
#define OK_AUTOCOMMIT_OFF "000000004000000014000f0a6175746f636f6d6d6974034f4646020131"
/* USE mysql */
#define OK_USE_MYSQL "00000002c00000000b0106056d7973716c020131"
/* SET @x=1 / CREATE TEMPORARY TABLE / DROP TEMPORARY TABLE: only this */
#define OK_STATE_CHANGE "00000002c000000003020131"
/* SELECT @x:=2: the result's closing OK says nothing */
#define OK_SELECT_ASSIGN "fe000002800000"
/* SET SESSION TRANSACTION ISOLATION LEVEL SERIALIZABLE */
#define OK_TX_ISOLATION "00000002c00000001f001a0c74785f69736f6c6174696f6e0c53455249414c495a41424c45020131"
/* START TRANSACTION READ ONLY */
#define OK_START_RO "00000003e00000002a050908545f5f5f5f5f5f5f041d1c5354415254205452414e53414354494f4e2052454144204f4e4c593b"
/* COMMIT after it */
#define OK_COMMIT "00000002c00000000e0509085f5f5f5f5f5f5f5f040100"
/* PREPARE s FROM 'SELECT 1': info "Statement prepared" and a block */
#define OK_PREPARE "00000002c000001253746174656d656e7420707265706172656403020131"
/* LOCK TABLES mysql.user READ: schema (unchanged), state change, 'L' */
#define OK_LOCK "00000002c00000001c010c0b6d7972696e675f746573740201310509085f5f5f5f5f5f5f4c"
/* SET time_zone='+01:00' */
#define OK_TIME_ZONE "00000002c00000001600110974696d655f7a6f6e65062b30313a3030020131"
/* DROP DATABASE of the current one: SCHEMA '' and SERVER_STATUS_DB_DROPPED */
#define OK_DROP_DB "000000024100000003010100"
/* The OK ending Connector/C's login: schema myring_test (default tracking) */
#define OK_LOGIN "00000002400000000e010c0b6d7972696e675f74657374"
/* SET character_set_results=NULL: reported as '' */
#define OK_RESULTS_NULL "00000002400000001c0017156368617261637465725f7365745f726573756c747300020131"
/* SET timestamp=1000 */
#define OK_TIMESTAMP "00000002400000001b00160974696d657374616d700b313030302e303030303030020131"
/* SET last_insert_id=9 */
#define OK_LAST_INSERT_ID "00000002400000001600110e6c6173745f696e736572745f69640139020131"
/* SET TRANSACTION ISOLATION LEVEL READ COMMITTED (next transaction only) */
#define OK_SET_TRX "00000002400000003204302f534554205452414e53414354494f4e2049534f4c4154494f4e204c4556454c205245414420434f4d4d49545445443b"
/* SELECT @@tx_isolation inside a transaction: closing OK (0xFE) */
#define OK_FE_IN_TRX "fe000003400000000b050908545f5f5f5f73535f"
/* INSERT in autocommit=0: last insert id 103, implicit transaction */
#define OK_INSERT_IMPLICIT "00016701400000000b050908495f5f5f575f5f5f"
/* SET STATEMENT max_statement_time=3 FOR SELECT 1: reports 3 though it is
 * restored after the statement */
#define OK_SET_STATEMENT "fe0000024000000021001c126d61785f73746174656d656e745f74696d6508332e303030303030020131"
/* INSERT of 3 rows: info, no block */
#define OK_INSERT_INFO "00036802000000265265636f7264733a203320204475706c6963617465733a203020205761726e696e67733a2030"
/* SET session_track_state_change=OFF, session_track_system_variables=
 * 'autocommit': the flag and an empty block */
#define OK_EMPTY_BLOCK "000000024000000000"
/* The next SET: optimizer_switch (a 0xFC-length block) and the late report
 * of max_statement_time restored after the SET STATEMENT */
#define OK_OPTIMIZER_SWITCH "0000000240000000fc880300fc6303106f7074696d697a65725f737769746368fc4f03696e6465785f6d657267653d6f66662c696e6465785f6d657267655f756e696f6e3d6f6e2c696e6465785f6d657267655f736f72745f756e696f6e3d6f6e2c696e6465785f6d657267655f696e74657273656374696f6e3d6f6e2c696e6465785f6d657267655f736f72745f696e74657273656374696f6e3d6f66662c656e67696e655f636f6e646974696f6e5f70757368646f776e3d6f66662c696e6465785f636f6e646974696f6e5f70757368646f776e3d6f6e2c646572697665645f6d657267653d6f6e2c646572697665645f776974685f6b6579733d6f6e2c66697273746d617463683d6f6e2c6c6f6f73657363616e3d6f6e2c6d6174657269616c697a6174696f6e3d6f6e2c696e5f746f5f6578697374733d6f6e2c73656d696a6f696e3d6f6e2c7061727469616c5f6d617463685f726f7769645f6d657267653d6f6e2c7061727469616c5f6d617463685f7461626c655f7363616e3d6f6e2c73756271756572795f63616368653d6f6e2c6d72723d6f66662c6d72725f636f73745f62617365643d6f66662c6d72725f736f72745f6b6579733d6f66662c6f757465725f6a6f696e5f776974685f63616368653d6f6e2c73656d696a6f696e5f776974685f63616368653d6f6e2c6a6f696e5f63616368655f696e6372656d656e74616c3d6f6e2c6a6f696e5f63616368655f6861736865643d6f6e2c6a6f696e5f63616368655f626b613d6f6e2c6f7074696d697a655f6a6f696e5f6275666665725f73697a653d6f6e2c7461626c655f656c696d696e6174696f6e3d6f6e2c657874656e6465645f6b6579733d6f6e2c6578697374735f746f5f696e3d6f6e2c6f7264657262795f757365735f657175616c69746965733d6f6e2c636f6e646974696f6e5f70757368646f776e5f666f725f646572697665643d6f6e2c73706c69745f6d6174657269616c697a65643d6f6e2c636f6e646974696f6e5f70757368646f776e5f666f725f73756271756572793d6f6e2c726f7769645f66696c7465723d6f6e2c636f6e646974696f6e5f70757368646f776e5f66726f6d5f686176696e673d6f6e2c6e6f745f6e756c6c5f72616e67655f7363616e3d6f66662c686173685f6a6f696e5f63617264696e616c6974793d6f66662c637365745f6e6172726f77696e673d6f6666001c126d61785f73746174656d656e745f74696d6508302e303030303030020131"
/* USE `dé` (utf8 database name): reported in utf8 whatever the client's
 * character set */
#define OK_USE_NON_ASCII "00000002400000000601040364c3a9"

static const char *const all_oks[] = {
	OK_TRACKING, OK_SQL_MODE, OK_NAMES, OK_AUTOCOMMIT_OFF, OK_USE_MYSQL,
	OK_STATE_CHANGE, OK_SELECT_ASSIGN, OK_TX_ISOLATION, OK_START_RO,
	OK_COMMIT, OK_PREPARE, OK_LOCK, OK_TIME_ZONE, OK_DROP_DB, OK_LOGIN,
	OK_RESULTS_NULL, OK_TIMESTAMP, OK_LAST_INSERT_ID, OK_SET_TRX,
	OK_FE_IN_TRX, OK_INSERT_IMPLICIT, OK_SET_STATEMENT, OK_INSERT_INFO,
	OK_EMPTY_BLOCK, OK_OPTIMIZER_SWITCH, OK_USE_NON_ASCII,
};
#define N_OKS (sizeof(all_oks) / sizeof(all_oks[0]))

/* Decodes hex into a malloc'd buffer (the tests free it). */
static uint8_t *unhex(const char *hex, size_t *len)
{
	size_t n = strlen(hex) / 2;
	uint8_t *b = malloc(n ? n : 1);

	cr_assert(b);
	for (size_t i = 0; i < n; i++) {
		unsigned v;
		cr_assert_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
		b[i] = (uint8_t)v;
	}
	*len = n;
	return b;
}

static bool str_is(struct mysql_str s, const char *want)
{
	return s.len == strlen(want) && (!s.len || memcmp(s.ptr, want, s.len) == 0);
}

static int apply_hex(struct mysql_sess_state *st, const char *hex,
		     unsigned opts)
{
	size_t n;
	uint8_t *p = unhex(hex, &n);
	int r = mysql_state_apply_ok(st, p, n, CAPS, opts);

	free(p);
	return r;
}

static const char *var(const struct mysql_sess_state *st, const char *name)
{
	const struct mysql_state_var *v = mysql_state_get_var(st, name);

	if (!v)
		return "(absent)";
	return v->value ? v->value : "(null)";
}

/* ---- parsing --------------------------------------------------------- */

Test(state, ok_ext_reads_info_and_block)
{
	struct mysql_ok_ext ok;
	size_t n;
	uint8_t *p = unhex(OK_PREPARE, &n);

	cr_assert_eq(mysql_parse_ok_ext(p, n, CAPS, &ok), 0);
	cr_assert_eq(ok.ok.status, 0xC002);
	cr_assert(str_is(ok.info, "Statement prepared"));
	cr_assert_eq(ok.session_state.len, 3);
	cr_assert_eq(ok.status_off, 3);
	cr_assert_eq(ok.tail_off, 7);
	cr_assert_eq(ok.state_off, 7 + 1 + 18);
	cr_assert_eq(ok.end_off, n);
	/* Without CLIENT_SESSION_TRACK the same bytes have no block. */
	cr_assert_eq(mysql_parse_ok_ext(p, n, CLIENT_PROTOCOL_41, &ok), 0);
	cr_assert(str_is(ok.info, "Statement prepared"));
	cr_assert_eq(ok.session_state.len, 0);
	cr_assert_eq(ok.state_off, 0);
	free(p);

	p = unhex(OK_INSERT_INFO, &n);
	cr_assert_eq(mysql_parse_ok_ext(p, n, CAPS, &ok), 0);
	cr_assert_eq(ok.ok.affected_rows, 3);
	cr_assert_eq(ok.ok.last_insert_id, 104);
	cr_assert(str_is(ok.info, "Records: 3  Duplicates: 0  Warnings: 0"));
	cr_assert_eq(ok.state_off, 0);
	free(p);

	/* The closing OK of a result set (0xFE) carries state too. */
	p = unhex(OK_FE_IN_TRX, &n);
	cr_assert_eq(mysql_parse_ok_ext(p, n, CAPS, &ok), 0);
	cr_assert_eq(ok.session_state.len, 11);
	free(p);

	/* Status only: a 4.1 OK always has warnings, but be lenient. */
	const uint8_t short_ok[] = {0x00, 0x00, 0x00, 0x02, 0x40};
	cr_assert_eq(mysql_parse_ok_ext(short_ok, sizeof(short_ok), CAPS, &ok), 0);
	cr_assert_eq(ok.ok.status, 0x4002);
	cr_assert_eq(ok.session_state.len, 0);
	cr_assert_eq(ok.end_off, sizeof(short_ok));
}

Test(state, ok_ext_rejects_what_does_not_fit)
{
	struct mysql_ok_ext ok;
	const uint8_t not_ok[] = {0xFF, 0x15, 0x04};
	const uint8_t no_status[] = {0x00, 0x00, 0x00, 0x02};
	const uint8_t info_too_long[] = {0x00, 0, 0, 2, 0, 0, 0, 5, 'a', 'b'};
	const uint8_t null_info[] = {0x00, 0, 0, 2, 0, 0, 0, 0xFB};
	const uint8_t block_too_long[] = {0x00, 0, 0, 2, 0x40, 0, 0, 0, 4, 2, 1};
	const uint8_t lone_fe[] = {0xFE};

	cr_assert_eq(mysql_parse_ok_ext(not_ok, sizeof(not_ok), CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(no_status, sizeof(no_status), CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(info_too_long, sizeof(info_too_long), CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(null_info, sizeof(null_info), CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(block_too_long, sizeof(block_too_long), CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(lone_fe, 1, CAPS, &ok), -1);
	cr_assert_eq(mysql_parse_ok_ext(lone_fe, 0, CAPS, &ok), -1);
	/* ...but without session tracking the bytes after the info are not
	 * a block and are ignored, as clients do. */
	cr_assert_eq(mysql_parse_ok_ext(block_too_long, sizeof(block_too_long),
				       CLIENT_PROTOCOL_41, &ok), 0);
	cr_assert_eq(ok.end_off, 8);
}

Test(state, every_truncation_of_every_capture_is_safe)
{
	/* A cut packet either parses (a prefix that is itself an OK: cut
	 * after the status or after the info) or is refused; the iterator
	 * never reads outside what it was given (ASan watches). */
	for (size_t k = 0; k < N_OKS; k++) {
		size_t n;
		uint8_t *full = unhex(all_oks[k], &n);

		for (size_t cut = 0; cut < n; cut++) {
			uint8_t *p = malloc(cut ? cut : 1);
			struct mysql_ok_ext ok;
			struct mysql_track_iter it;
			struct mysql_track_entry e;

			memcpy(p, full, cut);
			if (mysql_parse_ok_ext(p, cut, CAPS, &ok) == 0) {
				cr_assert_leq(ok.end_off, cut);
				mysql_track_iter_init(&it, ok.session_state);
				while (mysql_track_next(&it, &e) == 1)
					cr_assert_leq(e.off + e.len, ok.session_state.len);
			}
			free(p);
		}
		free(full);
	}
}

Test(state, iterates_the_tracking_set_entries)
{
	struct mysql_ok_ext ok;
	struct mysql_track_iter it;
	struct mysql_track_entry e;
	size_t n;
	uint8_t *p = unhex(OK_TRACKING, &n);
	static const struct {
		uint8_t type;
		const char *name, *value;
	} want[] = {
		{SESSION_TRACK_SYSTEM_VARIABLES, "session_track_system_variables", "*"},
		{SESSION_TRACK_SYSTEM_VARIABLES, "session_track_transaction_info", "CHARACTERISTICS"},
		{SESSION_TRACK_SYSTEM_VARIABLES, "session_track_schema", "ON"},
		{SESSION_TRACK_SYSTEM_VARIABLES, "session_track_state_change", "ON"},
		{SESSION_TRACK_STATE_CHANGE, "", "1"},
		{SESSION_TRACK_TRANSACTION_STATE, "", "________"},
		{SESSION_TRACK_TRANSACTION_CHARACTERISTICS, "", ""},
	};
	size_t i = 0;
	int r;

	cr_assert_eq(mysql_parse_ok_ext(p, n, CAPS, &ok), 0);
	mysql_track_iter_init(&it, ok.session_state);
	while ((r = mysql_track_next(&it, &e)) == 1) {
		cr_assert_lt(i, sizeof(want) / sizeof(want[0]));
		cr_assert_eq(e.type, want[i].type, "entry %zu", i);
		cr_assert(str_is(e.name, want[i].name), "entry %zu", i);
		cr_assert(str_is(e.value, want[i].value), "entry %zu", i);
		i++;
	}
	cr_assert_eq(r, 0);
	cr_assert_eq(i, sizeof(want) / sizeof(want[0]));
	free(p);
}

static int next_of(const uint8_t *blk, size_t n, struct mysql_track_entry *e)
{
	struct mysql_track_iter it;

	mysql_track_iter_init(&it, (struct mysql_str){(const char *)blk, n});
	return mysql_track_next(&it, e);
}

Test(state, malformed_entries_are_refused)
{
	struct mysql_track_entry e;
	/* entry length beyond the block */
	const uint8_t long_entry[] = {0x02, 0x05, '1'};
	/* a variable without its value */
	const uint8_t no_value[] = {0x00, 0x02, 0x01, 'a'};
	/* a variable with a byte after its value */
	const uint8_t extra[] = {0x00, 0x05, 0x01, 'a', 0x01, 'b', 'x'};
	/* a schema whose string is longer than the entry */
	const uint8_t schema_long[] = {0x01, 0x02, 0x05, 'a'};
	/* a schema and a trailing byte inside the entry */
	const uint8_t schema_extra[] = {0x01, 0x03, 0x01, 'a', 'b'};
	/* an entry with no length byte */
	const uint8_t no_len[] = {0x05};
	/* NULL (0xFB) as a length */
	const uint8_t null_len[] = {0x01, 0xFB};
	/* GTIDS: spec 0, then the set; one without the set */
	const uint8_t gtids[] = {0x03, 0x05, 0x00, 0x03, '1', '-', '2'};
	const uint8_t gtids_cut[] = {0x03, 0x01, 0x00};
	/* a type from the future: its data is returned as is */
	const uint8_t future[] = {0x09, 0x02, 'x', 'y'};
	/* an empty state change entry is not malformed at this level */
	const uint8_t empty_change[] = {0x02, 0x00};

	cr_assert_eq(next_of(long_entry, sizeof(long_entry), &e), -1);
	cr_assert_eq(next_of(no_value, sizeof(no_value), &e), -1);
	cr_assert_eq(next_of(extra, sizeof(extra), &e), -1);
	cr_assert_eq(next_of(schema_long, sizeof(schema_long), &e), -1);
	cr_assert_eq(next_of(schema_extra, sizeof(schema_extra), &e), -1);
	cr_assert_eq(next_of(no_len, sizeof(no_len), &e), -1);
	cr_assert_eq(next_of(null_len, sizeof(null_len), &e), -1);
	cr_assert_eq(next_of(gtids_cut, sizeof(gtids_cut), &e), -1);
	cr_assert_eq(next_of(gtids, sizeof(gtids), &e), 1);
	cr_assert(str_is(e.value, "1-2"));
	cr_assert_eq(next_of(future, sizeof(future), &e), 1);
	cr_assert_eq(e.type, 9);
	cr_assert(str_is(e.value, "xy"));
	cr_assert_eq(next_of(empty_change, sizeof(empty_change), &e), 1);
	cr_assert_eq(e.value.len, 0);
	cr_assert_eq(next_of(NULL, 0, &e), 0);
}

/* ---- applying -------------------------------------------------------- */

Test(state, apply_follows_a_session)
{
	struct mysql_sess_state st;
	int f;

	mysql_state_init(&st);
	cr_assert(mysql_state_trx_idle(&st));

	f = apply_hex(&st, OK_SQL_MODE, 0);
	cr_assert_eq(f, MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "sql_mode"), "ANSI_QUOTES");
	cr_assert_str_eq(var(&st, "SQL_MODE"), "ANSI_QUOTES");

	f = apply_hex(&st, OK_AUTOCOMMIT_OFF, 0);
	cr_assert_eq(f, MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "autocommit"), "OFF");

	f = apply_hex(&st, OK_USE_MYSQL, 0);
	cr_assert_eq(f, MYSQL_STATE_SCHEMA);
	cr_assert(st.has_schema);
	cr_assert_str_eq(st.schema, "mysql");

	f = apply_hex(&st, OK_TX_ISOLATION, 0);
	cr_assert_eq(f, MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "tx_isolation"), "SERIALIZABLE");

	f = apply_hex(&st, OK_TIME_ZONE, 0);
	cr_assert_eq(f, MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "time_zone"), "+01:00");

	/* A variable reported again replaces the value, not a second entry. */
	f = apply_hex(&st, OK_SQL_MODE, 0);
	cr_assert_eq(st.n_vars, 4);

	/* What the tracker cannot explain. */
	cr_assert_eq(apply_hex(&st, OK_STATE_CHANGE, 0), MYSQL_STATE_UNEXPLAINED);
	cr_assert_eq(apply_hex(&st, OK_SELECT_ASSIGN, 0), 0);
	cr_assert_eq(apply_hex(&st, OK_PREPARE, 0), MYSQL_STATE_UNEXPLAINED);
	cr_assert_eq(apply_hex(&st, OK_EMPTY_BLOCK, 0), MYSQL_STATE_UNEXPLAINED);

	mysql_state_free(&st);
	cr_assert_eq(st.n_vars, 0);
	cr_assert_eq(st.bytes, 0);
}

Test(state, apply_transactions_and_locks)
{
	struct mysql_sess_state st;

	mysql_state_init(&st);
	cr_assert_eq(apply_hex(&st, OK_START_RO, 0), MYSQL_STATE_TRX);
	cr_assert_eq(memcmp(st.trx_state, "T_______", 8), 0);
	cr_assert(st.trx_chars_pending);
	cr_assert_not(mysql_state_trx_idle(&st));
	cr_assert_eq(apply_hex(&st, OK_FE_IN_TRX, 0), MYSQL_STATE_TRX);
	cr_assert_eq(memcmp(st.trx_state, "T____sS_", 8), 0);
	cr_assert_eq(apply_hex(&st, OK_COMMIT, 0), MYSQL_STATE_TRX);
	cr_assert(mysql_state_trx_idle(&st));

	/* SET TRANSACTION (next transaction only) is pending state. */
	cr_assert_eq(apply_hex(&st, OK_SET_TRX, 0), MYSQL_STATE_TRX);
	cr_assert_not(mysql_state_trx_idle(&st));
	cr_assert_eq(apply_hex(&st, OK_COMMIT, 0), MYSQL_STATE_TRX);

	/* LOCK TABLES: explained by the schema entry, caught by 'L'. */
	int f = apply_hex(&st, OK_LOCK, 0);
	cr_assert_eq(f, MYSQL_STATE_SCHEMA | MYSQL_STATE_TRX);
	cr_assert_not(mysql_state_trx_idle(&st));

	f = apply_hex(&st, OK_INSERT_IMPLICIT, 0);
	cr_assert_eq(f, MYSQL_STATE_TRX | MYSQL_STATE_INSERT_ID);
	cr_assert_eq(st.last_insert_id, 103);
	cr_assert_eq(memcmp(st.trx_state, "I___W___", 8), 0);
	mysql_state_free(&st);
}

Test(state, apply_special_variables)
{
	struct mysql_sess_state st;

	mysql_state_init(&st);
	/* NULL is reported as '' and kept as NULL. */
	cr_assert_eq(apply_hex(&st, OK_RESULTS_NULL, 0), MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "character_set_results"), "(null)");

	cr_assert_eq(apply_hex(&st, OK_TIMESTAMP, 0), MYSQL_STATE_PIN);
	cr_assert_str_eq(var(&st, "timestamp"), "(absent)");

	cr_assert_eq(apply_hex(&st, OK_LAST_INSERT_ID, 0), MYSQL_STATE_INSERT_ID);
	cr_assert_eq(st.last_insert_id, 9);
	cr_assert_str_eq(var(&st, "last_insert_id"), "(absent)");

	/* The OK's own last insert id, unless told not to. */
	cr_assert_eq(apply_hex(&st, OK_INSERT_INFO, MYSQL_APPLY_NO_INSERT_ID), 0);
	cr_assert_eq(st.last_insert_id, 9);
	cr_assert_eq(apply_hex(&st, OK_INSERT_INFO, 0), MYSQL_STATE_INSERT_ID);
	cr_assert_eq(st.last_insert_id, 104);

	/* SET STATEMENT: the reported value is not the session's. */
	cr_assert_eq(apply_hex(&st, OK_SET_STATEMENT, MYSQL_APPLY_SKIP_VARS), 0);
	cr_assert_str_eq(var(&st, "max_statement_time"), "(absent)");
	cr_assert_eq(apply_hex(&st, OK_SET_STATEMENT, 0), MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "max_statement_time"), "3.000000");
	/* The restored value arrives with the next reported change. */
	cr_assert_eq(apply_hex(&st, OK_OPTIMIZER_SWITCH, 0), MYSQL_STATE_VARS);
	cr_assert_str_eq(var(&st, "max_statement_time"), "0.000000");
	cr_assert_eq(strlen(var(&st, "optimizer_switch")), 847);

	/* last_gtid (MariaDB with a binary log, after every commit) is kept
	 * for causal reads, never as a variable to replay: it is read-only. */
	cr_assert_eq(apply_hex(&st, "000000024000000012001009"
			       "6c6173745f6774696405302d372d39", 0),
		     MYSQL_STATE_GTID);
	cr_assert_str_eq(st.last_gtid, "0-7-9");
	cr_assert_str_eq(var(&st, "last_gtid"), "(absent)");

	/* The tracking variables go to the client's view, not the state. */
	cr_assert_eq(apply_hex(&st, OK_TRACKING, 0), MYSQL_STATE_TRACKING |
		     MYSQL_STATE_TRX);
	cr_assert_str_eq(var(&st, "session_track_schema"), "(absent)");
	cr_assert(st.track.all_vars && st.track.schema && st.track.state_change);
	cr_assert_eq(st.track.trx_info, TRACK_TRX_CHARACTERISTICS);
	mysql_state_free(&st);
}

Test(state, set_names_drops_the_collation)
{
	struct mysql_sess_state st;

	mysql_state_init(&st);
	cr_assert_eq(mysql_state_seed_charset(&st, 224), 0);
	cr_assert_str_eq(var(&st, "character_set_client"), "utf8mb4");
	cr_assert_str_eq(var(&st, "collation_connection"), "224");
	cr_assert_eq(apply_hex(&st, OK_NAMES, 0),
		     MYSQL_STATE_VARS | MYSQL_STATE_CHARSET);
	cr_assert_str_eq(var(&st, "character_set_connection"), "utf8mb4");
	cr_assert_str_eq(var(&st, "collation_connection"), "(absent)");
	/* A classifier that saw COLLATE puts it back. */
	cr_assert_eq(mysql_state_set_var(&st, "collation_connection", 20,
					 "utf8mb4_unicode_ci", 18), 0);
	cr_assert_str_eq(var(&st, "collation_connection"), "utf8mb4_unicode_ci");
	mysql_state_free(&st);
}

Test(state, schema_dropped_and_login)
{
	struct mysql_sess_state st;

	mysql_state_init(&st);
	cr_assert_eq(apply_hex(&st, OK_LOGIN, 0), MYSQL_STATE_SCHEMA);
	cr_assert_str_eq(st.schema, "myring_test");
	cr_assert_eq(apply_hex(&st, OK_DROP_DB, 0), MYSQL_STATE_SCHEMA);
	cr_assert_not(st.has_schema);
	cr_assert_eq(st.schema_len, 0);
	mysql_state_free(&st);
}

Test(state, malformed_ok_changes_nothing)
{
	struct mysql_sess_state st;
	/* a good variable entry, then a broken one */
	const uint8_t half[] = {0x00, 0, 0, 0x02, 0x40, 0, 0, 0x00, 0x0D,
				0x00, 0x06, 0x01, 'a', 0x03, 'x', 'y', 'z',
				0x00, 0x03, 0x01, 'b', 0x05};
	/* a transaction state of 7 characters */
	const uint8_t trx7[] = {0x00, 0, 0, 0x02, 0x40, 0, 0, 0x00, 0x0A,
				0x05, 0x08, 0x07, '_', '_', '_', '_', '_', '_', '_'};
	/* a variable name no server would send */
	const uint8_t badname[] = {0x00, 0, 0, 0x02, 0x40, 0, 0, 0x00, 0x07,
				   0x00, 0x05, 0x02, 'a', ' ', 0x01, 'x'};
	struct mysql_ok_ext ok;

	mysql_state_init(&st);
	cr_assert_eq(mysql_state_apply_ok(&st, half, sizeof(half), CAPS, 0), -1);
	cr_assert_eq(mysql_state_apply_ok(&st, trx7, sizeof(trx7), CAPS, 0), -1);
	cr_assert_eq(mysql_state_apply_ok(&st, badname, sizeof(badname), CAPS, 0), -1);
	cr_assert_eq(st.n_vars, 0);
	cr_assert_eq(memcmp(st.trx_state, "________", 8), 0);
	/* the packet is well framed: only the entry is broken */
	cr_assert_eq(mysql_parse_ok_ext(half, sizeof(half), CAPS, &ok), 0);
	mysql_state_free(&st);
}

Test(state, limits_overflow_the_state)
{
	struct mysql_sess_state st;
	char name[80], value[MYSQL_STATE_MAX_VALUE + 2];

	mysql_state_init(&st);
	for (int i = 0; i < MYSQL_STATE_MAX_VARS; i++) {
		int n = snprintf(name, sizeof(name), "var_%d", i);
		cr_assert_eq(mysql_state_set_var(&st, name, (size_t)n, "1", 1), 0);
	}
	cr_assert_not(st.overflow);
	/* replacing is fine, a 65th is not */
	cr_assert_eq(mysql_state_set_var(&st, "var_3", 5, "2", 1), 0);
	cr_assert_eq(mysql_state_set_var(&st, "var_x", 5, "1", 1), -1);
	cr_assert(st.overflow);
	mysql_state_free(&st);

	mysql_state_init(&st);
	memset(value, 'v', sizeof(value));
	cr_assert_eq(mysql_state_set_var(&st, "a", 1, value, MYSQL_STATE_MAX_VALUE), 0);
	cr_assert_not(st.overflow);
	cr_assert_eq(mysql_state_set_var(&st, "b", 1, value, MYSQL_STATE_MAX_VALUE + 1), -1);
	cr_assert(st.overflow);
	mysql_state_free(&st);

	/* the byte budget: eight values of 4 KiB do not fit in 32 KiB */
	mysql_state_init(&st);
	int ok_count = 0;
	for (int i = 0; i < 8; i++) {
		int n = snprintf(name, sizeof(name), "v%d", i);
		if (mysql_state_set_var(&st, name, (size_t)n, value,
					MYSQL_STATE_MAX_VALUE) == 0)
			ok_count++;
	}
	cr_assert_eq(ok_count, 7);
	cr_assert(st.overflow);
	cr_assert_leq(st.bytes, MYSQL_STATE_MAX_BYTES);
	mysql_state_free(&st);

	/* names: not an identifier, or too long */
	mysql_state_init(&st);
	memset(name, 'n', sizeof(name));
	cr_assert_eq(mysql_state_set_var(&st, "a b", 3, "1", 1), -1);
	cr_assert_eq(mysql_state_set_var(&st, name, MYSQL_STATE_MAX_NAME + 1, "1", 1), -1);
	cr_assert_eq(mysql_state_set_var(&st, name, MYSQL_STATE_MAX_NAME, "1", 1), 0);
	cr_assert_eq(mysql_state_set_schema(&st, value, MYSQL_STATE_MAX_SCHEMA + 1), -1);
	cr_assert(st.overflow);
	cr_assert_eq(mysql_state_set_user_var(&st, "a\0b", 3, "1", 1), -1);
	cr_assert_eq(mysql_state_set_user_var(&st, "ab", 2, "", 0), -1);
	for (int i = 0; i <= MYSQL_STATE_MAX_USER_VARS; i++) {
		int n = snprintf(name, sizeof(name), "u%d", i);
		int r = mysql_state_set_user_var(&st, name, (size_t)n, "1", 1);
		cr_assert_eq(r, i < MYSQL_STATE_MAX_USER_VARS ? 0 : -1, "user var %d", i);
	}
	mysql_state_free(&st);
}

Test(state, copy_is_deep)
{
	struct mysql_sess_state a, b;

	mysql_state_init(&a);
	mysql_state_init(&b);
	apply_hex(&a, OK_SQL_MODE, 0);
	apply_hex(&a, OK_USE_MYSQL, 0);
	mysql_state_set_user_var(&a, "x", 1, "5", 1);
	a.last_insert_id = 7;
	mysql_state_set_var(&b, "old", 3, "1", 1);
	cr_assert_eq(mysql_state_copy(&b, &a), 0);
	cr_assert_eq(mysql_state_copy(&b, &b), 0);
	mysql_state_free(&a);
	cr_assert_str_eq(var(&b, "sql_mode"), "ANSI_QUOTES");
	cr_assert_str_eq(var(&b, "old"), "(absent)");
	cr_assert_str_eq(b.schema, "mysql");
	cr_assert_eq(b.n_user_vars, 1);
	cr_assert_str_eq(b.user_vars[0].value, "5");
	cr_assert_eq(b.last_insert_id, 7);
	mysql_state_free(&b);
}

Test(state, charset_table)
{
	cr_assert_str_eq(mysql_charset_of_collation(8), "latin1");
	cr_assert_str_eq(mysql_charset_of_collation(33), "utf8mb3");
	cr_assert_str_eq(mysql_charset_of_collation(45), "utf8mb4");
	cr_assert_str_eq(mysql_charset_of_collation(63), "binary");
	cr_assert_str_eq(mysql_charset_of_collation(247), "utf8mb4");
	cr_assert_null(mysql_charset_of_collation(0));
	cr_assert_null(mysql_charset_of_collation(35));  /* ucs2 */
	cr_assert_null(mysql_charset_of_collation(255)); /* MySQL 8 only */
	struct mysql_sess_state st;
	mysql_state_init(&st);
	cr_assert_eq(mysql_state_seed_charset(&st, 35), -1);
	cr_assert_eq(st.n_vars, 0);
	mysql_state_free(&st);
}

/* ---- the client's view ----------------------------------------------- */

Test(state, track_cfg_parses_what_the_server_reports)
{
	struct mysql_track_cfg c;

	mysql_track_cfg_default(&c);
	cr_assert(c.schema);
	cr_assert_not(c.state_change);
	cr_assert_eq(c.trx_info, TRACK_TRX_OFF);
	cr_assert_not(c.all_vars);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_system_variables", 30,
					 " Autocommit,,time_zone , ", 25), 1);
	cr_assert_str_eq(c.vars, "autocommit,time_zone");
	cr_assert_not(c.all_vars);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_system_variables", 30,
					 "a,*", 3), 1);
	cr_assert(c.all_vars);
	cr_assert_eq(mysql_track_cfg_set(&c, "SESSION_TRACK_SCHEMA", 20, "OFF", 3), 1);
	cr_assert_not(c.schema);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_state_change", 26, "ON", 2), 1);
	cr_assert(c.state_change);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_transaction_info", 30,
					 "STATE", 5), 1);
	cr_assert_eq(c.trx_info, TRACK_TRX_STATE);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_transaction_info", 30,
					 "SOME", 4), -1);
	cr_assert_eq(c.trx_info, TRACK_TRX_STATE);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_schema", 20, "MAYBE", 5), -1);
	cr_assert_eq(mysql_track_cfg_set(&c, "sql_mode", 8, "", 0), 0);
	char big[MYSQL_TRACK_VARS_MAX + 2];
	memset(big, 'x', sizeof(big));
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_system_variables", 30,
					 big, sizeof(big)), -1);
	cr_assert(c.all_vars);
	cr_assert_eq(mysql_track_cfg_set(&c, "session_track_system_variables", 30,
					 "", 0), 1);
	cr_assert_eq(c.vars_len, 0);
	cr_assert_not(c.all_vars);
}

static long filter_hex(const char *hex, const struct mysql_track_cfg *cfg,
		       uint8_t **out)
{
	size_t n;
	*out = unhex(hex, &n);
	return mysql_ok_filter_session_track(*out, n, CAPS, cfg);
}

static void assert_bytes(const uint8_t *p, long n, const char *hex)
{
	size_t wn;
	uint8_t *w = unhex(hex, &wn);

	cr_assert_eq((size_t)n, wn, "length %ld, want %zu", n, wn);
	cr_assert_eq(memcmp(p, w, wn), 0);
	free(w);
}

Test(state, strip_for_a_client_without_session_track)
{
	uint8_t *p;
	long n;

	/* The flag goes; with an empty info the packet ends after the
	 * warnings, as the server writes it for such a client. */
	n = filter_hex(OK_SQL_MODE, NULL, &p);
	assert_bytes(p, n, "00000002800000");
	free(p);
	n = filter_hex(OK_TRACKING, NULL, &p);
	assert_bytes(p, n, "00000002000000");
	free(p);
	/* the info stays, length-encoded */
	n = filter_hex(OK_PREPARE, NULL, &p);
	assert_bytes(p, n, "00000002800000" "12" "53746174656d656e74207072657061726564");
	free(p);
	/* no block: unchanged */
	n = filter_hex(OK_INSERT_INFO, NULL, &p);
	assert_bytes(p, n, OK_INSERT_INFO);
	free(p);
	n = filter_hex(OK_SELECT_ASSIGN, NULL, &p);
	assert_bytes(p, n, OK_SELECT_ASSIGN);
	free(p);
	/* the flag with an empty block */
	n = filter_hex(OK_EMPTY_BLOCK, NULL, &p);
	assert_bytes(p, n, "00000002000000");
	free(p);
	/* the 0xFE form */
	n = filter_hex(OK_FE_IN_TRX, NULL, &p);
	assert_bytes(p, n, "fe000003000000");
	free(p);
	/* stripped twice is stripped once */
	size_t len;
	p = unhex(OK_NAMES, &len);
	n = mysql_ok_strip_session_track(p, len, CAPS);
	cr_assert_eq(mysql_ok_strip_session_track(p, (size_t)n, CAPS), n);
	free(p);
}

Test(state, filter_for_a_client_with_session_track)
{
	struct mysql_track_cfg c;
	struct mysql_ok_ext ok;
	struct mysql_track_iter it;
	struct mysql_track_entry e;
	uint8_t *p;
	long n;

	/* MariaDB's defaults: SET NAMES shows its three variables, not the
	 * state change myring's connection asked for. */
	mysql_track_cfg_default(&c);
	n = filter_hex(OK_NAMES, &c, &p);
	cr_assert_eq(mysql_parse_ok_ext(p, (size_t)n, CAPS, &ok), 0);
	cr_assert_eq(ok.ok.status, 0xC002);
	cr_assert_eq(ok.end_off, (size_t)n);
	mysql_track_iter_init(&it, ok.session_state);
	int count = 0;
	while (mysql_track_next(&it, &e) == 1) {
		cr_assert_eq(e.type, SESSION_TRACK_SYSTEM_VARIABLES);
		cr_assert(str_is(e.value, "utf8mb4"));
		count++;
	}
	cr_assert_eq(count, 3);
	cr_assert_eq(ok.session_state.len, 0x65 - 3);
	free(p);

	/* sql_mode is not in the default list: nothing left */
	n = filter_hex(OK_SQL_MODE, &c, &p);
	assert_bytes(p, n, "00000002800000");
	free(p);
	/* schema is */
	n = filter_hex(OK_USE_MYSQL, &c, &p);
	assert_bytes(p, n, "00000002c0000000" "08" "0106056d7973716c");
	free(p);

	/* A client that asked for everything sees the packet unchanged. */
	c.all_vars = c.schema = c.state_change = true;
	c.trx_info = TRACK_TRX_CHARACTERISTICS;
	for (size_t k = 0; k < N_OKS; k++) {
		n = filter_hex(all_oks[k], &c, &p);
		assert_bytes(p, n, all_oks[k]);
		free(p);
	}

	/* A 0xFC block length becomes one byte when little is left. */
	mysql_track_cfg_default(&c);
	mysql_track_cfg_set(&c, "session_track_system_variables", 30,
			    "max_statement_time", 18);
	n = filter_hex(OK_OPTIMIZER_SWITCH, &c, &p);
	assert_bytes(p, n, "0000000240000000" "1e" "001c126d61785f73746174656d656e745f74696d6508302e303030303030");
	free(p);

	/* transaction state only */
	c.trx_info = TRACK_TRX_STATE;
	n = filter_hex(OK_START_RO, &c, &p);
	assert_bytes(p, n, "00000003e0000000" "0b" "050908545f5f5f5f5f5f5f");
	free(p);
}

Test(state, filter_refuses_malformed_and_leaves_it)
{
	const uint8_t bad[] = {0x00, 0, 0, 0x02, 0x40, 0, 0, 0x00, 0x04,
			       0x02, 0x01, '1', 0x02};
	uint8_t copy[sizeof(bad)];

	memcpy(copy, bad, sizeof(bad));
	cr_assert_eq(mysql_ok_filter_session_track(copy, sizeof(copy), CAPS, NULL), -1);
	cr_assert_eq(memcmp(copy, bad, sizeof(bad)), 0);
	cr_assert_eq(mysql_ok_filter_session_track(copy, 2, CAPS, NULL), -1);
}

/* ---- replaying -------------------------------------------------------- */

struct replay_buf {
	struct mysql_replay r;
	uint8_t buf[1 << 17];
};

static int diff(const struct mysql_sess_state *want,
		const struct mysql_sess_state *have, struct replay_buf *rb)
{
	size_t bound = mysql_state_replay_bound(want, have);
	cr_assert_leq(bound, sizeof(rb->buf));
	return mysql_state_diff_sql(want, have, &rb->r, rb->buf, bound);
}

static void assert_cmd(const struct replay_buf *rb, unsigned i, uint8_t cmd,
		       const char *text)
{
	cr_assert_lt(i, rb->r.n);
	cr_assert_eq(rb->r.cmd[i].payload[0], cmd, "command %u", i);
	cr_assert_eq(rb->r.cmd[i].len, 1 + strlen(text), "command %u: %.*s", i,
		     (int)rb->r.cmd[i].len - 1, rb->r.cmd[i].payload + 1);
	cr_assert_eq(memcmp(rb->r.cmd[i].payload + 1, text, strlen(text)), 0,
		     "command %u: %.*s", i, (int)rb->r.cmd[i].len - 1,
		     rb->r.cmd[i].payload + 1);
}

Test(state, diff_replays_schema_and_variables)
{
	static struct replay_buf rb;
	struct mysql_sess_state want, have;

	mysql_state_init(&want);
	mysql_state_init(&have);
	mysql_state_seed_charset(&want, 45);
	mysql_state_seed_charset(&have, 45);
	mysql_state_set_schema(&want, "myring_test", 11);
	mysql_state_set_schema(&have, "myring_test", 11);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 0);

	apply_hex(&want, OK_SQL_MODE, 0);
	apply_hex(&want, OK_AUTOCOMMIT_OFF, 0);
	apply_hex(&want, OK_USE_MYSQL, 0);
	apply_hex(&want, OK_TIME_ZONE, 0);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 2);
	assert_cmd(&rb, 0, COM_INIT_DB, "mysql");
	assert_cmd(&rb, 1, COM_QUERY,
		   "SET @@session.sql_mode='ANSI_QUOTES', "
		   "@@session.autocommit='OFF', @@session.time_zone='+01:00'");

	/* The other way: what have changed goes back to the default; the
	 * schema cannot be unselected but here it exists. */
	cr_assert_eq(diff(&have, &want, &rb), MYSQL_REPLAY_OK);
	assert_cmd(&rb, 0, COM_INIT_DB, "myring_test");
	assert_cmd(&rb, 1, COM_QUERY,
		   "SET @@session.sql_mode=DEFAULT, @@session.autocommit=DEFAULT, "
		   "@@session.time_zone=DEFAULT");

	/* Character sets as one group, collation last. */
	apply_hex(&want, OK_NAMES, 0);
	mysql_state_copy(&have, &want);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 0);
	mysql_state_seed_charset(&have, 8);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	assert_cmd(&rb, 0, COM_QUERY,
		   "SET @@session.character_set_client='utf8mb4', "
		   "@@session.character_set_results='utf8mb4', "
		   "@@session.character_set_connection='utf8mb4'");
	mysql_state_set_var(&want, "collation_connection", 20,
			    "utf8mb4_unicode_ci", 18);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	assert_cmd(&rb, 0, COM_QUERY,
		   "SET @@session.character_set_client='utf8mb4', "
		   "@@session.character_set_results='utf8mb4', "
		   "@@session.character_set_connection='utf8mb4', "
		   "@@session.collation_connection='utf8mb4_unicode_ci'");
	/* a state that never set them: the server's defaults */
	mysql_state_free(&want);
	mysql_state_init(&want);
	mysql_state_set_schema(&want, "mysql", 5);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	assert_cmd(&rb, 0, COM_QUERY,
		   "SET @@session.sql_mode=DEFAULT, @@session.autocommit=DEFAULT, "
		   "@@session.time_zone=DEFAULT, "
		   "@@session.character_set_client=DEFAULT, "
		   "@@session.character_set_results=DEFAULT, "
		   "@@session.character_set_connection=DEFAULT, "
		   "@@session.collation_connection=DEFAULT");
	mysql_state_free(&want);
	mysql_state_free(&have);
}

Test(state, diff_values_quoted_for_any_mode)
{
	static struct replay_buf rb;
	struct mysql_sess_state want, have;

	mysql_state_init(&want);
	mysql_state_init(&have);
	apply_hex(&want, OK_RESULTS_NULL, 0);
	mysql_state_set_var(&want, "sql_select_limit", 16, "10", 2);
	mysql_state_set_var(&want, "max_statement_time", 18, "2.500000", 8);
	mysql_state_set_var(&want, "div_precision_increment", 23, "-1", 2);
	mysql_state_set_var(&want, "lc_time_names", 13, "de_DE", 5);
	mysql_state_set_var(&want, "init_x", 6, "it's \\", 6);
	mysql_state_set_var(&want, "sql_mode", 8, "", 0);
	mysql_state_set_user_var(&want, "x", 1, "5", 1);
	mysql_state_set_user_var(&want, "we`ird", 6, "_utf8mb4'a'", 11);
	mysql_state_set_user_var(&have, "stale", 5, "1", 1);
	want.last_insert_id = 42;
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	assert_cmd(&rb, 0, COM_QUERY,
		   "SET @@session.character_set_client=DEFAULT, "
		   "@@session.character_set_results=NULL, "
		   "@@session.character_set_connection=DEFAULT, "
		   "@@session.collation_connection=DEFAULT, "
		   "@@session.sql_select_limit=10, "
		   "@@session.max_statement_time=2.500000, "
		   "@@session.div_precision_increment=-1, "
		   "@@session.lc_time_names='de_DE', "
		   "@@session.init_x=X'69742773205C', "
		   "@@session.sql_mode='', "
		   "@@session.last_insert_id=42, "
		   "@`stale`=NULL, @`x`=5, @`we``ird`=_utf8mb4'a'");
	mysql_state_free(&want);
	mysql_state_free(&have);
}

Test(state, diff_multi_statements_and_limits)
{
	static struct replay_buf rb;
	struct mysql_sess_state want, have;

	mysql_state_init(&want);
	mysql_state_init(&have);
	want.multi_statements = true;
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 1);
	cr_assert_eq(rb.r.cmd[0].len, 3);
	cr_assert_eq(memcmp(rb.r.cmd[0].payload, "\x1b\x00\x00", 3), 0);
	cr_assert_eq(diff(&have, &want, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(memcmp(rb.r.cmd[0].payload, "\x1b\x01\x00", 3), 0);

	/* no default database cannot be reached from one */
	mysql_state_set_schema(&have, "db", 2);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_CANNOT);
	mysql_state_set_schema(&want, "db", 2);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	/* an overflowed state cannot be replayed, nor replayed onto */
	want.overflow = true;
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_CANNOT);
	want.overflow = false;
	have.overflow = true;
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_CANNOT);
	mysql_state_free(&want);
	mysql_state_free(&have);
}

Test(state, diff_non_ascii_schema_needs_a_utf8_client)
{
	static struct replay_buf rb;
	struct mysql_sess_state want, have;

	mysql_state_init(&want);
	mysql_state_init(&have);
	apply_hex(&want, OK_USE_NON_ASCII, 0);
	cr_assert_eq(want.schema_len, 3);
	mysql_state_seed_charset(&want, 8);
	mysql_state_seed_charset(&have, 8);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_CANNOT);
	/* the connection reads utf8: the schema first */
	mysql_state_seed_charset(&have, 45);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 2);
	assert_cmd(&rb, 0, COM_INIT_DB, "d\xc3\xa9");
	cr_assert_eq(rb.r.cmd[1].payload[0], COM_QUERY);
	/* the session reads utf8: after the SET */
	mysql_state_seed_charset(&want, 224);
	mysql_state_seed_charset(&have, 8);
	cr_assert_eq(diff(&want, &have, &rb), MYSQL_REPLAY_OK);
	cr_assert_eq(rb.r.n, 2);
	cr_assert_eq(rb.r.cmd[0].payload[0], COM_QUERY);
	assert_cmd(&rb, 1, COM_INIT_DB, "d\xc3\xa9");
	mysql_state_free(&want);
	mysql_state_free(&have);
}

Test(state, diff_reports_a_small_buffer_and_the_bound_holds)
{
	static struct replay_buf rb;
	struct mysql_sess_state want, have;
	char name[16], value[MYSQL_STATE_MAX_VALUE];

	/* Fill both states to the limits: the bound still holds. */
	mysql_state_init(&want);
	mysql_state_init(&have);
	memset(value, '\'', sizeof(value));
	for (int i = 0; i < MYSQL_STATE_MAX_VARS; i++) {
		int n = snprintf(name, sizeof(name), "w%d", i);
		mysql_state_set_var(&want, name, (size_t)n, value, i < 6 ? sizeof(value) : 3);
		n = snprintf(name, sizeof(name), "h%d", i);
		if (i < MYSQL_STATE_MAX_VARS - 4) /* room for the charsets */
			mysql_state_set_var(&have, name, (size_t)n, "1", 1);
		n = snprintf(name, sizeof(name), "``%d", i);
		mysql_state_set_user_var(&want, name, (size_t)n, "1", 1);
		mysql_state_set_user_var(&have, name + 1, (size_t)n - 1, "1", 1);
	}
	mysql_state_set_schema(&want, value, MYSQL_STATE_MAX_SCHEMA);
	want.multi_statements = true;
	want.last_insert_id = UINT64_MAX;
	mysql_state_seed_charset(&have, 8);
	cr_assert_not(want.overflow);
	cr_assert_not(have.overflow);
	size_t bound = mysql_state_replay_bound(&want, &have);
	cr_assert_eq(mysql_state_diff_sql(&want, &have, &rb.r, rb.buf, bound),
		     MYSQL_REPLAY_OK);
	size_t used = 0;
	for (unsigned i = 0; i < rb.r.n; i++)
		used += rb.r.cmd[i].len;
	cr_assert_eq(rb.r.n, 3);
	cr_assert_leq(used, bound);
	/* Every smaller buffer is refused, never overrun (ASan). */
	for (size_t cap = 0; cap < used; cap += cap < 64 ? 1 : 97) {
		uint8_t *b = malloc(cap ? cap : 1);
		cr_assert_eq(mysql_state_diff_sql(&want, &have, &rb.r, b, cap),
			     MYSQL_REPLAY_NOSPACE, "cap %zu", cap);
		free(b);
	}
	uint8_t *b = malloc(used);
	cr_assert_eq(mysql_state_diff_sql(&want, &have, &rb.r, b, used), MYSQL_REPLAY_OK);
	free(b);
	mysql_state_free(&want);
	mysql_state_free(&have);
}

/* ---- literals ---------------------------------------------------------- */

static const char *lit(const char *v, size_t len)
{
	static char out[256];
	size_t n = mysql_sql_value_literal(out, sizeof(out) - 1, v, len);
	cr_assert_lt(n, sizeof(out));
	out[n] = '\0';
	return out;
}

Test(state, value_literals)
{
	cr_assert_str_eq(lit("10", 2), "10");
	cr_assert_str_eq(lit("-3.25", 5), "-3.25");
	cr_assert_str_eq(lit("18446744073709551615", 20), "18446744073709551615");
	cr_assert_str_eq(lit("1.", 2), "'1.'");
	cr_assert_str_eq(lit("-", 1), "'-'");
	cr_assert_str_eq(lit("1e5", 3), "'1e5'");
	cr_assert_str_eq(lit("", 0), "''");
	cr_assert_str_eq(lit("ON", 2), "'ON'");
	cr_assert_str_eq(lit("+01:00", 6), "'+01:00'");
	cr_assert_str_eq(lit("a\"b", 3), "'a\"b'");
	cr_assert_str_eq(lit("a'b", 3), "X'612762'");
	cr_assert_str_eq(lit("a\\b", 3), "X'615C62'");
	cr_assert_str_eq(lit("\xc3\xa9", 2), "X'C3A9'");
	cr_assert_str_eq(lit("a\nb", 3), "X'610A62'");

	/* a short buffer: written up to cap, full length returned */
	char small[5] = "#####";
	cr_assert_eq(mysql_sql_value_literal(small, 4, "a'b", 3), 9);
	cr_assert_eq(memcmp(small, "X'61#", 5), 0);
}

Test(state, string_literals)
{
	char out[128];
	size_t n;

	n = mysql_sql_string_literal(out, sizeof(out), "abc", 3, "utf8mb4",
				     "utf8mb4_unicode_ci");
	cr_assert_eq(n, strlen("_utf8mb4'abc' COLLATE utf8mb4_unicode_ci"));
	cr_assert_eq(memcmp(out, "_utf8mb4'abc' COLLATE utf8mb4_unicode_ci", n), 0);
	n = mysql_sql_string_literal(out, sizeof(out), "\xe9t\xe9", 3, "latin1", NULL);
	cr_assert_eq(memcmp(out, "_latin1 X'E974E9'", n), 0);
	cr_assert_eq(n, 17);
	n = mysql_sql_string_literal(out, sizeof(out), "", 0, NULL, NULL);
	cr_assert_eq(n, 2);
	cr_assert_eq(memcmp(out, "''", 2), 0);
	n = mysql_sql_string_literal(out, sizeof(out), "x'y", 3, NULL, NULL);
	cr_assert_eq(memcmp(out, "X'782779'", n), 0);
	cr_assert_eq(mysql_sql_string_literal(out, sizeof(out), "a", 1,
					      "utf8'; DROP", NULL), 0);
	cr_assert_eq(mysql_sql_string_literal(out, sizeof(out), "a", 1,
					      "utf8mb4", "x y"), 0);
}
