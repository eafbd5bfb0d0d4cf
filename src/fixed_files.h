/*
 * fixed_files.h - each worker's registered file table: the sockets of its
 * conns, so their ring operations skip the per-operation descriptor lookup.
 *
 * Without it, every SQE on a socket looks the descriptor up in the
 * process's file table and takes and drops a reference to the file
 * (fget/fput: two atomic operations on a counter every thread of the
 * process may touch).  With a file registered at a table index, an SQE
 * flagged IOSQE_FIXED_FILE names the index and the ring uses the reference
 * the table holds.
 *
 * The table has one entry per conn slot (the slot is the index, so no
 * allocator of its own).  The conn keeps its ordinary descriptor too: plain
 * system calls (setsockopt, splice, getpeername) and cancelling by
 * descriptor still use it.  Entries are installed and cleared with
 * IORING_OP_FILES_UPDATE SQEs, not io_uring_register(2) calls: they cost
 * no system call of their own and run in SQ order, so a slot cleared and
 * taken again within one turn ends up holding the new socket, and the
 * install always runs before the conn's first operation that uses it.
 *
 * While its entry is set the table holds a reference to the socket, so
 * close(fd) alone no longer closes it: the entry is cleared when the conn
 * is released (conn_release), and the socket goes when that runs.
 */
#ifndef MYRING_FIXED_FILES_H
#define MYRING_FIXED_FILES_H

#include "conn.h"
#include "uring.h"

#include <stdbool.h>
#include <stdint.h>

struct worker;

/* Registers a sparse table of w->nslots entries, or as many as
 * RLIMIT_NOFILE allows.  Failure (an old kernel) is not an error: the
 * conns then use plain descriptors. */
void fixed_files_init(struct worker *w);

/* Installs c->fd at c->slot (an operation in flight until its completion,
 * fixed_file_on_install).  Call before the conn's first operation. */
void fixed_file_install(struct conn *c);

/* Clears c->slot's entry (no completion unless it fails). */
void fixed_file_remove(struct conn *c);

/* Completions (worker.c): an install's, and a removal's, which comes
 * only when it failed. */
void fixed_file_on_install(struct conn *c, int res);
void fixed_file_on_remove(int res);

/* Points sqe, prepared on c->fd, at c's table entry instead. */
static inline void fixed_file_use(const struct conn *c,
				  struct io_uring_sqe *sqe)
{
	if (c->fixed) {
		sqe->fd = (int32_t)c->slot;
		sqe->flags |= IOSQE_FIXED_FILE;
	}
}

#endif
