/*
 * xa_coord.c - the commit of a distributed transaction as a state
 * machine (xa_coord.h).  Every function here is pure: the caller performs
 * the actions and reports each one's result.
 */
#include "xa_coord.h"

#include <stdio.h>
#include <string.h>

void xa_coord_init(struct xa_coord *c, unsigned nparts)
{
	memset(c, 0, sizeof(*c));
	c->state = XA_ACTIVE;
	c->nparts = (uint8_t)(nparts > XA_PARTS_MAX ? XA_PARTS_MAX : nparts);
	c->fail_what = -1;
	c->fail_part = -1;
}

int xa_coord_join(struct xa_coord *c)
{
	if (c->state != XA_ACTIVE || c->nparts >= XA_PARTS_MAX)
		return -1;
	c->branch[c->nparts] = BR_ACTIVE;
	return c->nparts++;
}

void xa_coord_leave(struct xa_coord *c, unsigned part)
{
	if (c->state != XA_ACTIVE || part >= c->nparts)
		return;
	c->branch[part] = c->branch[c->nparts - 1];
	c->nparts--;
}

static unsigned put(struct xa_action *out, unsigned n, enum xa_do what,
		    unsigned part, enum xa_outcome outcome)
{
	out[n] = (struct xa_action){(uint8_t)what, (uint8_t)part,
				    (uint8_t)outcome};
	return n + 1;
}

static unsigned reply(struct xa_coord *c, struct xa_action *out, unsigned n)
{
	c->state = XA_DONE;
	return put(out, n, XA_DO_REPLY, 0, (enum xa_outcome)c->outcome);
}

/*
 * Everything is rolled back: the decision shard (unless its connection
 * went: the server rolled it back), every branch that can still hear
 * (prepared, refused, active), while a lost branch is let go: whatever
 * it left prepared has no decision record, so recovery rolls it back.
 */
static unsigned roll_back_all(struct xa_coord *c, struct xa_action *out)
{
	unsigned n = 0;

	c->state = XA_ROLLING_BACK;
	c->outcome = XA_ROLLED_BACK;
	c->waiting = 0;
	if (!c->local_lost) {
		n = put(out, n, XA_DO_ROLLBACK_LOCAL, 0, 0);
		c->waiting++;
	}
	for (unsigned i = 0; i < c->nparts; i++) {
		switch (c->branch[i]) {
		case BR_ACTIVE:
		case BR_PREPARED:
		case BR_FAILED:
			n = put(out, n, XA_DO_ROLLBACK_BRANCH, i, 0);
			c->waiting++;
			break;
		case BR_LOST:
			n = put(out, n, XA_DO_ABANDON, i, 0);
			break;
		default:
			break;
		}
	}
	if (!c->waiting)
		n = reply(c, out, n);
	return n;
}

/*
 * The decision record is written while the branches prepare, not after:
 * it is an INSERT inside the decision shard's own open transaction,
 * invisible to anyone until the decision COMMIT, so writing it early
 * changes nothing another reader (or recovery's tombstone, which waits
 * on its key's lock) can see, and saves the commit a round trip.  If a
 * branch then fails, the ROLLBACK of the decision shard removes it.
 */
unsigned xa_coord_commit(struct xa_coord *c, struct xa_action *out)
{
	unsigned n = 0;

	if (c->state != XA_ACTIVE)
		return 0;
	if (!c->nparts) {
		/* Every branch left before it started (its shard could not
		 * join): an ordinary transaction on the decision shard. */
		c->state = XA_DECIDING;
		c->waiting = 1;
		return put(out, 0, XA_DO_COMMIT_LOCAL, 0, 0);
	}
	c->state = XA_PREPARING;
	c->waiting = 0;
	c->record_ok = false;
	for (unsigned i = 0; i < c->nparts; i++) {
		if (c->branch[i] == BR_LOST) {
			/* A branch that went while active is rolled back by
			 * its server: the transaction cannot commit. */
			if (c->fail_what < 0) {
				c->fail_what = XA_DO_PREPARE;
				c->fail_part = (int8_t)i;
			}
			continue;
		}
		n = put(out, n, XA_DO_PREPARE, i, 0);
		c->waiting++;
	}
	if (!c->waiting) {
		c->state = XA_ACTIVE;
		return xa_coord_rollback(c, out);
	}
	n = put(out, n, XA_DO_RECORD, 0, 0);
	c->waiting++;
	return n;
}

unsigned xa_coord_rollback(struct xa_coord *c, struct xa_action *out)
{
	if (c->state != XA_ACTIVE && c->state != XA_PREPARING)
		return 0;
	if (c->state == XA_PREPARING && c->waiting)
		/* Results still due: they decide when they are in (a
		 * failed prepare rolls everything back anyway). */
		return 0;
	return roll_back_all(c, out);
}

static void note_failure(struct xa_coord *c, enum xa_do what, int part)
{
	if (c->fail_what >= 0)
		return;
	c->fail_what = (int8_t)what;
	c->fail_part = (int8_t)part;
}

static enum xa_branch branch_after(enum xa_result r, enum xa_branch ok)
{
	switch (r) {
	case XA_OK:
		return ok;
	case XA_LOST:
		return BR_LOST;
	default:
		return BR_FAILED;
	}
}

/* Every branch's prepare and the record are in: decide, or not. */
static unsigned all_prepared(struct xa_coord *c, struct xa_action *out)
{
	for (unsigned i = 0; i < c->nparts; i++)
		if (c->branch[i] != BR_PREPARED)
			return roll_back_all(c, out);
	if (!c->record_ok)
		return roll_back_all(c, out);
	c->state = XA_DECIDING;
	c->waiting = 1;
	return put(out, 0, XA_DO_COMMIT_LOCAL, 0, 0);
}

static unsigned prepared(struct xa_coord *c, unsigned part, enum xa_result r,
			 struct xa_action *out)
{
	c->branch[part] = (uint8_t)branch_after(r, BR_PREPARED);
	if (r != XA_OK)
		note_failure(c, XA_DO_PREPARE, (int)part);
	return --c->waiting ? 0 : all_prepared(c, out);
}

static unsigned recorded(struct xa_coord *c, enum xa_result r,
			 struct xa_action *out)
{
	c->record_ok = r == XA_OK;
	if (r != XA_OK) {
		/* Not decided: a duplicate key is recovery's tombstone (it
		 * has rolled back or will roll back the branches). */
		note_failure(c, XA_DO_RECORD, -1);
		c->local_lost = r == XA_LOST;
	}
	return --c->waiting ? 0 : all_prepared(c, out);
}

static unsigned decided(struct xa_coord *c, enum xa_result r,
			struct xa_action *out)
{
	unsigned n = 0;

	c->waiting = 0;
	if (r != XA_OK) {
		/* Committed or not, nobody here can be sure (an error on
		 * COMMIT too: the record may be in, as far as myring can
		 * tell): the branches stay prepared and recovery finds the
		 * record, or does not. */
		note_failure(c, XA_DO_COMMIT_LOCAL, -1);
		c->local_lost = r == XA_LOST;
		c->outcome = XA_UNKNOWN;
		for (unsigned i = 0; i < c->nparts; i++)
			n = put(out, n, XA_DO_ABANDON, i, 0);
		return reply(c, out, n);
	}
	c->state = XA_COMMITTING;
	c->outcome = XA_COMMITTED;
	for (unsigned i = 0; i < c->nparts; i++) {
		n = put(out, n, XA_DO_COMMIT_BRANCH, i, 0);
		c->waiting++;
	}
	if (!c->waiting)
		n = reply(c, out, n);
	return n;
}

unsigned xa_coord_result(struct xa_coord *c, enum xa_do what, unsigned part,
			 enum xa_result r, struct xa_action *out)
{
	if (part >= c->nparts && what != XA_DO_RECORD &&
	    what != XA_DO_COMMIT_LOCAL && what != XA_DO_ROLLBACK_LOCAL)
		return 0;
	switch (c->state) {
	case XA_ACTIVE:
		return 0;
	case XA_PREPARING:
		if (what == XA_DO_RECORD)
			return recorded(c, r, out);
		return what == XA_DO_PREPARE ? prepared(c, part, r, out) : 0;
	case XA_DECIDING:
		return what == XA_DO_COMMIT_LOCAL ? decided(c, r, out) : 0;
	case XA_COMMITTING:
		if (what != XA_DO_COMMIT_BRANCH)
			return 0;
		/* A branch that did not answer stays prepared: the record
		 * says commit, recovery commits it. */
		c->branch[part] = (uint8_t)branch_after(r, BR_COMMITTED);
		if (r != XA_OK)
			note_failure(c, what, (int)part);
		return --c->waiting ? 0 : reply(c, out, 0);
	case XA_ROLLING_BACK:
		if (what == XA_DO_ROLLBACK_BRANCH)
			c->branch[part] = (uint8_t)branch_after(r,
							BR_ROLLED_BACK);
		else if (what != XA_DO_ROLLBACK_LOCAL)
			return 0;
		return --c->waiting ? 0 : reply(c, out, 0);
	default:
		return 0;
	}
}

const char *xa_state_name(enum xa_state st)
{
	static const char *const names[] = {
		"active", "preparing", "deciding", "committing",
		"rolling back", "done",
	};
	return (unsigned)st < sizeof(names) / sizeof(names[0]) ? names[st] :
								"?";
}

const char *xa_do_name(enum xa_do what)
{
	static const char *const names[] = {
		"XA PREPARE", "the decision record", "COMMIT", "XA COMMIT",
		"ROLLBACK", "XA ROLLBACK", "abandon", "reply",
	};
	return (unsigned)what < sizeof(names) / sizeof(names[0]) ?
	       names[what] : "?";
}

/* ---- transaction ids ------------------------------------------------- */

int xa_gtrid_make(char *out, size_t cap, const char *instance,
		  unsigned decision_shard, uint64_t number)
{
	size_t room = cap < XA_GTRID_MAX + 1 ? cap : XA_GTRID_MAX + 1;
	int n = snprintf(out, room, "myring:%s:%u:%llu", instance,
			 decision_shard, (unsigned long long)number);

	return n < 0 || (size_t)n >= room || strchr(instance, '\'') ? -1 : 0;
}

int xa_gtrid_decision_shard(const char *gtrid, size_t len)
{
	const char *p = gtrid, *end = gtrid + len, *colon;
	unsigned v = 0;
	bool digits = false;

	if (len < 7 || memcmp(p, "myring:", 7))
		return -1;
	p += 7;
	colon = memchr(p, ':', (size_t)(end - p));
	if (!colon || colon == p)
		return -1;
	for (p = colon + 1; p < end && *p != ':'; p++) {
		if (*p < '0' || *p > '9' || v > 1000)
			return -1;
		v = v * 10 + (unsigned)(*p - '0');
		digits = true;
	}
	if (!digits || p == end || p + 1 == end || v >= XA_PARTS_MAX)
		return -1;
	return (int)v;
}

int xa_sql(char *out, size_t cap, const char *verb, const char *gtrid,
	   unsigned bqual)
{
	int n = snprintf(out, cap, "XA %s '%s','%u',%u", verb, gtrid, bqual,
			 XA_FORMAT_ID);

	return n < 0 || (size_t)n >= cap ? -1 : n;
}
