/*
 * Routing hints in comments (sql_hint.c).
 */
#include "sql_hint.h"

#include <criterion/criterion.h>
#include <string.h>

static unsigned hints(const char *sql)
{
	return sql_hints(sql, strlen(sql));
}

Test(sql_hint, each_comment_form_carries_hints)
{
	cr_assert_eq(hints("SELECT /* myring: primary */ 1"), SQL_HINT_PRIMARY);
	cr_assert_eq(hints("SELECT 1 -- myring: causal"), SQL_HINT_CAUSAL);
	cr_assert_eq(hints("SELECT 1 # myring:no-causal\n"), SQL_HINT_NO_CAUSAL);
	cr_assert_eq(hints("/*myring:PRIMARY,Causal*/SELECT 1"),
		     SQL_HINT_PRIMARY | SQL_HINT_CAUSAL);
	cr_assert_eq(hints("SELECT 1 /* myring: primary */ /* myring: causal */"),
		     SQL_HINT_PRIMARY | SQL_HINT_CAUSAL);
}

Test(sql_hint, text_that_only_looks_like_a_hint_is_not_one)
{
	cr_assert_eq(hints("SELECT '/* myring: primary */'"), 0);
	cr_assert_eq(hints("SELECT \"-- myring: primary\""), 0);
	cr_assert_eq(hints("SELECT `/* myring: primary */` FROM t"), 0);
	cr_assert_eq(hints("SELECT 'it''s /* myring: primary */'"), 0);
	cr_assert_eq(hints("SELECT 'a\\' /* myring: primary */'"), 0);
	cr_assert_eq(hints("SELECT 1--1 myring: primary"), 0);
	cr_assert_eq(hints("SELECT /* not myring: primary */ 1"), 0);
	cr_assert_eq(hints("SELECT /* myringx: primary */ 1"), 0);
	cr_assert_eq(hints("SELECT /* myring: primaryx replica */ 1"), 0);
}

Test(sql_hint, the_servers_own_comments_are_not_ours)
{
	cr_assert_eq(hints("SELECT /*+ myring: primary */ 1"), 0);
	cr_assert_eq(hints("SELECT /*! myring: primary */ 1"), 0);
	cr_assert_eq(hints("SELECT /*M!100100 myring: primary */ 1"), 0);
}

Test(sql_hint, cut_and_empty_texts_are_safe)
{
	const char *full = "SELECT /* myring: primary */ 1";

	for (size_t n = 0; n <= strlen(full); n++) {
		unsigned h = sql_hints(full, n);

		/* The word is whole from "primary" on: cut inside it, no
		 * hint; after it, the hint (closed or not). */
		cr_assert_eq(h, n >= strlen("SELECT /* myring: primary") ?
			     SQL_HINT_PRIMARY : 0u, "cut at %zu", n);
	}
	cr_assert_eq(hints(""), 0);
	cr_assert_eq(hints("/*"), 0);
	cr_assert_eq(hints("/**/"), 0);
	cr_assert_eq(hints("--"), 0);
	cr_assert_eq(hints("'unterminated /* myring: primary */"), 0);
}
