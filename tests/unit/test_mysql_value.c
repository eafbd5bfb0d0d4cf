/*
 * The value model: how values of each kind compare (as ORDER BY does),
 * doubles printed as MariaDB prints them (captured pairs of the binary
 * protocol's 8 bytes and the server's text), and what does not encode.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "merge_fixtures.h"
#include "mysql_value.h"

static struct myv decode_text(uint8_t type, uint16_t flags, const char *s)
{
	struct rs_coldef cd = {.type = type, .flags = flags, .charset = 63,
			       .decimals = RS_NOT_FIXED_DEC};
	struct rs_cell c = {(const uint8_t *)s, s ? (uint32_t)strlen(s) : 0,
			    s == NULL};
	struct myv v;

	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), 0, "decode %s", s);
	return v;
}

Test(mysql_value, null_sorts_first_and_equals_null)
{
	struct myv n = decode_text(RS_TYPE_LONG, 0, NULL);
	struct myv x = decode_text(RS_TYPE_LONG, 0, "-2147483648");

	cr_assert_eq(n.kind, MYV_NULL);
	cr_assert_lt(myv_cmp(&n, &x, NULL), 0);
	cr_assert_gt(myv_cmp(&x, &n, NULL), 0);
	cr_assert_eq(myv_cmp(&n, &n, NULL), 0);
}

Test(mysql_value, numbers_compare_by_value_across_kinds)
{
	struct myv i = decode_text(RS_TYPE_LONGLONG, 0, "-1");
	struct myv u = decode_text(RS_TYPE_LONGLONG, RS_UNSIGNED_FLAG,
				   "18446744073709551615");
	struct myv d = decode_text(RS_TYPE_NEWDECIMAL, 0, "-1.000");
	struct myv big = decode_text(RS_TYPE_NEWDECIMAL, 0,
				     "18446744073709551615.5");
	struct myv f = decode_text(RS_TYPE_DOUBLE, 0, "-0.5");

	cr_assert_lt(myv_cmp(&i, &u, NULL), 0);
	cr_assert_gt(myv_cmp(&u, &i, NULL), 0);
	cr_assert_eq(myv_cmp(&i, &d, NULL), 0, "-1 = -1.000");
	cr_assert_lt(myv_cmp(&u, &big, NULL), 0);
	cr_assert_lt(myv_cmp(&i, &f, NULL), 0);
	struct myv below = decode_text(RS_TYPE_NEWDECIMAL, 0, "-1.0001");

	cr_assert_gt(myv_cmp(&d, &below, NULL), 0);
	/* YEAR is unsigned whatever its flags say. */
	cr_assert_eq(decode_text(RS_TYPE_YEAR, 0, "2024").kind, MYV_UINT);
}

Test(mysql_value, garbage_is_refused)
{
	struct rs_coldef cd = {.type = RS_TYPE_LONG};
	struct rs_cell c = {(const uint8_t *)"12a", 3, false};
	struct myv v;

	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
	cd.type = RS_TYPE_LONGLONG;
	c = (struct rs_cell){(const uint8_t *)"9223372036854775808", 19, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1, "above INT64_MAX");
	cd.flags = RS_UNSIGNED_FLAG;
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), 0);
	c = (struct rs_cell){(const uint8_t *)"-1", 2, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1, "negative unsigned");
	cd.type = RS_TYPE_DATE;
	c = (struct rs_cell){(const uint8_t *)"2024-13-01", 10, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
	cd.type = RS_TYPE_DATETIME;
	c = (struct rs_cell){(const uint8_t *)"2024-01-01 10:00", 16, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
	cd.type = RS_TYPE_DOUBLE;
	c = (struct rs_cell){(const uint8_t *)"nan", 3, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
	cd.type = RS_TYPE_NEWDECIMAL;
	c = (struct rs_cell){(const uint8_t *)"1e3", 3, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
}

Test(mysql_value, temporal_values_order_by_time)
{
	static const char *const dates[] = {
		"0000-00-00 00:00:00", "0000-01-00 00:00:00",
		"1969-12-31 23:59:59.999999", "1970-01-01 00:00:00",
		"2024-02-29 12:00:00.5", "9999-12-31 23:59:59.999999",
	};
	static const char *const times[] = {
		"-838:59:59", "-00:00:00.000001", "00:00:00", "00:00:00.000001",
		"23:59:59", "24:00:00", "838:59:59.999999",
	};

	for (size_t i = 0; i + 1 < sizeof(dates) / sizeof(dates[0]); i++) {
		struct myv a = decode_text(RS_TYPE_DATETIME, 0, dates[i]);
		struct myv b = decode_text(RS_TYPE_DATETIME, 0, dates[i + 1]);

		cr_assert_lt(myv_cmp(&a, &b, NULL), 0, "%s < %s", dates[i],
			     dates[i + 1]);
	}
	for (size_t i = 0; i + 1 < sizeof(times) / sizeof(times[0]); i++) {
		struct myv a = decode_text(RS_TYPE_TIME, 0, times[i]);
		struct myv b = decode_text(RS_TYPE_TIME, 0, times[i + 1]);

		cr_assert_lt(myv_cmp(&a, &b, NULL), 0, "%s < %s", times[i],
			     times[i + 1]);
	}
}

Test(mysql_value, strings_by_collation_or_bytes)
{
	struct coll c;
	char err[128];
	struct myv a = decode_text(RS_TYPE_VAR_STRING, 0, "abc");
	struct myv b = decode_text(RS_TYPE_VAR_STRING, 0, "ABC ");

	cr_assert_gt(myv_cmp(&a, &b, NULL), 0, "bytes: 'a' > 'A'");
	cr_assert_eq(coll_resolve(COLL_UTF8MB4_GENERAL_CI, COLL_UTF8MB4_GENERAL_CI,
				  "ORDER BY", &c, err, sizeof(err)), 0);
	cr_assert_eq(myv_cmp(&a, &b, &c), 0);
}

/* Every double of the fixture: the server's text from its bits. */
Test(mysql_value, doubles_print_like_the_server)
{
	for (size_t i = 0; i < sizeof(FIX_DOUBLES) / sizeof(FIX_DOUBLES[0]); i++) {
		uint64_t bits = 0;
		double d;
		char out[40];
		size_t n;

		for (int k = 7; k >= 0; k--) {
			unsigned byte;

			sscanf(FIX_DOUBLES[i].bits + 2 * k, "%2x", &byte);
			bits = bits << 8 | byte;
		}
		memcpy(&d, &bits, 8);
		n = myv_format_double(d, false, out);
		out[n] = '\0';
		cr_assert_str_eq(out, FIX_DOUBLES[i].text, "bits %s: %s, server %s",
				 FIX_DOUBLES[i].bits, out, FIX_DOUBLES[i].text);
	}
}

Test(mysql_value, encode_into_column_types)
{
	struct rs_coldef tiny = {.type = RS_TYPE_TINY};
	struct rs_coldef dec = {.type = RS_TYPE_NEWDECIMAL, .decimals = 2};
	struct rs_coldef dbl = {.type = RS_TYPE_DOUBLE, .decimals = 3};
	struct rs_coldef date = {.type = RS_TYPE_DATE};
	uint8_t buf[MYV_ENCODE_MAX];
	struct rs_cell cell;
	struct myv v = decode_text(RS_TYPE_LONGLONG, 0, "-129");

	v.raw = NULL;
	cr_assert_eq(myv_encode(&v, &tiny, RS_BINARY, buf, &cell), -1,
		     "-129 is no TINYINT");
	v = decode_text(RS_TYPE_LONGLONG, 0, "-128");
	v.raw = NULL;
	cr_assert_eq(myv_encode(&v, &tiny, RS_BINARY, buf, &cell), 0);
	cr_assert_eq(cell.len, 1);
	cr_assert_eq(buf[0], 0x80);
	v = decode_text(RS_TYPE_NEWDECIMAL, 0, "2.675");
	v.raw = NULL;
	cr_assert_eq(myv_encode(&v, &dec, RS_TEXT, buf, &cell), 0);
	cr_assert_eq(cell.len, 4);
	cr_assert_eq(memcmp(cell.p, "2.68", 4), 0, "half away from zero");
	v.kind = MYV_DOUBLE;
	v.v.d = 1.0 / 3;
	cr_assert_eq(myv_encode(&v, &dbl, RS_TEXT, buf, &cell), 0);
	cr_assert_eq(memcmp(cell.p, "0.333", 5), 0);
	cr_assert_eq(myv_encode(&v, &date, RS_TEXT, buf, &cell), -1,
		     "a number is no DATE");
	/* NULL encodes as NULL in any column. */
	myv_null(&v);
	cr_assert_eq(myv_encode(&v, &date, RS_BINARY, buf, &cell), 0);
	cr_assert(cell.null);
}

/* Found by fuzz_rows: a FLOAT's text beyond FLOAT's range is no value (a
 * server never sends one; read as a float it would be infinite). */
Test(mysql_value, float_text_beyond_float_is_refused)
{
	struct rs_coldef cd = {.type = RS_TYPE_FLOAT, .charset = 63};
	struct rs_cell c = {(const uint8_t *)"1e39", 4, false};
	struct myv v;

	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), -1);
	c = (struct rs_cell){(const uint8_t *)"3.4e38", 6, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), 0);
	cd.type = RS_TYPE_DOUBLE;
	c = (struct rs_cell){(const uint8_t *)"1e39", 4, false};
	cr_assert_eq(myv_decode(&c, &cd, RS_TEXT, &v), 0);
}

/* Found by fuzz_rows: a binary DATE sent with a time of day (the 7-byte
 * form) is that date; it equals the same date sent in 4 bytes. */
Test(mysql_value, binary_date_with_a_time_is_its_date)
{
	static const uint8_t with_time[] = {0xe8, 0x07, 1, 2, 3, 4, 5};
	static const uint8_t date_only[] = {0xe8, 0x07, 1, 2};
	struct rs_coldef cd = {.type = RS_TYPE_DATE, .charset = 63};
	struct rs_cell a = {with_time, sizeof(with_time), false};
	struct rs_cell b = {date_only, sizeof(date_only), false};
	struct myv x, y;

	cr_assert_eq(myv_decode(&a, &cd, RS_BINARY, &x), 0);
	cr_assert_eq(myv_decode(&b, &cd, RS_BINARY, &y), 0);
	cr_assert_eq(myv_cmp(&x, &y, NULL), 0);
}
