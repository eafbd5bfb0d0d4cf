/*
 * mysql_state.h - a client session's state as data, for connection pooling.
 *
 * Pure: no I/O.  A pooled backend connection is lent to a client session
 * for a transaction; to keep the client's session exact, myring keeps what
 * the session changed (schema, character sets, system variables, user
 * variables, LAST_INSERT_ID(), the multi-statements option) and replays
 * it on whichever connection the session borrows next.
 *
 * What changed is read from the session-state block of OK packets: the
 * backend connections negotiate CLIENT_SESSION_TRACK and run
 *
 *   SET session_track_system_variables='*', session_track_schema=ON,
 *       session_track_state_change=ON,
 *       session_track_transaction_info=CHARACTERISTICS
 *
 * (MYSQL_STATE_TRACKING_SQL) and CLIENT_DEPRECATE_EOF, so that every
 * response, result sets included, ends with an OK that can carry state:
 * an EOF packet carries the SERVER_SESSION_STATE_CHANGED flag but no
 * entries.  What the tracker does and does not report on MariaDB 10.11 is
 * in docs/architecture.md, "Session state and prepared statements
 * (pooling)": a statement classifier must add what it misses (user
 * variables, temporary tables, GET_LOCK, HANDLER, SET STATEMENT ...).
 *
 * Memory is bounded: the limits below.  A state that would exceed one is
 * marked overflowed and can no longer be replayed (the caller pins the
 * session to its backend connection).
 */
#ifndef MYRING_MYSQL_STATE_H
#define MYRING_MYSQL_STATE_H

#include "mysql_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MYSQL_STATE_TRACKING_SQL                                               \
	"SET session_track_system_variables='*', session_track_schema=ON, "    \
	"session_track_state_change=ON, "                                      \
	"session_track_transaction_info=CHARACTERISTICS"

/* ---- the session-state block of an OK packet ------------------------ */

enum mysql_track_type {
	SESSION_TRACK_SYSTEM_VARIABLES = 0,    /* name, value */
	SESSION_TRACK_SCHEMA = 1,              /* name ("" once it is dropped) */
	SESSION_TRACK_STATE_CHANGE = 2,        /* "1" */
	SESSION_TRACK_GTIDS = 3,               /* MySQL: spec, GTID set */
	SESSION_TRACK_TRANSACTION_CHARACTERISTICS = 4, /* SQL text */
	SESSION_TRACK_TRANSACTION_STATE = 5,   /* 8 characters */
};

/* One entry: type(1) length(lenenc) data.  The data's layout by type:
 * SYSTEM_VARIABLES name(lenenc str) value(lenenc str); SCHEMA, TRANSACTION_*
 * one lenenc string; GTIDS spec(lenenc int) set(lenenc str); STATE_CHANGE
 * the byte '1'.  Unknown types are returned with only data filled. */
struct mysql_track_entry {
	uint8_t type;
	struct mysql_str data;   /* the entry's bytes after its length */
	struct mysql_str name;   /* SYSTEM_VARIABLES: variable; SCHEMA: schema */
	struct mysql_str value;  /* SYSTEM_VARIABLES: value; GTIDS: the set;
	                          * TRANSACTION_*: the text; others: data */
	size_t off, len;         /* the whole entry within the block */
};

struct mysql_track_iter {
	const uint8_t *p;
	size_t len, pos;
};

static inline void mysql_track_iter_init(struct mysql_track_iter *it,
					 struct mysql_str block)
{
	it->p = (const uint8_t *)block.ptr;
	it->len = block.len;
	it->pos = 0;
}

/* Next entry: 1 with e filled, 0 at the end, -1 if the block is malformed
 * (an entry longer than the block, a known type whose data does not hold
 * exactly its fields).  Never reads outside the block. */
int mysql_track_next(struct mysql_track_iter *it, struct mysql_track_entry *e);

/* ---- what a client sees ---------------------------------------------- */

/* A session's own session_track_* settings: which entries it asked for. */
enum { TRACK_TRX_OFF, TRACK_TRX_STATE, TRACK_TRX_CHARACTERISTICS };

#define MYSQL_TRACK_VARS_MAX 512   /* bytes of session_track_system_variables */

struct mysql_track_cfg {
	bool schema;
	bool state_change;
	uint8_t trx_info;          /* TRACK_TRX_* */
	bool gtids;                /* session_track_gtids (MySQL) not OFF */
	bool all_vars;             /* '*' in the list */
	uint16_t vars_len;
	char vars[MYSQL_TRACK_VARS_MAX + 1]; /* lower case, ',' separated */
};

/* MariaDB 10.11's compiled-in defaults: schema ON, state change OFF,
 * transaction info OFF, "autocommit,character_set_client,
 * character_set_connection,character_set_results,time_zone".  A caller
 * that knows the server's global values sets them with
 * mysql_track_cfg_set(). */
void mysql_track_cfg_default(struct mysql_track_cfg *cfg);
/* Sets one session_track_* variable from its value as the server reports
 * it.  Returns 1 if name is one of them, 0 if not, -1 if the value is not
 * understood or too long (cfg unchanged). */
int mysql_track_cfg_set(struct mysql_track_cfg *cfg, const char *name,
			size_t name_len, const char *value, size_t value_len);
/* Whether a client with this configuration is shown the entry. */
bool mysql_track_cfg_keeps(const struct mysql_track_cfg *cfg,
			   const struct mysql_track_entry *e);

/*
 * Rewrites an OK payload in place for a client: keeps the session-state
 * entries cfg asks for (NULL: none), rewrites the block's length, and when
 * none is left drops the block, clears SERVER_SESSION_STATE_CHANGED and,
 * if the info is empty too, the info (as a server does).  When cfg keeps
 * every entry the packet stays as it is (an empty block included).  caps
 * are the
 * backend connection's.  Returns the new payload length (never more than
 * len), or -1 if the payload is not a well-formed OK (left unchanged).
 * A payload without a block is returned as is (with the flag cleared when
 * cfg is NULL).
 */
long mysql_ok_filter_session_track(uint8_t *payload, size_t len,
				   uint64_t caps,
				   const struct mysql_track_cfg *cfg);
/* For a client that did not negotiate CLIENT_SESSION_TRACK: drops the
 * block and clears the flag.  The info stays length-encoded: servers send
 * it so to such clients too. */
static inline long mysql_ok_strip_session_track(uint8_t *payload, size_t len,
						 uint64_t caps)
{
	return mysql_ok_filter_session_track(payload, len, caps, NULL);
}

/* ---- the session's state --------------------------------------------- */

#define MYSQL_STATE_MAX_VARS      64     /* system variables changed */
#define MYSQL_STATE_MAX_USER_VARS 64     /* user variables known */
#define MYSQL_STATE_MAX_NAME      64     /* bytes of a variable's name */
#define MYSQL_STATE_MAX_VALUE     4096   /* bytes of a value or literal
                                          * (optimizer_switch: ~1.1 KB) */
#define MYSQL_STATE_MAX_BYTES     32768  /* heap bytes of one state */
#define MYSQL_STATE_MAX_SCHEMA    256    /* 64 characters, 4 bytes each */

struct mysql_state_var {
	char *name;          /* NUL-terminated; system variables lower case */
	char *value;         /* NUL-terminated; NULL for SQL NULL */
	uint16_t name_len;
	uint32_t value_len;
};

struct mysql_sess_state {
	/* System variables the session changed, value as the server reported
	 * it; absent means the server's default.  The character sets are
	 * here too (character_set_client, _results, _connection,
	 * collation_connection). */
	struct mysql_state_var *vars;
	/* User variables whose values are known exactly: name -> a SQL
	 * literal that means the same under any sql_mode and character set
	 * (mysql_sql_string_literal). */
	struct mysql_state_var *user_vars;
	uint16_t n_vars, cap_vars, n_user_vars, cap_user_vars;
	uint32_t bytes;          /* heap bytes held */
	uint64_t last_insert_id; /* what LAST_INSERT_ID() returns (see apply) */
	char last_gtid[64];      /* the GTID of its last commit (MariaDB's
	                          * last_gtid), "" if none: not replayed,
	                          * for causal reads */
	bool has_schema;         /* a default database is selected */
	bool multi_statements;   /* CLIENT_MULTI_STATEMENTS / COM_SET_OPTION */
	bool overflow;           /* a limit was hit: cannot be replayed */
	bool trx_chars_pending;  /* TRANSACTION_CHARACTERISTICS non-empty */
	char trx_state[8];       /* TRANSACTION_STATE, "________" when idle */
	uint16_t schema_len;
	char schema[MYSQL_STATE_MAX_SCHEMA + 1];
	struct mysql_track_cfg track; /* the session's own session_track_* */
};

void mysql_state_init(struct mysql_sess_state *st);
void mysql_state_free(struct mysql_sess_state *st);
/* Makes dst (initialised) a deep copy of src.  -1 on allocation failure
 * (dst is then empty and overflowed). */
int mysql_state_copy(struct mysql_sess_state *dst,
		     const struct mysql_sess_state *src);

/* Records a system variable (value NULL: SQL NULL), e.g. what a statement
 * classifier knows and the tracker does not report (collation_connection
 * after SET NAMES x COLLATE y).  The name is stored lower case and must be
 * an identifier ([A-Za-z0-9_$]).  -1 if it does not fit the limits (the
 * state is then overflowed) or the name is invalid. */
int mysql_state_set_var(struct mysql_sess_state *st, const char *name,
			size_t name_len, const char *value, size_t value_len);
const struct mysql_state_var *mysql_state_get_var(
	const struct mysql_sess_state *st, const char *name);
/* Records a user variable (without the '@'; 1 to 64 bytes, no NUL) as a
 * non-empty SQL literal; literal NULL forgets it (the caller no longer
 * knows its value: pin instead). */
int mysql_state_set_user_var(struct mysql_sess_state *st, const char *name,
			     size_t name_len, const char *literal,
			     size_t literal_len);
/* Sets the default database; NULL or len 0: none.  -1 if too long. */
int mysql_state_set_schema(struct mysql_sess_state *st, const char *schema,
			   size_t len);
/* What the handshake's collation id sets: character_set_client, _results
 * and _connection to its character set, collation_connection to the id
 * (the server accepts a collation's number there).  -1 for an id this
 * table does not know or the server refuses as a client character set
 * (ucs2, utf16, utf32): MariaDB 10.11's ids below 256. */
int mysql_state_seed_charset(struct mysql_sess_state *st, uint8_t collation);
/* The character set of a collation id, or NULL. */
const char *mysql_charset_of_collation(uint8_t collation);

/* No transaction, no LOCK TABLES, no pending SET TRANSACTION: as far as
 * the tracker says, the connection could be given back. */
bool mysql_state_trx_idle(const struct mysql_sess_state *st);
/* The transaction ended by a command of myring's own on the session's
 * connection (a distributed COMMIT or ROLLBACK), whose answer the session
 * did not read: its transaction state is idle again. */
void mysql_state_trx_ended(struct mysql_sess_state *st);

/* ---- applying an OK ---------------------------------------------------- */

/* What mysql_state_apply() saw (a bit set). */
#define MYSQL_STATE_SCHEMA        0x0001 /* schema changed (or reported) */
#define MYSQL_STATE_VARS          0x0002 /* a replayable variable changed */
#define MYSQL_STATE_CHARSET       0x0004 /* character_set_connection was
                                          * reported without
                                          * collation_connection: the
                                          * collation is taken to be the
                                          * charset's default; a classifier
                                          * that saw COLLATE corrects it */
#define MYSQL_STATE_TRX           0x0008 /* transaction state/characteristics */
#define MYSQL_STATE_UNEXPLAINED   0x0010 /* STATE_CHANGE with no variable or
                                          * schema entry (user variable,
                                          * temporary table, PREPARE, ...),
                                          * or an entry of an unknown type */
#define MYSQL_STATE_PIN           0x0020 /* a variable that cannot be
                                          * replayed was set (timestamp,
                                          * insert_id, rand_seed1/2,
                                          * gtid_seq_no) */
#define MYSQL_STATE_TRACKING      0x0040 /* a session_track_* variable was
                                          * set: myring's tracking on that
                                          * connection must be restored */
#define MYSQL_STATE_OVERFLOW      0x0080 /* a limit was hit */
#define MYSQL_STATE_INSERT_ID     0x0100 /* last_insert_id changed */
#define MYSQL_STATE_GTIDS         0x0200 /* a GTIDS entry (MySQL) */
#define MYSQL_STATE_GTID          0x0400 /* last_gtid reported (MariaDB):
                                          * the session's last commit */

/* Options of mysql_state_apply(). */
#define MYSQL_APPLY_SKIP_VARS     0x01 /* SET STATEMENT v=x FOR ...: the OK
                                        * reports v=x though v is restored
                                        * after the statement */
#define MYSQL_APPLY_NO_INSERT_ID  0x02 /* ignore the OK's last insert id */

/*
 * Applies one OK packet (already parsed, mysql_parse_ok_ext) to st.
 * Validates the whole block first: -1 if malformed, st unchanged.
 * Otherwise returns MYSQL_STATE_* flags.
 *
 * Not a proof of anything the flags do not say: a STATE_CHANGE next to a
 * variable entry (SET @x=1, sql_mode='') looks explained, and some
 * changes are reported by nothing at all (SELECT @x:=1, GET_LOCK, HANDLER
 * OPEN, NEXTVAL, SELECT LAST_INSERT_ID(5)); the caller's classifier
 * decides on those.  A nonzero last insert id in the OK becomes
 * last_insert_id (exact for generated ids and LAST_INSERT_ID(expr) in an
 * UPDATE/INSERT; an INSERT with an explicit id reports it although
 * LAST_INSERT_ID() keeps its old value).
 */
int mysql_state_apply(struct mysql_sess_state *st,
		      const struct mysql_ok_ext *ok, unsigned opts);
/* Parses (caps: the backend connection's) and applies. */
int mysql_state_apply_ok(struct mysql_sess_state *st, const uint8_t *payload,
			 size_t len, uint64_t caps, unsigned opts);

/* ---- replaying ----------------------------------------------------------- */

#define MYSQL_REPLAY_MAX_CMDS 3

/* Complete command payloads (command byte first) to send in order: any of
 * COM_SET_OPTION, COM_QUERY (one SET statement), COM_INIT_DB.  They can be
 * pipelined; each answers OK (COM_SET_OPTION: EOF) or ERR. */
struct mysql_replay {
	unsigned n;
	struct {
		const uint8_t *payload; /* into the caller's buffer */
		size_t len;
	} cmd[MYSQL_REPLAY_MAX_CMDS];
};

enum {
	MYSQL_REPLAY_OK = 0,
	MYSQL_REPLAY_NOSPACE = -1,  /* buf too small */
	MYSQL_REPLAY_CANNOT = -2,   /* want cannot be reached from have */
};

/* Bytes mysql_state_diff_sql() may need for these two states. */
size_t mysql_state_replay_bound(const struct mysql_sess_state *want,
				const struct mysql_sess_state *have);

/*
 * The commands that make a connection whose state is `have` equal to
 * `want`, written into buf.  Variables `have` changed that `want` did not
 * are set back with = DEFAULT, user variables `want` does not know become
 * NULL.  MYSQL_REPLAY_CANNOT when either state overflowed, `want` has no
 * default database but `have` has one (nothing unselects it), or a
 * non-ASCII schema cannot be sent while character_set_client is utf8 (the
 * tracker reports the name in utf8, COM_INIT_DB reads it in
 * character_set_client).  out->n == 0: nothing to do.  After the commands
 * succeed, the caller copies want into have; if one fails, the connection
 * is in an unknown state: close it.
 */
int mysql_state_diff_sql(const struct mysql_sess_state *want,
			 const struct mysql_sess_state *have,
			 struct mysql_replay *out, uint8_t *buf, size_t cap);

/* ---- SQL literals ---------------------------------------------------- */

/* These write at most cap bytes and return the length the whole text
 * needs (like snprintf, without a NUL): call again with more room if the
 * result is > cap. */

/* A system variable's value as the server reports it: a number unquoted,
 * plain text in single quotes, anything with a quote, backslash, control
 * or non-ASCII byte as X'hex' (the same under ANSI_QUOTES and
 * NO_BACKSLASH_ESCAPES). */
size_t mysql_sql_value_literal(char *out, size_t cap, const char *v,
			       size_t len);
/* A string in a character set and collation, for user variables:
 * _cs'text' COLLATE coll, or _cs X'hex' COLLATE coll when the text has
 * anything a mode could read differently.  collation may be NULL. */
size_t mysql_sql_string_literal(char *out, size_t cap, const char *v,
				size_t len, const char *charset,
				const char *collation);

#endif
