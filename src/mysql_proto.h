/*
 * mysql_proto.h - pure MySQL/MariaDB wire-protocol codec.
 *
 * No I/O, no allocation, no global state: every function works on byte
 * arrays the caller owns, so the whole layer is testable from byte strings
 * (tests/unit) and fuzzable (tests/fuzz).  Integers on the wire are
 * little-endian.  Parsers return 0 on success and -1 on malformed input and
 * never read outside [p, p + len).
 */
#ifndef MYRING_MYSQL_PROTO_H
#define MYRING_MYSQL_PROTO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MYSQL_HDR_LEN     4u
#define MYSQL_MAX_PAYLOAD 0xFFFFFFu /* a packet of this length is continued */

/* Capability flags.  Bits 32..63 are MariaDB's extended capabilities, sent
 * in the greeting's reserved bytes and the handshake response's filler when
 * the CLIENT_MYSQL bit (bit 0) is clear. */
#define CLIENT_MYSQL                          (1ull << 0)
#define CLIENT_FOUND_ROWS                     (1ull << 1)
#define CLIENT_LONG_FLAG                      (1ull << 2)
#define CLIENT_CONNECT_WITH_DB                (1ull << 3)
#define CLIENT_NO_SCHEMA                      (1ull << 4)
#define CLIENT_COMPRESS                       (1ull << 5)
#define CLIENT_ODBC                           (1ull << 6)
#define CLIENT_LOCAL_FILES                    (1ull << 7)
#define CLIENT_IGNORE_SPACE                   (1ull << 8)
#define CLIENT_PROTOCOL_41                    (1ull << 9)
#define CLIENT_INTERACTIVE                    (1ull << 10)
#define CLIENT_SSL                            (1ull << 11)
#define CLIENT_IGNORE_SIGPIPE                 (1ull << 12)
#define CLIENT_TRANSACTIONS                   (1ull << 13)
#define CLIENT_RESERVED                       (1ull << 14)
#define CLIENT_SECURE_CONNECTION              (1ull << 15)
#define CLIENT_MULTI_STATEMENTS               (1ull << 16)
#define CLIENT_MULTI_RESULTS                  (1ull << 17)
#define CLIENT_PS_MULTI_RESULTS               (1ull << 18)
#define CLIENT_PLUGIN_AUTH                    (1ull << 19)
#define CLIENT_CONNECT_ATTRS                  (1ull << 20)
#define CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA (1ull << 21)
#define CLIENT_CAN_HANDLE_EXPIRED_PASSWORDS   (1ull << 22)
#define CLIENT_SESSION_TRACK                  (1ull << 23)
#define CLIENT_DEPRECATE_EOF                  (1ull << 24)
#define CLIENT_OPTIONAL_RESULTSET_METADATA    (1ull << 25)
#define CLIENT_ZSTD_COMPRESSION_ALGORITHM     (1ull << 26)
#define CLIENT_QUERY_ATTRIBUTES               (1ull << 27)
#define CLIENT_MULTI_FACTOR_AUTHENTICATION    (1ull << 28)
#define CLIENT_SSL_VERIFY_SERVER_CERT         (1ull << 30)
#define CLIENT_REMEMBER_OPTIONS               (1ull << 31)
#define MARIADB_CLIENT_PROGRESS               (1ull << 32)
#define MARIADB_CLIENT_COM_MULTI              (1ull << 33)
#define MARIADB_CLIENT_STMT_BULK_OPERATIONS   (1ull << 34)
#define MARIADB_CLIENT_EXTENDED_METADATA      (1ull << 35)
#define MARIADB_CLIENT_CACHE_METADATA         (1ull << 36)
#define MARIADB_CLIENT_BULK_UNIT_RESULTS      (1ull << 37)

/*
 * Capabilities the proxy removes from the greeting it relays and from the
 * handshake response it forwards.  Each one either hides packet boundaries
 * (TLS, compression) or changes a packet layout the response tracker reads
 * (query attributes, optional metadata, metadata caching, progress reports
 * that arrive as ERR packets in the middle of a response).
 */
#define MYSQL_CAPS_PROXY_MASK                                                  \
	(CLIENT_SSL | CLIENT_COMPRESS | CLIENT_ZSTD_COMPRESSION_ALGORITHM |        \
	 CLIENT_QUERY_ATTRIBUTES | CLIENT_OPTIONAL_RESULTSET_METADATA |            \
	 CLIENT_MULTI_FACTOR_AUTHENTICATION | MARIADB_CLIENT_PROGRESS |            \
	 MARIADB_CLIENT_COM_MULTI | MARIADB_CLIENT_CACHE_METADATA |                \
	 MARIADB_CLIENT_BULK_UNIT_RESULTS)

/* Server status flags (OK, EOF). */
#define SERVER_STATUS_IN_TRANS        0x0001u
#define SERVER_STATUS_AUTOCOMMIT      0x0002u
#define SERVER_MORE_RESULTS_EXISTS    0x0008u
#define SERVER_STATUS_CURSOR_EXISTS   0x0040u
#define SERVER_STATUS_LAST_ROW_SENT   0x0080u
#define SERVER_SESSION_STATE_CHANGED  0x4000u

/* Commands. */
enum mysql_command {
	COM_SLEEP = 0x00, COM_QUIT = 0x01, COM_INIT_DB = 0x02, COM_QUERY = 0x03,
	COM_FIELD_LIST = 0x04, COM_CREATE_DB = 0x05, COM_DROP_DB = 0x06,
	COM_REFRESH = 0x07, COM_SHUTDOWN = 0x08, COM_STATISTICS = 0x09,
	COM_PROCESS_INFO = 0x0a, COM_CONNECT = 0x0b, COM_PROCESS_KILL = 0x0c,
	COM_DEBUG = 0x0d, COM_PING = 0x0e, COM_TIME = 0x0f,
	COM_DELAYED_INSERT = 0x10, COM_CHANGE_USER = 0x11, COM_BINLOG_DUMP = 0x12,
	COM_TABLE_DUMP = 0x13, COM_CONNECT_OUT = 0x14, COM_REGISTER_SLAVE = 0x15,
	COM_STMT_PREPARE = 0x16, COM_STMT_EXECUTE = 0x17,
	COM_STMT_SEND_LONG_DATA = 0x18, COM_STMT_CLOSE = 0x19,
	COM_STMT_RESET = 0x1a, COM_SET_OPTION = 0x1b, COM_STMT_FETCH = 0x1c,
	COM_DAEMON = 0x1d, COM_BINLOG_DUMP_GTID = 0x1e,
	COM_RESET_CONNECTION = 0x1f, COM_STMT_BULK_EXECUTE = 0xfa,
};

/* Human-readable command name ("Query", "Stmt_execute", ...); never NULL. */
const char *mysql_command_name(uint8_t cmd);

/* ---- integers and strings ------------------------------------------- */

static inline uint32_t mysql_get_u24(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16;
}
static inline uint16_t mysql_get_u16(const uint8_t *p)
{
	return (uint16_t)(p[0] | p[1] << 8);
}
static inline uint32_t mysql_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}
static inline void mysql_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
}
static inline void mysql_put_u24(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)v;
	p[1] = (uint8_t)(v >> 8);
	p[2] = (uint8_t)(v >> 16);
}
static inline void mysql_put_u32(uint8_t *p, uint32_t v)
{
	mysql_put_u16(p, (uint16_t)v);
	mysql_put_u16(p + 2, (uint16_t)(v >> 16));
}

/* Length-encoded integer at p.  Returns bytes used (1, 3, 4 or 9), or -1 if
 * truncated or the prefix is 0xFB/0xFF (NULL / ERR marker, not an integer). */
int mysql_get_lenenc(const uint8_t *p, size_t len, uint64_t *value);
/* Bytes mysql_put_lenenc() writes for v. */
size_t mysql_lenenc_size(uint64_t v);
/* Writes v length-encoded; returns the byte after it. */
uint8_t *mysql_put_lenenc(uint8_t *p, uint64_t v);

/* A borrowed byte range inside a packet. */
struct mysql_str {
	const char *ptr;
	size_t len;
};

/* Length-encoded string at p + *pos (the length must fit in [*pos, len));
 * advances *pos past it.  Returns 0, or -1 if truncated or NULL (0xFB). */
int mysql_get_lenenc_str(const uint8_t *p, size_t len, size_t *pos,
			 struct mysql_str *out);

/* ---- connection phase ------------------------------------------------ */

/* Initial Handshake v10.  Offsets are into the payload so the proxy can
 * rewrite capability bytes in place without changing any length. */
struct mysql_greeting {
	uint8_t protocol;          /* 10 */
	struct mysql_str server_version;
	uint32_t connection_id;
	uint64_t caps;             /* low | high << 16 | MariaDB ext << 32 */
	uint8_t charset;
	uint16_t status;
	const uint8_t *scramble1;  /* 8 bytes */
	const uint8_t *scramble2;  /* may be NULL */
	size_t scramble2_len;      /* without the trailing NUL */
	struct mysql_str auth_plugin; /* empty if absent */
	size_t caps_lo_off;        /* payload offset of the 2 low bytes */
	size_t caps_hi_off;        /* 2 high bytes; 0 if the packet stops before */
	size_t ext_caps_off;       /* 4 MariaDB bytes; 0 if not a MariaDB greeting */
};

/* Parses a greeting payload (after the 4-byte header).  An ERR payload
 * (0xFF) is not a greeting: returns -1; use mysql_parse_err(). */
int mysql_parse_greeting(const uint8_t *payload, size_t len,
			 struct mysql_greeting *g);
/* Rewrites the capability bytes of a parsed greeting in place. */
void mysql_greeting_set_caps(uint8_t *payload, const struct mysql_greeting *g,
			     uint64_t caps);

/* HandshakeResponse41 (or the 32-byte SSLRequest, which is a prefix of
 * it).  server_caps are the capabilities of the greeting the client saw:
 * the effective set is the intersection. */
struct mysql_handshake_response {
	uint64_t caps;             /* as sent by the client, ext in bits 32.. */
	uint32_t max_packet;
	uint8_t charset;
	bool ssl_request;          /* SSLRequest: nothing after the filler */
	struct mysql_str user;
	struct mysql_str auth;     /* auth response bytes */
	struct mysql_str schema;   /* empty if absent */
	struct mysql_str plugin;   /* empty if absent */
	struct mysql_str attrs;    /* raw key/value block, empty if absent */
	size_t ext_caps_off;       /* payload offset of MariaDB ext caps, or 0 */
};

int mysql_parse_handshake_response(const uint8_t *payload, size_t len,
				   uint64_t server_caps,
				   struct mysql_handshake_response *r);
/* Rewrites the client capability bytes (and MariaDB ext caps) in place. */
void mysql_handshake_response_set_caps(uint8_t *payload,
				       const struct mysql_handshake_response *r,
				       uint64_t caps);

/* Iterates connect attributes: *pos starts at 0; returns 1 with key/value
 * filled, 0 at the end, -1 if the block is malformed. */
int mysql_attrs_next(struct mysql_str attrs, size_t *pos,
		     struct mysql_str *key, struct mysql_str *value);

/* COM_CHANGE_USER payload (starting with the 0x11 byte). */
struct mysql_change_user {
	struct mysql_str user;
	struct mysql_str auth;
	struct mysql_str schema;
	uint16_t charset;          /* 0 if absent */
	struct mysql_str plugin;
	struct mysql_str attrs;
};
int mysql_parse_change_user(const uint8_t *payload, size_t len, uint64_t caps,
			    struct mysql_change_user *cu);

/* ---- generic response packets ---------------------------------------- */

/* OK packet payload, header byte 0x00 or 0xFE. */
struct mysql_ok {
	uint64_t affected_rows;
	uint64_t last_insert_id;
	uint16_t status;
	uint16_t warnings;
};
int mysql_parse_ok(const uint8_t *payload, size_t len, struct mysql_ok *ok);

/*
 * The whole OK packet, also what follows the warnings:
 *
 *   header(0x00|0xFE) affected(lenenc) last_insert_id(lenenc) status(2)
 *   warnings(2) [info(lenenc string)] [session state(lenenc block)]
 *
 * Both MariaDB and MySQL write the info length-encoded whatever the
 * capabilities (the "string<EOF>" of older documentation is not what
 * servers send), and omit it when it is empty and no state follows.  The
 * session-state block is there only with CLIENT_SESSION_TRACK in caps and
 * SERVER_SESSION_STATE_CHANGED in the status; its entries are read by
 * mysql_track_next() (mysql_state.h).  Unlike mysql_parse_ok(), which the
 * tracker feeds a packet's first bytes, this needs the whole payload: an
 * info or block longer than the packet is malformed (-1).  Bytes after the
 * block are ignored, as clients do.
 */
struct mysql_ok_ext {
	struct mysql_ok ok;
	struct mysql_str info;           /* empty if absent */
	struct mysql_str session_state;  /* the entries, without the block's
	                                  * length; empty if none */
	size_t status_off;               /* offset of the status flags */
	size_t tail_off;                 /* offset after the warnings (where
	                                  * the info starts) */
	size_t state_off;                /* offset of the block's length, 0
	                                  * if there is no block */
	size_t end_off;                  /* offset after the info or block */
};
int mysql_parse_ok_ext(const uint8_t *payload, size_t len, uint64_t caps,
		       struct mysql_ok_ext *ok);

/* ERR packet payload, header byte 0xFF (protocol 4.1 layout). */
struct mysql_err {
	uint16_t code;
	char sqlstate[6];          /* NUL-terminated; "HY000" if absent */
	struct mysql_str message;
};
int mysql_parse_err(const uint8_t *payload, size_t len, struct mysql_err *err);

/* EOF packet payload (0xFE, payload < 9 bytes). */
int mysql_parse_eof(const uint8_t *payload, size_t len, uint16_t *status,
		    uint16_t *warnings);

/* A 0xFE packet ends a result set only if short: EOF is < 9 bytes, and with
 * CLIENT_DEPRECATE_EOF the OK-as-EOF is anything < 0xFFFFFF.  A text row may
 * start with 0xFE when its first column is >= 16 MiB. */
static inline bool mysql_is_terminator(uint8_t first, uint32_t payload_len,
				       bool deprecate_eof)
{
	return first == 0xFE &&
	       (deprecate_eof ? payload_len < MYSQL_MAX_PAYLOAD : payload_len < 9);
}

/* Builds a complete ERR packet (header included) into out.  The message is
 * cut to fit cap.  Returns the packet length, or 0 if cap < 13. */
size_t mysql_build_err(uint8_t *out, size_t cap, uint8_t seq, uint16_t code,
		       const char *sqlstate, const char *message);
/* Builds a complete OK packet (header included); returns its length (at
 * most 4 + 1 + 9 + 9 + 2 + 2 = 27 bytes). */
size_t mysql_build_ok(uint8_t *out, uint8_t seq, uint64_t affected_rows,
		      uint64_t last_insert_id, uint16_t status,
		      uint16_t warnings);
/* Writes the 4-byte header of a packet. */
static inline void mysql_put_header(uint8_t *p, uint32_t payload_len,
				    uint8_t seq)
{
	mysql_put_u24(p, payload_len);
	p[3] = seq;
}

#endif
