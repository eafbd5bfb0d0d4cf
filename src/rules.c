#define PCRE2_CODE_UNIT_WIDTH 8
#include "rules.h"

#include "cli.h"
#include "litscan.h"
#include "mysql_proto.h"
#include "mysql_srv.h"

#include <pcre2.h>
#include <stdatomic.h>
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

struct rules_worker {
	struct ruleset *rs;
	unsigned worker;
	pcre2_match_data *md;
	uint64_t *found;           /* litscan bitmap, nlits bits */
	unsigned found_words;
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
		pcre2_get_error_message(code, msg, sizeof(msg));
		snprintf(err, errlen, "rule '%s' (line %u): match: %s at offset %zu",
			 r->spec.name, r->spec.line, (const char *)msg,
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
	rw->found = calloc(rw->found_words ? rw->found_words : 1,
			   sizeof(*rw->found));
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

/* Every match of the rule's regex replaced; NULL on failure. */
static char *substitute(struct rules_worker *rw, const struct rule *r,
			const char *text, size_t len, size_t *out_len)
{
	uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL | PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
	size_t repl_len = strlen(r->spec.replace);
	PCRE2_SIZE cap = len + repl_len * 4 + 64;
	PCRE2_UCHAR *out = malloc(cap);
	int rc;

	if (!out)
		return NULL;
	rc = pcre2_substitute(r->re, (PCRE2_SPTR)text, len, 0, opts, rw->md,
			      NULL, (PCRE2_SPTR)r->spec.replace, repl_len, out,
			      &cap);
	if (rc == PCRE2_ERROR_NOMEMORY) {
		PCRE2_UCHAR *bigger = realloc(out, cap);
		if (!bigger) {
			free(out);
			return NULL;
		}
		out = bigger;
		rc = pcre2_substitute(r->re, (PCRE2_SPTR)text, len, 0, opts,
				      rw->md, NULL, (PCRE2_SPTR)r->spec.replace,
				      repl_len, out, &cap);
	}
	if (rc <= 0) {
		free(out);
		return NULL;
	}
	*out_len = cap;
	return (char *)out;
}

void rules_eval(struct rules_worker *rw, const struct rule_input *in,
		unsigned style, struct rule_outcome *out)
{
	struct ruleset *rs = rw->rs;
	_Atomic uint64_t *hits = rs->hits + (size_t)rw->worker * rs->stride;
	const char *text = in->text;
	size_t len = in->text ? in->text_len : 0;
	bool scanned = false;

	memset(out, 0, sizeof(*out));
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
			if (!text)
				continue;
			if (r->lit >= 0) {
				if (!scanned) {
					memset(rw->found, 0, rw->found_words *
					       sizeof(*rw->found));
					litscan_scan(rs->lits, text, len, rw->found);
					scanned = true;
				}
				if (!(rw->found[r->lit / 64] >> (r->lit % 64) & 1))
					continue;
			}
			if (pcre2_match(r->re, (PCRE2_SPTR)text, len, 0, 0,
					rw->md, NULL) < 0)
				continue;
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
			char *ntext = substitute(rw, r, text, len, &nlen);
			if (!ntext)
				break;
			free(out->rewritten);
			out->rewritten = ntext;
			out->rewritten_len = nlen;
			out->action = RULE_REWRITE;
			out->rule = sp;
			text = ntext;
			len = nlen;
			/* Later rules see the new text: scan it again. */
			scanned = false;
			break;
		}
		}
		if (!sp->cont)
			return;
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
	/* --deny: case-sensitive, as the flag always was. */
	for (unsigned i = 0; i < cfg->ndeny; i++, k++) {
		struct rule_spec *sp = &specs[k];
		snprintf(sp->name, sizeof(sp->name), "deny-%u", i + 1);
		sp->match = cfg->deny[i];
		sp->case_sensitive = true;
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
		sp->case_sensitive = true;
		sp->any_command = true;
		sp->action = RULE_REWRITE;
	}
	for (unsigned i = 0; i < cfg->nrules; i++, k++)
		specs[k] = cfg->rules[i];
	*out = specs;
	*n = total;
	return 0;
}
