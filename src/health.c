/*
 * health.c - a server's health from its checks (see health.h).
 */
#include "health.h"

#include <stdio.h>

const char *health_name(enum server_health h)
{
	switch (h) {
	case HEALTH_ONLINE: return "online";
	case HEALTH_SHUNNED: return "shunned";
	case HEALTH_LAGGING: return "lagging";
	case HEALTH_DRAINING: return "draining";
	default: return "unknown";
	}
}

const char *role_name(enum server_role r)
{
	switch (r) {
	case ROLE_PRIMARY: return "primary";
	case ROLE_REPLICA: return "replica";
	default: return "unknown";
	}
}

/* Whether a passing check puts the server over the lag limit: only a
 * replica lags, one that does not apply what its primary writes lags
 * whatever the limit, and an unknown lag is as bad as any. */
static bool over_lag(const struct health_check *c, const struct health_policy *p)
{
	if (c->role != ROLE_REPLICA)
		return false;
	return c->not_applying || (p->max_lag_ms && (c->lag_ms < 0 ||
		c->lag_ms > (int64_t)p->max_lag_ms));
}

static void lag_why(const struct health_check *c,
		    const struct health_policy *p, const char *prefix,
		    char *why, size_t whylen)
{
	if (c->not_applying)
		snprintf(why, whylen, "%sreplication not applying (SQL thread "
			 "stopped or none configured)", prefix);
	else if (c->lag_ms < 0)
		snprintf(why, whylen, "%slag unknown (replication stopped, "
			 "not configured or Seconds_Behind_Master NULL), max "
			 "%u ms", prefix, p->max_lag_ms);
	else
		snprintf(why, whylen, "%slag %lld ms over max %u ms", prefix,
			 (long long)c->lag_ms, p->max_lag_ms);
}

enum server_health health_next(struct health_state *st,
			       const struct health_check *c,
			       const struct health_policy *p, char *why,
			       size_t whylen)
{
	uint32_t n = p->fail_checks ? p->fail_checks : 1;
	uint32_t m = p->ok_checks ? p->ok_checks : 1;
	enum server_health h = st->health;

	if (whylen)
		why[0] = '\0';
	if (h == HEALTH_DRAINING) {
		st->fails = st->passes = 0;
		return h;
	}
	if (!c->ok) {
		st->passes = 0;
		st->fails++;
		if (h != HEALTH_SHUNNED && st->fails >= n) {
			snprintf(why, whylen, "%u check%s failed in a row",
				 st->fails, st->fails == 1 ? "" : "s");
			st->health = HEALTH_SHUNNED;
		}
		return st->health;
	}
	st->fails = 0;
	switch (h) {
	case HEALTH_SHUNNED:
		if (++st->passes < m)
			break;
		st->passes = 0;
		if (over_lag(c, p)) {
			lag_why(c, p, "checks pass again, but ", why, whylen);
			st->health = HEALTH_LAGGING;
		} else {
			snprintf(why, whylen, "%u check%s passed in a row", m,
				 m == 1 ? "" : "s");
			st->health = HEALTH_ONLINE;
		}
		break;
	case HEALTH_LAGGING:
		if (c->role != ROLE_REPLICA) {
			snprintf(why, whylen, "no longer a replica");
			st->passes = 0;
			st->health = HEALTH_ONLINE;
			break;
		}
		/* Back only once well under the limit, for M checks: a lag
		 * that hovers around the limit keeps it out. */
		if (over_lag(c, p) || (p->max_lag_ms &&
		    c->lag_ms * 2 >= (int64_t)p->max_lag_ms)) {
			st->passes = 0;
			break;
		}
		if (++st->passes < m)
			break;
		if (p->max_lag_ms)
			snprintf(why, whylen, "lag %lld ms, under max / 2 (%u ms), "
				 "for %u check%s", (long long)c->lag_ms,
				 p->max_lag_ms / 2, m, m == 1 ? "" : "s");
		else
			snprintf(why, whylen, "replication applying again, for "
				 "%u check%s", m, m == 1 ? "" : "s");
		st->passes = 0;
		st->health = HEALTH_ONLINE;
		break;
	case HEALTH_ONLINE:
		st->passes = 0;
		if (over_lag(c, p)) {
			lag_why(c, p, "", why, whylen);
			st->health = HEALTH_LAGGING;
		}
		break;
	default:        /* UNKNOWN: the first pass decides */
		st->passes = 0;
		if (over_lag(c, p)) {
			lag_why(c, p, "first check passed, but ", why, whylen);
			st->health = HEALTH_LAGGING;
		} else {
			snprintf(why, whylen, "first check passed");
			st->health = HEALTH_ONLINE;
		}
		break;
	}
	return st->health;
}
