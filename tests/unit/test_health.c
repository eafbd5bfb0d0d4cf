/* The health state machine (health.h): every transition, and flapping. */
#include <criterion/criterion.h>
#include <string.h>

#include "health.h"

static const struct health_policy pol = {
	.fail_checks = 3, .ok_checks = 2, .max_lag_ms = 10000,
};

static const struct health_check fail = {.ok = false};
static const struct health_check primary = {.ok = true, .role = ROLE_PRIMARY};

static struct health_check replica(int64_t lag_ms)
{
	return (struct health_check){.ok = true, .role = ROLE_REPLICA,
				     .lag_ms = lag_ms};
}

static char why[200];

static enum server_health step(struct health_state *st,
			       struct health_check c)
{
	return health_next(st, &c, &pol, why, sizeof(why));
}

static struct health_state at(enum server_health h)
{
	return (struct health_state){.health = (uint8_t)h};
}

Test(health, unknown_first_pass_goes_online)
{
	struct health_state st = at(HEALTH_UNKNOWN);

	cr_assert_eq(step(&st, primary), HEALTH_ONLINE);
	cr_assert_str_eq(why, "first check passed");
	st = at(HEALTH_UNKNOWN);
	cr_assert_eq(step(&st, replica(0)), HEALTH_ONLINE);
	/* Up to the limit itself is not over it. */
	st = at(HEALTH_UNKNOWN);
	cr_assert_eq(step(&st, replica(10000)), HEALTH_ONLINE);
}

Test(health, unknown_first_pass_of_a_lagging_replica_goes_lagging)
{
	struct health_state st = at(HEALTH_UNKNOWN);

	cr_assert_eq(step(&st, replica(10001)), HEALTH_LAGGING);
	cr_assert(strstr(why, "lag 10001 ms over max 10000 ms"), "%s", why);
	st = at(HEALTH_UNKNOWN);
	cr_assert_eq(step(&st, replica(-1)), HEALTH_LAGGING);
	cr_assert(strstr(why, "lag unknown"), "%s", why);
}

Test(health, unknown_fails_n_checks_goes_shunned)
{
	struct health_state st = at(HEALTH_UNKNOWN);

	cr_assert_eq(step(&st, fail), HEALTH_UNKNOWN);
	cr_assert_str_eq(why, "");
	cr_assert_eq(step(&st, fail), HEALTH_UNKNOWN);
	cr_assert_eq(step(&st, fail), HEALTH_SHUNNED);
	cr_assert_str_eq(why, "3 checks failed in a row");
}

Test(health, online_fails_n_in_a_row_goes_shunned)
{
	struct health_state st = at(HEALTH_ONLINE);

	cr_assert_eq(step(&st, fail), HEALTH_ONLINE);
	cr_assert_eq(step(&st, fail), HEALTH_ONLINE);
	cr_assert_eq(step(&st, fail), HEALTH_SHUNNED);
	cr_assert_str_eq(why, "3 checks failed in a row");
	/* More failures change nothing and say nothing. */
	cr_assert_eq(step(&st, fail), HEALTH_SHUNNED);
	cr_assert_str_eq(why, "");
}

Test(health, online_flapping_never_shuns)
{
	struct health_state st = at(HEALTH_ONLINE);

	for (int i = 0; i < 20; i++) {
		cr_assert_eq(step(&st, fail), HEALTH_ONLINE);
		cr_assert_eq(step(&st, fail), HEALTH_ONLINE);
		cr_assert_eq(step(&st, primary), HEALTH_ONLINE);
	}
}

Test(health, shunned_returns_after_m_passes_in_a_row)
{
	struct health_state st = at(HEALTH_SHUNNED);

	cr_assert_eq(step(&st, primary), HEALTH_SHUNNED);
	cr_assert_str_eq(why, "");
	cr_assert_eq(step(&st, primary), HEALTH_ONLINE);
	cr_assert_str_eq(why, "2 checks passed in a row");
}

Test(health, shunned_flapping_never_returns)
{
	struct health_state st = at(HEALTH_SHUNNED);

	for (int i = 0; i < 20; i++) {
		cr_assert_eq(step(&st, primary), HEALTH_SHUNNED);
		cr_assert_eq(step(&st, fail), HEALTH_SHUNNED);
	}
	cr_assert_eq(step(&st, replica(0)), HEALTH_SHUNNED);
	cr_assert_eq(step(&st, replica(0)), HEALTH_ONLINE);
}

Test(health, shunned_lagging_replica_returns_lagging)
{
	struct health_state st = at(HEALTH_SHUNNED);

	cr_assert_eq(step(&st, replica(-1)), HEALTH_SHUNNED);
	cr_assert_eq(step(&st, replica(-1)), HEALTH_LAGGING);
	cr_assert(strstr(why, "checks pass again, but lag unknown"), "%s", why);
}

Test(health, online_replica_over_max_lag_goes_lagging_at_once)
{
	struct health_state st = at(HEALTH_ONLINE);

	cr_assert_eq(step(&st, replica(9000)), HEALTH_ONLINE);
	cr_assert_eq(step(&st, replica(11000)), HEALTH_LAGGING);
	cr_assert_str_eq(why, "lag 11000 ms over max 10000 ms");
	st = at(HEALTH_ONLINE);
	cr_assert_eq(step(&st, replica(-1)), HEALTH_LAGGING);
}

Test(health, a_primary_never_lags)
{
	struct health_state st = at(HEALTH_ONLINE);
	struct health_check c = primary;

	c.lag_ms = -1;
	cr_assert_eq(step(&st, c), HEALTH_ONLINE);
	c.lag_ms = 99999;
	cr_assert_eq(step(&st, c), HEALTH_ONLINE);
}

Test(health, lag_is_not_checked_without_a_max)
{
	struct health_policy nolag = pol;
	struct health_state st = at(HEALTH_ONLINE);
	struct health_check c = replica(-1);

	nolag.max_lag_ms = 0;
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_ONLINE);
	/* Lagging when the limit went away (a reload): back after M
	 * checks, as from any lag. */
	st = at(HEALTH_LAGGING);
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_LAGGING);
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_ONLINE);
	cr_assert_str_eq(why, "replication applying again, for 2 checks");
}

Test(health, a_replica_not_applying_lags_whatever_the_max)
{
	struct health_policy nolag = pol;
	struct health_state st = at(HEALTH_ONLINE);
	struct health_check c = replica(0);

	nolag.max_lag_ms = 0;
	c.not_applying = true;
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_LAGGING);
	cr_assert(strstr(why, "replication not applying"), "%s", why);
	st = at(HEALTH_UNKNOWN);
	cr_assert_eq(step(&st, c), HEALTH_LAGGING);
	cr_assert(strstr(why, "first check passed, but replication not "
			  "applying"), "%s", why);
	/* Stays out while stopped; back M checks after it applies again. */
	for (int i = 0; i < 5; i++)
		cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
			     HEALTH_LAGGING);
	c.not_applying = false;
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_LAGGING);
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_ONLINE);
	/* A promoted server does not replicate: no longer a replica, it
	 * does not lag. */
	c = primary;
	c.not_applying = true;
	st = at(HEALTH_ONLINE);
	cr_assert_eq(health_next(&st, &c, &nolag, why, sizeof(why)),
		     HEALTH_ONLINE);
}

Test(health, lagging_returns_under_half_the_max_for_m_checks)
{
	struct health_state st = at(HEALTH_LAGGING);

	cr_assert_eq(step(&st, replica(4999)), HEALTH_LAGGING);
	cr_assert_str_eq(why, "");
	cr_assert_eq(step(&st, replica(0)), HEALTH_ONLINE);
	cr_assert(strstr(why, "lag 0 ms, under max / 2 (5000 ms), for 2 checks"),
		  "%s", why);
}

Test(health, lagging_between_half_and_max_stays_lagging)
{
	struct health_state st = at(HEALTH_LAGGING);

	for (int i = 0; i < 10; i++)
		cr_assert_eq(step(&st, replica(5000 + i * 500)), HEALTH_LAGGING);
	/* Hovering: under, over half, under, ... never M in a row. */
	for (int i = 0; i < 10; i++) {
		cr_assert_eq(step(&st, replica(1000)), HEALTH_LAGGING);
		cr_assert_eq(step(&st, replica(6000)), HEALTH_LAGGING);
	}
	cr_assert_eq(step(&st, replica(1000)), HEALTH_LAGGING);
	cr_assert_eq(step(&st, replica(-1)), HEALTH_LAGGING);
	cr_assert_eq(step(&st, replica(1000)), HEALTH_LAGGING);
	cr_assert_eq(step(&st, replica(1000)), HEALTH_ONLINE);
}

Test(health, lagging_promoted_goes_online_at_once)
{
	struct health_state st = at(HEALTH_LAGGING);

	cr_assert_eq(step(&st, primary), HEALTH_ONLINE);
	cr_assert_str_eq(why, "no longer a replica");
}

Test(health, lagging_fails_n_goes_shunned)
{
	struct health_state st = at(HEALTH_LAGGING);

	cr_assert_eq(step(&st, replica(0)), HEALTH_LAGGING);
	cr_assert_eq(step(&st, fail), HEALTH_LAGGING);
	cr_assert_eq(step(&st, fail), HEALTH_LAGGING);
	cr_assert_eq(step(&st, fail), HEALTH_SHUNNED);
	/* The pass before the failures does not count toward a return. */
	cr_assert_eq(step(&st, replica(0)), HEALTH_SHUNNED);
	cr_assert_eq(step(&st, replica(0)), HEALTH_ONLINE);
}

Test(health, draining_is_left_alone)
{
	struct health_state st = at(HEALTH_DRAINING);

	for (int i = 0; i < 5; i++)
		cr_assert_eq(step(&st, fail), HEALTH_DRAINING);
	for (int i = 0; i < 5; i++)
		cr_assert_eq(step(&st, replica(-1)), HEALTH_DRAINING);
	cr_assert_str_eq(why, "");
}

Test(health, zero_counts_mean_one)
{
	struct health_policy p = {.fail_checks = 0, .ok_checks = 0};
	struct health_state st = at(HEALTH_ONLINE);

	cr_assert_eq(health_next(&st, &fail, &p, why, sizeof(why)),
		     HEALTH_SHUNNED);
	cr_assert_str_eq(why, "1 check failed in a row");
	cr_assert_eq(health_next(&st, &primary, &p, why, sizeof(why)),
		     HEALTH_ONLINE);
	cr_assert_str_eq(why, "1 check passed in a row");
}

Test(health, names)
{
	cr_assert_str_eq(health_name(HEALTH_ONLINE), "online");
	cr_assert_str_eq(health_name(HEALTH_SHUNNED), "shunned");
	cr_assert_str_eq(health_name(HEALTH_LAGGING), "lagging");
	cr_assert_str_eq(health_name(HEALTH_DRAINING), "draining");
	cr_assert_str_eq(health_name(HEALTH_UNKNOWN), "unknown");
	cr_assert_str_eq(role_name(ROLE_PRIMARY), "primary");
	cr_assert_str_eq(role_name(ROLE_REPLICA), "replica");
	cr_assert_str_eq(role_name(ROLE_UNKNOWN), "unknown");
}
