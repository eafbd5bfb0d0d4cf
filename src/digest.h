/*
 * digest.h - SQL fingerprints ("digests") for grouping queries.
 *
 * Two queries that differ only in literal values, spacing, comments or the
 * case of keywords get the same fingerprint, e.g. both
 *   select * from t where id=42 -- by id
 *   SELECT * FROM t WHERE id = 7
 * become "SELECT * FROM t WHERE id = ?".  The normaliser is a single pass
 * over the bytes: no allocation, no recursion, O(len), any input accepted,
 * nothing read outside [sql, sql + len).  The rules are described at the
 * top of digest.c.
 */
#ifndef MYRING_DIGEST_H
#define MYRING_DIGEST_H

#include <stddef.h>
#include <stdint.h>

#define DIGEST_TEXT_MAX 1024   /* default fingerprint text kept */

/* Normalises sql[0..len) into its fingerprint.  Writes at most cap-1 bytes of the
 * fingerprint text plus a NUL into text (cap may be 0 and text NULL: hash only);
 * *text_len (if not NULL) gets the bytes written, excluding the NUL.  When the
 * fingerprint is longer than cap-1 the text is cut (at a byte boundary, ending in
 * "...") but the returned hash still covers the whole fingerprint.  Returns the
 * 64-bit hash of the full fingerprint text, never 0. */
uint64_t digest_normalize(const char *sql, size_t len, char *text, size_t cap, size_t *text_len);

#endif
