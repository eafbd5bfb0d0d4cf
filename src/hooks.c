#include "hooks.h"

#include <stdlib.h>

const struct myring_hook *hooks[MYRING_MAX_HOOKS];
unsigned nhooks;
bool hooks_want_text;
bool hooks_want_result;

int myring_hook_register(const struct myring_hook *hook)
{
	if (nhooks == MYRING_MAX_HOOKS)
		return -1;
	hooks[nhooks++] = hook;
	hooks_want_text |= (hook->flags & MYRING_HOOK_TEXT) != 0;
	hooks_want_result |= (hook->flags & MYRING_HOOK_RESULT) != 0;
	return 0;
}

/* Every hook sees every command (a log must record rejected ones too);
 * the first verdict other than forward is the one applied. */
enum myring_verdict hooks_on_command(struct worker *w,
				     const struct myring_session *s,
				     const struct myring_command *cmd,
				     struct myring_reply *reply,
				     void **cookies)
{
	enum myring_verdict verdict = MYRING_FORWARD;

	for (unsigned h = 0; h < nhooks; h++) {
		struct myring_reply mine = {0};
		enum myring_verdict v;

		if (!hooks[h]->on_command)
			continue;
		v = hooks[h]->on_command(w->hook_state[h], s, cmd,
					 verdict == MYRING_FORWARD ? reply : &mine,
					 &cookies[h]);
		if (verdict == MYRING_FORWARD)
			verdict = v;
		else
			free(mine.rewrite);
	}
	return verdict;
}

void hooks_on_result(struct worker *w, const struct myring_session *s,
		     const struct myring_result *r, void **cookies)
{
	for (unsigned h = 0; h < nhooks; h++)
		if (hooks[h]->on_result && (hooks[h]->flags & MYRING_HOOK_RESULT))
			hooks[h]->on_result(w->hook_state[h], s, r, cookies[h]);
}
