/*
 * session.h - one client connection and its backend connection.
 *
 * A session's life is a chain of completions, each continued by a named
 * step (see docs/architecture.md):
 *
 *   accepted -> backend_connected -> greeting_received -> greeting_sent
 *   -> handshake_received -> auth relayed until the server's OK
 *   -> command_received -> (hooks) -> command_forwarded
 *   -> response_received ... response complete -> command_received ...
 *
 * Phases (enum phase):
 *
 *   CONNECTING --connect ok--> GREETING --greeting--> HANDSHAKE
 *       |                                                 |
 *       +--connect failed: ERR 1429 to client, close      | response
 *                                                         v
 *   COMMAND <--------------- server OK ---------------- AUTH
 *
 * Invariants:
 *  - inflight counts submitted operations whose final completion has not
 *    arrived; the session is freed only when closing && inflight == 0, so
 *    no completion ever refers to freed memory.
 *  - out[X] holds bytes for side X in stream order; a buffer referenced by
 *    any chunk is not returned to the kernel.
 *  - pend[] holds, in order, the commands whose responses have not ended;
 *    trk follows the response of the head entry.
 */
#ifndef MYRING_SESSION_H
#define MYRING_SESSION_H

#include "mysql_framer.h"
#include "mysql_tracker.h"
#include "outq.h"
#include "worker.h"

/*
 * Error code for an unreachable backend.  2003 would read best, but it is
 * in the client-error range and MariaDB Connector/C rejects a server
 * packet carrying it as malformed; 1429 (ER_CONNECT_TO_FOREIGN_DATA_SOURCE,
 * "unable to connect to foreign data source") is the server's own word
 * for the same situation.
 */
#define ER_BACKEND_UNREACHABLE 1429
/*
 * Errors that end a command cut short by the proxy.  Both carry SQLSTATE
 * 08S01 (communication link failure), which connectors and pools read as
 * "this connection is gone, retry on another".  1927 (ER_CONNECTION_KILLED)
 * is what MariaDB itself sends to a connection that is killed mid-command;
 * 1053 (ER_SERVER_SHUTDOWN) is what a server sends when it shuts down.
 */
#define ER_BACKEND_LOST 1927
#define ER_PROXY_SHUTDOWN 1053

enum side { SIDE_CLIENT = 0, SIDE_BACKEND = 1 };
#define OTHER_SIDE(side) ((side) ^ 1)

enum phase { PH_CONNECTING, PH_GREETING, PH_HANDSHAKE, PH_AUTH, PH_COMMAND };

/* What the client's packets are, in the command phase. */
enum client_mode {
	CM_COMMAND,        /* each logical packet is a command */
	CM_RELAY,          /* auth data of a COM_CHANGE_USER exchange */
	CM_INFILE,         /* LOAD DATA LOCAL file contents, until empty packet */
};

enum recv_state {
	RS_IDLE,           /* nothing armed */
	RS_ARMED,          /* multishot recv in flight */
	RS_CANCELING,      /* cancel submitted, final completion pending */
	RS_NOBUFS,         /* stopped by -ENOBUFS, on the worker's wait list */
};

/* Disposition of the client packet in progress (command phase). */
enum disp { DISP_FORWARD, DISP_DROP, DISP_ASSEMBLE };

struct pending {
	uint8_t cmd;
	uint8_t kind;              /* enum mysql_resp_kind; RESP_NONE: local */
	uint8_t seq_delta;         /* added to response seq ids (rewrites) */
	bool local;                /* answered by the proxy: reply below */
	bool hooked;               /* hooks get on_result */
	bool answered;             /* local reply is a hook's fixed answer */
	bool rejected;
	uint16_t local_err;        /* error code of the local reply */
	bool local_result_set;     /* the local reply is a result set */
	uint64_t local_rows;       /* what the local reply carries */
	uint64_t local_affected;
	const char *route;         /* backend group a rule chose (later use) */
	uint64_t start_us;
	uint8_t *reply;            /* local reply packet(s) */
	uint32_t reply_len;
	char *new_schema;          /* adopted when the response is OK */
	char *new_user;
	void *cookies[MYRING_MAX_HOOKS];
};

struct session {
	struct worker *w;
	uint32_t slot;
	uint16_t gen;
	uint8_t phase;
	uint8_t client_mode;
	uint8_t disp;
	bool closing;              /* teardown begun; no new operations */
	bool flush_close;          /* close once out[SIDE_CLIENT] is sent */
	const char *flush_close_why; /* logged when that close happens */
	bool dirty[2];             /* on the worker's dirty list */
	bool recv_paused[2];       /* backpressure from the other side */
	bool deprecate_eof;
	bool quit;                 /* client sent COM_QUIT */
	bool discarding;           /* reading the rest of a refused command */
	bool corked;               /* a delay rule holds the backend stream */
	bool delay_armed;          /* its timer is in flight */
	uint8_t recv_state[2];
	uint8_t held_len;          /* bytes in held[] */
	uint8_t cmd_last_seq;      /* seq of the last packet of the command */
	bool resp_started;         /* a packet of the head's response came */
	uint16_t inflight;
	int fd[2];
	uint64_t caps;             /* effective capabilities */
	uint64_t server_caps;
	uint64_t cmd_bytes;        /* payload bytes of the command so far */
	/* One deadline at a time, checked by the worker's tick: the backend's
	 * greeting (PH_GREETING), the flush of a final packet (flush_close),
	 * or the next byte of a refused command (discarding). */
	uint64_t deadline_us;
	struct outq out[2];        /* out[X]: bytes to send to side X */
	struct mysql_framer fr[2]; /* fr[X]: frames the bytes side X sends */
	struct mysql_tracker trk;
	struct pending *pend;
	uint32_t pend_head, pend_count, pend_cap;
	/* A client packet being copied because it spans buffers and must be
	 * seen whole (handshake, or a command a hook wants the text of). */
	uint8_t *asm_buf;
	uint32_t asm_len, asm_cap, asm_need;
	bool asm_more;             /* another packet of the command follows */
	uint8_t held[4 + MYSQL_PEEK];
	/* Pending local replies to inject into the client stream after the
	 * current response packet ends (pipelined, rejected commands). */
	bool inject_pending;
	uint64_t inject_skip;      /* bytes of the server stream before it */
	uint64_t delay_until_us;
	struct __kernel_timespec delay_ts;
	struct session *next_waiter;
	char *user;
	char *schema;
	char client_addr[64];
	int client_family;         /* of the peer address, for rules */
	uint8_t client_ip[16];
	struct myring_session info;
};

/* worker.c dispatches completions to these. */
void session_accepted(struct worker *w, int fd);
void session_on_connect(struct session *s, int res);
void session_on_recv(struct session *s, int side, int res, unsigned flags);
void session_on_send(struct session *s, int side, int res);
void session_on_cancel(struct session *s, int res);
void session_on_delay(struct session *s, int res);
void session_delay(struct session *s, uint32_t ms);
void session_flush(struct session *s, int side);
void session_buffers_back(struct session *s);
void session_close(struct session *s, const char *why);
/* Whether the session has a deadline the worker's tick must check. */
bool session_has_deadline(const struct session *s);
void session_tick(struct session *s);
void session_evict_stalled(struct session *s);
void session_drain(struct session *s);
void session_free(struct session *s);

/* Shared by the session_*.c files. */
int session_queue(struct session *s, int side, uint8_t *ptr, uint32_t len,
		  int32_t bid, void *owned);
int session_queue_copy(struct session *s, int side, const void *p, size_t len);
void session_send_err(struct session *s, uint8_t seq, uint16_t code,
		      const char *sqlstate, const char *fmt, ...)
	__attribute__((format(printf, 5, 6)));
void session_queue_err(struct session *s, uint8_t seq, uint16_t code,
		       const char *sqlstate, const char *msg);
void session_finish(struct session *s);
/* Closes once what is queued for the client has been sent, or after
 * FLUSH_CLOSE_US if the client does not read it. */
void session_close_after_flush(struct session *s, const char *why);
void session_fail(struct session *s, uint8_t seq, uint16_t code,
		  const char *sqlstate, const char *why);
/* Ends the session because its backend is lost or the proxy stops: the
 * command in flight gets ERR code (08S01) where the protocol still allows
 * one, what is queued for the client goes out (bounded by flush_us), then
 * the connection closes. */
void session_abort(struct session *s, uint16_t code, const char *why,
		   uint64_t flush_us);
void session_arm_recv(struct session *s, int side);
bool session_idle(const struct session *s);
void session_set_str(char **dst, const char *src, size_t len);
/* Appends to the session's assembly buffer (handshake packets, commands a
 * hook must see whole), growing it up to limit bytes; -1 beyond. */
int session_asm_append(struct session *s, const void *p, size_t n,
		       uint64_t limit);

/* session_handshake.c */
void handshake_backend_data(struct session *s, uint8_t *buf, uint32_t n);
void handshake_client_data(struct session *s, uint8_t *buf, uint32_t n);

/* session_command.c */
void command_client_data(struct session *s, uint8_t *buf, uint32_t n,
			 int32_t bid);
/* Queues ERR for the command in flight if the client is between packets of
 * its response and nothing is pipelined behind it; false if not possible. */
bool command_fail_in_flight(struct session *s, uint16_t code,
			    const char *msg);
void command_backend_data(struct session *s, uint8_t *buf, uint32_t n,
			  int32_t bid);
void command_abort_all(struct session *s);

#endif
