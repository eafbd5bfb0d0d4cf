/*
 * sql_classify.h - what a COM_QUERY or COM_STMT_PREPARE text does that
 * connection pooling and read/write splitting must know.
 *
 * A pooled backend connection is lent to a client session per transaction.
 * The server's session tracker reports most changes to a session in the
 * OK packets (system variables, schema, transaction state: mysql_state.h),
 * but not all of them: user variables set by SELECT, temporary tables,
 * GET_LOCK(), HANDLER, sequences, SQL-level prepared statements, the
 * collation of SET NAMES ... COLLATE, LAST_INSERT_ID(expr), and what a
 * statement leaves for the next one (FOUND_ROWS(), ROW_COUNT(), warnings).
 * sql_classify() reads the text before it is sent and says, for the whole
 * command (every statement of a multi-statement, every way the server may
 * read it, see sql_scan.h):
 *  - flags (SQLC_*): what kinds of statement it holds and every effect
 *    listed above, each flag documented with the MariaDB behaviour behind
 *    it;
 *  - items (struct sql_item): the names and values that let the caller
 *    record a change instead of pinning the session to its connection
 *    (SET @a = 1, the temporary tables created and dropped, lock names,
 *    SET NAMES x COLLATE y, USE db, KILL n, PREPARE s, HANDLER t OPEN).
 * The same flags drive read/write splitting: sql_class_read_only() is true
 * for a command a replica can answer.
 *
 * What the caller does with it (docs/architecture.md, "Statement
 * classification"): apply the OKs as before; record items once the
 * statement they came from succeeded (item.stmt: multi-statements stop at
 * the first error); pin the session for any flag it cannot replay; treat
 * SQLC_UNKNOWN and SQLC_INEXACT conservatively (pin).
 *
 * Keywords are matched without regard to case, never inside strings,
 * quoted names or comments; executable comments are code (sql_split()).
 * No I/O; no allocation beyond the split's scratch (reused from call to
 * call); any input is accepted; nothing is read outside [sql, sql + len).
 * Checked against MariaDB 10.11; MySQL 8 syntax that MariaDB lacks (FOR
 * SHARE, EXPLAIN ANALYZE) is classified too, conservatively.
 */
#ifndef MYRING_SQL_CLASSIFY_H
#define MYRING_SQL_CLASSIFY_H

#include "sql_scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- flags ----------------------------------------------------------- */

/* What kind of statement. */
#define SQLC_READ            (1ull << 0)  /* SELECT, VALUES, WITH ... SELECT,
                                           * (SELECT ...), SHOW, DESCRIBE,
                                           * EXPLAIN, HELP, ANALYZE stmt */
#define SQLC_WRITE           (1ull << 1)  /* INSERT, UPDATE, DELETE, REPLACE,
                                           * LOAD DATA / XML, WITH ... UPDATE */
#define SQLC_DDL             (1ull << 2)  /* CREATE, ALTER, DROP, RENAME,
                                           * TRUNCATE, GRANT, REVOKE, SET
                                           * PASSWORD, ...: the server commits
                                           * an open transaction first (not for
                                           * CREATE/DROP TEMPORARY TABLE) */
#define SQLC_ADMIN           (1ull << 3)  /* server administration: SET GLOBAL,
                                           * FLUSH, RESET, PURGE, replication,
                                           * plugins, table maintenance, KILL
                                           * is separate (SQLC_KILL) */
#define SQLC_LOCKING_READ    (1ull << 4)  /* SELECT ... FOR UPDATE, LOCK IN
                                           * SHARE MODE, FOR SHARE: row locks
                                           * held until the transaction ends */
#define SQLC_SELECT_INTO     (1ull << 5)  /* SELECT ... INTO OUTFILE / DUMPFILE
                                           * / @var / var */

/* Transactions: the tracker reports the resulting state too; these let the
 * caller decide before the answer comes. */
#define SQLC_TXN_BEGIN       (1ull << 6)  /* BEGIN [WORK], START TRANSACTION,
                                           * XA START/BEGIN, COMMIT/ROLLBACK
                                           * AND CHAIN (commits, then opens
                                           * the next one) */
#define SQLC_TXN_READ_ONLY   (1ull << 7)  /* START TRANSACTION READ ONLY */
#define SQLC_TXN_END         (1ull << 8)  /* COMMIT, ROLLBACK [WORK] (not TO
                                           * SAVEPOINT), XA COMMIT, XA
                                           * ROLLBACK.  Not XA END / PREPARE:
                                           * after them the XA transaction
                                           * still belongs to the connection */
#define SQLC_SAVEPOINT       (1ull << 9)  /* SAVEPOINT, ROLLBACK TO, RELEASE
                                           * SAVEPOINT */
#define SQLC_AUTOCOMMIT_OFF  (1ull << 10) /* SET [SESSION] autocommit = 0 |
                                           * OFF | FALSE | 'OFF' (@@ forms too) */
#define SQLC_AUTOCOMMIT_ON   (1ull << 11) /* = 1 | ON | TRUE | 'ON'; both
                                           * flags when the value is anything
                                           * else.  Turning it on commits an
                                           * open transaction */
#define SQLC_XA              (1ull << 12) /* any XA statement */
#define SQLC_RELEASE         (1ull << 13) /* COMMIT/ROLLBACK ... RELEASE: the
                                           * server closes the connection */

/* Session state the tracker does not report, or reports incompletely. */
#define SQLC_USER_VAR_SET    (1ull << 14) /* SET @v = literal: items
                                           * SQLI_USER_VAR (the tracker says
                                           * only "state changed") */
#define SQLC_USER_VAR_ASSIGN (1ull << 15) /* a user variable gets a value myring
                                           * cannot know: SET @v = expression,
                                           * @v := anywhere, SELECT ... INTO
                                           * @v, LOAD DATA ... (@v), GET
                                           * DIAGNOSTICS @v = ... */
#define SQLC_SET_SYSVAR      (1ull << 16) /* SET of a session system variable
                                           * (reported by the tracker), SET
                                           * [SESSION] TRANSACTION ... */
#define SQLC_SET_NAMES       (1ull << 17) /* SET NAMES x [COLLATE y], SET
                                           * CHARACTER SET x, SET CHARSET x:
                                           * item SQLI_SET_NAMES; the tracker
                                           * reports the three character sets
                                           * but never collation_connection */
#define SQLC_SET_SESSION_TRACK (1ull << 18) /* sets a session_track_*
                                           * variable: myring's tracking on
                                           * that connection is changed */
#define SQLC_SET_STATEMENT   (1ull << 19) /* SET STATEMENT v=x FOR stmt: the
                                           * OK reports v=x although v is
                                           * restored (MYSQL_APPLY_SKIP_VARS);
                                           * stmt's own flags are added */
#define SQLC_SET_ROLE        (1ull << 20) /* SET ROLE: the session's current
                                           * role, reported by nothing */
#define SQLC_USE             (1ull << 21) /* USE db: item SQLI_USE (the tracker
                                           * reports the schema too) */

/* What lives on the connection and pins the session to it. */
#define SQLC_TEMP_TABLE_CREATE (1ull << 22) /* CREATE [OR REPLACE] TEMPORARY
                                           * TABLE | SEQUENCE: SQLI_TEMP_TABLE */
#define SQLC_TABLE_DROP      (1ull << 23) /* DROP [TEMPORARY] TABLE | SEQUENCE:
                                           * SQLI_DROP_TABLE each.  A plain DROP
                                           * TABLE t drops the session's
                                           * temporary t if there is one (and
                                           * then not the base table); a DROP
                                           * of a list that fails may still
                                           * have dropped some */
#define SQLC_TABLE_RENAME    (1ull << 24) /* RENAME TABLE a TO b, ALTER TABLE a
                                           * RENAME TO b: SQLI_RENAME_TABLE
                                           * (temporary tables can be renamed) */
#define SQLC_GET_LOCK        (1ull << 25) /* GET_LOCK(): SQLI_GET_LOCK when the
                                           * name is a string literal */
#define SQLC_RELEASE_LOCK    (1ull << 26) /* RELEASE_LOCK(): SQLI_RELEASE_LOCK */
#define SQLC_RELEASE_ALL_LOCKS (1ull << 27) /* RELEASE_ALL_LOCKS() */
#define SQLC_LOCK_TABLES     (1ull << 28) /* LOCK TABLE[S] (commits first) */
#define SQLC_UNLOCK_TABLES   (1ull << 29) /* UNLOCK TABLE[S]: ends LOCK TABLES
                                           * and FLUSH TABLES ... WITH READ LOCK */
#define SQLC_FLUSH_TABLES_READ_LOCK (1ull << 30) /* FLUSH TABLES [t, ...] WITH
                                           * READ LOCK | FOR EXPORT */
#define SQLC_BACKUP_LOCK     (1ull << 31) /* BACKUP STAGE (not END), BACKUP
                                           * LOCK t */
#define SQLC_BACKUP_UNLOCK   (1ull << 32) /* BACKUP STAGE END, BACKUP UNLOCK */
#define SQLC_HANDLER         (1ull << 33) /* HANDLER t OPEN / READ / CLOSE:
                                           * SQLI_HANDLER_OPEN / _CLOSE */
#define SQLC_SQL_PREPARE     (1ull << 34) /* PREPARE s FROM, EXECUTE s,
                                           * DEALLOCATE / DROP PREPARE s:
                                           * SQLI_PREPARE / SQLI_DEALLOCATE */
#define SQLC_SEQUENCE        (1ull << 35) /* NEXTVAL(), NEXT VALUE FOR, SETVAL()
                                           * (write the sequence), LASTVAL(),
                                           * PREVIOUS VALUE FOR (this session's
                                           * last NEXTVAL), s.nextval */

/* What a statement reads of the one before it, or of its connection. */
#define SQLC_LAST_INSERT_ID_SET (1ull << 36) /* LAST_INSERT_ID(expr): sets what
                                           * LAST_INSERT_ID() returns, reported
                                           * by nothing in a SELECT or DO */
#define SQLC_LAST_INSERT_ID_GET (1ull << 37) /* LAST_INSERT_ID(), @@identity,
                                           * @@last_insert_id (replayed state) */
#define SQLC_CALC_FOUND_ROWS (1ull << 38) /* SQL_CALC_FOUND_ROWS: for the next
                                           * statement's FOUND_ROWS() */
#define SQLC_FOUND_ROWS      (1ull << 39) /* FOUND_ROWS(): the previous
                                           * statement's rows */
#define SQLC_ROW_COUNT       (1ull << 40) /* ROW_COUNT(): the previous
                                           * statement's affected rows */
#define SQLC_DIAGNOSTICS     (1ull << 41) /* SHOW WARNINGS / ERRORS / COUNT(*)
                                           * WARNINGS / PROFILE[S], GET
                                           * DIAGNOSTICS, @@warning_count,
                                           * @@error_count: the previous
                                           * statement's diagnostics */
#define SQLC_CONNECTION_ID   (1ull << 42) /* CONNECTION_ID(): the backend
                                           * connection's id */
#define SQLC_SERVER_STATE    (1ull << 43) /* reads what differs from server to
                                           * server: SHOW STATUS / VARIABLES /
                                           * PROCESSLIST / replication, global
                                           * or server variables (@@global.x,
                                           * @@read_only, @@server_id, @@gtid_*
                                           * ...), IS_FREE_LOCK(),
                                           * IS_USED_LOCK(), LOAD_FILE(),
                                           * MASTER_POS_WAIT(), XA RECOVER */

/* Code myring does not see. */
#define SQLC_KILL            (1ull << 44) /* KILL ...: SQLI_KILL */
#define SQLC_CALL            (1ull << 45) /* CALL p (a procedure may do
                                           * anything), EXECUTE s, EXECUTE
                                           * IMMEDIATE, compound statements
                                           * (BEGIN NOT ATOMIC, IF, WHILE,
                                           * LOOP, REPEAT, CASE, FOR, labels) */
#define SQLC_STORED_FUNC     (1ull << 46) /* a call of a function that is not
                                           * built in (stored function or UDF:
                                           * may write, set variables, lock),
                                           * or of a schema-qualified one */

/* The command as a whole. */
#define SQLC_MULTI           (1ull << 47) /* more than one statement (in
                                           * some reading) */
#define SQLC_UNKNOWN         (1ull << 48) /* a statement not recognised, or a
                                           * text that could not be split (too
                                           * many readings, out of memory) */
#define SQLC_INEXACT         (1ull << 49) /* the items do not tell all of what
                                           * their flags say: a lock name or a
                                           * KILL target that is not a literal,
                                           * a table list that does not parse,
                                           * more than SQLC_MAX_ITEMS items,
                                           * readings that may differ and no
                                           * reading given (or one the command
                                           * itself changes) */

#define SQLC_NFLAGS 50

/* ---- items ----------------------------------------------------------- */

#define SQLC_MAX_ITEMS 16
#define SQLC_NAME_BUF  512   /* bytes for names that had to be unquoted */

/* Text in the caller's input, in the split's scratch, in the struct's
 * name buffer (names with doubled quotes), or a constant ("utf8mb3");
 * not NUL-terminated. */
struct sql_text {
	const char *ptr;
	size_t len;
};

enum sql_item_kind {
	SQLI_USER_VAR = 1,  /* name = value (detail SQL_LIT_*); see below */
	SQLI_TEMP_TABLE,    /* [schema.]name created TEMPORARY */
	SQLI_DROP_TABLE,    /* [schema.]name dropped (detail SQLI_TEMPORARY if
			     * DROP TEMPORARY) */
	SQLI_RENAME_TABLE,  /* [schema.]name renamed to [to_schema.]to_name */
	SQLI_GET_LOCK,      /* value: the lock name's string literal, quotes and
			     * all (sql_string_value() decodes it) */
	SQLI_RELEASE_LOCK,  /* value: as GET_LOCK */
	SQLI_USE,           /* name: the database */
	SQLI_SET_NAMES,     /* charset, collation (empty: the charset's default);
			     * detail SQLI_CHARSET_ONLY for SET CHARACTER SET /
			     * CHARSET; charset "DEFAULT" for ... DEFAULT */
	SQLI_KILL,          /* number (when value is an integer literal), value:
			     * the target as written (a user for KILL USER);
			     * detail SQL_KILL_* */
	SQLI_PREPARE,       /* name: the statement prepared */
	SQLI_DEALLOCATE,    /* name: the statement deallocated */
	SQLI_HANDLER_OPEN,  /* [schema.]name opened, to_name: the handler's name
			     * (its alias, or the table's name) */
	SQLI_HANDLER_CLOSE, /* name: the handler closed */
};

/* SQLI_USER_VAR values. */
enum sql_lit {
	/* The value's text means the same under every sql_mode and
	 * character set: a number (with its sign), X'..', 0x.., B'..', 0b..,
	 * NULL, TRUE, FALSE, possibly with _charset and COLLATE.  Record it
	 * as written. */
	SQL_LIT_VERBATIM = 1,
	/* A quoted string (one or more parts, which the server joins): value
	 * is the quoted part(s); decode them with sql_string_value() under
	 * the session's sql_mode and character set.  The value's character
	 * set is charset if given (an introducer _cs, or "utf8mb3" for
	 * N'..'), else character_set_connection; its collation is collation
	 * if given, else the charset's default when charset is given, else
	 * collation_connection (mysql_sql_string_literal writes it). */
	SQL_LIT_STRING = 2,
};

#define SQLI_TEMPORARY     0x01  /* SQLI_DROP_TABLE: DROP TEMPORARY */
#define SQLI_CHARSET_ONLY  0x01  /* SQLI_SET_NAMES: SET CHARACTER SET */

#define SQL_KILL_QUERY     0x01  /* KILL QUERY: the statement, not the
				  * connection */
#define SQL_KILL_QUERY_ID  0x02  /* KILL QUERY ID: a query id */
#define SQL_KILL_USER      0x04  /* KILL USER u: every connection of u */
#define SQL_KILL_SOFT      0x08  /* KILL SOFT */

struct sql_item {
	uint8_t kind;               /* enum sql_item_kind */
	uint8_t detail;             /* per kind, see above */
	uint16_t stmt;              /* the statement it is in: 0, 1, ... */
	struct sql_text schema;     /* empty when the name is not qualified */
	struct sql_text name;       /* unquoted */
	struct sql_text to_schema, to_name;
	struct sql_text value;
	struct sql_text charset, collation; /* unquoted, charset without '_' */
	uint64_t number;
};

/* ---- classifying ------------------------------------------------------ */

struct sql_class {
	uint64_t flags;             /* SQLC_* */
	unsigned nstmts;            /* statements (the primary reading's; an
				     * empty command has one, empty) */
	unsigned nitems;
	struct sql_item items[SQLC_MAX_ITEMS]; /* in the order they run */
	/* private */
	size_t buf_len;
	char buf[SQLC_NAME_BUF];
};

/*
 * Classifies sql[0..len).  sp is the caller's scratch for sql_split()
 * (sql_split_init() once; it is reused and grows as needed); items point
 * into sql, sp's scratch or out, and stay valid until sp is used again.
 *
 * rd is how the server will read the text as far as the caller knows
 * (sql_reading_for_session()), or NULL.  Flags always cover every reading;
 * items come from the primary reading when no reading can differ (the
 * usual case), else from rd; without rd, or when an earlier statement of
 * the command changes sql_mode or the client character set, the command
 * is then SQLC_INEXACT.
 *
 * Returns 0, or SQL_SPLIT_NOMEM / SQL_SPLIT_AMBIGUOUS (out->flags is then
 * SQLC_UNKNOWN | SQLC_INEXACT).
 */
int sql_classify(struct sql_split *sp, const char *sql, size_t len,
		 const struct sql_reading *rd, struct sql_class *out);

/*
 * A command a replica can run: every statement is a plain read (SELECT,
 * SHOW, DESCRIBE, EXPLAIN, ...) without a locking clause, INTO, user
 * variable assignment, sequence, lock, server- or connection-dependent
 * function (see SQLC_SERVER_STATE, SQLC_FOUND_ROWS ...) or call of a
 * function that is not built in.  LAST_INSERT_ID() is allowed: it is
 * replayed state.  Whether the session is in a transaction is the
 * caller's to check.
 */
bool sql_class_read_only(const struct sql_class *c);

/* "READ|LOCKING_READ": the flags' names joined by '|' (like snprintf:
 * writes at most cap bytes with the NUL, returns the length needed). */
size_t sql_class_flags_str(uint64_t flags, char *buf, size_t cap);

/*
 * The value of a string literal: one or more quoted parts ('..' or "..",
 * separated by white space) as the server reads them under rd's escapes
 * and character set: doubled quotes stand for one, '\' escapes (\0 \b \n
 * \r \t \Z, \% and \_ keep their '\', any other \c is c) unless rd is
 * SQL_ESC_NONE; under SQL_ESC_SINGLE (ANSI_QUOTES) ".." is a name, not a
 * string.  Writes at most cap bytes, returns the length of the whole
 * value, or (size_t)-1 if lit is not such a literal.
 */
size_t sql_string_value(const char *lit, size_t len,
			const struct sql_reading *rd, char *out, size_t cap);

/* Whether the comma-separated list (sql_mode as the server reports it)
 * holds the word w, without regard to case. */
bool sql_list_has(const char *list, size_t len, const char *w);

/*
 * The reading of a session: escapes from its sql_mode as the server
 * reports it (ANSI_QUOTES, NO_BACKSLASH_ESCAPES), the character set from
 * character_set_client (gbk, gb18030, big5, sjis, cp932 read '\' and '`'
 * differently), server SQL_SERVER_MARIADB or SQL_SERVER_MYSQL and its
 * version (e.g. 101119).  NULL texts mean the defaults.
 */
void sql_reading_for_session(struct sql_reading *rd, const char *sql_mode,
			     size_t mode_len, const char *charset,
			     size_t charset_len, uint8_t server,
			     uint32_t version);

#endif
