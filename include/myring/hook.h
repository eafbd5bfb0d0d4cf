/*
 * myring/hook.h - the interception API.
 *
 * A hook sees every client command before it is forwarded and decides what
 * happens to it: forward it untouched, forward a rewritten query, or answer
 * the client with an error while the session carries on.  A hook that asks
 * for results is told how each command ended (rows, affected rows, error,
 * duration).  Hooks run on the worker threads, inside the completion loop:
 * they must never block, and they keep per-worker state (worker_init) so
 * they need no locks.
 *
 * Cost model: with no hook registered the proxy never extracts SQL text.
 * A hook that does not set MYRING_HOOK_TEXT never causes a copy: text is
 * handed over in place from the receive buffer whenever the command fits
 * in one buffer, and assembled only when it spans several.
 */
#ifndef MYRING_HOOK_H
#define MYRING_HOOK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MYRING_MAX_HOOKS 8

struct myring_session {
	const char *client;      /* "ip:port" of the client */
	const char *user;        /* "" until the handshake response is seen */
	const char *schema;      /* "" if none selected */
	uint64_t id;             /* unique per process */
	unsigned worker;
};

struct myring_command {
	uint8_t type;            /* COM_* byte: 0x03 COM_QUERY, ... */
	const char *name;        /* "Query", "Stmt_prepare", ... */
	/* COM_QUERY, COM_STMT_PREPARE: the SQL; COM_INIT_DB: the schema;
	 * COM_FIELD_LIST: the table; NULL for other commands or when no hook
	 * asked for text. Not NUL-terminated. */
	const char *text;
	size_t text_len;
};

enum myring_verdict {
	MYRING_FORWARD = 0,      /* send the command as received */
	MYRING_REWRITE,          /* send reply->rewrite instead (COM_QUERY,
	                          * COM_STMT_PREPARE only) */
	MYRING_REJECT,           /* answer reply->err_* to the client */
};

struct myring_reply {
	char *rewrite;           /* malloc'd; the proxy frees it */
	size_t rewrite_len;
	uint16_t err_code;       /* default 1105 */
	char sqlstate[6];        /* default "HY000" */
	char message[256];
};

struct myring_result {
	uint64_t duration_us;    /* command received -> response complete */
	uint64_t rows;           /* rows returned */
	uint64_t affected_rows;
	uint16_t err_code;       /* 0 on success */
	bool result_set;         /* the response carried rows (maybe zero) */
	bool no_response;        /* COM_QUIT, COM_STMT_CLOSE, ... */
	bool aborted;            /* the connection ended first */
	bool rejected;           /* answered by a hook, never forwarded */
};

#define MYRING_HOOK_TEXT   0x1u /* wants command->text */
#define MYRING_HOOK_RESULT 0x2u /* wants on_result() */

struct myring_hook {
	const char *name;
	unsigned flags;
	void *arg;               /* passed to worker_init */
	/* Per-worker state, created on the worker thread before it serves. */
	void *(*worker_init)(void *arg, unsigned worker);
	void (*worker_fini)(void *wstate);
	/* Called about every 100 ms on each worker (may be NULL). */
	void (*on_tick)(void *wstate, uint64_t now_us);
	/* Decides a command's fate.  *cookie (NULL on entry) is handed back
	 * to on_result for this command. */
	enum myring_verdict (*on_command)(void *wstate,
					  const struct myring_session *s,
					  const struct myring_command *cmd,
					  struct myring_reply *reply,
					  void **cookie);
	/* The command ended (always called once per on_command when
	 * MYRING_HOOK_RESULT is set, even if the connection dies). */
	void (*on_result)(void *wstate, const struct myring_session *s,
			  const struct myring_result *res, void *cookie);
};

/* Registers a hook before the workers start.  Returns 0, or -1 when
 * MYRING_MAX_HOOKS are registered. Hooks run in registration order; the
 * first verdict other than MYRING_FORWARD wins. */
int myring_hook_register(const struct myring_hook *hook);

#endif
