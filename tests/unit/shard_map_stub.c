/*
 * Stand-ins for the shard map's lookups (shard_map.c) while the planner
 * is tested without it: weak, so the real functions replace them once
 * shard_map.c is linked into the unit tests.  The planner's tests never
 * assume which shard a value lands on: they ask shard_for_value().
 */
#include "shard_map.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

__attribute__((weak))
const struct shard_table *keyspace_table(const struct keyspace *ks,
					 const char *name, size_t len)
{
	for (unsigned i = 0; i < ks->ntables; i++)
		if (strlen(ks->tables[i].name) == len &&
		    !strncasecmp(ks->tables[i].name, name, len))
			return &ks->tables[i];
	return NULL;
}

__attribute__((weak))
int shard_for_value(const struct keyspace *ks, const struct shard_table *t,
		    const char *v, size_t len, bool is_string)
{
	char buf[64];
	char *end;
	long long k;
	uint64_t h = 0;

	if (!t)
		return -1;
	if (t->kind == TABLE_UNSHARDED)
		return (int)t->shard;
	if (t->kind != TABLE_SHARDED)
		return -1;
	if (t->key_type == SHARD_KEY_STRING) {
		if (!is_string)
			return -1;
		while (len && v[len - 1] == ' ')
			len--;
		for (size_t i = 0; i < len; i++)
			h = h * 31 + (unsigned char)tolower((unsigned char)v[i]);
		return (int)(h % ks->nshards);
	}
	if (len >= sizeof(buf))
		return -1;
	memcpy(buf, v, len);
	buf[len] = '\0';
	errno = 0;
	k = strtoll(buf, &end, 10);
	if (errno || end == buf || *end)
		return -1;
	if (t->fn == SHARD_FN_RANGE) {
		unsigned i = 0;

		while (i < t->nbounds && k >= t->bounds[i])
			i++;
		return (int)i;
	}
	h = (uint64_t)k * 0x9E3779B97F4A7C15ull;
	return (int)((h >> 32) % ks->nshards);
}
