/*
 * The statement classifier (sql_classify.c): a table of statements, each
 * with the flags and items it must give (keywords in strings, comments
 * and names, every form of the statements pooling cares about, garbage),
 * then the readings (escapes, multi-byte character sets, executable
 * comments), the read-only predicate, the built-in function table, the
 * string decoder, and the rule that a command's classification is that
 * of its statements joined.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "sql_classify.h"

#define F(x) SQLC_##x

static struct sql_split sp;

static void setup(void)
{
	sql_split_init(&sp);
}

static void teardown(void)
{
	sql_split_free(&sp);
}

static const char *flags_str(uint64_t flags)
{
	static char buf[2][1024];
	static int which;

	which ^= 1;
	sql_class_flags_str(flags, buf[which], sizeof(buf[which]));
	return buf[which];
}

static void put_text(char *out, size_t cap, size_t *n, const char *prefix,
		     struct sql_text t)
{
	*n += (size_t)snprintf(out + *n, *n < cap ? cap - *n : 0, "%s%.*s",
			       prefix, (int)t.len, t.ptr ? t.ptr : "");
}

static void put_name(char *out, size_t cap, size_t *n, struct sql_text schema,
		     struct sql_text name)
{
	if (schema.len) {
		put_text(out, cap, n, "", schema);
		put_text(out, cap, n, ".", name);
	} else {
		put_text(out, cap, n, "", name);
	}
}

/* The items as one line: "@a=1; temp:db.t; lock:'a'; #1 use:db". */
static const char *items_str(const struct sql_class *c, unsigned stmt_base)
{
	static char buf[4096];
	size_t n = 0, cap = sizeof(buf);

	buf[0] = '\0';
	for (unsigned i = 0; i < c->nitems; i++) {
		const struct sql_item *it = &c->items[i];

		if (i)
			n += (size_t)snprintf(buf + n, cap - n, "; ");
		if (it->stmt + stmt_base)
			n += (size_t)snprintf(buf + n, cap - n, "#%u ",
					      it->stmt + stmt_base);
		switch (it->kind) {
		case SQLI_USER_VAR:
			put_text(buf, cap, &n, "@", it->name);
			put_text(buf, cap, &n, it->detail == SQL_LIT_STRING ?
				 "=s:" : "=", it->value);
			if (it->charset.len)
				put_text(buf, cap, &n, ",cs=", it->charset);
			if (it->collation.len)
				put_text(buf, cap, &n, ",coll=", it->collation);
			break;
		case SQLI_TEMP_TABLE:
			n += (size_t)snprintf(buf + n, cap - n, "temp:");
			put_name(buf, cap, &n, it->schema, it->name);
			break;
		case SQLI_DROP_TABLE:
			n += (size_t)snprintf(buf + n, cap - n, "%s:",
					      it->detail & SQLI_TEMPORARY ?
					      "drop-temp" : "drop");
			put_name(buf, cap, &n, it->schema, it->name);
			break;
		case SQLI_RENAME_TABLE:
			n += (size_t)snprintf(buf + n, cap - n, "rename:");
			put_name(buf, cap, &n, it->schema, it->name);
			n += (size_t)snprintf(buf + n, cap - n, ">");
			put_name(buf, cap, &n, it->to_schema, it->to_name);
			break;
		case SQLI_GET_LOCK:
			put_text(buf, cap, &n, "lock:", it->value);
			break;
		case SQLI_RELEASE_LOCK:
			put_text(buf, cap, &n, "unlock:", it->value);
			break;
		case SQLI_USE:
			put_text(buf, cap, &n, "use:", it->name);
			break;
		case SQLI_SET_NAMES:
			put_text(buf, cap, &n, it->detail & SQLI_CHARSET_ONLY ?
				 "charset:" : "names:", it->charset);
			if (it->collation.len)
				put_text(buf, cap, &n, "/", it->collation);
			break;
		case SQLI_KILL:
			n += (size_t)snprintf(buf + n, cap - n, "kill:%s%s%s%s",
				it->detail & SQL_KILL_SOFT ? "soft:" : "",
				it->detail & SQL_KILL_QUERY ? "query:" : "",
				it->detail & SQL_KILL_QUERY_ID ? "id:" : "",
				it->detail & SQL_KILL_USER ? "user:" : "");
			if (it->detail & SQL_KILL_USER)
				put_text(buf, cap, &n, "", it->value);
			else
				n += (size_t)snprintf(buf + n, cap - n, "%llu",
					(unsigned long long)it->number);
			break;
		case SQLI_PREPARE:
			put_text(buf, cap, &n, "prepare:", it->name);
			break;
		case SQLI_DEALLOCATE:
			put_text(buf, cap, &n, "dealloc:", it->name);
			break;
		case SQLI_HANDLER_OPEN:
			n += (size_t)snprintf(buf + n, cap - n, "hopen:");
			put_name(buf, cap, &n, it->schema, it->name);
			put_text(buf, cap, &n, ">", it->to_name);
			break;
		case SQLI_HANDLER_CLOSE:
			put_text(buf, cap, &n, "hclose:", it->name);
			break;
		default:
			n += (size_t)snprintf(buf + n, cap - n, "?%d", it->kind);
		}
	}
	return buf;
}

struct want {
	const char *sql;
	uint64_t flags;
	const char *items;
};

static const struct want table[] = {
	/* reads, and locking clauses */
	{ "SELECT c FROM sbtest1 WHERE id=5", F(READ), "" },
	{ "select 1", F(READ), "" },
	{ "SELECT * FROM t FOR UPDATE", F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM t LOCK IN SHARE MODE", F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM t FOR SHARE", F(READ) | F(LOCKING_READ), "" },
	{ "select * from t for update nowait", F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM t FOR UPDATE SKIP LOCKED", F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM t1 WHERE a IN (SELECT b FROM t2 FOR UPDATE)",
	  F(READ) | F(LOCKING_READ), "" },
	{ "SELECT `update`, `for` FROM t", F(READ), "" },
	{ "SELECT * FROM t WHERE a = 'FOR UPDATE'", F(READ), "" },
	{ "SELECT * FROM t /* FOR UPDATE */", F(READ), "" },
	{ "SELECT * FROM t -- FOR UPDATE", F(READ), "" },
	{ "SELECT * FROM t # FOR UPDATE", F(READ), "" },
	{ "SELECT 1 /*! FOR UPDATE */", F(READ) | F(LOCKING_READ), "" },
	{ "SELECT TRIM(LEADING 'x' FROM 'y') FOR UPDATE",
	  F(READ) | F(LOCKING_READ), "" },
	{ "SELECT SUBSTRING(a FROM 2) FROM t LOCK IN SHARE MODE",
	  F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM t FOR SYSTEM_TIME AS OF TIMESTAMP '2020-01-01 00:00:00'",
	  F(READ), "" },
	{ "SELECT SUBSTRING(a FOR 2) FROM t", F(READ), "" },
	{ "SELECT * FROM t USE INDEX FOR JOIN (i)", F(READ), "" },
	{ "(SELECT 1) UNION (SELECT 2)", F(READ), "" },
	{ "VALUES (1), (2)", F(READ), "" },
	{ "TABLE t", F(READ), "" },
	{ "WITH c AS (SELECT 1 AS a) SELECT a FROM c", F(READ), "" },
	{ "WITH RECURSIVE c (n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM c "
	  "WHERE n < 5) SELECT * FROM c", F(READ), "" },
	{ "WITH c AS (SELECT id FROM t) UPDATE t2 SET a = 1 WHERE id IN "
	  "(SELECT id FROM c)", F(WRITE), "" },
	{ "WITH c AS (SELECT 1) DELETE FROM t WHERE id IN (SELECT * FROM c)",
	  F(WRITE), "" },
	{ "WITH c AS (SELECT * FROM t FOR UPDATE) SELECT * FROM c",
	  F(READ) | F(LOCKING_READ), "" },
	{ "SELECT * FROM `select` WHERE `from` = 'where'", F(READ), "" },
	{ "SELECT a FROM t WHERE a = ?", F(READ), "" },
	{ "SELECT 1 FROM t PARTITION (p0)", F(READ), "" },
	{ "SELECT x'41', b'1', N'abc', _latin1'x', 0x41, .5e1", F(READ), "" },
	{ "SELECT a FROM t GROUP BY a WITH ROLLUP", F(READ), "" },
	{ "SELECT a FROM t WINDOW w AS (PARTITION BY b)", F(READ), "" },

	/* functions: built in, stored, with effects */
	{ "SELECT COUNT(*), SUM(k), MAX(id), GROUP_CONCAT(c SEPARATOR ',') "
	  "FROM t GROUP BY k", F(READ), "" },
	{ "SELECT IF(a, 1, 2), IFNULL(b, 0), COALESCE(c, d), CASE WHEN a "
	  "THEN 1 END FROM t", F(READ), "" },
	{ "SELECT CAST(a AS DECIMAL(10, 2)), CONVERT(b, CHAR(10)), "
	  "CONVERT(c USING utf8mb4) FROM t", F(READ), "" },
	{ "SELECT JSON_EXTRACT(j, '$.a'), ST_AsText(g), date_format(d, '%Y') "
	  "FROM t", F(READ), "" },
	{ "SELECT * FROM t WHERE EXISTS (SELECT 1) AND a IN (1, 2) AND b NOT "
	  "IN (SELECT c FROM u)", F(READ), "" },
	{ "SELECT * FROM JSON_TABLE('[1]', '$[*]' COLUMNS (a INT PATH '$')) "
	  "AS jt", F(READ), "" },
	{ "SELECT ROW_NUMBER() OVER (PARTITION BY a ORDER BY b) FROM t",
	  F(READ), "" },
	{ "SELECT NOW(), RAND(), UUID(), SLEEP(0), BENCHMARK(1, 1), VERSION()",
	  F(READ), "" },
	{ "SELECT CURRENT_USER(), USER(), DATABASE(), CHAR(65 USING utf8mb4)",
	  F(READ), "" },
	{ "SELECT * FROM t WHERE MATCH (a) AGAINST ('x' IN BOOLEAN MODE)",
	  F(READ), "" },
	{ "SELECT INTERVAL(5, 1, 10), NOW() + INTERVAL 1 DAY", F(READ), "" },
	{ "SELECT myfunc(1)", F(READ) | F(STORED_FUNC), "" },
	{ "SELECT db.f(1)", F(READ) | F(STORED_FUNC), "" },
	{ "SELECT db.concat('a')", F(READ) | F(STORED_FUNC), "" },
	{ "SELECT `concat`('a', 'b')", F(READ), "" },
	{ "SELECT `my func`(1)", F(READ) | F(STORED_FUNC), "" },
	{ "SELECT get_lock", F(READ), "" },
	{ "SELECT * FROM get_lock", F(READ), "" },
	{ "SELECT 'GET_LOCK(1)', \"RELEASE_LOCK('x')\"", F(READ), "" },
	{ "SELECT FOUND_ROWS()", F(READ) | F(FOUND_ROWS), "" },
	{ "SELECT SQL_CALC_FOUND_ROWS * FROM t LIMIT 10",
	  F(READ) | F(CALC_FOUND_ROWS), "" },
	{ "SELECT ROW_COUNT()", F(READ) | F(ROW_COUNT), "" },
	{ "SELECT LAST_INSERT_ID()", F(READ) | F(LAST_INSERT_ID_GET), "" },
	{ "SELECT last_insert_id ( )", F(READ) | F(LAST_INSERT_ID_GET), "" },
	{ "SELECT LAST_INSERT_ID(42)", F(READ) | F(LAST_INSERT_ID_SET), "" },
	{ "UPDATE t SET id = LAST_INSERT_ID(id + 1)",
	  F(WRITE) | F(LAST_INSERT_ID_SET), "" },
	{ "SELECT @@identity, @@last_insert_id",
	  F(READ) | F(LAST_INSERT_ID_GET), "" },
	{ "SELECT CONNECTION_ID()", F(READ) | F(CONNECTION_ID), "" },
	{ "SELECT IS_FREE_LOCK('a'), IS_USED_LOCK('b')",
	  F(READ) | F(SERVER_STATE), "" },
	{ "SELECT MASTER_GTID_WAIT('0-1-1')", F(READ) | F(SERVER_STATE), "" },
	{ "SELECT LOAD_FILE('/etc/hosts')", F(READ) | F(SERVER_STATE), "" },
	{ "SELECT @@global.read_only", F(READ) | F(SERVER_STATE), "" },
	{ "SELECT @@read_only, @@hostname", F(READ) | F(SERVER_STATE), "" },
	{ "SELECT @@gtid_current_pos", F(READ) | F(SERVER_STATE), "" },
	{ "SELECT @@session.autocommit, @@tx_isolation, @@SQL_MODE",
	  F(READ), "" },
	{ "SELECT @@warning_count, @@error_count", F(READ) | F(DIAGNOSTICS), "" },

	/* sequences */
	{ "SELECT NEXTVAL(s)", F(READ) | F(SEQUENCE), "" },
	{ "SELECT NEXT VALUE FOR s", F(READ) | F(SEQUENCE), "" },
	{ "SELECT PREVIOUS VALUE FOR db.s", F(READ) | F(SEQUENCE), "" },
	{ "SELECT LASTVAL(s), SETVAL(s, 10)", F(READ) | F(SEQUENCE), "" },
	{ "SELECT s.nextval, s.currval", F(READ) | F(SEQUENCE), "" },
	{ "INSERT INTO t VALUES (NEXT VALUE FOR s)", F(WRITE) | F(SEQUENCE), "" },
	{ "SELECT next, value FROM t", F(READ), "" },

	/* GET_LOCK and friends */
	{ "SELECT GET_LOCK('a', 10)", F(READ) | F(GET_LOCK), "lock:'a'" },
	{ "SELECT GET_LOCK ('a', 10)", F(READ) | F(GET_LOCK), "lock:'a'" },
	{ "SELECT `get_lock`('b', 0)", F(READ) | F(GET_LOCK), "lock:'b'" },
	{ "SELECT get_lock(CONCAT('a', 'b'), 10)",
	  F(READ) | F(GET_LOCK) | F(INEXACT), "" },
	{ "SELECT GET_LOCK(@name, 0)", F(READ) | F(GET_LOCK) | F(INEXACT), "" },
	{ "SELECT RELEASE_LOCK(\"a\")", F(READ) | F(RELEASE_LOCK),
	  "unlock:\"a\"" },
	{ "SELECT GET_LOCK('a', 1), RELEASE_LOCK('b'), RELEASE_ALL_LOCKS()",
	  F(READ) | F(GET_LOCK) | F(RELEASE_LOCK) | F(RELEASE_ALL_LOCKS),
	  "lock:'a'; unlock:'b'" },
	{ "DO GET_LOCK('x', 0)", F(GET_LOCK), "lock:'x'" },
	{ "SELECT IF(GET_LOCK('x', 0), 1, 0)", F(READ) | F(GET_LOCK),
	  "lock:'x'" },
	{ "INSERT INTO get_lock (a) VALUES (1)", F(WRITE), "" },
	{ "INSERT get_lock (a) VALUES (1)", F(WRITE), "" },
	{ "CALL get_lock(1)", F(CALL), "" },

	/* user variables outside SET */
	{ "SELECT @a, @`b`, @'c'", F(READ), "" },
	{ "SELECT @a := 1", F(READ) | F(USER_VAR_ASSIGN), "" },
	{ "SELECT @a:=a FROM t", F(READ) | F(USER_VAR_ASSIGN), "" },
	{ "SELECT a FROM t WHERE (@rn := @rn + 1) > 0",
	  F(READ) | F(USER_VAR_ASSIGN), "" },
	{ "SELECT @a = 1", F(READ), "" },
	{ "SELECT '@a := 1', \"@b := 2\", ':=', @c", F(READ), "" },
	{ "SELECT a INTO @x FROM t", F(READ) | F(SELECT_INTO) |
	  F(USER_VAR_ASSIGN), "" },
	{ "select a, b into @a, @b from t", F(READ) | F(SELECT_INTO) |
	  F(USER_VAR_ASSIGN), "" },
	{ "SELECT * FROM t LIMIT 1 INTO @a", F(READ) | F(SELECT_INTO) |
	  F(USER_VAR_ASSIGN), "" },
	{ "SELECT 1 INTO OUTFILE '/tmp/x'", F(READ) | F(SELECT_INTO), "" },
	{ "SELECT 1 INTO DUMPFILE '/tmp/x' FROM dual", F(READ) | F(SELECT_INTO),
	  "" },
	{ "UPDATE t SET a = @x := a + 1", F(WRITE) | F(USER_VAR_ASSIGN), "" },
	{ "SELECT `SQL_CALC_FOUND_ROWS`, `@x` FROM t", F(READ), "" },

	/* SHOW, DESCRIBE, EXPLAIN, ANALYZE, HELP */
	{ "SHOW TABLES", F(READ), "" },
	{ "SHOW FULL TABLES FROM db LIKE 'a%'", F(READ), "" },
	{ "SHOW CREATE TABLE t", F(READ), "" },
	{ "show columns from t where field = 'a'", F(READ), "" },
	{ "SHOW WARNINGS", F(READ) | F(DIAGNOSTICS), "" },
	{ "SHOW COUNT(*) ERRORS", F(READ) | F(DIAGNOSTICS), "" },
	{ "SHOW PROFILES", F(READ) | F(DIAGNOSTICS), "" },
	{ "SHOW GLOBAL STATUS LIKE 'Threads%'", F(READ) | F(SERVER_STATE), "" },
	{ "SHOW VARIABLES LIKE 'read_only'", F(READ) | F(SERVER_STATE), "" },
	{ "SHOW FULL PROCESSLIST", F(READ) | F(SERVER_STATE), "" },
	{ "SHOW SLAVE STATUS", F(READ) | F(SERVER_STATE), "" },
	{ "SHOW MASTER STATUS", F(READ) | F(SERVER_STATE), "" },
	{ "SHOW BINLOG EVENTS", F(READ) | F(SERVER_STATE), "" },
	{ "DESCRIBE t", F(READ), "" },
	{ "DESC t", F(READ), "" },
	{ "EXPLAIN SELECT * FROM t", F(READ), "" },
	{ "EXPLAIN SELECT * FROM t FOR UPDATE", F(READ), "" },
	{ "EXPLAIN UPDATE t SET a = 1", F(READ), "" },
	{ "EXPLAIN FORMAT=JSON DELETE FROM t", F(READ), "" },
	{ "EXPLAIN SELECT * FROM (SELECT GET_LOCK('a', 0)) x",
	  F(READ) | F(GET_LOCK), "lock:'a'" },
	{ "EXPLAIN SELECT * FROM (SELECT @e := 5 AS a) x",
	  F(READ) | F(USER_VAR_ASSIGN), "" },
	{ "ANALYZE SELECT * FROM t", F(READ), "" },
	{ "ANALYZE FORMAT=JSON UPDATE t SET a = 1", F(READ) | F(WRITE), "" },
	{ "ANALYZE TABLE t", F(ADMIN), "" },
	{ "HELP 'SELECT'", F(READ), "" },

	/* writes */
	{ "INSERT INTO t (a) VALUES (1)", F(WRITE), "" },
	{ "INSERT INTO t SET a = 1", F(WRITE), "" },
	{ "INSERT IGNORE INTO db.t (a) SELECT b FROM u", F(WRITE), "" },
	{ "INSERT INTO t (a) SELECT b FROM u FOR UPDATE",
	  F(WRITE) | F(LOCKING_READ), "" },
	{ "INSERT INTO t VALUES (1) ON DUPLICATE KEY UPDATE a = VALUES(a) + 1",
	  F(WRITE), "" },
	{ "INSERT INTO t (`for`, `update`) VALUES ('FOR UPDATE', 'LOCK IN "
	  "SHARE MODE')", F(WRITE), "" },
	{ "REPLACE INTO t VALUES (1)", F(WRITE), "" },
	{ "UPDATE t SET a = a + 1 WHERE id = 5", F(WRITE), "" },
	{ "UPDATE LOW_PRIORITY IGNORE t1 JOIN t2 ON t1.a = t2.a SET t1.b = 1",
	  F(WRITE), "" },
	{ "UPDATE t SET a = myfunc(b)", F(WRITE) | F(STORED_FUNC), "" },
	{ "DELETE FROM t WHERE id = 5", F(WRITE), "" },
	{ "DELETE t1 FROM t1 JOIN t2 USING (a)", F(WRITE), "" },
	{ "DELETE FROM t RETURNING id", F(WRITE), "" },
	{ "LOAD DATA INFILE '/tmp/x' INTO TABLE t (a, @b) SET c = @b * 2",
	  F(WRITE) | F(USER_VAR_ASSIGN), "" },
	{ "LOAD DATA LOCAL INFILE 'x' INTO TABLE t", F(WRITE), "" },
	{ "LOAD XML INFILE 'x' INTO TABLE t", F(WRITE), "" },
	{ "LOAD INDEX INTO CACHE t", F(ADMIN), "" },

	/* transactions */
	{ "BEGIN", F(TXN_BEGIN), "" },
	{ "begin work", F(TXN_BEGIN), "" },
	{ "START TRANSACTION", F(TXN_BEGIN), "" },
	{ "START TRANSACTION READ ONLY", F(TXN_BEGIN) | F(TXN_READ_ONLY), "" },
	{ "START TRANSACTION WITH CONSISTENT SNAPSHOT, READ WRITE",
	  F(TXN_BEGIN), "" },
	{ "COMMIT", F(TXN_END), "" },
	{ "COMMIT WORK AND CHAIN", F(TXN_END) | F(TXN_BEGIN), "" },
	{ "COMMIT AND NO CHAIN RELEASE", F(TXN_END) | F(RELEASE), "" },
	{ "COMMIT NO RELEASE", F(TXN_END), "" },
	{ "ROLLBACK", F(TXN_END), "" },
	{ "ROLLBACK WORK", F(TXN_END), "" },
	{ "ROLLBACK TO SAVEPOINT s1", F(SAVEPOINT), "" },
	{ "ROLLBACK WORK TO s1", F(SAVEPOINT), "" },
	{ "SAVEPOINT s1", F(SAVEPOINT), "" },
	{ "RELEASE SAVEPOINT s1", F(SAVEPOINT), "" },
	{ "XA START 'x'", F(XA) | F(TXN_BEGIN), "" },
	{ "XA BEGIN 'x'", F(XA) | F(TXN_BEGIN), "" },
	{ "XA END 'x'", F(XA), "" },
	{ "XA PREPARE 'x'", F(XA), "" },
	{ "XA COMMIT 'x' ONE PHASE", F(XA) | F(TXN_END), "" },
	{ "XA ROLLBACK 'x'", F(XA) | F(TXN_END), "" },
	{ "XA RECOVER", F(XA) | F(SERVER_STATE), "" },
	{ "SET autocommit=0", F(SET_SYSVAR) | F(AUTOCOMMIT_OFF), "" },
	{ "SET autocommit = OFF", F(SET_SYSVAR) | F(AUTOCOMMIT_OFF), "" },
	{ "set @@autocommit=1", F(SET_SYSVAR) | F(AUTOCOMMIT_ON), "" },
	{ "SET SESSION autocommit = 'on'", F(SET_SYSVAR) | F(AUTOCOMMIT_ON), "" },
	{ "SET @@session.autocommit = FALSE", F(SET_SYSVAR) | F(AUTOCOMMIT_OFF),
	  "" },
	{ "SET LOCAL autocommit=TRUE", F(SET_SYSVAR) | F(AUTOCOMMIT_ON), "" },
	{ "SET autocommit = @x", F(SET_SYSVAR) | F(AUTOCOMMIT_ON) |
	  F(AUTOCOMMIT_OFF), "" },
	{ "SET GLOBAL autocommit = 0", F(ADMIN), "" },

	/* SET of user variables */
	{ "SET @a = 1", F(USER_VAR_SET), "@a=1" },
	{ "SET @a = 'x', @b = \"y\"", F(USER_VAR_SET), "@a=s:'x'; @b=s:\"y\"" },
	{ "SET @c = NULL, @d = -2.5e3, @e = X'41', @f = 0x42, @g = b'101', "
	  "@h = TRUE", F(USER_VAR_SET),
	  "@c=NULL; @d=-2.5e3; @e=X'41'; @f=0x42; @g=b'101'; @h=TRUE" },
	{ "SET @f = _utf8mb4'..' COLLATE utf8mb4_bin", F(USER_VAR_SET),
	  "@f=s:'..',cs=utf8mb4,coll=utf8mb4_bin" },
	{ "SET @f = 'x' COLLATE 'latin1_bin', @g = _binary X'00'",
	  F(USER_VAR_SET), "@f=s:'x',coll=latin1_bin; @g=_binary X'00'" },
	{ "SET @n = N'abc'", F(USER_VAR_SET), "@n=s:'abc',cs=utf8mb3" },
	{ "SET @s = 'a' 'b'", F(USER_VAR_SET), "@s=s:'a' 'b'" },
	{ "SET @a = - 5", F(USER_VAR_SET), "@a=- 5" },
	{ "SET @x := 5", F(USER_VAR_SET), "@x=5" },
	{ "SET @`a b` = 1, @'c''d' = 2, @\"e\" = 3, @f.g = 4, @$h = 5",
	  F(USER_VAR_SET), "@a b=1; @c'd=2; @e=3; @f.g=4; @$h=5" },
	{ "SET @x=1, @y=@x+1", F(USER_VAR_SET) | F(USER_VAR_ASSIGN), "@x=1" },
	{ "SET @a = (SELECT 1)", F(USER_VAR_ASSIGN), "" },
	{ "SET @a = @b", F(USER_VAR_ASSIGN), "" },
	{ "SET @a = 1 + 1", F(USER_VAR_ASSIGN), "" },
	{ "SET @a = 1e5x", F(USER_VAR_ASSIGN), "" },
	{ "SET @a = DEFAULT", F(USER_VAR_ASSIGN), "" },
	{ "SET @a = 1, sql_mode = ''", F(USER_VAR_SET) | F(SET_SYSVAR), "@a=1" },
	{ "SET NAMES utf8mb4, @a = 1", F(SET_NAMES) | F(USER_VAR_SET),
	  "names:utf8mb4; @a=1" },
	{ "SET @a = GET_LOCK('l', 0)", F(USER_VAR_ASSIGN) | F(GET_LOCK),
	  "lock:'l'" },
	{ "/*!40101 SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT */",
	  F(USER_VAR_ASSIGN), "" },
	{ "/*!40014 SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0 */",
	  F(USER_VAR_ASSIGN) | F(SET_SYSVAR), "" },

	/* other SETs */
	{ "SET NAMES utf8mb4", F(SET_NAMES), "names:utf8mb4" },
	/* a version-conditional comment: the items need the server's reading */
	{ "/*!40101 SET NAMES utf8mb4 */", F(SET_NAMES) | F(INEXACT), "" },
	{ "SET NAMES 'utf8mb4' COLLATE 'utf8mb4_unicode_ci'", F(SET_NAMES),
	  "names:utf8mb4/utf8mb4_unicode_ci" },
	{ "set names latin1 collate latin1_german2_ci", F(SET_NAMES),
	  "names:latin1/latin1_german2_ci" },
	{ "SET NAMES DEFAULT", F(SET_NAMES), "names:DEFAULT" },
	{ "SET CHARACTER SET latin1", F(SET_NAMES), "charset:latin1" },
	{ "SET CHARSET `utf8`", F(SET_NAMES), "charset:utf8" },
	{ "SET sql_mode = 'ANSI_QUOTES'", F(SET_SYSVAR), "" },
	{ "SET SESSION sql_mode = (SELECT 'x')", F(SET_SYSVAR), "" },
	{ "SET @@SESSION.sql_select_limit = DEFAULT", F(SET_SYSVAR), "" },
	{ "SET time_zone = '+00:00', `wait_timeout` = 10", F(SET_SYSVAR), "" },
	{ "SET session_track_state_change = OFF",
	  F(SET_SYSVAR) | F(SET_SESSION_TRACK), "" },
	{ "SET @@session.session_track_system_variables = 'autocommit'",
	  F(SET_SYSVAR) | F(SET_SESSION_TRACK), "" },
	{ "SET GLOBAL session_track_schema = OFF", F(ADMIN), "" },
	{ "SET GLOBAL max_connections = 100, wait_timeout = 10", F(ADMIN), "" },
	{ "SET GLOBAL max_connections = 100, SESSION wait_timeout = 10",
	  F(ADMIN) | F(SET_SYSVAR), "" },
	{ "SET @@global.max_connections = 100, wait_timeout = 10",
	  F(ADMIN) | F(SET_SYSVAR), "" },
	{ "SET TRANSACTION ISOLATION LEVEL READ COMMITTED", F(SET_SYSVAR), "" },
	{ "SET SESSION TRANSACTION READ ONLY", F(SET_SYSVAR), "" },
	{ "SET GLOBAL TRANSACTION ISOLATION LEVEL SERIALIZABLE", F(ADMIN), "" },
	{ "SET STATEMENT max_statement_time = 1 FOR SELECT * FROM t",
	  F(SET_STATEMENT) | F(READ), "" },
	{ "SET STATEMENT sort_buffer_size = 100000, optimizer_switch = "
	  "'mrr=on' FOR UPDATE t SET a = 1", F(SET_STATEMENT) | F(WRITE), "" },
	{ "SET STATEMENT max_statement_time=1 FOR SET @a = 1",
	  F(SET_STATEMENT) | F(USER_VAR_SET), "@a=1" },
	{ "SET STATEMENT max_statement_time=1 FOR SELECT SQL_CALC_FOUND_ROWS "
	  "* FROM t LIMIT 1", F(SET_STATEMENT) | F(READ) | F(CALC_FOUND_ROWS),
	  "" },
	{ "SET STATEMENT x = 1", F(SET_STATEMENT) | F(UNKNOWN), "" },
	{ "SET STATEMENT a=1 FOR SET STATEMENT b=2 FOR ANALYZE SELECT 1",
	  F(SET_STATEMENT) | F(READ), "" },
	{ "SET PASSWORD = PASSWORD('x')", F(DDL), "" },
	{ "SET PASSWORD FOR u = 'x'", F(DDL), "" },
	{ "SET ROLE admin", F(SET_ROLE), "" },
	{ "SET DEFAULT ROLE admin FOR u", F(DDL), "" },

	/* temporary tables, DDL */
	{ "CREATE TEMPORARY TABLE tmp (a INT)", F(TEMP_TABLE_CREATE),
	  "temp:tmp" },
	{ "CREATE TEMPORARY TABLE IF NOT EXISTS `db`.`t``x` LIKE t",
	  F(TEMP_TABLE_CREATE), "temp:db.t`x" },
	{ "CREATE OR REPLACE TEMPORARY TABLE tmp AS SELECT * FROM t",
	  F(TEMP_TABLE_CREATE), "temp:tmp" },
	{ "CREATE TEMPORARY TABLE tmp SELECT GET_LOCK('a', 0)",
	  F(TEMP_TABLE_CREATE) | F(GET_LOCK), "temp:tmp; lock:'a'" },
	{ "create temporary sequence s", F(TEMP_TABLE_CREATE), "temp:s" },
	{ "CREATE TABLE t (a INT DEFAULT (NEXTVAL(s)), b INT, PRIMARY KEY (a)) "
	  "PARTITION BY HASH (a)", F(DDL), "" },
	{ "CREATE TABLE t2 AS SELECT myf(a) FROM t FOR UPDATE",
	  F(DDL) | F(STORED_FUNC) | F(LOCKING_READ), "" },
	{ "CREATE VIEW v AS SELECT GET_LOCK('a', 0)", F(DDL), "" },
	{ "CREATE DATABASE d", F(DDL), "" },
	{ "CREATE INDEX i ON t (a)", F(DDL), "" },
	{ "CREATE USER 'u'@'%' IDENTIFIED BY 'p'", F(DDL), "" },
	{ "CREATE PROCEDURE p() BEGIN SELECT GET_LOCK('a', 0); END",
	  F(DDL) | F(UNKNOWN) | F(MULTI), "" },
	{ "DROP TABLE t", F(DDL) | F(TABLE_DROP), "drop:t" },
	{ "DROP TEMPORARY TABLE IF EXISTS t1, db.t2", F(TABLE_DROP),
	  "drop-temp:t1; drop-temp:db.t2" },
	{ "DROP TABLES IF EXISTS a, `b``c`, db . d WAIT 5 RESTRICT",
	  F(DDL) | F(TABLE_DROP), "drop:a; drop:b`c; drop:db.d" },
	{ "DROP TABLE /* keep */ t NOWAIT", F(DDL) | F(TABLE_DROP), "drop:t" },
	{ "DROP SEQUENCE s", F(DDL) | F(TABLE_DROP), "drop:s" },
	{ "DROP TABLE t garbage", F(DDL) | F(TABLE_DROP) | F(INEXACT),
	  "drop:t" },
	{ "DROP TABLE", F(DDL) | F(TABLE_DROP) | F(INEXACT), "" },
	{ "DROP DATABASE d", F(DDL), "" },
	{ "ALTER TABLE tmp RENAME TO tmp2", F(DDL) | F(TABLE_RENAME),
	  "rename:tmp>tmp2" },
	{ "ALTER TABLE t ADD COLUMN c INT, RENAME AS db.u",
	  F(DDL) | F(TABLE_RENAME), "rename:t>db.u" },
	{ "ALTER TABLE t RENAME COLUMN a TO b", F(DDL), "" },
	{ "ALTER TABLE t RENAME INDEX a TO b", F(DDL), "" },
	{ "RENAME TABLE a TO b, db.c TO db.d", F(DDL) | F(TABLE_RENAME),
	  "rename:a>b; rename:db.c>db.d" },
	{ "RENAME USER u TO v", F(DDL), "" },
	{ "TRUNCATE TABLE t", F(DDL), "" },
	{ "GRANT SELECT ON *.* TO u", F(DDL), "" },
	{ "REVOKE ALL ON *.* FROM u", F(DDL), "" },

	/* locks */
	{ "LOCK TABLES t READ, u WRITE", F(LOCK_TABLES), "" },
	{ "lock table t write", F(LOCK_TABLES), "" },
	{ "UNLOCK TABLES", F(UNLOCK_TABLES), "" },
	{ "FLUSH TABLES WITH READ LOCK", F(ADMIN) | F(FLUSH_TABLES_READ_LOCK),
	  "" },
	{ "FLUSH TABLES t1, t2 WITH READ LOCK",
	  F(ADMIN) | F(FLUSH_TABLES_READ_LOCK), "" },
	{ "FLUSH TABLE t FOR EXPORT", F(ADMIN) | F(FLUSH_TABLES_READ_LOCK), "" },
	{ "FLUSH PRIVILEGES", F(ADMIN), "" },
	{ "BACKUP STAGE START", F(BACKUP_LOCK), "" },
	{ "BACKUP STAGE END", F(BACKUP_UNLOCK), "" },
	{ "BACKUP LOCK t", F(BACKUP_LOCK), "" },
	{ "BACKUP UNLOCK", F(BACKUP_UNLOCK), "" },

	/* HANDLER, PREPARE */
	{ "HANDLER t OPEN", F(HANDLER), "hopen:t>t" },
	{ "HANDLER db.t OPEN AS h", F(HANDLER), "hopen:db.t>h" },
	{ "HANDLER t OPEN h", F(HANDLER), "hopen:t>h" },
	{ "HANDLER h READ FIRST WHERE a > 1", F(HANDLER), "" },
	{ "HANDLER h CLOSE", F(HANDLER), "hclose:h" },
	{ "PREPARE s FROM 'SELECT ?'", F(SQL_PREPARE), "prepare:s" },
	{ "PREPARE `s 1` FROM @sql", F(SQL_PREPARE), "prepare:s 1" },
	{ "EXECUTE s USING @a, @b", F(SQL_PREPARE) | F(CALL), "" },
	{ "EXECUTE IMMEDIATE 'SELECT 1'", F(CALL), "" },
	{ "DEALLOCATE PREPARE s", F(SQL_PREPARE), "dealloc:s" },
	{ "DROP PREPARE s", F(SQL_PREPARE), "dealloc:s" },

	/* USE, KILL, CALL, compound statements */
	{ "USE db", F(USE), "use:db" },
	{ "USE `my db`", F(USE), "use:my db" },
	{ "KILL 42", F(KILL), "kill:42" },
	{ "KILL CONNECTION 42", F(KILL), "kill:42" },
	{ "KILL QUERY 42", F(KILL), "kill:query:42" },
	{ "KILL SOFT QUERY ID 7", F(KILL), "kill:soft:query:id:7" },
	{ "KILL HARD CONNECTION 5", F(KILL), "kill:5" },
	{ "KILL USER 'u'@'localhost'", F(KILL), "kill:user:'u'@'localhost'" },
	{ "KILL CONNECTION_ID()", F(KILL) | F(CONNECTION_ID) | F(INEXACT),
	  "kill:0" },
	{ "KILL 18446744073709551615", F(KILL), "kill:18446744073709551615" },
	{ "KILL 18446744073709551616", F(KILL) | F(INEXACT), "kill:0" },
	{ "CALL p()", F(CALL), "" },
	{ "CALL db.p(@out)", F(CALL), "" },
	{ "BEGIN NOT ATOMIC SELECT 1; END", F(CALL) | F(UNKNOWN) | F(MULTI),
	  "" },
	{ "IF 1 THEN SELECT 1; END IF", F(CALL) | F(UNKNOWN) | F(MULTI), "" },
	{ "lbl: LOOP LEAVE lbl; END LOOP", F(CALL) | F(UNKNOWN) | F(MULTI), "" },
	{ "DO 1", 0, "" },
	{ "DO SLEEP(1)", 0, "" },

	/* administration, diagnostics */
	{ "OPTIMIZE TABLE t", F(ADMIN), "" },
	{ "CHECK TABLE t", F(ADMIN), "" },
	{ "RESET QUERY CACHE", F(ADMIN), "" },
	{ "PURGE BINARY LOGS TO 'x'", F(ADMIN), "" },
	{ "START SLAVE", F(ADMIN), "" },
	{ "STOP REPLICA", F(ADMIN), "" },
	{ "CHANGE MASTER TO MASTER_HOST='x'", F(ADMIN), "" },
	{ "SHUTDOWN", F(ADMIN), "" },
	{ "INSTALL SONAME 'ha_x'", F(ADMIN), "" },
	{ "GET DIAGNOSTICS @n = NUMBER", F(DIAGNOSTICS) | F(USER_VAR_ASSIGN),
	  "" },
	{ "GET DIAGNOSTICS CONDITION 1 @m = MESSAGE_TEXT",
	  F(DIAGNOSTICS) | F(USER_VAR_ASSIGN), "" },
	{ "SIGNAL SQLSTATE '45000'", 0, "" },

	/* multi-statements, empty texts, garbage */
	{ "SELECT 1; SELECT 2", F(READ) | F(MULTI), "" },
	{ "SELECT 1; UPDATE t SET a = 1", F(READ) | F(WRITE) | F(MULTI), "" },
	{ "SET @a = 1; SET @b = 'x'", F(USER_VAR_SET) | F(MULTI),
	  "@a=1; #1 @b=s:'x'" },
	{ "BEGIN; INSERT INTO t VALUES (1); COMMIT",
	  F(TXN_BEGIN) | F(WRITE) | F(TXN_END) | F(MULTI), "" },
	{ "SELECT 1;", F(READ), "" },
	{ "SELECT 1 -- ; SELECT GET_LOCK('a', 0)", F(READ), "" },
	{ "", 0, "" },
	{ "   ", 0, "" },
	{ "/* just a comment */", 0, "" },
	{ ";;", 0, "" },
	{ "garbage here", F(UNKNOWN), "" },
	{ "@x := 1", F(UNKNOWN), "" },
	{ ")(", F(UNKNOWN), "" },
	{ "'unterminated", F(UNKNOWN), "" },
	{ "SELECT 'unterminated", F(READ), "" },
	{ "SET", F(UNKNOWN), "" },
	{ "SET @", F(UNKNOWN), "" },
	{ "SET @a", F(UNKNOWN), "" },
	{ "SET @a = ", F(USER_VAR_ASSIGN), "" },
	{ "SET a b c", F(UNKNOWN), "" },
	{ "SET NAMES", F(SET_NAMES) | F(UNKNOWN), "" },
	{ "SELECT ((((", F(READ), "" },
	{ "SELECT GET_LOCK(", F(READ) | F(GET_LOCK), "" },
	{ "SELECT 'a\\', @x:=1, '\\'", F(READ) | F(USER_VAR_ASSIGN), "" },
	{ "SELECT a FROM t WHERE b = '\\'' OR @x := 1",
	  F(READ) | F(USER_VAR_ASSIGN), "" },
};

static void check(const struct want *w)
{
	struct sql_class c;
	int rc = sql_classify(&sp, w->sql, strlen(w->sql), NULL, &c);

	cr_assert_eq(rc, 0, "[%s]: rc %d", w->sql, rc);
	cr_expect_eq(c.flags, w->flags, "[%s]: flags %s, want %s", w->sql,
		     flags_str(c.flags), flags_str(w->flags));
	cr_expect_str_eq(items_str(&c, 0), w->items, "[%s]: items [%s], want [%s]",
			 w->sql, items_str(&c, 0), w->items);
}

Test(sql_classify, table, .init = setup, .fini = teardown)
{
	size_t n = sizeof(table) / sizeof(table[0]);

	cr_assert_geq(n, 150);
	for (size_t i = 0; i < n; i++)
		check(&table[i]);
}

/* A text with no statement: blank, ';' or a comment (the table's). */
static bool blank(const char *sql)
{
	return strspn(sql, " ;") == strlen(sql) ||
	       !strcmp(sql, "/* just a comment */");
}

/* "A\n;\nB" is classified as A and B joined: the flags of both (and MULTI
 * when both have a statement), the items of A then those of B. */
Test(sql_classify, a_command_is_its_statements_joined, .init = setup,
     .fini = teardown)
{
	size_t n = sizeof(table) / sizeof(table[0]);
	static char sql[8192], want_items[8192];
	struct sql_class a, b, ab;

	for (size_t i = 0; i + 1 < n; i++) {
		const char *x = table[i].sql, *y = table[i + 1].sql;
		uint64_t want;
		unsigned base;

		/* An unterminated quote would swallow the rest. */
		if (strstr(x, "unterminated"))
			continue;
		snprintf(sql, sizeof(sql), "%s\n;\n%s", x, y);
		cr_assert_eq(sql_classify(&sp, x, strlen(x), NULL, &a), 0);
		base = blank(x) ? 0 : a.nstmts;
		want = a.flags;
		snprintf(want_items, sizeof(want_items), "%s", items_str(&a, 0));
		cr_assert_eq(sql_classify(&sp, y, strlen(y), NULL, &b), 0);
		want |= b.flags;
		if (*want_items && b.nitems)
			strcat(want_items, "; ");
		strcat(want_items, items_str(&b, base));
		if (!blank(x) && !blank(y))
			want |= SQLC_MULTI;
		cr_assert_eq(sql_classify(&sp, sql, strlen(sql), NULL, &ab), 0);
		cr_expect_eq(ab.flags & ~SQLC_INEXACT, want & ~SQLC_INEXACT,
			     "[%s]: %s, want %s", sql, flags_str(ab.flags),
			     flags_str(want));
		if (!(ab.flags & SQLC_INEXACT))
			cr_expect_str_eq(items_str(&ab, 0), want_items,
					 "[%s]: items [%s], want [%s]", sql,
					 items_str(&ab, 0), want_items);
	}
}

static uint64_t classify(const char *sql, const struct sql_reading *rd,
			 struct sql_class *c)
{
	cr_assert_eq(sql_classify(&sp, sql, strlen(sql), rd, c), 0, "[%s]", sql);
	return c->flags;
}

static const struct sql_reading mariadb = {
	SQL_ESC_ALL, SQL_CS_BYTE, SQL_SERVER_MARIADB, 101119
};

/* A '\' in a string: the server reads 'it\'s' as "it's" by default and as
 * 'it\' followed by garbage under NO_BACKSLASH_ESCAPES.  Flags cover both;
 * items need to know which. */
Test(sql_classify, items_of_a_text_that_readings_differ_on, .init = setup,
     .fini = teardown)
{
	struct sql_reading nbe = mariadb;
	struct sql_class c;

	classify("SET @a = 'it\\'s'", NULL, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET) | F(USER_VAR_ASSIGN) | F(INEXACT),
		     "%s", flags_str(c.flags));
	cr_expect_eq(c.nitems, 0);

	classify("SET @a = 'it\\'s'", &mariadb, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET) | F(USER_VAR_ASSIGN), "%s",
		     flags_str(c.flags));
	cr_expect_str_eq(items_str(&c, 0), "@a=s:'it\\'s'");

	nbe.escapes = SQL_ESC_NONE;
	classify("SET @a = 'it\\'s'", &nbe, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET) | F(USER_VAR_ASSIGN), "%s",
		     flags_str(c.flags));
	cr_expect_str_eq(items_str(&c, 0), "");

	/* No '\' in a string: one reading, the items need no reading. */
	classify("SET @a = 'its'", NULL, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET));
	cr_expect_str_eq(items_str(&c, 0), "@a=s:'its'");
}

/* The whole assignment hides in a string under one reading only. */
Test(sql_classify, every_escape_mode_is_read, .init = setup,
     .fini = teardown)
{
	struct sql_class c;

	/* default: 'a\', @x:=1, ' is one string; no backslash escapes: 'a\'
	 * then the assignment */
	classify("SELECT 'a\\', @x:=1, 'b'", NULL, &c);
	cr_expect(c.flags & F(USER_VAR_ASSIGN), "%s", flags_str(c.flags));
	/* ANSI_QUOTES: "a\" is a name, and so is the rest */
	classify("SELECT \"a\\\", @x:=1, \"b\"", NULL, &c);
	cr_expect(c.flags & F(USER_VAR_ASSIGN), "%s", flags_str(c.flags));
}

/* In gbk, big5 and sjis a lead byte and '\' are one character: the '\'
 * escapes nothing, the string ends at the next quote. */
Test(sql_classify, multi_byte_character_sets_are_read, .init = setup,
     .fini = teardown)
{
	struct sql_reading gbk = mariadb;
	struct sql_class c;

	classify("SELECT '\x95\\', @x:=1, 'a'", NULL, &c);
	cr_expect(c.flags & F(USER_VAR_ASSIGN), "%s", flags_str(c.flags));
	/* ... and a lead byte and '@' are one character: "\x81@" is a name,
	 * "@x := 1" an assignment, where bytes read "@@x" */
	classify("SELECT \x81@@x := 1", NULL, &c);
	cr_expect(c.flags & F(USER_VAR_ASSIGN), "%s", flags_str(c.flags));

	gbk.charset = SQL_CS_GBK;
	classify("SET @a = '\x95\\', @b = 2", &gbk, &c);
	cr_expect_str_eq(items_str(&c, 0), "@a=s:'\x95\\'; @b=2");
	classify("SET @a = '\x95\\', @b = 2'", &mariadb, &c);
	cr_expect_str_eq(items_str(&c, 0), "@a=s:'\x95\\', @b = 2'");
}

/* What a version-conditional comment holds depends on the server. */
Test(sql_classify, executable_comments_follow_the_server, .init = setup,
     .fini = teardown)
{
	struct sql_reading mysql = { SQL_ESC_ALL, SQL_CS_BYTE,
				     SQL_SERVER_MYSQL, 80036 };
	struct sql_class c;

	/* MariaDB skips "/ *!50700 .. * /" (MySQL 5.7 syntax), MySQL runs
	 * it. */
	classify("/*!50700 SET @a = 1 */", NULL, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET) | F(INEXACT));
	classify("/*!50700 SET @a = 1 */", &mariadb, &c);
	cr_expect_eq(c.flags, F(USER_VAR_SET), "%s", flags_str(c.flags));
	cr_expect_eq(c.nitems, 0);
	classify("/*!50700 SET @a = 1 */", &mysql, &c);
	cr_expect_str_eq(items_str(&c, 0), "@a=1");

	/* mysqldump's header runs everywhere. */
	classify("/*!40101 SET NAMES utf8mb4 */", &mariadb, &c);
	cr_expect_eq(c.flags, F(SET_NAMES));
	cr_expect_str_eq(items_str(&c, 0), "names:utf8mb4");
	classify("/*M!100100 CREATE TEMPORARY TABLE t (a INT) */", &mysql, &c);
	cr_expect_eq(c.flags, F(TEMP_TABLE_CREATE));
	cr_expect_str_eq(items_str(&c, 0), "");
	classify("/*M!100100 CREATE TEMPORARY TABLE t (a INT) */", &mariadb, &c);
	cr_expect_str_eq(items_str(&c, 0), "temp:t");

	/* Any reading's locking clause counts. */
	classify("SELECT 1 /*!99999 FOR UPDATE */", &mariadb, &c);
	cr_expect(c.flags & F(LOCKING_READ));
}

/* A command that changes how its own later statements are read. */
Test(sql_classify, a_command_that_changes_its_reading_is_inexact,
     .init = setup, .fini = teardown)
{
	struct sql_class c;

	classify("SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SET @a = 'x\\'y'",
		 &mariadb, &c);
	cr_expect(c.flags & F(INEXACT), "%s", flags_str(c.flags));
	classify("SET NAMES gbk; SET @a = 'x\\'y'", &mariadb, &c);
	cr_expect(c.flags & F(INEXACT), "%s", flags_str(c.flags));
	/* Nothing to read differently: exact. */
	classify("SET sql_mode = 'NO_BACKSLASH_ESCAPES'; SET @a = 'xy'",
		 &mariadb, &c);
	cr_expect_eq(c.flags, F(SET_SYSVAR) | F(USER_VAR_SET) | F(MULTI));
	cr_expect_str_eq(items_str(&c, 0), "#1 @a=s:'xy'");
}

/* Under ANSI_QUOTES ".." is a name: a function, a table, a variable. */
Test(sql_classify, double_quoted_names, .init = setup, .fini = teardown)
{
	struct sql_reading ansi = mariadb;
	struct sql_class c;

	ansi.escapes = SQL_ESC_SINGLE;
	cr_expect(classify("SELECT \"GET_LOCK\"('a', 0)", NULL, &c) &
		  F(GET_LOCK));
	cr_expect(classify("SELECT \"myfunc\"(1)", &ansi, &c) & F(STORED_FUNC));
	classify("DROP TABLE \"t\", \"db\".\"u\"", &ansi, &c);
	cr_expect_str_eq(items_str(&c, 0), "drop:t; drop:db.u");
	classify("CREATE TEMPORARY TABLE \"a\"\"b\" (x INT)", NULL, &c);
	cr_expect_str_eq(items_str(&c, 0), "temp:a\"b");
	cr_expect(classify("SET \"autocommit\" = 0", NULL, &c) &
		  F(AUTOCOMMIT_OFF));
}

Test(sql_classify, too_many_items_is_inexact, .init = setup, .fini = teardown)
{
	static char sql[4096];
	struct sql_class c;
	size_t n = 0;

	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SET @v0 = 0");
	for (int i = 1; i <= SQLC_MAX_ITEMS; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, ", @v%d = %d",
				      i, i);
	classify(sql, NULL, &c);
	cr_expect_eq(c.nitems, SQLC_MAX_ITEMS);
	cr_expect_eq(c.flags, F(USER_VAR_SET) | F(INEXACT), "%s",
		     flags_str(c.flags));

	/* Names that need unquoting share a bounded buffer. */
	n = (size_t)snprintf(sql, sizeof(sql), "DROP TABLE ");
	for (int i = 0; i < 6; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
				      "%s`%0100d``x`", i ? ", " : "", i);
	classify(sql, NULL, &c);
	cr_expect(c.flags & F(INEXACT), "%s", flags_str(c.flags));
	cr_expect_eq(c.items[0].name.len, 102);
	cr_expect_eq(c.items[0].name.ptr[101], 'x');
}

/* Items point into the text when nothing needs unquoting. */
Test(sql_classify, names_point_into_the_text, .init = setup, .fini = teardown)
{
	const char *sql = "DROP TABLE `a`, b, `c``d`";
	struct sql_class c;

	classify(sql, NULL, &c);
	cr_assert_eq(c.nitems, 3);
	cr_expect_eq(c.items[0].name.ptr, sql + 12);
	cr_expect_eq(c.items[1].name.ptr, sql + 16);
	cr_expect(c.items[2].name.ptr < sql || c.items[2].name.ptr >= sql + 25);
	cr_expect_eq(c.items[1].stmt, 0);
}

Test(sql_classify, read_only, .init = setup, .fini = teardown)
{
	static const char *const yes[] = {
		"SELECT c FROM sbtest1 WHERE id=5",
		"select * from t where a in (select b from u)",
		"SELECT LAST_INSERT_ID()",
		"SELECT @a, @@session.sql_mode",
		"SHOW TABLES", "DESCRIBE t", "EXPLAIN SELECT * FROM t",
		"SELECT 1; SELECT 2", "VALUES (1)",
		"WITH c AS (SELECT 1) SELECT * FROM c",
		"/* hint */ SELECT SLEEP(0), NOW(), RAND()",
	};
	static const char *const no[] = {
		"", "DO 1", "garbage", "SELECT * FROM t FOR UPDATE",
		"SELECT * FROM t LOCK IN SHARE MODE", "SELECT 1 INTO @a",
		"SELECT @a := 1", "SELECT NEXTVAL(s)", "SELECT GET_LOCK('a', 0)",
		"SELECT FOUND_ROWS()", "SELECT SQL_CALC_FOUND_ROWS * FROM t",
		"SELECT ROW_COUNT()", "SELECT CONNECTION_ID()",
		"SELECT f(1)", "SELECT @@global.read_only", "SHOW WARNINGS",
		"SHOW SLAVE STATUS", "CALL p()", "INSERT INTO t VALUES (1)",
		"SELECT 1; INSERT INTO t VALUES (1)", "SET @a = 1",
		"BEGIN", "SELECT LAST_INSERT_ID(5)", "ANALYZE UPDATE t SET a=1",
		"WITH c AS (SELECT 1) DELETE FROM t", "SELECT IS_FREE_LOCK('a')",
		"SELECT 1 /*!99999 FOR UPDATE */",
	};
	struct sql_class c;

	for (size_t i = 0; i < sizeof(yes) / sizeof(yes[0]); i++) {
		classify(yes[i], NULL, &c);
		cr_expect(sql_class_read_only(&c), "[%s] %s", yes[i],
			  flags_str(c.flags));
	}
	for (size_t i = 0; i < sizeof(no) / sizeof(no[0]); i++) {
		classify(no[i], NULL, &c);
		cr_expect(!sql_class_read_only(&c), "[%s] %s", no[i],
			  flags_str(c.flags));
	}
}

/* The built-in function table is searched by bisection: names from both
 * ends and the middle must be found, and every function with an effect
 * must give its flag. */
Test(sql_classify, builtin_functions, .init = setup, .fini = teardown)
{
	static const char *const builtin[] = {
		"ABS", "ACCESSIBLE", "ACOS", "AGAINST", "COLUMNS", "CONCAT",
		"JSON_ARRAYAGG", "MOD", "NOW", "ST_Y", "UUID", "X", "XOR",
		"Y", "YEAR", "YEARWEEK", "COUNT", "GROUP_CONCAT", "JSON_TABLE",
	};
	static const char *const stored[] = {
		"AAA", "ZZZ", "A", "Z", "STATUS", "FORMAT_PICO_TIME", "KDF",
		"UUID_V7", "_ROWID", "ABSX", "YEARWEEKS",
		"A_VERY_LONG_FUNCTION_NAME_THAT_IS_NOT_A_BUILTIN",
	};
	static const struct { const char *fn; uint64_t flag; } effect[] = {
		{ "BINLOG_GTID_POS", F(SERVER_STATE) },
		{ "CONNECTION_ID", F(CONNECTION_ID) },
		{ "FOUND_ROWS", F(FOUND_ROWS) },
		{ "GET_LOCK", F(GET_LOCK) },
		{ "IS_FREE_LOCK", F(SERVER_STATE) },
		{ "IS_USED_LOCK", F(SERVER_STATE) },
		{ "LASTVAL", F(SEQUENCE) },
		{ "LAST_INSERT_ID", F(LAST_INSERT_ID_GET) },
		{ "LOAD_FILE", F(SERVER_STATE) },
		{ "MASTER_GTID_WAIT", F(SERVER_STATE) },
		{ "MASTER_POS_WAIT", F(SERVER_STATE) },
		{ "NEXTVAL", F(SEQUENCE) },
		{ "RELEASE_ALL_LOCKS", F(RELEASE_ALL_LOCKS) },
		{ "RELEASE_LOCK", F(RELEASE_LOCK) },
		{ "ROW_COUNT", F(ROW_COUNT) },
		{ "SETVAL", F(SEQUENCE) },
		{ "WSREP_LAST_SEEN_GTID", F(SERVER_STATE) },
		{ "WSREP_LAST_WRITTEN_GTID", F(SERVER_STATE) },
		{ "WSREP_SYNC_WAIT_UPTO_GTID", F(SERVER_STATE) },
	};
	struct sql_class c;
	char sql[256];

	for (size_t i = 0; i < sizeof(builtin) / sizeof(builtin[0]); i++) {
		snprintf(sql, sizeof(sql), "DO %s()", builtin[i]);
		cr_expect_eq(classify(sql, NULL, &c), 0, "[%s] %s", sql,
			     flags_str(c.flags));
		snprintf(sql, sizeof(sql), "DO lower(%s())", builtin[i]);
		cr_expect_eq(classify(sql, NULL, &c), 0, "[%s] %s", sql,
			     flags_str(c.flags));
	}
	for (size_t i = 0; i < sizeof(stored) / sizeof(stored[0]); i++) {
		snprintf(sql, sizeof(sql), "DO %s()", stored[i]);
		cr_expect_eq(classify(sql, NULL, &c), F(STORED_FUNC), "[%s] %s",
			     sql, flags_str(c.flags));
	}
	for (size_t i = 0; i < sizeof(effect) / sizeof(effect[0]); i++) {
		snprintf(sql, sizeof(sql), "DO %s()", effect[i].fn);
		cr_expect_eq(classify(sql, NULL, &c) & ~F(INEXACT),
			     effect[i].flag, "[%s] %s", sql, flags_str(c.flags));
	}
}

static const char *value(const char *lit, const struct sql_reading *rd)
{
	static char out[256];
	size_t n = sql_string_value(lit, strlen(lit), rd, out, sizeof(out) - 1);

	if (n == (size_t)-1)
		return "(not a string)";
	cr_assert_lt(n, sizeof(out));
	out[n] = '\0';
	return out;
}

Test(sql_classify, string_values)
{
	struct sql_reading nbe = mariadb, ansi = mariadb, gbk = mariadb;
	char small[4];

	nbe.escapes = SQL_ESC_NONE;
	ansi.escapes = SQL_ESC_SINGLE;
	gbk.charset = SQL_CS_GBK;
	cr_expect_str_eq(value("'abc'", &mariadb), "abc");
	cr_expect_str_eq(value("'it''s'", &mariadb), "it's");
	cr_expect_str_eq(value("\"say \"\"hi\"\"\"", &mariadb), "say \"hi\"");
	cr_expect_str_eq(value("'a\\'b\\\"c'", &mariadb), "a'b\"c");
	cr_expect_str_eq(value("'\\n\\t\\r\\b\\Z\\\\\\x'", &mariadb),
			 "\n\t\r\b\x1a\\x");
	cr_expect_str_eq(value("'\\%\\_'", &mariadb), "\\%\\_");
	cr_expect_eq(sql_string_value("'\\0'", 4, &mariadb, small, 4), 1);
	cr_expect_eq(small[0], '\0');
	cr_expect_str_eq(value("'a' 'b'  \"c\"", &mariadb), "abc");
	cr_expect_str_eq(value("'a\\b'", &nbe), "a\\b");
	cr_expect_str_eq(value("'a\\'", &nbe), "a\\");
	cr_expect_str_eq(value("'a\\'b'", &ansi), "a'b");
	cr_expect_str_eq(value("\"a\"", &ansi), "(not a string)");
	cr_expect_str_eq(value("'\x95\\'", &gbk), "\x95\\");
	cr_expect_str_eq(value("'abc", &mariadb), "(not a string)");
	cr_expect_str_eq(value("", &mariadb), "(not a string)");
	cr_expect_str_eq(value("abc", &mariadb), "(not a string)");
	cr_expect_str_eq(value("'a' b", &mariadb), "(not a string)");
	/* Too small a buffer: the length needed, what fits written. */
	cr_expect_eq(sql_string_value("'abcdef'", 8, &mariadb, small, 4), 6);
	cr_expect_eq(memcmp(small, "abcd", 4), 0);
}

Test(sql_classify, reading_for_session)
{
	struct sql_reading rd;
	const char *m1 = "STRICT_TRANS_TABLES,ANSI_QUOTES,NO_ENGINE_SUBSTITUTION";
	const char *m2 = "NO_BACKSLASH_ESCAPES";
	const char *m3 = "ansi_quotes,no_backslash_escapes";
	const char *m4 = "NO_ANSI_QUOTES_X,XNO_BACKSLASH_ESCAPES";

	sql_reading_for_session(&rd, NULL, 0, NULL, 0, SQL_SERVER_MARIADB,
				101119);
	cr_expect(rd.escapes == SQL_ESC_ALL && rd.charset == SQL_CS_BYTE &&
		  rd.server == SQL_SERVER_MARIADB && rd.version == 101119);
	sql_reading_for_session(&rd, m1, strlen(m1), "utf8mb4", 7,
				SQL_SERVER_MARIADB, 101119);
	cr_expect(rd.escapes == SQL_ESC_SINGLE && rd.charset == SQL_CS_BYTE);
	sql_reading_for_session(&rd, m2, strlen(m2), "GBK", 3,
				SQL_SERVER_MARIADB, 101119);
	cr_expect(rd.escapes == SQL_ESC_NONE && rd.charset == SQL_CS_GBK);
	sql_reading_for_session(&rd, m3, strlen(m3), "cp932", 5,
				SQL_SERVER_MYSQL, 80036);
	cr_expect(rd.escapes == SQL_ESC_NONE && rd.charset == SQL_CS_SJIS);
	sql_reading_for_session(&rd, m4, strlen(m4), "big5", 4,
				SQL_SERVER_MARIADB, 101119);
	cr_expect(rd.escapes == SQL_ESC_ALL && rd.charset == SQL_CS_BIG5);
	sql_reading_for_session(&rd, "", 0, "gb18030", 7, SQL_SERVER_MARIADB,
				101119);
	cr_expect(rd.charset == SQL_CS_GBK);
}

Test(sql_classify, flag_names)
{
	char buf[32];

	cr_expect_eq(sql_class_flags_str(0, buf, sizeof(buf)), 0);
	cr_expect_str_eq(buf, "");
	cr_expect_eq(sql_class_flags_str(F(READ) | F(LOCKING_READ), buf,
					 sizeof(buf)), 17);
	cr_expect_str_eq(buf, "READ|LOCKING_READ");
	cr_expect_eq(sql_class_flags_str(F(INEXACT), buf, sizeof(buf)), 7);
	cr_expect_str_eq(buf, "INEXACT");
	/* Truncated at a name's end; the length needed all the same. */
	cr_expect_eq(sql_class_flags_str(F(READ) | F(USER_VAR_ASSIGN) |
					 F(SET_SESSION_TRACK), buf, 20), 38);
	cr_expect_str_eq(buf, "READ");
}

/* What cannot be split is classified as unknown. */
Test(sql_classify, unsplittable_text, .init = setup, .fini = teardown)
{
	static char sql[4096];
	struct sql_class c;
	size_t n = 0;

	/* More kinds of version-conditional comment than sql_split reads. */
	for (int i = 0; i <= SQL_MAX_CLASSES; i++)
		n += (size_t)snprintf(sql + n, sizeof(sql) - n,
				      "/*!%d SELECT 1 */ ", 50000 + i);
	cr_expect_eq(sql_classify(&sp, sql, n, NULL, &c), SQL_SPLIT_AMBIGUOUS);
	cr_expect_eq(c.flags, F(UNKNOWN) | F(INEXACT));
	cr_expect_eq(c.nitems, 0);
}

/* Statements inside statements nest only so deep: a long enough text
 * would otherwise exhaust the stack. */
Test(sql_classify, nesting_is_bounded, .init = setup, .fini = teardown)
{
	static char sql[1 << 20];
	struct sql_class c;
	size_t n = 0;

	while (n + 16 < sizeof(sql))
		n += (size_t)snprintf(sql + n, sizeof(sql) - n, "ANALYZE ");
	n += (size_t)snprintf(sql + n, sizeof(sql) - n, "SELECT 1");
	cr_assert_eq(sql_classify(&sp, sql, n, NULL, &c), 0);
	cr_expect_eq(c.flags, F(READ) | F(UNKNOWN), "%s", flags_str(c.flags));
}
