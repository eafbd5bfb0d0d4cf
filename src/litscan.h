/*
 * litscan.h - the regex prefilter of the rule matcher.
 *
 * With many rules, running every regex on every query is what costs.
 * Most patterns contain a literal every match must contain ("report_7",
 * "delete"); one pass over the query finds which of those literals occur,
 * and only rules whose literal occurs (or that have none) run their regex.
 */
#ifndef MYRING_LITSCAN_H
#define MYRING_LITSCAN_H

#include <stddef.h>
#include <stdint.h>

/* The longest literal that every match of a PCRE2 pattern must contain,
 * found conservatively: when unsure, 0 (no prefilter: the regex always
 * runs).  Writes it lower-cased into out[cap]; returns its length. */
size_t litscan_required(const char *pattern, size_t len, char *out, size_t cap);

struct litscan;
/* A matcher for n literals (n may be 0), ASCII case-insensitive, bytes
 * >= 0x80 compared exactly; an empty literal is always found.  NULL on
 * allocation failure. */
struct litscan *litscan_build(const char *const *lits, const size_t *lens,
			      unsigned n);
/* Sets bit i of found[] ((n + 63) / 64 words, zeroed by the caller) for
 * every literal i occurring in text.  One pass, one table lookup per byte.
 * Also sets it for every literal holding a 'k' or an 's' when text holds
 * U+212A or U+017F, which PCRE2_UTF | PCRE2_CASELESS match to them. */
void litscan_scan(const struct litscan *ls, const char *text, size_t len,
		  uint64_t *found);
void litscan_free(struct litscan *ls);

#endif
