#include "bufring.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* liburing 2.4 has io_uring_setup_buf_ring(); 2.3 only registers, so the
 * ring memory is mapped here. */
int bufring_init(struct bufring *b, struct io_uring *ring, uint16_t bgid,
		 uint32_t nbufs, uint32_t size)
{
	size_t ring_bytes = (size_t)nbufs * sizeof(struct io_uring_buf);
	struct io_uring_buf_reg reg = {0};
	int rc;

	memset(b, 0, sizeof(*b));
	b->br = mmap(NULL, ring_bytes, PROT_READ | PROT_WRITE,
		     MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (b->br == MAP_FAILED)
		return -errno;
	b->base = mmap(NULL, (size_t)nbufs * size, PROT_READ | PROT_WRITE,
		       MAP_ANONYMOUS | MAP_PRIVATE, -1, 0);
	if (b->base == MAP_FAILED) {
		rc = -errno;
		munmap(b->br, ring_bytes);
		return rc;
	}
	/* The worker's own buffers: as many as the kernel's, mapped now,
	 * backed by memory only once touched. */
	b->ubase = mmap(NULL, (size_t)nbufs * size, PROT_READ | PROT_WRITE,
			MAP_ANONYMOUS | MAP_PRIVATE | MAP_NORESERVE, -1, 0);
	b->refs = calloc((size_t)nbufs * 2, sizeof(*b->refs));
	b->ufree = calloc(nbufs, sizeof(*b->ufree));
	if (b->ubase == MAP_FAILED || !b->refs || !b->ufree) {
		if (b->ubase != MAP_FAILED)
			munmap(b->ubase, (size_t)nbufs * size);
		free(b->refs);
		free(b->ufree);
		munmap(b->base, (size_t)nbufs * size);
		munmap(b->br, ring_bytes);
		return -ENOMEM;
	}
	reg.ring_addr = (uintptr_t)b->br;
	reg.ring_entries = nbufs;
	reg.bgid = bgid;
	rc = io_uring_register_buf_ring(ring, &reg, 0);
	if (rc) {
		free(b->refs);
		free(b->ufree);
		munmap(b->ubase, (size_t)nbufs * size);
		munmap(b->base, (size_t)nbufs * size);
		munmap(b->br, ring_bytes);
		return rc;
	}
	io_uring_buf_ring_init(b->br);
	b->nbufs = nbufs;
	b->size = size;
	b->mask = io_uring_buf_ring_mask(nbufs);
	b->bgid = bgid;
	for (uint32_t i = 0; i < nbufs; i++)
		bufring_put(b, (uint16_t)i);
	bufring_commit(b);
	/* The lowest bids on top: the same few are reused while few are
	 * needed, so untouched memory stays untouched. */
	for (uint32_t i = nbufs; i-- > 0;)
		b->ufree[b->nufree++] = (uint16_t)(nbufs + i);
	return 0;
}

void bufring_destroy(struct bufring *b, struct io_uring *ring)
{
	if (!b->br)
		return;
	io_uring_unregister_buf_ring(ring, b->bgid);
	munmap(b->base, (size_t)b->nbufs * b->size);
	munmap(b->ubase, (size_t)b->nbufs * b->size);
	munmap(b->br, (size_t)b->nbufs * sizeof(struct io_uring_buf));
	free(b->refs);
	free(b->ufree);
	memset(b, 0, sizeof(*b));
}
