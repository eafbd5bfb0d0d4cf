/*
 * xa_fault.h - a test hook: pauses the commit of distributed transactions
 * at a chosen point, so that a test can kill a shard or myring itself
 * there (docs/testing.md, "Crash tests").  Enabled only by the environment
 * variable MYRING_XA_FAULT=POINT:pause[=MS]; without it nothing changes.
 *
 * Points, in the order of the commit (docs/transactions.md):
 *   after-prepare   the decision record's INSERT held (it is sent beside
 *                   the branches' prepares, which end meanwhile)
 *   after-record    the record inserted; before the decision shard's COMMIT
 *   after-decision  the decision committed; before each branch's XA COMMIT
 *
 * The pause is a DO SLEEP on the connection of the next step, so the
 * worker never blocks and a server killed during it is seen as that
 * step's lost connection.
 */
#ifndef MYRING_XA_FAULT_H
#define MYRING_XA_FAULT_H

enum xa_fault_point {
	XA_FAULT_NONE,
	XA_FAULT_AFTER_PREPARE,
	XA_FAULT_AFTER_RECORD,
	XA_FAULT_AFTER_DECISION,
};

/* The pause (ms) configured before the step at point, or 0. */
unsigned xa_fault_pause_ms(enum xa_fault_point point);

#endif
