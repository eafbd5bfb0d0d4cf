/*
 * stmt_bind.h - the values a COM_STMT_EXECUTE binds, as the SQL literals
 * that mean the same to the server (sql_parse.h's struct sql_bind).
 *
 * Pure.  An execution that needs several shards is sent to each as text
 * with its values written in (docs/sharding.md, "Prepared statements"), so
 * each value must read back as exactly what the server makes of the
 * bound one (MariaDB's sql_prepare.cc, setup_one_conversion_function):
 *
 *   bound type                  the server reads       written as
 *   TINY SHORT LONG LONGLONG    an integer (UNSIGNED   42, -7, 18446744073709551615
 *                               by the type's flag)
 *   FLOAT DOUBLE                a double (a FLOAT      the double's 17 digits with
 *                               widened)               an exponent: 1.5e0, -2.5e-7
 *   DECIMAL NEWDECIMAL          a decimal, as sent     12.50, 7. (a point keeps it
 *                                                      a decimal)
 *   DATE                        a date                 DATE '2024-01-31'
 *   DATETIME TIMESTAMP          a datetime             TIMESTAMP '2024-01-31 10:00:00.5'
 *                                                      (6 digits when it has any)
 *   TIME                        a time                 TIME '-838:59:59.000001'
 *   TINY_BLOB .. BLOB           a binary string        _binary'...'
 *   other string types          a string in the        '...' (the printer escapes it
 *                               client's character set for the session's sql_mode)
 *   NULL (bitmap)               NULL                   NULL
 *
 * A value that has no such literal (a non-finite double, a malformed
 * decimal, a date out of range, a type the server reads otherwise) gets
 * lit 0: its marker stays a ? and the statement cannot be sent as text.
 */
#ifndef MYRING_STMT_BIND_H
#define MYRING_STMT_BIND_H

#include "sql_arena.h"
#include "stmt_cache.h"

#include <stddef.h>
#include <stdint.h>

/* sql_parse.h (whose sql_ast.h names clash with sql_classify.h's, which
 * the session's files include) */
struct sql_bind;

/*
 * The num_params values of ex (parsed from p), with types (2 * num_params
 * bytes: the packet's when bound, else the ones an earlier execution
 * sent), as *out[0 .. num_params) (NULL without parameters), all in arena
 * a.  Returns how many have no literal (lit 0), or -1 if the packet is
 * malformed or the arena full.
 */
int stmt_bind_values(const uint8_t *p, size_t len, uint16_t num_params,
		     const struct stmt_execute *ex, const uint8_t *types,
		     struct sql_arena *a, const struct sql_bind **out);

/* from[0 .. n), their texts too, copied into arena a; NULL when it is
 * full. */
const struct sql_bind *stmt_bind_copy(struct sql_arena *a,
				      const struct sql_bind *from, unsigned n);

/* A double as a literal that reads back as the same double ("1.5e0",
 * negative ones without their '-'); out holds 40.  0 for inf and NaN. */
size_t stmt_bind_double(double d, char *out);

#endif
