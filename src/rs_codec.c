#include "rs_codec.h"

#include <string.h>

/* ---- column count and definitions ---------------------------------------- */

int rs_parse_column_count(const uint8_t *p, size_t len, uint64_t *count)
{
	int used = mysql_get_lenenc(p, len, count);

	/* 0x00 would be an OK packet, 0xFE an EOF: not a column count. */
	if (used < 0 || (size_t)used != len || *count == 0 || p[0] == 0xFE)
		return -1;
	return 0;
}

int rs_parse_coldef(const uint8_t *p, size_t len, uint64_t caps,
		    struct rs_coldef *cd)
{
	size_t pos = 0;
	uint64_t fixed;
	int used;

	memset(cd, 0, sizeof(*cd));
	if (mysql_get_lenenc_str(p, len, &pos, &cd->catalog) ||
	    mysql_get_lenenc_str(p, len, &pos, &cd->schema) ||
	    mysql_get_lenenc_str(p, len, &pos, &cd->table) ||
	    mysql_get_lenenc_str(p, len, &pos, &cd->org_table) ||
	    mysql_get_lenenc_str(p, len, &pos, &cd->name) ||
	    mysql_get_lenenc_str(p, len, &pos, &cd->org_name))
		return -1;
	if ((caps & MARIADB_CLIENT_EXTENDED_METADATA) &&
	    mysql_get_lenenc_str(p, len, &pos, &cd->ext))
		return -1;
	used = mysql_get_lenenc(p + pos, len - pos, &fixed);
	/* charset 2, length 4, type 1, flags 2, decimals 1 (+ 2 filler). */
	if (used < 0 || fixed < 10 || fixed > len - pos - (size_t)used)
		return -1;
	pos += (size_t)used;
	cd->charset = mysql_get_u16(p + pos);
	cd->length = mysql_get_u32(p + pos + 2);
	cd->type = p[pos + 6];
	cd->flags = mysql_get_u16(p + pos + 7);
	cd->decimals = p[pos + 9];
	return 0;
}

static size_t str_size(struct mysql_str s)
{
	return mysql_lenenc_size(s.len) + s.len;
}

static uint8_t *put_str(uint8_t *out, struct mysql_str s)
{
	out = mysql_put_lenenc(out, s.len);
	if (s.len)
		memcpy(out, s.ptr, s.len);
	return out + s.len;
}

size_t rs_coldef_size(const struct rs_coldef *cd, uint64_t caps)
{
	size_t n = str_size(cd->catalog) + str_size(cd->schema) +
		   str_size(cd->table) + str_size(cd->org_table) +
		   str_size(cd->name) + str_size(cd->org_name) + 1 + 12;

	if (caps & MARIADB_CLIENT_EXTENDED_METADATA)
		n += str_size(cd->ext);
	return n;
}

size_t rs_build_coldef(uint8_t *out, const struct rs_coldef *cd,
		       uint64_t caps)
{
	uint8_t *o = out;

	o = put_str(o, cd->catalog);
	o = put_str(o, cd->schema);
	o = put_str(o, cd->table);
	o = put_str(o, cd->org_table);
	o = put_str(o, cd->name);
	o = put_str(o, cd->org_name);
	if (caps & MARIADB_CLIENT_EXTENDED_METADATA)
		o = put_str(o, cd->ext);
	*o++ = 0x0C;
	mysql_put_u16(o, cd->charset);
	mysql_put_u32(o + 2, cd->length);
	o[6] = cd->type;
	mysql_put_u16(o + 7, cd->flags);
	o[9] = cd->decimals;
	o[10] = 0;
	o[11] = 0;
	return (size_t)(o + 12 - out);
}

/* ---- terminators --------------------------------------------------------- */

int rs_parse_end(const uint8_t *p, size_t len, uint64_t caps,
		 uint16_t *status, uint16_t *warnings)
{
	struct mysql_ok ok;

	if (rs_row_pkt_kind(p, len, caps) != RS_PKT_END)
		return -1;
	if (!(caps & CLIENT_DEPRECATE_EOF))
		return mysql_parse_eof(p, len, status, warnings);
	if (mysql_parse_ok(p, len, &ok))
		return -1;
	*status = ok.status;
	*warnings = ok.warnings;
	return 0;
}

size_t rs_build_eof(uint8_t *out, uint16_t status, uint16_t warnings)
{
	out[0] = 0xFE;
	mysql_put_u16(out + 1, warnings);
	mysql_put_u16(out + 3, status);
	return 5;
}

size_t rs_build_end(uint8_t *out, uint64_t caps, uint16_t status,
		    uint16_t warnings)
{
	if (!(caps & CLIENT_DEPRECATE_EOF))
		return rs_build_eof(out, status, warnings);
	out[0] = 0xFE;
	out[1] = 0;                  /* affected rows */
	out[2] = 0;                  /* last insert id */
	mysql_put_u16(out + 3, status);
	mysql_put_u16(out + 5, warnings);
	return 7;
}

/* ---- text rows --------------------------------------------------------- */

int rs_parse_text_row(const uint8_t *p, size_t len, unsigned ncols,
		      struct rs_cell *cells)
{
	size_t pos = 0;

	for (unsigned i = 0; i < ncols; i++) {
		struct mysql_str s;

		if (pos < len && p[pos] == 0xFB) {
			cells[i] = (struct rs_cell){.p = p + pos, .null = true};
			pos++;
			continue;
		}
		if (mysql_get_lenenc_str(p, len, &pos, &s) || s.len > UINT32_MAX)
			return -1;
		cells[i] = (struct rs_cell){(const uint8_t *)s.ptr,
					    (uint32_t)s.len, false};
	}
	return pos == len ? 0 : -1;
}

size_t rs_text_row_size(const struct rs_cell *cells, unsigned ncols)
{
	size_t n = 0;

	for (unsigned i = 0; i < ncols; i++)
		n += cells[i].null ? 1 : mysql_lenenc_size(cells[i].len) +
						 cells[i].len;
	return n;
}

size_t rs_build_text_row(uint8_t *out, const struct rs_cell *cells,
			 unsigned ncols)
{
	uint8_t *o = out;

	for (unsigned i = 0; i < ncols; i++) {
		if (cells[i].null) {
			*o++ = 0xFB;
			continue;
		}
		o = mysql_put_lenenc(o, cells[i].len);
		if (cells[i].len)
			memcpy(o, cells[i].p, cells[i].len);
		o += cells[i].len;
	}
	return (size_t)(o - out);
}

/* ---- binary rows ----------------------------------------------------------- */

int rs_binary_fixed_len(uint8_t type)
{
	switch (type) {
	case RS_TYPE_TINY:
		return 1;
	case RS_TYPE_SHORT:
	case RS_TYPE_YEAR:
		return 2;
	case RS_TYPE_LONG:
	case RS_TYPE_INT24:
	case RS_TYPE_FLOAT:
		return 4;
	case RS_TYPE_LONGLONG:
	case RS_TYPE_DOUBLE:
		return 8;
	case RS_TYPE_DATE:
	case RS_TYPE_NEWDATE:
	case RS_TYPE_DATETIME:
	case RS_TYPE_DATETIME2:
	case RS_TYPE_TIMESTAMP:
	case RS_TYPE_TIMESTAMP2:
	case RS_TYPE_TIME:
	case RS_TYPE_TIME2:
		return -1;
	default:
		return 0;
	}
}

static bool is_time(uint8_t type)
{
	return type == RS_TYPE_TIME || type == RS_TYPE_TIME2;
}

/* Lengths a temporal value may have after its length byte. */
static bool temporal_len_ok(uint8_t type, size_t n)
{
	if (is_time(type))
		return n == 0 || n == 8 || n == 12;
	return n == 0 || n == 4 || n == 7 || n == 11;
}

static size_t bitmap_len(unsigned ncols)
{
	return (ncols + 7 + 2) / 8;
}

int rs_parse_binary_row(const uint8_t *p, size_t len, unsigned ncols,
			const struct rs_coldef *cols, struct rs_cell *cells)
{
	size_t nb = bitmap_len(ncols), pos = 1 + nb;
	const uint8_t *bitmap = p + 1;

	if (len < pos || p[0] != 0x00)
		return -1;
	/* The two reserved bits are zero, and so are the ones past the last
	 * column: a decoder that accepted them could not round-trip. */
	if (bitmap[0] & 0x03)
		return -1;
	for (unsigned bit = ncols + 2; bit < nb * 8; bit++)
		if (bitmap[bit / 8] & (1u << (bit % 8)))
			return -1;
	for (unsigned i = 0; i < ncols; i++) {
		unsigned bit = i + 2;
		int fixed = rs_binary_fixed_len(cols[i].type);

		if (bitmap[bit / 8] & (1u << (bit % 8))) {
			cells[i] = (struct rs_cell){.p = p + pos, .null = true};
			continue;
		}
		if (cols[i].type == RS_TYPE_NULL)
			return -1;
		if (fixed > 0) {
			if (len - pos < (size_t)fixed)
				return -1;
			cells[i] = (struct rs_cell){p + pos, (uint32_t)fixed, false};
			pos += (size_t)fixed;
		} else if (fixed < 0) {
			size_t n;

			if (pos >= len)
				return -1;
			n = p[pos];
			if (!temporal_len_ok(cols[i].type, n) || len - pos - 1 < n)
				return -1;
			cells[i] = (struct rs_cell){p + pos + 1, (uint32_t)n, false};
			pos += 1 + n;
		} else {
			struct mysql_str s;

			if (mysql_get_lenenc_str(p, len, &pos, &s) ||
			    s.len > UINT32_MAX)
				return -1;
			cells[i] = (struct rs_cell){(const uint8_t *)s.ptr,
						    (uint32_t)s.len, false};
		}
	}
	return pos == len ? 0 : -1;
}

size_t rs_binary_row_size(const struct rs_cell *cells, unsigned ncols,
			  const struct rs_coldef *cols)
{
	size_t n = 1 + bitmap_len(ncols);

	for (unsigned i = 0; i < ncols; i++) {
		int fixed = rs_binary_fixed_len(cols[i].type);

		if (cells[i].null)
			continue;
		if (fixed > 0)
			n += (size_t)fixed;
		else if (fixed < 0)
			n += 1 + cells[i].len;
		else
			n += mysql_lenenc_size(cells[i].len) + cells[i].len;
	}
	return n;
}

size_t rs_build_binary_row(uint8_t *out, const struct rs_cell *cells,
			   unsigned ncols, const struct rs_coldef *cols)
{
	size_t nb = bitmap_len(ncols);
	uint8_t *o = out + 1 + nb;

	out[0] = 0x00;
	memset(out + 1, 0, nb);
	for (unsigned i = 0; i < ncols; i++) {
		int fixed = rs_binary_fixed_len(cols[i].type);

		if (cells[i].null) {
			out[1 + (i + 2) / 8] |= (uint8_t)(1u << ((i + 2) % 8));
			continue;
		}
		if (fixed < 0)
			*o++ = (uint8_t)cells[i].len;
		else if (fixed == 0)
			o = mysql_put_lenenc(o, cells[i].len);
		if (cells[i].len)
			memcpy(o, cells[i].p, cells[i].len);
		o += cells[i].len;
	}
	return (size_t)(o - out);
}

const char *rs_type_name(uint8_t type)
{
	switch (type) {
	case RS_TYPE_DECIMAL: return "DECIMAL";
	case RS_TYPE_TINY: return "TINY";
	case RS_TYPE_SHORT: return "SHORT";
	case RS_TYPE_LONG: return "LONG";
	case RS_TYPE_FLOAT: return "FLOAT";
	case RS_TYPE_DOUBLE: return "DOUBLE";
	case RS_TYPE_NULL: return "NULL";
	case RS_TYPE_TIMESTAMP: return "TIMESTAMP";
	case RS_TYPE_LONGLONG: return "LONGLONG";
	case RS_TYPE_INT24: return "INT24";
	case RS_TYPE_DATE: return "DATE";
	case RS_TYPE_TIME: return "TIME";
	case RS_TYPE_DATETIME: return "DATETIME";
	case RS_TYPE_YEAR: return "YEAR";
	case RS_TYPE_NEWDATE: return "NEWDATE";
	case RS_TYPE_VARCHAR: return "VARCHAR";
	case RS_TYPE_BIT: return "BIT";
	case RS_TYPE_TIMESTAMP2: return "TIMESTAMP2";
	case RS_TYPE_DATETIME2: return "DATETIME2";
	case RS_TYPE_TIME2: return "TIME2";
	case RS_TYPE_JSON: return "JSON";
	case RS_TYPE_NEWDECIMAL: return "NEWDECIMAL";
	case RS_TYPE_ENUM: return "ENUM";
	case RS_TYPE_SET: return "SET";
	case RS_TYPE_TINY_BLOB: return "TINY_BLOB";
	case RS_TYPE_MEDIUM_BLOB: return "MEDIUM_BLOB";
	case RS_TYPE_LONG_BLOB: return "LONG_BLOB";
	case RS_TYPE_BLOB: return "BLOB";
	case RS_TYPE_VAR_STRING: return "VAR_STRING";
	case RS_TYPE_STRING: return "STRING";
	case RS_TYPE_GEOMETRY: return "GEOMETRY";
	default: return "UNKNOWN";
	}
}
