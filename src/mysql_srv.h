/*
 * mysql_srv.h - the server side of the MySQL protocol, for the admin
 * port: greeting, OK/ERR and text result sets.  Pure: builds bytes into a
 * growable buffer.  Authentication (password checks, auth switch) is in
 * mysql_auth.h.
 */
#ifndef MYRING_MYSQL_SRV_H
#define MYRING_MYSQL_SRV_H

#include "mysql_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What the admin server offers: 4.1 protocol with plugin auth and
 * DEPRECATE_EOF; no TLS, no compression, no multi-statements. */
#define SRV_CAPS                                                               \
	(CLIENT_LONG_PASSWORD_FLAG | CLIENT_FOUND_ROWS | CLIENT_LONG_FLAG |         \
	 CLIENT_CONNECT_WITH_DB | CLIENT_PROTOCOL_41 | CLIENT_TRANSACTIONS |        \
	 CLIENT_SECURE_CONNECTION | CLIENT_PLUGIN_AUTH |                           \
	 CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA | CLIENT_CONNECT_ATTRS |            \
	 CLIENT_DEPRECATE_EOF | CLIENT_MULTI_RESULTS)
#define CLIENT_LONG_PASSWORD_FLAG CLIENT_MYSQL

/* Whole packets, sequence ids from seq on.  Allocation failure is sticky:
 * check oom once when done. */
struct pkt_buf {
	uint8_t *data;
	size_t len, cap;
	uint8_t seq;
	bool oom;
};

void pkt_buf_init(struct pkt_buf *pb);
void pkt_buf_free(struct pkt_buf *pb);
void pkt_buf_reset(struct pkt_buf *pb);
/* One logical packet: payloads of 0xFFFFFF bytes or more are split, an
 * exact multiple ending with an empty packet. */
void pkt_buf_packet(struct pkt_buf *pb, const void *payload, size_t len);
/* The same for a payload that is head followed by body (a command byte
 * and the text of a rewritten query). */
void pkt_buf_packet2(struct pkt_buf *pb, const void *head, size_t hlen,
		     const void *body, size_t blen);
/* Bytes with no framing (HTTP answers share the buffer type). */
void pkt_buf_append_raw(struct pkt_buf *pb, const void *p, size_t len);

void srv_scramble(uint8_t out[20]);
void srv_build_greeting(struct pkt_buf *pb, uint32_t connection_id,
			const uint8_t scramble[20], const char *server_version,
			uint64_t caps);

void srv_ok(struct pkt_buf *pb, uint64_t affected, uint16_t status,
	    const char *info);
void srv_err(struct pkt_buf *pb, uint16_t code, const char *sqlstate,
	     const char *message);

enum srv_col_type { SRV_COL_TEXT, SRV_COL_INT, SRV_COL_UINT, SRV_COL_DOUBLE };

void srv_resultset_begin(struct pkt_buf *pb, unsigned ncols);
/* caps: the client's; MariaDB's extended metadata adds a field. */
void srv_column(struct pkt_buf *pb, const char *name, enum srv_col_type type,
		uint64_t caps);
void srv_columns_end(struct pkt_buf *pb, uint64_t caps);
/* cells[i] NULL = SQL NULL. */
void srv_row(struct pkt_buf *pb, const char *const *cells, const size_t *lens,
	     unsigned ncols);
void srv_resultset_end(struct pkt_buf *pb, uint64_t caps, uint16_t status);

#endif
