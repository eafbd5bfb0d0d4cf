/*
 * The regex prefilter.  Literal extraction is checked twice: against the
 * literal we expect, and against PCRE2 itself (whenever a pattern matches,
 * the subject must contain the literal), on a table of hand-written
 * patterns and on random ones.  The scan is checked against a naive search
 * on random input.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <criterion/criterion.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "litscan.h"

/* ---- extraction: expected literals ---------------------------------------- */

struct want {
	const char *pattern;
	const char *literal;     /* "" = none */
};

static void check(const struct want *w, size_t n)
{
	char out[128];

	for (size_t i = 0; i < n; i++) {
		size_t l = litscan_required(w[i].pattern, strlen(w[i].pattern),
					    out, sizeof(out));

		cr_assert_eq(l, strlen(w[i].literal), "'%s': got '%.*s', want '%s'",
			     w[i].pattern, (int)l, out, w[i].literal);
		cr_assert(!memcmp(out, w[i].literal, l), "'%s': got '%.*s'",
			  w[i].pattern, (int)l, out);
	}
}

#define CHECK(...) do {							\
		static const struct want w_[] = {__VA_ARGS__};		\
		check(w_, sizeof(w_) / sizeof(w_[0]));			\
	} while (0)

Test(required, brief_examples)
{
	CHECK({"^\\s*DROP\\s+TABLE", "table"}, {"sbtest[0-9]+", "sbtest"},
	      {"colou?r", "colo"}, {"delete|truncate", ""}, {"a{2}bc", "bc"},
	      {"(?i)select .* from users", " from users"});
}

Test(required, plain_text_is_lower_cased)
{
	CHECK({"x", "x"}, {"SELECT", "select"}, {"Report_7", "report_7"},
	      {"FROM\\s+report_7\\s+WHERE", "report_7"},
	      {"INSERT\\s+INTO\\s+archive_3", "archive_3"});
}

Test(required, quantifiers_make_atoms_optional)
{
	CHECK({"x*yz", "yz"}, {"ab*", "a"}, {"ab?cd", "cd"}, {"ab{0,3}cd", "cd"},
	      {"ab{0}cd", "cd"}, {"abc??d", "ab"}, {"abc*+d", "ab"},
	      {"ab{,3}cd", "cd"}, {"ab{ 0 }cd", "cd"});
}

Test(required, repeats_keep_one_copy_and_end_the_run)
{
	CHECK({"ab+cd", "ab"}, {"ab{1,3}cd", "ab"}, {"ab{2}c", "ab"},
	      {"abc{1,}d", "abc"}, {"abc+?d", "abc"}, {"ab.*?cd", "ab"});
}

Test(required, braces_that_are_text)
{
	CHECK({"a{b", "a{b"}, {"x{y}z", "x{y}z"}, {"{abc}", "{abc}"});
}

Test(required, alternation_gives_up)
{
	CHECK({"abc|def", ""}, {"abcdef|", ""}, {"|abcdef", ""},
	      {"select.*(?:a)|x", ""});
}

Test(required, groups_with_alternation_are_skipped)
{
	CHECK({"(?:foo|bar)baz", "baz"}, {"pre(a|b)", "pre"},
	      {"(x(y|z))abcd", "abcd"}, {"(?|ab|cd)efg", "efg"});
}

Test(required, plain_groups_are_read_through)
{
	CHECK({"ab(cd)ef", "abcdef"}, {"ab(?:cd)ef", "abcdef"},
	      {"ab(?>cd)ef", "abcdef"}, {"ab(?<n>cd)ef", "abcdef"},
	      {"ab(?'n'cd)ef", "abcdef"}, {"ab(?P<n>cd)ef", "abcdef"},
	      {"ab(?i:cd)ef", "abcdef"}, {"a(b(c)d)e", "abcde"},
	      {"ab(cd)+ef", "abcd"}, {"ab(cd)?efg", "efg"}, {"ab(cd)*", "ab"},
	      {"ab(?:cd){0,2}e", "ab"}, {"x(cd){2}y", "xcd"});
}

Test(required, options_are_transparent)
{
	CHECK({"(?i)abc", "abc"}, {"ab(?i)cd", "abcd"}, {"(?-i)abc", "abc"},
	      {"(?^)abc", "abc"}, {"(?ms)^abc$", "abc"});
}

Test(required, extended_mode_gives_up)
{
	CHECK({"(?x) a b c", ""}, {"abc(?x)def", ""}, {"(?ix)abc", ""},
	      {"(?x:abc)", ""}, {"(?xx)abc", ""}, {"(?-x)abc", ""});
}

Test(required, lookarounds_are_skipped)
{
	CHECK({"(?=lookahead)word", "word"}, {"(?!abcdef)xy", "xy"},
	      {"(?<=abcdef)xy", "xy"}, {"(?<!abcdef)xy", "xy"},
	      {"(*pla:abcdef)xy", "xy"}, {"(*positive_lookahead:abcd)x", "x"});
}

Test(required, literal_escapes)
{
	CHECK({"\\.php$", ".php"}, {"a\\(b\\)", "a(b)"}, {"a\\\\b", "a\\b"},
	      {"\\*x\\*", "*x*"}, {"\\|pipe", "|pipe"}, {"a\\{2}", "a{2}"},
	      {"\\$\\^", "$^"});
}

Test(required, escapes_that_are_not_literal)
{
	CHECK({"\\d+ rows", " rows"}, {"\\bdrop\\b", "drop"}, {"ab\\w+cd", "ab"},
	      {"\\x41bc", "bc"}, {"\\x{41}bc", "bc"}, {"\\x4", ""},
	      {"\\p{L}abc", "abc"}, {"\\P{Lu}abc", "abc"}, {"\\pLabc", "abc"},
	      {"\\o{101}bc", "bc"}, {"\\0101bc", "1bc"}, {"\\cAbc", "bc"},
	      {"\\c(bc", "bc"}, {"a\\N{U+41}b", "a"}, {"ab\\N{2}c", "ab"},
	      {"\\tab", "ab"}, {"x\\Kyz", "yz"});
}

Test(required, back_references)
{
	CHECK({"(a)\\1bcd", "bcd"}, {"(a)\\g{-1}bcd", "bcd"},
	      {"(a)\\g1bcd", "bcd"}, {"(?<n>a)\\k<n>bcd", "bcd"},
	      {"(?<n>a)\\k{n}bcd", "bcd"}, {"(?<n>a)\\g'n'bcd", "bcd"},
	      {"(?<n>a)(?P=n)bcd", "bcd"}, {"(a)\\12bcd", "bcd"});
}

Test(required, quoting)
{
	CHECK({"\\Qa+b.c\\E", "a+b.c"}, {"\\Qa|b\\Ec", "a|bc"},
	      {"\\Qabc\\E?", "ab"}, {"\\Qabc", "abc"}, {"ab\\Q\\E?c", "a"},
	      {"ab\\E?cde", "cde"}, {"x\\Q(y\\E)", ""},
	      {"(?>abc)\\E?d", "d"}, {"(abc)\\Q\\E\\E*d", "d"},
	      {"(abc)\\E+d", "abc"});
}

Test(required, classes)
{
	CHECK({"[abc]def", "def"}, {"[]x]yz", "yz"}, {"[^]x]yz", "yz"},
	      {"[\\]]yz", "yz"}, {"[[:alpha:]]+_tmp", "_tmp"},
	      {"[a-z]+_log", "_log"}, {"[\\d.]xyz", "xyz"}, {"[(]abc", "abc"},
	      {"[|]abc", "abc"}, {"[\\Q]\\E]abc", ""}, {"[a\\Q]x\\E]abc", "abc"},
	      {"[[:]abc]x", "abc]x"}, {"[abc", ""});
}

Test(required, sql_rule_shapes)
{
	CHECK({"^SELECT\\s+.*\\s+FROM\\s+orders\\b", "select"},
	      {"(?i)^\\s*update\\s+accounts\\s+set", "accounts"},
	      {"LIMIT\\s+\\d{4,}", "limit"}, {"SLEEP\\(\\d+\\)", "sleep("},
	      {"information_schema\\.", "information_schema."},
	      {"^(?:SELECT|WITH)\\b.*\\bFOR UPDATE$", "for update"},
	      {"`?user_[0-9]+`?", "user_"});
}

Test(required, quantified_groups_and_classes_are_skipped_with_their_quantifier)
{
	CHECK({"[ab]{2,}cd", "cd"}, {"(?:x){3}yz", "yz"}, {"\\d{1,3}\\.x", ".x"},
	      {".+?abc", "abc"}, {"(?=x)?abc", "abc"});
}

Test(required, anchors_and_dot)
{
	CHECK({"^$", ""}, {"^abc$", "abc"}, {"a.bcd", "bcd"}, {"\\Aabc\\z", "abc"});
}

Test(required, verbs)
{
	CHECK({"(*UTF)abc", "abc"}, {"(*UCP)(*CRLF)abc", "abc"},
	      {"(*LIMIT_MATCH=10)abc", "abc"}, {"ab(*COMMIT)cde", "cde"},
	      {"ab(*MARK:x(y)cde", "cde"}, {"ab(*:name)cde", "cde"},
	      {"ab(*ACCEPT)cde", ""}, {"(?:x(*ACCEPT))cde", ""},
	      {"(*TURKISH_CASING)abc", ""}, {"(*UNKNOWN)abc", ""});
}

Test(required, comments_and_callouts)
{
	CHECK({"ab(?#c(d)ef", "abef"}, {"ab(?#c)?ef", ""},
	      {"ab(?C1)cd", ""}, {"(?C\"(\")abc|def(?C\")\")zzzz", ""});
}

Test(required, recursion_and_conditions_are_skipped)
{
	CHECK({"a(?R)?bcd", "bcd"}, {"(a)(?1)bcd", "bcd"},
	      {"(?(1)ab|cd)efg", "efg"}, {"(?<n>x)(?&n)bcd", "bcd"});
}

Test(required, non_ascii_ends_runs)
{
	CHECK({"h\xc3\xa9llo", "llo"}, {"caf\xc3\xa9?s", "caf"},
	      {"\\\xc3\xa9xy", "xy"});
}

Test(required, errors_give_nothing)
{
	CHECK({"(unbalanced", ""}, {"unbalanced)", ""}, {"*abc", ""},
	      {"abc\\", ""}, {"\\p{", ""}, {"\\k", ""});
}

Test(required, output_limits)
{
	char out[8];
	char big[600];

	cr_assert_eq(litscan_required("abc", 3, out, 0), 0);
	cr_assert_eq(litscan_required("abcdef", 6, out, 3), 3);
	cr_assert(!memcmp(out, "abc", 3));
	cr_assert_eq(litscan_required("", 0, out, sizeof(out)), 0);
	/* Runs longer than the internal buffer are cut, never joined. */
	memset(big, 'q', sizeof(big));
	cr_assert_eq(litscan_required(big, sizeof(big), out, sizeof(out)), 8);
	/* Stops at len, not at a NUL. */
	cr_assert_eq(litscan_required("abcdef|x", 6, out, sizeof(out)), 6);
}

/* ---- extraction: checked against PCRE2 -------------------------------------- */

static bool contains_caseless(const char *hay, size_t hlen, const char *needle,
			      size_t n)
{
	for (size_t p = 0; p + n <= hlen; p++)
		if (!strncasecmp(hay + p, needle, n))
			return true;
	return false;
}

/* What the scan promises: the literal occurs caselessly, or it holds a
 * 'k' or 's' and the text a character PCRE2 folds to one of them. */
static bool scan_finds(const char *text, size_t len, const char *lit, size_t n)
{
	bool exotic = memmem(text, len, "\xe2\x84\xaa", 3) ||
		      memmem(text, len, "\xc5\xbf", 2);
	bool ks = false;

	for (size_t k = 0; k < n; k++)
		ks |= strchr("kKsS", lit[k]) != NULL;
	return !n || (exotic && ks) || contains_caseless(text, len, lit, n);
}

static pcre2_code *compile(const char *pattern)
{
	int err;
	PCRE2_SIZE off;

	/* What rules.c uses for a case-insensitive rule. */
	return pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
			     PCRE2_UTF | PCRE2_MATCH_INVALID_UTF | PCRE2_CASELESS,
			     &err, &off, NULL);
}

/* Whether the pattern matches some subject lacking its literal. */
static bool refuted(const char *pattern, const char *const *subjects, size_t ns,
		    const char **by)
{
	pcre2_code *re = compile(pattern);
	char lit[128];
	size_t n = litscan_required(pattern, strlen(pattern), lit, sizeof(lit));
	bool bad = false;

	if (!re)
		return false;
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
	for (size_t k = 0; k < ns && !bad; k++) {
		size_t sl = strlen(subjects[k]);

		if (pcre2_match(re, (PCRE2_SPTR)subjects[k], sl, 0, 0, md, NULL) >= 0 &&
		    !scan_finds(subjects[k], sl, lit, n)) {
			bad = true;
			*by = subjects[k];
		}
	}
	pcre2_match_data_free(md);
	pcre2_code_free(re);
	return bad;
}

static const char *const table_patterns[] = {
	"^\\s*DROP\\s+TABLE", "sbtest[0-9]+", "colou?r", "delete|truncate",
	"a{2}bcd", "ab+cd", "x*yz", "(?i)select .* from users", "\\Qa+b.c\\E",
	"\\.php$", "[abc]def", "[]x]yz", "(?:foo|bar)baz", "(?=lookahead)word",
	"ab{0,3}cd", "ab{1,3}cd", "a{b", "\\d+ rows", "ab.*?cd", "\\x41bc",
	"\\p{L}abc", "ab(*COMMIT)cde", "\\Qabc\\E?", "ab\\Q\\E?c", "ab\\E?cde",
	"[a\\Q]x\\E]abc", "\\cAbc", "ab(cd)+ef", "ab(cd)?efg", "ab(?#c)ef",
	"ab(?i)cd", "(a)\\1bcd", "x(cd){2}y", "caf\\x{e9}s", "\\0101bc",
	"a\\N{U+41}b", "ab\\N{2}c", "[\\d.]xyz", "ab(?<n>cd)ef", "[[:]abc]x",
	"ab\\w+cd", "ab(?:c|d)+ef", "(?:ab)?cd", "a(?:bc){0,}d", "(?i)KILL",
	/* Found by the random test below, once. */
	"(?>\\p{L}\\Kc(?#x))\\E?",
};

static const char *const table_subjects[] = {
	"DROP TABLE t", "  drop   table x", "select * from sbtest12", "color",
	"colour", "colr", "delete", "aabcd", "abbbcd", "xxxyz", "yz",
	"SELECT x FROM users", "a+b.c", "index.php", "adef", "]yz", "foobaz",
	"lookaheadword", "abbcd", "acd", "a{b", "3 rows", "", "abXcd", "Abc",
	"xabc", "abcde", "abc", "ab", "a", "c", "abce", "bcde", "xabc",
	"\001bc", "abcdef", "abcdcdef", "efg", "abef", "abcd", "aabcd", "xcdcdy",
	"caf\xc3\xa9s", "\001bc", "Ab", "abc\n", "ac", "abcc", "5xyz", ".xyz",
	"abcdef", "ABCDEF", "[abc]x", ":abc]x", "abcd", "abxcd", "abcdef", "abdef",
	"cd", "ad", "abcd", "kill", "\xe2\x84\xaaill", "AkB:",
};

Test(property, table_patterns_never_lose_a_match)
{
	const char *by = NULL;

	for (size_t i = 0; i < sizeof(table_patterns) / sizeof(table_patterns[0]); i++)
		cr_assert(!refuted(table_patterns[i], table_subjects,
				   sizeof(table_subjects) / sizeof(table_subjects[0]),
				   &by), "'%s' matches '%s' without its literal",
			  table_patterns[i], by);
}

/* Small pieces of PCRE2 syntax, glued at random.  Most results are valid
 * patterns; the invalid ones are skipped. */
static const char *const pieces[] = {
	"a", "b", "c", "ab", "bc", "k", "s", " ", "\\.", ".", "\\d", "\\w",
	"[ab]", "[^a]", "[]a]", "?", "*", "+", "{2}", "{0,1}", "{1,}", "??",
	"(", "(?:", "(?i)", "(?=", "(?!", "(?<=a)", ")", ")", "|", "\\Q",
	"\\E", "^", "$", "\\b", "\\x61", "\\x{62}", "\\p{L}", "{", "}", "\\1",
	"(?<n>", "\\k<n>", "(?#x)", "(*COMMIT)", "\\cA", "\\Kc", "(?>",
};

static const char subject_chars[] = "abcABk s.1{}\x01";

Test(property, random_patterns_never_lose_a_match)
{
	char pattern[128], subj_buf[64][16];
	const char *subjects[64];
	unsigned tried = 0, with_literal = 0;

	srand(4242);
	for (size_t k = 0; k < 64; k++)
		subjects[k] = subj_buf[k];
	for (int iter = 0; iter < 4000; iter++) {
		size_t np = 1 + (size_t)(rand() % 7), len = 0;
		const char *by = NULL;
		char lit[128];

		for (size_t k = 0; k < np; k++) {
			const char *piece = pieces[rand() % (int)(sizeof(pieces) /
								  sizeof(pieces[0]))];
			size_t pl = strlen(piece);

			memcpy(pattern + len, piece, pl);
			len += pl;
		}
		pattern[len] = '\0';
		pcre2_code *re = compile(pattern);
		if (!re)
			continue;
		pcre2_code_free(re);
		tried++;
		if (litscan_required(pattern, len, lit, sizeof(lit)))
			with_literal++;
		for (size_t k = 0; k < 64; k++) {
			size_t sl = (size_t)(rand() % 15);

			for (size_t m = 0; m < sl; m++)
				subj_buf[k][m] = subject_chars[rand() %
							(int)(sizeof(subject_chars) - 1)];
			subj_buf[k][sl] = '\0';
		}
		cr_assert(!refuted(pattern, subjects, 64, &by),
			  "'%s' matches '%s' without its literal", pattern, by);
	}
	/* The test only means something if it covers enough ground. */
	cr_assert_gt(tried, 1000);
	cr_assert_gt(with_literal, 300);
}

/* ---- scanning ------------------------------------------------------------- */

static void naive(const char *const *lits, const size_t *lens, unsigned n,
		  const char *text, size_t len, uint64_t *found)
{
	for (unsigned i = 0; i < n; i++)
		if (scan_finds(text, len, lits[i], lens[i]))
			found[i / 64] |= 1ull << (i % 64);
}

static void scan_once(const char *const *lits, const size_t *lens, unsigned n,
		      const char *text, size_t len, const char *what)
{
	uint64_t *a = calloc((n + 63) / 64 + 1, sizeof(*a));
	uint64_t *b = calloc((n + 63) / 64 + 1, sizeof(*b));
	struct litscan *ls = litscan_build(lits, lens, n);

	cr_assert(ls && a && b);
	litscan_scan(ls, text, len, a);
	naive(lits, lens, n, text, len, b);
	for (unsigned w = 0; w < (n + 63) / 64; w++)
		cr_assert_eq(a[w], b[w], "%s: word %u: %llx != %llx", what, w,
			     (unsigned long long)a[w], (unsigned long long)b[w]);
	cr_assert_eq(a[(n + 63) / 64], 0, "%s: wrote past the bitmap", what);
	litscan_free(ls);
	free(a);
	free(b);
}

static void random_sets(unsigned iters, unsigned max_n, size_t max_lit,
			const char *lit_alpha, const char *text_alpha,
			size_t max_text, unsigned seed)
{
	char (*pool)[64] = calloc(max_n, sizeof(*pool));
	const char **lits = calloc(max_n, sizeof(*lits));
	size_t *lens = calloc(max_n, sizeof(*lens));
	char *text = malloc(max_text + 1);
	size_t la = strlen(lit_alpha), ta = strlen(text_alpha);

	cr_assert(pool && lits && lens && text && max_lit <= 64);
	srand(seed);
	for (unsigned iter = 0; iter < iters; iter++) {
		unsigned n = (unsigned)rand() % (max_n + 1);
		size_t len = (size_t)rand() % (max_text + 1);
		char what[32];

		for (unsigned i = 0; i < n; i++) {
			lens[i] = (size_t)rand() % (max_lit + 1);
			for (size_t k = 0; k < lens[i]; k++)
				pool[i][k] = lit_alpha[(size_t)rand() % la];
			lits[i] = pool[i];
		}
		for (size_t k = 0; k < len; k++)
			text[k] = text_alpha[(size_t)rand() % ta];
		snprintf(what, sizeof(what), "iteration %u", iter);
		scan_once(lits, lens, n, text, len, what);
	}
	free(pool);
	free(lits);
	free(lens);
	free(text);
}

Test(scan, random_small_alphabet)
{
	random_sets(3000, 130, 5, "abcAB_1", "abcdABC_12 ", 250, 12345);
}

Test(scan, random_many_literals)
{
	random_sets(40, 1000, 12, "abcdefgh", "abcdefghABCDEFGH ", 2000, 777);
}

Test(scan, random_high_bytes_and_punctuation)
{
	random_sets(2000, 70, 4, "a\x80\xff\xc5\xbfkS.(",
		    "aA\x80\xff\xc5\xbf\xe2\x84\xaakKsS.( ", 100, 99);
}

Test(scan, random_text_shorter_than_literals)
{
	random_sets(2000, 20, 30, "ab", "abAB", 8, 5);
}

Test(scan, overlapping_literals)
{
	const char *lits[] = {"he", "she", "his", "hers", "ushers", "e", "rs"};
	size_t lens[] = {2, 3, 3, 4, 6, 1, 2};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 7);

	litscan_scan(ls, "USHERS", 6, &f);
	cr_assert_eq(f, 0x7b, "all but 'his': %llx", (unsigned long long)f);
	litscan_free(ls);
}

Test(scan, duplicates_and_substrings)
{
	const char *lits[] = {"", "abc", "abc", "bc", "zzzz", "c"};
	size_t lens[] = {0, 3, 3, 2, 4, 1};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 6);

	litscan_scan(ls, "xABCx", 5, &f);
	cr_assert_eq(f, 0x2f, "%llx", (unsigned long long)f);
	f = 0;
	litscan_scan(ls, "zz", 2, &f);
	cr_assert_eq(f, 0x01, "only the empty literal");
	litscan_free(ls);
}

Test(scan, literal_at_start_and_end)
{
	const char *lits[] = {"sel", "ble", "select * from table"};
	size_t lens[] = {3, 3, 19};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 3);

	litscan_scan(ls, "SELECT * FROM TABLE", 19, &f);
	cr_assert_eq(f, 0x7);
	f = 0;
	litscan_scan(ls, "ELECT * FROM TABL", 17, &f);
	cr_assert_eq(f, 0);
	litscan_free(ls);
}

Test(scan, empty_text)
{
	const char *lits[] = {"a", ""};
	size_t lens[] = {1, 0};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 2);

	litscan_scan(ls, "", 0, &f);
	cr_assert_eq(f, 0x2);
	litscan_free(ls);
}

Test(scan, no_literals)
{
	uint64_t f = 0;
	struct litscan *ls = litscan_build(NULL, NULL, 0);

	cr_assert(ls);
	litscan_scan(ls, "abc", 3, &f);
	cr_assert_eq(f, 0);
	litscan_free(ls);
	litscan_free(NULL);
}

Test(scan, high_bytes_compare_exactly)
{
	const char *lits[] = {"caf\xc3\xa9", "CAF\xc3\x89"};
	size_t lens[] = {5, 5};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 2);

	litscan_scan(ls, "Caf\xc3\xa9", 5, &f);
	cr_assert_eq(f, 0x1);
	litscan_free(ls);
}

Test(scan, characters_pcre2_folds_to_k_and_s)
{
	const char *lits[] = {"kill", "sleep", "drop"};
	size_t lens[] = {4, 5, 4};
	uint64_t f = 0;
	struct litscan *ls = litscan_build(lits, lens, 3);

	/* KELVIN SIGN + "ill" matches (?i)kill under UTF. */
	litscan_scan(ls, "\xe2\x84\xaaill", 6, &f);
	cr_assert_eq(f, 0x3);
	f = 0;
	litscan_scan(ls, "\xc5\xbfleep", 6, &f);
	cr_assert_eq(f, 0x3);
	f = 0;
	litscan_scan(ls, "caf\xc3\xa9 drop", 10, &f);
	cr_assert_eq(f, 0x4, "other non-ASCII text is exact");
	litscan_free(ls);
}

Test(scan, agrees_with_pcre2_on_kelvin)
{
	pcre2_code *re = compile("kill");
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);

	/* The reason for the test above. */
	cr_assert_geq(pcre2_match(re, (PCRE2_SPTR)"\xe2\x84\xaaill", 6, 0, 0, md,
				  NULL), 0);
	pcre2_match_data_free(md);
	pcre2_code_free(re);
}

Test(scan, bits_beyond_64)
{
	enum { N = 4096 };
	static char pool[N][6];
	static const char *lits[N];
	static size_t lens[N];
	uint64_t f[N / 64] = {0};

	for (unsigned i = 0; i < N; i++) {
		snprintf(pool[i], sizeof(pool[i]), "t%04u", i);
		lits[i] = pool[i];
		lens[i] = 5;
	}
	struct litscan *ls = litscan_build(lits, lens, N);
	cr_assert(ls);
	litscan_scan(ls, "select * from T4095 join t0063 join t0064", 41, f);
	cr_assert_eq(f[0], 1ull << 63);
	cr_assert_eq(f[1], 1ull);
	cr_assert_eq(f[63], 1ull << 63);
	for (unsigned w = 2; w < 63; w++)
		cr_assert_eq(f[w], 0);
	litscan_free(ls);
}

Test(scan, large_literal_set)
{
	/* 256 KiB of literals over the whole byte range. */
	enum { N = 1024, L = 256 };
	char (*pool)[L] = malloc(N * sizeof(*pool));
	const char **lits = malloc(N * sizeof(*lits));
	size_t *lens = malloc(N * sizeof(*lens));

	cr_assert(pool && lits && lens);
	srand(31337);
	for (unsigned i = 0; i < N; i++) {
		for (unsigned k = 0; k < L; k++)
			pool[i][k] = (char)(rand() % 256);
		lits[i] = pool[i];
		lens[i] = L;
	}
	/* The text holds literal 7 and a prefix of literal 8. */
	char text[600];
	memset(text, ' ', sizeof(text));
	memcpy(text + 10, pool[7], L);
	memcpy(text + 300, pool[8], L - 1);
	scan_once(lits, lens, N, text, sizeof(text), "large");
	free(pool);
	free(lits);
	free(lens);
}

/* ---- both together, the way rules.c uses them ------------------------------ */

Test(pipeline, prefilter_never_drops_a_match)
{
	static const char *const queries[] = {
		"SELECT * FROM sbtest1 WHERE id = 5", "drop table users",
		"  DROP   TABLE x", "select a from users", "DELETE FROM t",
		"insert into archive_3 values (1)", "SELECT colour FROM paint",
		"\xe2\x84\xaaILL 5", "sele\xc5\xbf", "update t set a = 1",
	};
	const size_t np = sizeof(table_patterns) / sizeof(table_patterns[0]);
	const char *lits[64];
	size_t lens[64];
	char buf[64][128];
	int idx[64];
	unsigned n = 0;

	for (size_t i = 0; i < np; i++) {
		size_t l = litscan_required(table_patterns[i], strlen(table_patterns[i]),
					    buf[i], sizeof(buf[i]));
		idx[i] = l ? (int)n : -1;
		if (l) {
			lits[n] = buf[i];
			lens[n++] = l;
		}
	}
	struct litscan *ls = litscan_build(lits, lens, n);
	cr_assert(ls);
	for (size_t q = 0; q < sizeof(queries) / sizeof(queries[0]); q++) {
		uint64_t found[1] = {0};
		size_t ql = strlen(queries[q]);

		litscan_scan(ls, queries[q], ql, found);
		for (size_t i = 0; i < np; i++) {
			pcre2_code *re = compile(table_patterns[i]);
			pcre2_match_data *md = pcre2_match_data_create_from_pattern(re, NULL);
			bool m = pcre2_match(re, (PCRE2_SPTR)queries[q], ql, 0, 0, md,
					     NULL) >= 0;

			cr_assert(!m || idx[i] < 0 || (found[0] >> idx[i] & 1),
				  "'%s' matches '%s' but was filtered out",
				  table_patterns[i], queries[q]);
			pcre2_match_data_free(md);
			pcre2_code_free(re);
		}
	}
	litscan_free(ls);
}
