/*
 * fixed_files.c - the worker's registered file table (see fixed_files.h).
 */
#include "fixed_files.h"

#include "log.h"
#include "worker.h"

#include <string.h>
#include <sys/resource.h>

/* What a removal installs; read by the kernel when the SQE is submitted,
 * so it must outlive the turn. */
static int no_file = -1;

/* The kernel's cap on a table's entries (IORING_MAX_FIXED_FILES). */
#define FIXED_FILES_MAX (1u << 20)

void fixed_files_init(struct worker *w)
{
	uint32_t n = w->nslots < FIXED_FILES_MAX ? w->nslots : FIXED_FILES_MAX;
	struct rlimit rl;
	int rc;

	/* The kernel refuses a table larger than RLIMIT_NOFILE: the slots
	 * beyond it (taken only when that many conns are open: the free
	 * list hands out low slots first) use their descriptors. */
	if (!getrlimit(RLIMIT_NOFILE, &rl) && rl.rlim_cur != RLIM_INFINITY &&
	    rl.rlim_cur < n)
		n = (uint32_t)rl.rlim_cur;
	rc = io_uring_register_files_sparse(&w->ring, n);
	if (rc) {
		LOGI("no registered file table (%u entries): %s; sockets are "
		     "named by descriptor", n, strerror(-rc));
		return;
	}
	w->nfixed = n;
}

void fixed_file_install(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (c->slot >= c->w->nfixed || c->fd < 0)
		return;
	sqe = uring_sqe(&c->w->ring);
	/* The kernel reads c->fd when it runs the SQE: the conn stays (it
	 * is not freed while an operation is in flight). */
	io_uring_prep_files_update(sqe, &c->fd, 1, (int)c->slot);
	io_uring_sqe_set_data64(sqe, udata_pack(c->slot, c->gen, 0, OP_FILES));
	c->inflight++;
	c->fixed = true;
}

void fixed_file_remove(struct conn *c)
{
	struct io_uring_sqe *sqe;

	if (!c->fixed)
		return;
	sqe = uring_sqe(&c->w->ring);
	io_uring_prep_files_update(sqe, &no_file, 1, (int)c->slot);
	sqe->flags |= IOSQE_CQE_SKIP_SUCCESS;
	io_uring_sqe_set_data64(sqe, udata_pack(c->slot, c->gen, 1, OP_FILES));
	c->fixed = false;
}

void fixed_file_on_install(struct conn *c, int res)
{
	c->inflight--;
	if (res >= 0)
		return;
	/* The conn's operations that named the entry failed (-EBADF) and
	 * are closing it; any later ones use the descriptor. */
	LOGE("%s connection: registering its socket failed: %s",
	     c->ops->role, strerror(-res));
	c->fixed = false;
}

void fixed_file_on_remove(int res)
{
	/* Nothing else to do: the socket stays open until the worker exits. */
	LOGE("clearing a registered file table entry failed: %s",
	     strerror(-res));
}
