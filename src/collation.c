#include "collation.h"

#include <stdio.h>
#include <string.h>

/* Character-set families, in the order of what they can hold. */
enum family { FAM_NONE, FAM_LATIN1, FAM_UTF8MB3, FAM_UTF8MB4, FAM_BINARY };

/* A bad byte weighs more than any character (MariaDB's WEIGHT_ILSEQ). */
#define WEIGHT_ILSEQ(b) (0xFF0000 + (int32_t)(b))
#define NO_WEIGHT       (-1)

const char *coll_name(uint16_t id)
{
	unsigned lo = 0, hi = coll_names_count;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;

		if (coll_names[mid].id == id)
			return coll_names[mid].name;
		if (coll_names[mid].id < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

static enum family family_of(uint16_t id)
{
	const char *name = coll_name(id);

	if (!name)
		return FAM_NONE;
	if (!strcmp(name, "binary"))
		return FAM_BINARY;
	if (has_prefix(name, "latin1_"))
		return FAM_LATIN1;
	if (has_prefix(name, "utf8mb3_") || has_prefix(name, "utf8_"))
		return FAM_UTF8MB3;
	if (has_prefix(name, "utf8mb4_"))
		return FAM_UTF8MB4;
	return FAM_NONE;
}

unsigned coll_mbmaxlen(uint16_t id)
{
	switch (family_of(id)) {
	case FAM_UTF8MB3:
		return 3;
	case FAM_UTF8MB4:
		return 4;
	default:
		return 1;
	}
}

/* What this file implements, by id. */
static const struct {
	uint16_t id;
	uint8_t kind;
	bool pad;
	bool latin1_ci;
} known[] = {
	{COLL_BINARY, COLL_KIND_BINARY, false, false},
	{COLL_LATIN1_SWEDISH_CI, COLL_KIND_LATIN1, true, true},
	{COLL_LATIN1_SWEDISH_NOPAD_CI, COLL_KIND_LATIN1, false, true},
	{COLL_LATIN1_BIN, COLL_KIND_LATIN1, true, false},
	{COLL_LATIN1_NOPAD_BIN, COLL_KIND_LATIN1, false, false},
	{COLL_UTF8MB3_GENERAL_CI, COLL_KIND_GENERAL, true, false},
	{COLL_UTF8MB3_GENERAL_NOPAD_CI, COLL_KIND_GENERAL, false, false},
	{COLL_UTF8MB4_GENERAL_CI, COLL_KIND_GENERAL, true, false},
	{COLL_UTF8MB4_GENERAL_NOPAD_CI, COLL_KIND_GENERAL, false, false},
	{COLL_UTF8MB3_BIN, COLL_KIND_UNI_BIN, true, false},
	{COLL_UTF8MB3_NOPAD_BIN, COLL_KIND_UNI_BIN, false, false},
	{COLL_UTF8MB4_BIN, COLL_KIND_UNI_BIN, true, false},
	{COLL_UTF8MB4_NOPAD_BIN, COLL_KIND_UNI_BIN, false, false},
	{COLL_UTF8MB3_UNICODE_CI, COLL_KIND_UCA, true, false},
	{COLL_UTF8MB3_UNICODE_NOPAD_CI, COLL_KIND_UCA, false, false},
	{COLL_UTF8MB4_UNICODE_CI, COLL_KIND_UCA, true, false},
	{COLL_UTF8MB4_UNICODE_NOPAD_CI, COLL_KIND_UCA, false, false},
};

static void name_or_id(uint16_t id, char *buf, size_t len)
{
	const char *name = coll_name(id);

	if (name)
		snprintf(buf, len, "%s", name);
	else
		snprintf(buf, len, "id %u", (unsigned)id);
}

int coll_resolve(uint16_t id, uint16_t wire_charset, const char *use,
		 struct coll *c, char *err, size_t errlen)
{
	enum family own = family_of(id), wire = family_of(wire_charset);
	char cname[64], wname[64];
	unsigned i;

	name_or_id(id, cname, sizeof(cname));
	name_or_id(wire_charset, wname, sizeof(wname));
	for (i = 0; i < sizeof(known) / sizeof(known[0]); i++)
		if (known[i].id == id)
			break;
	if (i == sizeof(known) / sizeof(known[0])) {
		snprintf(err, errlen,
			 "myring: collation %s not supported for cross-shard %s",
			 cname, use);
		return -1;
	}
	memset(c, 0, sizeof(*c));
	c->id = id;
	c->kind = known[i].kind;
	c->pad = known[i].pad;
	c->latin1_ci = known[i].latin1_ci;
	/* Binary: the bytes as they arrive. */
	if (own == FAM_BINARY)
		return 0;
	/* A binary column definition: the column's own bytes, unconverted. */
	if (wire == FAM_BINARY)
		wire = own;
	if (wire == FAM_NONE || wire < own) {
		snprintf(err, errlen,
			 "myring: collation %s not supported for cross-shard %s "
			 "when results arrive in character set %s",
			 cname, use, wname);
		return -1;
	}
	c->wire = wire == FAM_LATIN1    ? COLL_WIRE_LATIN1
		  : wire == FAM_UTF8MB3 ? COLL_WIRE_UTF8MB3
					: COLL_WIRE_UTF8MB4;
	return 0;
}

/* ---- decoding ------------------------------------------------------------ */

/* The next code point of UTF-8 at *p (< end): its value and length, or
 * -1 with length 1 for a byte that does not start a valid sequence (or a
 * 4-byte one where only utf8mb3 may arrive). */
static int32_t utf8_next(const uint8_t *p, const uint8_t *end, bool mb4,
			 unsigned *len)
{
	uint8_t c = p[0];
	size_t left = (size_t)(end - p);

	*len = 1;
	if (c < 0x80)
		return c;
	if (c < 0xC2)
		return -1;
	if (c < 0xE0) {
		if (left < 2 || (p[1] & 0xC0) != 0x80)
			return -1;
		*len = 2;
		return (int32_t)(c & 0x1F) << 6 | (p[1] & 0x3F);
	}
	if (c < 0xF0) {
		if (left < 3 || (p[1] & 0xC0) != 0x80 || (p[2] & 0xC0) != 0x80 ||
		    (c == 0xE0 && p[1] < 0xA0))
			return -1;
		*len = 3;
		return (int32_t)(c & 0x0F) << 12 | (int32_t)(p[1] & 0x3F) << 6 |
		       (p[2] & 0x3F);
	}
	if (!mb4 || c > 0xF4 || left < 4 || (p[1] & 0xC0) != 0x80 ||
	    (p[2] & 0xC0) != 0x80 || (p[3] & 0xC0) != 0x80 ||
	    (c == 0xF0 && p[1] < 0x90) || (c == 0xF4 && p[1] > 0x8F))
		return -1;
	*len = 4;
	return (int32_t)(c & 0x07) << 18 | (int32_t)(p[1] & 0x3F) << 12 |
	       (int32_t)(p[2] & 0x3F) << 6 | (p[3] & 0x3F);
}

size_t coll_latin1_to_utf8(const uint8_t *s, size_t len, char *out)
{
	uint8_t *o = (uint8_t *)out;

	for (size_t i = 0; i < len; i++) {
		uint32_t cp = coll_latin1_unicode[s[i]];

		if (cp < 0x80) {
			*o++ = (uint8_t)cp;
		} else if (cp < 0x800) {
			*o++ = (uint8_t)(0xC0 | cp >> 6);
			*o++ = (uint8_t)(0x80 | (cp & 0x3F));
		} else {
			*o++ = (uint8_t)(0xE0 | cp >> 12);
			*o++ = (uint8_t)(0x80 | (cp >> 6 & 0x3F));
			*o++ = (uint8_t)(0x80 | (cp & 0x3F));
		}
	}
	return (size_t)(o - (uint8_t *)out);
}

/* The latin1 byte for code point cp (MariaDB's latin1 is cp1252), or -1. */
static int latin1_from_unicode(int32_t cp)
{
	if (cp < 0x80 || (cp >= 0xA0 && cp <= 0xFF))
		return cp;
	for (int b = 0x80; b < 0xA0; b++)
		if (coll_latin1_unicode[b] == cp)
			return b;
	return -1;
}

/* ---- weights ---------------------------------------------------------- */

/* UCA 4.0.0 implicit weights for code points without an entry. */
static void uca_implicit(int32_t cp, uint16_t out[2])
{
	uint16_t base = 0xFBC0;

	if ((cp >= 0x4E00 && cp <= 0x9FA5) || cp == 0xFA0E || cp == 0xFA0F ||
	    cp == 0xFA11 || cp == 0xFA13 || cp == 0xFA14 || cp == 0xFA1F ||
	    cp == 0xFA21 || cp == 0xFA23 || cp == 0xFA24 ||
	    (cp >= 0xFA27 && cp <= 0xFA29))
		base = 0xFB40;
	else if (cp >= 0x3400 && cp <= 0x4DB5)
		base = 0xFB80;
	out[0] = (uint16_t)(base + (cp >> 15));
	out[1] = (uint16_t)((cp & 0x7FFF) | 0x8000);
}

/* Walks the weights of one string. */
struct scan {
	const struct coll *c;
	const uint8_t *p, *end;
	const uint16_t *pend;  /* UCA weights of the current character */
	unsigned npend;
	uint16_t tmp[2];
};

static int32_t scan_next(struct scan *s)
{
	const struct coll *c = s->c;

	for (;;) {
		int32_t cp;
		unsigned len;

		if (s->npend) {
			s->npend--;
			return *s->pend++;
		}
		if (s->p >= s->end)
			return NO_WEIGHT;
		if (c->wire == COLL_WIRE_LATIN1) {
			cp = c->kind == COLL_KIND_LATIN1 ? s->p[0]
							 : coll_latin1_unicode[s->p[0]];
			len = 1;
		} else {
			cp = utf8_next(s->p, s->end, c->wire == COLL_WIRE_UTF8MB4,
				       &len);
			if (cp < 0)
				return WEIGHT_ILSEQ(*s->p++);
			if (c->kind == COLL_KIND_LATIN1) {
				cp = latin1_from_unicode(cp);
				if (cp < 0)
					return WEIGHT_ILSEQ(*s->p++);
			}
		}
		s->p += len;
		switch (c->kind) {
		case COLL_KIND_LATIN1:
			return c->latin1_ci ? coll_latin1_swedish[cp] : cp;
		case COLL_KIND_UNI_BIN:
			return cp;
		case COLL_KIND_GENERAL: {
			unsigned page;

			if (cp > 0xFFFF)
				return 0xFFFD;
			page = coll_general_index[cp >> 8];
			return page ? coll_general_pages[page - 1][cp & 0xFF] : cp;
		}
		default: {
			unsigned page, idx, n;

			/* The weight 0xFFFD (not U+FFFD's weights), as the
			 * server's utf8mb4_unicode_ci gives them. */
			if (cp > 0xFFFF)
				return 0xFFFD;
			page = coll_uca_index[cp >> 8];
			idx = page ? (page - 1) * 256 + (unsigned)(cp & 0xFF) : 0;
			n = page ? coll_uca_count[idx] : 15;
			if (n == 15) {
				uca_implicit(cp, s->tmp);
				s->pend = s->tmp;
				s->npend = 2;
			} else if (n == 1) {
				return coll_uca_word[idx];
			} else {
				/* n == 0: ignorable, no weight at all. */
				s->pend = coll_uca_pool + coll_uca_word[idx];
				s->npend = n;
			}
			continue;
		}
		}
	}
}

static int32_t space_weight(const struct coll *c)
{
	return c->kind == COLL_KIND_UCA ? 0x0209 : 0x20;
}

int coll_cmp(const struct coll *c, const uint8_t *a, size_t alen,
	     const uint8_t *b, size_t blen)
{
	struct scan sa = {.c = c, .p = a, .end = a + alen};
	struct scan sb = {.c = c, .p = b, .end = b + blen};

	if (c->kind == COLL_KIND_BINARY) {
		size_t n = alen < blen ? alen : blen;
		int r = n ? memcmp(a, b, n) : 0;

		return r ? r : (alen > blen) - (alen < blen);
	}
	for (;;) {
		int32_t wa = scan_next(&sa), wb = scan_next(&sb);

		if (wa == NO_WEIGHT && wb == NO_WEIGHT)
			return 0;
		if (wa == NO_WEIGHT || wb == NO_WEIGHT) {
			/* One string ended: with PAD SPACE the rest of the
			 * other compares with spaces; without, it is longer. */
			struct scan *rest = wa == NO_WEIGHT ? &sb : &sa;
			int sign = wa == NO_WEIGHT ? -1 : 1;
			int32_t w = wa == NO_WEIGHT ? wb : wa;

			if (!c->pad)
				return sign;
			for (; w != NO_WEIGHT; w = scan_next(rest))
				if (w != space_weight(c))
					return w > space_weight(c) ? sign : -sign;
			return 0;
		}
		if (wa != wb)
			return wa < wb ? -1 : 1;
	}
}

int coll_weights(const struct coll *c, const uint8_t *s, size_t len,
		 void (*fn)(void *arg, uint32_t w), void *arg)
{
	struct scan sc = {.c = c, .p = s, .end = s + len};
	size_t spaces = 0;
	int32_t w;

	if (c->kind == COLL_KIND_BINARY) {
		for (size_t i = 0; i < len; i++)
			fn(arg, s[i]);
		return 0;
	}
	/* Spaces are held back until something other than a space follows:
	 * trailing ones (PAD SPACE) never reach fn. */
	while ((w = scan_next(&sc)) != NO_WEIGHT) {
		if (w >= WEIGHT_ILSEQ(0))
			return -1;
		if (c->pad && w == space_weight(c)) {
			spaces++;
			continue;
		}
		for (; spaces; spaces--)
			fn(arg, (uint32_t)space_weight(c));
		fn(arg, (uint32_t)w);
	}
	return 0;
}
