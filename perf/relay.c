/*
 * The two-hop floor: a bare io_uring TCP relay, the least a proxy can do per
 * query on this machine.  It knows nothing of MySQL; it accepts, connects to
 * the backend and copies bytes both ways with the techniques myring uses
 * (one pinned thread, SINGLE_ISSUER + DEFER_TASKRUN, registered files,
 * multishot receives into a provided-buffer ring, sends from the receive
 * buffer, one io_uring_enter per loop turn).  perf/ab.sh runs it as the
 * variant `NAME=relay` beside myring and HAProxy, so "how far is myring from
 * the floor" is answered in the same interleaved run.
 *
 *   relay LISTEN_ADDR:PORT BACKEND_ADDR:PORT|unix:PATH [CPU]
 *
 * It is a measuring tool, not a product: connection setup is blocking, and
 * it stops on SIGTERM without draining.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <liburing.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

enum {
	MAX_CONNS = 4096,	/* relayed pairs; each takes two file slots */
	NBUFS = 128,		/* myring's default receive pool: 128 x 32 KiB */
	BUF_SIZE = 32 * 1024,
	BGID = 1,
	QUEUE = 64,		/* chunks waiting behind a send in flight */
};

/* user_data: kind in the low 2 bits, the file slot above them. */
enum kind { K_ACCEPT, K_RECV, K_SEND };

struct chunk {
	int bid;
	unsigned off, len;
};

/* One direction of a pair: bytes received on slot s are sent to slot s ^ 1. */
struct side {
	int fd;
	int open;
	int sending;		/* a send is in flight (order must be kept) */
	int receiving;		/* the multishot receive is armed: the slot
				 * cannot be reused before its last completion */
	struct chunk q[QUEUE];
	unsigned head, n;
};

static struct side sides[2 * MAX_CONNS];
static struct io_uring ring;
static struct io_uring_buf_ring *br;
static char *bufs;
static struct sockaddr_storage backend;
static socklen_t backend_len;
static volatile sig_atomic_t stop;

static struct io_uring_sqe *sqe_get(void)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&ring);

	if (!sqe) {
		io_uring_submit(&ring);
		sqe = io_uring_get_sqe(&ring);
	}
	return sqe;
}

static void buf_give_back(int bid)
{
	io_uring_buf_ring_add(br, bufs + (size_t)bid * BUF_SIZE, BUF_SIZE, bid,
			      io_uring_buf_ring_mask(NBUFS), 0);
	io_uring_buf_ring_advance(br, 1);
}

static void arm_recv(int slot)
{
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_recv_multishot(sqe, slot, NULL, 0, 0);
	sqe->flags |= IOSQE_FIXED_FILE | IOSQE_BUFFER_SELECT;
	sqe->buf_group = BGID;
	io_uring_sqe_set_data64(sqe, (uint64_t)slot << 2 | K_RECV);
	sides[slot].receiving = 1;
}

static void send_head(int to)
{
	struct side *d = &sides[to];
	struct chunk *c = &d->q[d->head];
	struct io_uring_sqe *sqe = sqe_get();

	io_uring_prep_send(sqe, to, bufs + (size_t)c->bid * BUF_SIZE + c->off,
			   c->len, MSG_NOSIGNAL);
	sqe->flags |= IOSQE_FIXED_FILE;
	io_uring_sqe_set_data64(sqe, (uint64_t)to << 2 | K_SEND);
	d->sending = 1;
}

static void close_pair(int slot)
{
	int base = slot & ~1;

	for (int s = base; s <= base + 1; s++) {
		struct side *d = &sides[s];

		if (!d->open)
			continue;
		/* Buffers queued behind a send go back; the one in flight
		 * returns when its completion arrives. */
		for (unsigned i = d->sending; i < d->n; i++)
			buf_give_back(d->q[(d->head + i) % QUEUE].bid);
		d->n = d->sending;
		d->open = 0;
		shutdown(d->fd, SHUT_RDWR);
	}
}

static void maybe_release(int slot)
{
	int base = slot & ~1;

	for (int s = base; s <= base + 1; s++)
		if (sides[s].open || sides[s].sending || sides[s].receiving)
			return;
	for (int s = base; s <= base + 1; s++) {
		int none = -1;

		io_uring_register_files_update(&ring, s, &none, 1);
		close(sides[s].fd);
		sides[s].fd = -1;
	}
}

static int free_pair(void)
{
	for (int p = 0; p < MAX_CONNS; p++)
		if (sides[2 * p].fd < 0 && sides[2 * p + 1].fd < 0)
			return 2 * p;
	return -1;
}

static void on_accept(int cfd)
{
	int one = 1, base = free_pair();
	int bfd = socket(backend.ss_family, SOCK_STREAM, 0);

	if (base < 0 || bfd < 0 ||
	    connect(bfd, (struct sockaddr *)&backend, backend_len) < 0) {
		perror("relay: connect to backend");
		close(cfd);
		if (bfd >= 0)
			close(bfd);
		return;
	}
	setsockopt(cfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (backend.ss_family == AF_INET)
		setsockopt(bfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	int fds[2] = { cfd, bfd };
	io_uring_register_files_update(&ring, base, fds, 2);
	for (int s = 0; s < 2; s++) {
		sides[base + s] = (struct side){ .fd = fds[s], .open = 1 };
		arm_recv(base + s);
	}
}

static void on_recv(int slot, struct io_uring_cqe *cqe)
{
	int more = cqe->flags & IORING_CQE_F_MORE;

	if (!more)
		sides[slot].receiving = 0;
	if (cqe->res <= 0) {
		if (cqe->res == -ENOBUFS && sides[slot].open) {
			arm_recv(slot);	/* pool ran dry: try again next turn */
			return;
		}
		close_pair(slot);
		maybe_release(slot);
		return;
	}
	int bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
	struct side *d = &sides[slot ^ 1];

	if (!d->open || d->n == QUEUE) {
		buf_give_back(bid);
		close_pair(slot);
		maybe_release(slot);
		return;
	}
	d->q[(d->head + d->n++) % QUEUE] = (struct chunk){ bid, 0, (unsigned)cqe->res };
	if (!d->sending)
		send_head(slot ^ 1);
	if (!more && sides[slot].open)
		arm_recv(slot);
}

static void on_send(int to, struct io_uring_cqe *cqe)
{
	struct side *d = &sides[to];
	struct chunk *c = &d->q[d->head];

	d->sending = 0;
	if (cqe->res <= 0) {
		buf_give_back(c->bid);
		d->head = (d->head + 1) % QUEUE;
		d->n--;
		close_pair(to);
		maybe_release(to);
		return;
	}
	if ((unsigned)cqe->res < c->len) {
		c->off += cqe->res;
		c->len -= cqe->res;
	} else {
		buf_give_back(c->bid);
		d->head = (d->head + 1) % QUEUE;
		d->n--;
	}
	if (d->n && d->open)
		send_head(to);
	else
		maybe_release(to);
}

static int parse_addr(const char *text, struct sockaddr_in *a)
{
	char host[64];
	const char *colon = strrchr(text, ':');

	if (!colon || colon - text >= (long)sizeof host)
		return -1;
	memcpy(host, text, colon - text);
	host[colon - text] = 0;
	*a = (struct sockaddr_in){ .sin_family = AF_INET,
				   .sin_port = htons(atoi(colon + 1)) };
	return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* BACKEND is ADDR:PORT or unix:PATH (a co-located server's socket). */
static int parse_backend(const char *text)
{
	if (strncmp(text, "unix:", 5) == 0) {
		struct sockaddr_un *u = (struct sockaddr_un *)&backend;

		if (strlen(text + 5) >= sizeof u->sun_path)
			return -1;
		u->sun_family = AF_UNIX;
		strcpy(u->sun_path, text + 5);
		backend_len = sizeof *u;
		return 0;
	}
	backend_len = sizeof(struct sockaddr_in);
	return parse_addr(text, (struct sockaddr_in *)&backend);
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	struct sockaddr_in listen_at;
	int one = 1, ret;

	if (argc < 3 || parse_addr(argv[1], &listen_at) || parse_backend(argv[2])) {
		fprintf(stderr, "usage: relay LISTEN_ADDR:PORT BACKEND_ADDR:PORT|unix:PATH [CPU]\n");
		return 2;
	}
	if (argc > 3) {
		cpu_set_t set;

		CPU_ZERO(&set);
		CPU_SET(atoi(argv[3]), &set);
		sched_setaffinity(0, sizeof set, &set);
	}
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	int lfd = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&listen_at, sizeof listen_at) || listen(lfd, 1024)) {
		perror("relay: listen");
		return 1;
	}
	struct io_uring_params p = {
		.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN |
			 IORING_SETUP_CQSIZE,
		.cq_entries = 8192,
	};
	if ((ret = io_uring_queue_init_params(1024, &ring, &p)) < 0 ||
	    (ret = io_uring_register_files_sparse(&ring, 2 * MAX_CONNS)) < 0) {
		fprintf(stderr, "relay: io_uring: %s\n", strerror(-ret));
		return 1;
	}
	size_t ring_bytes = NBUFS * sizeof(struct io_uring_buf);
	br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE, MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	bufs = aligned_alloc(4096, (size_t)NBUFS * BUF_SIZE);
	struct io_uring_buf_reg reg = { .ring_addr = (unsigned long)br,
					.ring_entries = NBUFS, .bgid = BGID };
	if (br == MAP_FAILED || !bufs || (ret = io_uring_register_buf_ring(&ring, &reg, 0)) < 0) {
		fprintf(stderr, "relay: buffer ring: %s\n", strerror(ret < 0 ? -ret : ENOMEM));
		return 1;
	}
	io_uring_buf_ring_init(br);
	for (int b = 0; b < NBUFS; b++)
		buf_give_back(b);
	for (int s = 0; s < 2 * MAX_CONNS; s++)
		sides[s].fd = -1;

	struct io_uring_sqe *sqe = sqe_get();
	io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
	io_uring_sqe_set_data64(sqe, K_ACCEPT);
	while (!stop) {
		ret = io_uring_submit_and_wait(&ring, 1);
		if (ret < 0 && ret != -EINTR) {
			fprintf(stderr, "relay: io_uring_enter: %s\n", strerror(-ret));
			return 1;
		}
		struct io_uring_cqe *cqe;
		unsigned head, seen = 0;

		io_uring_for_each_cqe(&ring, head, cqe) {
			uint64_t ud = cqe->user_data;
			int slot = (int)(ud >> 2);

			seen++;
			switch (ud & 3) {
			case K_ACCEPT:
				if (cqe->res >= 0)
					on_accept(cqe->res);
				if (!(cqe->flags & IORING_CQE_F_MORE)) {
					sqe = sqe_get();
					io_uring_prep_multishot_accept(sqe, lfd, NULL, NULL, 0);
					io_uring_sqe_set_data64(sqe, K_ACCEPT);
				}
				break;
			case K_RECV:
				on_recv(slot, cqe);
				break;
			case K_SEND:
				on_send(slot, cqe);
				break;
			}
		}
		io_uring_cq_advance(&ring, seen);
	}
	return 0;
}
