#include "merge_conn.h"

#include "harness.h"

#include <criterion/criterion.h>

void *mc_connect(void)
{
	return direct_connect();
}

void mc_close(void *mysql)
{
	mysql_close(mysql);
}

void mc_query(void *mysql, const char *sql)
{
	query_ok(mysql, sql);
}

struct mc_field mc_first_field(void *mysql, const char *sql)
{
	struct mc_field out;
	MYSQL_FIELD *f;
	MYSQL_RES *r;

	cr_assert_eq(mysql_query(mysql, sql), 0, "%s: %s", sql,
		     mysql_error(mysql));
	r = mysql_store_result(mysql);
	cr_assert_not_null(r, "%s: %s", sql, mysql_error(mysql));
	f = mysql_fetch_field(r);
	cr_assert_not_null(f, "%s: no columns", sql);
	out.type = f->type;
	out.length = f->length;
	out.decimals = f->decimals;
	out.flags = f->flags;
	out.charset = f->charsetnr;
	mysql_free_result(r);
	return out;
}
