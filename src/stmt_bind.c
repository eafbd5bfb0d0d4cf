/*
 * stmt_bind.c - an execution's values as SQL literals (stmt_bind.h).
 */
#include "stmt_bind.h"

#include "mysql_proto.h"
#include "rs_codec.h"
#include "sql_parse.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static uint64_t get_u64(const uint8_t *p)
{
	return mysql_get_u32(p) | (uint64_t)mysql_get_u32(p + 4) << 32;
}

/* text (n bytes) copied into the arena as b's; -1 when it is full. */
static int set_text(struct sql_arena *a, struct sql_bind *b, uint8_t lit,
		    const char *text, size_t n)
{
	const char *t = sql_arena_dup(a, text, n);

	if (!t)
		return -1;
	b->lit = lit;
	b->text = (struct sql_str){ t, n };
	return 0;
}

/* A signed or unsigned integer: its digits, a '-' as SQL_EF_NEG. */
static int set_int(struct sql_arena *a, struct sql_bind *b, uint64_t u,
		   int64_t sv, bool uns)
{
	char buf[24];
	int n;

	if (!uns && sv < 0) {
		b->flags = SQL_EF_NEG;
		u = (uint64_t)0 - (uint64_t)sv;
	}
	n = snprintf(buf, sizeof(buf), "%llu", (unsigned long long)u);
	return set_text(a, b, SQL_LIT_INT, buf, (size_t)n);
}

size_t stmt_bind_double(double d, char *out)
{
	int n;

	if (!isfinite(d))
		return 0;
	/* 17 significant digits read back as the same double; the exponent
	 * makes it a double literal rather than a decimal one. */
	n = snprintf(out, 40, "%.17g", fabs(d));
	if (!strchr(out, 'e'))
		n += snprintf(out + n, 40 - (size_t)n, "e0");
	return (size_t)n;
}

static int set_double(struct sql_arena *a, struct sql_bind *b, double d)
{
	char buf[40];
	size_t n = stmt_bind_double(d, buf);

	if (!n)
		return 0;
	if (signbit(d))
		b->flags = SQL_EF_NEG;
	return set_text(a, b, SQL_LIT_FLOAT, buf, n);
}

/* [+-]digits[.digits], at most 65 digits (past that a literal is a
 * DOUBLE); written with a point so that it stays a decimal. */
static int set_decimal(struct sql_arena *a, struct sql_bind *b,
		       const uint8_t *v, size_t n)
{
	char buf[72];
	size_t i = 0, digits = 0, o = 0;
	bool point = false;

	if (i < n && (v[i] == '-' || v[i] == '+')) {
		if (v[i] == '-')
			b->flags = SQL_EF_NEG;
		i++;
	}
	for (; i < n; i++) {
		if (v[i] >= '0' && v[i] <= '9' && digits < 65) {
			digits++;
		} else if (v[i] == '.' && !point) {
			point = true;
		} else {
			b->flags = 0;
			return 0;
		}
		buf[o++] = (char)v[i];
	}
	if (!digits) {
		b->flags = 0;
		return 0;
	}
	if (!point)
		buf[o++] = '.';
	return set_text(a, b, SQL_LIT_DECIMAL, buf, o);
}

/* DATE, DATETIME, TIMESTAMP: 0, 4, 7 or 11 bytes after the length. */
static int set_datetime(struct sql_arena *a, struct sql_bind *b,
			const uint8_t *v, bool date)
{
	unsigned n = v[0], year = 0, mon = 0, day = 0, h = 0, mi = 0, s = 0;
	unsigned long us = 0;
	char buf[40];
	int w;

	if (n != 0 && n != 4 && n != 7 && n != 11)
		return 0;
	if (n >= 4) {
		year = mysql_get_u16(v + 1);
		mon = v[3];
		day = v[4];
	}
	if (n >= 7) {
		h = v[5];
		mi = v[6];
		s = v[7];
	}
	if (n == 11)
		us = mysql_get_u32(v + 8);
	if (year > 9999 || mon > 12 || day > 31 || h > 23 || mi > 59 ||
	    s > 59 || us > 999999)
		return 0;
	if (date)
		return set_text(a, b, SQL_LIT_DATE, buf,
				(size_t)snprintf(buf, sizeof(buf),
						 "%04u-%02u-%02u", year, mon,
						 day));
	w = snprintf(buf, sizeof(buf), "%04u-%02u-%02u %02u:%02u:%02u", year,
		     mon, day, h, mi, s);
	if (us)
		w += snprintf(buf + w, sizeof(buf) - (size_t)w, ".%06lu", us);
	return set_text(a, b, SQL_LIT_TIMESTAMP, buf, (size_t)w);
}

/* TIME: 0, 8 or 12 bytes: sign, days, hours, minutes, seconds, usec. */
static int set_time(struct sql_arena *a, struct sql_bind *b,
		    const uint8_t *v)
{
	unsigned n = v[0];
	unsigned long hours = 0, mi = 0, s = 0, us = 0;
	bool neg = false;
	char buf[40];
	int w;

	if (n != 0 && n != 8 && n != 12)
		return 0;
	if (n >= 8) {
		neg = v[1] == 1;
		hours = (unsigned long)mysql_get_u32(v + 2) * 24 + v[6];
		mi = v[7];
		s = v[8];
	}
	if (n == 12)
		us = mysql_get_u32(v + 9);
	/* Beyond TIME's range the server clips a value with a warning and
	 * refuses a literal: no literal means the same. */
	if (hours > 838 || mi > 59 || s > 59 || us > 999999 ||
	    (hours == 838 && mi == 59 && s == 59 && us))
		return 0;
	w = snprintf(buf, sizeof(buf), "%s%02lu:%02lu:%02lu", neg ? "-" : "",
		     hours, mi, s);
	if (us)
		w += snprintf(buf + w, sizeof(buf) - (size_t)w, ".%06lu", us);
	return set_text(a, b, SQL_LIT_TIME, buf, (size_t)w);
}

/* Bytes value v of type t takes (len left), as the server reads it, or
 * -1.  INT24 and YEAR the server reads as strings, clients send them as
 * numbers: such a packet is not read at all. */
static long value_size(uint8_t t, const uint8_t *v, size_t len)
{
	if (t == RS_TYPE_INT24 || t == RS_TYPE_YEAR || t == RS_TYPE_NULL)
		return -1;
	return stmt_param_size(t, v, len);
}

static int bind_one(struct sql_arena *a, struct sql_bind *b, uint8_t t,
		    bool uns, const uint8_t *v, size_t size)
{
	uint64_t n;
	int used;

	switch (t) {
	case RS_TYPE_TINY:
		return set_int(a, b, v[0], (int8_t)v[0], uns);
	case RS_TYPE_SHORT:
		return set_int(a, b, mysql_get_u16(v),
			       (int16_t)mysql_get_u16(v), uns);
	case RS_TYPE_LONG:
		return set_int(a, b, mysql_get_u32(v),
			       (int32_t)mysql_get_u32(v), uns);
	case RS_TYPE_LONGLONG:
		return set_int(a, b, get_u64(v), (int64_t)get_u64(v), uns);
	case RS_TYPE_FLOAT: {
		uint32_t w = mysql_get_u32(v);
		float f;

		memcpy(&f, &w, sizeof(f));
		return set_double(a, b, f);
	}
	case RS_TYPE_DOUBLE: {
		uint64_t w = get_u64(v);
		double d;

		memcpy(&d, &w, sizeof(d));
		return set_double(a, b, d);
	}
	case RS_TYPE_DATE:
		return set_datetime(a, b, v, true);
	case RS_TYPE_DATETIME:
	case RS_TYPE_TIMESTAMP:
		return set_datetime(a, b, v, false);
	case RS_TYPE_TIME:
		return set_time(a, b, v);
	default:
		break;
	}
	used = mysql_get_lenenc(v, size, &n);
	if (used < 0)
		return -1;
	v += used;
	switch (t) {
	case RS_TYPE_DECIMAL:
	case RS_TYPE_NEWDECIMAL:
		return set_decimal(a, b, v, (size_t)n);
	case RS_TYPE_TINY_BLOB:
	case RS_TYPE_MEDIUM_BLOB:
	case RS_TYPE_LONG_BLOB:
	case RS_TYPE_BLOB:
		/* The server takes these as binary strings. */
		b->charset = (struct sql_str){ "binary", 6 };
		break;
	default:
		break;
	}
	return set_text(a, b, SQL_LIT_STRING, (const char *)v, (size_t)n);
}

int stmt_bind_values(const uint8_t *p, size_t len, uint16_t num_params,
		     const struct stmt_execute *ex, const uint8_t *types,
		     struct sql_arena *a, const struct sql_bind **values)
{
	size_t pos = ex->values_off;
	struct sql_bind *out = NULL;
	int unknown = 0;

	*values = NULL;
	if (!num_params)
		return 0;
	if (!types || !ex->null_off)
		return -1;
	out = sql_arena_alloc(a, num_params * sizeof(*out));
	if (!out)
		return -1;
	*values = out;
	for (unsigned k = 0; k < num_params; k++) {
		uint8_t t = types[2 * k];
		bool uns = (types[2 * k + 1] & 0x80) != 0;
		struct sql_bind *b = &out[k];
		long size;

		memset(b, 0, sizeof(*b));
		if (p[ex->null_off + k / 8] & (1u << (k % 8))) {
			b->lit = SQL_LIT_NULL;
			b->text = (struct sql_str){ "NULL", 4 };
			continue;
		}
		if (pos > len)
			return -1;
		size = value_size(t, p + pos, len - pos);
		if (size < 0 || (size_t)size > len - pos)
			return -1;
		if (bind_one(a, b, t, uns, p + pos, (size_t)size))
			return -1;
		pos += (size_t)size;
		if (!b->lit)
			unknown++;
	}
	return unknown;
}

const struct sql_bind *stmt_bind_copy(struct sql_arena *a,
				      const struct sql_bind *from, unsigned n)
{
	struct sql_bind *b = sql_arena_alloc(a, (n ? n : 1) * sizeof(*b));

	for (unsigned i = 0; b && i < n; i++) {
		b[i] = from[i];
		if (from[i].text.len &&
		    !(b[i].text.ptr = sql_arena_dup(a, from[i].text.ptr,
						    from[i].text.len)))
			return NULL;
		if (from[i].charset.len &&
		    !(b[i].charset.ptr = sql_arena_dup(a, from[i].charset.ptr,
						       from[i].charset.len)))
			return NULL;
	}
	return b;
}
