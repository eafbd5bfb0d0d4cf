/*
 * config_keyspace.c - what the config file's `keyspace:` means (see
 * config_keyspace.h and docs/config.md, "Keyspace (sharding)").
 *
 * Every message names the table or shard it is about and sits on its
 * line: "myring.yaml:12: keyspace: table 'orders': bounds: ...".  What
 * one entry says is checked by shard_map.c (shard_check,
 * shard_table_check), so a keyspace built any other way is held to the
 * same rules; this file adds what only the file knows (spelling, lines,
 * the groups).
 */
#include "config_keyspace.h"

#include "collation.h"
#include "config_yaml.h"
#include "shard_map.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Names of databases, tables and columns myring matches (caselessly);
 * anything else would need quoting rules of its own. */
#define SQL_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
		       "0123456789_$"
#define SHARD_NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
			 "0123456789_.-"

enum ks_key { KS_SCHEMA, KS_SHARDS, KS_DEFAULT_SHARD, KS_TABLES, KS_SEQUENCES,
	      KS__COUNT };
static const char *const ks_keys[KS__COUNT] = {
	[KS_SCHEMA] = "schema", [KS_SHARDS] = "shards",
	[KS_DEFAULT_SHARD] = "default-shard", [KS_TABLES] = "tables",
	[KS_SEQUENCES] = "sequences",
};

enum sh_key { SH_NAME, SH_GROUP, SH_HASH_RANGE, SH__COUNT };
static const char *const sh_keys[SH__COUNT] = {
	[SH_NAME] = "name", [SH_GROUP] = "group", [SH_HASH_RANGE] = "hash-range",
};

enum sq_key { SQ_NAME, SQ_SHARD, SQ_BLOCK, SQ_START, SQ__COUNT };
static const char *const sq_keys[SQ__COUNT] = {
	[SQ_NAME] = "name", [SQ_SHARD] = "shard", [SQ_BLOCK] = "block",
	[SQ_START] = "start",
};

enum lk_key { LK_COLUMN, LK_UNIQUE, LK_SHARD, LK_TYPE, LK_TABLE, LK__COUNT };
static const char *const lk_keys[LK__COUNT] = {
	[LK_COLUMN] = "column", [LK_UNIQUE] = "unique", [LK_SHARD] = "shard",
	[LK_TYPE] = "type", [LK_TABLE] = "table",
};

enum tb_key { TK_NAME, TK_TYPE, TK_KEY, TK_FUNCTION, TK_KEY_TYPE,
	      TK_COLLATION, TK_BOUNDS, TK_SHARD, TK_SEQUENCE, TK_LOOKUP,
	      TK__COUNT };
static const char *const tb_keys[TK__COUNT] = {
	[TK_NAME] = "name", [TK_TYPE] = "type", [TK_KEY] = "key",
	[TK_FUNCTION] = "function", [TK_KEY_TYPE] = "key-type",
	[TK_COLLATION] = "collation", [TK_BOUNDS] = "bounds",
	[TK_SHARD] = "shard", [TK_SEQUENCE] = "sequence",
	[TK_LOOKUP] = "lookup",
};

/* The keys of a mapping sorted into slots (unknown ones refused), so
 * that they are read in the order they depend on. */
static int sort_keys(struct loader *ld, yaml_node_t *map, const char *what,
		     const char *const *names, unsigned n, yaml_node_t **key,
		     yaml_node_t **val)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = cy_node(ld, p->key);
		const char *name;
		unsigned i;

		if (cy_check_key(ld, map, p) || cy_scalar(ld, "key", k, &name))
			return -1;
		for (i = 0; i < n && strcmp(name, names[i]); i++)
			;
		if (i == n)
			return cy_unknown(ld, k, what, "key", name, names, n);
		key[i] = k;
		val[i] = cy_node(ld, p->value);
	}
	return 0;
}

/* A name of 1..63 of chars into dst[64]. */
static int get_name(struct loader *ld, const char *what, yaml_node_t *v,
		    const char *chars, char *dst)
{
	const char *s;
	size_t len;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	len = strlen(s);
	if (!len || len > 63 || strspn(s, chars) != len)
		return cy_fail(ld, v, "%s: expected 1..63 characters of %s, got "
			       "'%s'", what, strchr(chars, '$') ?
			       "[A-Za-z0-9_$]" : "[A-Za-z0-9_.-]", s);
	memcpy(dst, s, len + 1);
	return 0;
}

/* One of words (by position), or -1 after the message. */
static int get_word(struct loader *ld, const char *what, yaml_node_t *v,
		    const char *const *words, unsigned n, const char *expected)
{
	const char *s;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	for (unsigned i = 0; i < n; i++)
		if (!strcmp(s, words[i]))
			return (int)i;
	return cy_fail(ld, v, "%s: expected %s, got '%s'", what, expected, s);
}

/* The shard called name, or -1. */
static int find_shard(const struct keyspace *ks, const char *name)
{
	for (unsigned i = 0; i < ks->nshards; i++)
		if (!strcasecmp(ks->shards[i].name, name))
			return (int)i;
	return -1;
}

/* A shard by name, for default-shard: and a table's shard:. */
static int shard_ref(struct loader *ld, const struct keyspace *ks,
		     const char *what, yaml_node_t *v, unsigned *out)
{
	const char *s;
	int i;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	i = find_shard(ks, s);
	if (i < 0) {
		const char *names[SHARDS_MAX];

		for (unsigned j = 0; j < ks->nshards; j++)
			names[j] = ks->shards[j].name;
		return cy_unknown(ld, v, what, "shard", s, names, ks->nshards);
	}
	*out = (unsigned)i;
	return 0;
}

/* ---- shards ------------------------------------------------------------- */

/* "0x" and 1..16 hex digits. */
static const char *parse_hex(const char *s, uint64_t *out)
{
	size_t n;

	if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
		return NULL;
	s += 2;
	n = strspn(s, "0123456789abcdefABCDEF");
	if (!n || n > 16)
		return NULL;
	*out = strtoull(s, NULL, 16);
	return s + n;
}

/* "0xLO-0xHI", both ends included. */
static int hash_range(struct loader *ld, const char *what, yaml_node_t *v,
		      struct shard *sh)
{
	const char *s, *p;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	p = parse_hex(s, &sh->hash_lo);
	if (p) {
		p += strspn(p, " ");
		if (*p == '-') {
			p++;
			p += strspn(p, " ");
			p = parse_hex(p, &sh->hash_hi);
			if (p && !*p)
				return 0;
		}
	}
	return cy_fail(ld, v, "%s: expected 0xLO-0xHI (each 0x and 1..16 hex "
		       "digits, both ends included), got '%s'", what, s);
}

/* The group of the shard must be one of `groups:`. */
static int shard_group(struct loader *ld, const char *what, yaml_node_t *at,
		       const struct shard *sh)
{
	const struct config *cfg = cy_config(ld);
	const char *names[CLI_MAX_GROUPS];

	for (unsigned g = 0; g < cfg->ngroups; g++) {
		if (!strcmp(cfg->groups[g].name, sh->group))
			return 0;
		names[g] = cfg->groups[g].name;
	}
	return cy_unknown(ld, at, what, "backend group", sh->group, names,
			  cfg->ngroups);
}

static int load_shard(struct loader *ld, struct keyspace *ks, yaml_node_t *n,
		      bool *has_range)
{
	unsigned i = ks->nshards;
	struct shard *sh = &ks->shards[i];
	yaml_node_t *key[SH__COUNT] = {0}, *val[SH__COUNT] = {0};
	yaml_node_t *group_at = n;
	char what[128], why[256];

	sh->group_index = -1;
	if (n->type == YAML_SCALAR_NODE) {
		/* The shorthand: a group's name is the shard's. */
		if (get_name(ld, "keyspace: shards: shard", n, SHARD_NAME_CHARS,
			     sh->name))
			return -1;
		memcpy(sh->group, sh->name, sizeof(sh->group));
	} else if (n->type == YAML_MAPPING_NODE) {
		if (sort_keys(ld, n, "keyspace: shard", sh_keys, SH__COUNT, key,
			      val))
			return -1;
		if (!val[SH_NAME])
			return cy_fail(ld, n, "keyspace: a shard needs name:");
		if (get_name(ld, "keyspace: shard: name", val[SH_NAME],
			     SHARD_NAME_CHARS, sh->name))
			return -1;
		snprintf(what, sizeof(what), "keyspace: shard '%s': group",
			 sh->name);
		if (val[SH_GROUP]) {
			if (get_name(ld, what, val[SH_GROUP], SHARD_NAME_CHARS,
				     sh->group))
				return -1;
			group_at = val[SH_GROUP];
		} else {
			memcpy(sh->group, sh->name, sizeof(sh->group));
		}
		snprintf(what, sizeof(what), "keyspace: shard '%s': hash-range",
			 sh->name);
		if (val[SH_HASH_RANGE] &&
		    hash_range(ld, what, val[SH_HASH_RANGE], sh))
			return -1;
	} else {
		return cy_fail(ld, n, "keyspace: shards: expected a group name "
			       "or a mapping (name:, group:, hash-range:), got "
			       "%s", cy_kind(n));
	}
	/* hash-range: on every shard or on none: a map that gives some
	 * would leave the rest to guess. */
	if (i && *has_range != !!val[SH_HASH_RANGE])
		return cy_fail(ld, key[SH_HASH_RANGE] ? key[SH_HASH_RANGE] : n,
			       "keyspace: shard '%s': hash-range: give it on "
			       "every shard or on none (the default splits the "
			       "hash space equally)", sh->name);
	*has_range = !!val[SH_HASH_RANGE];
	snprintf(what, sizeof(what), "keyspace: shard '%s': group", sh->name);
	if (shard_group(ld, what, group_at, sh))
		return -1;
	ks->nshards++;
	if (shard_check(ks, i, why, sizeof(why)))
		return cy_fail(ld, n, "keyspace: shard '%s': %s", sh->name, why);
	return 0;
}

static int load_shards(struct loader *ld, struct keyspace *ks, yaml_node_t *k,
		       yaml_node_t *v)
{
	bool has_range = false;
	char why[300];
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE || !(n = cy_seq_len(v)))
		return cy_fail(ld, v, "keyspace: shards: expected a list of 1..%d "
			       "shards (each a backend group's name, or name: "
			       "and group:)", SHARDS_MAX);
	if (n > SHARDS_MAX)
		return cy_fail(ld, v, "keyspace: shards: at most %d shards, got "
			       "%zu", SHARDS_MAX, n);
	for (size_t i = 0; i < n; i++)
		if (load_shard(ld, ks, cy_node(ld, v->data.sequence.items.start[i]),
			       &has_range))
			return -1;
	if (!has_range)
		keyspace_default_ranges(ks);
	/* The ranges' cover, now that all are known. */
	if (keyspace_check(ks, why, sizeof(why)))
		return cy_fail(ld, k, "keyspace: shards: %s", why);
	return 0;
}

/* ---- tables --------------------------------------------------------------- */

static int table_bounds(struct loader *ld, const char *what, yaml_node_t *v,
			struct shard_table *t)
{
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return cy_fail(ld, v, "%s: expected a list of integers, got %s",
			       what, cy_kind(v));
	n = cy_seq_len(v);
	if (n >= SHARDS_MAX)
		return cy_fail(ld, v, "%s: at most %d boundaries", what,
			       SHARDS_MAX - 1);
	t->bounds = malloc((n ? n : 1) * sizeof(*t->bounds));
	if (!t->bounds)
		return cy_fail(ld, v, "out of memory");
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *b = cy_node(ld, v->data.sequence.items.start[i]);
		const char *s;
		char *end;
		size_t digits;

		if (cy_scalar(ld, what, b, &s))
			return -1;
		digits = strspn(s + (s[0] == '-'), "0123456789");
		errno = 0;
		t->bounds[i] = strtoll(s, &end, 10);
		if (!digits || *end || errno)
			return cy_fail(ld, b, "%s: expected a 64-bit integer, got "
				       "'%s'", what, s);
		t->nbounds++;
	}
	return 0;
}

static int table_collation(struct loader *ld, const char *what,
			   yaml_node_t *v, struct shard_table *t)
{
	const char *s;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	for (unsigned i = 0; i < coll_names_count; i++)
		if (!strcasecmp(coll_names[i].name, s)) {
			t->collation = coll_names[i].id;
			return 0;
		}
	return cy_fail(ld, v, "%s: unknown collation '%s'", what, s);
}

/* Keys that only one kind of table takes: an error with another, so
 * that a table never silently ignores part of what it says. */
static int only_with(struct loader *ld, const struct shard_table *t,
		     yaml_node_t **key, enum tb_key k, bool ok, const char *with)
{
	if (!key[k] || ok)
		return 0;
	return cy_fail(ld, key[k], "keyspace: table '%s': %s: only with %s",
		       t->name, tb_keys[k], with);
}

static int table_sharded(struct loader *ld, struct shard_table *t,
			 yaml_node_t *map, yaml_node_t **key, yaml_node_t **val)
{
	static const char *const fns[] = {"hash", "range", "lookup"};
	static const char *const types[] = {"int", "string"};
	char what[160];
	int w;

	if (!val[TK_KEY])
		return cy_fail(ld, map, "keyspace: table '%s': key: required (the "
			       "shard key column; or type: broadcast or "
			       "unsharded)", t->name);
	snprintf(what, sizeof(what), "keyspace: table '%s': key", t->name);
	if (get_name(ld, what, val[TK_KEY], SQL_NAME_CHARS, t->key))
		return -1;
	t->fn = SHARD_FN_HASH;
	if (val[TK_FUNCTION]) {
		snprintf(what, sizeof(what), "keyspace: table '%s': function",
			 t->name);
		w = get_word(ld, what, val[TK_FUNCTION], fns, 3, "hash or range");
		if (w < 0)
			return -1;
		if (w == 2)
			/* A row's shard must follow from the row itself:
			 * a lookup finds the key of a secondary column. */
			return cy_fail(ld, val[TK_FUNCTION], "%s: lookup is "
				       "not a placement (a row's shard follows "
				       "from its key): place the table by hash "
				       "or range and list the secondary column "
				       "under lookup: (docs/sharding.md, "
				       "\"Lookup tables\")", what);
		t->fn = w ? SHARD_FN_RANGE : SHARD_FN_HASH;
	}
	t->key_type = SHARD_KEY_INT;
	if (val[TK_KEY_TYPE]) {
		snprintf(what, sizeof(what), "keyspace: table '%s': key-type",
			 t->name);
		w = get_word(ld, what, val[TK_KEY_TYPE], types, 2,
			     "int or string");
		if (w < 0)
			return -1;
		t->key_type = w ? SHARD_KEY_STRING : SHARD_KEY_INT;
	}
	if (only_with(ld, t, key, TK_COLLATION,
		      t->key_type == SHARD_KEY_STRING, "key-type: string") ||
	    only_with(ld, t, key, TK_BOUNDS, t->fn == SHARD_FN_RANGE,
		      "function: range"))
		return -1;
	if (t->fn == SHARD_FN_RANGE && t->key_type != SHARD_KEY_INT)
		return cy_fail(ld, key[TK_KEY_TYPE], "keyspace: table '%s': "
			       "key-type: function: range needs key-type: int",
			       t->name);
	t->collation = COLL_UTF8MB4_GENERAL_CI;
	snprintf(what, sizeof(what), "keyspace: table '%s': collation", t->name);
	if (val[TK_COLLATION] &&
	    table_collation(ld, what, val[TK_COLLATION], t))
		return -1;
	if (t->fn == SHARD_FN_RANGE && !val[TK_BOUNDS])
		return cy_fail(ld, map, "keyspace: table '%s': bounds: required "
			       "with function: range (one fewer ascending "
			       "boundaries than shards)", t->name);
	snprintf(what, sizeof(what), "keyspace: table '%s': bounds", t->name);
	if (val[TK_BOUNDS] && table_bounds(ld, what, val[TK_BOUNDS], t))
		return -1;
	return 0;
}

/* sequence: the name of one of keyspace: sequences:, for an integer
 * key. */
static int table_sequence(struct loader *ld, const struct keyspace *ks,
			  struct shard_table *t, yaml_node_t *v)
{
	const char *names[SHARD_SEQUENCES_MAX];
	char what[160];

	snprintf(what, sizeof(what), "keyspace: table '%s': sequence", t->name);
	if (get_name(ld, what, v, SQL_NAME_CHARS, t->sequence))
		return -1;
	if (t->key_type != SHARD_KEY_INT)
		return cy_fail(ld, v, "%s: needs key-type: int (a sequence's "
			       "keys are integers)", what);
	if (keyspace_sequence(ks, t->sequence) >= 0)
		return 0;
	for (unsigned i = 0; i < ks->nsequences; i++)
		names[i] = ks->sequences[i].name;
	return cy_unknown(ld, v, what, "sequence", t->sequence, names,
			  ks->nsequences);
}

/* One lookup: column:, unique:, shard: (default: default-shard:, else
 * the first shard), type:, table: (default lookup_<table>_<column>). */
static int table_lookup(struct loader *ld, const struct keyspace *ks,
			struct shard_table *t, yaml_node_t *map)
{
	static const char *const bools[] = {"false", "true", "no", "yes"};
	static const char *const types[] = {"int", "string"};
	struct shard_lookup *l = &t->lookups[t->nlookups];
	yaml_node_t *key[LK__COUNT] = {0}, *val[LK__COUNT] = {0};
	char what[200];
	int w;

	l->line = cy_line(map);
	if (map->type != YAML_MAPPING_NODE)
		return cy_fail(ld, map, "keyspace: table '%s': lookup: expected "
			       "a mapping (column:, unique:, shard:, type:, "
			       "table:), got %s", t->name, cy_kind(map));
	snprintf(what, sizeof(what), "keyspace: table '%s': lookup", t->name);
	if (sort_keys(ld, map, what, lk_keys, LK__COUNT, key, val))
		return -1;
	if (!val[LK_COLUMN])
		return cy_fail(ld, map, "%s: column: required (the secondary "
			       "column)", what);
	snprintf(what, sizeof(what), "keyspace: table '%s': lookup: column",
		 t->name);
	if (get_name(ld, what, val[LK_COLUMN], SQL_NAME_CHARS, l->column))
		return -1;
	snprintf(what, sizeof(what), "keyspace: table '%s': lookup %s",
		 t->name, l->column);
	if (val[LK_UNIQUE]) {
		w = get_word(ld, what, val[LK_UNIQUE], bools, 4,
			     "true or false");
		if (w < 0)
			return -1;
		l->unique = w & 1;
	}
	l->type = SHARD_KEY_STRING;
	if (val[LK_TYPE]) {
		w = get_word(ld, what, val[LK_TYPE], types, 2, "int or string");
		if (w < 0)
			return -1;
		l->type = w ? SHARD_KEY_STRING : SHARD_KEY_INT;
	}
	l->shard = ks->default_shard >= 0 ? (unsigned)ks->default_shard : 0;
	if (val[LK_SHARD] && shard_ref(ld, ks, what, val[LK_SHARD], &l->shard))
		return -1;
	if (val[LK_TABLE]) {
		if (get_name(ld, what, val[LK_TABLE], SQL_NAME_CHARS, l->table))
			return -1;
	} else {
		char name[200];

		snprintf(name, sizeof(name), "lookup_%s_%s", t->name,
			 l->column);
		if (strlen(name) >= sizeof(l->table))
			return cy_fail(ld, map, "%s: table: required (%s is "
				       "longer than 63 characters)", what,
				       name);
		memcpy(l->table, name, strlen(name) + 1);
	}
	t->nlookups++;
	return 0;
}

static int table_lookups(struct loader *ld, const struct keyspace *ks,
			 struct shard_table *t, yaml_node_t *v)
{
	if (v->type != YAML_SEQUENCE_NODE)
		return cy_fail(ld, v, "keyspace: table '%s': lookup: expected a "
			       "list of secondary columns, got %s", t->name,
			       cy_kind(v));
	if (cy_seq_len(v) > SHARD_LOOKUPS_MAX)
		return cy_fail(ld, v, "keyspace: table '%s': lookup: at most %d "
			       "columns", t->name, SHARD_LOOKUPS_MAX);
	for (size_t i = 0; i < cy_seq_len(v); i++)
		if (table_lookup(ld, ks, t,
				 cy_node(ld, v->data.sequence.items.start[i])))
			return -1;
	return 0;
}

static int load_table(struct loader *ld, struct keyspace *ks, yaml_node_t *map)
{
	static const char *const kinds[] = {"sharded", "broadcast", "unsharded"};
	struct shard_table *t = &ks->tables[ks->ntables];
	yaml_node_t *key[TK__COUNT] = {0}, *val[TK__COUNT] = {0};
	char what[160], why[300];
	int w;

	t->line = cy_line(map);
	if (map->type != YAML_MAPPING_NODE)
		return cy_fail(ld, map, "keyspace: tables: expected a mapping "
			       "(name:, key:, function: or type:), got %s",
			       cy_kind(map));
	if (sort_keys(ld, map, "keyspace: table", tb_keys, TK__COUNT, key, val))
		return -1;
	if (!val[TK_NAME])
		return cy_fail(ld, map, "keyspace: a table needs name:");
	if (get_name(ld, "keyspace: table: name", val[TK_NAME], SQL_NAME_CHARS,
		     t->name))
		return -1;
	ks->ntables++;
	t->kind = TABLE_SHARDED;
	if (val[TK_TYPE]) {
		snprintf(what, sizeof(what), "keyspace: table '%s': type",
			 t->name);
		w = get_word(ld, what, val[TK_TYPE], kinds, 3,
			     "sharded, broadcast or unsharded");
		if (w < 0)
			return -1;
		t->kind = (uint8_t)(TABLE_SHARDED + w);
	}
	if (only_with(ld, t, key, TK_SHARD, t->kind == TABLE_UNSHARDED,
		      "type: unsharded"))
		return -1;
	if (only_with(ld, t, key, TK_SEQUENCE, t->kind == TABLE_SHARDED,
		      "a sharded table (its key column gets the sequence's "
		      "keys)"))
		return -1;
	if (only_with(ld, t, key, TK_LOOKUP, t->kind == TABLE_SHARDED,
		      "a sharded table (a lookup finds its key)"))
		return -1;
	for (unsigned k = TK_KEY; k <= TK_BOUNDS; k++)
		if (only_with(ld, t, key, (enum tb_key)k, t->kind == TABLE_SHARDED,
			      "a sharded table (type: sharded, the default)"))
			return -1;
	if (t->kind == TABLE_SHARDED && table_sharded(ld, t, map, key, val))
		return -1;
	if (val[TK_SEQUENCE] && table_sequence(ld, ks, t, val[TK_SEQUENCE]))
		return -1;
	if (val[TK_LOOKUP] && table_lookups(ld, ks, t, val[TK_LOOKUP]))
		return -1;
	if (t->kind == TABLE_UNSHARDED) {
		snprintf(what, sizeof(what), "keyspace: table '%s': shard",
			 t->name);
		if (val[TK_SHARD]) {
			if (shard_ref(ld, ks, what, val[TK_SHARD], &t->shard))
				return -1;
		} else if (ks->default_shard >= 0) {
			t->shard = (unsigned)ks->default_shard;
		} else {
			return cy_fail(ld, map, "keyspace: table '%s': shard: "
				       "required for an unsharded table (there "
				       "is no default-shard)", t->name);
		}
	}
	if (shard_table_check(ks, t, why, sizeof(why)))
		return cy_fail(ld, map, "keyspace: table '%s': %s", t->name, why);
	return 0;
}

static int load_tables(struct loader *ld, struct keyspace *ks, yaml_node_t *v)
{
	size_t n;

	if (cy_is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return cy_fail(ld, v, "keyspace: tables: expected a list of "
			       "tables, got %s", cy_kind(v));
	n = cy_seq_len(v);
	if (n > SHARD_TABLES_MAX)
		return cy_fail(ld, v, "keyspace: tables: at most %d tables",
			       SHARD_TABLES_MAX);
	ks->tables = calloc(n ? n : 1, sizeof(*ks->tables));
	if (!ks->tables)
		return cy_fail(ld, v, "out of memory");
	for (size_t i = 0; i < n; i++)
		if (load_table(ld, ks, cy_node(ld, v->data.sequence.items.start[i])))
			return -1;
	return 0;
}

/* ---- sequences ----------------------------------------------------------- */

/* A positive integer of at most max. */
static int get_count(struct loader *ld, const char *what, yaml_node_t *v,
		     uint64_t max, uint64_t *out)
{
	const char *s;
	char *end;
	size_t digits;

	if (cy_scalar(ld, what, v, &s))
		return -1;
	digits = strspn(s, "0123456789");
	errno = 0;
	*out = strtoull(s, &end, 10);
	if (!digits || *end || errno || !*out || *out > max)
		return cy_fail(ld, v, "%s: expected an integer from 1 to %llu, "
			       "got '%s'", what, (unsigned long long)max, s);
	return 0;
}

static int load_sequence(struct loader *ld, struct keyspace *ks,
			 yaml_node_t *map)
{
	struct shard_sequence *q = &ks->sequences[ks->nsequences];
	yaml_node_t *key[SQ__COUNT] = {0}, *val[SQ__COUNT] = {0};
	char what[160], why[300];

	q->line = cy_line(map);
	q->block = 1000;
	q->start = 1;
	if (map->type != YAML_MAPPING_NODE)
		return cy_fail(ld, map, "keyspace: sequences: expected a mapping "
			       "(name:, shard:, block:, start:), got %s",
			       cy_kind(map));
	if (sort_keys(ld, map, "keyspace: sequence", sq_keys, SQ__COUNT, key,
		      val))
		return -1;
	if (!val[SQ_NAME])
		return cy_fail(ld, map, "keyspace: a sequence needs name:");
	if (get_name(ld, "keyspace: sequence: name", val[SQ_NAME],
		     SQL_NAME_CHARS, q->name))
		return -1;
	snprintf(what, sizeof(what), "keyspace: sequence '%s': shard", q->name);
	if (val[SQ_SHARD]) {
		if (shard_ref(ld, ks, what, val[SQ_SHARD], &q->shard))
			return -1;
	} else if (ks->default_shard >= 0) {
		q->shard = (unsigned)ks->default_shard;
	} else {
		return cy_fail(ld, map, "%s: required (the shard whose "
			       "myring.sequences table holds it; there is no "
			       "default-shard)", what);
	}
	snprintf(what, sizeof(what), "keyspace: sequence '%s': block", q->name);
	if (val[SQ_BLOCK] && get_count(ld, what, val[SQ_BLOCK],
				       SHARD_SEQ_BLOCK_MAX, &q->block))
		return -1;
	snprintf(what, sizeof(what), "keyspace: sequence '%s': start", q->name);
	if (val[SQ_START] && get_count(ld, what, val[SQ_START],
				       (uint64_t)INT64_MAX -
				       SHARD_SEQ_BLOCK_MAX, &q->start))
		return -1;
	ks->nsequences++;
	if (shard_sequence_check(ks, ks->nsequences - 1, why, sizeof(why)))
		return cy_fail(ld, map, "keyspace: sequence '%s': %s", q->name,
			       why);
	return 0;
}

static int load_sequences(struct loader *ld, struct keyspace *ks,
			  yaml_node_t *v)
{
	size_t n;

	if (cy_is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return cy_fail(ld, v, "keyspace: sequences: expected a list of "
			       "sequences, got %s", cy_kind(v));
	n = cy_seq_len(v);
	if (n > SHARD_SEQUENCES_MAX)
		return cy_fail(ld, v, "keyspace: sequences: at most %d sequences",
			       SHARD_SEQUENCES_MAX);
	for (size_t i = 0; i < n; i++)
		if (load_sequence(ld, ks,
				  cy_node(ld, v->data.sequence.items.start[i])))
			return -1;
	return 0;
}

/* ---- the keyspace ----------------------------------------------------------- */

int config_keyspace_load(struct loader *ld, yaml_node_t *k, yaml_node_t *v)
{
	struct config *cfg = cy_config(ld);
	yaml_node_t *key[KS__COUNT] = {0}, *val[KS__COUNT] = {0};
	struct keyspace *ks;
	char why[300];

	if (cy_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return cy_fail(ld, v, "keyspace: expected a mapping (schema:, "
			       "shards:, tables:), got %s", cy_kind(v));
	if (sort_keys(ld, v, "keyspace", ks_keys, KS__COUNT, key, val))
		return -1;
	if (!cfg->ngroups)
		return cy_fail(ld, k, "keyspace: needs groups: (each shard is a "
			       "backend group)");
	if (!val[KS_SCHEMA])
		return cy_fail(ld, v, "keyspace: schema: required (the database "
			       "clients use; every shard has one of that name)");
	if (!val[KS_SHARDS])
		return cy_fail(ld, v, "keyspace: shards: required (the backend "
			       "groups the tables are spread over)");
	ks = calloc(1, sizeof(*ks));
	if (!ks)
		return cy_fail(ld, v, "out of memory");
	cfg->keyspace = ks;
	ks->default_shard = -1;
	if (get_name(ld, "keyspace: schema", val[KS_SCHEMA], SQL_NAME_CHARS,
		     ks->schema) ||
	    load_shards(ld, ks, key[KS_SHARDS], val[KS_SHARDS]))
		return -1;
	if (val[KS_DEFAULT_SHARD] && !cy_is_null(val[KS_DEFAULT_SHARD])) {
		unsigned s;

		if (shard_ref(ld, ks, "keyspace: default-shard",
			      val[KS_DEFAULT_SHARD], &s))
			return -1;
		ks->default_shard = (int)s;
	}
	/* Before the tables, which name them. */
	if (val[KS_SEQUENCES] && load_sequences(ld, ks, val[KS_SEQUENCES]))
		return -1;
	if (val[KS_TABLES] && load_tables(ld, ks, val[KS_TABLES]))
		return -1;
	/* Everything was checked where it stands; this is the backstop. */
	if (keyspace_check(ks, why, sizeof(why)))
		return cy_fail(ld, v, "keyspace: %s", why);
	return 0;
}

void config_keyspace_drop(struct keyspace *ks)
{
	keyspace_free(ks);
	free(ks);
}
