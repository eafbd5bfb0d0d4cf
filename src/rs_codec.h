/*
 * rs_codec.h - result sets, packet by packet: column definitions, text
 * and binary rows, and their terminators, decoded and built again.  What
 * myring needs to merge the results of several shards into one.
 *
 * Pure, in the mysql_proto.h style: parsers borrow the packet's bytes
 * (nothing is copied, nothing allocated) and never read outside
 * [p, p + len); builders write into a buffer the caller sizes with the
 * matching *_size() function.  Payloads only: framing (headers, sequence
 * ids, 16 MiB splits) is pkt_buf's (mysql_srv.h).
 *
 * A result set, as the server sends it:
 *
 *   column count (lenenc)
 *   column definition x count
 *   [EOF]                          unless CLIENT_DEPRECATE_EOF
 *   row*                           text (COM_QUERY) or binary (COM_STMT_EXECUTE)
 *   EOF | OK with header 0xFE      the latter with CLIENT_DEPRECATE_EOF
 *   (or ERR instead of any row)
 */
#ifndef MYRING_RS_CODEC_H
#define MYRING_RS_CODEC_H

#include "mysql_proto.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Column types (enum_field_types). */
enum rs_type {
	RS_TYPE_DECIMAL = 0x00, RS_TYPE_TINY = 0x01, RS_TYPE_SHORT = 0x02,
	RS_TYPE_LONG = 0x03, RS_TYPE_FLOAT = 0x04, RS_TYPE_DOUBLE = 0x05,
	RS_TYPE_NULL = 0x06, RS_TYPE_TIMESTAMP = 0x07,
	RS_TYPE_LONGLONG = 0x08, RS_TYPE_INT24 = 0x09, RS_TYPE_DATE = 0x0a,
	RS_TYPE_TIME = 0x0b, RS_TYPE_DATETIME = 0x0c, RS_TYPE_YEAR = 0x0d,
	RS_TYPE_NEWDATE = 0x0e, RS_TYPE_VARCHAR = 0x0f, RS_TYPE_BIT = 0x10,
	RS_TYPE_TIMESTAMP2 = 0x11, RS_TYPE_DATETIME2 = 0x12,
	RS_TYPE_TIME2 = 0x13, RS_TYPE_JSON = 0xf5, RS_TYPE_NEWDECIMAL = 0xf6,
	RS_TYPE_ENUM = 0xf7, RS_TYPE_SET = 0xf8, RS_TYPE_TINY_BLOB = 0xf9,
	RS_TYPE_MEDIUM_BLOB = 0xfa, RS_TYPE_LONG_BLOB = 0xfb,
	RS_TYPE_BLOB = 0xfc, RS_TYPE_VAR_STRING = 0xfd, RS_TYPE_STRING = 0xfe,
	RS_TYPE_GEOMETRY = 0xff,
};

/* Column flags. */
#define RS_NOT_NULL_FLAG        0x0001u
#define RS_PRI_KEY_FLAG         0x0002u
#define RS_UNIQUE_KEY_FLAG      0x0004u
#define RS_MULTIPLE_KEY_FLAG    0x0008u
#define RS_BLOB_FLAG            0x0010u
#define RS_UNSIGNED_FLAG        0x0020u
#define RS_ZEROFILL_FLAG        0x0040u
#define RS_BINARY_FLAG          0x0080u
#define RS_ENUM_FLAG            0x0100u
#define RS_AUTO_INCREMENT_FLAG  0x0200u
#define RS_TIMESTAMP_FLAG       0x0400u
#define RS_SET_FLAG             0x0800u
#define RS_NO_DEFAULT_VALUE_FLAG 0x1000u
#define RS_ON_UPDATE_NOW_FLAG   0x2000u
#define RS_PART_KEY_FLAG        0x4000u
#define RS_NUM_FLAG             0x8000u

#define RS_CHARSET_BINARY       63u
#define RS_NOT_FIXED_DEC        31u  /* decimals of a DOUBLE/FLOAT "as is" */

/* ColumnDefinition41.  The strings borrow the packet (or the caller's
 * memory when building one). */
struct rs_coldef {
	struct mysql_str catalog;   /* "def" */
	struct mysql_str schema;
	struct mysql_str table;
	struct mysql_str org_table;
	struct mysql_str name;
	struct mysql_str org_name;
	struct mysql_str ext;       /* MariaDB extended metadata (raw block,
	                             * MARIADB_CLIENT_EXTENDED_METADATA) */
	uint16_t charset;
	uint32_t length;
	uint8_t type;               /* enum rs_type */
	uint16_t flags;
	uint8_t decimals;
};

/* The column-count packet. */
int rs_parse_column_count(const uint8_t *p, size_t len, uint64_t *count);

/* A column definition; caps are the client's (the extended metadata
 * field is there only with MARIADB_CLIENT_EXTENDED_METADATA).  Bytes after
 * the fixed fields (COM_FIELD_LIST's default value) are ignored. */
int rs_parse_coldef(const uint8_t *p, size_t len, uint64_t caps,
		    struct rs_coldef *cd);
size_t rs_coldef_size(const struct rs_coldef *cd, uint64_t caps);
size_t rs_build_coldef(uint8_t *out, const struct rs_coldef *cd,
		       uint64_t caps);

/* What a packet in the row phase is. */
enum rs_pkt_kind { RS_PKT_ROW, RS_PKT_END, RS_PKT_ERR };
static inline enum rs_pkt_kind rs_row_pkt_kind(const uint8_t *p, size_t len,
					       uint64_t caps)
{
	if (len && p[0] == 0xFF)
		return RS_PKT_ERR;
	if (len && mysql_is_terminator(p[0], (uint32_t)len,
				       caps & CLIENT_DEPRECATE_EOF))
		return RS_PKT_END;
	return RS_PKT_ROW;
}

/* The terminator after the rows (EOF, or OK with 0xFE): warnings and the
 * status flags (SERVER_MORE_RESULTS_EXISTS...). */
int rs_parse_end(const uint8_t *p, size_t len, uint64_t caps,
		 uint16_t *status, uint16_t *warnings);
/* EOF payload: 5 bytes. */
size_t rs_build_eof(uint8_t *out, uint16_t status, uint16_t warnings);
/* The terminator a client with caps expects: EOF, or an OK with header
 * 0xFE (7 bytes) with CLIENT_DEPRECATE_EOF. */
size_t rs_build_end(uint8_t *out, uint64_t caps, uint16_t status,
		    uint16_t warnings);
#define RS_END_MAX 7u

/*
 * One value of a row: the bytes of its content, without the length
 * prefix.  Text rows: the value's text.  Binary rows: the value in the
 * binary protocol's form: 1/2/4/8 little-endian bytes for integers,
 * FLOAT and DOUBLE; the string for DECIMAL, strings, BLOBs, BIT, JSON,
 * GEOMETRY, ENUM, SET; for DATE/DATETIME/TIMESTAMP (0, 4, 7 or 11 bytes)
 * and TIME (0, 8 or 12 bytes) the bytes after the length byte.
 */
struct rs_cell {
	const uint8_t *p;
	uint32_t len;
	bool null;
};

/* Text row: ncols lenenc strings or 0xFB (NULL).  -1 if malformed, also
 * if bytes are left over. */
int rs_parse_text_row(const uint8_t *p, size_t len, unsigned ncols,
		      struct rs_cell *cells);
size_t rs_text_row_size(const struct rs_cell *cells, unsigned ncols);
size_t rs_build_text_row(uint8_t *out, const struct rs_cell *cells,
			 unsigned ncols);

/* Binary row: 0x00, NULL bitmap (bit i + 2 for column i), the values
 * that are not NULL, each in its type's form.  -1 if malformed, also if
 * a value does not fit its type or bytes are left over. */
int rs_parse_binary_row(const uint8_t *p, size_t len, unsigned ncols,
			const struct rs_coldef *cols, struct rs_cell *cells);
/* cells[i] must have a length its column's type allows (as parsed). */
size_t rs_binary_row_size(const struct rs_cell *cells, unsigned ncols,
			  const struct rs_coldef *cols);
size_t rs_build_binary_row(uint8_t *out, const struct rs_cell *cells,
			   unsigned ncols, const struct rs_coldef *cols);

/* Bytes a binary-protocol value of this type always has (1, 2, 4, 8), 0
 * for a length-encoded string, or -1 for the temporal types (a length
 * byte then 0..12 bytes). */
int rs_binary_fixed_len(uint8_t type);

/* A readable type name ("NEWDECIMAL"), never NULL. */
const char *rs_type_name(uint8_t type);

#endif
