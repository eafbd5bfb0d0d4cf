/*
 * rewrite.c - the --rewrite hook: a query (COM_QUERY or COM_STMT_PREPARE)
 * matching a rule's regular expression is sent to the backend with every
 * match replaced (PCRE2 substitution, $1.. for groups).  Rules are tried in
 * order; the first that matches applies.  The proxy re-frames the new text
 * and renumbers the response's sequence ids when the packet count changes
 * (session_command.c), so a client never notices.
 */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "hooks.h"
#include "log.h"
#include "mysql_proto.h"

#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct rewrite_rule {
	pcre2_code *re;
	PCRE2_UCHAR *repl;
	size_t repl_len;
};

static struct rewrite_rule rules[CLI_MAX_DENY];
static unsigned nrules;

struct rewrite_worker {
	pcre2_match_data *md;
};

static void *rw_worker_init(void *arg, unsigned worker)
{
	struct rewrite_worker *rw = calloc(1, sizeof(*rw));

	if (rw)
		rw->md = pcre2_match_data_create(16, NULL);
	return rw;
}

static void rw_worker_fini(void *ws)
{
	struct rewrite_worker *rw = ws;

	if (rw) {
		pcre2_match_data_free(rw->md);
		free(rw);
	}
}

static enum myring_verdict rw_command(void *ws, const struct myring_session *s,
				      const struct myring_command *cmd,
				      struct myring_reply *reply, void **cookie)
{
	struct rewrite_worker *rw = ws;

	if (!cmd->text || !rw || !rw->md ||
	    (cmd->type != COM_QUERY && cmd->type != COM_STMT_PREPARE))
		return MYRING_FORWARD;
	for (unsigned i = 0; i < nrules; i++) {
		int rc = pcre2_match(rules[i].re, (PCRE2_SPTR)cmd->text,
				     cmd->text_len, 0, 0, rw->md, NULL);
		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0)
			return MYRING_FORWARD;
		/* Guess the size; PCRE2 reports the real one if it was short. */
		uint32_t opts = PCRE2_SUBSTITUTE_GLOBAL |
				PCRE2_SUBSTITUTE_OVERFLOW_LENGTH;
		PCRE2_SIZE out_len = cmd->text_len + rules[i].repl_len * 4 + 64;
		PCRE2_UCHAR *out = malloc(out_len);
		if (!out)
			return MYRING_FORWARD;
		rc = pcre2_substitute(rules[i].re, (PCRE2_SPTR)cmd->text,
				      cmd->text_len, 0, opts, rw->md, NULL,
				      rules[i].repl, rules[i].repl_len, out,
				      &out_len);
		if (rc == PCRE2_ERROR_NOMEMORY) {
			PCRE2_UCHAR *bigger = realloc(out, out_len);
			if (!bigger) {
				free(out);
				return MYRING_FORWARD;
			}
			out = bigger;
			rc = pcre2_substitute(rules[i].re, (PCRE2_SPTR)cmd->text,
					      cmd->text_len, 0, opts, rw->md, NULL,
					      rules[i].repl, rules[i].repl_len,
					      out, &out_len);
		}
		if (rc <= 0) {
			free(out);
			return MYRING_FORWARD;
		}
		LOGD("%s: query rewritten by rule %u", s->client, i + 1);
		reply->rewrite = (char *)out;
		reply->rewrite_len = out_len;
		return MYRING_REWRITE;
	}
	return MYRING_FORWARD;
}

static const struct myring_hook rewrite_hook = {
	.name = "rewrite",
	.flags = MYRING_HOOK_TEXT,
	.worker_init = rw_worker_init,
	.worker_fini = rw_worker_fini,
	.on_command = rw_command,
};

int rewrite_install(const char *const *specs, unsigned n, char *err,
		    size_t errlen)
{
	for (unsigned i = 0; i < n && i < CLI_MAX_DENY; i++) {
		const char *re, *repl;
		size_t re_len, repl_len;
		int code;
		PCRE2_SIZE off;

		if (cli_parse_rewrite(specs[i], &re, &re_len, &repl, &repl_len)) {
			snprintf(err, errlen, "--rewrite '%s': malformed", specs[i]);
			return -1;
		}
		pcre2_code *c = pcre2_compile((PCRE2_SPTR)re, re_len,
					      PCRE2_UTF | PCRE2_MATCH_INVALID_UTF,
					      &code, &off, NULL);
		if (!c) {
			PCRE2_UCHAR msg[160];
			pcre2_get_error_message(code, msg, sizeof(msg));
			snprintf(err, errlen, "--rewrite '%s': %s at offset %zu",
				 specs[i], (const char *)msg, (size_t)off);
			return -1;
		}
		if (!getenv("MYRING_NO_JIT"))
			pcre2_jit_compile(c, PCRE2_JIT_COMPLETE);
		rules[nrules].re = c;
		rules[nrules].repl = (PCRE2_UCHAR *)repl;
		rules[nrules].repl_len = repl_len;
		nrules++;
	}
	return n ? myring_hook_register(&rewrite_hook) : 0;
}
