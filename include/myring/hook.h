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
	int client_family;       /* AF_INET, AF_INET6 (0: unknown) */
	const uint8_t *client_ip; /* 4 or 16 bytes, network order */
	const char *user;        /* "" until the handshake response is seen */
	const char *schema;      /* "" if none selected */
	uint64_t id;             /* unique per process */
	bool deprecate_eof;      /* result sets end with OK, not EOF */
	bool extended_metadata;  /* MariaDB extended column metadata */
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
	/* Fingerprint of the SQL (COM_QUERY, COM_STMT_PREPARE) when a hook
	 * set MYRING_HOOK_DIGEST: 64-bit hash (0 = none) and its normalised
	 * text (NUL-terminated, cut at --digest-text-max bytes). */
	uint64_t digest;
	const char *digest_text;
	size_t digest_text_len;
	/* COM_STMT_EXECUTE, _FETCH, _RESET, _CLOSE, _SEND_LONG_DATA: the
	 * statement id (0 if the packet was not seen whole). */
	uint32_t stmt_id;
	/* Marks added by the hooks before this one (MYRING_MARK_*). */
	unsigned marks;
	/* Backend group chosen by an earlier hook, or NULL. */
	const char *route;
};

#define MYRING_MARK_LOG 0x1u     /* a rule asked for the command to be logged */

enum myring_verdict {
	MYRING_FORWARD = 0,      /* send the command as received */
	MYRING_REWRITE,          /* send reply->rewrite instead (COM_QUERY,
	                          * COM_STMT_PREPARE only) */
	MYRING_REJECT,           /* answer reply->err_* to the client */
	MYRING_ANSWER,           /* answer reply->answer to the client */
};

struct myring_reply {
	char *rewrite;           /* malloc'd; the proxy frees it */
	size_t rewrite_len;
	uint16_t err_code;       /* default 1105 */
	char sqlstate[6];        /* default "HY000" */
	char message[256];
	/* MYRING_ANSWER: complete packets (headers included, sequence ids
	 * from 1), malloc'd; the proxy frees it. */
	uint8_t *answer;
	size_t answer_len;
	/* Apply to any verdict; accumulated over hooks. */
	unsigned marks;          /* MYRING_MARK_* */
	uint32_t delay_ms;       /* hold the command this long (largest wins) */
	const char *route;       /* backend group; must outlive the process */
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
	bool answered;           /* answered by a hook with a fixed reply */
	uint32_t stmt_id;        /* a COM_STMT_PREPARE that succeeded: the id
	                          * the server gave the statement */
	const char *server;      /* auth: proxy: the server it was sent to
	                          * ("host:port" as configured), or NULL */
	const char *route;       /* and why it went there ("read", "primary",
	                          * ...), or NULL */
};

#define MYRING_HOOK_TEXT   0x1u /* wants command->text */
#define MYRING_HOOK_RESULT 0x2u /* wants on_result() */
#define MYRING_HOOK_DIGEST 0x4u /* wants command->digest (implies TEXT) */

struct myring_hook {
	const char *name;
	unsigned flags;
	void *arg;               /* passed to worker_init */
	/* Per-worker state, created on the worker thread before it serves.
	 * worker_fini gets NULL when the worker failed to start before its
	 * hooks were set up (no ring, no buffers). */
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
