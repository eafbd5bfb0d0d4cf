/*
 * config.h - the YAML config file (--config FILE): every flag under its
 * own name, plus the ordered list of query rules.  Loading is pure apart
 * from reading the file, so every error path is unit-tested.
 *
 * Precedence: built-in defaults < config file < command-line flags.
 */
#ifndef MYRING_CONFIG_H
#define MYRING_CONFIG_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RULES_MAX 4096
#define RULE_ANSWER_MAX_COLUMNS 64
#define RULE_ANSWER_MAX_ROWS 1024

enum rule_action {
	RULE_NONE = 0,   /* count (and log/delay/route) only */
	RULE_REJECT,     /* ERR error_code/sqlstate/error_message */
	RULE_REWRITE,    /* replace every match of `match` with `replace` */
	RULE_ANSWER,     /* answer from the proxy: OK, or a result set */
};

/* The text a rule's `match` is tried on (docs/config.md, "What a rule
 * sees"). */
enum rule_match_on {
	RULE_ON_STRIPPED = 0,    /* each statement, comments removed */
	RULE_ON_RAW,             /* the whole command as the client sent it */
	RULE_ON_DIGEST,          /* each statement's fingerprint */
};

struct rule_spec {
	char name[64];           /* "rule-N" (1-based) when not given */
	unsigned line;           /* line of the rule in the file */

	/* Match: every condition given must hold; none given matches all. */
	const char *match;       /* PCRE2 over the SQL text, or NULL */
	bool case_sensitive;     /* default false: match is caseless */
	enum rule_match_on match_on;
	bool has_digest;
	uint64_t digest;         /* fingerprint hash (stats.digests.digest) */
	const char *user;        /* exact, or NULL */
	const char *schema;      /* exact, or NULL */
	bool has_client;
	int client_family;       /* AF_INET or AF_INET6 */
	uint8_t client_addr[16]; /* network address, host bits zero */
	uint8_t client_prefix;   /* 0..32 or 0..128 */
	bool any_command;        /* true unless `command` was given */
	uint8_t commands[32];    /* bitmap of COM_* bytes */

	/* What happens on a match. */
	enum rule_action action;
	uint16_t error_code;     /* reject: default 1105 */
	char sqlstate[6];        /* reject: default "HY000" */
	const char *error_message;
	const char *replace;     /* rewrite: replacement ($1, ${name}) */
	/* answer: no columns -> OK packet with affected_rows; else a text
	 * result set, cells row-major, NULL cell = SQL NULL. */
	unsigned ncolumns, nrows;
	const char **columns;
	const char **cells;
	uint64_t affected_rows;
	bool log;                /* write the command to the query log */
	uint32_t delay_ms;       /* hold the command this long first */
	const char *route;       /* backend group name, or NULL */
	bool cont;               /* keep evaluating later rules */
};

/*
 * Loads FILE on top of cfg (which holds defaults; strings and rules it
 * allocates are recorded in cfg->owned).  Returns 0, or -1 with err set to
 * "FILE:LINE: reason" naming the key or value that is wrong.
 */
int config_load(const char *path, struct config *cfg, char *err,
		size_t errlen);
/* Same, from a string (unit tests); name stands in for the file name. */
int config_load_string(const char *name, const char *text, size_t len,
		       struct config *cfg, char *err, size_t errlen);
/* Frees what config_load allocated and clears rules/owned. */
void config_free(struct config *cfg);
/* A group's settings as the file leaves them unset (docs/config.md). */
void group_spec_defaults(struct group_spec *g, const char *name);

#endif
