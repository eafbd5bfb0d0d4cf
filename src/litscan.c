/*
 * litscan.c - required-literal extraction from PCRE2 patterns, and an
 * Aho-Corasick automaton that finds many literals in one pass.
 *
 * Extraction is a small recursive-descent reader of PCRE2 syntax that keeps
 * the longest run of characters every match must contain consecutively.
 * It only has to be right, not complete: anything it does not fully
 * understand ends the current run, and anything that could change how the
 * rest of the pattern is read (alternation at the level being read,
 * extended mode, callouts, (*ACCEPT), unknown verbs) gives up with 0.  A
 * literal that is too short or missing only costs a regex run; a literal
 * that some match lacks silently disables a rule.
 *
 * Characters >= 0x80 end runs: a pattern's 'é' also matches 'É', which
 * has other bytes.  The other way round, under PCRE2_UTF | PCRE2_CASELESS
 * exactly two non-ASCII characters match ASCII letters: KELVIN SIGN
 * (U+212A) matches 'k' and LATIN SMALL LETTER LONG S (U+017F) matches 's'
 * (checked by brute force against PCRE2 10.42).  The scan reports literals
 * containing k or s whenever the text holds one of those two.
 *
 * The automaton works on byte classes: the bytes that occur in some literal
 * (ASCII upper and lower case folded into one class) and one class for
 * everything else, so the transition table is states x classes rather
 * than states x 256.
 */
#include "litscan.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* ---- extraction --------------------------------------------------------- */

/* What the last item read was, which decides what a quantifier does. */
enum last {
	LAST_NONE,          /* nothing to repeat: a quantifier is an error */
	LAST_LIT,           /* a literal character, the last one of the run */
	LAST_OTHER,         /* anything else; its quantifier is just skipped */
	LAST_BARRIER,       /* an assertion, option or comment: refuse to
			     * guess what a quantifier after it applies to */
};

struct parse {
	const char *p;
	size_t i;
	bool bad;           /* give up: the answer is 0 */
	enum last last;
	char *out;
	size_t cap;
	size_t best;
	size_t cur_len;
	char cur[256];
};

static void run_end(struct parse *ps)
{
	if (ps->cur_len > ps->best) {
		size_t n = ps->cur_len < ps->cap ? ps->cur_len : ps->cap;
		memcpy(ps->out, ps->cur, n);
		ps->best = n;
	}
	ps->cur_len = 0;
}

static void add_lit(struct parse *ps, unsigned char c)
{
	if (c >= 0x80) {
		run_end(ps);
		ps->last = LAST_OTHER;
		return;
	}
	if (ps->cur_len == sizeof(ps->cur))
		run_end(ps);
	ps->cur[ps->cur_len++] = (char)tolower(c);
	ps->last = LAST_LIT;
}

/*
 * Things that change how the whole pattern reads, searched for in the raw
 * text (even inside \Q...\E or a class, where finding them only costs the
 * prefilter): extended mode "(?x" in any option list, callouts, whose
 * string arguments can hold parentheses, (*ACCEPT), which ends a match
 * successfully before the rest of the pattern, and (?[ extended classes.
 */
static bool unreadable(const char *p, size_t len)
{
	for (size_t k = 0; k + 1 < len; k++) {
		if (p[k] == '(' && p[k + 1] == '?') {
			size_t m = k + 2;
			if (m < len && (p[m] == 'C' || p[m] == '['))
				return true;
			for (; m < len && (isalpha((unsigned char)p[m]) ||
					   p[m] == '^' || p[m] == '-'); m++)
				if (p[m] == 'x')
					return true;
		}
		if (p[k] == '(' && p[k + 1] == '*' && len - k >= 8 &&
		    !memcmp(p + k + 2, "ACCEPT", 6))
			return true;
	}
	return false;
}

/* The index just past close when p[j] opens a {name}, <name> or 'name'
 * argument of an escape, 0 when it holds anything structural. */
static size_t arg_end(const char *p, size_t end, size_t j, char close)
{
	for (size_t k = j + 1; k < end; k++) {
		if (p[k] == close)
			return k + 1;
		if (strchr("\\()[]{}|'<>\n", p[k]))
			return 0;
	}
	return 0;
}

/* Length of the alphanumeric escape at p[i] == '\\' (never \Q or \E),
 * 0 when unsure.  None of them is a literal character for us. */
static size_t esc_len(const char *p, size_t end, size_t i)
{
	size_t j = i + 2, k;

	switch (p[i + 1]) {
	case 'x':
		if (j < end && p[j] == '{')
			return (k = arg_end(p, end, j, '}')) ? k - i : 0;
		for (k = 0; k < 2 && j < end &&
			    isxdigit((unsigned char)p[j]); k++)
			j++;
		return j - i;
	case 'o':
		if (j < end && p[j] == '{')
			return (k = arg_end(p, end, j, '}')) ? k - i : 0;
		return 0;
	case '0':
		for (k = 0; k < 2 && j < end && p[j] >= '0' && p[j] <= '7'; k++)
			j++;
		return j - i;
	case 'c':
		/* \c( is a control character, not a group. */
		if (j < end && (unsigned char)p[j] >= 0x20 &&
		    (unsigned char)p[j] < 0x7f)
			return 3;
		return 0;
	case 'p':
	case 'P':
		if (j < end && p[j] == '{')
			return (k = arg_end(p, end, j, '}')) ? k - i : 0;
		return j < end && isalpha((unsigned char)p[j]) ? 3 : 0;
	case 'g':
		if (j < end && (p[j] == '+' || p[j] == '-'))
			j++;
		if (j < end && isdigit((unsigned char)p[j])) {
			while (j < end && isdigit((unsigned char)p[j]))
				j++;
			return j - i;
		}
		/* fall through */
	case 'k':
		j = i + 2;
		if (j >= end)
			return 0;
		if (p[j] == '{')
			k = arg_end(p, end, j, '}');
		else if (p[j] == '<')
			k = arg_end(p, end, j, '>');
		else if (p[j] == '\'')
			k = arg_end(p, end, j, '\'');
		else
			k = 0;
		return k ? k - i : 0;
	case 'N':
		/* \N{U+hh} is a character; \N{3} is \N and a quantifier. */
		if (j + 2 < end && p[j] == '{' && p[j + 1] == 'U' &&
		    p[j + 2] == '+')
			return (k = arg_end(p, end, j, '}')) ? k - i : 0;
		return 2;
	default:
		if (p[i + 1] >= '1' && p[i + 1] <= '9') {
			/* A back reference or an octal character. */
			while (j < end && isdigit((unsigned char)p[j]))
				j++;
			return j - i;
		}
		return 2;
	}
}

/* Just past the \E ending the quoted text that starts at p[j], or end. */
static size_t quote_end(const char *p, size_t end, size_t j)
{
	for (; j + 1 < end; j++)
		if (p[j] == '\\' && p[j + 1] == 'E')
			return j + 2;
	return end;
}

/* Just past the escape at p[j] == '\\' while skipping over a class or
 * group: \Q...\E as a whole, \cX as three bytes; 0 if the pattern ends
 * inside it. */
static size_t skip_escape(const char *p, size_t end, size_t j)
{
	if (j + 1 >= end)
		return 0;
	if (p[j + 1] == 'Q')
		return quote_end(p, end, j + 2);
	return j + (p[j + 1] == 'c' ? 3 : 2);
}

/*
 * Just past the ']' closing the class that opens at p[i] == '[', or 0.
 * The POSIX [:name:] test is PCRE2's check_posix_syntax(): whatever it
 * does not accept is a plain '[' member.
 */
static size_t class_end(const char *p, size_t end, size_t i)
{
	size_t j = i + 1;

	if (j < end && p[j] == '^')
		j++;
	/* PCRE2 skips \Q\E and \E before deciding whether ']' is first:
	 * too subtle to be worth following. */
	if (j + 1 < end && p[j] == '\\' && (p[j + 1] == 'Q' || p[j + 1] == 'E'))
		return 0;
	if (j < end && p[j] == ']')
		j++;
	while (j < end) {
		char c = p[j];

		if (c == ']')
			return j + 1;
		if (c == '\\') {
			j = skip_escape(p, end, j);
			if (!j)
				return 0;
			continue;
		}
		if (c == '[' && j + 1 < end &&
		    (p[j + 1] == ':' || p[j + 1] == '.' || p[j + 1] == '=')) {
			char term = p[j + 1];
			size_t k;

			for (k = j + 2; k + 1 < end; k++) {
				char d = p[k + 1];

				if (p[k] == '\\' && (d == ']' || d == '\\'))
					k++;
				else if ((p[k] == '[' && d == term) || p[k] == ']')
					break;
				else if (p[k] == term && p[k + 1] == ']') {
					j = k + 2;
					goto next;
				}
			}
		}
		j++;
next:;
	}
	return 0;
}

/* Just past the ')' of the comment or verb "(?#...)" / "(*...)" at p[i]:
 * neither can hold a ')' (no PCRE2_ALT_VERBNAMES), both can hold '('. */
static size_t first_paren(const char *p, size_t end, size_t i)
{
	const char *e = memchr(p + i, ')', end - i);

	return e ? (size_t)(e - p) + 1 : 0;
}

static bool is_verb(const char *p, size_t end, size_t i)
{
	return i + 2 < end && p[i] == '(' && p[i + 1] == '*' &&
	       (isupper((unsigned char)p[i + 2]) || p[i + 2] == ':');
}

/*
 * Just past the ')' matching the '(' at p[i], or 0.  *alt tells whether
 * the group has a '|' of its own (not one of a nested group).
 */
static size_t group_end(const char *p, size_t end, size_t i, bool *alt)
{
	unsigned depth = 0;
	size_t j = i;

	*alt = false;
	while (j < end) {
		char c = p[j];

		if (c == '\\') {
			j = skip_escape(p, end, j);
			if (!j)
				return 0;
		} else if (c == '[') {
			j = class_end(p, end, j);
			if (!j)
				return 0;
		} else if (c == '(' && (is_verb(p, end, j) ||
					(j + 2 < end && p[j + 1] == '?' &&
					 p[j + 2] == '#'))) {
			j = first_paren(p, end, j);
			if (!j)
				return 0;
		} else if (c == '(') {
			depth++;
			j++;
		} else if (c == ')') {
			if (--depth == 0)
				return j + 1;
			j++;
		} else {
			if (c == '|' && depth == 1)
				*alt = true;
			j++;
		}
	}
	return 0;
}

/*
 * The quantifier at p[i], if any: its length, and whether it allows zero
 * copies.  Any "{digits, commas, blanks}" counts: PCRE2 10.43 reads
 * "{,3}" and "{ 1 }" as quantifiers where 10.42 reads them as text, and
 * taking text for a quantifier only drops characters from the run.
 */
static size_t quantifier(const char *p, size_t end, size_t i, bool *optional)
{
	size_t j = i + 1;

	switch (p[i]) {
	case '*':
	case '?':
		*optional = true;
		break;
	case '+':
		*optional = false;
		break;
	case '{': {
		unsigned long min = 0;

		while (j < end && (p[j] == ' ' || p[j] == '\t'))
			j++;
		while (j < end && isdigit((unsigned char)p[j])) {
			if (min < 100000)
				min = min * 10 + (unsigned long)(p[j] - '0');
			j++;
		}
		while (j < end && (isdigit((unsigned char)p[j]) ||
				   p[j] == ',' || p[j] == ' ' || p[j] == '\t'))
			j++;
		if (j >= end || p[j] != '}')
			return 0;           /* a literal '{' */
		*optional = min == 0;
		j++;
		break;
	}
	default:
		return 0;
	}
	/* Lazy or possessive. */
	if (j < end && (p[j] == '?' || p[j] == '+'))
		j++;
	return j - i;
}

/* Option letters of "(?imnsJU-^)" / "(?i:": the index after them. */
static size_t options_end(const char *p, size_t end, size_t j)
{
	while (j < end && (isalpha((unsigned char)p[j]) || p[j] == '^' ||
			   p[j] == '-'))
		j++;
	return j;
}

/*
 * Where the body of a group whose contents must all be matched, in order,
 * exactly once per repetition starts: capturing, named, non-capturing,
 * atomic and branch-reset groups, 0 for anything else (lookarounds,
 * conditions, recursion, alpha assertions...), which is skipped whole.
 */
static size_t plain_body(const char *p, size_t end, size_t i)
{
	size_t j = i + 1, k;

	if (j >= end || p[j] == '*')
		return 0;
	if (p[j] != '?')
		return j;
	j++;
	if (j >= end)
		return 0;
	switch (p[j]) {
	case ':':
	case '>':
	case '|':
		return j + 1;
	case '\'':
		k = arg_end(p, end, j, '\'');
		return k;
	case '<':
		if (j + 1 < end && (p[j + 1] == '=' || p[j + 1] == '!'))
			return 0;
		return arg_end(p, end, j, '>');
	case 'P':
		if (j + 1 < end && p[j + 1] == '<')
			return arg_end(p, end, j + 1, '>');
		return 0;
	default:
		/* (?i:...), but not (?R), (?1), (?&name), (?(cond)... */
		if (!isalpha((unsigned char)p[j]) && p[j] != '^' && p[j] != '-')
			return 0;
		if (p[j] == 'R')
			return 0;
		k = options_end(p, end, j);
		return k < end && p[k] == ':' ? k + 1 : 0;
	}
}

static bool is_option_setting(const char *p, size_t end, size_t i)
{
	size_t k;

	if (i + 2 >= end || p[i + 1] != '?' || p[i + 2] == 'R' ||
	    (!isalpha((unsigned char)p[i + 2]) && p[i + 2] != '^' &&
	     p[i + 2] != '-'))
		return false;
	k = options_end(p, end, i + 2);
	return k < end && p[k] == ')';
}

/* Verbs that only steer backtracking or set limits and newline
 * conventions: none of them changes which characters a match holds.
 * (*TURKISH_CASING), for one, does, and is not here. */
static bool harmless_verb(const char *v, size_t n)
{
	static const char *const names[] = {
		"UTF", "UTF8", "UCP", "CR", "LF", "CRLF", "ANYCRLF", "ANY",
		"NUL",
		"BSR_ANYCRLF", "BSR_UNICODE", "NO_AUTO_POSSESS", "NO_START_OPT",
		"NO_DOTSTAR_ANCHOR", "NO_JIT", "NOTEMPTY", "NOTEMPTY_ATSTART",
		"LIMIT_MATCH", "LIMIT_DEPTH", "LIMIT_HEAP", "LIMIT_RECURSION",
		"COMMIT", "PRUNE", "SKIP", "THEN", "MARK", "", "FAIL", "F",
	};
	size_t l = 0;

	/* v is what follows "(*", up to and with the ')'. */
	while (l < n && v[l] != ':' && v[l] != '=' && v[l] != ')')
		l++;
	for (size_t k = 0; k < sizeof(names) / sizeof(names[0]); k++)
		if (strlen(names[k]) == l && !memcmp(v, names[k], l))
			return true;
	return false;
}

static void parse_seq(struct parse *ps, size_t end);

static void parse_group(struct parse *ps, size_t end)
{
	const char *p = ps->p;
	size_t i = ps->i, g, body, qpos, q = 0;
	bool alt, optional = false;

	if (i + 2 < end && p[i + 1] == '?' && p[i + 2] == '#') {
		/* A comment: the characters around it are adjacent. */
		ps->i = first_paren(p, end, i);
		ps->last = LAST_BARRIER;
		ps->bad |= !ps->i;
		return;
	}
	if (is_verb(p, end, i)) {
		g = first_paren(p, end, i);
		if (!g || !harmless_verb(p + i + 2, g - i - 2)) {
			ps->bad = true;
			return;
		}
		run_end(ps);
		ps->i = g;
		ps->last = LAST_BARRIER;
		return;
	}
	if (is_option_setting(p, end, i)) {
		/* Only case and similar: the literal is caseless anyway. */
		ps->i = options_end(p, end, i + 2) + 1;
		ps->last = LAST_BARRIER;
		return;
	}
	g = group_end(p, end, i, &alt);
	if (!g) {
		ps->bad = true;
		return;
	}
	/* A lone \E, or an empty \Q\E, does not come between a group
	 * and its quantifier. */
	qpos = g;
	for (;;) {
		if (qpos + 1 < end && p[qpos] == '\\' && p[qpos + 1] == 'E')
			qpos += 2;
		else if (qpos + 3 < end && !memcmp(p + qpos, "\\Q\\E", 4))
			qpos += 4;
		else
			break;
	}
	if (qpos < end)
		q = quantifier(p, end, qpos, &optional);
	if (!q)
		qpos = g;
	body = plain_body(p, end, i);
	if (!body || body >= g || alt || optional) {
		/* Skipped whole: not known to be matched, or not literally. */
		run_end(ps);
	} else {
		/* Read in place: the run goes on into it and out of it. */
		ps->i = body;
		ps->last = LAST_NONE;
		parse_seq(ps, g - 1);
		if (ps->bad)
			return;
		if (q)
			run_end(ps);   /* the body repeats: not contiguous */
	}
	ps->i = qpos + q;
	ps->last = LAST_OTHER;
}

static void parse_escape(struct parse *ps, size_t end)
{
	const char *p = ps->p;
	size_t i = ps->i, n;
	unsigned char c;

	if (i + 1 >= end) {
		ps->bad = true;
		return;
	}
	c = (unsigned char)p[i + 1];
	if (c == 'Q') {
		/* Quoted text: each character a literal atom, so that a
		 * quantifier after \E takes the last one. */
		size_t k = i + 2;

		for (; k < end; k++) {
			if (p[k] == '\\' && k + 1 < end && p[k + 1] == 'E')
				break;
			add_lit(ps, (unsigned char)p[k]);
		}
		ps->i = k < end ? k + 2 : end;
		return;
	}
	if (c == 'E') {
		/* A lone \E is ignored, quantifiers see through it. */
		ps->i = i + 2;
		return;
	}
	if (!isalnum(c)) {
		ps->i = i + 2;
		add_lit(ps, c);
		return;
	}
	n = esc_len(p, end, i);
	if (!n) {
		ps->bad = true;
		return;
	}
	run_end(ps);
	ps->i = i + n;
	ps->last = strchr("bBAzZGK", c) ? LAST_BARRIER : LAST_OTHER;
}

/* Reads p[ps->i..end), a sequence without alternation. */
static void parse_seq(struct parse *ps, size_t end)
{
	const char *p = ps->p;

	while (!ps->bad && ps->i < end) {
		size_t i = ps->i, q;
		unsigned char c = (unsigned char)p[i];
		bool optional;

		switch (c) {
		case '|':
		case ')':
			ps->bad = true;
			break;
		case '(':
			parse_group(ps, end);
			break;
		case '[':
			ps->i = class_end(p, end, i);
			ps->bad |= !ps->i;
			run_end(ps);
			ps->last = LAST_OTHER;
			break;
		case '.':
			run_end(ps);
			ps->i++;
			ps->last = LAST_OTHER;
			break;
		case '^':
		case '$':
			run_end(ps);
			ps->i++;
			ps->last = LAST_BARRIER;
			break;
		case '\\':
			parse_escape(ps, end);
			break;
		case '*':
		case '+':
		case '?':
		case '{':
			q = quantifier(p, end, i, &optional);
			if (!q) {
				ps->i++;
				add_lit(ps, c);     /* a '{' that is text */
				break;
			}
			if (ps->last == LAST_NONE || ps->last == LAST_BARRIER) {
				ps->bad = true;
				break;
			}
			if (ps->last == LAST_LIT && optional)
				ps->cur_len--;
			run_end(ps);
			ps->i += q;
			ps->last = LAST_OTHER;
			break;
		default:
			ps->i++;
			add_lit(ps, c);
			break;
		}
	}
}

size_t litscan_required(const char *pattern, size_t len, char *out, size_t cap)
{
	struct parse *ps;
	size_t n;

	if (!cap || unreadable(pattern, len))
		return 0;
	/* Recursion depth is bounded by the pattern's nesting, and the
	 * state is too big for some thread stacks: keep it off them. */
	ps = calloc(1, sizeof(*ps));
	if (!ps)
		return 0;
	ps->p = pattern;
	ps->out = out;
	ps->cap = cap;
	parse_seq(ps, len);
	run_end(ps);
	n = ps->bad ? 0 : ps->best;
	free(ps);
	return n;
}

/* ---- Aho-Corasick ------------------------------------------------------ */

struct litscan {
	unsigned n;
	unsigned nclass;
	uint8_t cls[256];
	uint32_t *delta;           /* [state * nclass + class]: next state
				    * times nclass */
	uint32_t out_from;         /* states from here on report literals
				    * (times nclass, like delta) */
	int32_t *first;            /* first literal ending at a state, -1 */
	uint32_t *dict;            /* next state on the fail chain that has
				    * literals of its own, 0 for none */
	int32_t *next_lit;         /* more literals ending at the same state */
	uint64_t *empty;           /* literals of length 0: always found */
	uint64_t *ks;              /* literals holding a 'k' or an 's' */
};

void litscan_free(struct litscan *ls)
{
	if (!ls)
		return;
	free(ls->delta);
	free(ls->first);
	free(ls->dict);
	free(ls->next_lit);
	free(ls->empty);
	free(ls->ks);
	free(ls);
}

static unsigned char fold(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? (unsigned char)(c + 32) : c;
}

/* Byte classes, with class 0 for every byte no literal holds. */
static void make_classes(struct litscan *ls, const char *const *lits,
			 const size_t *lens)
{
	ls->nclass = 1;
	for (unsigned i = 0; i < ls->n; i++)
		for (size_t k = 0; k < lens[i]; k++) {
			unsigned char f = fold((unsigned char)lits[i][k]);

			if (ls->cls[f])
				continue;
			/* At most 1 + 230 classes: 256 bytes less 26 folded. */
			ls->cls[f] = (uint8_t)ls->nclass++;
			if (f >= 'a' && f <= 'z')
				ls->cls[f - 32] = ls->cls[f];
		}
}

struct litscan *litscan_build(const char *const *lits, const size_t *lens,
			      unsigned n)
{
	struct litscan *ls = calloc(1, sizeof(*ls));
	size_t total = 1, words = (n + 63) / 64 + 1, head = 0, tail = 0;
	uint32_t *fail = NULL, *queue = NULL, nstates = 1;
	unsigned nc;

	if (!ls)
		return NULL;
	ls->n = n;
	make_classes(ls, lits, lens);
	nc = ls->nclass;
	for (unsigned i = 0; i < n; i++)
		total += lens[i];
	/* Premultiplied offsets must fit in 32 bits. */
	if (total > UINT32_MAX / nc)
		goto fail;
	ls->delta = calloc(total * nc, sizeof(*ls->delta));
	ls->first = malloc(total * sizeof(*ls->first));
	ls->dict = calloc(total, sizeof(*ls->dict));
	ls->next_lit = malloc((n ? n : 1) * sizeof(*ls->next_lit));
	ls->empty = calloc(words, sizeof(*ls->empty));
	ls->ks = calloc(words, sizeof(*ls->ks));
	fail = calloc(total, sizeof(*fail));
	queue = malloc(total * sizeof(*queue));
	if (!ls->delta || !ls->first || !ls->dict || !ls->next_lit ||
	    !ls->empty || !ls->ks || !fail || !queue)
		goto fail;
	for (size_t s = 0; s < total; s++)
		ls->first[s] = -1;

	/* The trie.  While building, delta holds plain state numbers and
	 * 0 means "no edge": no trie edge leads back to the root. */
	for (unsigned i = 0; i < n; i++) {
		uint32_t s = 0;

		if (!lens[i])
			ls->empty[i / 64] |= 1ull << (i % 64);
		for (size_t k = 0; k < lens[i]; k++) {
			unsigned char b = fold((unsigned char)lits[i][k]);
			uint32_t *t = &ls->delta[(size_t)s * nc + ls->cls[b]];

			if (b == 'k' || b == 's')
				ls->ks[i / 64] |= 1ull << (i % 64);
			if (!*t)
				*t = nstates++;
			s = *t;
		}
		if (lens[i]) {
			ls->next_lit[i] = ls->first[s];
			ls->first[s] = (int32_t)i;
		}
	}

	/* Breadth first, so that a state's fail state is complete before
	 * the state: fail and dictionary links, and the missing edges taken
	 * from the fail state, which turns the trie into a DFA. */
	for (unsigned c = 0; c < nc; c++)
		if (ls->delta[c])
			queue[tail++] = ls->delta[c];
	while (head < tail) {
		uint32_t s = queue[head++], f = fail[s];

		ls->dict[s] = ls->first[f] >= 0 ? f : ls->dict[f];
		for (unsigned c = 0; c < nc; c++) {
			uint32_t *t = &ls->delta[(size_t)s * nc + c];
			uint32_t via_fail = ls->delta[(size_t)f * nc + c];

			if (*t) {
				fail[*t] = via_fail;
				queue[tail++] = *t;
			} else {
				*t = via_fail;
			}
		}
	}

	/* Final form.  States that report literals are numbered last, so
	 * that the scan tells them by a compare off its critical path, and
	 * offsets are premultiplied, so that it does one add and one load
	 * per byte.  fail is reused for the new numbers. */
	uint32_t *old = ls->delta, *id = fail, next = 0;
	int32_t *first = ls->first;
	uint32_t *dict = ls->dict;

	for (int pass = 0; pass < 2; pass++) {
		for (uint32_t st = 0; st < nstates; st++)
			if ((first[st] >= 0 || dict[st]) == (pass == 1))
				id[st] = next++;
		if (pass == 0)
			ls->out_from = next * nc;
	}
	ls->delta = malloc((size_t)nstates * nc * sizeof(*ls->delta));
	ls->first = malloc(nstates * sizeof(*ls->first));
	ls->dict = malloc(nstates * sizeof(*ls->dict));
	if (!ls->delta || !ls->first || !ls->dict) {
		free(old);
		free(first);
		free(dict);
		goto fail;
	}
	for (uint32_t st = 0; st < nstates; st++) {
		for (unsigned c = 0; c < nc; c++)
			ls->delta[(size_t)id[st] * nc + c] =
				id[old[(size_t)st * nc + c]] * nc;
		ls->first[id[st]] = first[st];
		/* The root never reports, so 0 still means "none". */
		ls->dict[id[st]] = dict[st] ? id[dict[st]] : 0;
	}
	free(old);
	free(first);
	free(dict);
	free(fail);
	free(queue);
	return ls;
fail:
	free(fail);
	free(queue);
	litscan_free(ls);
	return NULL;
}

static void report(const struct litscan *ls, uint32_t s, uint64_t *found)
{
	uint32_t t = ls->first[s] >= 0 ? s : ls->dict[s];

	for (; t; t = ls->dict[t])
		for (int32_t l = ls->first[t]; l >= 0; l = ls->next_lit[l])
			found[l / 64] |= 1ull << (l % 64);
}

void litscan_scan(const struct litscan *ls, const char *text, size_t len,
		  uint64_t *found)
{
	const unsigned char *p = (const unsigned char *)text;
	const uint32_t *delta = ls->delta;
	const uint8_t *cls = ls->cls;
	uint32_t out_from = ls->out_from;
	unsigned words = (ls->n + 63) / 64;
	unsigned high = 0;
	uint32_t s = 0;

	for (unsigned w = 0; w < words; w++)
		found[w] |= ls->empty[w];
	for (size_t i = 0; i < len; i++) {
		s = delta[s + cls[p[i]]];
		high |= p[i];
		if (__builtin_expect(s >= out_from, 0))
			report(ls, s / ls->nclass, found);
	}
	/* See the top of the file. */
	if ((high & 0x80) && (memmem(text, len, "\xe2\x84\xaa", 3) ||
			      memmem(text, len, "\xc5\xbf", 2)))
		for (unsigned w = 0; w < words; w++)
			found[w] |= ls->ks[w];
}
