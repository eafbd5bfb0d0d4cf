/*
 * syscost - what the machine charges for the primitives the event loop is
 * built from, so that RESULTS.md can say why an idea did or did not pay:
 *
 *   null system call (getppid)
 *   io_uring NOP submitted and reaped with one io_uring_enter
 *
 * Build and run: perf/syscost.sh (prints one line per primitive, ns each).
 */
#include <liburing.h>
#include <stdio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 200000

static double now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void nop_round(struct io_uring *ring)
{
	struct io_uring_cqe *cqe;

	io_uring_prep_nop(io_uring_get_sqe(ring));
	io_uring_submit_and_wait(ring, 1);
	if (io_uring_peek_cqe(ring, &cqe) == 0)
		io_uring_cqe_seen(ring, cqe);
}

int main(void)
{
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN,
	};
	struct io_uring ring;
	double t0;

	t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		syscall(SYS_getppid);
	printf("null system call:               %6.0f ns\n",
	       (now_ns() - t0) / ROUNDS);
	if (io_uring_queue_init_params(64, &ring, &p)) {
		fprintf(stderr, "syscost: io_uring_queue_init failed\n");
		return 1;
	}
	io_uring_register_ring_fd(&ring);
	t0 = now_ns();
	for (int i = 0; i < ROUNDS; i++)
		nop_round(&ring);
	printf("io_uring NOP, submit and reap:  %6.0f ns\n",
	       (now_ns() - t0) / ROUNDS);
	io_uring_queue_exit(&ring);
	return 0;
}
