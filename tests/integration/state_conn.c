#include "state_conn.h"

#include "harness.h"

#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

void sc_connect(struct sc_conn *c)
{
	MYSQL *m = direct_connect();

	c->mysql = m;
	c->fd = (int)mysql_get_socket(m);
	c->caps = (uint64_t)(m->client_flag & m->server_capabilities);
	c->charset = (uint8_t)m->charset->nr;
}

void sc_close(struct sc_conn *c)
{
	mysql_close(c->mysql);
	c->mysql = NULL;
}

char *sc_value(struct sc_conn *c, const char *sql)
{
	char *v = query_value(c->mysql, sql);
	return v ? v : strdup("(null)");
}

int sc_query(struct sc_conn *c, const char *sql)
{
	int r = mysql_query(c->mysql, sql);

	if (r == 0) {
		do {
			MYSQL_RES *res = mysql_store_result(c->mysql);
			if (res)
				mysql_free_result(res);
		} while (mysql_more_results(c->mysql) &&
			 mysql_next_result(c->mysql) == 0);
	}
	return r;
}

void sc_assert_same_session(struct sc_conn *a, struct sc_conn *b)
{
	static const char *const differ[] = {
		"pseudo_thread_id", "timestamp", "rand_seed1", "rand_seed2",
		"in_transaction", "warning_count", "error_count",
	};
	MYSQL *ma = a->mysql, *mb = b->mysql;
	MYSQL_RES *ra, *rb;
	MYSQL_ROW x, y;
	int compared = 0;

	cr_assert_eq(mysql_query(ma, "SHOW SESSION VARIABLES"), 0, "%s", mysql_error(ma));
	ra = mysql_store_result(ma);
	cr_assert_eq(mysql_query(mb, "SHOW SESSION VARIABLES"), 0, "%s", mysql_error(mb));
	rb = mysql_store_result(mb);
	cr_assert_eq(mysql_num_rows(ra), mysql_num_rows(rb));
	while ((x = mysql_fetch_row(ra)) && (y = mysql_fetch_row(rb))) {
		bool skip = false;

		cr_assert_str_eq(x[0], y[0]);
		for (size_t i = 0; i < sizeof(differ) / sizeof(differ[0]); i++)
			skip |= strcmp(x[0], differ[i]) == 0;
		if (skip)
			continue;
		cr_assert_str_eq(x[1] ? x[1] : "(null)", y[1] ? y[1] : "(null)",
				 "session variable %s", x[0]);
		compared++;
	}
	cr_assert_gt(compared, 400);
	mysql_free_result(ra);
	mysql_free_result(rb);
}
