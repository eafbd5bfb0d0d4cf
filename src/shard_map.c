/*
 * shard_map.c - which shard owns a key (shard_map.h, docs/sharding.md).
 *
 * Everything here must give the same answer on every machine and in every
 * version: the hash decides where rows were written, so changing it would
 * lose them.  The formulas are in docs/sharding.md with known values that
 * tests/unit/test_shard_map.c checks.
 */
#include "shard_map.h"

#include "collation.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ---- hashing ------------------------------------------------------------ */

/* MurmurHash3's 64-bit finalizer: a bijection on 64 bits (each step is
 * invertible) whose every input bit flips each output bit with
 * probability close to 1/2, so consecutive keys spread over the space. */
static uint64_t fmix64(uint64_t k)
{
	k ^= k >> 33;
	k *= 0xff51afd7ed558ccdull;
	k ^= k >> 33;
	k *= 0xc4ceb9fe1a85ec53ull;
	k ^= k >> 33;
	return k;
}

uint64_t shard_hash_int(int64_t v)
{
	return fmix64((uint64_t)v);
}

#define FNV_OFFSET 0xcbf29ce484222325ull
#define FNV_PRIME  0x100000001b3ull

/* FNV-1a over each weight as 4 bytes, most significant first. */
static void fnv_weight(void *arg, uint32_t w)
{
	uint64_t *h = arg;

	for (int shift = 24; shift >= 0; shift -= 8) {
		*h ^= (w >> shift) & 0xFF;
		*h *= FNV_PRIME;
	}
}

/* The key's text always arrives as utf8mb4 (any collation's characters
 * fit in it); only the collation's weights reach the hash. */
static int resolve(uint16_t collation, struct coll *c)
{
	char err[160];

	return coll_resolve(collation, COLL_UTF8MB4_GENERAL_CI, "shard keys", c,
			    err, sizeof(err));
}

int shard_hash_str_exact(uint16_t collation, const char *s, size_t len,
			 uint64_t *out)
{
	struct coll c;
	uint64_t h = FNV_OFFSET;

	if (resolve(collation, &c) ||
	    coll_weights(&c, (const uint8_t *)s, len, fnv_weight, &h))
		return -1;
	*out = fmix64(h);
	return 0;
}

/* A collation it cannot hash is hashed as binary, and text that is not
 * UTF-8 by the weights up to the first bad byte: deterministic, but not
 * what equal values hash to; shard_for_value() uses the exact form. */
uint64_t shard_hash_str(uint16_t collation, const char *s, size_t len)
{
	uint64_t h;

	if (!shard_hash_str_exact(collation, s, len, &h))
		return h;
	h = FNV_OFFSET;
	for (size_t i = 0; i < len; i++)
		fnv_weight(&h, (uint8_t)s[i]);
	return fmix64(h);
}

/* ---- the map ------------------------------------------------------------- */

void keyspace_default_ranges(struct keyspace *ks)
{
	unsigned n = ks->nshards;

	for (unsigned i = 0; i < n; i++) {
		ks->shards[i].hash_lo =
			(uint64_t)(((unsigned __int128)i << 64) / n);
		ks->shards[i].hash_hi = i + 1 == n ? UINT64_MAX :
			(uint64_t)(((unsigned __int128)(i + 1) << 64) / n) - 1;
	}
}

unsigned shard_of_hash(const struct keyspace *ks, uint64_t h)
{
	for (unsigned i = 0; i < ks->nshards; i++)
		if (h >= ks->shards[i].hash_lo && h <= ks->shards[i].hash_hi)
			return i;
	/* Only a keyspace that keyspace_check() refused leaves a gap. */
	return 0;
}

const struct shard_table *keyspace_table(const struct keyspace *ks,
					 const char *name, size_t len)
{
	if (len >= sizeof(ks->tables[0].name))
		return NULL;
	for (unsigned i = 0; i < ks->ntables; i++) {
		const struct shard_table *t = &ks->tables[i];

		if (!strncasecmp(t->name, name, len) && !t->name[len])
			return t;
	}
	return NULL;
}

/* ---- key values ----------------------------------------------------------- */

/* Integers a double holds exactly and that no other integer rounds to. */
#define DOUBLE_EXACT (1ll << 53)
/* More digits than DECIMAL takes make the server read a literal as a
 * double. */
#define DECIMAL_DIGITS_MAX 65

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * The server compares an integer column with an integer literal as
 * integers, with a decimal literal (42.0) as decimals (exactly), and with
 * a string or a literal with an exponent as doubles: then only values
 * below 2^53 stand for one integer.  Anything else the server would read
 * differently from this (hex, leading tabs, trailing garbage, which it
 * truncates with a warning) is refused: the planner scatters, which is
 * always right.
 */
int shard_key_int(const char *v, size_t len, bool is_string, int64_t *out)
{
	const char *p = v, *end = v + len;
	const char *digits[2];          /* integer part, fraction */
	size_t ndig[2] = {0, 0};
	bool neg = false, as_double = is_string;
	long exp = 0, shift;
	char all[2 * DECIMAL_DIGITS_MAX + 2];
	size_t n = 0, first, keep;
	unsigned __int128 mag = 0;

	if (is_string)
		while (p < end && *p == ' ')
			p++;
	if (p < end && (*p == '+' || *p == '-'))
		neg = *p++ == '-';
	digits[0] = p;
	while (p < end && is_digit(*p))
		p++;
	ndig[0] = (size_t)(p - digits[0]);
	digits[1] = p;
	if (p < end && *p == '.') {
		digits[1] = ++p;
		while (p < end && is_digit(*p))
			p++;
		ndig[1] = (size_t)(p - digits[1]);
	}
	if (!ndig[0] && !ndig[1])
		return -1;
	if (p < end && (*p == 'e' || *p == 'E')) {
		bool eneg = false;
		const char *e0;

		p++;
		if (p < end && (*p == '+' || *p == '-'))
			eneg = *p++ == '-';
		e0 = p;
		while (p < end && is_digit(*p) && p - e0 < 4)
			exp = exp * 10 + (*p++ - '0');
		if (p == e0 || (p < end && is_digit(*p)))
			return -1;
		if (eneg)
			exp = -exp;
		as_double = true;
	}
	if (is_string)
		while (p < end && *p == ' ')
			p++;
	if (p != end)
		return -1;
	if (ndig[0] + ndig[1] > DECIMAL_DIGITS_MAX)
		as_double = true;
	if (ndig[0] + ndig[1] >= sizeof(all))
		return -1;
	memcpy(all, digits[0], ndig[0]);
	memcpy(all + ndig[0], digits[1], ndig[1]);
	n = ndig[0] + ndig[1];
	/* value = all * 10^shift */
	shift = exp - (long)ndig[1];
	for (first = 0; first < n && all[first] == '0'; first++)
		;
	if (first == n) {
		*out = 0;
		return 0;
	}
	keep = n;
	if (shift < 0) {
		/* The digits right of the point must all be zero. */
		if ((size_t)-shift > n - first)
			return -1;
		keep = n - (size_t)-shift;
		for (size_t i = keep; i < n; i++)
			if (all[i] != '0')
				return -1;
		shift = 0;
	}
	if (keep - first + (size_t)shift > 19)
		return -1;
	for (size_t i = first; i < keep; i++)
		mag = mag * 10 + (unsigned)(all[i] - '0');
	for (long i = 0; i < shift; i++)
		mag *= 10;
	if (mag > (unsigned __int128)INT64_MAX + neg)
		return -1;
	if (as_double && mag >= DOUBLE_EXACT)
		return -1;
	*out = neg ? (int64_t)(0 - (uint64_t)mag) : (int64_t)mag;
	return 0;
}

/* Shard i owns [bounds[i-1], bounds[i]): the number of bounds <= v. */
static unsigned range_shard(const struct shard_table *t, int64_t v)
{
	unsigned lo = 0, hi = t->nbounds;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (t->bounds[mid] <= v)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int shard_for_value(const struct keyspace *ks, const struct shard_table *t,
		    const char *v, size_t len, bool is_string)
{
	int64_t k;
	uint64_t h;

	if (!t)
		return -1;
	if (t->kind == TABLE_UNSHARDED)
		return (int)t->shard;
	if (t->kind != TABLE_SHARDED)
		return -1;
	if (t->key_type == SHARD_KEY_STRING) {
		/* A number compared with a string column is compared as a
		 * double: '42', '042' and '4.2e1' all match 42. */
		if (!is_string || t->fn != SHARD_FN_HASH ||
		    shard_hash_str_exact(t->collation, v, len, &h))
			return -1;
		return (int)shard_of_hash(ks, h);
	}
	if (shard_key_int(v, len, is_string, &k))
		return -1;
	if (t->fn == SHARD_FN_RANGE)
		return t->nbounds + 1 == ks->nshards ? (int)range_shard(t, k) : -1;
	return (int)shard_of_hash(ks, shard_hash_int(k));
}

/* ---- checks ---------------------------------------------------------------- */

#define WHY(...) do {                                                          \
	snprintf(err, errlen, __VA_ARGS__);                                    \
	return -1;                                                             \
} while (0)

int shard_check(const struct keyspace *ks, unsigned i, char *err,
		size_t errlen)
{
	const struct shard *s = &ks->shards[i];

	if (!s->name[0])
		WHY("a shard needs a name");
	if (!s->group[0])
		WHY("group: required (the backend group that holds it)");
	if (s->hash_lo > s->hash_hi)
		WHY("hash-range: 0x%016llx is above 0x%016llx",
		    (unsigned long long)s->hash_lo,
		    (unsigned long long)s->hash_hi);
	for (unsigned j = 0; j < i; j++)
		if (!strcasecmp(ks->shards[j].name, s->name))
			WHY("defined twice (a shard's name is its own)");
	return 0;
}

int shard_table_check(const struct keyspace *ks, const struct shard_table *t,
		      char *err, size_t errlen)
{
	struct coll c;

	if (!t->name[0])
		WHY("a table needs a name");
	for (const struct shard_table *o = ks->tables; o < t; o++)
		if (!strcasecmp(o->name, t->name))
			WHY("listed twice (first on line %u)", o->line);
	if (t->sequence[0]) {
		if (t->kind != TABLE_SHARDED)
			WHY("sequence: only with a sharded table (its key "
			    "column gets the sequence's keys)");
		if (t->key_type != SHARD_KEY_INT)
			WHY("sequence: needs key-type: int (a sequence's keys "
			    "are integers)");
		if (keyspace_sequence(ks, t->sequence) < 0)
			WHY("sequence: unknown sequence '%s' (keyspace: "
			    "sequences: lists them)", t->sequence);
	}
	if (t->nlookups && t->kind != TABLE_SHARDED)
		WHY("lookup: only with a sharded table (its key is what a "
		    "lookup finds)");
	if (t->nlookups > SHARD_LOOKUPS_MAX)
		WHY("lookup: at most %d columns", SHARD_LOOKUPS_MAX);
	for (unsigned i = 0; i < t->nlookups; i++) {
		const struct shard_lookup *l = &t->lookups[i];

		if (!l->column[0] || !l->table[0])
			WHY("lookup: a lookup needs column: and a table name");
		if (!strcasecmp(l->column, t->key))
			WHY("lookup: column %s is the shard key (which needs "
			    "no lookup)", l->column);
		if (l->shard >= ks->nshards)
			WHY("lookup %s: shard: no shard %u (there are %u)",
			    l->column, l->shard, ks->nshards);
		if (l->type != SHARD_KEY_INT && l->type != SHARD_KEY_STRING)
			WHY("lookup %s: type: expected int or string",
			    l->column);
		for (unsigned j = 0; j < i; j++)
			if (!strcasecmp(t->lookups[j].column, l->column))
				WHY("lookup: column %s listed twice",
				    l->column);
		for (const struct shard_table *o = ks->tables; o < t; o++)
			for (unsigned j = 0; j < o->nlookups; j++)
				if (!strcasecmp(o->lookups[j].table, l->table))
					WHY("lookup %s: table myring.%s is "
					    "table %s's lookup too", l->column,
					    l->table, o->name);
	}
	switch (t->kind) {
	case TABLE_BROADCAST:
		return 0;
	case TABLE_UNSHARDED:
		if (t->shard >= ks->nshards)
			WHY("shard: no shard %u (there are %u)", t->shard,
			    ks->nshards);
		return 0;
	case TABLE_SHARDED:
		break;
	default:
		WHY("unknown kind %u", t->kind);
	}
	if (!t->key[0])
		WHY("key: required (the shard key column)");
	if (t->key_type != SHARD_KEY_INT && t->key_type != SHARD_KEY_STRING)
		WHY("key-type: expected int or string");
	if (t->fn == SHARD_FN_HASH) {
		if (t->nbounds)
			WHY("bounds: only with function: range");
		if (t->key_type == SHARD_KEY_STRING && resolve(t->collation, &c))
			WHY("collation: %s cannot be hashed (supported: the "
			    "latin1, utf8mb3 and utf8mb4 general_ci, unicode_ci "
			    "and bin collations, their nopad variants, and "
			    "binary)", coll_name(t->collation) ?
			    coll_name(t->collation) : "unknown");
		return 0;
	}
	if (t->fn != SHARD_FN_RANGE)
		WHY("function: expected hash or range");
	if (t->key_type != SHARD_KEY_INT)
		WHY("function: range needs key-type: int");
	if (t->nbounds + 1 != ks->nshards)
		WHY("bounds: expected %u ascending boundaries (one fewer than "
		    "the %u shards), got %u", ks->nshards - 1, ks->nshards,
		    t->nbounds);
	for (unsigned i = 1; i < t->nbounds; i++)
		if (t->bounds[i] <= t->bounds[i - 1])
			WHY("bounds: not ascending (%lld after %lld)",
			    (long long)t->bounds[i], (long long)t->bounds[i - 1]);
	return 0;
}

int shard_sequence_check(const struct keyspace *ks, unsigned i, char *err,
			 size_t errlen)
{
	const struct shard_sequence *q = &ks->sequences[i];
	size_t len = strlen(q->name);

	if (!len || len > 63 || strspn(q->name, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
				       "abcdefghijklmnopqrstuvwxyz0123456789_$")
				!= len)
		WHY("name: expected 1..63 characters of [A-Za-z0-9_$]");
	for (unsigned j = 0; j < i; j++)
		if (!strcasecmp(ks->sequences[j].name, q->name))
			WHY("defined twice (first on line %u)",
			    ks->sequences[j].line);
	if (q->shard >= ks->nshards)
		WHY("shard: no shard %u (there are %u)", q->shard, ks->nshards);
	if (!q->block || q->block > SHARD_SEQ_BLOCK_MAX)
		WHY("block: expected 1..%llu keys, got %llu",
		    (unsigned long long)SHARD_SEQ_BLOCK_MAX,
		    (unsigned long long)q->block);
	if (!q->start || q->start > (uint64_t)INT64_MAX - SHARD_SEQ_BLOCK_MAX)
		WHY("start: expected 1..%lld, got %llu",
		    (long long)(INT64_MAX - (int64_t)SHARD_SEQ_BLOCK_MAX),
		    (unsigned long long)q->start);
	return 0;
}

#define GAP_MSG(lo, hi)                                                        \
	WHY("hash-range: no shard covers 0x%016llx-0x%016llx (the ranges "     \
	    "must cover 0x0000000000000000-0xffffffffffffffff without gaps "   \
	    "or overlaps)", (unsigned long long)(lo), (unsigned long long)(hi))

/* The ranges, taken in order of hash_lo, must start at 0, follow each
 * other without a gap or an overlap and end at 2^64 - 1. */
static int check_cover(const struct keyspace *ks, char *err, size_t errlen)
{
	unsigned order[SHARDS_MAX];
	const struct shard *prev = NULL;

	for (unsigned i = 0; i < ks->nshards; i++) {
		unsigned j = i;

		for (; j && ks->shards[order[j - 1]].hash_lo >
			    ks->shards[i].hash_lo; j--)
			order[j] = order[j - 1];
		order[j] = i;
	}
	for (unsigned k = 0; k < ks->nshards; k++) {
		const struct shard *s = &ks->shards[order[k]];

		if (!prev && s->hash_lo)
			GAP_MSG(0, s->hash_lo - 1);
		if (prev && s->hash_lo <= prev->hash_hi)
			WHY("hash-range: shards '%s' and '%s' overlap at "
			    "0x%016llx", prev->name, s->name,
			    (unsigned long long)s->hash_lo);
		if (prev && s->hash_lo > prev->hash_hi + 1)
			GAP_MSG(prev->hash_hi + 1, s->hash_lo - 1);
		prev = s;
	}
	if (prev && prev->hash_hi != UINT64_MAX)
		GAP_MSG(prev->hash_hi + 1, UINT64_MAX);
	return 0;
}

#undef GAP_MSG

int keyspace_check(const struct keyspace *ks, char *err, size_t errlen)
{
	char why[256];

	if (!ks->schema[0])
		WHY("schema: required (the database clients use)");
	if (!ks->nshards || ks->nshards > SHARDS_MAX)
		WHY("shards: expected 1..%d shards, got %u", SHARDS_MAX,
		    ks->nshards);
	for (unsigned i = 0; i < ks->nshards; i++)
		if (shard_check(ks, i, why, sizeof(why)))
			WHY("shard '%s': %s", ks->shards[i].name, why);
	if (check_cover(ks, err, errlen))
		return -1;
	if (ks->default_shard >= (int)ks->nshards || ks->default_shard < -1)
		WHY("default-shard: no shard %d", ks->default_shard);
	if (ks->nsequences > SHARD_SEQUENCES_MAX)
		WHY("sequences: at most %d", SHARD_SEQUENCES_MAX);
	for (unsigned i = 0; i < ks->nsequences; i++)
		if (shard_sequence_check(ks, i, why, sizeof(why)))
			WHY("sequence '%s': %s", ks->sequences[i].name, why);
	if (ks->ntables > SHARD_TABLES_MAX)
		WHY("tables: at most %d", SHARD_TABLES_MAX);
	for (unsigned i = 0; i < ks->ntables; i++)
		if (shard_table_check(ks, &ks->tables[i], why, sizeof(why)))
			WHY("table '%s': %s", ks->tables[i].name, why);
	return 0;
}

#undef WHY

/* ---- equality and freeing ------------------------------------------------ */

static bool lookups_equal(const struct shard_table *a,
			  const struct shard_table *b)
{
	if (a->nlookups != b->nlookups)
		return false;
	for (unsigned i = 0; i < a->nlookups; i++) {
		const struct shard_lookup *x = &a->lookups[i];
		const struct shard_lookup *y = &b->lookups[i];

		if (strcasecmp(x->column, y->column) ||
		    strcasecmp(x->table, y->table) || x->unique != y->unique ||
		    x->type != y->type || x->shard != y->shard)
			return false;
	}
	return true;
}

static bool table_equal(const struct shard_table *a, const struct shard_table *b)
{
	return lookups_equal(a, b) && !strcmp(a->name, b->name) && a->kind == b->kind &&
	       !strcmp(a->key, b->key) && a->fn == b->fn &&
	       a->key_type == b->key_type && a->collation == b->collation &&
	       a->nbounds == b->nbounds &&
	       (!a->nbounds || !memcmp(a->bounds, b->bounds,
				       a->nbounds * sizeof(*a->bounds))) &&
	       a->shard == b->shard && !strcasecmp(a->sequence, b->sequence);
}

static bool sequence_equal(const struct shard_sequence *a,
			   const struct shard_sequence *b)
{
	return !strcasecmp(a->name, b->name) && a->shard == b->shard &&
	       a->block == b->block && a->start == b->start;
}

int shard_table_lookup(const struct shard_table *t, const char *name,
		       size_t len)
{
	for (unsigned i = 0; i < t->nlookups; i++)
		if (strlen(t->lookups[i].column) == len &&
		    !strncasecmp(t->lookups[i].column, name, len))
			return (int)i;
	return -1;
}

int keyspace_sequence(const struct keyspace *ks, const char *name)
{
	for (unsigned i = 0; i < ks->nsequences; i++)
		if (!strcasecmp(ks->sequences[i].name, name))
			return (int)i;
	return -1;
}

bool keyspace_equal(const struct keyspace *a, const struct keyspace *b)
{
	if (!a || !b)
		return a == b;
	if (strcmp(a->schema, b->schema) || a->nshards != b->nshards ||
	    a->ntables != b->ntables || a->default_shard != b->default_shard)
		return false;
	for (unsigned i = 0; i < a->nshards; i++) {
		const struct shard *x = &a->shards[i], *y = &b->shards[i];

		if (strcmp(x->name, y->name) || strcmp(x->group, y->group) ||
		    x->hash_lo != y->hash_lo || x->hash_hi != y->hash_hi)
			return false;
	}
	for (unsigned i = 0; i < a->ntables; i++)
		if (!table_equal(&a->tables[i], &b->tables[i]))
			return false;
	if (a->nsequences != b->nsequences)
		return false;
	for (unsigned i = 0; i < a->nsequences; i++)
		if (!sequence_equal(&a->sequences[i], &b->sequences[i]))
			return false;
	return true;
}

void keyspace_free(struct keyspace *ks)
{
	if (!ks)
		return;
	for (unsigned i = 0; ks->tables && i < ks->ntables; i++)
		free(ks->tables[i].bounds);
	free(ks->tables);
	ks->tables = NULL;
	ks->ntables = 0;
}
