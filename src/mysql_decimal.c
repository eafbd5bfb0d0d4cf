#include "mysql_decimal.h"

#include <stdlib.h>
#include <string.h>

#define BASE 1000000000u

static const uint32_t pow10_u32[10] = {
	1u, 10u, 100u, 1000u, 10000u, 100000u, 1000000u, 10000000u,
	100000000u, 1000000000u,
};

/* ---- magnitudes: limb arrays, least significant first ------------------ */

static void trim(struct mdec *d)
{
	while (d->n && d->limb[d->n - 1] == 0)
		d->n--;
	if (!d->n)
		d->neg = false;
}

/* m = m * mul + add, mul <= BASE.  -1 if the result needs more limbs. */
static int mag_muladd(struct mdec *d, uint32_t mul, uint32_t add)
{
	uint64_t carry = add;

	for (unsigned i = 0; i < d->n; i++) {
		uint64_t t = (uint64_t)d->limb[i] * mul + carry;
		d->limb[i] = (uint32_t)(t % BASE);
		carry = t / BASE;
	}
	if (carry) {
		if (d->n == MDEC_LIMBS)
			return -1;
		d->limb[d->n++] = (uint32_t)carry;
	}
	return 0;
}

/* Multiplies the magnitude by 10^k. */
static int mag_shift_up(struct mdec *d, unsigned k)
{
	unsigned whole = k / 9;

	if (!d->n)
		return 0;
	if (whole) {
		if (d->n + whole > MDEC_LIMBS)
			return -1;
		memmove(d->limb + whole, d->limb, d->n * sizeof(d->limb[0]));
		memset(d->limb, 0, whole * sizeof(d->limb[0]));
		d->n = (uint8_t)(d->n + whole);
	}
	return k % 9 ? mag_muladd(d, pow10_u32[k % 9], 0) : 0;
}

/* Divides the magnitude by div (> 0); returns the remainder. */
static uint64_t mag_divmod(struct mdec *d, uint64_t div)
{
	unsigned __int128 rem = 0;

	for (unsigned i = d->n; i-- > 0;) {
		unsigned __int128 cur = rem * BASE + d->limb[i];
		d->limb[i] = (uint32_t)(cur / div);
		rem = cur % div;
	}
	trim(d);
	return (uint64_t)rem;
}

static int mag_cmp(const struct mdec *a, const struct mdec *b)
{
	if (a->n != b->n)
		return a->n < b->n ? -1 : 1;
	for (unsigned i = a->n; i-- > 0;)
		if (a->limb[i] != b->limb[i])
			return a->limb[i] < b->limb[i] ? -1 : 1;
	return 0;
}

/* a += b (magnitudes). */
static int mag_add(struct mdec *a, const struct mdec *b)
{
	unsigned n = a->n > b->n ? a->n : b->n;
	uint32_t carry = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t x = i < a->n ? a->limb[i] : 0;
		uint32_t y = i < b->n ? b->limb[i] : 0;
		uint32_t t = x + y + carry;       /* < 2 * BASE: no wrap */

		carry = t >= BASE;
		a->limb[i] = carry ? t - BASE : t;
	}
	a->n = (uint8_t)n;
	if (carry) {
		if (n == MDEC_LIMBS)
			return -1;
		a->limb[a->n++] = 1;
	}
	return 0;
}

/* a = b - a where b >= a (magnitudes). */
static void mag_rsub(struct mdec *a, const struct mdec *b)
{
	int32_t borrow = 0;

	for (unsigned i = 0; i < b->n; i++) {
		int64_t t = (int64_t)b->limb[i] - (i < a->n ? a->limb[i] : 0) -
			    borrow;

		borrow = t < 0;
		a->limb[i] = (uint32_t)(borrow ? t + BASE : t);
	}
	a->n = b->n;
	trim(a);
}

/* a -= b where a >= b (magnitudes). */
static void mag_sub(struct mdec *a, const struct mdec *b)
{
	int32_t borrow = 0;

	for (unsigned i = 0; i < a->n; i++) {
		int64_t t = (int64_t)a->limb[i] - (i < b->n ? b->limb[i] : 0) -
			    borrow;

		borrow = t < 0;
		a->limb[i] = (uint32_t)(borrow ? t + BASE : t);
	}
	trim(a);
}

/* ---- public -------------------------------------------------------------- */

int mdec_parse(const char *s, size_t len, struct mdec *d)
{
	size_t i = 0, digits = 0, frac = 0;
	bool neg = false, seen_point = false, any = false;
	uint32_t chunk = 0;
	unsigned chunk_len = 0;

	mdec_zero(d, 0);
	if (i < len && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	for (; i < len; i++) {
		char c = s[i];

		if (c == '.' && !seen_point) {
			seen_point = true;
			continue;
		}
		if (c < '0' || c > '9')
			return -1;
		any = true;
		if (seen_point && ++frac > MDEC_MAX_SCALE)
			return -1;
		/* Leading zeros carry no digits (but fraction zeros do). */
		if (!digits && c == '0' && !seen_point)
			continue;
		if (++digits > MDEC_DIGITS)
			return -1;
		chunk = chunk * 10 + (uint32_t)(c - '0');
		if (++chunk_len == 9) {
			if (mag_muladd(d, BASE, chunk))
				return -1;
			chunk = 0;
			chunk_len = 0;
		}
	}
	if (!any)
		return -1;
	if (chunk_len && mag_muladd(d, pow10_u32[chunk_len], chunk))
		return -1;
	/* mag_muladd on an empty magnitude appends the chunk as a limb; a
	 * zero chunk leaves a zero limb behind. */
	trim(d);
	d->scale = (uint8_t)frac;
	d->neg = neg && d->n;
	return 0;
}

void mdec_from_u64(struct mdec *d, uint64_t v)
{
	mdec_zero(d, 0);
	while (v) {
		d->limb[d->n++] = (uint32_t)(v % BASE);
		v /= BASE;
	}
}

void mdec_from_i64(struct mdec *d, int64_t v)
{
	/* -(v + 1) + 1 keeps INT64_MIN in range. */
	uint64_t mag = v < 0 ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;

	mdec_from_u64(d, mag);
	d->neg = v < 0;
}

/* Drops k digits, rounding half away from zero: the result is rounded up
 * exactly when the first dropped digit is 5 or more. */
static void shift_down_round(struct mdec *d, unsigned k)
{
	uint64_t first;

	if (!k)
		return;
	/* Whole limbs first, then single digits, keeping the last one. */
	while (k > 9 && d->n) {
		memmove(d->limb, d->limb + 1, (d->n - 1) * sizeof(d->limb[0]));
		d->n--;
		k -= 9;
	}
	/* Nothing left: every digit was dropped, and they were zeros above
	 * the ones already gone. */
	if (!d->n)
		return;
	if (k > 1)
		mag_divmod(d, pow10_u32[k - 1]);
	first = mag_divmod(d, 10);
	if (first >= 5) {
		bool neg = d->neg;

		/* Cannot overflow: the value just lost at least one digit. */
		mag_muladd(d, 1, 1);
		d->neg = neg;
	}
	trim(d);
}

int mdec_rescale(struct mdec *d, unsigned scale)
{
	if (scale > MDEC_MAX_SCALE)
		return -1;
	if (scale > d->scale) {
		struct mdec t = *d;

		if (mag_shift_up(&t, scale - d->scale))
			return -1;
		*d = t;
	} else {
		bool neg = d->neg;

		shift_down_round(d, d->scale - scale);
		d->neg = neg && d->n;
	}
	d->scale = (uint8_t)scale;
	return 0;
}

int mdec_add(struct mdec *acc, const struct mdec *x)
{
	struct mdec a = *acc, b = *x;
	unsigned scale = a.scale > b.scale ? a.scale : b.scale;

	if (mdec_rescale(&a, scale) || mdec_rescale(&b, scale))
		return -1;
	if (a.neg == b.neg || !b.n) {
		if (mag_add(&a, &b))
			return -1;
	} else if (mag_cmp(&a, &b) >= 0) {
		mag_sub(&a, &b);
	} else {
		mag_rsub(&a, &b);
		a.neg = b.neg;
	}
	trim(&a);
	*acc = a;
	return 0;
}

int mdec_cmp(const struct mdec *a, const struct mdec *b)
{
	struct mdec x = *a, y = *b;
	int sign, c;

	if (x.neg != y.neg)
		return x.neg ? -1 : 1;
	sign = x.neg ? -1 : 1;
	/* A magnitude that overflows when scaled up is larger than anything
	 * that fits. */
	if (x.scale < y.scale) {
		if (mag_shift_up(&x, y.scale - x.scale))
			return sign;
	} else if (y.scale < x.scale) {
		if (mag_shift_up(&y, x.scale - y.scale))
			return -sign;
	}
	c = mag_cmp(&x, &y);
	return c * sign;
}

int mdec_div_u64(const struct mdec *a, uint64_t div, unsigned scale,
		 struct mdec *q)
{
	struct mdec t = *a;
	uint64_t rem;
	bool neg = a->neg;

	if (!div || scale > MDEC_MAX_SCALE)
		return -1;
	if (scale >= t.scale) {
		if (mag_shift_up(&t, scale - t.scale))
			return -1;
		rem = mag_divmod(&t, div);
		/* Half away from zero: up when rem / div >= 1/2. */
		if (rem >= div - rem && mag_muladd(&t, 1, 1))
			return -1;
	} else {
		/* The quotient at the dividend's scale, then rounded: the
		 * remainder below it cannot change a half-up decision. */
		mag_divmod(&t, div);
		shift_down_round(&t, t.scale - scale);
	}
	t.scale = (uint8_t)scale;
	t.neg = neg;
	trim(&t);
	*q = t;
	return 0;
}

/*
 * Long division of magnitudes: q = n / d, r = n % d (d nonzero, both
 * trimmed).  One decimal digit of n at a time: the remainder stays below
 * 10 * d, so each quotient digit takes at most nine subtractions.  Slow
 * next to word division, but values here have at most 99 digits and are
 * divided once per merged row.
 */
static void mag_divmod_big(const struct mdec *n, const struct mdec *d,
			   struct mdec *q, struct mdec *r)
{
	mdec_zero(q, 0);
	mdec_zero(r, 0);
	for (unsigned i = n->n; i-- > 0;) {
		for (int k = 8; k >= 0; k--) {
			uint32_t digit = n->limb[i] / pow10_u32[k] % 10;
			uint32_t qd = 0;

			/* r < d on entry: r * 10 + digit < 10 * d fits, as
			 * does q, never above n. */
			mag_muladd(r, 10, digit);
			while (mag_cmp(r, d) >= 0) {
				mag_sub(r, d);
				qd++;
			}
			mag_muladd(q, 10, qd);
		}
	}
	trim(q);
	trim(r);
}

int mdec_div(const struct mdec *a, const struct mdec *b, unsigned scale,
	     bool truncate, struct mdec *q)
{
	struct mdec n = *a, d = *b, quot, rem;
	/* q * 10^scale = A * 10^(scale + sb - sa) / B for a = A / 10^sa and
	 * b = B / 10^sb: the power goes on whichever side keeps it whole. */
	int shift = (int)scale + b->scale - a->scale;

	if (mdec_is_zero(b) || scale > MDEC_MAX_SCALE)
		return -1;
	n.neg = d.neg = false;
	if (shift > 0 && mag_shift_up(&n, (unsigned)shift))
		return -1;
	if (shift < 0 && mag_shift_up(&d, (unsigned)-shift))
		return -1;
	mag_divmod_big(&n, &d, &quot, &rem);
	if (!truncate && rem.n) {
		/* Half away from zero: up when 2 * rem >= d.  A doubled
		 * remainder that no longer fits is above any d. */
		struct mdec twice = rem;

		if (mag_add(&twice, &rem) || mag_cmp(&twice, &d) >= 0)
			if (mag_muladd(&quot, 1, 1))
				return -1;
	}
	quot.scale = (uint8_t)scale;
	quot.neg = quot.n && a->neg != b->neg;
	*q = quot;
	return 0;
}

int mdec_mod(const struct mdec *a, const struct mdec *b, struct mdec *r)
{
	struct mdec n = *a, d = *b, quot, rem;
	unsigned scale = a->scale > b->scale ? a->scale : b->scale;

	if (mdec_is_zero(b))
		return -1;
	if (mdec_rescale(&n, scale) || mdec_rescale(&d, scale))
		return -1;
	n.neg = d.neg = false;
	mag_divmod_big(&n, &d, &quot, &rem);
	rem.scale = (uint8_t)scale;
	rem.neg = rem.n && a->neg;
	*r = rem;
	return 0;
}

size_t mdec_format(const struct mdec *d, char *out)
{
	char digits[MDEC_DIGITS + 1];
	size_t nd = 0, pos = 0;

	if (d->n) {
		unsigned i = d->n - 1;
		uint32_t top = d->limb[i];
		char tmp[10];
		size_t tl = 0;

		do {
			tmp[tl++] = (char)('0' + top % 10);
			top /= 10;
		} while (top);
		while (tl)
			digits[nd++] = tmp[--tl];
		while (i-- > 0) {
			uint32_t v = d->limb[i];

			for (int k = 8; k >= 0; k--) {
				digits[nd + (size_t)k] = (char)('0' + v % 10);
				v /= 10;
			}
			nd += 9;
		}
	}
	if (d->neg && d->n)
		out[pos++] = '-';
	if (nd <= d->scale) {
		out[pos++] = '0';
		if (d->scale) {
			out[pos++] = '.';
			memset(out + pos, '0', d->scale - nd);
			pos += d->scale - nd;
			memcpy(out + pos, digits, nd);
			pos += nd;
		}
	} else {
		size_t int_digits = nd - d->scale;

		memcpy(out + pos, digits, int_digits);
		pos += int_digits;
		if (d->scale) {
			out[pos++] = '.';
			memcpy(out + pos, digits + int_digits, d->scale);
			pos += d->scale;
		}
	}
	return pos;
}

double mdec_to_double(const struct mdec *d)
{
	char buf[MDEC_TEXT_MAX + 1];
	size_t n = mdec_format(d, buf);

	buf[n] = '\0';
	return strtod(buf, NULL);
}
