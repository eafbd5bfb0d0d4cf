/*
 * deny.c - the --deny hook: a query matching any of the regular
 * expressions is answered with ERR 1105 naming the rule, and the session
 * carries on.  Patterns are compiled once (PCRE2, JIT where available);
 * each worker has its own match data, so matching takes no lock.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct deny_rule {
	pcre2_code *re;
	const char *pattern;
};

static struct deny_rule rules[64];
static unsigned nrules;

struct deny_worker {
	pcre2_match_data *md;
};

static void *deny_worker_init(void *arg, unsigned worker)
{
	struct deny_worker *dw = calloc(1, sizeof(*dw));

	if (dw)
		dw->md = pcre2_match_data_create(1, NULL);
	return dw;
}

static void deny_worker_fini(void *ws)
{
	struct deny_worker *dw = ws;

	if (dw) {
		pcre2_match_data_free(dw->md);
		free(dw);
	}
}

static enum myring_verdict deny_command(void *ws, const struct myring_session *s,
					const struct myring_command *cmd,
					struct myring_reply *reply, void **cookie)
{
	struct deny_worker *dw = ws;

	if (!cmd->text || (cmd->type != COM_QUERY && cmd->type != COM_STMT_PREPARE))
		return MYRING_FORWARD;
	if (!dw || !dw->md) {
		/* Fail closed: a deny list that cannot run rejects. */
		reply->err_code = 1105;
		snprintf(reply->message, sizeof(reply->message),
			 "myring: query denied: rule matcher unavailable");
		return MYRING_REJECT;
	}
	for (unsigned i = 0; i < nrules; i++) {
		int rc = pcre2_match(rules[i].re, (PCRE2_SPTR)cmd->text,
				     cmd->text_len, 0, 0, dw->md, NULL);
		if (rc >= 0) {
			reply->err_code = 1105;
			memcpy(reply->sqlstate, "HY000", 6);
			snprintf(reply->message, sizeof(reply->message),
				 "myring: query denied by rule %u (--deny '%.180s')",
				 i + 1, rules[i].pattern);
			LOGI("%s: user '%s': query denied by rule %u", s->client,
			     s->user, i + 1);
			return MYRING_REJECT;
		}
		if (rc != PCRE2_ERROR_NOMATCH) {
			reply->err_code = 1105;
			snprintf(reply->message, sizeof(reply->message),
				 "myring: query denied: rule %u could not be "
				 "evaluated (PCRE2 error %d)", i + 1, rc);
			return MYRING_REJECT;
		}
	}
	return MYRING_FORWARD;
}

static const struct myring_hook deny_hook = {
	.name = "deny",
	.flags = MYRING_HOOK_TEXT,
	.worker_init = deny_worker_init,
	.worker_fini = deny_worker_fini,
	.on_command = deny_command,
};

int deny_install(const char *const *patterns, unsigned n, char *err,
		 size_t errlen)
{
	for (unsigned i = 0; i < n && i < 64; i++) {
		int code;
		PCRE2_SIZE off;
		pcre2_code *re = pcre2_compile((PCRE2_SPTR)patterns[i],
					       PCRE2_ZERO_TERMINATED,
					       PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
					       &code, &off, NULL);
		if (!re) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof(msg));
			snprintf(err, errlen,
				 "--deny '%s': %s at offset %zu", patterns[i],
				 (const char *)msg, (size_t)off);
			return -1;
		}
		/* JIT is an optimisation: without it matching still works.
		 * MYRING_NO_JIT=1 turns it off for memcheck, which cannot follow
		 * generated code and reports false uninitialised reads in it. */
		if (!getenv("MYRING_NO_JIT"))
			pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
		rules[nrules].re = re;
		rules[nrules].pattern = patterns[i];
		nrules++;
	}
	if (n)
		return myring_hook_register(&deny_hook);
	return 0;
}
