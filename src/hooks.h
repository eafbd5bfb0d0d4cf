/*
 * hooks.h - the registry behind include/myring/hook.h, and the calls the
 * session code makes into it.
 */
#ifndef MYRING_HOOKS_H
#define MYRING_HOOKS_H

#include "cli.h"
#include "worker.h"

enum myring_verdict hooks_on_command(struct worker *w,
				     const struct myring_session *s,
				     struct myring_command *cmd,
				     struct myring_reply *reply,
				     void **cookies);
void hooks_on_result(struct worker *w, const struct myring_session *s,
		     const struct myring_result *r, void **cookies);

/* The query log, a built-in hook (querylog.c; the rules, --deny and
 * --rewrite are intercept.c).  Return 0, or -1 with err set. */
enum querylog_mode { QL_OFF, QL_MARKED, QL_ALL };
/* path NULL: set up the writer only, so a reload can turn logging on. */
int querylog_install(const char *path, enum querylog_mode mode, char *err,
		     size_t errlen);
/* Reload: reopens path (log rotation too) and sets the mode. */
int querylog_configure(const char *path, enum querylog_mode mode, char *err,
		       size_t errlen);
uint64_t querylog_dropped(void);
void querylog_shutdown(void);

#endif
