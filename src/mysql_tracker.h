/*
 * mysql_tracker.h - knows where each server response ends.
 *
 * Fed the frames of the server->client stream (mysql_framer), the tracker
 * follows one command's response packet by packet, looking only at each
 * packet's first bytes, and says when the response is complete.  It also
 * keeps what statistics and the query log report: rows, affected rows,
 * error code, status flags.
 *
 * RESP_RESULT (COM_QUERY, COM_STMT_EXECUTE, ...):
 *
 *   FIRST --OK(no MORE_RESULTS)/ERR--> done
 *     |  \--0xFB--> AFTER_INFILE --OK/ERR--> done (or FIRST if MORE_RESULTS)
 *     |  \--OK with MORE_RESULTS--> FIRST
 *     v column count n
 *   COLDEFS (n packets) --> COLDEF_EOF (unless DEPRECATE_EOF; done here if
 *     |                      the status says a cursor was opened)
 *     v
 *   ROWS --terminator--> done, or FIRST if MORE_RESULTS;  --ERR--> done
 *
 * RESP_PREPARE: PREPARE_OK, then params (+EOF), then columns (+EOF); ERR.
 * RESP_FETCH: ROWS.  RESP_FIELD_LIST: column definitions until a
 * terminator.  RESP_AUTH: AuthSwitch (0xFE) / AuthMoreData (0x01) packets
 * until OK or ERR.  RESP_SINGLE: any one packet.
 */
#ifndef MYRING_MYSQL_TRACKER_H
#define MYRING_MYSQL_TRACKER_H

#include "mysql_framer.h"

#include <stdbool.h>
#include <stdint.h>

enum mysql_resp_kind {
	RESP_NONE,       /* no response: COM_QUIT, STMT_CLOSE, STMT_SEND_LONG_DATA */
	RESP_SINGLE,     /* exactly one packet (OK/ERR/EOF, COM_STATISTICS text) */
	RESP_RESULT,     /* OK | ERR | LOCAL INFILE | result set(s) */
	RESP_PREPARE,    /* PREPARE_OK + parameter and column definitions | ERR */
	RESP_FETCH,      /* binary rows + terminator | ERR */
	RESP_FIELD_LIST, /* column definitions + terminator | ERR */
	RESP_AUTH,       /* auth switch / more data until OK | ERR */
	RESP_STREAM,     /* never ends (binlog dump): refused by the proxy */
};

/* What the server answers to a command byte. Unknown commands get
 * RESP_SINGLE: the server replies with one ERR. */
enum mysql_resp_kind mysql_response_kind(uint8_t cmd);

enum mysql_track_result {
	TRACK_MORE,          /* the response continues */
	TRACK_DONE,          /* this packet ended the response */
	TRACK_LOCAL_INFILE,  /* 0xFB: the client now streams a file (ended by
	                      * an empty packet); the response continues */
	TRACK_BAD,           /* impossible packet here: stream out of sync */
};

struct mysql_tracker {
	uint8_t kind;            /* enum mysql_resp_kind */
	uint8_t state;           /* private */
	bool deprecate_eof;
	uint32_t left;           /* definitions still to come in this block */
	uint16_t prep_columns;   /* PREPARE_OK: columns after the parameters */
	uint16_t prep_params;    /* PREPARE_OK: parameters */
	/* outcome */
	uint64_t rows;           /* rows sent, over all result sets */
	uint64_t affected_rows;  /* summed over OK packets */
	uint64_t last_insert_id;
	uint64_t insert_id;      /* the last nonzero one of its OKs */
	uint32_t stmt_id;        /* PREPARE_OK */
	uint32_t result_sets;
	uint16_t status;         /* last server status flags seen */
	uint16_t status_seen;    /* every flag any of its packets carried */
	bool has_status;         /* a packet carried a status (an ERR alone
	                          * does not: the session's is unchanged) */
	bool state_in_eof;       /* an EOF outside a transaction said the
	                          * session changed (an EOF cannot say how) */
	bool ok_state;           /* the packet just fed is an OK whose status
	                          * says the session changed: its tail holds
	                          * the session-state entries */
	uint16_t err_code;       /* 0 unless the response ended with ERR */
};

void mysql_tracker_start(struct mysql_tracker *t, enum mysql_resp_kind kind,
			 bool deprecate_eof);

/* Feeds one frame of the server's stream.  Continuation frames are
 * ignored (TRACK_MORE). */
enum mysql_track_result mysql_tracker_feed(struct mysql_tracker *t,
					   const struct mysql_frame *f);

/* Follows a whole response held in pkts (e.g. one the proxy built
 * itself) so that t says what it carries: rows, affected rows, error.
 * 0 if it ends exactly at len, -1 if it is incomplete, longer or
 * malformed. */
int mysql_tracker_run(struct mysql_tracker *t, enum mysql_resp_kind kind,
		      bool deprecate_eof, uint8_t *pkts, size_t len);

#endif
