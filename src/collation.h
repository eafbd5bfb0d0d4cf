/*
 * collation.h - string comparison as MariaDB 10.11 does it, for merging
 * sorted shard results (ORDER BY, GROUP BY, DISTINCT, MIN/MAX).  Pure.
 *
 * Two numbers decide how two strings compare:
 *
 *   - the collation of the column (or expression) the shards sorted by:
 *     utf8mb4_unicode_ci, latin1_swedish_ci, ...  A result set does not
 *     carry it: the planner knows it from the schema;
 *   - the character set the bytes arrive in, the "charset" of the column
 *     definition: character_set_results (a utf8mb4 connection receives a
 *     latin1 column in utf8mb4), or binary (63) for numbers, binary
 *     strings, and every column when character_set_results is NULL (the
 *     column's own encoding, not converted).
 *
 * Exact (the server's weights, tables generated from MariaDB itself by
 * tests/capture/gen_collation_tables.py):
 *
 *   binary                                   bytes, NO PAD
 *   latin1_swedish_ci, latin1_bin            and their _nopad_ variants
 *   utf8mb3/utf8mb4_general_ci               MariaDB's general_ci folding
 *   utf8mb3/utf8mb4_bin                      code points
 *   utf8mb3/utf8mb4_unicode_ci               UCA 4.0.0, primary level
 *
 * PAD SPACE collations compare as if the shorter string were padded with
 * spaces ('a' = 'a ', and 'a' > 'a\t'); NO PAD ones do not.  Characters
 * outside the BMP all weigh 0xFFFD in general_ci and unicode_ci (so they
 * are equal to each other), as in the server.  Bytes that are not valid in the arrival character set weigh
 * above every character, one by one (MariaDB's WEIGHT_ILSEQ); a server
 * never sends them for a column of that character set.
 *
 * Any other collation, or an arrival character set that cannot carry the
 * collation's characters (a utf8mb4 column received as latin1 lost the
 * characters latin1 lacks, so their order cannot be recovered), is
 * refused by coll_resolve() with an error message.
 */
#ifndef MYRING_COLLATION_H
#define MYRING_COLLATION_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Collation ids this file knows by number. */
#define COLL_LATIN1_SWEDISH_CI      8
#define COLL_UTF8MB3_GENERAL_CI     33
#define COLL_UTF8MB4_GENERAL_CI     45
#define COLL_UTF8MB4_BIN            46
#define COLL_LATIN1_BIN             47
#define COLL_BINARY                 63
#define COLL_UTF8MB3_BIN            83
#define COLL_UTF8MB3_UNICODE_CI     192
#define COLL_UTF8MB4_UNICODE_CI     224
#define COLL_LATIN1_SWEDISH_NOPAD_CI 1032
#define COLL_UTF8MB3_GENERAL_NOPAD_CI 1057
#define COLL_UTF8MB4_GENERAL_NOPAD_CI 1069
#define COLL_UTF8MB4_NOPAD_BIN      1070
#define COLL_LATIN1_NOPAD_BIN       1071
#define COLL_UTF8MB3_NOPAD_BIN      1107
#define COLL_UTF8MB3_UNICODE_NOPAD_CI 1216
#define COLL_UTF8MB4_UNICODE_NOPAD_CI 1248

enum coll_kind {
	COLL_KIND_BINARY,    /* memcmp, then length */
	COLL_KIND_LATIN1,    /* one weight per latin1 byte */
	COLL_KIND_UNI_BIN,   /* weight = code point */
	COLL_KIND_GENERAL,   /* general_ci folding */
	COLL_KIND_UCA,       /* UCA 4.0.0 weights, with expansions */
};

/* How bytes arrive: the character set of the column definition. */
enum coll_wire {
	COLL_WIRE_LATIN1,
	COLL_WIRE_UTF8MB3,
	COLL_WIRE_UTF8MB4,
};

/* A resolved collation: what coll_cmp() needs. */
struct coll {
	uint16_t id;
	uint8_t kind;        /* enum coll_kind */
	uint8_t wire;        /* enum coll_wire */
	bool pad;            /* PAD SPACE */
	bool latin1_ci;      /* COLL_KIND_LATIN1: swedish_ci table, else bin */
};

/*
 * Resolves collation `id` for bytes that arrive in character set
 * `wire_charset` (the column definition's charset number; any collation
 * of the character set will do).  Returns 0, or -1 with a message in err
 * ("collation X not supported for cross-shard <use>") where use names
 * the operation ("ORDER BY", "GROUP BY", ...).
 */
int coll_resolve(uint16_t id, uint16_t wire_charset, const char *use,
		 struct coll *c, char *err, size_t errlen);

/* <0, 0, >0 as a sorts before, with, after b. */
int coll_cmp(const struct coll *c, const uint8_t *a, size_t alen,
	     const uint8_t *b, size_t blen);

/*
 * Calls fn(arg, w) for each weight of the string [s, s + len) in order:
 * the weights coll_cmp() compares, with the trailing spaces of a PAD
 * SPACE collation left out, so that two strings compare equal under c
 * exactly when they give the same weights (the shard map hashes them,
 * shard_map.h).  A binary collation's weights are its bytes.  Returns
 * 0, or -1 at the first byte that is not valid in c's arrival character
 * set (or a character a latin1 collation cannot hold): such a string
 * has no weights the server would agree with.
 */
int coll_weights(const struct coll *c, const uint8_t *s, size_t len,
		 void (*fn)(void *arg, uint32_t w), void *arg);

/* MariaDB's latin1 (cp1252 with its five holes mapped to C1 controls,
 * as the server converts them) [s, s + len) as UTF-8 into out, which
 * has room for 3 * len bytes.  Returns the length written. */
size_t coll_latin1_to_utf8(const uint8_t *s, size_t len, char *out);

/* The collation's name ("utf8mb4_unicode_ci"), or NULL if unknown. */
const char *coll_name(uint16_t id);

/* Bytes per character at most, for the character set of collation id
 * (1 for binary and unknown ones). */
unsigned coll_mbmaxlen(uint16_t id);

/* ---- generated tables (collation_tables.c) ---------------------------- */

struct coll_name {
	uint16_t id;
	const char *name;
};

extern const uint8_t coll_general_index[256];
extern const uint16_t coll_general_pages[][256];
extern const uint8_t coll_uca_index[256];
extern const uint8_t coll_uca_count[];
extern const uint16_t coll_uca_word[];
extern const uint16_t coll_uca_pool[];
extern const uint8_t coll_latin1_swedish[256];
extern const uint16_t coll_latin1_unicode[256];
extern const struct coll_name coll_names[];
extern const unsigned coll_names_count;

#endif
