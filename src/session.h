/*
 * session.h - a client session, and the backend connection it is linked
 * to while they work together.
 *
 * Two objects, each with a socket of its own (struct conn):
 *
 *   struct session        the client: its framer, capabilities, identity,
 *                         the commands it owes answers to, hook state
 *   struct bconn          one server connection: its framer, the tracker
 *                         that follows the response in progress
 *
 * linked while they work together (s->be, b->link; PgBouncer's `link`):
 * each is the other's feeder for backpressure, and the backend's data goes
 * to the session's response handler.  Today a session creates its bconn
 * when it is accepted and keeps it for life (pass-through: the client
 * authenticates with the server itself).
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
 * Lifecycle flags (session_done() is "stop working on this session"):
 *   closing      both conns are being torn down; freed when both are gone
 *   flush_close  nothing more is read; close once the client has read
 *                what is queued for it (or after a deadline)
 *   discarding   reading and dropping the rest of a refused command
 *   quit         the client sent COM_QUIT
 *
 * Invariants:
 *  - the session is freed only when its client conn and its backend conn
 *    (if any) have both been released, so no completion refers to it.
 *  - pend[] holds, in order, the commands whose responses have not ended;
 *    be->trk follows the response of the head entry.
 *  - backend-bound bytes go to be->c's queue, except while `hold`: then
 *    they are copied to `parked` (nothing pins a receive buffer while a
 *    delay rule holds the command) and move to the queue when released.
 */
#ifndef MYRING_SESSION_H
#define MYRING_SESSION_H

#include "backend.h"
#include "conn.h"
#include "mysql_framer.h"
#include "mysql_tracker.h"
#include "pins.h"
#include "session_effects.h"
#include "pool.h"
#include "stmt_cache.h"
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
/* A pooled session killed by another's KILL: the same code. */
#define ER_CONNECTION_KILLED 1927

/* Pass-through sessions relay the server's handshake (CONNECTING ..
 * AUTH); proxy-auth sessions greet and check the client themselves
 * (LOGIN .. LOGIN_SYNC).  Both end in COMMAND. */
enum phase {
	PH_CONNECTING, PH_GREETING, PH_HANDSHAKE, PH_AUTH,
	PH_LOGIN,          /* myring's greeting sent; handshake response due */
	PH_LOGIN_SWITCH,   /* auth switch sent; the client's answer due */
	PH_LOGIN_SYNC,     /* checking the requested schema on a backend */
	PH_COMMAND,
};

/* What the client's packets are, in the command phase. */
enum client_mode {
	CM_COMMAND,        /* each logical packet is a command */
	CM_RELAY,          /* auth data of a COM_CHANGE_USER exchange */
	CM_INFILE,         /* LOAD DATA LOCAL file contents, until empty packet */
};

/* Disposition of the client packet in progress (command phase). */
enum disp { DISP_FORWARD, DISP_DROP, DISP_ASSEMBLE };

/* Why backend-bound bytes are parked instead of queued (session.hold). */
enum hold_reason {
	HOLD_DELAY = 0x1,  /* a delay rule's timer runs */
	HOLD_BORROW = 0x2, /* waiting for a pooled backend connection */
	HOLD_SYNC = 0x4,   /* the borrowed connection is being brought to the
	                    * session's state */
	HOLD_FANOUT = 0x8, /* a statement over several shards is being
	                    * answered (session_shard.h) */
};

struct pending {
	uint8_t cmd;
	uint8_t kind;              /* enum mysql_resp_kind; RESP_NONE: local */
	uint8_t seq_delta;         /* added to response seq ids (rewrites) */
	bool local;                /* answered by the proxy: reply below */
	bool hooked;               /* hooks get on_result */
	bool answered;             /* local reply is a hook's fixed answer */
	bool rejected;
	uint16_t local_err;        /* error code of the local reply */
	uint8_t reply_seq;         /* sequence id of its response's first packet */
	uint8_t zseq;              /* compressed client: its response's first
	                            * frame (the client's last frame + 1) */
	uint32_t serial;           /* stays with the entry when others move */
	/* Pooled sessions: a request of myring's own (its response is not
	 * the client's), or, with `client`, a client's command whose
	 * response is replaced by `reply` (the error of the request made
	 * for it). */
	bool internal;
	bool client;
	/* Pooled: what its text does to the session's connection
	 * (session_effects.h), MYSQL_APPLY_* for its OKs, and whether every
	 * session change it makes is known from its text. */
	struct cmd_effects *effects;
	uint8_t apply_opts;
	bool explained;
	uint64_t prep_key;         /* COM_STMT_PREPARE: the statement's key */
	char *prep_sql;            /* its text, NUL, its schema */
	uint32_t prep_sql_len;
	uint64_t types_hash;       /* the types the next command carries */
	uint8_t *stmt_cmd;         /* a statement command waiting for a
	                            * connection to be resolved on */
	uint32_t stmt_cmd_len;
	bool resets;               /* COM_RESET_CONNECTION (pooled) */
	struct sdir_entry *kill_hold; /* a KILL QUERY's target, held */
	bool local_result_set;     /* the local reply is a result set */
	uint64_t local_rows;       /* what the local reply carries */
	uint64_t local_affected;
	const char *route;         /* backend group a rule chose, or NULL */
	int16_t server;            /* where it was sent (pooled), -1 none */
	const char *route_why;     /* and why (the query log says it) */
	bool prep_read_only;       /* COM_STMT_PREPARE of a read */
	uint8_t hints;             /* SQL_HINT_* of its comments */
	/* A read sent to a replica, kept (framed) until its response
	 * starts: if the replica dies first it goes to another, once. */
	uint8_t *retry;
	uint32_t retry_len;
	bool retried;
	uint64_t start_us;
	uint8_t *reply;            /* local reply packet(s) */
	/* A statement over several shards, answered by myring as the
	 * shards answer (session_shard.h); NULL once its answer is whole. */
	struct fanout *fanout;
	/* A statement, COMMIT or ROLLBACK of a transaction over several
	 * shards, run by myring (session_xa.h). */
	struct xa_op *xa;
	uint32_t reply_len;
	char *new_schema;          /* adopted when the response is OK */
	char *new_user;
	void *cookies[MYRING_MAX_HOOKS];
};

/* Bytes parked for the backend while the session holds them (copies),
 * or, with len 0, the place of a prepared-statement command that is
 * resolved against the connection once there is one (the pending entry
 * with `serial`, or the statement `stmt_id` to forget). */
struct parked {
	struct parked *next;
	uint32_t len;
	uint32_t serial;
	uint32_t stmt_id;
	uint8_t data[];
};

struct session {
	struct conn c;             /* the client's socket */
	struct bconn *be;          /* linked backend connection, or NULL */
	struct pool *pool;         /* where it borrows them (auth: proxy): the
	                            * pool of the server its command goes to */
	struct pool_key pool_key;  /* its login's key; .server varies */
	unsigned group;            /* its default backend group */
	/* Causal reads: a replica must have applied this GTID before the
	 * read runs (set when the read is routed, sent when it attaches). */
	char causal_gtid[64];
	uint32_t causal_timeout_ms;
	bool causal_wait;          /* to send with the next attach */
	bool causal_sent;          /* sent: an error of its falls back */
	struct pool_waiter wait;   /* its place in the pool's line */
	uint32_t pins;             /* enum pin_reason bits */
	bool in_trans;             /* the server said a transaction is open */
	/* Keyspace: a BEGIN not sent yet.  Which shard a transaction runs
	 * on is known only at its first statement: the BEGIN goes ahead of
	 * that one, on that shard's connection (session_shard.c). */
	char *shard_begin;
	/* Keyspace: its transaction spans shards (session_xa.h). */
	struct xa_txn *xa;
	/* Keyspace: statements over several shards not answered yet; the
	 * commands behind them wait (HOLD_FANOUT) until there are none. */
	uint16_t fanouts;
	bool login_rerouted;       /* the login's schema check went to
	                            * another server once (session_pool.c) */
	bool give_back;            /* return the connection once this turn's
	                            * response bytes are queued */
	uint32_t conn_id;          /* the id myring's greeting gave it */
	struct sdir_entry *dir;    /* auth: proxy: what other workers see of
	                            * it, for KILL (session_dir.h) */
	bool release_deferred;     /* its connection is held by a KILL QUERY */
	unsigned user_idx;         /* in cfg.users (auth: proxy) */
	uint8_t scramble[20];      /* of myring's greeting */
	struct auth_server *auth;  /* the login exchange, while it runs */
	uint8_t login_seq;         /* next sequence id of the login exchange */
	uint8_t charset;           /* collation of the client's handshake */
	/* auth: proxy: the client's session as the server reported it, what
	 * a borrowed connection is brought to (mysql_state.h). */
	struct mysql_sess_state st;
	struct sess_resources *res; /* what lives on its connection
	                            * (session_effects.c), or NULL */
	bool state_moved;          /* st changed while linked: the
	                            * connection's copy is refreshed */
	uint8_t phase;
	uint8_t client_mode;
	uint8_t disp;
	uint8_t hold;              /* enum hold_reason bits */
	bool closing;              /* teardown begun; no new operations */
	bool flush_close;          /* close once the client's queue is sent */
	const char *flush_close_why; /* logged when that close happens */
	bool deprecate_eof;
	bool quit;                 /* client sent COM_QUIT */
	bool discarding;           /* reading the rest of a refused command */
	uint8_t held_len;          /* bytes in held_hdr[] */
	uint8_t cmd_last_seq;      /* seq of the last packet of the command */
	/* TLS and compression on each leg (xprt.h).  hr_seq: sequence id of
	 * the client's handshake response (2 after its SSLRequest), whose
	 * difference with the one sent to the server renumbers the relayed
	 * login exchange. */
	bool client_tls;
	bool backend_tls;
	bool backend_offers_tls;   /* the server's greeting has CLIENT_SSL */
	bool client_z;             /* the client leg is compressed */
	bool backend_z;            /* the backend leg is compressed */
	bool zstart_pending;       /* the login's OK is still being relayed */
	uint8_t hr_seq;
	uint32_t zstart_skip;      /* bytes of it in later buffers */
	uint32_t zflight_serial;   /* the pending entry whose response the
	                            * client's compressed flight numbers */
	uint8_t zflight_seq;
	bool bflight_due;          /* the client's next bytes for the server
	                            * continue an exchange (LOCAL INFILE, auth
	                            * relay): a flight numbered bflight_seq */
	uint8_t bflight_seq;
	uint64_t caps;             /* effective capabilities */
	uint64_t server_caps;
	uint64_t cmd_bytes;        /* payload bytes of the command so far */
	/* One deadline at a time, checked by the worker's tick: the backend's
	 * greeting (PH_GREETING), the flush of a final packet (flush_close),
	 * or the next byte of a refused command (discarding). */
	uint64_t deadline_us;
	struct mysql_framer fr;    /* frames the bytes the client sends */
	struct pending *pend;
	uint32_t pend_head, pend_count, pend_cap, pend_serial;
	/* Prepared statements under myring's ids (pooled; stmt_cache.h). */
	struct stmt_clients stmts;
	bool stmt_raw;             /* not mapped: the server's ids pass */
	uint64_t stmt_reprepares;  /* statements prepared again elsewhere */
	struct parked *parked, **parked_tail;
	/* A client packet being copied because it spans buffers and must be
	 * seen whole (handshake, or a command a hook wants the text of). */
	uint8_t *asm_buf;
	uint32_t asm_len, asm_cap, asm_need;
	bool asm_more;             /* another packet of the command follows */
	uint8_t held_hdr[4 + MYSQL_PEEK];
	uint64_t delay_until_us;
	char *user;
	char *schema;
	char client_addr[64];
	int client_family;         /* of the peer address, for rules */
	uint8_t client_ip[16];
	struct myring_session info;
};

/* The session a client conn belongs to, or NULL for any other conn. */
struct session *session_of(struct conn *c);

/* Stop working on s: it is closing or only flushing its last bytes. */
static inline bool session_done(const struct session *s)
{
	return s->closing || s->flush_close;
}

/* worker.c calls these. */
void session_accepted(struct worker *w, int fd);
void session_close(struct session *s, const char *why);
/* Whether the session has a deadline the worker's tick must check. */
bool session_has_deadline(const struct session *s);
void session_tick(struct session *s);
void session_drain(struct session *s);

/* Shared by the session_*.c files. */
int session_to_client(struct session *s, uint8_t *ptr, uint32_t len,
		      int32_t bid, void *owned);
int session_to_client_copy(struct session *s, const void *p, size_t len);
int session_to_backend(struct session *s, uint8_t *ptr, uint32_t len,
		       int32_t bid, void *owned);
int session_to_backend_copy(struct session *s, const void *p, size_t len);
/* Parks the place of a statement command (see struct parked). */
int session_park_stmt(struct session *s, uint32_t serial, uint32_t stmt_id);
/* Parked bytes are dropped (what they were for failed). */
void session_drop_parked(struct session *s);
/* Backend-bound bytes wait (parked) while any hold reason is set. */
void session_hold(struct session *s, unsigned reason);
void session_release(struct session *s, unsigned reason);
void session_delay(struct session *s, uint32_t ms);
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
bool session_idle(const struct session *s);
void session_set_str(char **dst, const char *src, size_t len);
/* Appends to the session's assembly buffer (handshake packets, commands a
 * hook must see whole), growing it up to limit bytes; -1 beyond. */
int session_asm_append(struct session *s, const void *p, size_t n,
		       uint64_t limit);
/* Collects stream bytes of the connection phase until asm_buf holds one
 * whole packet: 1 when it does (asm_len == 4 + payload), 0 when more
 * bytes are needed, -1 on a packet that is too large or trailing bytes
 * after it. */
int session_asm_packet(struct session *s, const uint8_t *buf, uint32_t n);

/* Collects stream bytes of the connection phase until asm_buf holds one
 * whole packet, taking no byte beyond it (*used: how many were taken):
 * 1 when it does, 0 when more are needed, -1 on a packet too large. */
int session_asm_take(struct session *s, const uint8_t *buf, uint32_t n,
		     uint32_t *used);
/* The client's leg turns to TLS after its SSLRequest (rest: bytes that
 * followed the SSLRequest in the same receive).  false: it could not. */
bool session_start_client_tls(struct session *s, const uint8_t *rest,
			      uint32_t rest_len);
/* The error MySQL 8 sends under require_secure_transport (SQLSTATE
 * HY000), which drivers recognise; MariaDB 10.11 answers such a login
 * with a plain 1045 "Access denied", which hides the reason. */
#define ER_SECURE_TRANSPORT_REQUIRED 3159

/* Compressed client leg: the bytes queued from now on answer the pending
 * entry serial, whose flight of frames starts at zseq. */
void session_client_flight(struct session *s, uint32_t serial, uint8_t zseq);
/* The same for the head of the pending queue, if the server answers it. */
void session_client_flight_head(struct session *s);
/* An answer myring builds (a fanout's, a distributed transaction's) has
 * grown by out: it goes to the client's queue as part of the entry serial
 * (its compressed flight announced once, *flight), or is dropped when the
 * session is done.  out is left empty, its sequence id kept; out of
 * memory closes the session.  True when the bytes went to the client. */
bool session_answer_flush(struct session *s, struct pkt_buf *out,
			  bool *flight, uint32_t serial, uint8_t zseq);
/* The login ended with the server's OK: compression (if negotiated) takes
 * over each leg from the next byte. */
void session_login_done_compress(struct session *s);

/* session_handshake.c */
void handshake_backend_data(struct session *s, uint8_t *buf, uint32_t n);
void handshake_client_data(struct session *s, uint8_t *buf, uint32_t n);

/* session_login.c: myring greets and checks the client (auth: proxy) */
void login_greet(struct session *s);
void login_client_data(struct session *s, uint8_t *buf, uint32_t n);
/* COM_CHANGE_USER of a pooled session: a login as another user. */
void login_change_user(struct session *s, const uint8_t *payload, size_t len);
/* The requested schema checked out (PH_LOGIN_SYNC): the client is in. */
void login_done(struct session *s);
void login_failed(struct session *s, uint16_t code, const char *sqlstate,
		  const char *msg);

/* session_pool.c: pooled backend connections (auth: proxy) */
/* Makes sure the session has a backend for the command being received:
 * linked now, or coming (bytes parked).  false: none can come; the
 * caller answers err/msg. */
bool pooled_backend(struct session *s, uint16_t *err, char *msg,
		    size_t msglen);
/* What a command means for a pooled session (pins, refusals), and a
 * backend for it; returns the verdict. */
enum myring_verdict pooled_command(struct session *s, struct pending *p,
				   const struct myring_command *c,
				   const uint8_t *payload, size_t len,
				   struct myring_reply *reply,
				   enum myring_verdict verdict);
/* The response to p ended on s->be: what it says about the session
 * (transaction, state changes); sets give_back. */
void pooled_response_done(struct session *s, struct pending *p);
/* The connection died with a read of the session on it that no byte of
 * its answer has left: it goes to another server, once.  false when it
 * cannot be (the caller fails the session as usual). */
bool pooled_retry_read(struct session *s, const char *why);
/* After a response: give the connection back if nothing holds it. */
void pooled_maybe_return(struct session *s);
/* The session ends: its connection goes back, or is closed. */
void pooled_release(struct session *s);
/* Links b to s for a command (pool.c lent it). */
void session_link(struct session *s, struct bconn *b);
void session_unlink(struct session *s);
/* The response of the pending head has started on s->be (or a borrowed
 * connection arrived with commands waiting): track it. */
void command_start_tracking(struct session *s);
/* p is answered by the proxy (reply's error, or OK when it has none), in
 * its turn among the responses. */
void command_answer_locally(struct session *s, struct pending *p,
			    const struct myring_reply *reply);
/* A command answered by the proxy because no backend came. */
void command_fail_head_locally(struct session *s, uint16_t code,
			       const char *msg);

/* session_route.c: the server of the group (NULL: the session's) that the
 * next command goes to (read: it may go to a replica).  0, or -1 with
 * err and msg. */
/* reply answers with an OK of this status (reply->answer NULL when out
 * of memory). */
void session_reply_ok(struct myring_reply *reply, uint16_t status);

int route_choose(struct session *s, const char *group, bool read,
		 int exclude, unsigned *out, const char **why, uint16_t *err,
		 char *msg, size_t msglen);

/* session_track.c */
void session_pin(struct session *s, unsigned reason);
void session_unpin(struct session *s, unsigned reason);
/* The session's pins become exactly pins (counted and gauged). */
void session_set_pins(struct session *s, uint32_t pins);
/* COM_RESET_CONNECTION: the session is as a fresh one, its schema kept;
 * no pin holds it any more. */
void session_state_fresh(struct session *s);
/* An OK carrying session-state entries (payload, len), copied whole from
 * the linked pooled connection: the session's state is updated (or the
 * session pinned), and the packet rewritten in place for the client.
 * Returns its new payload length. */
long session_track_ok(struct session *s, uint8_t *payload, size_t len);

/* session_pend.c: the commands a session owes answers to */
struct pending *pend_at(struct session *s, uint32_t i);
struct pending *pend_push(struct session *s);
/* A new entry just before p (p and those after it move back one). */
struct pending *pend_insert_before(struct session *s, struct pending *p);
void pend_remove(struct session *s, struct pending *p);
struct pending *pend_next_of(struct session *s, const struct pending *p);
struct pending *pend_by_serial(struct session *s, uint32_t serial);
void start_tracking_head(struct session *s);
/* The head's response ended (or the session is going away). */
void complete_head(struct session *s, bool aborted);
/* Sends the replies of local (rejected) commands now at the head, then
 * starts tracking the next forwarded command. */
void inject_local_heads(struct session *s);

/* session_stmt.c: prepared statements of pooled sessions */
enum stmt_action {
	STMT_FORWARD,    /* the command goes as it came (its id rewritten) */
	STMT_REPLACE,    /* *out replaces it (whole packets) */
	STMT_DROP,       /* nothing goes, nothing is answered */
	STMT_LOCAL,      /* answered with reply's error */
	STMT_OK,         /* answered with OK */
	STMT_FAIL,       /* out of memory */
};
/* Whether the session's statement ids are myring's own. */
bool stmt_mapped(const struct session *s);
void stmt_session_init(struct session *s);
void stmt_session_free(struct session *s);
/* COM_STMT_CLOSE: myring's id is forgotten (and the pins it held). */
void stmt_forget(struct session *s, uint32_t id);
/* A client's COM_STMT_PREPARE of sql (as sent to the server). */
void stmt_on_prepare(struct session *s, struct pending *p, const char *sql,
		     size_t len);
/* Its PREPARE_OK (frame f; the packet's first held_len bytes in held,
 * the rest at tail): registered, and its id replaced in place. */
void stmt_prepare_ok(struct session *s, struct pending *p,
		     const struct mysql_frame *f, uint8_t *held,
		     size_t held_len, uint8_t *tail);
/* A PREPARE of myring's own (internal entry p) was answered. */
void stmt_reprepared(struct session *s, struct pending *p);
/* A statement command (EXECUTE, SEND_LONG_DATA, RESET, FETCH) for the
 * linked connection; its id is rewritten in payload, or *out replaces
 * it, a PREPARE of myring's own inserted before p when the connection
 * lacks the statement. */
enum stmt_action stmt_resolve(struct session *s, struct pending *p,
			      uint8_t *payload, size_t len,
			      struct myring_reply *reply, uint8_t **out,
			      size_t *out_len);
/* A parked statement command's turn has come (the connection is linked). */
void stmt_release_parked(struct session *s, const struct parked *pk);

/* session_command.c */
void command_client_data(struct session *s, uint8_t *buf, uint32_t n,
			 int32_t bid);
/* Queues ERR for the command in flight if the client is between packets of
 * its response and nothing is pipelined behind it; false if not possible. */
bool command_fail_in_flight(struct session *s, uint16_t code,
			    const char *msg);
/* A long packet body the server is sending goes by splice once the
 * backend's receive has stopped and the client has been sent everything
 * queued before it (splice.h); called when either may have happened. */
void session_splice_try(struct session *s);
void command_backend_data(struct session *s, uint8_t *buf, uint32_t n,
			  int32_t bid);
void command_abort_all(struct session *s);

#endif
