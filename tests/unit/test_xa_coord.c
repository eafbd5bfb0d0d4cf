/*
 * The distributed commit's coordinator (xa_coord.h): the happy paths, and
 * every failure (refused, lost, duplicate) injected at every step of
 * every run with 1..4 branches, checked against the protocol's
 * invariants: nothing is committed unless the decision shard's COMMIT
 * succeeded, nothing is rolled back once it was sent, the client gets one
 * answer, and every action's result is awaited.
 */
#include <criterion/criterion.h>
#include <string.h>

#include "xa_coord.h"

struct run {
	struct xa_coord c;
	/* What was done: per branch, and to the decision shard. */
	bool committed[XA_PARTS_MAX], rolled_back[XA_PARTS_MAX];
	bool abandoned[XA_PARTS_MAX];
	bool local_committed, local_commit_sent, local_rolled_back;
	unsigned replies;
	enum xa_outcome outcome;
	unsigned steps;           /* actions with a result, so far */
};

/* Runs the actions breadth first: the results of step number `fail_at`
 * is `fault`, every other one XA_OK. */
static void drive(struct run *r, struct xa_action *acts, unsigned n,
		  unsigned fail_at, enum xa_result fault)
{
	struct xa_action queue[1024];
	unsigned head = 0, tail = 0;

	for (unsigned i = 0; i < n; i++)
		queue[tail++] = acts[i];
	while (head < tail) {
		struct xa_action a = queue[head++];
		struct xa_action next[XA_PARTS_MAX + 2];
		enum xa_result res;
		unsigned m;

		switch (a.what) {
		case XA_DO_REPLY:
			r->replies++;
			r->outcome = (enum xa_outcome)a.outcome;
			continue;
		case XA_DO_ABANDON:
			r->abandoned[a.part] = true;
			continue;
		default:
			break;
		}
		res = r->steps++ == fail_at ? fault : XA_OK;
		if (res == XA_DUPLICATE && a.what != XA_DO_RECORD)
			res = XA_FAILED;
		switch (a.what) {
		case XA_DO_COMMIT_LOCAL:
			r->local_commit_sent = true;
			r->local_committed = res == XA_OK;
			break;
		case XA_DO_COMMIT_BRANCH:
			cr_assert(!r->rolled_back[a.part]);
			r->committed[a.part] = res == XA_OK;
			break;
		case XA_DO_ROLLBACK_BRANCH:
			cr_assert(!r->committed[a.part]);
			r->rolled_back[a.part] = res == XA_OK;
			break;
		case XA_DO_ROLLBACK_LOCAL:
			cr_assert(!r->local_commit_sent ||
				  !r->local_committed);
			r->local_rolled_back = true;
			break;
		default:
			break;
		}
		m = xa_coord_result(&r->c, (enum xa_do)a.what, a.part, res,
				    next);
		for (unsigned i = 0; i < m; i++)
			queue[tail++] = next[i];
		cr_assert(tail < 1024);
	}
}

static void check_invariants(const struct run *r, unsigned nparts)
{
	cr_assert_eq(r->replies, 1, "one answer to the client");
	cr_assert_eq(r->c.state, XA_DONE);
	for (unsigned i = 0; i < nparts; i++) {
		if (r->committed[i])
			cr_assert(r->local_committed, "branch %u committed "
				  "without a decision", i);
		if (r->rolled_back[i])
			cr_assert(!r->local_commit_sent, "branch %u rolled "
				  "back after the decision was sent", i);
	}
	switch (r->outcome) {
	case XA_COMMITTED:
		cr_assert(r->local_committed);
		break;
	case XA_ROLLED_BACK:
		cr_assert(!r->local_committed);
		for (unsigned i = 0; i < nparts; i++)
			cr_assert(!r->committed[i]);
		break;
	case XA_UNKNOWN:
		cr_assert(r->local_commit_sent && !r->local_committed);
		for (unsigned i = 0; i < nparts; i++)
			cr_assert(r->abandoned[i] && !r->committed[i] &&
				  !r->rolled_back[i]);
		break;
	}
}

static void commit_run(struct run *r, unsigned nparts, unsigned fail_at,
		       enum xa_result fault)
{
	struct xa_action acts[XA_PARTS_MAX + 2];
	unsigned n;

	memset(r, 0, sizeof(*r));
	xa_coord_init(&r->c, nparts);
	n = xa_coord_commit(&r->c, acts);
	drive(r, acts, n, fail_at, fault);
}

Test(xa_coord, commit_all_ok)
{
	for (unsigned parts = 1; parts <= 4; parts++) {
		struct run r;

		commit_run(&r, parts, ~0u, XA_OK);
		check_invariants(&r, parts);
		cr_assert_eq(r.outcome, XA_COMMITTED);
		for (unsigned i = 0; i < parts; i++)
			cr_assert(r.committed[i]);
		/* prepares, record, commit, branch commits */
		cr_assert_eq(r.steps, parts + 2 + parts);
	}
}

Test(xa_coord, every_failure_at_every_step)
{
	static const enum xa_result faults[] = {XA_FAILED, XA_LOST,
						XA_DUPLICATE};

	for (unsigned parts = 1; parts <= 4; parts++) {
		for (unsigned k = 0; k < 2 * parts + 2; k++) {
			for (unsigned f = 0; f < 3; f++) {
				struct run r;
				commit_run(&r, parts, k, faults[f]);
				check_invariants(&r, parts);
				if (k <= parts)
					/* before the decision point */
					cr_assert_eq(r.outcome,
						     XA_ROLLED_BACK, "k %u", k);
				else if (k == parts + 1)
					cr_assert_eq(r.outcome, XA_UNKNOWN);
			}
		}
	}
}

Test(xa_coord, lost_decision_commit_leaves_branches_to_recovery)
{
	struct run r;

	/* 2 prepares, the record, then the COMMIT (step 3) is lost. */
	commit_run(&r, 2, 3, XA_LOST);
	check_invariants(&r, 2);
	cr_assert_eq(r.outcome, XA_UNKNOWN);
	cr_assert(r.abandoned[0] && r.abandoned[1]);
	cr_assert_eq(r.c.fail_what, XA_DO_COMMIT_LOCAL);
}

Test(xa_coord, duplicate_record_rolls_back)
{
	struct run r;

	commit_run(&r, 3, 3, XA_DUPLICATE);
	check_invariants(&r, 3);
	cr_assert_eq(r.outcome, XA_ROLLED_BACK);
	cr_assert(r.local_rolled_back);
	for (unsigned i = 0; i < 3; i++)
		cr_assert(r.rolled_back[i]);
	cr_assert_eq(r.c.fail_what, XA_DO_RECORD);
}

Test(xa_coord, lost_prepare_is_abandoned_not_rolled_back)
{
	struct run r;

	commit_run(&r, 3, 1, XA_LOST);
	check_invariants(&r, 3);
	cr_assert_eq(r.outcome, XA_ROLLED_BACK);
	cr_assert(r.abandoned[1]);
	cr_assert(r.rolled_back[0] && r.rolled_back[2]);
	cr_assert_eq(r.c.fail_part, 1);
}

Test(xa_coord, failed_branch_commit_still_commits)
{
	struct run r;

	/* 2 prepares, record, commit, then branch 0's XA COMMIT fails: the
	 * decision stands (recovery commits it). */
	commit_run(&r, 2, 4, XA_LOST);
	check_invariants(&r, 2);
	cr_assert_eq(r.outcome, XA_COMMITTED);
	cr_assert(!r.committed[0] && r.committed[1]);
}

Test(xa_coord, rollback_every_failure)
{
	for (unsigned parts = 1; parts <= 4; parts++) {
		for (unsigned k = 0; k <= parts; k++) {
			struct xa_action acts[XA_PARTS_MAX + 2];
			struct run r;
			unsigned n;

			memset(&r, 0, sizeof(r));
			xa_coord_init(&r.c, parts);
			n = xa_coord_rollback(&r.c, acts);
			cr_assert_eq(n, parts + 1);
			drive(&r, acts, n, k, XA_LOST);
			check_invariants(&r, parts);
			cr_assert_eq(r.outcome, XA_ROLLED_BACK);
			cr_assert(r.local_rolled_back);
		}
	}
}

Test(xa_coord, branch_lost_while_active_cannot_commit)
{
	struct xa_action acts[XA_PARTS_MAX + 2];
	struct run r;
	unsigned n;

	memset(&r, 0, sizeof(r));
	xa_coord_init(&r.c, 2);
	r.c.branch[1] = BR_LOST;
	n = xa_coord_commit(&r.c, acts);
	drive(&r, acts, n, ~0u, XA_OK);
	check_invariants(&r, 2);
	cr_assert_eq(r.outcome, XA_ROLLED_BACK);
	cr_assert(r.abandoned[1] && r.rolled_back[0]);
}

Test(xa_coord, no_branch_left_commits_on_the_decision_shard_alone)
{
	struct xa_coord c;
	struct xa_action acts[XA_PARTS_MAX + 2];

	xa_coord_init(&c, 0);
	cr_assert_eq(xa_coord_join(&c), 0);
	xa_coord_leave(&c, 0);
	cr_assert_eq(xa_coord_commit(&c, acts), 1);
	cr_assert_eq(acts[0].what, XA_DO_COMMIT_LOCAL, "no record, no "
		     "prepare: a plain COMMIT");
	cr_assert_eq(xa_coord_result(&c, XA_DO_COMMIT_LOCAL, 0, XA_OK, acts),
		     1);
	cr_assert_eq(acts[0].what, XA_DO_REPLY);
	cr_assert_eq(acts[0].outcome, XA_COMMITTED);
}

Test(xa_coord, join_and_limits)
{
	struct xa_coord c;
	struct xa_action acts[XA_PARTS_MAX + 2];

	xa_coord_init(&c, 0);
	cr_assert_eq(xa_coord_join(&c), 0);
	cr_assert_eq(xa_coord_join(&c), 1);
	/* Both prepares and, beside them, the decision record: three
	 * requests in flight at once. */
	cr_assert_eq(xa_coord_commit(&c, acts), 3);
	cr_assert_eq(acts[0].what, XA_DO_PREPARE);
	cr_assert_eq(acts[1].what, XA_DO_PREPARE);
	cr_assert_eq(acts[2].what, XA_DO_RECORD);
	cr_assert_eq(xa_coord_join(&c), -1, "no branch joins a commit");
	cr_assert_eq(xa_coord_commit(&c, acts), 0, "one commit");
	/* A result nobody asked for changes nothing. */
	cr_assert_eq(xa_coord_result(&c, XA_DO_COMMIT_BRANCH, 0, XA_OK, acts),
		     0);
	cr_assert_eq(c.state, XA_PREPARING);
	/* The decision waits for the record and every prepare, in any
	 * order. */
	cr_assert_eq(xa_coord_result(&c, XA_DO_PREPARE, 1, XA_OK, acts), 0);
	cr_assert_eq(xa_coord_result(&c, XA_DO_RECORD, 0, XA_OK, acts), 0);
	cr_assert_eq(xa_coord_result(&c, XA_DO_PREPARE, 0, XA_OK, acts), 1);
	cr_assert_eq(acts[0].what, XA_DO_COMMIT_LOCAL);
	cr_assert_eq(c.state, XA_DECIDING);
}

Test(xa_coord, a_branch_that_never_started_leaves)
{
	struct xa_coord c;
	struct xa_action acts[XA_PARTS_MAX + 2];

	xa_coord_init(&c, 0);
	cr_assert_eq(xa_coord_join(&c), 0);
	cr_assert_eq(xa_coord_join(&c), 1);
	cr_assert_eq(xa_coord_join(&c), 2);
	c.branch[2] = BR_LOST;
	/* Branch 0 leaves: the last one (lost) takes its index. */
	xa_coord_leave(&c, 0);
	cr_assert_eq(c.nparts, 2);
	cr_assert_eq(c.branch[0], BR_LOST);
	cr_assert_eq(c.branch[1], BR_ACTIVE);
	xa_coord_leave(&c, 5);
	cr_assert_eq(c.nparts, 2, "no such branch");
	cr_assert_eq(xa_coord_commit(&c, acts), 2, "one prepare and the "
		     "record, the lost branch is not asked");
	cr_assert_eq(acts[0].what, XA_DO_PREPARE);
	cr_assert_eq(acts[0].part, 1);
	cr_assert_eq(acts[1].what, XA_DO_RECORD);
	xa_coord_leave(&c, 1);
	cr_assert_eq(c.nparts, 2, "nothing leaves a commit");
}

Test(xa_coord, gtrid)
{
	char g[XA_GTRID_MAX + 1], q[200];

	cr_assert_eq(xa_gtrid_make(g, sizeof(g), "0a1b2c3d4e5f6071", 3, 42),
		     0);
	cr_assert_str_eq(g, "myring:0a1b2c3d4e5f6071:3:42");
	cr_assert_eq(xa_gtrid_decision_shard(g, strlen(g)), 3);
	cr_assert_eq(xa_gtrid_decision_shard("myring:x:12:7", 13), 12);
	cr_assert_eq(xa_gtrid_decision_shard("other:x:1:7", 11), -1);
	cr_assert_eq(xa_gtrid_decision_shard("myring:x:1", 10), -1);
	cr_assert_eq(xa_gtrid_decision_shard("myring::1:2", 11), -1);
	cr_assert_eq(xa_gtrid_decision_shard("myring:x:99:2", 13), -1);
	cr_assert_eq(xa_gtrid_make(g, sizeof(g), "it's", 0, 1), -1);
	cr_assert_eq(xa_sql(q, sizeof(q), "PREPARE", "myring:a:0:1", 2), 35);
	cr_assert_str_eq(q, "XA PREPARE 'myring:a:0:1','2',28025");
}
