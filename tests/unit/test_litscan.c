/*
 * The regex prefilter: literal extraction (checked against PCRE2 itself:
 * whenever a pattern matches, the subject contains its literal) and the
 * Aho-Corasick scan (checked against a naive search on random input).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <criterion/criterion.h>
#include <ctype.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "litscan.h"

static const struct {
	const char *pattern;
	const char *literal;     /* "" = none */
} cases[] = {
	{"^\\s*DROP\\s+TABLE", "table"},
	{"sbtest[0-9]+", "sbtest"},
	{"colou?r", "colo"},
	{"delete|truncate", ""},
	{"FROM\\s+report_7\\s+WHERE", "report_7"},
	{"a{2}bcd", "bcd"},
	{"ab+cd", "ab"},
	{"x*yz", "yz"},
	{"(?i)select .* from users", " from users"},
	{"\\Qa+b.c\\E", "a+b.c"},
	{"\\.php$", ".php"},
	{"[abc]def", "def"},
	{"[]x]yz", "yz"},
	{"(?:foo|bar)baz", "baz"},
	{"(?=lookahead)word", "word"},
	{"(?x) a b c", ""},
	{"(*UTF)abc", ""},
	{"ab{0,3}cd", "cd"},
	{"ab{1,3}cd", "ab"},
	{"a{b", "a{b"},
	{"héllo", "llo"},
	{"\\d+ rows", " rows"},
	{"^$", ""},
	{"x", "x"},
	{"(unbalanced", ""},
	{"[[:alpha:]]+_tmp", "_tmp"},
	{"ab.*?cd", "ab"},
	{"INSERT\\s+INTO\\s+archive_3", "archive_3"},
};

Test(litscan, extracts_the_longest_safe_literal)
{
	char out[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		size_t n = litscan_required(cases[i].pattern, strlen(cases[i].pattern),
					    out, sizeof(out));
		cr_assert_eq(n, strlen(cases[i].literal), "'%s': got '%.*s'",
			     cases[i].pattern, (int)n, out);
		cr_assert(!memcmp(out, cases[i].literal, n), "'%s'", cases[i].pattern);
	}
	cr_assert_eq(litscan_required("abc", 3, out, 0), 0);
	cr_assert_eq(litscan_required("abcdef", 6, out, 3), 3, "cut to cap");
}

static bool contains_caseless(const char *hay, const char *needle, size_t n)
{
	for (const char *p = hay; *p; p++)
		if (!strncasecmp(p, needle, n))
			return true;
	return n == 0;
}

Test(litscan, every_match_contains_the_literal)
{
	static const char *const subjects[] = {
		"DROP TABLE t", "  drop   table x", "select * from sbtest12", "color",
		"colour", "colr", "delete", "SELECT a FROM report_7 WHERE 1", "aabcd",
		"abbbcd", "xxxyz", "yz", "SELECT x FROM users", "a+b.c", "index.php",
		"adef", "]yz", "foobaz", "lookaheadword", "abbcd", "acd", "a{b",
		"héllo", "3 rows", "", "x", "abc_tmp", "abXcd", "insert into archive_3",
	};
	char lit[64];

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		int err;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)cases[i].pattern,
					       PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_CASELESS, &err, &off, NULL);
		if (!re)
			continue;
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
		size_t n = litscan_required(cases[i].pattern, strlen(cases[i].pattern),
					    lit, sizeof(lit));
		for (size_t k = 0; k < sizeof(subjects) / sizeof(subjects[0]); k++) {
			if (pcre2_match(re, (PCRE2_SPTR)subjects[k], strlen(subjects[k]),
					0, 0, md, NULL) < 0)
				continue;
			cr_assert(contains_caseless(subjects[k], lit, n),
				  "'%s' matches '%s' without '%.*s'", cases[i].pattern,
				  subjects[k], (int)n, lit);
		}
		pcre2_match_data_free(md);
		pcre2_code_free(re);
	}
}

static void naive(const char *const *lits, const size_t *lens, unsigned n,
		  const char *text, size_t len, uint64_t *found)
{
	for (unsigned i = 0; i < n; i++)
		for (size_t p = 0; p + lens[i] <= len; p++)
			if (!strncasecmp(text + p, lits[i], lens[i])) {
				found[i / 64] |= 1ull << (i % 64);
				break;
			}
}

Test(litscan, scan_agrees_with_a_naive_search)
{
	char pool[200][8];
	const char *lits[200];
	size_t lens[200];
	char text[300];

	srand(12345);
	for (int iter = 0; iter < 2000; iter++) {
		unsigned n = (unsigned)(rand() % 130);
		for (unsigned i = 0; i < n; i++) {
			lens[i] = 1 + (size_t)(rand() % 5);
			for (size_t k = 0; k < lens[i]; k++)
				pool[i][k] = "abcAB_1"[rand() % 7];
			lits[i] = pool[i];
		}
		size_t len = (size_t)(rand() % 250);
		for (size_t k = 0; k < len; k++)
			text[k] = "abcdABC_12 "[rand() % 11];
		uint64_t a[3] = {0}, b[3] = {0};
		struct litscan *ls = litscan_build(lits, lens, n);
		cr_assert(ls);
		litscan_scan(ls, text, len, a);
		naive(lits, lens, n, text, len, b);
		cr_assert(!memcmp(a, b, sizeof(a)), "iteration %d", iter);
		litscan_free(ls);
	}
}

Test(litscan, edge_cases)
{
	const char *lits[] = {"", "abc", "abc", "bc", "zzzz"};
	size_t lens[] = {0, 3, 3, 2, 4};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 5);

	litscan_scan(ls, "xABCx", 5, &f);
	cr_assert_eq(f, 0x0F, "empty always found, duplicates both, suffix too: %llx",
		     (unsigned long long)f);
	f = 0;
	litscan_scan(ls, "zz", 2, &f);
	cr_assert_eq(f, 0x01);
	/* Non-ASCII text could match caselessly: everything is reported. */
	f = 0;
	litscan_scan(ls, "caf\xc3\xa9", 5, &f);
	cr_assert_eq(f, 0x1F);
	litscan_free(ls);
	ls = litscan_build(NULL, NULL, 0);
	cr_assert(ls);
	litscan_scan(ls, "abc", 3, &f);
	litscan_free(ls);
}
