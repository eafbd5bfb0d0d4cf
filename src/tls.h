/*
 * tls.h - the OpenSSL contexts myring uses: the one it presents to
 * clients (--tls-cert, --tls-key, --tls-ca ...) and the one it uses
 * towards servers (--backend-tls ...).  Made at start-up from the config;
 * a reload (SIGHUP, RELOAD CONFIG) makes new ones from the files as they
 * are then and publishes them, without dropping a connection:
 *
 *   reload thread                        worker (no lock, no wait)
 *   ─────────────                        ──────
 *   build pair N+1 (files read here)     on its next accept/connect or
 *   publish: cur = N+1, gen = N+1        tick: sees gen changed, takes a
 *   keep N until every worker has          reference on cur's contexts,
 *     seen N+1, then drop its            drops its own on the old ones,
 *     references                           records the generation seen
 *
 * An SSL_CTX is reference counted by OpenSSL: each connection's SSL holds
 * one, so a connection that began under the old certificate keeps it to
 * its end, and the old context goes when its last user does.
 */
#ifndef MYRING_TLS_H
#define MYRING_TLS_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct ssl_ctx_st SSL_CTX;
struct worker;
struct proxy;

/* Builds the contexts the config asks for (none when TLS is not
 * configured on either leg): 0, or -1 with err naming the file and what
 * is wrong with it. */
int tls_setup(const struct config *cfg, const struct proxy *px, char *err,
	      size_t errlen);
/* Only checks (--check-config): the same messages, nothing kept. */
int tls_check(const struct config *cfg, char *err, size_t errlen);
/* A reload: new contexts from cfg, published to the workers.  On error
 * the old ones stay.  0, or -1 with err. */
int tls_reload(const struct config *cfg, char *err, size_t errlen);
/* Drops the contexts every worker has moved past. */
void tls_reclaim(void);
void tls_shutdown(void);

/* The worker's side: the contexts in force (NULL: that leg has no TLS),
 * adopted first if a reload published new ones. */
SSL_CTX *tls_server_ctx(struct worker *w);
SSL_CTX *tls_client_ctx(struct worker *w);
/* Adopts new contexts if there are (the tick calls it). */
void tls_worker_sync(struct worker *w);
/* The worker stops: its references go. */
void tls_worker_release(struct worker *w);

/* One line on what is configured, for the start-up log ("" if nothing). */
void tls_describe(const struct config *cfg, char *out, size_t outlen);

#endif
