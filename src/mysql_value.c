#include "mysql_value.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool is_int_type(uint8_t t)
{
	return t == RS_TYPE_TINY || t == RS_TYPE_SHORT || t == RS_TYPE_INT24 ||
	       t == RS_TYPE_LONG || t == RS_TYPE_LONGLONG || t == RS_TYPE_YEAR;
}

static bool is_time_type(uint8_t t)
{
	return t == RS_TYPE_TIME || t == RS_TYPE_TIME2;
}

static bool is_temporal_type(uint8_t t)
{
	return is_time_type(t) || t == RS_TYPE_DATE || t == RS_TYPE_NEWDATE ||
	       t == RS_TYPE_DATETIME || t == RS_TYPE_DATETIME2 ||
	       t == RS_TYPE_TIMESTAMP || t == RS_TYPE_TIMESTAMP2;
}

static bool is_dec_type(uint8_t t)
{
	return t == RS_TYPE_DECIMAL || t == RS_TYPE_NEWDECIMAL;
}

static bool is_float_type(uint8_t t)
{
	return t == RS_TYPE_FLOAT || t == RS_TYPE_DOUBLE;
}

/* ---- temporal ------------------------------------------------------------ */

int64_t myv_time_pack(const struct myv_tm *tm, uint8_t type)
{
	int64_t secs;

	if (is_time_type(type)) {
		secs = ((int64_t)tm->hour * 60 + tm->minute) * 60 + tm->second;
		secs = secs * 1000000 + tm->usec;
		return tm->neg ? -secs : secs;
	}
	secs = ((int64_t)tm->year * 13 + tm->month) * 32 + tm->day;
	secs = ((secs * 24 + tm->hour) * 60 + tm->minute) * 60 + tm->second;
	return secs * 1000000 + tm->usec;
}

void myv_time_unpack(int64_t t, uint8_t type, struct myv_tm *tm)
{
	uint64_t u;

	memset(tm, 0, sizeof(*tm));
	if (is_time_type(type) && t < 0) {
		tm->neg = true;
		u = (uint64_t)(-(t + 1)) + 1;
	} else {
		u = (uint64_t)t;
	}
	tm->usec = (uint32_t)(u % 1000000);
	u /= 1000000;
	tm->second = (uint32_t)(u % 60);
	u /= 60;
	tm->minute = (uint32_t)(u % 60);
	u /= 60;
	if (is_time_type(type)) {
		tm->hour = (uint32_t)u;
		return;
	}
	tm->hour = (uint32_t)(u % 24);
	u /= 24;
	tm->day = (uint32_t)(u % 32);
	u /= 32;
	tm->month = (uint32_t)(u % 13);
	tm->year = (uint32_t)(u / 13);
}

/* n digits at s[*pos] (exactly n; max 9). */
static int digits(const uint8_t *s, size_t len, size_t *pos, unsigned n,
		  uint32_t *out)
{
	uint32_t v = 0;

	if (len - *pos < n)
		return -1;
	for (unsigned i = 0; i < n; i++) {
		uint8_t c = s[*pos + i];

		if (c < '0' || c > '9')
			return -1;
		v = v * 10 + (uint32_t)(c - '0');
	}
	*pos += n;
	*out = v;
	return 0;
}

static int expect(const uint8_t *s, size_t len, size_t *pos, char c)
{
	if (*pos >= len || s[*pos] != (uint8_t)c)
		return -1;
	(*pos)++;
	return 0;
}

/* ".ffffff" (1 to 6 digits), if present; scaled to microseconds. */
static int fraction(const uint8_t *s, size_t len, size_t *pos, uint32_t *usec)
{
	unsigned n = 0;

	*usec = 0;
	if (*pos == len)
		return 0;
	if (expect(s, len, pos, '.'))
		return -1;
	while (*pos < len && n < 6 && s[*pos] >= '0' && s[*pos] <= '9') {
		*usec = *usec * 10 + (uint32_t)(s[*pos] - '0');
		(*pos)++;
		n++;
	}
	if (!n)
		return -1;
	for (; n < 6; n++)
		*usec *= 10;
	return 0;
}

static int parse_time_text(const uint8_t *s, size_t len, uint8_t type,
			   struct myv_tm *tm)
{
	size_t pos = 0;

	memset(tm, 0, sizeof(*tm));
	if (is_time_type(type)) {
		unsigned n = 0;

		if (pos < len && s[pos] == '-') {
			tm->neg = true;
			pos++;
		}
		while (pos < len && s[pos] >= '0' && s[pos] <= '9' && n < 7) {
			tm->hour = tm->hour * 10 + (uint32_t)(s[pos] - '0');
			pos++;
			n++;
		}
		if (n < 2 || expect(s, len, &pos, ':') ||
		    digits(s, len, &pos, 2, &tm->minute) ||
		    expect(s, len, &pos, ':') ||
		    digits(s, len, &pos, 2, &tm->second) ||
		    fraction(s, len, &pos, &tm->usec))
			return -1;
		return pos == len ? 0 : -1;
	}
	if (digits(s, len, &pos, 4, &tm->year) || expect(s, len, &pos, '-') ||
	    digits(s, len, &pos, 2, &tm->month) || expect(s, len, &pos, '-') ||
	    digits(s, len, &pos, 2, &tm->day))
		return -1;
	if (tm->month > 12 || tm->day > 31)
		return -1;
	if (type == RS_TYPE_DATE || type == RS_TYPE_NEWDATE)
		return pos == len ? 0 : -1;
	if (expect(s, len, &pos, ' ') || digits(s, len, &pos, 2, &tm->hour) ||
	    expect(s, len, &pos, ':') || digits(s, len, &pos, 2, &tm->minute) ||
	    expect(s, len, &pos, ':') || digits(s, len, &pos, 2, &tm->second) ||
	    fraction(s, len, &pos, &tm->usec))
		return -1;
	if (tm->hour > 23 || tm->minute > 59 || tm->second > 59)
		return -1;
	return pos == len ? 0 : -1;
}

static int parse_time_binary(const uint8_t *p, size_t len, uint8_t type,
			     struct myv_tm *tm)
{
	memset(tm, 0, sizeof(*tm));
	if (is_time_type(type)) {
		uint32_t days;

		if (len == 0)
			return 0;
		if (len != 8 && len != 12)
			return -1;
		tm->neg = p[0] == 1;
		days = mysql_get_u32(p + 1);
		if (p[0] > 1 || days > 1000000 || p[5] > 23 || p[6] > 59 ||
		    p[7] > 59)
			return -1;
		tm->hour = days * 24 + p[5];
		tm->minute = p[6];
		tm->second = p[7];
		if (len == 12) {
			tm->usec = mysql_get_u32(p + 8);
			if (tm->usec > 999999)
				return -1;
		}
		return 0;
	}
	if (len != 0 && len != 4 && len != 7 && len != 11)
		return -1;
	if (len >= 4) {
		tm->year = mysql_get_u16(p);
		tm->month = p[2];
		tm->day = p[3];
	}
	if (len >= 7) {
		tm->hour = p[4];
		tm->minute = p[5];
		tm->second = p[6];
	}
	if (len == 11)
		tm->usec = mysql_get_u32(p + 7);
	if (tm->year > 9999 || tm->month > 12 || tm->day > 31 || tm->hour > 23 ||
	    tm->minute > 59 || tm->second > 59 || tm->usec > 999999)
		return -1;
	/* A DATE is its date, whatever form it came in. */
	if (type == RS_TYPE_DATE || type == RS_TYPE_NEWDATE)
		tm->hour = tm->minute = tm->second = tm->usec = 0;
	return 0;
}

/* ---- decoding ------------------------------------------------------------ */

static int parse_int_text(const uint8_t *s, size_t len, bool is_unsigned,
			  struct myv *v)
{
	size_t i = 0;
	bool neg = false;
	uint64_t mag = 0;

	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == len)
		return -1;
	for (; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		if (mag > (UINT64_MAX - (uint64_t)(s[i] - '0')) / 10)
			return -1;
		mag = mag * 10 + (uint64_t)(s[i] - '0');
	}
	if (is_unsigned) {
		if (neg && mag)
			return -1;
		v->kind = MYV_UINT;
		v->v.u = mag;
		return 0;
	}
	if (mag > (uint64_t)INT64_MAX + neg)
		return -1;
	v->kind = MYV_INT;
	v->v.i = neg ? (int64_t)(0 - mag) : (int64_t)mag;
	return 0;
}

static int parse_double_text(const uint8_t *s, size_t len, double *d)
{
	char buf[64];
	char *end;

	if (!len || len >= sizeof(buf))
		return -1;
	memcpy(buf, s, len);
	buf[len] = '\0';
	*d = strtod(buf, &end);
	return end == buf + len && isfinite(*d) ? 0 : -1;
}

static int decode_binary_int(const uint8_t *p, uint8_t type, bool is_unsigned,
			     struct myv *v)
{
	uint64_t u;
	int64_t i;

	switch (type) {
	case RS_TYPE_TINY:
		u = p[0];
		i = (int8_t)p[0];
		break;
	case RS_TYPE_SHORT:
	case RS_TYPE_YEAR:
		u = mysql_get_u16(p);
		i = (int16_t)mysql_get_u16(p);
		break;
	case RS_TYPE_LONG:
	case RS_TYPE_INT24:
		u = mysql_get_u32(p);
		i = (int32_t)mysql_get_u32(p);
		break;
	default:
		u = (uint64_t)mysql_get_u32(p) | (uint64_t)mysql_get_u32(p + 4) << 32;
		i = (int64_t)u;
		break;
	}
	if (is_unsigned || type == RS_TYPE_YEAR) {
		v->kind = MYV_UINT;
		v->v.u = u;
	} else {
		v->kind = MYV_INT;
		v->v.i = i;
	}
	return 0;
}

int myv_decode(const struct rs_cell *cell, const struct rs_coldef *cd,
	       enum rs_proto proto, struct myv *v)
{
	uint8_t t = cd->type;
	bool is_unsigned = cd->flags & RS_UNSIGNED_FLAG;
	struct myv_tm tm;

	v->type = t;
	v->proto = (uint8_t)proto;
	v->raw = cell->p;
	v->raw_len = cell->len;
	if (cell->null) {
		v->kind = MYV_NULL;
		return 0;
	}
	if (is_int_type(t)) {
		if (proto == RS_BINARY)
			return decode_binary_int(cell->p, t, is_unsigned, v);
		return parse_int_text(cell->p, cell->len,
				      is_unsigned || t == RS_TYPE_YEAR, v);
	}
	if (is_dec_type(t)) {
		v->kind = MYV_DEC;
		return mdec_parse((const char *)cell->p, cell->len, &v->v.dec);
	}
	if (is_float_type(t)) {
		v->kind = MYV_DOUBLE;
		if (proto == RS_TEXT) {
			if (parse_double_text(cell->p, cell->len, &v->v.d))
				return -1;
			/* The server prints a FLOAT with 6 digits: the float
			 * nearest the text is the one it printed. */
			if (t == RS_TYPE_FLOAT)
				v->v.d = (float)v->v.d;
			return isfinite(v->v.d) ? 0 : -1;
		}
		if (t == RS_TYPE_FLOAT) {
			float f;
			uint32_t bits = mysql_get_u32(cell->p);

			memcpy(&f, &bits, 4);
			v->v.d = f;
		} else {
			uint64_t bits = (uint64_t)mysql_get_u32(cell->p) |
					(uint64_t)mysql_get_u32(cell->p + 4) << 32;

			memcpy(&v->v.d, &bits, 8);
		}
		return isfinite(v->v.d) ? 0 : -1;
	}
	if (is_temporal_type(t)) {
		int r = proto == RS_TEXT
				? parse_time_text(cell->p, cell->len, t, &tm)
				: parse_time_binary(cell->p, cell->len, t, &tm);
		if (r)
			return -1;
		v->kind = MYV_TIME;
		v->v.t = myv_time_pack(&tm, t);
		return 0;
	}
	if (t == RS_TYPE_NULL)
		return -1;
	v->kind = MYV_STR;
	v->v.s.p = cell->p;
	v->v.s.len = cell->len;
	return 0;
}

/* ---- numbers --------------------------------------------------------------- */

static bool is_number(const struct myv *v)
{
	return v->kind == MYV_INT || v->kind == MYV_UINT || v->kind == MYV_DEC ||
	       v->kind == MYV_DOUBLE;
}

int myv_to_dec(const struct myv *v, struct mdec *d)
{
	switch (v->kind) {
	case MYV_INT:
		mdec_from_i64(d, v->v.i);
		return 0;
	case MYV_UINT:
		mdec_from_u64(d, v->v.u);
		return 0;
	case MYV_DEC:
		*d = v->v.dec;
		return 0;
	default:
		return -1;
	}
}

int myv_to_double(const struct myv *v, double *d)
{
	switch (v->kind) {
	case MYV_INT:
		*d = (double)v->v.i;
		return 0;
	case MYV_UINT:
		*d = (double)v->v.u;
		return 0;
	case MYV_DEC:
		*d = mdec_to_double(&v->v.dec);
		return 0;
	case MYV_DOUBLE:
		*d = v->v.d;
		return 0;
	default:
		return -1;
	}
}

static int cmp_numbers(const struct myv *a, const struct myv *b)
{
	if (a->kind == MYV_DOUBLE || b->kind == MYV_DOUBLE) {
		double x, y;

		myv_to_double(a, &x);
		myv_to_double(b, &y);
		return (x > y) - (x < y);
	}
	if (a->kind == MYV_INT && b->kind == MYV_INT)
		return (a->v.i > b->v.i) - (a->v.i < b->v.i);
	if (a->kind == MYV_UINT && b->kind == MYV_UINT)
		return (a->v.u > b->v.u) - (a->v.u < b->v.u);
	if (a->kind == MYV_INT && b->kind == MYV_UINT)
		return a->v.i < 0 ? -1
				  : ((uint64_t)a->v.i > b->v.u) -
					    ((uint64_t)a->v.i < b->v.u);
	if (a->kind == MYV_UINT && b->kind == MYV_INT)
		return -cmp_numbers(b, a);
	{
		struct mdec x, y;

		myv_to_dec(a, &x);
		myv_to_dec(b, &y);
		return mdec_cmp(&x, &y);
	}
}

int myv_cmp(const struct myv *a, const struct myv *b, const struct coll *coll)
{
	if (a->kind == MYV_NULL || b->kind == MYV_NULL)
		return (a->kind != MYV_NULL) - (b->kind != MYV_NULL);
	if (is_number(a) && is_number(b))
		return cmp_numbers(a, b);
	if (a->kind == MYV_STR && b->kind == MYV_STR) {
		if (coll)
			return coll_cmp(coll, a->v.s.p, a->v.s.len, b->v.s.p,
					b->v.s.len);
		size_t n = a->v.s.len < b->v.s.len ? a->v.s.len : b->v.s.len;
		int r = n ? memcmp(a->v.s.p, b->v.s.p, n) : 0;

		return r ? (r > 0) - (r < 0)
			 : (a->v.s.len > b->v.s.len) - (a->v.s.len < b->v.s.len);
	}
	if (a->kind == MYV_TIME && b->kind == MYV_TIME)
		return (a->v.t > b->v.t) - (a->v.t < b->v.t);
	/* Values of different natures do not meet in one column. */
	return (a->kind > b->kind) - (a->kind < b->kind);
}

/* ---- formatting ------------------------------------------------------------ */

size_t myv_format_double(double d, bool float_digits, char *out)
{
	char e[40], digs[24];
	int prec, decpt, nd = 0;
	size_t pos = 0;
	const char *p;

	if (d == 0) {
		out[0] = '0';
		return 1;
	}
	/* The shortest digits that read back as d (a FLOAT: 6 digits, as the
	 * server prints its FLT_DIG). */
	if (float_digits) {
		snprintf(e, sizeof(e), "%.5e", d);
	} else {
		for (prec = 1; prec <= 17; prec++) {
			snprintf(e, sizeof(e), "%.*e", prec - 1, d);
			if (strtod(e, NULL) == d)
				break;
		}
	}
	/* e is [-]d[.ddd]e[+-]xx */
	p = e;
	if (*p == '-') {
		out[pos++] = '-';
		p++;
	}
	for (; *p != 'e'; p++)
		if (*p != '.')
			digs[nd++] = *p;
	decpt = atoi(p + 1) + 1;
	while (nd > 1 && digs[nd - 1] == '0')
		nd--;
	/* MariaDB's my_gcvt (wide buffer): fixed notation unless the point
	 * is more than 14 places left of the first digit, or the number is
	 * an integer with more than 15 digits. */
	if (decpt >= -14 && (decpt <= 15 || nd > decpt)) {
		if (decpt <= 0) {
			out[pos++] = '0';
			out[pos++] = '.';
			for (int i = decpt; i < 0; i++)
				out[pos++] = '0';
			memcpy(out + pos, digs, (size_t)nd);
			pos += (size_t)nd;
		} else {
			for (int i = 0; i < nd || i < decpt; i++) {
				if (i == decpt)
					out[pos++] = '.';
				out[pos++] = i < nd ? digs[i] : '0';
			}
		}
		return pos;
	}
	out[pos++] = digs[0];
	if (nd > 1) {
		out[pos++] = '.';
		memcpy(out + pos, digs + 1, (size_t)nd - 1);
		pos += (size_t)nd - 1;
	}
	pos += (size_t)sprintf(out + pos, "e%d", decpt - 1);
	return pos;
}

/* ---- encoding -------------------------------------------------------------- */

static size_t format_time_text(const struct myv_tm *tm, uint8_t type,
			       unsigned decimals, char *out)
{
	size_t n;

	if (type == RS_TYPE_DATE || type == RS_TYPE_NEWDATE)
		return (size_t)sprintf(out, "%04u-%02u-%02u", tm->year % 10000,
				       tm->month, tm->day);
	if (is_time_type(type))
		n = (size_t)sprintf(out, "%s%02u:%02u:%02u", tm->neg ? "-" : "",
				    tm->hour % 100000000, tm->minute, tm->second);
	else
		n = (size_t)sprintf(out, "%04u-%02u-%02u %02u:%02u:%02u",
				    tm->year % 10000, tm->month, tm->day,
				    tm->hour, tm->minute, tm->second);
	if (decimals > 0 && decimals <= 6) {
		uint32_t f = tm->usec;

		for (unsigned i = decimals; i < 6; i++)
			f /= 10;
		n += (size_t)sprintf(out + n, ".%0*u", (int)decimals, f);
	}
	return n;
}

static size_t format_time_binary(const struct myv_tm *tm, uint8_t type,
				 uint8_t *out)
{
	if (is_time_type(type)) {
		if (!tm->hour && !tm->minute && !tm->second && !tm->usec)
			return 0;
		out[0] = tm->neg;
		mysql_put_u32(out + 1, tm->hour / 24);
		out[5] = (uint8_t)(tm->hour % 24);
		out[6] = (uint8_t)tm->minute;
		out[7] = (uint8_t)tm->second;
		if (!tm->usec)
			return 8;
		mysql_put_u32(out + 8, tm->usec);
		return 12;
	}
	if (!tm->year && !tm->month && !tm->day && !tm->hour && !tm->minute &&
	    !tm->second && !tm->usec)
		return 0;
	mysql_put_u16(out, (uint16_t)tm->year);
	out[2] = (uint8_t)tm->month;
	out[3] = (uint8_t)tm->day;
	if (type == RS_TYPE_DATE || type == RS_TYPE_NEWDATE ||
	    (!tm->hour && !tm->minute && !tm->second && !tm->usec))
		return 4;
	out[4] = (uint8_t)tm->hour;
	out[5] = (uint8_t)tm->minute;
	out[6] = (uint8_t)tm->second;
	if (!tm->usec)
		return 7;
	mysql_put_u32(out + 7, tm->usec);
	return 11;
}

/* An integer column's value: from INT, UINT, or a DEC / DOUBLE with no
 * fraction. */
static int as_integer(const struct myv *v, bool *neg, uint64_t *mag)
{
	struct mdec d;
	char buf[MDEC_TEXT_MAX];
	size_t n;
	struct myv tmp;

	switch (v->kind) {
	case MYV_INT:
		*neg = v->v.i < 0;
		*mag = *neg ? (uint64_t)(-(v->v.i + 1)) + 1 : (uint64_t)v->v.i;
		return 0;
	case MYV_UINT:
		*neg = false;
		*mag = v->v.u;
		return 0;
	case MYV_DEC:
		d = v->v.dec;
		if (mdec_rescale(&d, 0))
			return -1;
		n = mdec_format(&d, buf);
		if (parse_int_text((const uint8_t *)buf, n, false, &tmp) &&
		    parse_int_text((const uint8_t *)buf, n, true, &tmp))
			return -1;
		return as_integer(&tmp, neg, mag);
	case MYV_DOUBLE:
		if (!(fabs(v->v.d) < 18446744073709551616.0))
			return -1;
		*neg = v->v.d < 0;
		*mag = (uint64_t)llround(fabs(v->v.d));
		return 0;
	default:
		return -1;
	}
}

static int encode_integer(const struct myv *v, const struct rs_coldef *cd,
			  enum rs_proto proto, uint8_t *buf, struct rs_cell *c)
{
	bool neg, is_unsigned = cd->flags & RS_UNSIGNED_FLAG;
	uint64_t mag, bits;
	int width;

	if (as_integer(v, &neg, &mag))
		return -1;
	if (neg && is_unsigned && mag)
		return -1;
	if (!neg && !is_unsigned && mag > INT64_MAX)
		return -1;
	if (neg && mag > (uint64_t)INT64_MAX + 1)
		return -1;
	if (proto == RS_TEXT) {
		c->len = (uint32_t)sprintf((char *)buf, "%s%llu",
					   neg && mag ? "-" : "",
					   (unsigned long long)mag);
		c->p = buf;
		return 0;
	}
	width = rs_binary_fixed_len(cd->type);
	bits = neg ? 0 - mag : mag;
	/* The value must survive the narrowing to the type's width. */
	if (width < 8) {
		uint64_t lim = 1ull << (8 * width - (is_unsigned ? 0 : 1));

		if (neg ? mag > lim : mag >= lim)
			return -1;
	}
	for (int i = 0; i < width; i++)
		buf[i] = (uint8_t)(bits >> (8 * i));
	c->p = buf;
	c->len = (uint32_t)width;
	return 0;
}

static int encode_decimal(const struct myv *v, const struct rs_coldef *cd,
			  uint8_t *buf, struct rs_cell *c)
{
	struct mdec d;

	if (v->kind == MYV_DOUBLE) {
		char tmp[400];
		int n = snprintf(tmp, sizeof(tmp), "%.*f",
				 cd->decimals > 38 ? 38 : cd->decimals, v->v.d);

		if (n < 0 || (size_t)n >= sizeof(tmp) ||
		    mdec_parse(tmp, (size_t)n, &d))
			return -1;
	} else if (myv_to_dec(v, &d)) {
		return -1;
	}
	if (mdec_rescale(&d, cd->decimals > MDEC_MAX_SCALE ? MDEC_MAX_SCALE
							   : cd->decimals))
		return -1;
	c->len = (uint32_t)mdec_format(&d, (char *)buf);
	c->p = buf;
	return 0;
}

static int encode_double(const struct myv *v, const struct rs_coldef *cd,
			 enum rs_proto proto, uint8_t *buf, struct rs_cell *c)
{
	double d;

	if (myv_to_double(v, &d))
		return -1;
	c->p = buf;
	if (proto == RS_BINARY) {
		if (cd->type == RS_TYPE_FLOAT) {
			float f = (float)d;
			uint32_t bits;

			memcpy(&bits, &f, 4);
			mysql_put_u32(buf, bits);
			c->len = 4;
		} else {
			uint64_t bits;

			memcpy(&bits, &d, 8);
			mysql_put_u32(buf, (uint32_t)bits);
			mysql_put_u32(buf + 4, (uint32_t)(bits >> 32));
			c->len = 8;
		}
		return 0;
	}
	if (cd->decimals >= RS_NOT_FIXED_DEC) {
		c->len = (uint32_t)myv_format_double(d, cd->type == RS_TYPE_FLOAT,
						     (char *)buf);
		return 0;
	}
	if (fabs(d) >= 1e300)
		return -1;
	c->len = (uint32_t)snprintf((char *)buf, MYV_ENCODE_MAX, "%.*f",
				    (int)cd->decimals, d);
	return c->len < MYV_ENCODE_MAX ? 0 : -1;
}

/* Any value as text, for a string column. */
static int encode_as_text(const struct myv *v, uint8_t *buf, struct rs_cell *c)
{
	struct myv_tm tm;

	c->p = buf;
	switch (v->kind) {
	case MYV_STR:
		c->p = v->v.s.p;
		c->len = v->v.s.len;
		return 0;
	case MYV_INT:
		c->len = (uint32_t)sprintf((char *)buf, "%lld", (long long)v->v.i);
		return 0;
	case MYV_UINT:
		c->len = (uint32_t)sprintf((char *)buf, "%llu",
					   (unsigned long long)v->v.u);
		return 0;
	case MYV_DEC:
		c->len = (uint32_t)mdec_format(&v->v.dec, (char *)buf);
		return 0;
	case MYV_DOUBLE:
		c->len = (uint32_t)myv_format_double(v->v.d, false, (char *)buf);
		return 0;
	case MYV_TIME:
		myv_time_unpack(v->v.t, v->type, &tm);
		c->len = (uint32_t)format_time_text(&tm, v->type, 6, (char *)buf);
		return 0;
	default:
		return -1;
	}
}

/* ZEROFILL columns print their numbers zero-padded to the width. */
static void zerofill(const struct rs_coldef *cd, uint8_t *buf,
		     struct rs_cell *cell)
{
	size_t pad;

	if (!(cd->flags & RS_ZEROFILL_FLAG) || cell->len >= cd->length ||
	    cd->length >= MYV_ENCODE_MAX || cell->p != buf)
		return;
	pad = cd->length - cell->len;
	memmove(buf + pad, buf, cell->len);
	memset(buf, '0', pad);
	cell->len = cd->length;
}

static int encode_number(const struct myv *v, const struct rs_coldef *cd,
			 enum rs_proto proto, uint8_t *buf,
			 struct rs_cell *cell)
{
	int r;

	if (is_int_type(cd->type))
		r = encode_integer(v, cd, proto, buf, cell);
	else if (is_dec_type(cd->type))
		r = encode_decimal(v, cd, buf, cell);
	else
		r = encode_double(v, cd, proto, buf, cell);
	if (!r && (proto == RS_TEXT || is_dec_type(cd->type)))
		zerofill(cd, buf, cell);
	return r;
}

int myv_encode(const struct myv *v, const struct rs_coldef *cd,
	       enum rs_proto proto, uint8_t *buf, struct rs_cell *cell)
{
	uint8_t t = cd->type;

	cell->null = false;
	if (v->kind == MYV_NULL) {
		cell->null = true;
		cell->p = buf;
		cell->len = 0;
		return 0;
	}
	if (v->raw && v->type == t && v->proto == proto) {
		cell->p = v->raw;
		cell->len = v->raw_len;
		return 0;
	}
	if (is_int_type(t) || is_dec_type(t) || is_float_type(t))
		return encode_number(v, cd, proto, buf, cell);
	if (is_temporal_type(t)) {
		struct myv_tm tm;

		if (v->kind != MYV_TIME || is_time_type(v->type) != is_time_type(t))
			return -1;
		myv_time_unpack(v->v.t, v->type, &tm);
		cell->p = buf;
		cell->len = (uint32_t)(proto == RS_TEXT
					       ? format_time_text(&tm, t, cd->decimals,
								  (char *)buf)
					       : format_time_binary(&tm, t, buf));
		return 0;
	}
	if (t == RS_TYPE_NULL)
		return -1;
	return encode_as_text(v, buf, cell);
}
