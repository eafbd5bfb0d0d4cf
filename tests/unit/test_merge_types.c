/*
 * Result types of merged aggregates: for every column type, the
 * definition merge_type_of() derives from the column's own must be the
 * one MariaDB 10.11 sent for SUM, AVG, MIN, MAX, COUNT and their DISTINCT
 * forms (captured in merge_fixtures.h).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "merge_fixtures.h"
#include "merge_types.h"

#define CAPS (CLIENT_PROTOCOL_41 | CLIENT_DEPRECATE_EOF)

static void def_of(const char *hex, uint8_t *buf, struct rs_coldef *cd)
{
	size_t n = strlen(hex) / 2;

	for (size_t i = 0; i < n; i++) {
		unsigned v;

		sscanf(hex + 2 * i, "%2x", &v);
		buf[i] = (uint8_t)v;
	}
	cr_assert_eq(rs_parse_coldef(buf, n, CAPS, cd), 0);
}

Test(merge_types, aggregates_of_every_type_match_the_server)
{
	static const enum merge_agg aggs[9] = {
		MERGE_COL, MERGE_SUM, MERGE_AVG, MERGE_MIN, MERGE_MAX,
		MERGE_COUNT, MERGE_COUNT_DISTINCT, MERGE_SUM_DISTINCT,
		MERGE_AVG_DISTINCT,
	};
	static const char *const names[9] = {
		"x", "SUM", "AVG", "MIN", "MAX", "COUNT", "COUNT(DISTINCT)",
		"SUM(DISTINCT)", "AVG(DISTINCT)",
	};
	unsigned checked = 0;

	for (size_t i = 0; i < sizeof(FIX_AGGS) / sizeof(FIX_AGGS[0]); i++) {
		const struct fix_agg *fa = &FIX_AGGS[i];
		uint8_t xb[512];
		struct rs_coldef x;

		def_of(fa->def[0], xb, &x);
		for (int k = 1; k < 9; k++) {
			uint8_t wb[512];
			struct rs_coldef want, got;

			if (!fa->def[k])
				continue;
			/* The documented approximation: a latin1 column read
			 * over utf8mb4 (its definition says 40, the server's
			 * AVG counts 10 + 4). */
			if (!strcmp(fa->col, "l1") &&
			    (aggs[k] == MERGE_AVG || aggs[k] == MERGE_AVG_DISTINCT))
				continue;
			def_of(fa->def[k], wb, &want);
			cr_assert_eq(merge_type_of(aggs[k], &x, &got), 0);
			cr_expect(got.type == want.type && got.length == want.length &&
				  got.decimals == want.decimals &&
				  got.flags == want.flags &&
				  got.charset == want.charset,
				  "%s(%s): got %s(%u,%u) flags %#x cs %u, server "
				  "%s(%u,%u) flags %#x cs %u",
				  names[k], fa->col, rs_type_name(got.type),
				  got.length, got.decimals, got.flags, got.charset,
				  rs_type_name(want.type), want.length,
				  want.decimals, want.flags, want.charset);
			cr_assert_eq(got.schema.len + got.table.len +
					     got.org_table.len + got.org_name.len,
				     0, "an expression has no origin");
			checked++;
		}
	}
	cr_assert_gt(checked, 350);
	cr_assert_eq(merge_type_of(MERGE_COL, &(struct rs_coldef){0},
				   &(struct rs_coldef){0}), -1);
}
