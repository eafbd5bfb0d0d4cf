/*
 * xprt.h - what a conn's bytes pass through between its socket and its
 * owner: nothing (raw: c->x == NULL, the path every byte took before TLS
 * existed), TLS, the MySQL protocol's compression, or both.  It knows
 * nothing of sessions; the MySQL knowledge it needs (the 7-byte frames of
 * compression) is mysql_compress.c's.
 *
 *   socket  <->  [TLS record layer]  <->  [compressed frames]  <->  owner
 *   kernel        OpenSSL over memory BIOs  zlib, one stream per     on_data,
 *   buffers       (no blocking call, no     frame                    conn_queue
 *                 second thread)
 *
 * Receive: a completion's bytes go up the layers into buffers of the
 * worker's own (bufring.h: referenced and released like the kernel's), so
 * the owner's on_data sees plaintext, framed as before, and may forward it
 * without a copy.  A frame stored uncompressed is handed up where it lies.
 *
 * Send: the owner's conn_queue() goes down.  Compression takes the bytes
 * at once (copied into the frame being built; a frame ends at the end of
 * the worker's turn or when it is full), so no receive buffer stays pinned
 * by a compressed conn.  TLS encrypts at flush time what waits in c->out,
 * in batches, only while its previous ciphertext is not still being sent:
 * the plaintext queue is what backpressure measures, exactly as for a raw
 * conn, and a peer that does not read stops the encryption, not the
 * accounting.  Ciphertext waits in a queue of its own (`wire`), sent by
 * conn.c like a raw conn's queue.
 *
 * The TLS handshake is a step of the conn's continuation chain: bytes in,
 * SSL_do_handshake, bytes out, until it completes (ops->on_secure(c, 0)) or
 * fails (ops->on_secure(c, -1) with a reason; the conn is then closing).
 * The owner may queue bytes meanwhile: they go out once it is done.
 * Kernel TLS could later take the record layer over after the handshake
 * (setsockopt TCP_ULP "tls" with the keys OpenSSL negotiated), so that
 * payload sends and receives leave user space untouched again; this seam
 * is where it would go.
 */
#ifndef MYRING_XPRT_H
#define MYRING_XPRT_H

#include "outq.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct conn;
struct xprt;
typedef struct ssl_ctx_st SSL_CTX;

/* conn.c's side of the seam (only called when c->x is set). */
void xprt_on_data(struct conn *c, uint8_t *buf, uint32_t n, int32_t bid);
int xprt_queue(struct conn *c, uint8_t *ptr, uint32_t len, int32_t bid,
	       void *owned);
/* Readies the bytes to send: ends the compressed frame in progress,
 * encrypts what waits (TLS).  Returns the queue conn.c sends from. */
struct outq *xprt_flush(struct conn *c);
/* The queue conn.c sends from (c->out for compression without TLS). */
struct outq *xprt_wire(struct conn *c);
/* A send of the wire queue completed. */
void xprt_sent(struct conn *c);
/* Whether everything queued has been handed to the kernel. */
bool xprt_idle(const struct conn *c);
/* Buffers of the worker's own are back: go on decrypting/decompressing. */
void xprt_buffers_back(struct conn *c);
void xprt_free(struct conn *c);
/* The worker's compression state (its deflate stream) goes. */
struct worker;
void xprt_worker_free(struct worker *w);

/*
 * Starting a layer.  TLS: as a server (the client's SSLRequest has been
 * read; early holds bytes that followed it in the same receive, which
 * belong to the handshake) or as a client (host: the name to send as SNI
 * and to check the certificate against when verify_host; NULL: none).
 * Returns 0, or -1 (out of memory or OpenSSL refused; logged).
 */
int xprt_tls_accept(struct conn *c, SSL_CTX *ctx, const uint8_t *early,
		    size_t n);
int xprt_tls_connect(struct conn *c, SSL_CTX *ctx, const char *host,
		     bool verify_host);
bool xprt_is_tls(const struct conn *c);
/* The negotiated protocol and cipher, for the log ("TLSv1.3
 * TLS_AES_256_GCM_SHA384"). */
void xprt_tls_describe(const struct conn *c, char *out, size_t outlen);

/*
 * Compression (CLIENT_COMPRESS, zlib at level 1..9): every byte received
 * from now on is compressed frames, every byte queued from now on is sent
 * as such.  Called right after the conn has queued the OK that ends the
 * login (or received it, on the client side): the protocol switches at
 * that packet.  Returns 0 or -1 (out of memory).
 */
int xprt_compress_start(struct conn *c, int level);
bool xprt_is_compressed(const struct conn *c);
/* Sequence id of the frame the bytes being delivered (on_data) came in. */
uint8_t xprt_rx_frame_seq(const struct conn *c);
/* The bytes queued from now on begin a new flight of frames whose first
 * has sequence id seq (ends the frame in progress).  Without a call, the
 * frames of a flight are numbered on from the last one received: right
 * for every exchange but pipelined commands, which the owner numbers. */
void xprt_frame_seq(struct conn *c, uint8_t seq);

#endif
