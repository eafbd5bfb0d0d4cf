/*
 * shard_map.h - a keyspace: one logical schema whose tables are spread
 * over N shards (each a backend group), and the functions that say which
 * shard owns a key.  Pure: loaded from the config (config_keyspace.c),
 * read by the planner (shard_plan.h) and the admin port; nothing here
 * does I/O.
 *
 * Hash function (docs/sharding.md): a key's value is reduced to 64 bits
 * and mixed, h = shard_hash_int(v) or shard_hash_str(weights); each shard
 * owns one contiguous range [lo, hi] of the 2^64 hash space (by default
 * the space split into equal parts in the shards' order), so a shard can
 * later be split in two by splitting its range.  Range function: explicit
 * boundaries on the key's integer value.  Tables that use the same
 * function over keys of the same values live together (co-location):
 * customer 42's orders are on customer 42's shard.
 */
#ifndef MYRING_SHARD_MAP_H
#define MYRING_SHARD_MAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SHARDS_MAX 64
#define SHARD_TABLES_MAX 1024
#define SHARD_SEQUENCES_MAX 64
/* Lookups (secondary columns) per sharded table. */
#define SHARD_LOOKUPS_MAX 4
/* A sequence's block: at most this many keys per round trip. */
#define SHARD_SEQ_BLOCK_MAX 1000000000ull

enum shard_table_kind {
	TABLE_SHARDED = 1,      /* rows spread by key */
	TABLE_BROADCAST,        /* the same rows on every shard */
	TABLE_UNSHARDED,        /* lives on one shard */
};

enum shard_fn_kind {
	SHARD_FN_HASH = 1,
	SHARD_FN_RANGE,
};

enum shard_key_type {
	SHARD_KEY_INT = 1,      /* integers; '42' and 42.0 are 42 */
	SHARD_KEY_STRING,       /* strings, hashed by their collation's
				 * weights so that equal values (as the
				 * server compares them) hash equally */
};

struct shard {
	char name[64];
	char group[64];         /* the backend group that holds it */
	int group_index;        /* into px->groups; -1 until resolved */
	uint64_t hash_lo, hash_hi;      /* its part of the hash space */
};

/*
 * A lookup of a sharded table (docs/sharding.md, "Lookup tables"): myring
 * keeps, in myring.<table> on one shard, a row (value, keyid) for each
 * row of the table whose secondary column holds value and whose shard
 * key is keyid, so that a statement naming the column's value finds the
 * keys (and so the shards) with one read.
 */
struct shard_lookup {
	char column[64];        /* the secondary column */
	char table[64];         /* its table in the myring schema */
	bool unique;            /* a value maps to one row: duplicates are
				 * refused with the server's 1062 */
	uint8_t type;           /* enum shard_key_type: the value column's
				 * type (int: BIGINT; string: VARCHAR) */
	unsigned shard;         /* the shard whose myring schema holds it */
	unsigned line;
};

struct shard_table {
	char name[64];          /* as the application names it (ASCII,
				 * compared caselessly) */
	uint8_t kind;           /* enum shard_table_kind */
	/* TABLE_SHARDED */
	char key[64];           /* the shard key column */
	uint8_t fn;             /* enum shard_fn_kind */
	uint8_t key_type;       /* enum shard_key_type */
	uint16_t collation;     /* SHARD_KEY_STRING: the column's collation
				 * id (collation.h); default
				 * utf8mb4_general_ci */
	/* SHARD_FN_RANGE: shard i owns keys in [bounds[i-1], bounds[i]);
	 * the first from -inf, the last to +inf: nbounds = nshards - 1,
	 * ascending. */
	int64_t *bounds;
	unsigned nbounds;
	/* TABLE_UNSHARDED: the shard that holds it */
	unsigned shard;
	/* TABLE_SHARDED, key-type int: the sequence (ks->sequences, by
	 * name) that gives keys to rows inserted without one, or "" */
	char sequence[64];
	/* TABLE_SHARDED: its lookups */
	unsigned nlookups;
	struct shard_lookup lookups[SHARD_LOOKUPS_MAX];
	unsigned line;          /* in the config file */
};

/* A sequence: keys handed out in blocks from one row of
 * myring.sequences on one shard (docs/sharding.md, "Sequences"). */
struct shard_sequence {
	char name[64];          /* its row's name (ASCII, caseless) */
	unsigned shard;         /* the shard whose myring.sequences holds it */
	uint64_t block;         /* keys taken per round trip, 1..BLOCK_MAX */
	uint64_t start;         /* the first key, when myring adds the row */
	unsigned line;
};

struct keyspace {
	char schema[64];        /* the logical schema clients USE */
	unsigned nshards;
	struct shard shards[SHARDS_MAX];
	unsigned ntables;
	struct shard_table *tables;
	/* Tables not listed: "unsharded" on default_shard, or refused
	 * when default_shard is -1. */
	int default_shard;
	unsigned nsequences;
	struct shard_sequence sequences[SHARD_SEQUENCES_MAX];
};

/* The 64-bit hash of an integer key (a bijection, so ranges of the hash
 * space hold equal shares of any set of keys). */
uint64_t shard_hash_int(int64_t v);
/* The hash of a string key: of its collation weights (collation.h), so
 * 'Abc' and 'abc ' hash alike under utf8mb4_general_ci.  s is UTF-8
 * whatever the column's character set (the server converts a literal to
 * it before comparing): text a client sent in another character set
 * must be converted first, or the statement scattered. */
uint64_t shard_hash_str(uint16_t collation, const char *s, size_t len);

/* Same, but -1 when the hash would not be the one of the value the
 * server stores: a collation shard_map cannot hash (not in collation.h),
 * or s is not valid UTF-8 (a key's text is always taken as utf8mb4). */
int shard_hash_str_exact(uint16_t collation, const char *s, size_t len,
			 uint64_t *out);

/* Gives every shard its default part of the hash space: 2^64 split into
 * nshards equal contiguous parts in shard order (docs/sharding.md). */
void keyspace_default_ranges(struct keyspace *ks);

/* The shard that owns hash h. */
unsigned shard_of_hash(const struct keyspace *ks, uint64_t h);

/* The table called name (caseless), or NULL. */
const struct shard_table *keyspace_table(const struct keyspace *ks,
					 const char *name, size_t len);

/* The lookup of t on column name (caseless), or -1. */
int shard_table_lookup(const struct shard_table *t, const char *name,
		       size_t len);

/* The sequence called name (caseless), or -1. */
int keyspace_sequence(const struct keyspace *ks, const char *name);

/* The shard that owns key value v (given as text, as a literal or a
 * parameter spells it; is_string: it was a string) in table t.  Returns
 * the shard, or -1 when the value cannot be mapped exactly (e.g. 1.5 for
 * an integer key, which no row can hold: the planner then scatters). */
int shard_for_value(const struct keyspace *ks, const struct shard_table *t,
		    const char *v, size_t len, bool is_string);

/* The integer a key's text stands for when compared with an integer
 * column (is_string: a string literal, which the server compares as a
 * double; else a numeric literal, compared exactly).  0, or -1 when it
 * does not stand for exactly one int64 (1.5, 'abc', 1e300, '42abc'). */
int shard_key_int(const char *v, size_t len, bool is_string, int64_t *out);

/* Checks one shard or table of ks (what keyspace_check checks of each);
 * 0, or -1 with a message that does not name it (the caller does). */
int shard_check(const struct keyspace *ks, unsigned i, char *err,
		size_t errlen);
int shard_table_check(const struct keyspace *ks, const struct shard_table *t,
		      char *err, size_t errlen);
int shard_sequence_check(const struct keyspace *ks, unsigned i, char *err,
			 size_t errlen);

/* Whether a and b map every key the same way and name the same shards
 * and groups (group_index and lines are not compared): what a reload
 * may not change. */
bool keyspace_equal(const struct keyspace *a, const struct keyspace *b);

/* Checks a keyspace (shard names and ranges cover the space without
 * overlap, bounds ascend, unsharded shards exist, names unique).  0, or
 * -1 with a message. */
int keyspace_check(const struct keyspace *ks, char *err, size_t errlen);

/* Frees what ks points to (its tables and their bounds, allocated with
 * malloc) and clears them; not ks itself. */
void keyspace_free(struct keyspace *ks);

#endif
