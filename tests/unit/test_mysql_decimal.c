/*
 * Exact decimals: text round trips, addition with carries and signs,
 * comparison across scales, rounding as the server rounds (half away from
 * zero), AVG's division, and the bound that makes SUM of DECIMAL(65,30)
 * exact over any number of rows.  Expected values marked "server" were
 * read from MariaDB 10.11.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "mysql_decimal.h"

static struct mdec dec(const char *s)
{
	struct mdec d;

	cr_assert_eq(mdec_parse(s, strlen(s), &d), 0, "parse %s", s);
	return d;
}

static void expect_text(const struct mdec *d, const char *want)
{
	char buf[MDEC_TEXT_MAX + 1];
	size_t n = mdec_format(d, buf);

	buf[n] = '\0';
	cr_assert_str_eq(buf, want);
}

Test(mysql_decimal, parse_format_round_trip)
{
	static const char *const same[] = {
		"0", "1", "-1", "0.5", "-0.5", "123456789", "1234567890",
		"999999999999999999", "1000000000000000000", "0.000001",
		"-99999999.99", "12345.678901234567890123456789012345",
		"99999999999999999999999999999999999999999999999999999999999999999",
		"-99999999999999999999999999999999999.999999999999999999999999999999",
		"0.000000000000000000000000000000000001",
	};

	for (size_t i = 0; i < sizeof(same) / sizeof(same[0]); i++) {
		struct mdec d = dec(same[i]);

		expect_text(&d, same[i]);
	}
	/* Leading zeros and '+' go, the scale stays, zero has no sign. */
	struct mdec d = dec("+007.50");

	expect_text(&d, "7.50");
	d = dec("-0.000");
	expect_text(&d, "0.000");
	cr_assert(!d.neg);
}

Test(mysql_decimal, parse_rejects_garbage)
{
	static const char *const bad[] = {
		"", "-", ".", "1.2.3", "1e5", " 1", "1 ", "0x10", "--1", "1,5",
		/* 39 digits after the point: above DECIMAL_MAX_SCALE */
		"0.000000000000000000000000000000000000001",
	};
	struct mdec d;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		cr_assert_eq(mdec_parse(bad[i], strlen(bad[i]), &d), -1, "%s",
			     bad[i]);
	/* 100 significant digits do not fit; 99 do. */
	char big[101];

	memset(big, '9', 100);
	big[100] = '\0';
	cr_assert_eq(mdec_parse(big, 100, &d), -1);
	cr_assert_eq(mdec_parse(big, 99, &d), 0);
}

Test(mysql_decimal, add_signs_scales_and_carries)
{
	struct mdec a = dec("999999999.999999999"), b = dec("0.000000001");

	cr_assert_eq(mdec_add(&a, &b), 0);
	expect_text(&a, "1000000000.000000000");
	a = dec("1.5");
	b = dec("-2.25");
	cr_assert_eq(mdec_add(&a, &b), 0);
	expect_text(&a, "-0.75");
	b = dec("0.75");
	cr_assert_eq(mdec_add(&a, &b), 0);
	expect_text(&a, "0.00");
	cr_assert(!a.neg, "zero is never negative");
	a = dec("-1000000000000000000");
	b = dec("1");
	cr_assert_eq(mdec_add(&a, &b), 0);
	expect_text(&a, "-999999999999999999");
	a = dec("12");
	b = dec("0.001");
	cr_assert_eq(mdec_add(&a, &b), 0);
	expect_text(&a, "12.001");
}

Test(mysql_decimal, integers)
{
	struct mdec d;

	mdec_from_i64(&d, INT64_MIN);
	expect_text(&d, "-9223372036854775808");
	mdec_from_u64(&d, UINT64_MAX);
	expect_text(&d, "18446744073709551615");
	mdec_from_i64(&d, 0);
	expect_text(&d, "0");
}

Test(mysql_decimal, compare_by_value)
{
	struct mdec a = dec("1.50"), b = dec("1.5");

	cr_assert_eq(mdec_cmp(&a, &b), 0);
	a = dec("-2");
	b = dec("-10");
	cr_assert_gt(mdec_cmp(&a, &b), 0);
	a = dec("0.000000000000000000000000000000000001");
	b = dec("0");
	cr_assert_gt(mdec_cmp(&a, &b), 0);
	/* A 99-digit integer against a value with 38 decimals: scaling up
	 * overflows, and the integer is still known to be larger. */
	char big[100];

	memset(big, '9', 99);
	a = dec("0.5");
	cr_assert_eq(mdec_parse(big, 99, &b), 0);
	cr_assert_lt(mdec_cmp(&a, &b), 0);
	cr_assert_gt(mdec_cmp(&b, &a), 0);
	b.neg = true;
	cr_assert_gt(mdec_cmp(&a, &b), 0);
}

Test(mysql_decimal, rescale_rounds_half_away_from_zero)
{
	static const struct {
		const char *in;
		unsigned scale;
		const char *out;
	} cases[] = {
		{"0.15625", 4, "0.1563"}, {"-0.15625", 4, "-0.1563"},
		{"0.15624999", 4, "0.1562"}, {"9.9999", 2, "10.00"},
		{"-9.995", 2, "-10.00"}, {"0.0004", 3, "0.000"},
		{"1.5", 0, "2"}, {"2.5", 0, "3"}, {"-0.5", 0, "-1"},
		{"-0.4", 0, "0"}, {"1", 3, "1.000"},
		{"1.0000000000000000000000000005", 9, "1.000000000"},
		{"0.99999999999999999999999999999", 10, "1.0000000000"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mdec d = dec(cases[i].in);

		cr_assert_eq(mdec_rescale(&d, cases[i].scale), 0);
		expect_text(&d, cases[i].out);
	}
}

/* AVG = SUM / COUNT at scale s + 4: the server's answers. */
Test(mysql_decimal, division_like_avg)
{
	static const struct {
		const char *sum;
		uint64_t count;
		unsigned scale;
		const char *out;
	} cases[] = {
		{"2", 3, 4, "0.6667"},                   /* server */
		{"-2", 3, 4, "-0.6667"},                 /* server */
		{"1", 8, 4, "0.1250"},                   /* server */
		{"5", 32, 4, "0.1563"},                  /* server */
		{"199999999999999999999999999999999999999999999999999999999999999998",
		 2, 4,
		 "99999999999999999999999999999999999999999999999999999999999999999.0000"},
		{"199999999999999999999999999999999999.999999999999999999999999999999",
		 3, 34,
		 "66666666666666666666666666666666666.6666666666666666666666666666663333"},
		{"7.000001", 2, 2, "3.50"},
		{"0", 5, 4, "0.0000"},
		{"18446744073709551615", 18446744073709551615ull, 4, "1.0000"},
		{"1", 18446744073709551615ull, 38,
		 "0.00000000000000000005421010862427522170"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct mdec s = dec(cases[i].sum), q;

		cr_assert_eq(mdec_div_u64(&s, cases[i].count, cases[i].scale, &q),
			     0, "%s", cases[i].sum);
		expect_text(&q, cases[i].out);
	}
}

/* The bound in mysql_decimal.h: summing the largest DECIMAL(65,0) (and
 * DECIMAL(65,30)) values never overflows, however many rows. */
Test(mysql_decimal, sum_of_largest_values_is_exact)
{
	char big[66];
	struct mdec acc, x, q;
	char buf[MDEC_TEXT_MAX + 1];
	size_t n;

	memset(big, '9', 65);
	cr_assert_eq(mdec_parse(big, 65, &x), 0);
	mdec_zero(&acc, 0);
	for (int i = 0; i < 100000; i++)
		cr_assert_eq(mdec_add(&acc, &x), 0);
	/* 100000 * (10^65 - 1) = 10^70 - 10^5: 65 nines, 5 zeros. */
	n = mdec_format(&acc, buf);
	buf[n] = '\0';
	cr_assert_eq(n, 70);
	for (int i = 0; i < 65; i++)
		cr_assert_eq(buf[i], '9');
	cr_assert_str_eq(buf + 65, "00000");
	/* The largest DECIMAL(65,30) times 2^64 - 1 rows still fits: add it
	 * to itself 64 times (x * 2^64) with room to spare. */
	cr_assert_eq(mdec_parse(
		"99999999999999999999999999999999999.999999999999999999999999999999",
		66, &x), 0);
	for (int i = 0; i < 64; i++)
		cr_assert_eq(mdec_add(&x, &x), 0);
	cr_assert_eq(mdec_div_u64(&x, 1, 34, &q), 0, "AVG's scale fits too");
	/* And the limit is real: 99 digits of nines plus one overflows. */
	char nines[99];

	memset(nines, '9', 99);
	cr_assert_eq(mdec_parse(nines, 99, &x), 0);
	mdec_from_u64(&q, 1);
	cr_assert_eq(mdec_add(&x, &q), -1);
}

/* Found by fuzz_rows: dropping more digits than a small value has. */
Test(mysql_decimal, rescale_far_below_the_value)
{
	struct mdec d = dec("0.000000000000000000000000000041");

	cr_assert_eq(mdec_rescale(&d, 0), 0);
	expect_text(&d, "0");
	d = dec("-0.00000000000000000000000000000000005");
	cr_assert_eq(mdec_rescale(&d, 0), 0);
	expect_text(&d, "0");
	d = dec("0.00000000000000000000000000000000005");
	cr_assert_eq(mdec_rescale(&d, 34), 0);
	expect_text(&d, "0.0000000000000000000000000000000001");
}

static void expect_div(const char *a, const char *b, unsigned scale,
		       bool truncate, const char *want)
{
	struct mdec x = dec(a), y = dec(b), q;

	cr_assert_eq(mdec_div(&x, &y, scale, truncate, &q), 0, "%s / %s", a,
		     b);
	expect_text(&q, want);
}

/* `/` at the dividend's scale + 4 (div_precision_increment), and DIV. */
Test(mysql_decimal, division_of_decimals)
{
	struct mdec x = dec("1"), zero = dec("0.00"), q;

	/* server */
	expect_div("10", "3", 4, false, "3.3333");
	expect_div("2", "3", 4, false, "0.6667");
	expect_div("-2", "3", 4, false, "-0.6667");
	expect_div("2", "-3", 4, false, "-0.6667");
	expect_div("1.5", "7", 5, false, "0.21429");
	expect_div("1.00", "3.0", 6, false, "0.333333");
	expect_div("0.00005", "1", 9, false, "0.000050000");
	expect_div("1", "8", 4, false, "0.1250");
	expect_div("10.0", "4", 5, false, "2.50000");
	expect_div("1", "123456789012345678901", 4, false, "0.0000");
	expect_div("98765432109876543210.123456789", "123456789012345678901",
		   13, false, "0.8000000072900");
	expect_div("-12345678901234567890.5", "3", 0, true,
		   "-4115226300411522630");
	expect_div("7.5", "2", 0, true, "3");
	expect_div("-7", "2", 0, true, "-3");
	/* half away from zero, and a divisor of several limbs */
	expect_div("1", "8", 2, false, "0.13");
	expect_div("-1", "8", 2, false, "-0.13");
	expect_div("-1", "-8", 2, false, "0.13");
	expect_div("1", "-8", 2, true, "-0.12");
	expect_div("246913578024691357802", "123456789012345678901", 4, false,
		   "2.0000");
	expect_div("0", "-5", 4, false, "0.0000");
	/* the dividend's scale above the result's */
	expect_div("1.23456789", "1", 2, false, "1.23");
	cr_assert_eq(mdec_div(&x, &zero, 4, false, &q), -1);
}

static void expect_mod(const char *a, const char *b, const char *want)
{
	struct mdec x = dec(a), y = dec(b), r;

	cr_assert_eq(mdec_mod(&x, &y, &r), 0, "%s %% %s", a, b);
	expect_text(&r, want);
}

Test(mysql_decimal, modulo_keeps_the_dividends_sign)
{
	struct mdec x = dec("1"), zero = dec("0"), r;

	/* server */
	expect_mod("7.5", "-2", "1.5");
	expect_mod("5.55", "0.5", "0.05");
	expect_mod("-7", "3", "-1");
	expect_mod("9", "-4", "1");
	expect_mod("12345678901234567890123", "1234567890123", "4567890123");
	expect_mod("-6", "3", "0");
	cr_assert_eq(mdec_mod(&x, &zero, &r), -1);
}
