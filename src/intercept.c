/*
 * intercept.c - query rules and digest statistics as one hook (see
 * intercept.h).  Per command: the rules decide (reject, answer, rewrite,
 * log, delay, route) and the fingerprint's entry in this worker's digest
 * table is found or created; when the command ends its numbers are added
 * to the entry.
 */
#include "intercept.h"

#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/*
 * Prepared statements: executions count under the fingerprint of the
 * statement's PREPARE.  The map (session, statement id) -> digest entry is
 * a bounded cache: each key may sit in one of STMT_WAYS slots, and a full
 * set overwrites its first slot.  An entry outliving its session is
 * harmless: session ids are never reused.
 */
#define STMT_WAYS 8

struct stmt_ref {
	uint64_t session;          /* 0 = free */
	uint32_t stmt;
	uint64_t cookie;
};

struct intercept_worker {
	unsigned id;
	struct stmt_ref *stmts;
	uint32_t stmt_mask;
	struct ruleset *rs;            /* the set rw was built for */
	struct rules_worker *rw;
	struct dstat_table dt;
	uint64_t now_s;
	_Atomic(struct ruleset *) in_use;
};

static struct {
	bool registered;
	bool digests;
	uint32_t digest_max;
	unsigned nworkers;
	_Atomic(struct ruleset *) current;
	struct intercept_worker **workers;
} ic;

static uint64_t wall_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME_COARSE, &ts);
	return (uint64_t)ts.tv_sec;
}

/* Adopts the published rule set if it changed.  A worker that cannot
 * build match data keeps the set it has. */
static void adopt_rules(struct intercept_worker *iw)
{
	struct ruleset *cur = atomic_load_explicit(&ic.current,
						   memory_order_acquire);
	struct rules_worker *rw = NULL;

	if (cur == iw->rs)
		return;
	if (cur) {
		rw = rules_worker_new(cur, iw->id);
		if (!rw) {
			LOGE("worker %u: out of memory adopting new rules", iw->id);
			return;
		}
	}
	rules_worker_free(iw->rw);
	iw->rw = rw;
	iw->rs = cur;
	atomic_store_explicit(&iw->in_use, cur, memory_order_release);
}

static void *ic_worker_init(void *arg, unsigned worker)
{
	struct intercept_worker *iw = calloc(1, sizeof(*iw));

	if (!iw)
		return NULL;
	iw->id = worker;
	iw->now_s = wall_s();
	if (ic.digests) {
		uint32_t n = 64;
		while (n < ic.digest_max * 4u)
			n <<= 1;
		iw->stmts = calloc(n, sizeof(*iw->stmts));
		iw->stmt_mask = n - 1;
		if (!iw->stmts || dstat_init(&iw->dt, ic.digest_max)) {
			free(iw->stmts);
			free(iw);
			return NULL;
		}
	}
	adopt_rules(iw);
	if (worker < ic.nworkers)
		ic.workers[worker] = iw;
	return iw;
}

static void ic_worker_fini(void *ws)
{
	struct intercept_worker *iw = ws;

	if (!iw)
		return;
	if (iw->id < ic.nworkers)
		ic.workers[iw->id] = NULL;
	rules_worker_free(iw->rw);
	atomic_store(&iw->in_use, NULL);
	if (ic.digests)
		dstat_destroy(&iw->dt);
	free(iw->stmts);
	free(iw);
}

static uint32_t stmt_home(const struct intercept_worker *iw, uint64_t session,
			  uint32_t stmt)
{
	uint64_t h = (session ^ ((uint64_t)stmt << 40)) * 0x9e3779b97f4a7c15ull;
	return (uint32_t)(h >> 32) & iw->stmt_mask;
}

static struct stmt_ref *stmt_find(struct intercept_worker *iw, uint64_t session,
				  uint32_t stmt)
{
	uint32_t h = stmt_home(iw, session, stmt);

	for (uint32_t k = 0; k < STMT_WAYS; k++) {
		struct stmt_ref *r = &iw->stmts[(h + k) & iw->stmt_mask];
		if (r->session == session && r->stmt == stmt)
			return r;
	}
	return NULL;
}

static void stmt_put(struct intercept_worker *iw, uint64_t session,
		     uint32_t stmt, uint64_t cookie)
{
	uint32_t h = stmt_home(iw, session, stmt);
	struct stmt_ref *slot = &iw->stmts[h];

	for (uint32_t k = 0; k < STMT_WAYS; k++) {
		struct stmt_ref *r = &iw->stmts[(h + k) & iw->stmt_mask];
		if (!r->session || (r->session == session && r->stmt == stmt)) {
			slot = r;
			break;
		}
	}
	*slot = (struct stmt_ref){session, stmt, cookie};
}

static void ic_tick(void *ws, uint64_t now_us)
{
	struct intercept_worker *iw = ws;

	if (!iw)
		return;
	iw->now_s = wall_s();
	adopt_rules(iw);
}

static void apply_outcome(const struct rule_outcome *o,
			  struct myring_reply *reply)
{
	const struct rule_spec *sp = o->rule;

	if (o->log)
		reply->marks |= MYRING_MARK_LOG;
	reply->delay_ms = o->delay_ms;
	reply->route = o->route;
	switch (o->action) {
	case RULE_REJECT:
		if (o->message[0]) {
			/* The matcher's own refusal, not the rule's error. */
			reply->err_code = 1105;
			memcpy(reply->sqlstate, "HY000", 6);
			snprintf(reply->message, sizeof(reply->message), "%s",
				 o->message);
			break;
		}
		reply->err_code = sp->error_code ? sp->error_code : 1105;
		memcpy(reply->sqlstate, sp->sqlstate[0] ? sp->sqlstate : "HY000", 6);
		/* Every error myring sends starts with "myring:", the rule's
		 * own text too, so it cannot be taken for the server's. */
		if (sp->error_message)
			snprintf(reply->message, sizeof(reply->message), "%s%s",
				 strncmp(sp->error_message, "myring:", 7) ?
				 "myring: " : "", sp->error_message);
		else
			snprintf(reply->message, sizeof(reply->message),
				 "myring: query blocked by rule '%s'", sp->name);
		break;
	case RULE_ANSWER:
		reply->answer = malloc(o->answer_len);
		if (reply->answer) {
			memcpy(reply->answer, o->answer, o->answer_len);
			reply->answer_len = o->answer_len;
		}
		break;
	case RULE_REWRITE:
		reply->rewrite = o->rewritten;
		reply->rewrite_len = o->rewritten_len;
		break;
	case RULE_NONE:
		break;
	}
}

static enum myring_verdict ic_command(void *ws, const struct myring_session *s,
				      const struct myring_command *cmd,
				      struct myring_reply *reply, void **cookie)
{
	struct intercept_worker *iw = ws;
	enum myring_verdict verdict = MYRING_FORWARD;

	if (!iw)
		return MYRING_FORWARD;
	if (iw->rw && ruleset_count(iw->rs)) {
		struct rule_input in = {
			.cmd = cmd->type,
			.digest = cmd->digest,
			.user = s->user,
			.schema = s->schema,
			.family = s->client_family,
		};
		struct rule_outcome out;

		if (cmd->type == COM_QUERY || cmd->type == COM_STMT_PREPARE) {
			in.text = cmd->text;
			in.text_len = cmd->text_len;
		}
		if (s->client_ip)
			memcpy(in.addr, s->client_ip,
			       s->client_family == AF_INET6 ? 16 : 4);
		rules_eval(iw->rw, &in,
			   (s->deprecate_eof ? RULES_DEPRECATE_EOF : 0) |
			   (s->extended_metadata ? RULES_EXT_METADATA : 0), &out);
		if (out.matched || out.action != RULE_NONE) {
			apply_outcome(&out, reply);
			verdict = out.action == RULE_REJECT ? MYRING_REJECT :
				  out.action == RULE_ANSWER ? MYRING_ANSWER :
				  out.action == RULE_REWRITE ? MYRING_REWRITE :
				  MYRING_FORWARD;
			if (verdict == MYRING_ANSWER && !reply->answer)
				verdict = MYRING_FORWARD;
		}
	}
	if (ic.digests && cmd->digest) {
		uint64_t c = dstat_touch(&iw->dt, cmd->digest, cmd->digest_text,
					 cmd->digest_text_len, s->user,
					 s->schema, iw->now_s);
		*cookie = (void *)(uintptr_t)c;
	} else if (ic.digests && cmd->stmt_id) {
		struct stmt_ref *r = stmt_find(iw, s->id, cmd->stmt_id);
		if (r && cmd->type == COM_STMT_CLOSE)
			r->session = 0;
		else if (r && (cmd->type == COM_STMT_EXECUTE ||
			       cmd->type == COM_STMT_FETCH))
			*cookie = (void *)(uintptr_t)r->cookie;
	}
	return verdict;
}

static void ic_result(void *ws, const struct myring_session *s,
		      const struct myring_result *r, void *cookie)
{
	struct intercept_worker *iw = ws;

	if (!iw || !cookie)
		return;
	dstat_record(&iw->dt, (uint64_t)(uintptr_t)cookie, r->duration_us,
		     r->err_code != 0 || r->aborted, r->rows, r->affected_rows,
		     iw->now_s);
	if (r->stmt_id)
		stmt_put(iw, s->id, r->stmt_id, (uint64_t)(uintptr_t)cookie);
}

static struct myring_hook intercept_hook = {
	.name = "intercept",
	.flags = MYRING_HOOK_TEXT,
	.worker_init = ic_worker_init,
	.worker_fini = ic_worker_fini,
	.on_tick = ic_tick,
	.on_command = ic_command,
	.on_result = ic_result,
};

int intercept_register(struct ruleset *rs, bool digests, uint32_t digest_max,
		       bool always, unsigned nworkers, char *err,
		       size_t errlen)
{
	if (!always && !digests && !ruleset_count(rs)) {
		ruleset_free(rs);
		return 0;
	}
	ic.workers = calloc(nworkers, sizeof(*ic.workers));
	if (!ic.workers) {
		snprintf(err, errlen, "out of memory");
		ruleset_free(rs);
		return -1;
	}
	ic.nworkers = nworkers;
	ic.digests = digests;
	ic.digest_max = digest_max;
	atomic_store(&ic.current, rs);
	if (digests || ruleset_needs_digest(rs))
		intercept_hook.flags |= MYRING_HOOK_DIGEST;
	if (digests)
		intercept_hook.flags |= MYRING_HOOK_RESULT;
	if (myring_hook_register(&intercept_hook)) {
		snprintf(err, errlen, "too many hooks");
		return -1;
	}
	ic.registered = true;
	return 0;
}

bool intercept_active(void)
{
	return ic.registered;
}

unsigned intercept_workers(void)
{
	return ic.nworkers ? ic.nworkers : 1;
}

bool intercept_digests(void)
{
	return ic.digests;
}

struct ruleset *intercept_publish(struct ruleset *rs)
{
	return atomic_exchange_explicit(&ic.current, rs, memory_order_acq_rel);
}

bool intercept_retired(const struct ruleset *old)
{
	for (unsigned i = 0; i < ic.nworkers; i++) {
		struct intercept_worker *iw = ic.workers[i];
		if (iw && atomic_load_explicit(&iw->in_use,
					       memory_order_acquire) == old)
			return false;
	}
	return true;
}

const struct ruleset *intercept_current(void)
{
	return atomic_load_explicit(&ic.current, memory_order_acquire);
}

int intercept_snapshot(unsigned worker, struct dstat_rows *out,
		       uint64_t *live, uint64_t *evictions)
{
	struct intercept_worker *iw = worker < ic.nworkers ?
				      ic.workers[worker] : NULL;

	out->rows = NULL;
	out->n = 0;
	*live = *evictions = 0;
	if (!iw || !ic.digests)
		return 0;
	*live = iw->dt.live;
	*evictions = iw->dt.evictions;
	return dstat_snapshot(&iw->dt, out);
}

void intercept_digest_counts(unsigned worker, uint64_t *live,
			     uint64_t *evictions)
{
	struct intercept_worker *iw = worker < ic.nworkers ?
				      ic.workers[worker] : NULL;

	*live = *evictions = 0;
	if (!iw || !ic.digests)
		return;
	/* Written only by the worker; one aligned load each. */
	*live = __atomic_load_n(&iw->dt.live, __ATOMIC_RELAXED);
	*evictions = __atomic_load_n(&iw->dt.evictions, __ATOMIC_RELAXED);
}

void intercept_digest_totals(uint64_t *live, uint64_t *evictions)
{
	uint64_t l, e;

	*live = *evictions = 0;
	for (unsigned i = 0; i < ic.nworkers; i++) {
		intercept_digest_counts(i, &l, &e);
		*live += l;
		*evictions += e;
	}
}

void intercept_reset(unsigned worker)
{
	struct intercept_worker *iw = worker < ic.nworkers ?
				      ic.workers[worker] : NULL;

	if (!iw)
		return;
	if (ic.digests)
		dstat_reset(&iw->dt);
	if (iw->rs)
		ruleset_reset_hits(iw->rs, worker);
}

void intercept_shutdown(void)
{
	ruleset_free(atomic_exchange(&ic.current, NULL));
	free(ic.workers);
	ic.workers = NULL;
	ic.nworkers = 0;
}
