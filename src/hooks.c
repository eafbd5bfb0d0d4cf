#include "hooks.h"

#include <stdlib.h>

const struct myring_hook *hooks[MYRING_MAX_HOOKS];
unsigned nhooks;
bool hooks_want_text;
bool hooks_want_result;
bool hooks_want_digest;

int myring_hook_register(const struct myring_hook *hook)
{
	if (nhooks == MYRING_MAX_HOOKS)
		return -1;
	hooks[nhooks++] = hook;
	hooks_want_digest |= (hook->flags & MYRING_HOOK_DIGEST) != 0;
	hooks_want_text |= (hook->flags & (MYRING_HOOK_TEXT |
					   MYRING_HOOK_DIGEST)) != 0;
	hooks_want_result |= (hook->flags & MYRING_HOOK_RESULT) != 0;
	return 0;
}

/* Every hook sees every command (a log must record rejected ones too);
 * the first verdict other than forward is the one applied.  Marks, delay
 * and route accumulate, and later hooks see what earlier ones set. */
enum myring_verdict hooks_on_command(struct worker *w,
				     const struct myring_session *s,
				     struct myring_command *cmd,
				     struct myring_reply *reply,
				     void **cookies)
{
	enum myring_verdict verdict = MYRING_FORWARD;

	for (unsigned h = 0; h < nhooks; h++) {
		struct myring_reply mine = {0};
		struct myring_reply *r = verdict == MYRING_FORWARD ? reply : &mine;
		enum myring_verdict v;

		if (!hooks[h]->on_command)
			continue;
		v = hooks[h]->on_command(w->hook_state[h], s, cmd, r,
					 &cookies[h]);
		cmd->marks |= r->marks;
		if (r->route)
			cmd->route = r->route;
		if (r != reply) {
			if (mine.delay_ms > reply->delay_ms)
				reply->delay_ms = mine.delay_ms;
			free(mine.rewrite);
			free(mine.answer);
		}
		if (verdict == MYRING_FORWARD)
			verdict = v;
	}
	reply->marks = cmd->marks;
	reply->route = cmd->route;
	return verdict;
}

void hooks_on_result(struct worker *w, const struct myring_session *s,
		     const struct myring_result *r, void **cookies)
{
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->on_result && (hooks[h]->flags & MYRING_HOOK_RESULT))
			hooks[h]->on_result(w->hook_state[h], s, r, cookies[h]);
}
