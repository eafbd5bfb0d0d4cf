#include "merge_types.h"

#include <string.h>

#define DECIMAL_MAX_PRECISION 65u
#define DECIMAL_MAX_SCALE     38u
#define DECIMAL_LONGLONG_DIGITS 22u
#define DIV_PRECISION_INCREMENT 4u  /* the server's default */
#define NOT_FIXED_DEC_STRING  39u   /* decimals of a string aggregate */

static bool is_int(uint8_t t)
{
	return t == RS_TYPE_TINY || t == RS_TYPE_SHORT || t == RS_TYPE_INT24 ||
	       t == RS_TYPE_LONG || t == RS_TYPE_LONGLONG;
}

static bool is_float(uint8_t t)
{
	return t == RS_TYPE_FLOAT || t == RS_TYPE_DOUBLE;
}

static bool is_blob(uint8_t t)
{
	return t == RS_TYPE_TINY_BLOB || t == RS_TYPE_MEDIUM_BLOB ||
	       t == RS_TYPE_LONG_BLOB || t == RS_TYPE_BLOB;
}

static bool is_enum_set(const struct rs_coldef *x)
{
	return x->flags & (RS_ENUM_FLAG | RS_SET_FLAG) ||
	       x->type == RS_TYPE_ENUM || x->type == RS_TYPE_SET;
}

/* An integer type's display width, sign included. */
static uint32_t int_width(uint8_t t, bool is_unsigned)
{
	switch (t) {
	case RS_TYPE_TINY:
		return is_unsigned ? 3 : 4;
	case RS_TYPE_SHORT:
		return is_unsigned ? 5 : 6;
	case RS_TYPE_INT24:
		return is_unsigned ? 8 : 9;
	case RS_TYPE_LONG:
		return is_unsigned ? 10 : 11;
	default:
		return 20;
	}
}

/* A string's length in characters, as the server holds it: the
 * definition counts bytes of the result character set. */
static uint32_t char_length(const struct rs_coldef *x)
{
	if (x->length == UINT32_MAX)
		return x->length;
	return x->length / coll_mbmaxlen(x->charset);
}

/* Length of a DOUBLE with d decimals (the server's float_length()). */
static uint32_t float_length(unsigned decimals)
{
	return decimals < RS_NOT_FIXED_DEC ? 15 + 2 + decimals : 15 + 8;
}

static bool fixed_float(const struct rs_coldef *x)
{
	return is_float(x->type) && x->decimals < RS_NOT_FIXED_DEC;
}

unsigned merge_type_precision(const struct rs_coldef *x)
{
	bool is_unsigned = x->flags & (RS_UNSIGNED_FLAG | RS_ZEROFILL_FLAG);

	if (is_enum_set(x))
		return char_length(x);
	switch (x->type) {
	case RS_TYPE_TINY:
	case RS_TYPE_SHORT:
	case RS_TYPE_INT24:
	case RS_TYPE_LONG:
	case RS_TYPE_LONGLONG:
		return int_width(x->type, is_unsigned) - (is_unsigned ? 0 : 1);
	case RS_TYPE_YEAR:
		return 4;
	case RS_TYPE_BIT:
		return x->length;
	case RS_TYPE_DECIMAL:
	case RS_TYPE_NEWDECIMAL:
		return x->length - (x->decimals ? 1 : 0) - (is_unsigned ? 0 : 1);
	case RS_TYPE_DATE:
	case RS_TYPE_NEWDATE:
		return 8;
	case RS_TYPE_DATETIME:
	case RS_TYPE_DATETIME2:
	case RS_TYPE_TIMESTAMP:
	case RS_TYPE_TIMESTAMP2:
		return 14 + x->decimals;
	case RS_TYPE_TIME:
	case RS_TYPE_TIME2:
		return 7 + x->decimals;
	default:
		return 0;
	}
}

/* Decimals of x that carry into SUM and AVG. */
static unsigned exact_scale(const struct rs_coldef *x)
{
	if (is_enum_set(x) || is_int(x->type) || x->type == RS_TYPE_YEAR ||
	    x->type == RS_TYPE_BIT || x->type == RS_TYPE_DATE ||
	    x->type == RS_TYPE_NEWDATE)
		return 0;
	return x->decimals;
}

static void expression(const struct rs_coldef *x, struct rs_coldef *out)
{
	*out = *x;
	out->schema = (struct mysql_str){"", 0};
	out->table = (struct mysql_str){"", 0};
	out->org_table = (struct mysql_str){"", 0};
	out->org_name = (struct mysql_str){"", 0};
	out->ext = (struct mysql_str){"", 0};
}

static void numeric(struct rs_coldef *out, uint8_t type, uint32_t length,
		    unsigned decimals)
{
	out->type = type;
	out->charset = RS_CHARSET_BINARY;
	out->length = length;
	out->decimals = (uint8_t)decimals;
	out->flags = RS_BINARY_FLAG;
}

static void sum_or_avg(bool avg, const struct rs_coldef *x,
		       struct rs_coldef *out)
{
	unsigned p = merge_type_precision(x), s = exact_scale(x);

	if (p) {
		if (avg) {
			p += DIV_PRECISION_INCREMENT;
			s = s + DIV_PRECISION_INCREMENT < DECIMAL_MAX_SCALE
				    ? s + DIV_PRECISION_INCREMENT
				    : DECIMAL_MAX_SCALE;
		} else if (p + DECIMAL_LONGLONG_DIGITS < DECIMAL_MAX_PRECISION) {
			p += DECIMAL_LONGLONG_DIGITS;
		} else {
			p = DECIMAL_MAX_PRECISION;
		}
		numeric(out, RS_TYPE_NEWDECIMAL, p + (s ? 1 : 0) + 1, s);
		return;
	}
	if (!avg) {
		unsigned d = fixed_float(x) ? x->decimals : RS_NOT_FIXED_DEC;

		numeric(out, RS_TYPE_DOUBLE, float_length(d), d);
		return;
	}
	{
		unsigned d = RS_NOT_FIXED_DEC;
		/* The server adds to its uint32 max_length: LONGTEXT wraps. */
		uint32_t len = x->length + DIV_PRECISION_INCREMENT;

		if (fixed_float(x) &&
		    x->decimals + DIV_PRECISION_INCREMENT < RS_NOT_FIXED_DEC)
			d = x->decimals + DIV_PRECISION_INCREMENT;
		if (len > float_length(d))
			len = float_length(d);
		numeric(out, RS_TYPE_DOUBLE, len, d);
	}
}

static void min_max(const struct rs_coldef *x, struct rs_coldef *out)
{
	bool is_unsigned = x->flags & (RS_UNSIGNED_FLAG | RS_ZEROFILL_FLAG);

	out->flags = x->flags & (RS_UNSIGNED_FLAG | RS_BINARY_FLAG | RS_NUM_FLAG);
	if (x->flags & RS_ZEROFILL_FLAG)
		out->flags |= RS_UNSIGNED_FLAG;
	if (x->charset == RS_CHARSET_BINARY)
		out->flags |= RS_BINARY_FLAG;
	if (is_enum_set(x)) {
		out->type = RS_TYPE_VAR_STRING;
		out->decimals = 0;
		return;
	}
	if (is_int(x->type)) {
		out->length = int_width(x->type, is_unsigned);
	} else if (x->type == RS_TYPE_YEAR) {
		out->length = 4;
	} else if (is_float(x->type)) {
		out->length = float_length(x->decimals);
	} else if (is_blob(x->type) || x->type == RS_TYPE_JSON) {
		uint32_t chars = char_length(x);

		uint64_t len = (uint64_t)x->length * coll_mbmaxlen(x->charset);

		out->type = chars <= 255        ? RS_TYPE_TINY_BLOB
			    : chars <= 65535    ? RS_TYPE_BLOB
			    : chars <= 16777215 ? RS_TYPE_MEDIUM_BLOB
						: RS_TYPE_LONG_BLOB;
		out->decimals = NOT_FIXED_DEC_STRING;
		/* The server counts the TEXT's bytes as characters once more. */
		out->length = len > UINT32_MAX ? UINT32_MAX : (uint32_t)len;
	} else if (x->type == RS_TYPE_VARCHAR || x->type == RS_TYPE_VAR_STRING ||
		   x->type == RS_TYPE_STRING || x->type == RS_TYPE_GEOMETRY) {
		out->decimals = NOT_FIXED_DEC_STRING;
	}
}

int merge_type_of(enum merge_agg agg, const struct rs_coldef *x,
		  struct rs_coldef *out)
{
	expression(x, out);
	switch (agg) {
	case MERGE_COUNT:
	case MERGE_COUNT_DISTINCT:
		numeric(out, RS_TYPE_LONGLONG, 21, 0);
		out->flags |= RS_NOT_NULL_FLAG;
		return 0;
	case MERGE_SUM:
	case MERGE_SUM_DISTINCT:
		sum_or_avg(false, x, out);
		return 0;
	case MERGE_AVG:
	case MERGE_AVG_DISTINCT:
		sum_or_avg(true, x, out);
		return 0;
	case MERGE_MIN:
	case MERGE_MAX:
		min_max(x, out);
		return 0;
	default:
		return -1;
	}
}
