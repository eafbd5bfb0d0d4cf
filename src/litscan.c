/*
 * litscan.c - required-literal extraction from PCRE2 patterns, and an
 * Aho-Corasick automaton that finds many literals in one pass.
 *
 * Extraction walks the pattern's top level and keeps the longest run of
 * characters that must appear consecutively in every match.  Anything it
 * does not fully understand ends the current run, and a top-level
 * alternation or extended mode gives up (returns 0), so the answer is
 * never wrong, only sometimes missing.  Characters >= 0x80 end runs:
 * under PCRE2_UTF | PCRE2_CASELESS a non-ASCII character of the query can
 * match an ASCII one of the pattern (KELVIN SIGN and 'k'), so the scan
 * treats any query containing such bytes as containing every literal.
 *
 * The automaton works on byte classes: the ASCII letters, digits and
 * punctuation that occur in some literal (upper and lower case folded into
 * one class) and one class for everything else, so the transition table is
 * states x (classes) rather than states x 256.
 */
#include "litscan.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- extraction --------------------------------------------------------- */

struct run {
	char *out;
	size_t cap;
	char cur[256];
	size_t cur_len;
	size_t best;
};

static void run_end(struct run *r)
{
	if (r->cur_len > r->best) {
		size_t n = r->cur_len < r->cap ? r->cur_len : r->cap;
		memcpy(r->out, r->cur, n);
		r->best = n;
	}
	r->cur_len = 0;
}

static void run_add(struct run *r, unsigned char c)
{
	if (c >= 0x80) {
		run_end(r);
		return;
	}
	if (r->cur_len == sizeof(r->cur))
		run_end(r);
	r->cur[r->cur_len++] = (char)tolower(c);
}

/* Index of the ']' closing the class that opens at p[i] == '[' (a ']'
 * first in the class is a member; POSIX [:name:] inside), or len. */
static size_t class_end(const char *p, size_t len, size_t i)
{
	i++;
	if (i < len && p[i] == '^')
		i++;
	if (i < len && p[i] == ']')
		i++;
	while (i < len && p[i] != ']') {
		if (p[i] == '[' && i + 1 < len && p[i + 1] == ':') {
			const char *end = memchr(p + i + 2, ']', len - i - 2);
			i = end ? (size_t)(end - p) + 1 : len;
			continue;
		}
		if (p[i] == '\\')
			i++;
		i++;
	}
	return i < len ? i : len;
}

/* Index just past the group opening at p[i] == '(', or 0 if unbalanced. */
static size_t skip_group(const char *p, size_t len, size_t i)
{
	int depth = 0;

	for (; i < len; i++) {
		if (p[i] == '\\') {
			i++;
		} else if (p[i] == '[') {
			i = class_end(p, len, i);
		} else if (p[i] == '(') {
			depth++;
		} else if (p[i] == ')') {
			if (--depth == 0)
				return i + 1;
		}
	}
	return 0;
}

/* A quantifier at p[i]: its length, and whether it allows zero copies. */
static size_t quantifier(const char *p, size_t len, size_t i, bool *optional)
{
	size_t j = i + 1;
	unsigned long min = 0;
	bool digits = false;

	switch (p[i]) {
	case '*':
	case '?':
		*optional = true;
		break;
	case '+':
		*optional = false;
		break;
	case '{':
		while (j < len && isdigit((unsigned char)p[j])) {
			min = min * 10 + (unsigned long)(p[j] - '0');
			if (min > 100000)
				min = 100000;
			digits = true;
			j++;
		}
		if (j < len && p[j] == ',') {
			j++;
			while (j < len && isdigit((unsigned char)p[j]))
				j++;
		}
		if (!digits || j >= len || p[j] != '}')
			return 0;           /* a literal '{' */
		*optional = min == 0;
		j++;
		break;
	default:
		return 0;
	}
	/* Lazy or possessive suffix. */
	if (j < len && (p[j] == '?' || p[j] == '+'))
		j++;
	return j - i;
}

/* After an atom that is not a literal (a group, class, escape, '.'), its
 * quantifier changes nothing for the literal: skip it. */
static size_t skip_quantifier(const char *p, size_t len, size_t i)
{
	bool optional;
	size_t q = i < len ? quantifier(p, len, i, &optional) : 0;

	return i + q;
}

size_t litscan_required(const char *p, size_t len, char *out, size_t cap)
{
	struct run r = {.out = out, .cap = cap};
	size_t i = 0;

	if (!cap)
		return 0;
	for (size_t k = 0; k + 1 < len; k++)
		if (p[k] == '(' && p[k + 1] == '?') {
			/* Extended mode changes what whitespace and '#' mean. */
			for (size_t m = k + 2; m < len && p[m] != ')' && p[m] != ':'; m++)
				if (p[m] == 'x')
					return 0;
		}
	if (len >= 2 && p[0] == '(' && p[1] == '*')
		return 0;
	while (i < len) {
		unsigned char c = (unsigned char)p[i];
		size_t q;
		bool optional;

		switch (c) {
		case '|':
			return 0;
		case '(':
			q = skip_group(p, len, i);
			if (!q)
				return 0;
			run_end(&r);
			i = skip_quantifier(p, len, q);
			break;
		case ')':
			return 0;
		case '[':
			run_end(&r);
			i = class_end(p, len, i);
			if (i >= len)
				return 0;
			i = skip_quantifier(p, len, i + 1);
			break;
		case '.':
			run_end(&r);
			i = skip_quantifier(p, len, i + 1);
			break;
		case '^':
		case '$':
			run_end(&r);
			i++;
			break;
		case '\\':
			if (i + 1 >= len)
				return 0;
			c = (unsigned char)p[i + 1];
			if (c == 'Q') {
				/* \Q...\E: literal; a quantifier after \E applies
				 * to its last character only. */
				i += 2;
				while (i < len && !(p[i] == '\\' && i + 1 < len &&
						    p[i + 1] == 'E'))
					run_add(&r, (unsigned char)p[i++]);
				if (i < len)
					i += 2;
				continue;
			}
			if (isalnum(c)) {
				run_end(&r);
				i = skip_quantifier(p, len, i + 2);
				continue;
			}
			i += 2;
			goto literal;
		case '*':
		case '+':
		case '?':
			return 0;             /* nothing to repeat: not ours */
		default:
			i++;
		literal:
			/* c is one literal character; a quantifier may follow. */
			if (i < len && (q = quantifier(p, len, i, &optional))) {
				if (!optional)
					run_add(&r, c);
				run_end(&r);
				i += q;
				break;
			}
			run_add(&r, c);
			break;
		}
	}
	run_end(&r);
	return r.best;
}

/* ---- Aho-Corasick --------------------------------------------------------- */

struct litscan {
	unsigned n;
	unsigned nclass;
	uint8_t cls[256];
	uint32_t nstates;
	uint32_t *delta;           /* [state * nclass + class] */
	int32_t *out;              /* first literal ending at the state, -1 */
	uint32_t *dict;            /* next state with output on the fail chain */
	int32_t *next_lit;         /* further literals ending at the same state */
	uint64_t *empty;           /* literals of length 0: always found */
};

void litscan_free(struct litscan *ls)
{
	if (!ls)
		return;
	free(ls->delta);
	free(ls->out);
	free(ls->dict);
	free(ls->next_lit);
	free(ls->empty);
	free(ls);
}

static unsigned fold(unsigned char c)
{
	return c < 0x80 ? (unsigned)tolower(c) : c;
}

struct litscan *litscan_build(const char *const *lits, const size_t *lens,
			      unsigned n)
{
	struct litscan *ls = calloc(1, sizeof(*ls));
	size_t total = 1, words = (n + 63) / 64;
	uint32_t *fail = NULL, *queue = NULL;

	if (!ls)
		return NULL;
	ls->n = n;
	ls->nclass = 1;
	for (unsigned i = 0; i < n; i++) {
		total += lens[i];
		for (size_t k = 0; k < lens[i]; k++) {
			unsigned f = fold((unsigned char)lits[i][k]);
			if (!ls->cls[f]) {
				ls->cls[f] = (uint8_t)ls->nclass++;
				if (f < 0x80 && isalpha((int)f))
					ls->cls[toupper((int)f)] = ls->cls[f];
			}
		}
	}
	if (ls->nclass > 255) {
		/* Cannot happen with case folding (at most 1 + 26 + 102 + 128
		 * classes is > 255 only with every byte used): refuse. */
		litscan_free(ls);
		return NULL;
	}
	ls->delta = calloc(total * ls->nclass, sizeof(*ls->delta));
	ls->out = malloc(total * sizeof(*ls->out));
	ls->dict = calloc(total, sizeof(*ls->dict));
	ls->next_lit = malloc((n ? n : 1) * sizeof(*ls->next_lit));
	ls->empty = calloc(words ? words : 1, sizeof(*ls->empty));
	fail = calloc(total, sizeof(*fail));
	queue = malloc(total * sizeof(*queue));
	if (!ls->delta || !ls->out || !ls->dict || !ls->next_lit || !ls->empty ||
	    !fail || !queue)
		goto oom;
	for (size_t s = 0; s < total; s++)
		ls->out[s] = -1;
	/* The trie; 0 in delta means "no edge" while building (the root
	 * has no incoming edge, so 0 is free to mean that). */
	ls->nstates = 1;
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = 0;
		if (!lens[i]) {
			ls->empty[i / 64] |= 1ull << (i % 64);
			continue;
		}
		for (size_t k = 0; k < lens[i]; k++) {
			unsigned c = ls->cls[(unsigned char)lits[i][k]];
			uint32_t *t = &ls->delta[(size_t)s * ls->nclass + c];
			if (!*t)
				*t = ls->nstates++;
			s = *t;
		}
		ls->next_lit[i] = ls->out[s];
		ls->out[s] = (int32_t)i;
	}
	/* Breadth first: fail links, dictionary links, and the missing
	 * edges filled in from the fail state, which makes it a DFA. */
	size_t head = 0, tail = 0;
	for (unsigned c = 0; c < ls->nclass; c++) {
		uint32_t t = ls->delta[c];
		if (t) {
			fail[t] = 0;
			queue[tail++] = t;
		}
	}
	while (head < tail) {
		uint32_t s = queue[head++];
		uint32_t f = fail[s];
		ls->dict[s] = ls->out[f] >= 0 ? f : ls->dict[f];
		for (unsigned c = 0; c < ls->nclass; c++) {
			uint32_t *t = &ls->delta[(size_t)s * ls->nclass + c];
			uint32_t via_fail = ls->delta[(size_t)f * ls->nclass + c];
			if (*t) {
				fail[*t] = via_fail;
				queue[tail++] = *t;
			} else {
				*t = via_fail;
			}
		}
	}
	free(fail);
	free(queue);
	return ls;
oom:
	free(fail);
	free(queue);
	litscan_free(ls);
	return NULL;
}

static void set_all(const struct litscan *ls, uint64_t *found)
{
	for (unsigned i = 0; i < ls->n; i++)
		found[i / 64] |= 1ull << (i % 64);
}

void litscan_scan(const struct litscan *ls, const char *text, size_t len,
		  uint64_t *found)
{
	const unsigned char *p = (const unsigned char *)text;
	unsigned high = 0;
	uint32_t s = 0;

	for (unsigned w = 0; w < (ls->n + 63) / 64; w++)
		found[w] |= ls->empty[w];
	for (size_t i = 0; i < len; i++) {
		high |= p[i];
		s = ls->delta[(size_t)s * ls->nclass + ls->cls[p[i]]];
		/* State 0 never has output; most states have none. */
		for (uint32_t t = ls->out[s] >= 0 ? s : ls->dict[s]; t;
		     t = ls->dict[t])
			for (int32_t l = ls->out[t]; l >= 0; l = ls->next_lit[l])
				found[l / 64] |= 1ull << (l % 64);
	}
	/* See the top of the file: non-ASCII text may match any literal
	 * caselessly, so every regex must run. */
	if (high & 0x80)
		set_all(ls, found);
}
