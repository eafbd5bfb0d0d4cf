/*
 * The merge layer's type rules against the live server.  When myring
 * computes an aggregate the shards did not (AVG from SUM and COUNT, the
 * DISTINCT forms), the column definition it sends is merge_type_of()'s
 * (src/merge_types.h).  The unit tests check those rules against
 * definitions captured once from MariaDB 10.11; this checks them against
 * the server `make test` runs, so a MariaDB that reports an aggregate
 * differently fails here, not in a client.
 */
#include "merge_conn.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

/* Pure code, compiled in (as test_state.c does). */
#include "collation.c"
#include "collation_tables.c"
#include "merge_types.c"

#define NUM_FLAG 0x8000u

/* A column of every kind whose aggregates have a rule of their own. */
static const char *const columns[] = {
	"ti TINYINT", "tiu TINYINT UNSIGNED", "si SMALLINT", "mi MEDIUMINT",
	"i INT", "iu INT UNSIGNED", "iz INT(5) ZEROFILL", "bi BIGINT",
	"biu BIGINT UNSIGNED", "d DECIMAL(10,2)", "du DECIMAL(10,2) UNSIGNED",
	"d65 DECIMAL(65,30)", "d0 DECIMAL(65,0)", "f FLOAT", "f72 FLOAT(7,2)",
	"db DOUBLE", "d103 DOUBLE(10,3)", "b10 BIT(10)", "y YEAR", "dt DATE",
	"dtt DATETIME", "dtt6 DATETIME(6)", "ts3 TIMESTAMP(3) NULL",
	"tm3 TIME(3)", "c CHAR(5)", "vc VARCHAR(20)", "vb VARBINARY(10)",
	"tx TEXT", "bl BLOB", "e ENUM('x','y')", "st SET('a','b')",
	"nn INT NOT NULL DEFAULT 0",
};

static const struct {
	const char *fmt;
	enum merge_agg agg;
} aggs[] = {
	{"SUM(%s)", MERGE_SUM},
	{"AVG(%s)", MERGE_AVG},
	{"MIN(%s)", MERGE_MIN},
	{"MAX(%s)", MERGE_MAX},
	{"COUNT(%s)", MERGE_COUNT},
	{"COUNT(DISTINCT %s)", MERGE_COUNT_DISTINCT},
	{"SUM(DISTINCT %s)", MERGE_SUM_DISTINCT},
	{"AVG(DISTINCT %s)", MERGE_AVG_DISTINCT},
};

/* The definition the server sends for expr, as rs_codec decodes one. */
static struct rs_coldef def_of(void *m, const char *expr)
{
	char sql[256];
	struct mc_field f;

	snprintf(sql, sizeof(sql), "SELECT %s FROM merge_types_live", expr);
	f = mc_first_field(m, sql);
	/* Connector/C sets NUM_FLAG (0x8000) itself, by type, whatever the
	 * server sent: not compared here (test_merge_types.c compares the
	 * server's own bytes). */
	return (struct rs_coldef){.type = (uint8_t)f.type,
				  .length = (uint32_t)f.length,
				  .decimals = (uint8_t)f.decimals,
				  .flags = (uint16_t)(f.flags & ~NUM_FLAG),
				  .charset = (uint16_t)f.charset};
}

Test(merge, aggregate_types_match_the_live_server)
{
	void *m = mc_connect();
	char sql[2048] = "CREATE OR REPLACE TABLE merge_types_live (id INT";
	unsigned checked = 0;

	/* The rules are for a utf8mb4 connection reading a utf8mb4 table. */
	mc_query(m, "SET NAMES utf8mb4");
	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		strcat(sql, ", ");
		strcat(sql, columns[i]);
	}
	strcat(sql, ") DEFAULT CHARSET=utf8mb4");
	mc_query(m, sql);
	mc_query(m, "INSERT INTO merge_types_live (id, nn) VALUES (1, 1)");

	for (size_t i = 0; i < sizeof(columns) / sizeof(columns[0]); i++) {
		char name[16], expr[64];
		struct rs_coldef x;

		sscanf(columns[i], "%15s", name);
		x = def_of(m, name);
		for (size_t k = 0; k < sizeof(aggs) / sizeof(aggs[0]); k++) {
			struct rs_coldef want, got;

			snprintf(expr, sizeof(expr), aggs[k].fmt, name);
			want = def_of(m, expr);
			cr_assert_eq(merge_type_of(aggs[k].agg, &x, &got), 0);
			got.flags &= (uint16_t)~NUM_FLAG;
			cr_expect(got.type == want.type &&
					  got.length == want.length &&
					  got.decimals == want.decimals &&
					  got.flags == want.flags &&
					  got.charset == want.charset,
				  "%s: myring would send type %u(%u,%u) flags "
				  "%#x charset %u, the server sends type "
				  "%u(%u,%u) flags %#x charset %u",
				  expr, got.type, got.length, got.decimals,
				  got.flags, got.charset, want.type,
				  want.length, want.decimals, want.flags,
				  want.charset);
			checked++;
		}
	}
	cr_assert_eq(checked, 8 * sizeof(columns) / sizeof(columns[0]));
	mc_query(m, "DROP TABLE merge_types_live");
	mc_close(m);
}
