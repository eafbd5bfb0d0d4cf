/*
 * rules.h - query rules compiled for matching (the rule_spec list of the
 * config file, plus --deny and --rewrite flags turned into rules).
 *
 * A ruleset is immutable once built and shared read-only by all workers;
 * each worker matches with its own rules_worker (PCRE2 match data) and
 * counts hits in its own row of the ruleset's counter table, so matching
 * takes no lock.  A reload builds a new ruleset; the old one is freed once
 * every worker has moved on (intercept.c).
 *
 * What a regex sees (docs/config.md, "What a rule sees"): by default each
 * statement of the command with comments removed (sql_scan.h: every
 * reading of it the server might make), else the raw text or each
 * statement's fingerprint (rule_spec.match_on).  A command is rejected if
 * any statement of it is; it is rewritten statement by statement; it is
 * answered only if it is one statement.
 *
 * Cost: conditions are tested cheapest first (command, user, schema,
 * client network, digest, then the regex), and every regex with a
 * required literal is skipped unless one pass over the text it runs on
 * (litscan) found that literal.  The statements are cut out once per
 * command, on the first rule that needs them, and a statement without a
 * comment is not copied.  A query no rule can match costs those passes
 * and a few compares.
 */
#ifndef MYRING_RULES_H
#define MYRING_RULES_H

#include "config.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

struct ruleset;
struct rules_worker;

/* Builds from specs (copied; specs may be freed afterwards).  hits has a
 * row per worker.  NULL with err set on failure. */
struct ruleset *ruleset_build(const struct rule_spec *specs, unsigned n,
			      unsigned nworkers, char *err, size_t errlen);
void ruleset_free(struct ruleset *rs);
unsigned ruleset_count(const struct ruleset *rs);
const struct rule_spec *ruleset_rule(const struct ruleset *rs, unsigned i);
/* Hits of rule i summed over workers (relaxed reads of counters that
 * only grow). */
uint64_t ruleset_hits(const struct ruleset *rs, unsigned i);
/* Whether any rule needs the digest, the SQL text, the client address. */
bool ruleset_needs_digest(const struct ruleset *rs);
/* Zeroes worker's row of hit counters (on that worker's thread). */
void ruleset_reset_hits(struct ruleset *rs, unsigned worker);

struct rules_worker *rules_worker_new(struct ruleset *rs, unsigned worker);
void rules_worker_free(struct rules_worker *rw);

struct rule_input {
	uint8_t cmd;
	const char *text;          /* SQL of COM_QUERY / COM_STMT_PREPARE */
	size_t text_len;
	uint64_t digest;           /* 0: not computed */
	const char *user;
	const char *schema;
	int family;                /* AF_INET / AF_INET6 / 0 unknown */
	uint8_t addr[16];
};

struct rule_outcome {
	enum rule_action action;   /* REJECT/ANSWER/REWRITE, or NONE */
	const struct rule_spec *rule;  /* the rule that decided the action;
					* NULL for a reject of the matcher's
					* own (message says why) */
	char *rewritten;           /* malloc'd new text (action REWRITE) */
	size_t rewritten_len;
	const uint8_t *answer;     /* prebuilt packets, seq from 1 */
	size_t answer_len;
	bool log;
	uint32_t delay_ms;
	const char *route;
	unsigned matched;          /* rules that matched */
	/* REJECT: when not empty, ERR 1105 (HY000) with this text instead
	 * of the rule's error: the command could not be checked, or an
	 * answer rule matched a multi-statement command.  Last: only its
	 * first byte is cleared per command. */
	char message[200];
};

/* How a session wants result sets: answers are prebuilt in each style. */
#define RULES_DEPRECATE_EOF 0x1u  /* OK instead of EOF packets */
#define RULES_EXT_METADATA  0x2u  /* MariaDB extended column metadata */

/* Evaluates the rules in order for one command. */
void rules_eval(struct rules_worker *rw, const struct rule_input *in,
		unsigned style, struct rule_outcome *out);

/* The rules --deny and --rewrite stand for, then the config file's
 * rules, in that order; *out is one malloc'd block (free() it; strings
 * point into cfg or the block). */
int rules_specs_from_config(const struct config *cfg, struct rule_spec **out,
			    unsigned *n, char *err, size_t errlen);

/* Packets of a rule's fixed answer (for tests). */
const uint8_t *ruleset_answer(const struct ruleset *rs, unsigned i,
			      unsigned style, size_t *len);

#endif
