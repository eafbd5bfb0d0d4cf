/*
 * xprt.c - TLS and protocol compression between a conn's socket and its
 * owner (see xprt.h).  OpenSSL is driven through a BIO of our own that
 * reads from the receive buffer a completion brought and writes into a
 * heap block that becomes a chunk of the wire queue: no call blocks, no
 * byte moves outside the worker's ring, and the ciphertext is copied once
 * in each direction (into OpenSSL's record buffer, out of it).
 */
#include "xprt.h"

#include "conn.h"
#include "log.h"
#include "mysql_compress.h"
#include "worker.h"

#include <arpa/inet.h>
#include <errno.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Uncompressed bytes per frame myring sends at most: large enough for
 * zlib to do well, small enough for the peer's buffer. */
#define ZFRAME_MAX (64u << 10)
/* Plaintext chunks shorter than this are gathered before SSL_write, so
 * that small pieces of one flush share a TLS record. */
#define TLS_GATHER 2048u
#define TLS_RECORD 16384u

/* Bytes a layer has not finished with: the rest of a receive buffer
 * (holding a reference on it) or a heap copy. */
struct xin {
	const uint8_t *p;
	uint32_t len, pos;
	int32_t bid;               /* the buffer it lies in, or -1 */
	bool held;                 /* we hold a reference on bid */
	uint8_t *heap;             /* or the copy it lies in */
};

struct xprt {
	/* TLS */
	SSL *ssl;
	bool handshaking;
	bool starved;              /* waiting for buffers of the worker's own */
	struct outq wire;          /* ciphertext, sent by conn.c */
	uint8_t *tx;               /* ciphertext being written by OpenSSL */
	uint32_t tx_len, tx_cap;
	struct xin in;             /* ciphertext being read by OpenSSL */
	/* compression */
	bool z;
	bool zseq_manual;          /* the owner numbers the flights */
	int zlevel;
	uint8_t ztx_seq;           /* of the next frame sent */
	uint8_t zrx_seq;           /* of the frame being delivered */
	struct zreader zr;
	struct xin zin;            /* frames not yet read */
	uint8_t *zstage;           /* the frame being built (ZFRAME_MAX) */
	uint32_t zstage_len;
};

static void tx_to_wire(struct conn *c);

/* ---- bytes not yet consumed ------------------------------------------ */

static bool xin_pending(const struct xin *in)
{
	return in->p && in->pos < in->len;
}

static void xin_release(struct xin *in, struct bufring *br)
{
	if (in->held)
		bufring_unref(br, (uint16_t)in->bid);
	free(in->heap);
	memset(in, 0, sizeof(*in));
	in->bid = -1;
}

/* New bytes behind whatever is still unread.  Only while a layer waits
 * for buffers can anything be unread when more arrives: then both are
 * copied together (rare, and it frees the receive buffer).  -1: out of
 * memory. */
static int xin_add(struct xin *in, struct bufring *br, const uint8_t *p,
		   uint32_t n, int32_t bid)
{
	if (!xin_pending(in)) {
		xin_release(in, br);
		in->p = p;
		in->len = n;
		in->bid = bid;
		return 0;
	}
	uint32_t rest = in->len - in->pos;
	uint8_t *m = malloc((size_t)rest + n);
	if (!m)
		return -1;
	memcpy(m, in->p + in->pos, rest);
	memcpy(m + rest, p, n);
	xin_release(in, br);
	in->p = in->heap = m;
	in->len = rest + n;
	return 0;
}

/* The bytes stay unread past the receive's end: keep their buffer. */
static int xin_keep(struct xin *in, struct bufring *br)
{
	if (!xin_pending(in) || in->held || in->heap)
		return 0;
	if (in->bid >= 0) {
		bufring_ref(br, (uint16_t)in->bid);
		in->held = true;
		return 0;
	}
	/* Memory that goes away when the caller returns: copy it. */
	uint32_t rest = in->len - in->pos;
	uint8_t *m = malloc(rest ? rest : 1);
	if (!m)
		return -1;
	memcpy(m, in->p + in->pos, rest);
	in->p = in->heap = m;
	in->len = rest;
	in->pos = 0;
	return 0;
}

/* ---- OpenSSL's BIO --------------------------------------------------- */

static BIO_METHOD *bio_method;
static pthread_once_t bio_once = PTHREAD_ONCE_INIT;

static int bio_read(BIO *b, char *out, int outl)
{
	struct xprt *x = BIO_get_data(b);
	uint32_t avail = xin_pending(&x->in) ? x->in.len - x->in.pos : 0;
	uint32_t n;

	BIO_clear_retry_flags(b);
	if (!avail || outl <= 0) {
		BIO_set_retry_read(b);
		return -1;
	}
	n = avail < (uint32_t)outl ? avail : (uint32_t)outl;
	memcpy(out, x->in.p + x->in.pos, n);
	x->in.pos += n;
	return (int)n;
}

static int bio_write(BIO *b, const char *data, int len)
{
	struct xprt *x = BIO_get_data(b);

	BIO_clear_retry_flags(b);
	if (len <= 0)
		return 0;
	if (x->tx_len + (uint32_t)len > x->tx_cap) {
		uint32_t cap = x->tx_cap ? x->tx_cap : 16384;
		uint8_t *nb;
		while (cap < x->tx_len + (uint32_t)len)
			cap *= 2;
		nb = realloc(x->tx, cap);
		if (!nb)
			return -1;
		x->tx = nb;
		x->tx_cap = cap;
	}
	memcpy(x->tx + x->tx_len, data, (size_t)len);
	x->tx_len += (uint32_t)len;
	return len;
}

static long bio_ctrl(BIO *b, int cmd, long num, void *ptr)
{
	(void)b, (void)num, (void)ptr;
	return cmd == BIO_CTRL_FLUSH ? 1 : 0;
}

static int bio_create(BIO *b)
{
	BIO_set_init(b, 1);
	return 1;
}

static void bio_init_method(void)
{
	bio_method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK,
				  "myring ring");
	if (!bio_method)
		return;
	BIO_meth_set_read(bio_method, bio_read);
	BIO_meth_set_write(bio_method, bio_write);
	BIO_meth_set_ctrl(bio_method, bio_ctrl);
	BIO_meth_set_create(bio_method, bio_create);
}

/* ---- the layer's life ------------------------------------------------ */

static struct xprt *xprt_get(struct conn *c)
{
	if (!c->x) {
		c->x = calloc(1, sizeof(*c->x));
		if (c->x) {
			c->x->in.bid = -1;
			c->x->zin.bid = -1;
		}
	}
	return c->x;
}

void xprt_free(struct conn *c)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	if (!x)
		return;
	SSL_free(x->ssl);
	outq_reset(&x->wire, br);
	free(x->tx);
	xin_release(&x->in, br);
	xin_release(&x->zin, br);
	zreader_free(&x->zr);
	free(x->zstage);
	free(x);
	c->x = NULL;
}

struct outq *xprt_wire(struct conn *c)
{
	return c->x->ssl ? &c->x->wire : &c->out;
}

bool xprt_is_tls(const struct conn *c)
{
	return c->x && c->x->ssl;
}

bool xprt_is_compressed(const struct conn *c)
{
	return c->x && c->x->z;
}

bool xprt_idle(const struct conn *c)
{
	const struct xprt *x = c->x;

	return (!x->ssl || (outq_idle(&x->wire) && !x->tx_len)) &&
	       !x->zstage_len;
}

void xprt_tls_describe(const struct conn *c, char *out, size_t outlen)
{
	if (!xprt_is_tls(c)) {
		snprintf(out, outlen, "plaintext");
		return;
	}
	snprintf(out, outlen, "%s %s", SSL_get_version(c->x->ssl),
		 SSL_get_cipher_name(c->x->ssl));
}

/* What OpenSSL says went wrong, for the log. */
static void ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_get_error();

	if (e)
		ERR_error_string_n(e, buf, len);
	else
		snprintf(buf, len, "the peer broke the protocol");
	ERR_clear_error();
}

/* The TLS layer cannot go on: the owner hears it as a failed handshake or
 * as a receive error. */
static void tls_fail(struct conn *c, const char *what)
{
	char why[300], reason[256];

	ssl_reason(reason, sizeof(reason));
	snprintf(why, sizeof(why), "TLS %s: %s", what, reason);
	if (c->x->handshaking) {
		c->x->handshaking = false;
		conn_close(c);
		c->ops->on_secure(c, -1, why);
		return;
	}
	LOGW("%s connection: %s", c->ops->role, why);
	c->ops->on_eof(c, -EPROTO);
	conn_close(c);
}

/* An IP literal is checked as an address and never sent as SNI. */
static bool ip_literal(const char *host)
{
	unsigned char ip[16];

	return inet_pton(AF_INET, host, ip) == 1 ||
	       inet_pton(AF_INET6, host, ip) == 1;
}

static SSL *ssl_make(struct conn *c, SSL_CTX *ctx)
{
	struct xprt *x = xprt_get(c);
	BIO *bio;
	SSL *ssl;

	pthread_once(&bio_once, bio_init_method);
	if (!x || !bio_method || !ctx)
		return NULL;
	ssl = SSL_new(ctx);
	bio = ssl ? BIO_new(bio_method) : NULL;
	if (!bio) {
		SSL_free(ssl);
		return NULL;
	}
	BIO_set_data(bio, x);
	SSL_set_bio(ssl, bio, bio);
	/* What was queued before (a client's SSLRequest to its server) goes
	 * out plain, ahead of the handshake. */
	if (outq_move(&x->wire, &c->out)) {
		SSL_free(ssl);
		return NULL;
	}
	/* A record and what follows it are read in one BIO call. */
	SSL_set_read_ahead(ssl, 1);
	x->ssl = ssl;
	x->handshaking = true;
	return ssl;
}

static void pump(struct conn *c);

int xprt_tls_accept(struct conn *c, SSL_CTX *ctx, const uint8_t *early,
		    size_t n)
{
	struct xprt *x;
	SSL *ssl = ssl_make(c, ctx);

	if (!ssl) {
		LOGW("%s connection: cannot start TLS (out of memory)",
		     c->ops->role);
		return -1;
	}
	x = c->x;
	SSL_set_accept_state(ssl);
	/* Bytes that came with the SSLRequest lie in the caller's buffer,
	 * which goes back to the kernel when it returns. */
	if (n && (xin_add(&x->in, &c->w->bufs, early, (uint32_t)n, -1) ||
		  xin_keep(&x->in, &c->w->bufs)))
		return -1;
	if (n)
		pump(c);
	return 0;
}

int xprt_tls_connect(struct conn *c, SSL_CTX *ctx, const char *host,
		     bool verify_host)
{
	SSL *ssl = ssl_make(c, ctx);

	if (!ssl) {
		LOGW("%s connection: cannot start TLS (out of memory)",
		     c->ops->role);
		return -1;
	}
	SSL_set_connect_state(ssl);
	if (host && *host) {
		bool literal = ip_literal(host);
		if (!literal)
			SSL_set_tlsext_host_name(ssl, host);
		if (verify_host) {
			X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
			if (literal)
				X509_VERIFY_PARAM_set1_ip_asc(vp, host);
			else
				SSL_set1_host(ssl, host);
		}
	}
	pump(c);
	return 0;
}

/* ---- receiving --------------------------------------------------------- */

/* Buffers of the worker's own have run out: stop receiving until some are
 * back (worker.c wakes the conn); what is unread stays. */
static void starve(struct conn *c)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	if (xin_keep(&x->in, br) || xin_keep(&x->zin, br)) {
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return;
	}
	x->starved = true;
	conn_pause(c, PAUSE_XPRT);
	worker_wait_xbuffers(c->w, c);
}

/* Decompressed bytes belong to the frame they came in: a flight's next
 * frame follows the last one received, unless the owner numbers them. */
static void frame_seen(struct conn *c, uint8_t seq);

/* The compressed frames in x->zin, read into buffers of the worker's own
 * (or, stored, handed up where they lie). */
static void z_pump(struct conn *c)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	while (xin_pending(&x->zin) && !c->closing) {
		int32_t ob = bufring_user_get(br);
		size_t pos = x->zin.pos, len = 0;
		const uint8_t *slice = NULL;
		const char *why = "";
		enum zr_result r;
		uint8_t *out;

		if (ob < 0) {
			starve(c);
			return;
		}
		out = bufring_user_addr(br, (uint16_t)ob);
		r = zreader_next(&x->zr, x->zin.p, x->zin.len, &pos, out,
				 br->size, &len, &slice, &why);
		x->zin.pos = (uint32_t)pos;
		switch (r) {
		case ZR_OUTPUT:
			frame_seen(c, x->zr.seq);
			c->ops->on_data(c, out, (uint32_t)len, ob);
			break;
		case ZR_STORED:
			frame_seen(c, x->zr.seq);
			if (x->zin.bid >= 0) {
				/* Forwarded from where it lies, like raw bytes. */
				c->ops->on_data(c, (uint8_t *)(uintptr_t)slice,
						(uint32_t)len, x->zin.bid);
				break;
			}
			/* In a heap copy: into a buffer of our own (the
			 * reader gives at most one buffer's worth). */
			memcpy(out, slice, len);
			c->ops->on_data(c, out, (uint32_t)len, ob);
			break;
		case ZR_NEED_INPUT:
			break;
		case ZR_ERROR:
			bufring_put(br, (uint16_t)ob);
			LOGW("%s connection: %s", c->ops->role, why);
			c->ops->on_eof(c, -EPROTO);
			conn_close(c);
			return;
		}
		if (br->refs[ob] == 0)
			bufring_put(br, (uint16_t)ob);
		if (r == ZR_NEED_INPUT)
			break;
	}
	if (!xin_pending(&x->zin))
		xin_release(&x->zin, br);
}

/* Plaintext for the owner, through decompression if it is on. */
static void deliver(struct conn *c, uint8_t *p, uint32_t n, int32_t bid)
{
	struct xprt *x = c->x;

	if (!x->z) {
		c->ops->on_data(c, p, n, bid);
		return;
	}
	if (xin_add(&x->zin, &c->w->bufs, p, n, bid)) {
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return;
	}
	z_pump(c);
	if (!c->closing && c->x && xin_pending(&x->zin) &&
	    xin_keep(&x->zin, &c->w->bufs))
		conn_close(c);
}

/* Decrypts what OpenSSL can into buffers of the worker's own. */
static void tls_read(struct conn *c)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	while (!c->closing && c->x == x) {
		int32_t bid;
		uint32_t have = 0;
		int err = SSL_ERROR_NONE;
		uint8_t *p;

		if (x->starved)
			return;
		bid = bufring_user_get(br);
		if (bid < 0) {
			starve(c);
			return;
		}
		p = bufring_user_addr(br, (uint16_t)bid);
		while (have < br->size) {
			int r = SSL_read(x->ssl, p + have, (int)(br->size - have));
			if (r > 0) {
				have += (uint32_t)r;
				continue;
			}
			err = SSL_get_error(x->ssl, r);
			break;
		}
		if (have)
			deliver(c, p, have, bid);
		if (br->refs[bid] == 0)
			bufring_put(br, (uint16_t)bid);
		/* Reading may write (an alert, a key update's answer). */
		tx_to_wire(c);
		if (c->closing || c->x != x)
			return;
		if (have == br->size)
			continue;
		switch (err) {
		case SSL_ERROR_WANT_READ:
		case SSL_ERROR_WANT_WRITE:
			return;
		case SSL_ERROR_ZERO_RETURN:
			/* close_notify: the peer closed, cleanly. */
			c->ops->on_eof(c, 0);
			conn_close(c);
			return;
		default:
			tls_fail(c, "read");
			return;
		}
	}
}

static void tls_input(struct conn *c)
{
	struct xprt *x = c->x;

	if (x->handshaking) {
		int r = SSL_do_handshake(x->ssl);
		tx_to_wire(c);
		if (r != 1) {
			int e = SSL_get_error(x->ssl, r);
			if (e != SSL_ERROR_WANT_READ && e != SSL_ERROR_WANT_WRITE)
				tls_fail(c, "handshake");
			return;
		}
		x->handshaking = false;
		/* What the owner queued meanwhile goes out now. */
		if (c->out.count)
			worker_mark_dirty(c->w, c);
		c->ops->on_secure(c, 0, NULL);
		if (c->closing || c->x != x)
			return;
	}
	tls_read(c);
}

/* Moves what is unread through the layers, as far as buffers allow. */
static void pump(struct conn *c)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	x->starved = false;
	if (x->z && xin_pending(&x->zin)) {
		z_pump(c);
		if (x->starved || c->closing)
			return;
	}
	if (x->ssl) {
		tls_input(c);
		if (c->closing || c->x != x || x->starved)
			return;
		if (!xin_pending(&x->in))
			xin_release(&x->in, br);
	}
	if (c->paused & PAUSE_XPRT)
		conn_resume(c, PAUSE_XPRT);
}

void xprt_on_data(struct conn *c, uint8_t *buf, uint32_t n, int32_t bid)
{
	struct xprt *x = c->x;
	struct bufring *br = &c->w->bufs;

	if (!x->ssl) {
		deliver(c, buf, n, bid);
		return;
	}
	if (xin_add(&x->in, br, buf, n, bid)) {
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return;
	}
	if (x->starved) {
		/* Still waiting: keep the bytes with the rest. */
		if (xin_keep(&x->in, br))
			conn_close(c);
		return;
	}
	pump(c);
	if (!c->closing && c->x == x && xin_pending(&x->in) &&
	    xin_keep(&x->in, br))
		conn_close(c);
}

void xprt_buffers_back(struct conn *c)
{
	pump(c);
}

/* ---- sending --------------------------------------------------------- */

static void tx_to_wire(struct conn *c)
{
	struct xprt *x = c->x;

	if (!x->tx_len)
		return;
	if (outq_push(&x->wire, &c->w->bufs, x->tx, x->tx_len, -1, x->tx)) {
		x->tx = NULL;
		x->tx_len = x->tx_cap = 0;
		LOGW("%s connection: out of memory", c->ops->role);
		conn_close(c);
		return;
	}
	x->tx = NULL;
	x->tx_len = x->tx_cap = 0;
	worker_mark_dirty(c->w, c);
}

static int ssl_write_all(struct conn *c, const uint8_t *p, uint32_t n)
{
	if (!n)
		return 0;
	if (SSL_write(c->x->ssl, p, (int)n) != (int)n) {
		tls_fail(c, "write");
		return -1;
	}
	return 0;
}

/*
 * Encrypts what waits in c->out into the wire queue, up to about two
 * batches of ciphertext in the queue: one being sent, the next ready.
 * Small chunks are gathered so that one record carries them.
 */
static void tls_encrypt(struct conn *c)
{
	struct xprt *x = c->x;
	struct outq *q = &c->out;
	struct bufring *br = &c->w->bufs;
	uint64_t budget = (uint64_t)br->size * 8;
	uint8_t stage[TLS_RECORD];
	uint32_t sl = 0;
	uint64_t done = 0;

	if (x->wire.bytes >= budget)
		return;
	budget -= x->wire.bytes;
	while (q->count && done < budget && !c->closing) {
		struct chunk *ch = &q->q[q->head];
		uint8_t *p = ch->ptr + q->sent_off;
		uint32_t l = ch->len - q->sent_off;

		if (l > budget - done)
			l = (uint32_t)(budget - done);
		if (l < TLS_GATHER) {
			if (sl + l > sizeof(stage)) {
				if (ssl_write_all(c, stage, sl))
					return;
				sl = 0;
			}
			memcpy(stage + sl, p, l);
			sl += l;
		} else {
			if (sl && ssl_write_all(c, stage, sl))
				return;
			sl = 0;
			if (ssl_write_all(c, p, l))
				return;
		}
		outq_sent(q, br, l);
		done += l;
	}
	if (sl && ssl_write_all(c, stage, sl))
		return;
	tx_to_wire(c);
	conn_check_partner(c);
}

/* The worker's deflate state at level (one for all its conns: a frame is
 * built in one go). */
static z_stream *worker_deflate(struct worker *w, int level)
{
	z_stream *zs = w->zdef;

	if (!zs) {
		zs = calloc(1, sizeof(*zs));
		if (!zs || mysql_zdeflate_init(zs, level)) {
			free(zs);
			return NULL;
		}
		w->zdef = zs;
		w->zdef_level = level;
	} else if (w->zdef_level != level) {
		deflateReset(zs);
		if (deflateParams(zs, level, Z_DEFAULT_STRATEGY) != Z_OK)
			return NULL;
		w->zdef_level = level;
	}
	return zs;
}

void xprt_worker_free(struct worker *w)
{
	if (w->zdef) {
		deflateEnd(w->zdef);
		free(w->zdef);
		w->zdef = NULL;
	}
}

/* Ends the frame being built: compressed (or stored) into c->out. */
static int frame_end(struct conn *c)
{
	struct xprt *x = c->x;
	z_stream *zs;
	uint8_t *f;
	size_t fl;

	if (!x->zstage_len)
		return 0;
	zs = worker_deflate(c->w, x->zlevel);
	f = zs ? malloc(mysql_zframe_bound(x->zstage_len)) : NULL;
	fl = f ? mysql_zframe_build(zs, f, x->zstage, x->zstage_len,
				    x->ztx_seq) : 0;
	x->zstage_len = 0;
	if (!fl) {
		free(f);
		LOGW("%s connection: compression failed (out of memory)",
		     c->ops->role);
		conn_close(c);
		return -1;
	}
	x->ztx_seq++;
	return conn_queue_out(c, f, (uint32_t)fl, -1, f);
}

static void frame_seen(struct conn *c, uint8_t seq)
{
	struct xprt *x = c->x;

	x->zrx_seq = seq;
	if (!x->zseq_manual && x->ztx_seq != (uint8_t)(seq + 1)) {
		/* What was queued before this arrived belongs to the flight
		 * before it. */
		frame_end(c);
		x->ztx_seq = (uint8_t)(seq + 1);
	}
}

uint8_t xprt_rx_frame_seq(const struct conn *c)
{
	return c->x ? c->x->zrx_seq : 0;
}

void xprt_frame_seq(struct conn *c, uint8_t seq)
{
	struct xprt *x = c->x;

	if (!x || !x->z)
		return;
	frame_end(c);
	x->ztx_seq = seq;
	x->zseq_manual = true;
}

int xprt_queue(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
	       void *owned)
{
	struct xprt *x = c->x;

	if (!x->z)
		return conn_queue_out(c, ptr, len, bid, owned);
	while (len) {
		uint32_t take = ZFRAME_MAX - x->zstage_len;
		if (take > len)
			take = len;
		memcpy(x->zstage + x->zstage_len, ptr, take);
		x->zstage_len += take;
		ptr += take;
		len -= take;
		if (x->zstage_len == ZFRAME_MAX && frame_end(c)) {
			free(owned);
			return -1;
		}
	}
	free(owned);
	worker_mark_dirty(c->w, c);
	return 0;
}

int xprt_compress_start(struct conn *c, int level)
{
	struct xprt *x = xprt_get(c);

	if (!x)
		return -1;
	if (!x->zstage) {
		x->zstage = malloc(ZFRAME_MAX);
		if (!x->zstage)
			return -1;
	}
	zreader_init(&x->zr);
	x->z = true;
	x->zlevel = level >= 1 && level <= 9 ? level : 6;
	x->ztx_seq = 0;
	return 0;
}

struct outq *xprt_flush(struct conn *c)
{
	struct xprt *x = c->x;

	if (x->z && x->zstage_len && frame_end(c))
		return xprt_wire(c);
	if (!x->ssl)
		return &c->out;
	if (!x->handshaking)
		tls_encrypt(c);
	tx_to_wire(c);
	return &x->wire;
}

void xprt_sent(struct conn *c)
{
	(void)c;
}
