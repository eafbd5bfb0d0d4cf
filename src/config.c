/*
 * config.c - the YAML config file (docs/config.md).
 *
 * The file is composed into a libyaml document first, so that every node
 * still knows its line when it turns out to be wrong, and then walked
 * once.  The walk fills a scratch copy of the caller's config: a file
 * that is wrong anywhere leaves the caller's config exactly as it was,
 * which is what a reload needs (the old config stays in force).
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "backend_tls.h"
#include "config.h"
#include "config_keyspace.h"
#include "config_users.h"
#include "config_yaml.h"
#include "groups.h"
#include "mysql_proto.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <yaml.h>

/* Refuses e.g. --config /dev/zero instead of reading it forever. */
#define CONFIG_FILE_MAX (16u << 20)

#define NAME_CHARS "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz" \
		   "0123456789_.-"

/*
 * Everything a load allocates apart from the rules array hangs off
 * cfg->owned, newest first.  A failed load frees only the blocks in front
 * of the head it started from, so the strings of an earlier load (which
 * cfg->deny and friends may still point to) survive it.
 */
struct owned_block {
	struct owned_block *next;
	max_align_t data[];
};

struct loader {
	const char *name;	/* file name, for messages */
	yaml_document_t *doc;
	struct config *cfg;	/* the scratch copy being filled */
	char *err;
	size_t errlen;
};

/* ---- errors ----------------------------------------------------------- */

static unsigned node_line(const yaml_node_t *n)
{
	return (unsigned)n->start_mark.line + 1;
}

static const char *kind_name(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SEQUENCE_NODE:
		return "a sequence";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "a scalar";
	}
}

/* "FILE:LINE: [rule 'NAME': ]message"; always returns -1. */
__attribute__((format(printf, 4, 0)))
static int vfail(struct loader *ld, const char *rule, const yaml_node_t *at,
		 const char *fmt, va_list ap)
{
	char msg[512];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (rule)
		snprintf(ld->err, ld->errlen, "%s:%u: rule '%s': %s", ld->name,
			 node_line(at), rule, msg);
	else
		snprintf(ld->err, ld->errlen, "%s:%u: %s", ld->name,
			 node_line(at), msg);
	return -1;
}

__attribute__((format(printf, 4, 5)))
static int fail(struct loader *ld, const char *rule, const yaml_node_t *at,
		const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ld, rule, at, fmt, ap);
	va_end(ap);
	return -1;
}

static int oom(struct loader *ld, const char *rule, const yaml_node_t *at)
{
	return fail(ld, rule, at, "out of memory");
}

/* Case-insensitive Levenshtein distance; UINT_MAX for long words, which
 * are not worth a suggestion. */
static unsigned edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	unsigned row[64];

	if (la >= 64 || lb >= 64)
		return UINT_MAX;
	for (size_t j = 0; j <= lb; j++)
		row[j] = (unsigned)j;
	for (size_t i = 1; i <= la; i++) {
		unsigned diag = row[0];

		row[0] = (unsigned)i;
		for (size_t j = 1; j <= lb; j++) {
			unsigned up = row[j];
			unsigned best = diag +
				(tolower((unsigned char)a[i - 1]) !=
				 tolower((unsigned char)b[j - 1]));

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* The candidate within edit distance 2 of word, or NULL. */
static const char *closest(const char *word, const char *const *cands,
			   size_t n)
{
	const char *best = NULL;
	unsigned best_d = 3;

	for (size_t i = 0; i < n; i++) {
		unsigned d = edit_distance(word, cands[i]);

		if (d < best_d) {
			best_d = d;
			best = cands[i];
		}
	}
	return best;
}

static int unknown(struct loader *ld, const char *rule, const yaml_node_t *at,
		   const char *what, const char *word, const char *const *cands,
		   size_t n)
{
	const char *near = closest(word, cands, n);

	if (near)
		return fail(ld, rule, at, "unknown %s '%s' (did you mean '%s'?)",
			    what, word, near);
	return fail(ld, rule, at, "unknown %s '%s'", what, word);
}

/* ---- memory ------------------------------------------------------------ */

static void *owned_alloc(struct loader *ld, size_t size)
{
	struct owned_block *b = calloc(1, sizeof(*b) + size);

	if (!b)
		return NULL;
	b->next = ld->cfg->owned;
	ld->cfg->owned = b;
	return b->data;
}

static char *owned_strdup(struct loader *ld, const char *s, size_t len)
{
	char *p = owned_alloc(ld, len + 1);

	if (p)
		memcpy(p, s, len);
	return p;
}

/* Frees the blocks a load added in front of stop, and its rules array. */
static void discard(struct config *cfg, void *stop)
{
	struct owned_block *b = cfg->owned;

	while (b && b != stop) {
		struct owned_block *next = b->next;

		free(b);
		b = next;
	}
	cfg->owned = stop;
	free(cfg->rules);
	cfg->rules = NULL;
	cfg->nrules = 0;
}

/* ---- scalars ----------------------------------------------------------- */

static yaml_node_t *node(struct loader *ld, int id)
{
	return yaml_document_get_node(ld->doc, id);
}

static const char *text(const yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/*
 * YAML's null (`key:`, `~`, `null`) when written plain; quoting gives the
 * string.  libyaml tags every untagged scalar as a string, so the plain
 * style is what tells them apart.
 */
static bool is_null(const yaml_node_t *n)
{
	static const char *const nulls[] = { "", "~", "null", "Null", "NULL" };

	if (n->type != YAML_SCALAR_NODE)
		return false;
	if (n->tag && !strcmp((const char *)n->tag, YAML_NULL_TAG))
		return true;
	if (n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++)
		if (!strcmp(text(n), nulls[i]))
			return true;
	return false;
}

/* A scalar's text; what names it in messages ("threads", "rows: row 2"). */
static int get_scalar(struct loader *ld, const char *rule, const char *what,
		      const yaml_node_t *n, const char **out)
{
	if (n->type != YAML_SCALAR_NODE)
		return fail(ld, rule, n, "%s: expected a scalar, got %s", what,
			    kind_name(n));
	/* C strings end at the first NUL; a "\0" escape would cut the value
	 * short without anyone noticing. */
	if (strlen(text(n)) != n->data.scalar.length)
		return fail(ld, rule, n, "%s: contains a NUL character", what);
	*out = text(n);
	return 0;
}

/* Decimal digits only: no sign, no spaces, no suffix. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		if (!isdigit((unsigned char)*s))
			return -1;
		if (v > (UINT64_MAX - (uint64_t)(*s - '0')) / 10)
			return -1;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = { "true", "yes", "on" };
	static const char *const no[] = { "false", "no", "off" };

	for (size_t i = 0; i < 3; i++) {
		if (!strcasecmp(s, yes[i])) {
			*out = true;
			return 0;
		}
		if (!strcasecmp(s, no[i])) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

static bool is_ident(const char *s)
{
	size_t len = strlen(s);

	return len >= 1 && len <= 63 && strspn(s, NAME_CHARS) == len;
}

/*
 * Mapping keys must be scalars and unique: YAML says a repeated key is an
 * error, and silently keeping either value would hide a mistake.
 */
static int check_key(struct loader *ld, const char *rule, yaml_node_t *map,
		     yaml_node_pair_t *pair)
{
	yaml_node_t *k = node(ld, pair->key);
	const char *name;

	if (k->type != YAML_SCALAR_NODE)
		return fail(ld, rule, k, "expected a scalar key, got %s",
			    kind_name(k));
	if (get_scalar(ld, rule, "key", k, &name))
		return -1;
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start; p < pair;
	     p++) {
		yaml_node_t *prev = node(ld, p->key);

		if (prev->type == YAML_SCALAR_NODE && !strcmp(text(prev), name))
			return fail(ld, rule, k,
				    "duplicate key '%s' (first on line %u)",
				    name, node_line(prev));
	}
	return 0;
}

/* ---- for the loaders in files of their own (config_yaml.h) ------------- */

struct config *cy_config(struct loader *ld)
{
	return ld->cfg;
}

yaml_node_t *cy_node(struct loader *ld, int id)
{
	return node(ld, id);
}

unsigned cy_line(const yaml_node_t *n)
{
	return node_line(n);
}

const char *cy_kind(const yaml_node_t *n)
{
	return kind_name(n);
}

int cy_fail(struct loader *ld, const yaml_node_t *at, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail(ld, NULL, at, fmt, ap);
	va_end(ap);
	return -1;
}

int cy_unknown(struct loader *ld, const yaml_node_t *at, const char *prefix,
	       const char *what, const char *word, const char *const *cands,
	       size_t n)
{
	const char *near = closest(word, cands, n);

	if (near)
		return fail(ld, NULL, at, "%s: unknown %s '%s' (did you mean "
			    "'%s'?)", prefix, what, word, near);
	return fail(ld, NULL, at, "%s: unknown %s '%s'", prefix, what, word);
}

bool cy_is_null(const yaml_node_t *n)
{
	return is_null(n);
}

int cy_scalar(struct loader *ld, const char *what, const yaml_node_t *n,
	      const char **out)
{
	return get_scalar(ld, NULL, what, n, out);
}

int cy_check_key(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair)
{
	return check_key(ld, NULL, map, pair);
}

size_t cy_seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* ---- rules ------------------------------------------------------------- */

enum rule_key {
	RK_NAME, RK_MATCH, RK_CASE_SENSITIVE, RK_MATCH_ON, RK_DIGEST, RK_USER,
	RK_SCHEMA,
	RK_CLIENT, RK_COMMAND, RK_ACTION, RK_ERROR_CODE, RK_SQLSTATE,
	RK_ERROR_MESSAGE, RK_REPLACE, RK_COLUMNS, RK_ROWS, RK_AFFECTED_ROWS,
	RK_LOG, RK_DELAY_MS, RK_ROUTE, RK_CONTINUE, RK__COUNT
};

static const char *const rule_keys[RK__COUNT] = {
	[RK_NAME] = "name", [RK_MATCH] = "match",
	[RK_CASE_SENSITIVE] = "case-sensitive", [RK_MATCH_ON] = "match-on",
	[RK_DIGEST] = "digest",
	[RK_USER] = "user", [RK_SCHEMA] = "schema", [RK_CLIENT] = "client",
	[RK_COMMAND] = "command", [RK_ACTION] = "action",
	[RK_ERROR_CODE] = "error-code", [RK_SQLSTATE] = "sqlstate",
	[RK_ERROR_MESSAGE] = "error-message", [RK_REPLACE] = "replace",
	[RK_COLUMNS] = "columns", [RK_ROWS] = "rows",
	[RK_AFFECTED_ROWS] = "affected-rows", [RK_LOG] = "log",
	[RK_DELAY_MS] = "delay-ms", [RK_ROUTE] = "route",
	[RK_CONTINUE] = "continue",
};

static const char *const match_on_names[] = {
	[RULE_ON_STRIPPED] = "stripped", [RULE_ON_RAW] = "raw",
	[RULE_ON_DIGEST] = "digest",
};

static const char *const action_names[] = {
	[RULE_NONE] = "none", [RULE_REJECT] = "reject",
	[RULE_REWRITE] = "rewrite", [RULE_ANSWER] = "answer",
};

/* One rule mapping, its keys sorted into slots so that they can be read
 * in dependency order rather than file order. */
struct rule_ctx {
	struct loader *ld;
	struct rule_spec *r;
	yaml_node_t *key[RK__COUNT];
	yaml_node_t *val[RK__COUNT];
};

/* The value of key k as a scalar, with errors naming the rule and key. */
static int rule_scalar(struct rule_ctx *rc, enum rule_key k, const char **out)
{
	return get_scalar(rc->ld, rc->r->name, rule_keys[k], rc->val[k], out);
}

static int rule_string(struct rule_ctx *rc, enum rule_key k, bool nonempty,
		       const char **out)
{
	const char *s;

	if (rule_scalar(rc, k, &s))
		return -1;
	if (is_null(rc->val[k]))
		s = "";
	if (nonempty && !*s)
		return fail(rc->ld, rc->r->name, rc->val[k],
			    "%s: expected a non-empty string", rule_keys[k]);
	*out = owned_strdup(rc->ld, s, strlen(s));
	return *out ? 0 : oom(rc->ld, rc->r->name, rc->val[k]);
}

static int rule_bool(struct rule_ctx *rc, enum rule_key k, bool *out)
{
	const char *s;

	if (rule_scalar(rc, k, &s))
		return -1;
	if (parse_bool(s, out))
		return fail(rc->ld, rc->r->name, rc->val[k],
			    "%s: expected true or false (or yes/no, on/off), "
			    "got '%s'", rule_keys[k], s);
	return 0;
}

static int rule_uint(struct rule_ctx *rc, enum rule_key k, uint64_t min,
		     uint64_t max, uint64_t *out)
{
	const char *s;

	if (rule_scalar(rc, k, &s))
		return -1;
	if (parse_uint(s, max, out) || *out < min)
		return fail(rc->ld, rc->r->name, rc->val[k],
			    "%s: expected %llu..%llu, got '%s'", rule_keys[k],
			    (unsigned long long)min, (unsigned long long)max, s);
	return 0;
}

/* Keys that only make sense with one action are errors with another, so
 * that a rule never silently ignores part of what it says. */
static int rule_only_with(struct rule_ctx *rc, enum rule_key k,
			  enum rule_action action)
{
	if (!rc->key[k] || rc->r->action == action)
		return 0;
	return fail(rc->ld, rc->r->name, rc->key[k],
		    "%s: only with action %s (action is %s)", rule_keys[k],
		    action_names[action], action_names[rc->r->action]);
}

/* The name comes first so that every later message can use it. */
static int rule_name(struct rule_ctx *rc, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(rc->ld, p->key);
		yaml_node_t *v = node(rc->ld, p->value);
		const char *s;

		if (k->type != YAML_SCALAR_NODE || strcmp(text(k), "name"))
			continue;
		if (get_scalar(rc->ld, rc->r->name, "name", v, &s))
			return -1;
		if (!is_ident(s))
			return fail(rc->ld, rc->r->name, v,
				    "name: expected 1..63 characters of "
				    "A-Za-z0-9_.-, got '%s'", s);
		strcpy(rc->r->name, s);
		return 0;
	}
	return 0;
}

static int rule_keys_sort(struct rule_ctx *rc, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(rc->ld, p->key);
		unsigned i;

		if (check_key(rc->ld, rc->r->name, map, p))
			return -1;
		for (i = 0; i < RK__COUNT; i++)
			if (!strcmp(text(k), rule_keys[i]))
				break;
		if (i == RK__COUNT)
			return unknown(rc->ld, rc->r->name, k, "key", text(k),
				       rule_keys, RK__COUNT);
		rc->key[i] = k;
		rc->val[i] = node(rc->ld, p->value);
	}
	return 0;
}

static int rule_match_on(struct rule_ctx *rc)
{
	struct rule_spec *r = rc->r;
	const char *s = NULL;

	if (!rc->val[RK_MATCH])
		return fail(rc->ld, r->name, rc->key[RK_MATCH_ON],
			    "match-on: only with match");
	if (rule_scalar(rc, RK_MATCH_ON, &s))
		return -1;
	for (unsigned i = 0; i <= RULE_ON_DIGEST; i++) {
		if (!strcmp(s, match_on_names[i])) {
			r->match_on = (enum rule_match_on)i;
			return 0;
		}
	}
	return fail(rc->ld, r->name, rc->val[RK_MATCH_ON],
		    "match-on: expected stripped, raw or digest, got '%s'", s);
}

/* Compiled here only to report a bad pattern with its line; the rules
 * engine compiles its own copy with the same options. */
static int rule_match(struct rule_ctx *rc)
{
	struct rule_spec *r = rc->r;
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_SIZE off;
	pcre2_code *re;
	int code;

	if (rc->val[RK_CASE_SENSITIVE]) {
		if (!rc->val[RK_MATCH])
			return fail(rc->ld, r->name, rc->key[RK_CASE_SENSITIVE],
				    "case-sensitive: only with match");
		if (rule_bool(rc, RK_CASE_SENSITIVE, &r->case_sensitive))
			return -1;
	}
	if (rc->val[RK_MATCH_ON] && rule_match_on(rc))
		return -1;
	if (!rc->val[RK_MATCH])
		return 0;
	if (rule_string(rc, RK_MATCH, true, &r->match))
		return -1;
	if (!r->case_sensitive)
		opts |= PCRE2_CASELESS;
	re = pcre2_compile((PCRE2_SPTR)r->match, PCRE2_ZERO_TERMINATED, opts,
			   &code, &off, NULL);
	if (!re) {
		PCRE2_UCHAR msg[160];

		pcre2_get_error_message(code, msg, sizeof(msg));
		return fail(rc->ld, r->name, rc->val[RK_MATCH],
			    "match: %s at offset %zu", (const char *)msg,
			    (size_t)off);
	}
	pcre2_code_free(re);
	return 0;
}

/* "0x" + 1..16 hex digits, as the admin tables show it, or decimal. */
static int rule_digest(struct rule_ctx *rc)
{
	const char *s;

	if (!rc->val[RK_DIGEST])
		return 0;
	if (rule_scalar(rc, RK_DIGEST, &s))
		return -1;
	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		size_t n = strlen(s + 2);

		if (n >= 1 && n <= 16 &&
		    strspn(s + 2, "0123456789abcdefABCDEF") == n) {
			rc->r->digest = strtoull(s + 2, NULL, 16);
			rc->r->has_digest = true;
			return 0;
		}
	} else if (!parse_uint(s, UINT64_MAX, &rc->r->digest)) {
		rc->r->has_digest = true;
		return 0;
	}
	return fail(rc->ld, rc->r->name, rc->val[RK_DIGEST],
		    "digest: expected 0x and 1..16 hex digits or a decimal "
		    "number, got '%s'", s);
}

/* "ADDR" or "ADDR/PREFIX"; host bits beyond the prefix are cleared so
 * that the engine can compare the masked client address with memcmp. */
static int parse_client(const char *s, struct rule_spec *r)
{
	char addr[INET6_ADDRSTRLEN];
	const char *slash = strchr(s, '/');
	size_t alen = slash ? (size_t)(slash - s) : strlen(s);
	uint64_t prefix;
	unsigned bits;

	if (alen == 0 || alen >= sizeof(addr))
		return -1;
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	memset(r->client_addr, 0, sizeof(r->client_addr));
	if (inet_pton(AF_INET, addr, r->client_addr) == 1) {
		r->client_family = AF_INET;
		bits = 32;
	} else if (inet_pton(AF_INET6, addr, r->client_addr) == 1) {
		r->client_family = AF_INET6;
		bits = 128;
	} else {
		return -1;
	}
	prefix = bits;
	if (slash && parse_uint(slash + 1, bits, &prefix))
		return -1;
	for (unsigned i = 0; i < bits / 8; i++) {
		uint64_t keep = prefix > i * 8 ? prefix - i * 8 : 0;

		if (keep < 8)
			r->client_addr[i] &= (uint8_t)(0xff00u >> keep);
	}
	r->client_prefix = (uint8_t)prefix;
	r->has_client = true;
	return 0;
}

static int rule_client(struct rule_ctx *rc)
{
	const char *s;

	if (!rc->val[RK_CLIENT])
		return 0;
	if (rule_scalar(rc, RK_CLIENT, &s))
		return -1;
	if (parse_client(s, rc->r))
		return fail(rc->ld, rc->r->name, rc->val[RK_CLIENT],
			    "client: expected an IPv4 or IPv6 address with an "
			    "optional /prefix (0..32 or 0..128), got '%s'", s);
	return 0;
}

/*
 * mysql_command_name() answers "Unknown" for every unassigned byte; that
 * name must not select them all.
 */
static int command_code(const char *name)
{
	for (unsigned c = 0; c < 256; c++) {
		const char *n = mysql_command_name((uint8_t)c);

		if (strcmp(n, "Unknown") && !strcasecmp(n, name))
			return (int)c;
	}
	return -1;
}

static int rule_command_item(struct rule_ctx *rc, yaml_node_t *item)
{
	const char *s;
	int c;

	if (get_scalar(rc->ld, rc->r->name, "command", item, &s))
		return -1;
	c = command_code(s);
	if (c < 0) {
		const char *names[256];
		size_t n = 0;

		for (unsigned i = 0; i < 256; i++)
			if (strcmp(mysql_command_name((uint8_t)i), "Unknown"))
				names[n++] = mysql_command_name((uint8_t)i);
		return unknown(rc->ld, rc->r->name, item, "command", s, names, n);
	}
	/* Bit c & 7 of byte c >> 3 stands for command byte c. */
	rc->r->commands[c >> 3] |= (uint8_t)(1u << (c & 7));
	return 0;
}

static int rule_command(struct rule_ctx *rc)
{
	yaml_node_t *v = rc->val[RK_COMMAND];

	rc->r->any_command = !v;
	if (!v)
		return 0;
	if (v->type == YAML_SCALAR_NODE)
		return rule_command_item(rc, v);
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(rc->ld, rc->r->name, v,
			    "command: expected a command name or a sequence "
			    "of them, got %s", kind_name(v));
	if (v->data.sequence.items.start == v->data.sequence.items.top)
		return fail(rc->ld, rc->r->name, v,
			    "command: expected at least one command");
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++)
		if (rule_command_item(rc, node(rc->ld, *it)))
			return -1;
	return 0;
}

static int rule_action(struct rule_ctx *rc)
{
	const char *s = NULL;   /* set by rule_scalar; GCC cannot tell */

	if (!rc->val[RK_ACTION])
		return 0;
	if (rule_scalar(rc, RK_ACTION, &s))
		return -1;
	for (unsigned i = 0; i <= RULE_ANSWER; i++) {
		if (!strcasecmp(s, action_names[i])) {
			rc->r->action = (enum rule_action)i;
			return 0;
		}
	}
	return fail(rc->ld, rc->r->name, rc->val[RK_ACTION],
		    "action: expected none, reject, rewrite or answer, got '%s'",
		    s);
}

static int rule_reject(struct rule_ctx *rc)
{
	struct rule_spec *r = rc->r;
	uint64_t v;
	const char *s;
	char msg[128];

	if (rule_only_with(rc, RK_ERROR_CODE, RULE_REJECT) ||
	    rule_only_with(rc, RK_SQLSTATE, RULE_REJECT) ||
	    rule_only_with(rc, RK_ERROR_MESSAGE, RULE_REJECT))
		return -1;
	if (r->action != RULE_REJECT)
		return 0;
	r->error_code = 1105;
	if (rc->val[RK_ERROR_CODE]) {
		if (rule_uint(rc, RK_ERROR_CODE, 1, 65535, &v))
			return -1;
		r->error_code = (uint16_t)v;
	}
	strcpy(r->sqlstate, "HY000");
	if (rc->val[RK_SQLSTATE]) {
		if (rule_scalar(rc, RK_SQLSTATE, &s))
			return -1;
		if (strlen(s) != 5 ||
		    strspn(s, "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ") != 5)
			return fail(rc->ld, r->name, rc->val[RK_SQLSTATE],
				    "sqlstate: expected 5 characters of 0-9A-Z, "
				    "got '%s'", s);
		memcpy(r->sqlstate, s, 6);
	}
	if (rc->val[RK_ERROR_MESSAGE])
		return rule_string(rc, RK_ERROR_MESSAGE, true, &r->error_message);
	snprintf(msg, sizeof(msg), "myring: query blocked by rule '%s'", r->name);
	r->error_message = owned_strdup(rc->ld, msg, strlen(msg));
	return r->error_message ? 0 : oom(rc->ld, r->name, rc->key[RK_ACTION]);
}

static int rule_rewrite(struct rule_ctx *rc)
{
	struct rule_spec *r = rc->r;

	if (rule_only_with(rc, RK_REPLACE, RULE_REWRITE))
		return -1;
	if (r->action != RULE_REWRITE)
		return 0;
	if (!rc->val[RK_MATCH])
		return fail(rc->ld, r->name, rc->val[RK_ACTION],
			    "action rewrite requires match");
	if (!rc->val[RK_REPLACE])
		return fail(rc->ld, r->name, rc->val[RK_ACTION],
			    "action rewrite requires replace");
	/* A fingerprint is not SQL: there is nothing to send. */
	if (r->match_on == RULE_ON_DIGEST)
		return fail(rc->ld, r->name, rc->val[RK_MATCH_ON],
			    "match-on: digest cannot be rewritten (a "
			    "fingerprint is not SQL); use stripped or raw");
	/* An empty replacement is legitimate: it deletes the match. */
	return rule_string(rc, RK_REPLACE, false, &r->replace);
}

static int rule_columns(struct rule_ctx *rc)
{
	yaml_node_t *v = rc->val[RK_COLUMNS];
	size_t n;

	if (v->type != YAML_SEQUENCE_NODE)
		return fail(rc->ld, rc->r->name, v,
			    "columns: expected a sequence of column names, "
			    "got %s", kind_name(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n < 1 || n > RULE_ANSWER_MAX_COLUMNS)
		return fail(rc->ld, rc->r->name, v,
			    "columns: expected 1..%d columns, got %zu",
			    RULE_ANSWER_MAX_COLUMNS, n);
	rc->r->columns = owned_alloc(rc->ld, n * sizeof(char *));
	if (!rc->r->columns)
		return oom(rc->ld, rc->r->name, v);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *item =
			node(rc->ld, v->data.sequence.items.start[i]);
		const char *s;

		if (get_scalar(rc->ld, rc->r->name, "columns", item, &s))
			return -1;
		if (!*s || is_null(item))
			return fail(rc->ld, rc->r->name, item,
				    "columns: column %zu: expected a non-empty "
				    "name", i + 1);
		rc->r->columns[i] = owned_strdup(rc->ld, s, strlen(s));
		if (!rc->r->columns[i])
			return oom(rc->ld, rc->r->name, item);
	}
	rc->r->ncolumns = (unsigned)n;
	return 0;
}

/* One row: exactly ncolumns cells, a plain null being SQL NULL. */
static int rule_row(struct rule_ctx *rc, yaml_node_t *row, unsigned nr)
{
	struct rule_spec *r = rc->r;
	const char **cells = r->cells + (size_t)nr * r->ncolumns;
	size_t n;

	if (row->type != YAML_SEQUENCE_NODE)
		return fail(rc->ld, r->name, row,
			    "rows: row %u: expected a sequence of %u cells, "
			    "got %s", nr + 1, r->ncolumns, kind_name(row));
	n = (size_t)(row->data.sequence.items.top -
		     row->data.sequence.items.start);
	if (n != r->ncolumns)
		return fail(rc->ld, r->name, row,
			    "rows: row %u: has %zu cells, expected one per "
			    "column (%u)", nr + 1, n, r->ncolumns);
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *cell =
			node(rc->ld, row->data.sequence.items.start[i]);
		char what[48];
		const char *s;

		snprintf(what, sizeof(what), "rows: row %u", nr + 1);
		if (get_scalar(rc->ld, r->name, what, cell, &s))
			return -1;
		if (is_null(cell))
			continue;
		cells[i] = owned_strdup(rc->ld, s, strlen(s));
		if (!cells[i])
			return oom(rc->ld, r->name, cell);
	}
	return 0;
}

static int rule_rows(struct rule_ctx *rc)
{
	yaml_node_t *v = rc->val[RK_ROWS];
	struct rule_spec *r = rc->r;
	size_t n;

	if (!rc->val[RK_COLUMNS])
		return fail(rc->ld, r->name, rc->key[RK_ROWS],
			    "rows: requires columns");
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(rc->ld, r->name, v,
			    "rows: expected a sequence of rows, got %s",
			    kind_name(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > RULE_ANSWER_MAX_ROWS)
		return fail(rc->ld, r->name, v,
			    "rows: more than %d rows", RULE_ANSWER_MAX_ROWS);
	if (n) {
		r->cells = owned_alloc(rc->ld, n * r->ncolumns * sizeof(char *));
		if (!r->cells)
			return oom(rc->ld, r->name, v);
	}
	for (size_t i = 0; i < n; i++)
		if (rule_row(rc, node(rc->ld, v->data.sequence.items.start[i]),
			     (unsigned)i))
			return -1;
	r->nrows = (unsigned)n;
	return 0;
}

static int rule_answer(struct rule_ctx *rc)
{
	if (rule_only_with(rc, RK_COLUMNS, RULE_ANSWER) ||
	    rule_only_with(rc, RK_ROWS, RULE_ANSWER) ||
	    rule_only_with(rc, RK_AFFECTED_ROWS, RULE_ANSWER))
		return -1;
	if (rc->r->action != RULE_ANSWER)
		return 0;
	if (rc->val[RK_COLUMNS] && rule_columns(rc))
		return -1;
	if (rc->val[RK_ROWS] && rule_rows(rc))
		return -1;
	if (!rc->val[RK_AFFECTED_ROWS])
		return 0;
	/* A result set carries no affected-rows count of its own. */
	if (rc->val[RK_COLUMNS])
		return fail(rc->ld, rc->r->name, rc->key[RK_AFFECTED_ROWS],
			    "affected-rows: only for an answer without "
			    "columns");
	return rule_uint(rc, RK_AFFECTED_ROWS, 0, UINT64_MAX,
			 &rc->r->affected_rows);
}

static int rule_side_effects(struct rule_ctx *rc)
{
	struct rule_spec *r = rc->r;
	uint64_t v;
	const char *s;

	if (rc->val[RK_LOG] && rule_bool(rc, RK_LOG, &r->log))
		return -1;
	if (rc->val[RK_DELAY_MS]) {
		if (rule_uint(rc, RK_DELAY_MS, 0, 600000, &v))
			return -1;
		r->delay_ms = (uint32_t)v;
		/* A delay holds a command on its way to the server; the proxy
		 * answers these at once, so it would be silently ignored. */
		if (r->delay_ms && (r->action == RULE_REJECT ||
				    r->action == RULE_ANSWER))
			return fail(rc->ld, r->name, rc->val[RK_DELAY_MS],
				    "delay-ms: not with action %s (the proxy "
				    "answers at once; a delay holds commands "
				    "that go to the server)",
				    action_names[r->action]);
	}
	if (rc->val[RK_ROUTE]) {
		if (rule_scalar(rc, RK_ROUTE, &s))
			return -1;
		if (!is_ident(s))
			return fail(rc->ld, r->name, rc->val[RK_ROUTE],
				    "route: expected 1..63 characters of "
				    "A-Za-z0-9_.-, got '%s'", s);
		r->route = owned_strdup(rc->ld, s, strlen(s));
		if (!r->route)
			return oom(rc->ld, r->name, rc->val[RK_ROUTE]);
	}
	if (!rc->val[RK_CONTINUE])
		return 0;
	if (rule_bool(rc, RK_CONTINUE, &r->cont))
		return -1;
	if (r->cont && (r->action == RULE_REJECT || r->action == RULE_ANSWER))
		return fail(rc->ld, r->name, rc->val[RK_CONTINUE],
			    "continue: not with action %s, which ends the "
			    "command", action_names[r->action]);
	return 0;
}

static int rule_condition(struct rule_ctx *rc, enum rule_key k,
			  const char **out)
{
	return rc->val[k] ? rule_string(rc, k, true, out) : 0;
}

/* rules[0..pos-1] are loaded already; rules[pos] is filled from map. */
static int load_rule(struct loader *ld, yaml_node_t *map,
		     struct rule_spec *rules, unsigned pos)
{
	struct rule_ctx rc = { .ld = ld, .r = &rules[pos] };
	struct rule_spec *r = &rules[pos];

	snprintf(r->name, sizeof(r->name), "rule-%u", pos + 1);
	r->line = node_line(map);
	r->any_command = true;
	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, r->name, map, "expected a mapping, got %s",
			    kind_name(map));
	if (rule_name(&rc, map) || rule_keys_sort(&rc, map))
		return -1;
	for (unsigned i = 0; i < pos; i++)
		if (!strcmp(rules[i].name, r->name))
			return fail(ld, r->name,
				    rc.val[RK_NAME] ? rc.val[RK_NAME] : map,
				    "duplicate rule name (first on line %u)",
				    rules[i].line);
	return rule_match(&rc) || rule_digest(&rc) ||
	       rule_condition(&rc, RK_USER, &r->user) ||
	       rule_condition(&rc, RK_SCHEMA, &r->schema) ||
	       rule_client(&rc) || rule_command(&rc) || rule_action(&rc) ||
	       rule_reject(&rc) || rule_rewrite(&rc) || rule_answer(&rc) ||
	       rule_side_effects(&rc) ? -1 : 0;
}

static int load_rules(struct loader *ld, yaml_node_t *k, yaml_node_t *v)
{
	size_t n;

	/* `rules:` with nothing under it, as in a template: no rules. */
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, NULL, v, "rules: expected a sequence of rules, "
			    "got %s", kind_name(v));
	n = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (n > RULES_MAX)
		return fail(ld, NULL, k, "rules: more than %d rules", RULES_MAX);
	if (!n)
		return 0;
	ld->cfg->rules = calloc(n, sizeof(struct rule_spec));
	if (!ld->cfg->rules)
		return oom(ld, NULL, k);
	for (size_t i = 0; i < n; i++) {
		if (load_rule(ld, node(ld, v->data.sequence.items.start[i]),
			      ld->cfg->rules, (unsigned)i))
			return -1;
		ld->cfg->nrules = (unsigned)i + 1;
	}
	return 0;
}

/* ---- users ------------------------------------------------------------ */

/* How messages name an entry: by its name once known, else by position. */
static void user_label(char *out, size_t outlen, const char *name, size_t pos)
{
	if (name)
		snprintf(out, outlen, "user '%s'", name);
	else
		snprintf(out, outlen, "users: entry %zu", pos + 1);
}

/* The entry's name if it has a usable one, for messages about its other
 * keys (a name that is not is reported by itself). */
static const char *user_name(struct loader *ld, yaml_node_t *map)
{
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(ld, p->key), *v = node(ld, p->value);

		if (k->type == YAML_SCALAR_NODE && !strcmp(text(k), "name") &&
		    v->type == YAML_SCALAR_NODE && !is_null(v) && *text(v) &&
		    strlen(text(v)) == v->data.scalar.length &&
		    v->data.scalar.length <= AUTH_NAME_MAX)
			return text(v);
	}
	return NULL;
}

/* The line of an earlier entry of the sequence whose name is name, or 0
 * (the name came from elsewhere: the `user` key). */
static unsigned user_first_line(struct loader *ld, yaml_node_t *seq,
				size_t before, const char *name)
{
	for (size_t i = 0; i < before; i++) {
		yaml_node_t *map = node(ld, seq->data.sequence.items.start[i]);

		for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
		     p < map->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(ld, p->key), *v = node(ld, p->value);

			if (!strcmp(text(k), "name") &&
			    v->type == YAML_SCALAR_NODE && !strcmp(text(v), name))
				return node_line(v);
		}
	}
	return 0;
}

/*
 * One entry: its keys sorted into slots (name first, so that every later
 * message can name the user), each a scalar, then config_users.c decides
 * what they mean.  A YAML null is refused for the secrets: `password:`
 * with nothing after it is more likely unfinished than meant to be "".
 */
static int load_user(struct loader *ld, yaml_node_t *seq, size_t pos)
{
	yaml_node_t *map = node(ld, seq->data.sequence.items.start[pos]);
	yaml_node_t *val[UK__COUNT] = {0};
	struct user_entry e = {0};
	enum user_key bad;
	char label[AUTH_NAME_MAX + 32], what[AUTH_NAME_MAX + 64], why[512];

	user_label(label, sizeof(label), NULL, pos);
	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, NULL, map, "%s: expected a mapping (name: and "
			    "password: or stored:), got %s", label,
			    kind_name(map));
	user_label(label, sizeof(label), user_name(ld, map), pos);
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(ld, p->key);
		unsigned i;

		if (check_key(ld, NULL, map, p))
			return -1;
		for (i = 0; i < UK__COUNT; i++)
			if (!strcmp(text(k), user_keys[i]))
				break;
		if (i == UK__COUNT) {
			const char *near = closest(text(k), user_keys, UK__COUNT);

			return fail(ld, NULL, k, "%s: unknown key '%s'%s%s%s",
				    label, text(k), near ? " (did you mean '" : "",
				    near ? near : "", near ? "'?)" : "");
		}
		val[i] = node(ld, p->value);
	}
	for (unsigned i = 0; i < UK__COUNT; i++) {
		if (!val[i])
			continue;
		snprintf(what, sizeof(what), "%s: %s", label, user_keys[i]);
		if (get_scalar(ld, NULL, what, val[i], &e.val[i]))
			return -1;
		if (is_null(val[i]))
			return fail(ld, NULL, val[i], "%s: no value (YAML null)%s",
				    what, i == UK_PASSWORD || i == UK_STORED ||
				    i == UK_BACKEND_PASSWORD ? "; write \"\" "
				    "for an account without a password" : "");
	}
	if (e.val[UK_NAME] && config_user_find(ld->cfg, e.val[UK_NAME]) >= 0) {
		unsigned first = user_first_line(ld, seq, pos, e.val[UK_NAME]);

		if (first)
			return fail(ld, NULL, val[UK_NAME], "%s: defined twice "
				    "(first on line %u)", label, first);
		return fail(ld, NULL, val[UK_NAME], "%s: defined twice (also "
			    "by the user key)", label);
	}
	if (config_user_add(ld->cfg, &e, &bad, why, sizeof(why)))
		return fail(ld, NULL, bad < UK__COUNT && val[bad] ? val[bad] : map,
			    "%s: %s", label, why);
	return 0;
}

static int load_users(struct loader *ld, yaml_node_t *v)
{
	/* `users:` with nothing under it, as in a template: no users. */
	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, NULL, v, "users: expected a sequence of users, "
			    "got %s", kind_name(v));
	for (size_t i = 0; i < (size_t)(v->data.sequence.items.top -
					v->data.sequence.items.start); i++)
		if (load_user(ld, v, i))
			return -1;
	return 0;
}

/* ---- backend groups ------------------------------------------------------ */

enum group_key {
	GK_NAME, GK_SERVERS, GK_READS, GK_MAX_LAG, GK_CHECK_INTERVAL,
	GK_CAUSAL, GK_CAUSAL_TIMEOUT, GK_FAIL_CHECKS, GK_OK_CHECKS, GK__COUNT
};

static const char *const group_keys[GK__COUNT] = {
	[GK_NAME] = "name", [GK_SERVERS] = "servers", [GK_READS] = "reads",
	[GK_MAX_LAG] = "max-lag", [GK_CHECK_INTERVAL] = "check-interval",
	[GK_CAUSAL] = "causal-reads", [GK_CAUSAL_TIMEOUT] = "causal-timeout",
	[GK_FAIL_CHECKS] = "fail-checks", [GK_OK_CHECKS] = "ok-checks",
};

static const char *const server_keys[] = {"address", "weight",
					  "max-connections", "tls", "tls-ca",
					  "tls-cert", "tls-key"};

static size_t seq_len(const yaml_node_t *n)
{
	return (size_t)(n->data.sequence.items.top - n->data.sequence.items.start);
}

/* One of words, by position; -1 (after the message) if none. */
static int group_word(struct loader *ld, const char *what, yaml_node_t *v,
		      const char *const *words, size_t n)
{
	const char *s;

	if (get_scalar(ld, NULL, what, v, &s))
		return -1;
	for (size_t i = 0; i < n; i++)
		if (!strcmp(s, words[i]))
			return (int)i;
	return fail(ld, NULL, v, "%s: expected %s, %s or %s, got '%s'", what,
		    words[0], words[1], words[2], s);
}

static int group_uint(struct loader *ld, const char *what, yaml_node_t *v,
		      uint64_t min, uint64_t max, uint32_t *out)
{
	const char *s;
	uint64_t n;

	if (get_scalar(ld, NULL, what, v, &s))
		return -1;
	if (parse_uint(s, max, &n) || n < min)
		return fail(ld, NULL, v, "%s: expected %llu..%llu, got '%s'",
			    what, (unsigned long long)min,
			    (unsigned long long)max, s);
	*out = (uint32_t)n;
	return 0;
}

/* A server's tls: one of --backend-tls's modes. */
static int server_tls_mode(struct loader *ld, const char *what, yaml_node_t *v,
			   struct server_spec *sv)
{
	enum backend_tls mode;
	const char *s;

	if (get_scalar(ld, NULL, what, v, &s))
		return -1;
	if (btls_mode_parse(s, &mode))
		return fail(ld, NULL, v, "%s: expected off, preferred, required, "
			    "verify-ca or verify-identity, got '%s'", what, s);
	sv->tls = (uint8_t)(mode + 1);
	return 0;
}

/* A server's tls-ca:, tls-cert: or tls-key: a file name (read by tls.c
 * once the whole configuration is known). */
static int server_file(struct loader *ld, const char *what, yaml_node_t *v,
		       const char **out)
{
	const char *s;

	if (get_scalar(ld, NULL, what, v, &s))
		return -1;
	if (!*s)
		return fail(ld, NULL, v, "%s: expected a file name", what);
	*out = owned_strdup(ld, s, strlen(s));
	if (!*out)
		return oom(ld, NULL, v);
	return 0;
}

/* "HOST:PORT", or a mapping with address:, weight:, max-connections:,
 * tls:, tls-ca:, tls-cert:, tls-key:. */
static int load_server(struct loader *ld, const char *gname, yaml_node_t *n,
		       struct server_spec *sv)
{
	char what[128];
	yaml_node_t *addr = n;

	sv->weight = 1;
	if (n->type == YAML_MAPPING_NODE) {
		addr = NULL;
		for (yaml_node_pair_t *p = n->data.mapping.pairs.start;
		     p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node(ld, p->key), *v = node(ld, p->value);

			if (check_key(ld, NULL, n, p))
				return -1;
			snprintf(what, sizeof(what), "group '%s': server %s", gname,
				 text(k));
			if (!strcmp(text(k), "address"))
				addr = v;
			else if (!strcmp(text(k), "weight")) {
				if (group_uint(ld, what, v, 0, 1000, &sv->weight))
					return -1;
			} else if (!strcmp(text(k), "max-connections")) {
				if (group_uint(ld, what, v, 1, 100000,
					       &sv->max_conns))
					return -1;
			} else if (!strcmp(text(k), "tls")) {
				if (server_tls_mode(ld, what, v, sv))
					return -1;
			} else if (!strcmp(text(k), "tls-ca") ||
				   !strcmp(text(k), "tls-cert") ||
				   !strcmp(text(k), "tls-key")) {
				const char **f = !strcmp(text(k), "tls-ca") ?
						 &sv->tls_ca :
						 !strcmp(text(k), "tls-cert") ?
						 &sv->tls_cert : &sv->tls_key;
				if (server_file(ld, what, v, f))
					return -1;
			} else {
				return unknown(ld, NULL, k, "key", text(k),
					       server_keys, 7);
			}
		}
		if (!addr)
			return fail(ld, NULL, n, "group '%s': a server needs "
				    "address: HOST:PORT", gname);
		if (sv->tls_key && !sv->tls_cert)
			return fail(ld, NULL, n, "group '%s': server: tls-key "
				    "needs tls-cert (the certificate it "
				    "belongs to)", gname);
	}
	snprintf(what, sizeof(what), "group '%s': server", gname);
	{
		const char *s;
		if (get_scalar(ld, NULL, what, addr, &s))
			return -1;
		if (cli_parse_hostport(s, &sv->hp))
			return fail(ld, NULL, addr, "%s: expected HOST:PORT, "
				    "[IPv6]:PORT or unix:/PATH, got '%s'", what, s);
	}
	return 0;
}

void group_spec_defaults(struct group_spec *g, const char *name)
{
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->reads = READ_REPLICAS;
	g->causal = CAUSAL_OFF;
	g->causal_timeout_ms = 1000;
	g->max_lag_ms = 0;
	g->check_interval_ms = 1000;
	g->fail_checks = 3;
	g->ok_checks = 2;
}

static int load_group(struct loader *ld, yaml_node_t *map,
		      struct group_spec *g)
{
	static const char *const reads[] = {"primary", "replicas", "any"};
	static const char *const causal[] = {"off", "session", "global"};
	yaml_node_t *val[GK__COUNT] = {0};
	char what[128];

	if (map->type != YAML_MAPPING_NODE)
		return fail(ld, NULL, map, "groups: expected a mapping (name:, "
			    "servers:), got %s", kind_name(map));
	for (yaml_node_pair_t *p = map->data.mapping.pairs.start;
	     p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(ld, p->key);
		unsigned i;

		if (check_key(ld, NULL, map, p))
			return -1;
		for (i = 0; i < GK__COUNT && strcmp(text(k), group_keys[i]); i++)
			;
		if (i == GK__COUNT)
			return unknown(ld, NULL, k, "key", text(k), group_keys,
				       GK__COUNT);
		val[i] = node(ld, p->value);
	}
	if (!val[GK_NAME])
		return fail(ld, NULL, map, "groups: a group needs name:");
	{
		const char *s;
		if (get_scalar(ld, NULL, "groups: name", val[GK_NAME], &s))
			return -1;
		if (!is_ident(s))
			return fail(ld, NULL, val[GK_NAME], "groups: name: expected "
				    "1..63 characters of [A-Za-z0-9_.-], got '%s'",
				    s);
		group_spec_defaults(g, s);
	}
	if (!val[GK_SERVERS] || val[GK_SERVERS]->type != YAML_SEQUENCE_NODE ||
	    !seq_len(val[GK_SERVERS]))
		return fail(ld, NULL, val[GK_SERVERS] ? val[GK_SERVERS] : map,
			    "group '%s': servers: expected a list of servers "
			    "(HOST:PORT, or address: HOST:PORT with weight: and "
			    "max-connections:)", g->name);
	g->nservers = (unsigned)seq_len(val[GK_SERVERS]);
	if (g->nservers > CLI_MAX_GROUP_SERVERS)
		return fail(ld, NULL, val[GK_SERVERS], "group '%s': at most %d "
			    "servers", g->name, CLI_MAX_GROUP_SERVERS);
	g->servers = owned_alloc(ld, g->nservers * sizeof(*g->servers));
	if (!g->servers)
		return oom(ld, NULL, map);
	for (unsigned i = 0; i < g->nservers; i++)
		if (load_server(ld, g->name, node(ld, val[GK_SERVERS]->data.
						 sequence.items.start[i]),
				&g->servers[i]))
			return -1;
	snprintf(what, sizeof(what), "group '%s': reads", g->name);
	if (val[GK_READS]) {
		int r = group_word(ld, what, val[GK_READS], reads, 3);
		if (r < 0)
			return -1;
		g->reads = (uint8_t)r;
	}
	snprintf(what, sizeof(what), "group '%s': causal-reads", g->name);
	if (val[GK_CAUSAL]) {
		int r = group_word(ld, what, val[GK_CAUSAL], causal, 3);
		if (r < 0)
			return -1;
		g->causal = (uint8_t)r;
	}
	if (val[GK_MAX_LAG]) {
		const char *s;
		char *end;
		double secs;

		snprintf(what, sizeof(what), "group '%s': max-lag", g->name);
		if (get_scalar(ld, NULL, what, val[GK_MAX_LAG], &s))
			return -1;
		secs = strtod(s, &end);
		if (!isdigit((unsigned char)*s) || *end || secs < 0.001 ||
		    secs > 86400)
			return fail(ld, NULL, val[GK_MAX_LAG], "%s: expected "
				    "seconds, 0.001..86400, got '%s'", what, s);
		g->max_lag_ms = (uint32_t)(secs * 1000 + 0.5);
	}
	snprintf(what, sizeof(what), "group '%s': check-interval", g->name);
	if (val[GK_CHECK_INTERVAL] &&
	    group_uint(ld, what, val[GK_CHECK_INTERVAL], 100, 3600000,
		       &g->check_interval_ms))
		return -1;
	snprintf(what, sizeof(what), "group '%s': causal-timeout", g->name);
	if (val[GK_CAUSAL_TIMEOUT] &&
	    group_uint(ld, what, val[GK_CAUSAL_TIMEOUT], 1, 3600000,
		       &g->causal_timeout_ms))
		return -1;
	snprintf(what, sizeof(what), "group '%s': fail-checks", g->name);
	if (val[GK_FAIL_CHECKS] &&
	    group_uint(ld, what, val[GK_FAIL_CHECKS], 1, 100, &g->fail_checks))
		return -1;
	snprintf(what, sizeof(what), "group '%s': ok-checks", g->name);
	if (val[GK_OK_CHECKS] &&
	    group_uint(ld, what, val[GK_OK_CHECKS], 1, 100, &g->ok_checks))
		return -1;
	return 0;
}

static int load_groups(struct loader *ld, yaml_node_t *v)
{
	struct config *cfg = ld->cfg;
	size_t n;

	if (is_null(v))
		return 0;
	if (v->type != YAML_SEQUENCE_NODE)
		return fail(ld, NULL, v, "groups: expected a sequence of groups, "
			    "got %s", kind_name(v));
	n = seq_len(v);
	if (n > CLI_MAX_GROUPS)
		return fail(ld, NULL, v, "groups: at most %d groups",
			    CLI_MAX_GROUPS);
	cfg->groups = owned_alloc(ld, (n ? n : 1) * sizeof(*cfg->groups));
	if (!cfg->groups)
		return oom(ld, NULL, v);
	cfg->ngroups = 0;
	for (size_t i = 0; i < n; i++) {
		yaml_node_t *g = node(ld, v->data.sequence.items.start[i]);

		if (load_group(ld, g, &cfg->groups[i]))
			return -1;
		for (size_t j = 0; j < i; j++)
			if (!strcmp(cfg->groups[j].name, cfg->groups[i].name))
				return fail(ld, NULL, g, "group '%s' is defined "
					    "twice", cfg->groups[i].name);
		cfg->ngroups++;
	}
	return 0;
}

/* ---- top level --------------------------------------------------------- */

static bool is_setting(const char *key)
{
	struct config probe;
	char msg[256];

	cli_defaults(&probe);
	return cli_set_option(&probe, key, "", msg, sizeof(msg)) != -2;
}

/*
 * Every top-level key, for spelling suggestions.  cli.h keeps no list of
 * setting names, but the usage text mentions every flag, and the ones
 * cli_set_option knows are the settings.  Error path only.
 */
static size_t top_level_keys(const char **names, char (*buf)[32], size_t max)
{
	static const char *const file_only[] = {
		"rules", "users", "groups", "admin-user", "admin-password",
		"digest-text-max", "keyspace",
	};
	const char *p = cli_usage();
	size_t n = 0;

	for (size_t i = 0; i < sizeof(file_only) / sizeof(file_only[0]); i++)
		names[n++] = file_only[i];
	while ((p = strstr(p, "--")) && n < max) {
		size_t len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz"
					   "0123456789-");
		bool seen = false;

		if (len && len < 32) {
			memcpy(buf[n], p + 2, len);
			buf[n][len] = '\0';
			for (size_t i = 0; i < n; i++)
				seen |= !strcmp(names[i], buf[n]);
			if (!seen && is_setting(buf[n])) {
				names[n] = buf[n];
				n++;
			}
		}
		p += 2 + len;
	}
	return n;
}

static int unknown_key(struct loader *ld, yaml_node_t *k)
{
	const char *names[64];
	char buf[64][32];
	size_t n = top_level_keys(names, buf, 64);

	return unknown(ld, NULL, k, "key", text(k), names, n);
}

static int set_setting(struct loader *ld, yaml_node_t *k, yaml_node_t *v)
{
	char msg[512];
	const char *s, *value;
	int rc;

	if (get_scalar(ld, NULL, text(k), v, &s))
		return -1;
	/* `user: NAME:PASSWORD` is kept only hashed: no copy of it lingers. */
	if (!strcmp(text(k), "user"))
		value = s;
	else
		/* cli_set_option keeps the pointer: it must outlive the
		 * document. */
		value = owned_strdup(ld, s, strlen(s));
	if (!value)
		return oom(ld, NULL, v);
	rc = cli_set_option(ld->cfg, text(k), value, msg, sizeof(msg));
	if (rc == -2)
		return unknown_key(ld, k);
	if (rc)
		return fail(ld, NULL, v, "%s", msg);
	return 0;
}

/* A flag by its name; deny and rewrite, being repeatable, also take a
 * sequence. */
static int load_setting(struct loader *ld, yaml_node_t *k, yaml_node_t *v)
{
	const char *key = text(k);
	bool repeatable = !strcmp(key, "deny") || !strcmp(key, "rewrite") ||
			  !strcmp(key, "replica");

	if (v->type == YAML_SCALAR_NODE)
		return set_setting(ld, k, v);
	if (!is_setting(key))
		return unknown_key(ld, k);
	if (!repeatable || v->type != YAML_SEQUENCE_NODE)
		return fail(ld, NULL, v, "%s: expected a scalar%s, got %s", key,
			    repeatable ? " or a sequence of scalars" : "",
			    kind_name(v));
	for (yaml_node_item_t *it = v->data.sequence.items.start;
	     it < v->data.sequence.items.top; it++)
		if (set_setting(ld, k, node(ld, *it)))
			return -1;
	return 0;
}

static int load_admin(struct loader *ld, yaml_node_t *k, yaml_node_t *v,
		      char *dst, size_t size, size_t min)
{
	const char *s;
	size_t len;

	if (get_scalar(ld, NULL, text(k), v, &s))
		return -1;
	if (is_null(v))
		s = "";
	len = strlen(s);
	if (len < min || len >= size)
		return fail(ld, NULL, v, "%s: expected %zu..%zu characters, "
			    "got %zu", text(k), min, size - 1, len);
	memcpy(dst, s, len + 1);
	return 0;
}

static int load_pair(struct loader *ld, yaml_node_t *k, yaml_node_t *v)
{
	struct config *cfg = ld->cfg;
	const char *key = text(k), *s;
	uint64_t n;

	if (!strcmp(key, "rules"))
		return load_rules(ld, k, v);
	if (!strcmp(key, "users"))
		return load_users(ld, v);
	if (!strcmp(key, "groups"))
		return load_groups(ld, v);
	if (!strcmp(key, "admin-user"))
		return load_admin(ld, k, v, cfg->admin_user,
				  sizeof(cfg->admin_user), 1);
	if (!strcmp(key, "admin-password"))
		return load_admin(ld, k, v, cfg->admin_password,
				  sizeof(cfg->admin_password), 0);
	if (strcmp(key, "digest-text-max"))
		return load_setting(ld, k, v);
	if (get_scalar(ld, NULL, key, v, &s))
		return -1;
	if (parse_uint(s, 65536, &n) || n < 64)
		return fail(ld, NULL, v, "digest-text-max: expected 64..65536 "
			    "bytes, got '%s'", s);
	cfg->digest_text_max = (uint32_t)n;
	return 0;
}

static int load_root(struct loader *ld, yaml_node_t *root)
{
	yaml_node_pair_t *keyspace = NULL;

	/* An empty file, or one with only comments or `---`, is valid. */
	if (!root || is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return fail(ld, NULL, root, "expected a mapping of settings at "
			    "the top level, got %s", kind_name(root));
	for (yaml_node_pair_t *p = root->data.mapping.pairs.start;
	     p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node(ld, p->key);

		if (check_key(ld, NULL, root, p))
			return -1;
		/* Last: its shards name groups, wherever the file puts
		 * groups:. */
		if (!strcmp(text(k), "keyspace")) {
			keyspace = p;
			continue;
		}
		if (load_pair(ld, k, node(ld, p->value)))
			return -1;
	}
	if (keyspace)
		return config_keyspace_load(ld, node(ld, keyspace->key),
					    node(ld, keyspace->value));
	return 0;
}

static int syntax_error(struct loader *ld, yaml_parser_t *parser,
			const char *src, size_t len)
{
	size_t line = parser->problem_mark.line + 1;

	if (parser->error == YAML_MEMORY_ERROR || !parser->problem) {
		snprintf(ld->err, ld->errlen, "%s: out of memory", ld->name);
		return -1;
	}
	/* Reader errors (bad encoding) carry an offset but no mark. */
	if (parser->error == YAML_READER_ERROR) {
		line = 1;
		for (size_t i = 0; i < parser->problem_offset && i < len; i++)
			line += src[i] == '\n';
	}
	if (parser->context)
		snprintf(ld->err, ld->errlen, "%s:%zu: %s (%s on line %zu)",
			 ld->name, line, parser->problem, parser->context,
			 parser->context_mark.line + 1);
	else
		snprintf(ld->err, ld->errlen, "%s:%zu: %s", ld->name, line,
			 parser->problem);
	return -1;
}

/*
 * The file holds passwords: its text must not linger in freed memory.
 * libyaml keeps the decoded input in the parser's buffers and every
 * scalar in the document's nodes.
 */
static void wipe_document(yaml_document_t *doc)
{
	for (yaml_node_t *n = doc->nodes.start; n < doc->nodes.top; n++)
		if (n->type == YAML_SCALAR_NODE && n->data.scalar.value)
			explicit_bzero(n->data.scalar.value, n->data.scalar.length);
}

static void wipe_parser(yaml_parser_t *parser)
{
	if (parser->buffer.start)
		explicit_bzero(parser->buffer.start,
			       (size_t)(parser->buffer.end - parser->buffer.start));
	if (parser->raw_buffer.start)
		explicit_bzero(parser->raw_buffer.start,
			       (size_t)(parser->raw_buffer.end -
					parser->raw_buffer.start));
}

/* A second document would be silently ignored otherwise. */
static int load_no_more(struct loader *ld, yaml_parser_t *parser,
			const char *src, size_t len)
{
	yaml_document_t doc;
	yaml_node_t *root;
	int rc = 0;

	if (!yaml_parser_load(parser, &doc))
		return syntax_error(ld, parser, src, len);
	root = yaml_document_get_root_node(&doc);
	if (root)
		rc = fail(ld, NULL, root, "a second YAML document (the file "
			  "must hold one)");
	wipe_document(&doc);
	yaml_document_delete(&doc);
	return rc;
}

int config_load_string(const char *name, const char *src, size_t len,
		       struct config *cfg, char *err, size_t errlen)
{
	struct config tmp = *cfg;
	yaml_document_t doc;
	struct loader ld = {
		.name = name, .doc = &doc, .cfg = &tmp, .err = err,
		.errlen = errlen,
	};
	yaml_parser_t parser;
	int rc;

	/* The file's rules replace any loaded before; its users are added
	 * to a copy, so that a file that fails leaves cfg's as they were. */
	tmp.rules = NULL;
	tmp.keyspace = NULL;
	tmp.nrules = 0;
	if (config_users_own(&tmp)) {
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	if (!yaml_parser_initialize(&parser)) {
		config_users_drop(tmp.users, tmp.nusers);
		snprintf(err, errlen, "%s: out of memory", name);
		return -1;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)src, len);
	if (!yaml_parser_load(&parser, &doc)) {
		rc = syntax_error(&ld, &parser, src, len);
	} else {
		rc = load_no_more(&ld, &parser, src, len);
		if (!rc)
			rc = load_root(&ld, yaml_document_get_root_node(&doc));
		wipe_document(&doc);
		yaml_document_delete(&doc);
	}
	wipe_parser(&parser);
	yaml_parser_delete(&parser);
	if (rc) {
		config_users_drop(tmp.users, tmp.nusers);
		if (tmp.keyspace != cfg->keyspace)
			config_keyspace_drop(tmp.keyspace);
		discard(&tmp, cfg->owned);
		return -1;
	}
	/* The file's keyspace replaces any loaded before. */
	if (tmp.keyspace != cfg->keyspace)
		config_keyspace_drop(cfg->keyspace);
	free(cfg->rules);
	config_users_drop(cfg->users, cfg->nusers);
	tmp.nusers_file = tmp.nusers;
	*cfg = tmp;
	return 0;
}

static char *read_all(const char *path, size_t *len, char *err, size_t errlen)
{
	FILE *f = fopen(path, "rb");
	size_t cap = 4096, n = 0;
	char *buf = NULL;

	if (!f) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	/* Straight into buf: no copy in stdio's buffer to wipe. */
	setvbuf(f, NULL, _IONBF, 0);
	for (;;) {
		if (n == cap || !buf) {
			char *nb;

			if (buf)
				cap = cap * 2 > CONFIG_FILE_MAX + 1 ?
				      CONFIG_FILE_MAX + 1 : cap * 2;
			/* Not realloc: the old block, which may hold
			 * passwords, is wiped before it is freed. */
			nb = malloc(cap);
			if (!nb) {
				snprintf(err, errlen, "%s: out of memory", path);
				goto fail;
			}
			if (buf) {
				memcpy(nb, buf, n);
				explicit_bzero(buf, n);
				free(buf);
			}
			buf = nb;
		}
		size_t got = fread(buf + n, 1, cap - n, f);

		n += got;
		if (n > CONFIG_FILE_MAX) {
			snprintf(err, errlen, "%s: larger than %u MiB", path,
				 CONFIG_FILE_MAX >> 20);
			goto fail;
		}
		if (got)
			continue;
		if (ferror(f)) {
			snprintf(err, errlen, "%s: %s", path, strerror(errno));
			goto fail;
		}
		break;
	}
	fclose(f);
	*len = n;
	return buf;
fail:
	fclose(f);
	if (buf)
		explicit_bzero(buf, n);
	free(buf);
	return NULL;
}

int config_load(const char *path, struct config *cfg, char *err,
		size_t errlen)
{
	size_t len;
	char *src = read_all(path, &len, err, errlen);
	int rc;

	if (!src)
		return -1;
	rc = config_load_string(path, src, len, cfg, err, errlen);
	explicit_bzero(src, len);
	free(src);
	return rc;
}

void config_free(struct config *cfg)
{
	discard(cfg, NULL);
	config_keyspace_drop(cfg->keyspace);
	cfg->keyspace = NULL;
	/* The users' verifiers and passwords do not linger. */
	config_users_drop(cfg->users, cfg->nusers);
	cfg->users = NULL;
	cfg->nusers = cfg->nusers_file = 0;
}
