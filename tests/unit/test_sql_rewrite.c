/* sql_replace_call(): CONNECTION_ID() where the server would call it. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../src/sql_rewrite.h"

static const struct sql_reading plain = {SQL_ESC_ALL, SQL_CS_BYTE,
					 SQL_SERVER_MARIADB, 101106};

static const char *rw(const char *sql, const struct sql_reading *rd,
		      unsigned *count)
{
	static char out[512];
	size_t n = sql_replace_call(sql, strlen(sql), rd, "CONNECTION_ID", "77",
				    out, sizeof(out) - 1, count);

	cr_assert_lt(n, sizeof(out));
	out[n] = '\0';
	return out;
}

Test(sql_rewrite, calls_are_replaced_and_whole_items_keep_their_name)
{
	static const struct {
		const char *in, *out;
		unsigned count;
	} cases[] = {
		{"SELECT CONNECTION_ID()", "SELECT 77 AS `CONNECTION_ID()`", 1},
		{"select connection_id ( )", "select 77 AS `connection_id ( )`", 1},
		{"SELECT CONNECTION_ID() AS id", "SELECT 77 AS id", 1},
		{"SELECT CONNECTION_ID() + 1", "SELECT 77 + 1", 1},
		{"SELECT a, CONNECTION_ID(), b FROM t",
		 "SELECT a, 77 AS `CONNECTION_ID()`, b FROM t", 1},
		{"SELECT DISTINCT CONNECTION_ID() FROM t",
		 "SELECT DISTINCT 77 AS `CONNECTION_ID()` FROM t", 1},
		{"SELECT * FROM t WHERE id = CONNECTION_ID()",
		 "SELECT * FROM t WHERE id = 77", 1},
		{"UPDATE t SET a = 1, b = CONNECTION_ID()",
		 "UPDATE t SET a = 1, b = 77", 1},
		{"INSERT INTO t VALUES (CONNECTION_ID(), 2)",
		 "INSERT INTO t VALUES (77, 2)", 1},
		{"SELECT IF(1, CONNECTION_ID(), 0)", "SELECT IF(1, 77, 0)", 1},
		{"SELECT `connection_id`()", "SELECT 77 AS ```connection_id``()`", 1},
		{"DO CONNECTION_ID(); SELECT CONNECTION_ID()",
		 "DO 77; SELECT 77 AS `CONNECTION_ID()`", 2},
		{"SELECT /*!100000 CONNECTION_ID() */",
		 "SELECT /*!100000 77 */", 1},
		/* Not calls of the built-in. */
		{"SELECT 'CONNECTION_ID()'", "SELECT 'CONNECTION_ID()'", 0},
		{"SELECT \"CONNECTION_ID()\"", "SELECT \"CONNECTION_ID()\"", 0},
		{"SELECT 1 /* CONNECTION_ID() */", "SELECT 1 /* CONNECTION_ID() */", 0},
		{"SELECT 1 -- CONNECTION_ID()", "SELECT 1 -- CONNECTION_ID()", 0},
		{"SELECT 1 # CONNECTION_ID()", "SELECT 1 # CONNECTION_ID()", 0},
		{"SELECT db.CONNECTION_ID()", "SELECT db.CONNECTION_ID()", 0},
		{"SELECT @CONNECTION_ID", "SELECT @CONNECTION_ID", 0},
		{"SELECT CONNECTION_ID(1)", "SELECT CONNECTION_ID(1)", 0},
		{"SELECT MY_CONNECTION_ID()", "SELECT MY_CONNECTION_ID()", 0},
		{"SELECT CONNECTION_ID", "SELECT CONNECTION_ID", 0},
		{"SELECT 'it''s', CONNECTION_ID()",
		 "SELECT 'it''s', 77 AS `CONNECTION_ID()`", 1},
	};
	unsigned count;

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_str_eq(rw(cases[i].in, &plain, &count), cases[i].out,
				 "%s", cases[i].in);
		cr_assert_eq(count, cases[i].count, "%s", cases[i].in);
	}
}

Test(sql_rewrite, strings_end_where_the_reading_says)
{
	struct sql_reading nbe = plain;
	unsigned count;

	/* With backslash escapes the string runs to the last quote. */
	cr_assert_str_eq(rw("SELECT 'a\\', CONNECTION_ID(), '\\'", &plain,
			    &count), "SELECT 'a\\', CONNECTION_ID(), '\\'");
	cr_assert_eq(count, 0);
	nbe.escapes = SQL_ESC_NONE;
	cr_assert_str_eq(rw("SELECT 'a\\', CONNECTION_ID(), '\\'", &nbe, &count),
			 "SELECT 'a\\', 77 AS `CONNECTION_ID()`, '\\'");
	cr_assert_eq(count, 1);
}

Test(sql_rewrite, the_length_needed_is_returned_when_out_is_short)
{
	unsigned count;
	const char *sql = "SELECT CONNECTION_ID()";
	char small[4];
	size_t n = sql_replace_call(sql, strlen(sql), &plain, "CONNECTION_ID",
				    "77", small, sizeof(small), &count);

	cr_assert_eq(n, strlen("SELECT 77 AS `CONNECTION_ID()`"));
	cr_assert_eq(memcmp(small, "SELE", 4), 0);
	cr_assert_eq(sql_replace_call(sql, 0, &plain, "CONNECTION_ID", "77",
				      NULL, 0, &count), 0);
}
