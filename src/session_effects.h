/*
 * session_effects.h - what a pooled session's statements leave on its
 * server connection, read from their text (sql_classify.h) before they
 * are sent and recorded once their response says they ran.
 *
 * The server reports most of a session's changes itself (session
 * tracking, session_track.c).  What it does not report, or reports only
 * as "something changed", is read here:
 *  - state myring can carry to another connection: user variables set to
 *    literals (SET @a = 5), the collation of SET NAMES x COLLATE y;
 *  - state that lives on the connection and pins the session to it while
 *    it exists: temporary tables, GET_LOCK() locks, LOCK TABLES, open
 *    HANDLERs, SQL-level PREPAREs, an XA transaction, SQL_CALC_FOUND_ROWS
 *    for the next statement.  These are tracked by name, so that DROP,
 *    RELEASE_LOCK, UNLOCK TABLES, HANDLER CLOSE, DEALLOCATE end the pin;
 *  - state that pins until the session is reset, because myring cannot
 *    know its value or its end: a user variable set to an expression,
 *    LAST_INSERT_ID(expr), sequences, SET ROLE, anything it cannot read
 *    exactly.
 * Procedures and stored functions run code myring does not see: the
 * connection is reset before anyone else gets it.
 */
#ifndef MYRING_SESSION_EFFECTS_H
#define MYRING_SESSION_EFFECTS_H

#include "sql_classify.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct session;
struct pending;
struct worker;

/* Pin reasons whose end these statements decide (session.pins bits). */
#define EFFECT_PINS (PIN_USER_VARIABLE | PIN_TEMPORARY_TABLE | \
		     PIN_NAMED_LOCK | PIN_TABLE_LOCK | PIN_HANDLER | \
		     PIN_SQL_PREPARE | PIN_FOUND_ROWS | PIN_LAST_INSERT_ID | \
		     PIN_SEQUENCE | PIN_TRANSACTION)

/* The worker's scratch for classifying (one command at a time). */
struct effects_scratch {
	struct sql_split split;
	struct sql_class cls;
	bool ready;
	uint8_t server;            /* enum sql_server of the backend */
	uint32_t version;          /* e.g. 101106 */
};
void effects_scratch_free(struct effects_scratch *es);

/*
 * Reads a COM_QUERY's (or, prepare: a COM_STMT_PREPARE's) text before it
 * is sent: what its response must record goes on p (p->effects,
 * p->apply_opts, p->explained).  Returns the classification (the
 * worker's scratch, valid until the next call) for the caller's own
 * decisions (KILL, CONNECTION_ID(), statement mode), or NULL when out of
 * memory (the session is then pinned: nothing can be known).
 */
const struct sql_class *effects_classify(struct session *s, struct pending *p,
					 const char *sql, size_t len,
					 bool prepare);

/* p's response ended (err: its error code, 0 if it succeeded): records
 * what it did and sets the session's pins accordingly. */
void effects_apply(struct session *s, struct pending *p, uint16_t err);

/* A pending entry goes away without its response. */
void effects_discard(struct pending *p);

/* The session was reset (COM_RESET_CONNECTION, COM_CHANGE_USER): nothing
 * of it lives on a server any more. */
void effects_reset(struct session *s);
void effects_free(struct session *s);

/* How the session's text is read (sql_mode, character set, server). */
void effects_reading(const struct session *s, struct sql_reading *rd);

#endif
