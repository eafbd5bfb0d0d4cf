/*
 * xa_coord.h - the coordinator of a distributed transaction's commit
 * (docs/transactions.md): a pure state machine, events in and actions
 * out, no I/O.  session_xa.c performs the actions on the shards'
 * connections and feeds their results back; the unit tests feed it
 * every failure at every step.
 *
 * A transaction that spans shards has one decision shard (where it began,
 * an ordinary transaction) and participants (XA branches, one per other
 * shard).  Its commit:
 *
 *   ACTIVE --commit--> PREPARING: XA END + XA PREPARE on every branch,
 *                      and, at the same time, INSERT the decision record
 *                      inside the decision shard's open transaction
 *                         | all prepared,          | any failed or lost
 *                         | record written         v
 *                         v                      ROLLING_BACK: ROLLBACK on the
 *                      DECIDING: COMMIT on the   decision shard (the record
 *                      decision shard (the       goes with it), XA ROLLBACK
 *                      decision point)           on the branches that answer;
 *                         | ok        | lost     lost branches are left to
 *                         v           v          recovery (no record: rolled
 *                      COMMITTING   UNKNOWN: the back)
 *                      XA COMMIT on branches stay |
 *                      every branch prepared;     |
 *                         |         recovery      |
 *                         |         decides       |
 *                         +----------> DONE <-----+   (REPLY: the outcome)
 *
 *   ACTIVE --rollback--> ROLLING_BACK (the client's ROLLBACK, a deadlock,
 *   a disconnect)
 *
 * Invariants: no branch is committed unless the decision shard's COMMIT
 * (with the record) succeeded; no branch is rolled back by the
 * coordinator once that COMMIT was sent (its outcome may be unknown).
 */
#ifndef MYRING_XA_COORD_H
#define MYRING_XA_COORD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define XA_PARTS_MAX 64

enum xa_state {
	XA_ACTIVE,
	XA_PREPARING,
	XA_DECIDING,
	XA_COMMITTING,
	XA_ROLLING_BACK,
	XA_DONE,
};

/* A branch as the coordinator knows it. */
enum xa_branch {
	BR_ACTIVE,         /* started, statements run on it */
	BR_PREPARED,
	BR_FAILED,         /* its server refused a step: not prepared */
	BR_LOST,           /* its connection went: prepared or not, unknown */
	BR_COMMITTED,
	BR_ROLLED_BACK,
};

enum xa_do {
	XA_DO_PREPARE,         /* branch: XA END, XA PREPARE */
	XA_DO_RECORD,          /* decision shard: INSERT the decision record */
	XA_DO_COMMIT_LOCAL,    /* decision shard: COMMIT (the decision) */
	XA_DO_COMMIT_BRANCH,   /* branch: XA COMMIT */
	XA_DO_ROLLBACK_LOCAL,  /* decision shard: ROLLBACK */
	XA_DO_ROLLBACK_BRANCH, /* branch: XA END if active, XA ROLLBACK */
	XA_DO_ABANDON,         /* branch: its connection is let go; what it
	                        * left prepared is recovery's (no result) */
	XA_DO_REPLY,           /* the client's answer: outcome */
};

/* What a step's server said. */
enum xa_result {
	XA_OK,
	XA_FAILED,         /* an error: the connection is still usable */
	XA_LOST,           /* the connection went before the answer */
	XA_DUPLICATE,      /* RECORD: the key is taken (recovery's tombstone) */
};

enum xa_outcome {
	XA_COMMITTED,
	XA_ROLLED_BACK,
	XA_UNKNOWN,        /* the decision shard's COMMIT went unanswered:
	                    * recovery finishes it either way */
};

struct xa_action {
	uint8_t what;      /* enum xa_do */
	uint8_t part;      /* the branch, for the branch actions */
	uint8_t outcome;   /* XA_DO_REPLY */
};

struct xa_coord {
	uint8_t state;               /* enum xa_state */
	uint8_t nparts;
	uint8_t waiting;             /* results still due */
	uint8_t outcome;             /* enum xa_outcome, once known */
	bool local_lost;             /* the decision shard's connection went */
	bool record_ok;              /* the decision record is written */
	/* The first step that failed (for the client's message): what and
	 * which branch (-1: the decision shard). */
	int8_t fail_what;
	int8_t fail_part;
	uint8_t branch[XA_PARTS_MAX]; /* enum xa_branch */
};

/* A transaction with nparts branches, all active. */
void xa_coord_init(struct xa_coord *c, unsigned nparts);

/* One more branch joined (ACTIVE only): its index, or -1 when full. */
int xa_coord_join(struct xa_coord *c);

/* Branch part never started (its connection could not join): it leaves
 * (ACTIVE only); the last branch takes its index. */
void xa_coord_leave(struct xa_coord *c, unsigned part);

/* The client's COMMIT / a ROLLBACK (the client's, a deadlock, a
 * disconnect): the first actions into out (room for XA_PARTS_MAX + 2),
 * their number returned. */
unsigned xa_coord_commit(struct xa_coord *c, struct xa_action *out);
unsigned xa_coord_rollback(struct xa_coord *c, struct xa_action *out);

/* The result of action what (on branch part) came: the next actions. */
unsigned xa_coord_result(struct xa_coord *c, enum xa_do what, unsigned part,
			 enum xa_result r, struct xa_action *out);

const char *xa_state_name(enum xa_state st);
const char *xa_do_name(enum xa_do what);

/* ---- transaction ids ------------------------------------------------- */

/* The formatID of myring's XIDs ("my" in ASCII): XA RECOVER rows with
 * another one are not myring's and are never touched. */
#define XA_FORMAT_ID 0x6d79
#define XA_GTRID_MAX 64

/* gtrid "myring:<instance>:<decision shard>:<number>", bqual the branch's
 * shard index.  0, or -1 if it does not fit. */
int xa_gtrid_make(char *out, size_t cap, const char *instance,
		  unsigned decision_shard, uint64_t number);
/* The decision shard a gtrid of myring's format names, or -1. */
int xa_gtrid_decision_shard(const char *gtrid, size_t len);

/* XA START 'g','b',fmt and friends; verb is "START", "END", "PREPARE",
 * "COMMIT", "ROLLBACK".  The gtrid is myring's (no quotes in it). */
int xa_sql(char *out, size_t cap, const char *verb, const char *gtrid,
	   unsigned bqual);

#endif
