/*
 * mysql_decimal.h - exact fixed-point decimals for merging DECIMAL values
 * the way the server computes them (SUM, AVG, comparisons).
 *
 * A value is a sign, a magnitude of up to MDEC_DIGITS decimal digits held
 * in base-10^9 limbs, and a scale (digits after the point).  Pure: no
 * allocation, no global state; every operation reports overflow instead of
 * losing digits.
 *
 * Why 99 digits: a DECIMAL(p,s) column holds at most 65 digits, so every
 * value of one column, scaled to its s, is an integer below 10^65.  A sum
 * of n such values is below n * 10^65, and n, a row count, is below
 * 2^64 < 1.85 * 10^19: a SUM of any number of rows is below 10^85.  AVG
 * scales that by 10^4 (div_precision_increment) before it divides: below
 * 10^89.  So 99 digits hold every SUM and AVG of one DECIMAL column
 * exactly; MariaDB's own limit is 81 digits, and its SUM prints more than
 * 65 digits when a sum needs them, as this does.
 */
#ifndef MYRING_MYSQL_DECIMAL_H
#define MYRING_MYSQL_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MDEC_LIMBS      11u
#define MDEC_DIGITS     (MDEC_LIMBS * 9u)
#define MDEC_MAX_SCALE  38u    /* MariaDB's DECIMAL_MAX_SCALE (AVG's bound) */
/* Longest text mdec_format() writes: sign, digits, point, padding zeros. */
#define MDEC_TEXT_MAX   (1u + MDEC_DIGITS + 1u + MDEC_MAX_SCALE + 1u)

struct mdec {
	uint32_t limb[MDEC_LIMBS]; /* magnitude, least significant first */
	uint8_t n;                 /* limbs in use; 0 for zero */
	uint8_t scale;             /* digits after the decimal point */
	bool neg;                  /* never set on zero */
};

static inline void mdec_zero(struct mdec *d, unsigned scale)
{
	d->n = 0;
	d->scale = (uint8_t)scale;
	d->neg = false;
}

static inline bool mdec_is_zero(const struct mdec *d)
{
	return d->n == 0;
}

/* Text as the server sends a DECIMAL: [-|+]digits[.digits].  Leading
 * zeros are fine; no exponent, no spaces.  Returns 0, or -1 if malformed,
 * or if it has more than MDEC_DIGITS significant digits or a scale above
 * MDEC_MAX_SCALE. */
int mdec_parse(const char *s, size_t len, struct mdec *d);

void mdec_from_i64(struct mdec *d, int64_t v);
void mdec_from_u64(struct mdec *d, uint64_t v);

/* Changes the scale: up exactly (0 or -1 on overflow), down rounding half
 * away from zero as the server does. */
int mdec_rescale(struct mdec *d, unsigned scale);

/* acc += x, at the larger of the two scales.  Returns 0, or -1 if the
 * result does not fit (acc is then unchanged). */
int mdec_add(struct mdec *acc, const struct mdec *x);

/* -1, 0, 1 as a < b, a == b, a > b (numerically: 1.50 == 1.5). */
int mdec_cmp(const struct mdec *a, const struct mdec *b);

/* q = a / d rounded half away from zero to the given scale (AVG).  d > 0.
 * Returns 0, or -1 on overflow. */
int mdec_div_u64(const struct mdec *a, uint64_t d, unsigned scale,
		 struct mdec *q);

/* q = a / b at the given scale, rounded half away from zero (the
 * server's `/`, whose scale is a's plus div_precision_increment) or, with
 * truncate, cut toward zero (DIV, at scale 0).  Returns 0, or -1 if b is
 * zero or the quotient does not fit. */
int mdec_div(const struct mdec *a, const struct mdec *b, unsigned scale,
	     bool truncate, struct mdec *q);

/* r = a MOD b as the server computes it: at the larger of the two scales,
 * with a's sign.  Returns 0, or -1 if b is zero or a value does not fit. */
int mdec_mod(const struct mdec *a, const struct mdec *b, struct mdec *r);

/* Writes d with exactly its scale's digits after the point (no point for
 * scale 0), "-" only for nonzero values.  out must hold MDEC_TEXT_MAX
 * bytes; returns the length (not NUL-terminated). */
size_t mdec_format(const struct mdec *d, char *out);

/* Nearest double (correctly rounded via strtod). */
double mdec_to_double(const struct mdec *d);

#endif
