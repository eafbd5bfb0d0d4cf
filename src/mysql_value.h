/*
 * mysql_value.h - one value of a result set as the server means it:
 * decoded from a text or binary cell by its column definition, compared
 * the way ORDER BY compares, and encoded back into a cell for a column
 * definition.  Pure; nothing is allocated (strings point into the cell).
 *
 *   column type                         kind        compared
 *   TINY SHORT INT24 LONG LONGLONG YEAR INT / UINT  as integers (UNSIGNED flag)
 *   DECIMAL NEWDECIMAL                  DEC         exactly (mysql_decimal.h)
 *   FLOAT DOUBLE                        DOUBLE      as doubles
 *   DATE DATETIME TIMESTAMP TIME        TIME        by time (packed, below)
 *   strings, BLOBs, ENUM, SET, JSON,    STR         by collation (collation.h),
 *   BIT, GEOMETRY                                   binary without one
 *
 * NULL sorts before every value (first in ascending order, as in MySQL).
 * Numbers of different kinds compare by value (exactly between INT, UINT
 * and DEC; as doubles when one is a DOUBLE).
 */
#ifndef MYRING_MYSQL_VALUE_H
#define MYRING_MYSQL_VALUE_H

#include "collation.h"
#include "mysql_decimal.h"
#include "rs_codec.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum rs_proto { RS_TEXT, RS_BINARY };

enum myv_kind {
	MYV_NULL, MYV_INT, MYV_UINT, MYV_DEC, MYV_DOUBLE, MYV_STR, MYV_TIME,
};

/*
 * Temporal values, packed into one integer that orders like the value:
 *
 *   DATE, DATETIME, TIMESTAMP   ((((y * 13 + mon) * 32 + d) * 24 + h) * 60
 *                                + min) * 60 + s) * 10^6 + us
 *   TIME                        +/- ((h * 60 + min) * 60 + s) * 10^6 + us
 *
 * (month 13 and day 32 leave room for MySQL's zero dates and parts.)
 */
struct myv_tm {
	bool neg;
	uint32_t year, month, day, hour, minute, second, usec;
};

struct myv {
	uint8_t kind;           /* enum myv_kind */
	uint8_t type;           /* the column type it was decoded for */
	uint8_t proto;          /* enum rs_proto of raw */
	union {
		int64_t i;
		uint64_t u;
		double d;
		int64_t t;          /* MYV_TIME, packed */
		struct {
			const uint8_t *p;
			uint32_t len;
		} s;
		struct mdec dec;
	} v;
	/* The cell this came from: re-encoded unchanged for a column of the
	 * same type in the same protocol.  NULL for computed values. */
	const uint8_t *raw;
	uint32_t raw_len;
};

static inline void myv_null(struct myv *v)
{
	v->kind = MYV_NULL;
	v->raw = NULL;
}

/* Decodes a cell of column cd.  Returns 0, or -1 if the cell is not a
 * valid value of its type (garbage from a shard). */
int myv_decode(const struct rs_cell *cell, const struct rs_coldef *cd,
	       enum rs_proto proto, struct myv *v);

/* <0, 0, >0.  coll: how strings compare (NULL: as bytes). */
int myv_cmp(const struct myv *a, const struct myv *b, const struct coll *coll);

/* The value as an exact decimal (INT, UINT, DEC); -1 for other kinds. */
int myv_to_dec(const struct myv *v, struct mdec *d);
/* As a double (every numeric kind; strings are not converted: -1). */
int myv_to_double(const struct myv *v, double *d);

/* Packs / unpacks a temporal value (type: the column type). */
int64_t myv_time_pack(const struct myv_tm *tm, uint8_t type);
void myv_time_unpack(int64_t t, uint8_t type, struct myv_tm *tm);

/*
 * Encodes v as a cell of column cd in proto.  Content that has to be
 * written goes to buf (MYV_ENCODE_MAX bytes suffice for every kind except
 * strings, which point at their own bytes).  Returns 0, or -1 if the value
 * cannot be represented in the column's type (a string for a number...).
 */
#define MYV_ENCODE_MAX 352u
int myv_encode(const struct myv *v, const struct rs_coldef *cd,
	       enum rs_proto proto, uint8_t *buf, struct rs_cell *cell);

/* A double as MariaDB prints one with decimals >= 31: the shortest digits
 * that read back as the same double, fixed notation for exponents -15 to
 * 15, e-notation ("1e15", "1.5e-100") otherwise.  float_digits: FLOAT
 * columns print 6 significant digits.  Returns the length; out holds 32. */
size_t myv_format_double(double d, bool float_digits, char *out);

#endif
