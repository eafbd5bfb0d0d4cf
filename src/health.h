/*
 * health.h - a server's health from its checks, with hysteresis: the
 * state machine groups.h draws, as a pure function of the last state and
 * one check's result, so every transition is unit-tested.
 *
 *   UNKNOWN  pass: ONLINE (LAGGING if a replica already over max lag)
 *            N fails in a row: SHUNNED
 *   ONLINE   N fails in a row: SHUNNED
 *            pass, replica over max lag (or lag unknown): LAGGING
 *            pass, replica not applying (its SQL thread stopped, or no
 *            replication at all), whatever the max: LAGGING
 *   LAGGING  pass, applying and lag under max / 2 (any lag when max is
 *            0) for M checks in a row: ONLINE
 *            pass, no longer a replica (promoted): ONLINE at once
 *            N fails in a row: SHUNNED
 *   SHUNNED  M passes in a row: ONLINE (LAGGING if over max lag)
 *   DRAINING never left here: a reload puts a server in and out of it.
 *
 * A fail and a pass reset each other's count, so a server that flaps
 * (fail, pass, fail, ...) neither leaves ONLINE nor comes back from
 * SHUNNED; a lag that hovers between max / 2 and max keeps a replica
 * LAGGING.  Leaving for the worse is immediate for lag (reads must not
 * see stale data) and takes N checks for failures (one lost packet is no
 * reason to move clients).
 */
#ifndef MYRING_HEALTH_H
#define MYRING_HEALTH_H

#include "groups.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* What one check found. */
struct health_check {
	bool ok;                   /* connected, logged in, answered */
	enum server_role role;     /* when ok */
	int64_t lag_ms;            /* when ok: -1 unknown (NULL
	                            * Seconds_Behind_Master, a replication
	                            * thread stopped, none configured) */
	bool not_applying;         /* when ok, a replica: its SQL thread
	                            * is stopped, or it replicates from
	                            * nowhere: its data ages however small
	                            * the lag it reports */
};

/* The group's settings (struct backend_group). */
struct health_policy {
	uint32_t fail_checks;      /* N; 0 counts as 1 */
	uint32_t ok_checks;        /* M; 0 counts as 1 */
	uint32_t max_lag_ms;       /* 0: lag is not checked */
};

struct health_state {
	uint8_t health;            /* enum server_health */
	uint32_t fails;            /* failed checks in a row */
	uint32_t passes;           /* passes in a row counting toward a
	                            * return from SHUNNED or LAGGING */
};

/* Applies one check.  Returns the new health (also in st->health); when
 * it differs from the old one, why says in a few words what moved it. */
enum server_health health_next(struct health_state *st,
			       const struct health_check *c,
			       const struct health_policy *p, char *why,
			       size_t whylen);

/* "online", "shunned", ...; "primary", "replica", "unknown". */
const char *health_name(enum server_health h);
const char *role_name(enum server_role r);

#endif
