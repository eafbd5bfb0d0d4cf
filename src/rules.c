#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include "cli.h"
#include "digest.h"
#include "litscan.h"
#include "mysql_proto.h"
#include "mysql_srv.h"
#include "sql_scan.h"

#include <pcre2.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Hit counters of one worker sit on their own cache lines. */
#define HITS_ALIGN 8

struct rule {
	struct rule_spec spec;     /* strings point into the ruleset's copies */
	pcre2_code *re;
	int lit;                   /* litscan index, -1: no prefilter */
	uint8_t *answer[4];        /* [style] prebuilt packets, see rules.h */
	size_t answer_len[4];
};

struct ruleset {
	struct rule *rules;
	unsigned n;
	unsigned nworkers;
	unsigned stride;           /* counters per worker row */
	bool needs_digest;
	unsigned nlits;
	struct litscan *lits;
	_Atomic uint64_t *hits;    /* [worker * stride + rule] */
	char **strings;            /* copies owned by the set */
	unsigned nstrings, strings_cap;
};

/* The texts a rule's regex may run on (rule_spec.match_on). */
enum view { VIEW_STRIPPED, VIEW_RAW, VIEW_DIGEST, VIEW__COUNT };

struct dtext {                     /* one statement's fingerprint */
	size_t off, len;           /* in rules_worker.dbuf */
};

struct rules_worker {
	struct ruleset *rs;
	unsigned worker;
	pcre2_match_data *md;
	uint64_t *found;           /* litscan bitmaps, nlits bits per view */
	unsigned found_words;
	struct sql_split split;    /* the statements of the current command */
	char *dbuf;                /* their fingerprints */
	size_t dbuf_cap;
	struct dtext *dt;
	unsigned dt_cap;
};

_Static_assert(VIEW_STRIPPED == (int)RULE_ON_STRIPPED &&
	       VIEW_RAW == (int)RULE_ON_RAW &&
	       VIEW_DIGEST == (int)RULE_ON_DIGEST, "a rule's view is its match_on");

/* What one command offers the rules, made on first need. */
struct texts {
	const char *sql;           /* the command's text (once rewritten, the
				    * new text) */
	size_t len;
	int split;                 /* sql_split()'s result; 1: not split yet */
	bool digested;             /* rw->dt holds each statement's */
	unsigned scanned;          /* bit per view: literals looked for */
};

static const char *keep(struct ruleset *rs, const char *s)
{
	char *copy;

	if (!s)
		return NULL;
	if (rs->nstrings == rs->strings_cap) {
		unsigned ncap = rs->strings_cap ? rs->strings_cap * 2 : 64;
		char **n = realloc(rs->strings, ncap * sizeof(*n));
		if (!n)
			return NULL;
		rs->strings = n;
		rs->strings_cap = ncap;
	}
	copy = strdup(s);
	if (copy)
		rs->strings[rs->nstrings++] = copy;
	return copy;
}

static int build_answer(struct rule *r, unsigned style)
{
	const struct rule_spec *sp = &r->spec;
	uint64_t caps = CLIENT_PROTOCOL_41 |
			(style & RULES_DEPRECATE_EOF ? CLIENT_DEPRECATE_EOF : 0) |
			(style & RULES_EXT_METADATA ?
			 MARIADB_CLIENT_EXTENDED_METADATA : 0);
	struct pkt_buf pb;

	pkt_buf_init(&pb);
	pb.seq = 1;
	if (!sp->ncolumns) {
		srv_ok(&pb, sp->affected_rows, SERVER_STATUS_AUTOCOMMIT, NULL);
	} else {
		size_t lens[RULE_ANSWER_MAX_COLUMNS];

		srv_resultset_begin(&pb, sp->ncolumns);
		for (unsigned c = 0; c < sp->ncolumns; c++)
			srv_column(&pb, sp->columns[c], SRV_COL_TEXT, caps);
		srv_columns_end(&pb, caps);
		for (unsigned row = 0; row < sp->nrows; row++) {
			const char *const *cells = sp->cells + row * sp->ncolumns;
			for (unsigned c = 0; c < sp->ncolumns; c++)
				lens[c] = cells[c] ? strlen(cells[c]) : 0;
			srv_row(&pb, cells, lens, sp->ncolumns);
		}
		srv_resultset_end(&pb, caps, SERVER_STATUS_AUTOCOMMIT);
	}
	if (pb.oom) {
		pkt_buf_free(&pb);
		return -1;
	}
	r->answer[style] = pb.data;
	r->answer_len[style] = pb.len;
	return 0;
}

static int copy_spec(struct ruleset *rs, struct rule *r,
		     const struct rule_spec *sp)
{
	struct rule_spec *d = &r->spec;

	*d = *sp;
	d->match = keep(rs, sp->match);
	d->user = keep(rs, sp->user);
	d->schema = keep(rs, sp->schema);
	d->error_message = keep(rs, sp->error_message);
	d->replace = keep(rs, sp->replace);
	d->route = keep(rs, sp->route);
	d->columns = NULL;
	d->cells = NULL;
	if ((sp->match && !d->match) || (sp->user && !d->user) ||
	    (sp->schema && !d->schema) || (sp->replace && !d->replace) ||
	    (sp->error_message && !d->error_message) ||
	    (sp->route && !d->route))
		return -1;
	/* Answer cells are only needed to prebuild the packets. */
	return 0;
}

/* How a message names a rule: the file's by name and line, a flag's as
 * the user typed it (flags have no line). */
static void rule_where(const struct rule_spec *sp, char *out, size_t outlen)
{
	if (sp->line)
		snprintf(out, outlen, "rule '%s' (line %u)", sp->name, sp->line);
	else
		snprintf(out, outlen, "%s '%.200s'",
			 sp->action == RULE_REWRITE ? "--rewrite" : "--deny",
			 sp->match ? sp->match : "");
}

static int compile_match(struct rule *r, char *err, size_t errlen)
{
	uint32_t opts = PCRE2_UTF | PCRE2_MATCH_INVALID_UTF;
	PCRE2_SIZE off;
	int code;

	if (!r->spec.case_sensitive)
		opts |= PCRE2_CASELESS;
	r->re = pcre2_compile((PCRE2_SPTR)r->spec.match, PCRE2_ZERO_TERMINATED,
			      opts, &code, &off, NULL);
	if (!r->re) {
		PCRE2_UCHAR msg[160];
		char where[260];
		pcre2_get_error_message(code, msg, sizeof(msg));
		rule_where(&r->spec, where, sizeof(where));
		snprintf(err, errlen, "%s: %s%s at offset %zu", where,
			 r->spec.line ? "match: " : "", (const char *)msg,
			 (size_t)off);
		return -1;
	}
	/* JIT is an optimisation; MYRING_NO_JIT=1 turns it off for
	 * memcheck, which cannot follow generated code. */
	if (!getenv("MYRING_NO_JIT"))
		pcre2_jit_compile(r->re, PCRE2_JIT_COMPLETE);
	return 0;
}

struct ruleset *ruleset_build(const struct rule_spec *specs, unsigned n,
			      unsigned nworkers, char *err, size_t errlen)
{
	struct ruleset *rs = calloc(1, sizeof(*rs));
	const char **lits = NULL;
	size_t *lit_lens = NULL;
	char (*lit_buf)[128] = NULL;

	if (!rs)
		goto oom;
	rs->n = n;
	rs->nworkers = nworkers ? nworkers : 1;
	rs->stride = (n + HITS_ALIGN - 1) / HITS_ALIGN * HITS_ALIGN;
	if (!rs->stride)
		rs->stride = HITS_ALIGN;
	rs->rules = calloc(n ? n : 1, sizeof(*rs->rules));
	rs->hits = aligned_alloc(64, (size_t)rs->nworkers * rs->stride *
					     sizeof(*rs->hits));
	lits = calloc(n ? n : 1, sizeof(*lits));
	lit_lens = calloc(n ? n : 1, sizeof(*lit_lens));
	lit_buf = calloc(n ? n : 1, sizeof(*lit_buf));
	if (!rs->rules || !rs->hits || !lits || !lit_lens || !lit_buf)
		goto oom;
	for (size_t i = 0; i < (size_t)rs->nworkers * rs->stride; i++)
		atomic_init(&rs->hits[i], 0);
	for (unsigned i = 0; i < n; i++) {
		struct rule *r = &rs->rules[i];

		r->lit = -1;
		if (copy_spec(rs, r, &specs[i]))
			goto oom;
		if (r->spec.has_digest)
			rs->needs_digest = true;
		/* config.c says the same with the file's line; specs made
		 * elsewhere are checked here. */
		if (r->spec.match_on > RULE_ON_DIGEST ||
		    (r->spec.match_on == RULE_ON_DIGEST &&
		     r->spec.action == RULE_REWRITE)) {
			char where[260];
			rule_where(&r->spec, where, sizeof(where));
			snprintf(err, errlen, "%s: %s", where,
				 r->spec.match_on > RULE_ON_DIGEST ?
				 "unknown match-on" :
				 "a rewrite cannot match on the fingerprint");
			goto fail;
		}
		if (r->spec.match) {
			size_t l;
			if (compile_match(r, err, errlen))
				goto fail;
			l = litscan_required(r->spec.match, strlen(r->spec.match),
					     lit_buf[i], sizeof(lit_buf[i]));
			if (l) {
				r->lit = (int)rs->nlits;
				lits[rs->nlits] = lit_buf[i];
				lit_lens[rs->nlits] = l;
				rs->nlits++;
			}
		}
		if (specs[i].action == RULE_ANSWER) {
			r->spec.columns = specs[i].columns;
			r->spec.cells = specs[i].cells;
			for (unsigned style = 0; style < 4; style++)
				if (build_answer(r, style))
					goto oom;
			r->spec.columns = NULL;
			r->spec.cells = NULL;
		}
	}
	if (rs->nlits) {
		rs->lits = litscan_build(lits, lit_lens, rs->nlits);
		if (!rs->lits)
			goto oom;
	}
	free(lits);
	free(lit_lens);
	free(lit_buf);
	return rs;
oom:
	snprintf(err, errlen, "out of memory building %u rules", n);
fail:
	free(lits);
	free(lit_lens);
	free(lit_buf);
	ruleset_free(rs);
	return NULL;
}

void ruleset_free(struct ruleset *rs)
{
	if (!rs)
		return;
	for (unsigned i = 0; rs->rules && i < rs->n; i++) {
		pcre2_code_free(rs->rules[i].re);
		for (unsigned style = 0; style < 4; style++)
			free(rs->rules[i].answer[style]);
	}
	for (unsigned i = 0; i < rs->nstrings; i++)
		free(rs->strings[i]);
	free(rs->strings);
	litscan_free(rs->lits);
	free(rs->rules);
	free((void *)rs->hits);
	free(rs);
}

unsigned ruleset_count(const struct ruleset *rs)
{
	return rs ? rs->n : 0;
}

const struct rule_spec *ruleset_rule(const struct ruleset *rs, unsigned i)
{
	return &rs->rules[i].spec;
}

uint64_t ruleset_hits(const struct ruleset *rs, unsigned i)
{
	uint64_t sum = 0;

	for (unsigned w = 0; w < rs->nworkers; w++)
		sum += atomic_load_explicit(&rs->hits[w * rs->stride + i],
					    memory_order_relaxed);
	return sum;
}

void ruleset_reset_hits(struct ruleset *rs, unsigned worker)
{
	for (unsigned i = 0; worker < rs->nworkers && i < rs->n; i++)
		atomic_store_explicit(&rs->hits[worker * rs->stride + i], 0,
				      memory_order_relaxed);
}

bool ruleset_needs_digest(const struct ruleset *rs)
{
	return rs && rs->needs_digest;
}

const uint8_t *ruleset_answer(const struct ruleset *rs, unsigned i,
			      unsigned style, size_t *len)
{
	*len = rs->rules[i].answer_len[style & 3];
	return rs->rules[i].answer[style & 3];
}

struct rules_worker *rules_worker_new(struct ruleset *rs, unsigned worker)
{
	struct rules_worker *rw = calloc(1, sizeof(*rw));

	if (!rw)
		return NULL;
	rw->rs = rs;
	rw->worker = worker < rs->nworkers ? worker : 0;
	rw->md = pcre2_match_data_create(32, NULL);
	rw->found_words = (rs->nlits + 63) / 64;
	rw->found = calloc(VIEW__COUNT * (rw->found_words ? rw->found_words : 1),
			   sizeof(*rw->found));
	sql_split_init(&rw->split);
	if (!rw->md || !rw->found) {
		rules_worker_free(rw);
		return NULL;
	}
	return rw;
}

void rules_worker_free(struct rules_worker *rw)
{
	if (!rw)
		return;
	pcre2_match_data_free(rw->md);
	free(rw->found);
	sql_split_free(&rw->split);
	free(rw->dbuf);
	free(rw->dt);
	free(rw);
}

static bool has_command(const struct rule_spec *sp, uint8_t cmd)
{
	return sp->any_command || (sp->commands[cmd >> 3] >> (cmd & 7) & 1);
}

static bool in_network(const struct rule_spec *sp, const struct rule_input *in)
{
	unsigned bits = sp->client_prefix, full = bits / 8;

	if (in->family != sp->client_family)
		return false;
	if (memcmp(in->addr, sp->client_addr, full))
		return false;
	if (bits % 8) {
		uint8_t mask = (uint8_t)(0xFF << (8 - bits % 8));
		if ((in->addr[full] & mask) != sp->client_addr[full])
			return false;
	}
	return true;
}

static bool str_eq(const char *want, const char *have)
{
	return !strcmp(want, have ? have : "");
}

/*
 * Every match of the rule's regex in text replaced.  NULL with *rc 0 when
 * nothing matched, NULL with *rc < 0 on failure.
 */
static char *substitute(struct rules_worker *rw, const struct rule *r,
			const char *text, size_t len, size_t *out_len, int *rc)
{
	uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
	size_t repl_len = strlen(r->spec.replace);
	PCRE2_SIZE cap = len + repl_len * 4 + 64;
	PCRE2_UCHAR *out = malloc(cap);

	*rc = -1;
	if (!out)
		return NULL;
	*rc = pcre2_substitute(r->re, (PCRE2_SPTR)text, len, 0, opts, rw->md,
			       NULL, (PCRE2_SPTR)r->spec.replace, repl_len, out,
			       &cap);
	if (*rc == PCRE2_ERROR_NOMEMORY) {
		PCRE2_UCHAR *bigger = realloc(out, cap);
		if (!bigger) {
			free(out);
			return NULL;
		}
		out = bigger;
		*rc = pcre2_substitute(r->re, (PCRE2_SPTR)text, len, 0, opts,
				       rw->md, NULL, (PCRE2_SPTR)r->spec.replace,
				       repl_len, out, &cap);
	}
	if (*rc <= 0) {
		free(out);
		return NULL;
	}
	*out_len = cap;
	return (char *)out;
}

static int split(struct rules_worker *rw, struct texts *tx)
{
	if (tx->split > 0)
		tx->split = sql_split(&rw->split, tx->sql, tx->len);
	return tx->split;
}

/* Each statement's fingerprint, as stats.digests shows them (the text
 * only, whole: never cut at --digest-text-max). */
static int digest_all(struct rules_worker *rw, struct texts *tx)
{
	const struct sql_split *sp = &rw->split;
	size_t used = 0;

	if (tx->digested)
		return 0;
	if (sp->n > rw->dt_cap) {
		struct dtext *n = realloc(rw->dt, sp->n * sizeof(*n));
		if (!n)
			return -1;
		rw->dt = n;
		rw->dt_cap = sp->n;
	}
	for (unsigned i = 0; i < sp->n; i++) {
		const struct sql_stmt *st = &sp->stmts[i];
		/* A fingerprint is at most about twice its text ("a+b"
		 * becomes "a + b") plus what collapsed lists add ("IN(1)"
		 * becomes "IN (...)"): 3 * len + 64 holds it all
		 * (tests/fuzz/fuzz_digest.c checks it). */
		size_t room = 3 * st->len + 64;

		if (used + room > rw->dbuf_cap) {
			size_t cap = rw->dbuf_cap ? rw->dbuf_cap : 1024;
			char *n;

			while (cap < used + room)
				cap *= 2;
			n = realloc(rw->dbuf, cap);
			if (!n)
				return -1;
			rw->dbuf = n;
			rw->dbuf_cap = cap;
		}
		digest_normalize(st->text, st->len, rw->dbuf + used, room,
				 &rw->dt[i].len);
		rw->dt[i].off = used;
		used += rw->dt[i].len;
	}
	tx->digested = true;
	return 0;
}

/* The texts of view v: how many, and the i-th. */
static unsigned view_count(const struct rules_worker *rw,
			   const struct texts *tx, enum view v)
{
	return v == VIEW_RAW ? 1 : rw->split.n;
}

static const char *view_text(const struct rules_worker *rw,
			     const struct texts *tx, enum view v, unsigned i,
			     size_t *len)
{
	switch (v) {
	case VIEW_RAW:
		*len = tx->len;
		return tx->sql;
	case VIEW_DIGEST:
		*len = rw->dt[i].len;
		return rw->dbuf + rw->dt[i].off;
	default:
		*len = rw->split.stmts[i].len;
		return rw->split.stmts[i].text;
	}
}

/* Whether the rule's required literal occurs in some text of view v: one
 * litscan pass over the view's texts per command, the first time a rule
 * asks. */
static bool literal_found(struct rules_worker *rw, struct texts *tx,
			  enum view v, int lit)
{
	uint64_t *found = rw->found + (size_t)v * rw->found_words;

	if (!(tx->scanned & 1u << v)) {
		memset(found, 0, rw->found_words * sizeof(*found));
		for (unsigned i = 0; i < view_count(rw, tx, v); i++) {
			size_t len;
			const char *t = view_text(rw, tx, v, i, &len);
			litscan_scan(rw->rs->lits, t, len, found);
		}
		tx->scanned |= 1u << v;
	}
	return found[lit / 64] >> (lit % 64) & 1;
}

/* The command could not be checked: it is refused, not let through. */
static void fail_closed(struct rule_outcome *out, int why)
{
	out->action = RULE_REJECT;
	out->rule = NULL;
	snprintf(out->message, sizeof(out->message), "%s",
		 why == SQL_SPLIT_AMBIGUOUS ?
		 "myring: query refused: it can be read in too many different "
		 "ways for the rules to check (version-conditional comments, "
		 "sql_mode, character set)" :
		 "myring: query refused: out of memory checking it against "
		 "the rules");
}

/* 1: the rule's regex matches, 0: it does not, < 0: the text could not be
 * split (the command must be refused). */
static int regex_matches(struct rules_worker *rw, const struct rule *r,
			 struct texts *tx)
{
	enum view v = (enum view)r->spec.match_on;
	int rc;

	if (v != VIEW_RAW) {
		rc = split(rw, tx);
		if (rc)
			return rc;
		if (v == VIEW_DIGEST && digest_all(rw, tx))
			return SQL_SPLIT_NOMEM;
	}
	if (r->lit >= 0 && !literal_found(rw, tx, v, r->lit))
		return 0;
	for (unsigned i = 0; i < view_count(rw, tx, v); i++) {
		size_t len;
		const char *t = view_text(rw, tx, v, i, &len);

		if (pcre2_match(r->re, (PCRE2_SPTR)t, len, 0, 0, rw->md,
				NULL) >= 0)
			return 1;
	}
	return 0;
}

static bool append(char **buf, size_t *len, size_t *cap, const char *s,
		   size_t n)
{
	if (*len + n > *cap || !*buf) {
		size_t ncap = *cap ? *cap : 256;
		char *nb;

		while (ncap < *len + n)
			ncap *= 2;
		nb = realloc(*buf, ncap);
		if (!nb)
			return false;
		*buf = nb;
		*cap = ncap;
	}
	if (n)
		memcpy(*buf + *len, s, n);
	*len += n;
	return true;
}

/*
 * A rewrite on statements: each statement of the primary reading that the
 * regex matches is replaced, from the ';' before it to the ';' after it,
 * by its comment-stripped text with every match substituted; the other
 * statements and the separators stay byte for byte.  NULL when no
 * statement changed (the match was in another reading) or on failure.
 */
static char *rewrite_statements(struct rules_worker *rw, const struct rule *r,
				const struct texts *tx, size_t *out_len)
{
	const struct sql_split *sp = &rw->split;
	char *out = NULL;
	size_t len = 0, cap = 0, from = 0;
	bool changed = false;

	for (unsigned i = 0; i < sp->nprimary; i++) {
		const struct sql_stmt *st = &sp->stmts[i];
		size_t sub_len;
		int rc;
		char *sub = substitute(rw, r, st->text, st->len, &sub_len, &rc);
		bool ok;

		if (!sub && !rc)
			continue;
		ok = sub && append(&out, &len, &cap, tx->sql + from,
				   st->raw_start - from) &&
		     append(&out, &len, &cap, sub, sub_len);
		free(sub);
		if (!ok) {
			free(out);
			return NULL;
		}
		from = st->raw_end;
		changed = true;
	}
	if (!changed ||
	    !append(&out, &len, &cap, tx->sql + from, tx->len - from)) {
		free(out);
		return NULL;
	}
	*out_len = len;
	return out;
}

static void eval(struct rules_worker *rw, const struct rule_input *in,
		 unsigned style, struct rule_outcome *out)
{
	struct ruleset *rs = rw->rs;
	_Atomic uint64_t *hits = rs->hits + (size_t)rw->worker * rs->stride;
	struct texts tx = {
		.sql = in->text,
		.len = in->text ? in->text_len : 0,
		.split = 1,
	};

	memset(out, 0, offsetof(struct rule_outcome, message));
	out->message[0] = '\0';
	for (unsigned i = 0; i < rs->n; i++) {
		const struct rule *r = &rs->rules[i];
		const struct rule_spec *sp = &r->spec;

		if (!has_command(sp, in->cmd) ||
		    (sp->user && !str_eq(sp->user, in->user)) ||
		    (sp->schema && !str_eq(sp->schema, in->schema)) ||
		    (sp->has_client && !in_network(sp, in)) ||
		    (sp->has_digest && sp->digest != in->digest))
			continue;
		if (sp->match) {
			int m;

			if (!tx.sql)
				continue;
			m = regex_matches(rw, r, &tx);
			if (m < 0) {
				fail_closed(out, m);
				return;
			}
			if (!m)
				continue;
		}
		/* An answer stands for one statement's result: a client that
		 * sent several would lose the others without a word. */
		if (sp->action == RULE_ANSWER && tx.sql) {
			int rc = split(rw, &tx);

			if (rc) {
				fail_closed(out, rc);
				return;
			}
			if (rw->split.multi) {
				out->action = RULE_REJECT;
				out->rule = sp;
				snprintf(out->message, sizeof(out->message),
					 "myring: rule '%s' answers single "
					 "statements only; send this statement "
					 "on its own", sp->name);
				return;
			}
		}
		/* A plain increment: only this worker writes its row. */
		atomic_store_explicit(&hits[i],
				      atomic_load_explicit(&hits[i],
							   memory_order_relaxed) + 1,
				      memory_order_relaxed);
		out->matched++;
		out->log |= sp->log;
		if (sp->delay_ms > out->delay_ms)
			out->delay_ms = sp->delay_ms;
		if (sp->route)
			out->route = sp->route;
		switch (sp->action) {
		case RULE_NONE:
			break;
		case RULE_REJECT:
		case RULE_ANSWER:
			out->action = sp->action;
			out->rule = sp;
			out->answer = r->answer[style & 3];
			out->answer_len = r->answer_len[style & 3];
			return;
		case RULE_REWRITE: {
			size_t nlen;
			int rc;
			char *ntext = sp->match_on == RULE_ON_RAW ?
				substitute(rw, r, tx.sql, tx.len, &nlen, &rc) :
				rewrite_statements(rw, r, &tx, &nlen);
			if (!ntext)
				break;
			free(out->rewritten);
			out->rewritten = ntext;
			out->rewritten_len = nlen;
			out->action = RULE_REWRITE;
			out->rule = sp;
			/* Later rules see the new text, cut and scanned
			 * afresh. */
			tx = (struct texts){ .sql = ntext, .len = nlen, .split = 1 };
			break;
		}
		}
		if (!sp->cont)
			return;
	}
}

/* Scratch a worker keeps between commands: one big command must not pin
 * its size for the worker's life. */
#define SCRATCH_KEEP ((size_t)1 << 20)

void rules_eval(struct rules_worker *rw, const struct rule_input *in,
		unsigned style, struct rule_outcome *out)
{
	eval(rw, in, style, out);
	sql_split_shrink(&rw->split, SCRATCH_KEEP);
	if (rw->dbuf_cap > SCRATCH_KEEP ||
	    rw->dt_cap * sizeof(*rw->dt) > SCRATCH_KEEP) {
		free(rw->dbuf);
		free(rw->dt);
		rw->dbuf = NULL;
		rw->dt = NULL;
		rw->dbuf_cap = 0;
		rw->dt_cap = 0;
	}
}

int rules_specs_from_config(const struct config *cfg, struct rule_spec **out,
		    unsigned *n, char *err, size_t errlen)
{
	unsigned total = cfg->ndeny + cfg->nrewrite + cfg->nrules, k = 0;
	size_t extra = 0;
	struct rule_spec *specs;
	char *p;

	for (unsigned i = 0; i < cfg->ndeny; i++)
		extra += 256;
	for (unsigned i = 0; i < cfg->nrewrite; i++)
		extra += strlen(cfg->rewrite[i]) + 2;
	specs = calloc(1, total * sizeof(*specs) + extra + 1);
	if (!specs) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	p = (char *)(specs + total);
	/* --deny and --rewrite: caseless like the file's match, and on
	 * comment-stripped statements (the defaults of a rule). */
	for (unsigned i = 0; i < cfg->ndeny; i++, k++) {
		struct rule_spec *sp = &specs[k];
		snprintf(sp->name, sizeof(sp->name), "deny-%u", i + 1);
		sp->match = cfg->deny[i];
		sp->any_command = true;
		sp->action = RULE_REJECT;
		sp->error_code = 1105;
		memcpy(sp->sqlstate, "HY000", 6);
		snprintf(p, 256, "myring: query denied by rule %u (--deny '%.180s')",
			 i + 1, cfg->deny[i]);
		sp->error_message = p;
		p += 256;
	}
	for (unsigned i = 0; i < cfg->nrewrite; i++, k++) {
		struct rule_spec *sp = &specs[k];
		const char *re, *repl;
		size_t re_len, repl_len;

		if (cli_parse_rewrite(cfg->rewrite[i], &re, &re_len, &repl,
				      &repl_len)) {
			snprintf(err, errlen, "--rewrite '%s': malformed",
				 cfg->rewrite[i]);
			free(specs);
			return -1;
		}
		snprintf(sp->name, sizeof(sp->name), "rewrite-%u", i + 1);
		memcpy(p, re, re_len);
		p[re_len] = '\0';
		sp->match = p;
		p += re_len + 1;
		memcpy(p, repl, repl_len);
		p[repl_len] = '\0';
		sp->replace = p;
		p += repl_len + 1;
		sp->any_command = true;
		sp->action = RULE_REWRITE;
	}
	for (unsigned i = 0; i < cfg->nrules; i++, k++)
		specs[k] = cfg->rules[i];
	*out = specs;
	*n = total;
	return 0;
}
