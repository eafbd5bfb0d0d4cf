/*
 * sql_rewrite.h - replacing a built-in function call in SQL text where
 * the server would see it: not in strings, quoted names (other than the
 * call's own name), comments, user variables or schema-qualified names.
 *
 * Pooled sessions (auth: proxy) use it for CONNECTION_ID(): the server's
 * answer is the id of the connection the session borrowed, the client
 * must get its own, stable one.
 *
 * Pure; nothing is read outside [sql, sql + len).
 */
#ifndef MYRING_SQL_REWRITE_H
#define MYRING_SQL_REWRITE_H

#include "sql_scan.h"

#include <stddef.h>

/*
 * Writes sql with every call `func()` (no arguments; the name in any case,
 * possibly `quoted`, spaces allowed before and inside the parentheses)
 * replaced by `with`, as reading rd reads the text.  Writes at most cap
 * bytes and returns the length of the whole result (like snprintf,
 * without a NUL); *count is the number of calls replaced.  The code of
 * executable comments is code.
 */
size_t sql_replace_call(const char *sql, size_t len,
			const struct sql_reading *rd, const char *func,
			const char *with, char *out, size_t cap,
			unsigned *count);

#endif
