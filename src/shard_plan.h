/*
 * shard_plan.h - turns one SQL statement against a keyspace into a plan:
 * which shards get what text, and how myring merges their answers.  Pure:
 * parse (sql_parse.h), look at the tree, print each shard's text
 * (sql_print.h); the executor (session_shard.c) does the I/O.
 *
 * Plans, by what the statement touches:
 *
 *   no keyspace table (SELECT 1, SET, USE) ........ PLAN_PASS: as without
 *                                                    a keyspace (shard 0)
 *   one shard (key = literal, unsharded table,
 *              every table of a join co-located
 *              on the same key value) .............. PLAN_ONE: the text as
 *                                                    the client sent it,
 *                                                    zero-copy
 *   several shards .............................. PLAN_MULTI: a text per
 *                                                    shard; rows merged
 *                                                    (merge.h) or OKs summed
 *   EXPLAIN SHARDS <statement> ................... PLAN_ANSWER: rows myring
 *                                                    answers itself
 *   cannot be answered exactly ................... PLAN_ERROR: a MySQL error
 *                                                    naming the construct
 *
 * The shard databases carry the keyspace's schema name, so a text that
 * goes to one shard needs no rewriting.
 */
#ifndef MYRING_SHARD_PLAN_H
#define MYRING_SHARD_PLAN_H

#include "merge.h"
#include "rs_codec.h"
#include "shard_map.h"
#include "sql_arena.h"
#include "sql_scan.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum plan_kind {
	PLAN_PASS = 1,
	PLAN_ONE,
	PLAN_MULTI,
	PLAN_ANSWER,
	PLAN_ERROR,
	PLAN_KEYS,              /* an INSERT needs need_keys keys of sequence
				 * need_seq that take_keys could not give
				 * now: plan it again once they are there */
};

/* What a PLAN_MULTI's shards answer. */
enum plan_result {
	PLAN_RESULT_ROWS = 1,   /* result sets, merged */
	PLAN_RESULT_OK,         /* OK packets: affected rows and warnings
				 * summed, the INSERT's info line rebuilt */
};

struct plan_part {
	unsigned shard;         /* index into ks->shards */
	const char *sql;        /* what it is sent (COM_QUERY text) */
	size_t len;
};

/* Rows an earlier step of a statement read (a lookup's keys, or the
 * rows a write changes): ncols x nrows cells, row-major, each in the
 * session's character set as the shard sent it; a NULL cell is SQL
 * NULL. */
struct plan_found {
	unsigned ncols, nrows;
	const char *const *cells;
	const size_t *lens;
};

/* What the rows of a step are kept as (shard_plan.collect). */
enum plan_collect {
	PLAN_COLLECT_NONE = 0,
	PLAN_COLLECT_KEYS,      /* a lookup's keys: plan_ctx.keys_found */
	PLAN_COLLECT_ROWS,      /* the rows a write changes: rows_found */
};

struct sql_bind;               /* sql_parse.h */
struct plan_merge;             /* the planner's own: keys, aggregates,
				 * HAVING and expressions, sort, limit */

/* plan_ctx.sql_mode: the sql_mode flags that change how a statement
 * reads (escapes and quotes) and parses. */
#define PLAN_MODE_ANSI_QUOTES           0x01
#define PLAN_MODE_NO_BACKSLASH_ESCAPES  0x02
#define PLAN_MODE_PIPES_AS_CONCAT       0x04
#define PLAN_MODE_HIGH_NOT_PRECEDENCE   0x08
/* 0 in a sequenced key column is a value, not "give me a key" */
#define PLAN_MODE_NO_AUTO_VALUE_ON_ZERO 0x10

/* A prepared statement's parameter as an execution binds it: its value as
 * a literal would spell it (integers in decimal), or not known (NULL,
 * a type the planner does not read: the parameter then places nothing). */
struct plan_param {
	const char *text;
	size_t len;
	bool is_string;
	bool known;
};

/* Input besides the text. */
struct plan_ctx {
	const struct keyspace *ks;
	/* The session's current schema ("" without one): unqualified table
	 * names are the keyspace's when it is ks->schema. */
	const char *schema;
	size_t schema_len;
	uint32_t sql_mode;      /* PLAN_MODE_*: how to read */
	/* The session's reading (character set, server), or NULL: the
	 * escapes of sql_mode, a one-byte or UTF-8 character set.  Texts
	 * printed for the shards are written for it. */
	const struct sql_reading *rd;
	/* The client's character set is utf8mb4 or utf8mb3: its string
	 * literals are UTF-8, as the shard map hashes them.  Otherwise a
	 * string key with bytes beyond ASCII cannot be mapped (the SELECT
	 * scatters, the INSERT is refused). */
	bool utf8;
	bool latin1;            /* it is latin1: string keys are converted */
	bool in_trans;          /* the session is in a transaction */
	int trans_shard;        /* the shard it has written to, or -1 */
	/* An execution of a prepared statement: the values of its ? markers
	 * (params[i] for the i-th), so that key = ? places the statement as
	 * key = literal would.  NULL when planning text. */
	const struct plan_param *params;
	unsigned nparams;
	/* The same values as literals, written into the statement
	 * (sql_parse.h's sql_bind): an execution planned for several
	 * shards sends each its text with the values in it.  NULL: the
	 * markers stay ?. */
	const struct sql_bind *bind;
	unsigned nbind;
	/* With bind: a PLAN_ONE's text is printed with the values in (the
	 * execution may run as text on a transaction's branch), not the
	 * client's; the plan says so (one_bound). */
	bool one_as_text;
	/* Keys for an INSERT into a table with a sequence that leaves the
	 * key to it (docs/sharding.md, "Sequences"): n keys of sequence seq
	 * (an index into ks->sequences) into keys[], ascending; 0, or -1
	 * when they are not at hand (the plan is then PLAN_KEYS).  NULL:
	 * none are taken, the plan is PLAN_KEYS (a prepare; an execution
	 * planned by the values that place it, whose keys are taken when
	 * it is planned with its values written in: with params, take_keys
	 * is NULL). */
	int (*take_keys)(void *arg, unsigned seq, unsigned n, int64_t *keys);
	void *keys_arg;
	/* An execution over several shards whose answer has FLOAT columns
	 * (bit j: the shards' column j, of float_ncols): their select
	 * items are asked for as doubles, which the executor sends as the
	 * exact FLOATs (shard_plan_float.c).  0: as written. */
	uint64_t float_cols;
	unsigned float_ncols;
	/* Lookups (docs/sharding.md, "Lookup tables"): a statement that
	 * reads or writes a lookup runs in steps, each planned again from
	 * shard_plan.replan.  step: the first step still to run (0: the
	 * statement as the client sent it); what earlier steps read. */
	unsigned step;
	const struct plan_found *keys_found, *rows_found;
	/* This worker has made sure the lookup tables exist. */
	bool lookups_ready;
};

struct shard_plan {
	uint8_t kind;           /* enum plan_kind */
	uint8_t result;         /* PLAN_MULTI: enum plan_result */
	bool writes;            /* it changes data (INSERT, UPDATE, ...) */
	/* Every part writes the same rows (a broadcast table's copies): the
	 * answer is one part's, not their sum. */
	bool copies;
	bool select;            /* a SELECT (rows come back) */
	/* PLAN_ONE, PLAN_MULTI: the shards and their texts, ascending by
	 * shard; PLAN_ONE's sql is the client's text. */
	unsigned nparts;
	struct plan_part parts[SHARDS_MAX];
	/* PLAN_MULTI with rows. */
	struct plan_merge *merge;
	/* PLAN_ANSWER: a text result, ncols x nrows cells, row-major; a NULL
	 * cell is SQL NULL. */
	unsigned ncols, nrows;
	const char **cols;
	const char **cells;
	/* An INSERT given keys of a sequence: the first of them (what
	 * LAST_INSERT_ID() returns after it), or 0.  PLAN_ONE: its text is
	 * the statement rewritten with the keys (not the client's), which
	 * sets LAST_INSERT_ID() on the shard itself. */
	uint64_t insert_id;
	bool rewritten;
	/* PLAN_ONE planned with one_as_text: its text has the values in. */
	bool one_bound;
	/* PLAN_KEYS */
	unsigned need_seq, need_keys;
	/* A step of a statement that runs in steps (plan_ctx.step): after
	 * these parts (PLAN_MULTI), whose answers are not the client's,
	 * the statement is planned again from replan with step + 1; their
	 * rows are kept as collect says.  pooled: they run on connections
	 * of their shards' pools, outside any transaction (the lookup
	 * tables' CREATE). */
	unsigned step;
	bool more;
	uint8_t collect;        /* enum plan_collect */
	bool pooled;
	/* The statement as the next steps plan it (its values and keys
	 * written in), set by the first step. */
	const char *replan;
	size_t replan_len;
	/* PLAN_ERROR */
	uint16_t err_code;
	char sqlstate[6];
	char err[256];          /* "myring: ..." */
};

/*
 * Plans [sql, sql + len) (one COM_QUERY; more than one statement in it
 * is PLAN_ERROR unless none touches the keyspace).  Everything the plan
 * points to lives in arena a (texts, merge description, answer cells)
 * until it is reset.  Returns 0; a plan that cannot be made (out of
 * memory too) is kind PLAN_ERROR with its message.
 */
int shard_plan(struct sql_arena *a, const struct plan_ctx *ctx,
	       const char *sql, size_t len, struct shard_plan *out);

/*
 * The merge of a PLAN_MULTI with rows, once the shards' column
 * definitions are known (from the first shard whose header arrived; the
 * executor checks that the others agree in number and type).  Fills spec
 * (nstreams, keys, aggregates, projection, sort, offset, limit, budget)
 * for merge_new(); the caller sets emit and emit_ctx.  in/out: the
 * protocol of the shards' rows and of the client's.  Everything spec
 * points to lives in the plan's arena.  0, or -1 with a MySQL error
 * message ("myring: ...") in err.
 */
int shard_plan_merge_spec(const struct shard_plan *p, struct sql_arena *a,
			  const struct rs_coldef *cols, unsigned ncols,
			  enum rs_proto in, enum rs_proto out,
			  struct merge_spec *spec, char *err, size_t errlen);

/* The plan as EXPLAIN SHARDS shows it: one line per shard ("shard s1:
 * SELECT ...") and one for the merge ("merge: k-way on 1 key, COUNT
 * summed, LIMIT 10").  For the log and tests. */
void shard_plan_describe(const struct shard_plan *p,
			 const struct keyspace *ks, struct sql_buf *out);

#endif
