/*
 * sql_hint.h - routing hints a client writes in a comment of its query.
 *
 *   SELECT / * myring: primary * / balance FROM accounts WHERE id = 7
 *   SELECT * FROM orders WHERE id = 42 -- myring: causal
 *
 * A comment (/ * ... * /, # ... or -- ...) whose text starts with
 * "myring:" holds words, separated by spaces or commas, that change how
 * the statement is routed in a backend group (groups.h):
 *   primary     the statement goes to the primary, even a read;
 *   causal      a read on a replica first waits for the session's last
 *               commit, whatever the group's causal-reads says;
 *   no-causal   it does not wait, whatever the group says.
 * Case does not matter; other words are ignored, so that a newer hint
 * reaches an older myring harmlessly.  Comments inside quoted text are
 * text, not hints.  Optimizer hints (/ *+) and executable comments (/ *!)
 * belong to the server and are never read as ours.
 *
 * No I/O; any input is accepted; nothing is read outside [sql, sql + len).
 */
#ifndef MYRING_SQL_HINT_H
#define MYRING_SQL_HINT_H

#include <stddef.h>

enum {
	SQL_HINT_PRIMARY = 1u << 0,
	SQL_HINT_CAUSAL = 1u << 1,
	SQL_HINT_NO_CAUSAL = 1u << 2,
};

/* The SQL_HINT_* flags the text's comments name (0: none). */
unsigned sql_hints(const char *sql, size_t len);

#endif
