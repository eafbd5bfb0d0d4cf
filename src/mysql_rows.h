/*
 * mysql_rows.h - a small reader of the text result sets that answer
 * myring's own COM_QUERY (the health checker's SELECT and SHOW): whole
 * packets in, column names and the cells of each row out.
 *
 * Pure: no I/O, no allocation.  It follows one response:
 *
 *   START --OK--------------------------------------------> DONE
 *     |  --ERR-------------------------------------------> ERR
 *     | column count
 *     v
 *   COLUMNS --n definitions--> [COLUMNS_EOF --EOF--]--> ROWS --row--> ROWS
 *                                                        |
 *                     EOF / OK-as-EOF (CLIENT_DEPRECATE_EOF) --> DONE
 *                     ERR --------------------------------------> ERR
 *
 * and a terminator carrying SERVER_MORE_RESULTS_EXISTS starts over at
 * START for the next result of the same response.  It is private to the
 * checker; the proxy's forwarding path never parses rows.
 */
#ifndef MYRING_MYSQL_ROWS_H
#define MYRING_MYSQL_ROWS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ROWS_MAX_COLS 128    /* SHOW ALL SLAVES STATUS has about 60 */
#define ROWS_NAME_MAX 64     /* a longer column name is cut */

enum rows_event {
	ROWS_MORE,           /* taken in; feed the next packet */
	ROWS_ROW,            /* a row: its ncols cells are filled */
	ROWS_DONE,           /* the response ended well (OK or last EOF) */
	ROWS_ERR,            /* the server's ERR ended it: err_code, err_msg */
	ROWS_BAD,            /* not a response this reader can follow */
};

/* One cell of a row: bytes inside the packet fed, valid until the next
 * packet. */
struct rows_cell {
	const char *ptr;
	size_t len;
	bool null;
};

struct rows_reader {
	bool deprecate_eof;  /* negotiated: no EOF after the columns, an OK
	                      * (header 0xFE) ends the rows */
	uint8_t state;
	unsigned ncols;
	unsigned ncols_seen;
	uint16_t status;     /* of the terminator */
	uint16_t err_code;
	char err_state[6];
	char err_msg[256];
	char names[ROWS_MAX_COLS][ROWS_NAME_MAX];
};

void rows_init(struct rows_reader *r, bool deprecate_eof);

/* One whole packet's payload.  cells must hold ROWS_MAX_COLS. */
enum rows_event rows_feed(struct rows_reader *r, const uint8_t *payload,
			  size_t len, struct rows_cell *cells);

/* The index of the column called name (ASCII case ignored), or -1. */
int rows_column(const struct rows_reader *r, const char *name);

/* Whether the cell is not NULL and says s (ASCII case ignored). */
bool rows_cell_is(const struct rows_cell *c, const char *s);
/* The cell as an unsigned decimal: 0, or -1 when NULL or not a number. */
int rows_cell_u64(const struct rows_cell *c, uint64_t *v);

#endif
