/*
 * hooks.h - the registry behind include/myring/hook.h, and the calls the
 * session code makes into it.
 */
#ifndef MYRING_HOOKS_H
#define MYRING_HOOKS_H

#include "worker.h"

enum myring_verdict hooks_on_command(struct worker *w,
				     const struct myring_session *s,
				     const struct myring_command *cmd,
				     struct myring_reply *reply,
				     void **cookies);
void hooks_on_result(struct worker *w, const struct myring_session *s,
		     const struct myring_result *r, void **cookies);

/* Built-in hooks (querylog.c, deny.c).  Return 0, or -1 with err set. */
int querylog_install(const char *path, char *err, size_t errlen);
void querylog_shutdown(void);
int deny_install(const char *const *patterns, unsigned n, char *err,
		 size_t errlen);
int rewrite_install(const char *const *specs, unsigned n, char *err,
		    size_t errlen);

#endif
