#include "digest_stats.h"

#include <stdlib.h>
#include <string.h>

#define EVICT_SAMPLES 8

static uint64_t mix64(uint64_t x)
{
	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdull;
	x ^= x >> 33;
	x *= 0xc4ceb9fe1a85ec53ull;
	x ^= x >> 33;
	return x;
}

static uint64_t str_hash(uint64_t h, const char *s)
{
	for (; *s; s++)
		h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
	return h;
}

static uint64_t entry_key(uint64_t digest, const char *user,
			  const char *schema)
{
	uint64_t h = str_hash(0xcbf29ce484222325ull, user);
	h = str_hash(h ^ 0xff, schema);
	h = mix64(digest ^ mix64(h));
	return h ? h : 1;
}

int dstat_init(struct dstat_table *t, uint32_t max)
{
	uint32_t slots = 16;

	memset(t, 0, sizeof(*t));
	while (slots < max * 2u)
		slots <<= 1;
	t->max = max;
	t->mask = slots - 1;
	t->slots = calloc(slots, sizeof(*t->slots));
	/* calloc of a large block maps zero pages: untouched entries cost
	 * no resident memory. */
	t->pool = calloc(max, sizeof(*t->pool));
	t->free_idx = malloc(max * sizeof(*t->free_idx));
	t->rng = 0x9e3779b97f4a7c15ull;
	if (!t->slots || !t->pool || !t->free_idx) {
		dstat_destroy(t);
		return -1;
	}
	return 0;
}

void dstat_destroy(struct dstat_table *t)
{
	if (t->pool)
		for (uint32_t i = 0; i < t->used; i++)
			free(t->pool[i].text);
	free(t->slots);
	free(t->pool);
	free(t->free_idx);
	memset(t, 0, sizeof(*t));
}

void dstat_reset(struct dstat_table *t)
{
	for (uint32_t i = 0; i < t->used; i++) {
		free(t->pool[i].text);
		t->pool[i].text = NULL;
		t->pool[i].key = 0;
		t->pool[i].gen++;
		t->free_idx[i] = t->used - 1 - i;
	}
	t->nfree = t->used;
	t->live = 0;
	t->evictions = 0;
	memset(t->slots, 0, (t->mask + 1) * sizeof(*t->slots));
}

static bool entry_is(const struct dstat *e, uint64_t key, uint64_t digest,
		     const char *user, const char *schema)
{
	return e->key == key && e->digest == digest &&
	       !strncmp(e->user, user, DSTAT_USER_MAX - 1) &&
	       !strncmp(e->schema, schema, DSTAT_SCHEMA_MAX - 1);
}

/* Linear probing; deletion shifts later members of the cluster back so
 * lookups never need tombstones. */
static void slot_delete(struct dstat_table *t, uint32_t pos)
{
	uint32_t hole = pos, i = pos;

	for (;;) {
		uint32_t idx, home;

		i = (i + 1) & t->mask;
		idx = t->slots[i];
		if (!idx)
			break;
		home = (uint32_t)t->pool[idx - 1].key & t->mask;
		/* Move it into the hole unless its home lies cyclically in
		 * (hole, i]. */
		if ((i > hole && (home <= hole || home > i)) ||
		    (i < hole && home <= hole && home > i)) {
			t->slots[hole] = idx;
			hole = i;
		}
	}
	t->slots[hole] = 0;
}

static uint32_t slot_find(const struct dstat_table *t, uint32_t idx)
{
	uint32_t i = (uint32_t)t->pool[idx].key & t->mask;

	while (t->slots[i] != idx + 1)
		i = (i + 1) & t->mask;
	return i;
}

static uint32_t evict_one(struct dstat_table *t)
{
	uint32_t victim = UINT32_MAX;
	uint64_t oldest = UINT64_MAX;

	for (int k = 0; k < EVICT_SAMPLES; k++) {
		uint32_t idx;
		t->rng ^= t->rng << 13;
		t->rng ^= t->rng >> 7;
		t->rng ^= t->rng << 17;
		idx = (uint32_t)(t->rng % t->used);
		if (t->pool[idx].key && t->pool[idx].last_seen < oldest) {
			oldest = t->pool[idx].last_seen;
			victim = idx;
		}
	}
	if (victim == UINT32_MAX) {
		/* Every sample was free space: take the first live one. */
		for (victim = 0; !t->pool[victim].key; victim++)
			;
	}
	slot_delete(t, slot_find(t, victim));
	free(t->pool[victim].text);
	t->pool[victim].text = NULL;
	t->pool[victim].key = 0;
	t->pool[victim].gen++;
	t->live--;
	t->evictions++;
	return victim;
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);
	memcpy(dst, src, n);
	dst[n] = '\0';
}

uint64_t dstat_touch(struct dstat_table *t, uint64_t digest, const char *text,
		     size_t text_len, const char *user, const char *schema,
		     uint64_t now_s)
{
	uint64_t key = entry_key(digest, user, schema);
	uint32_t i = (uint32_t)key & t->mask, idx;
	struct dstat *e;
	char *copy;

	for (; t->slots[i]; i = (i + 1) & t->mask) {
		e = &t->pool[t->slots[i] - 1];
		if (entry_is(e, key, digest, user, schema))
			return (uint64_t)t->slots[i] << 32 | e->gen;
	}
	copy = malloc(text_len + 1);
	if (!copy)
		return 0;
	memcpy(copy, text, text_len);
	copy[text_len] = '\0';
	if (t->nfree) {
		idx = t->free_idx[--t->nfree];
	} else if (t->used < t->max) {
		idx = t->used++;
	} else {
		idx = evict_one(t);
		/* The deletion may have moved entries: probe again. */
		for (i = (uint32_t)key & t->mask; t->slots[i];
		     i = (i + 1) & t->mask)
			;
	}
	e = &t->pool[idx];
	uint32_t gen = e->gen;
	memset(e, 0, sizeof(*e));
	e->gen = gen;
	e->key = key;
	e->digest = digest;
	e->text = copy;
	copy_str(e->user, sizeof(e->user), user);
	copy_str(e->schema, sizeof(e->schema), schema);
	e->min_us = UINT64_MAX;
	e->first_seen = e->last_seen = now_s;
	t->slots[i] = idx + 1;
	t->live++;
	return (uint64_t)(idx + 1) << 32 | e->gen;
}

void dstat_record(struct dstat_table *t, uint64_t cookie, uint64_t us,
		  bool error, uint64_t rows, uint64_t affected, uint64_t now_s)
{
	uint32_t idx = (uint32_t)(cookie >> 32) - 1;
	struct dstat *e;

	if (!cookie || idx >= t->used)
		return;
	e = &t->pool[idx];
	if (e->gen != (uint32_t)cookie || !e->key)
		return;
	e->count++;
	e->errors += error;
	e->rows_sent += rows;
	e->rows_affected += affected;
	e->sum_us += us;
	if (us < e->min_us)
		e->min_us = us;
	if (us > e->max_us)
		e->max_us = us;
	e->last_seen = now_s;
	hist_record(&e->hist, us);
}

int dstat_snapshot(const struct dstat_table *t, struct dstat_rows *out)
{
	size_t n = 0;

	out->rows = malloc((t->live ? t->live : 1) * sizeof(*out->rows));
	out->n = 0;
	if (!out->rows)
		return -1;
	for (uint32_t i = 0; i < t->used; i++) {
		const struct dstat *e = &t->pool[i];
		if (!e->key)
			continue;
		out->rows[n] = *e;
		out->rows[n].text = strdup(e->text ? e->text : "");
		if (!out->rows[n].text) {
			out->n = n;
			dstat_rows_free(out);
			return -1;
		}
		n++;
	}
	out->n = n;
	return 0;
}

static int cmp_entry(const void *a, const void *b)
{
	const struct dstat *x = a, *y = b;
	int c;

	if (x->key != y->key)
		return x->key < y->key ? -1 : 1;
	if (x->digest != y->digest)
		return x->digest < y->digest ? -1 : 1;
	c = strcmp(x->user, y->user);
	return c ? c : strcmp(x->schema, y->schema);
}

int dstat_merge(struct dstat_rows *in, unsigned nin, struct dstat_rows *out)
{
	size_t total = 0, n = 0;
	struct dstat *all;

	for (unsigned i = 0; i < nin; i++)
		total += in[i].n;
	all = malloc((total ? total : 1) * sizeof(*all));
	if (!all)
		return -1;
	for (unsigned i = 0; i < nin; i++) {
		memcpy(all + n, in[i].rows, in[i].n * sizeof(*all));
		n += in[i].n;
		free(in[i].rows);
		in[i].rows = NULL;
		in[i].n = 0;
	}
	qsort(all, n, sizeof(*all), cmp_entry);
	out->n = 0;
	for (size_t i = 0; i < n; i++) {
		struct dstat *m = out->n ? &all[out->n - 1] : NULL;
		struct dstat *e = &all[i];

		if (m && cmp_entry(m, e) == 0) {
			m->count += e->count;
			m->errors += e->errors;
			m->rows_sent += e->rows_sent;
			m->rows_affected += e->rows_affected;
			m->sum_us += e->sum_us;
			if (e->min_us < m->min_us)
				m->min_us = e->min_us;
			if (e->max_us > m->max_us)
				m->max_us = e->max_us;
			if (e->first_seen < m->first_seen)
				m->first_seen = e->first_seen;
			if (e->last_seen > m->last_seen)
				m->last_seen = e->last_seen;
			hist_merge(&m->hist, &e->hist);
			free(e->text);
			continue;
		}
		all[out->n++] = *e;
	}
	out->rows = all;
	return 0;
}

void dstat_rows_free(struct dstat_rows *r)
{
	for (size_t i = 0; i < r->n; i++)
		free(r->rows[i].text);
	free(r->rows);
	r->rows = NULL;
	r->n = 0;
}
