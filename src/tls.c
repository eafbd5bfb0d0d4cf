/*
 * tls.c - OpenSSL contexts for both legs, and their replacement by a
 * reload without a lock on the workers' side (see tls.h).
 */
#include "tls.h"

#include "log.h"
#include "worker.h"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The two contexts of one generation. */
struct tls_pair {
	SSL_CTX *srv;
	SSL_CTX *cli;
	uint64_t gen;
	struct tls_pair *next;     /* retired, waiting for the workers */
};

static struct {
	_Atomic(struct tls_pair *) cur;
	atomic_uint_fast64_t gen;
	struct tls_pair *retired;  /* reload thread only (under reload lock) */
	const struct proxy *px;
} g;

/* OpenSSL's reason for the last failure, for a message. */
static const char *ssl_reason(char *buf, size_t len)
{
	unsigned long e = ERR_peek_last_error();

	if (!e)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(e, buf, len);
	ERR_clear_error();
	return buf;
}

static int min_version(const struct config *cfg)
{
	return cfg->tls_min_version ? cfg->tls_min_version : TLS1_2_VERSION;
}

static SSL_CTX *server_ctx(const struct config *cfg, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min_version(cfg));
	/* Memory BIOs hand OpenSSL what arrived; a partial write never
	 * happens, and a moving buffer is ours to allow. */
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	/* The session cache is shared by every worker and takes a lock:
	 * resumption uses stateless tickets instead. */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
			    SSL_OP_CIPHER_SERVER_PREFERENCE);
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->tls_cert) != 1) {
		snprintf(err, errlen, "--tls-cert %s: %s", cfg->tls_cert,
			 ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->tls_key ? cfg->tls_key :
					cfg->tls_cert, SSL_FILETYPE_PEM) != 1) {
		snprintf(err, errlen, "--tls-key %s: %s",
			 cfg->tls_key ? cfg->tls_key : cfg->tls_cert,
			 ssl_reason(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		snprintf(err, errlen, "--tls-key %s does not belong to the "
			 "certificate in %s", cfg->tls_key ? cfg->tls_key :
			 cfg->tls_cert, cfg->tls_cert);
		ERR_clear_error();
		goto fail;
	}
	if (cfg->tls_ciphers &&
	    SSL_CTX_set_cipher_list(ctx, cfg->tls_ciphers) != 1) {
		snprintf(err, errlen, "--tls-ciphers '%s': no cipher OpenSSL "
			 "knows", cfg->tls_ciphers);
		ERR_clear_error();
		goto fail;
	}
	if (cfg->tls_ca) {
		STACK_OF(X509_NAME) *names;
		if (SSL_CTX_load_verify_locations(ctx, cfg->tls_ca, NULL) != 1) {
			snprintf(err, errlen, "--tls-ca %s: %s", cfg->tls_ca,
				 ssl_reason(why, sizeof(why)));
			goto fail;
		}
		/* The CAs named in the request help a client pick its
		 * certificate. */
		names = SSL_load_client_CA_file(cfg->tls_ca);
		if (names)
			SSL_CTX_set_client_CA_list(ctx, names);
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER |
				   (cfg->tls_client_cert_required ?
				    SSL_VERIFY_FAIL_IF_NO_PEER_CERT : 0), NULL);
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static SSL_CTX *client_ctx(const struct config *cfg, char *err, size_t errlen)
{
	char why[256];
	SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());

	if (!ctx) {
		snprintf(err, errlen, "TLS: %s", ssl_reason(why, sizeof(why)));
		return NULL;
	}
	SSL_CTX_set_min_proto_version(ctx, min_version(cfg));
	SSL_CTX_set_mode(ctx, SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER |
			 SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION);
	if (cfg->backend_tls >= BTLS_VERIFY_CA) {
		if (!cfg->backend_tls_ca) {
			snprintf(err, errlen, "--backend-tls %s needs "
				 "--backend-tls-ca FILE",
				 cfg->backend_tls == BTLS_VERIFY_CA ? "verify-ca" :
				 "verify-identity");
			goto fail;
		}
		if (SSL_CTX_load_verify_locations(ctx, cfg->backend_tls_ca,
						  NULL) != 1) {
			snprintf(err, errlen, "--backend-tls-ca %s: %s",
				 cfg->backend_tls_ca,
				 ssl_reason(why, sizeof(why)));
			goto fail;
		}
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
	}
	if (cfg->backend_tls_cert) {
		const char *key = cfg->backend_tls_key ? cfg->backend_tls_key :
				  cfg->backend_tls_cert;
		if (SSL_CTX_use_certificate_chain_file(ctx,
						       cfg->backend_tls_cert) != 1 ||
		    SSL_CTX_use_PrivateKey_file(ctx, key, SSL_FILETYPE_PEM) != 1 ||
		    SSL_CTX_check_private_key(ctx) != 1) {
			snprintf(err, errlen, "--backend-tls-cert %s / "
				 "--backend-tls-key %s: %s",
				 cfg->backend_tls_cert, key,
				 ssl_reason(why, sizeof(why)));
			goto fail;
		}
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

static struct tls_pair *build(const struct config *cfg, char *err,
			      size_t errlen)
{
	struct tls_pair *p = calloc(1, sizeof(*p));

	if (!p) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	if (cfg->tls_key && !cfg->tls_cert) {
		snprintf(err, errlen, "--tls-key needs --tls-cert");
		goto fail;
	}
	if ((cfg->tls_ca || cfg->tls_client_cert_required) && !cfg->tls_cert) {
		snprintf(err, errlen, "--tls-ca and --tls-client-cert need "
			 "--tls-cert (TLS towards clients)");
		goto fail;
	}
	if (cfg->require_tls && !cfg->tls_cert) {
		snprintf(err, errlen, "--require-tls needs --tls-cert and "
			 "--tls-key (TLS towards clients)");
		goto fail;
	}
	if (cfg->tls_client_cert_required && !cfg->tls_ca) {
		snprintf(err, errlen, "--tls-client-cert required needs --tls-ca "
			 "(the CAs client certificates must chain to)");
		goto fail;
	}
	if (cfg->tls_cert && !(p->srv = server_ctx(cfg, err, errlen)))
		goto fail;
	if (cfg->backend_tls != BTLS_OFF &&
	    !(p->cli = client_ctx(cfg, err, errlen)))
		goto fail;
	if (cfg->backend_tls == BTLS_OFF &&
	    (cfg->backend_tls_ca || cfg->backend_tls_cert)) {
		snprintf(err, errlen, "--backend-tls-ca/--backend-tls-cert "
			 "without --backend-tls (it is off)");
		goto fail;
	}
	return p;
fail:
	SSL_CTX_free(p->srv);
	SSL_CTX_free(p->cli);
	free(p);
	return NULL;
}

static void pair_free(struct tls_pair *p)
{
	if (!p)
		return;
	SSL_CTX_free(p->srv);
	SSL_CTX_free(p->cli);
	free(p);
}

int tls_check(const struct config *cfg, char *err, size_t errlen)
{
	struct tls_pair *p = build(cfg, err, errlen);

	if (!p)
		return -1;
	pair_free(p);
	return 0;
}

int tls_setup(const struct config *cfg, const struct proxy *px, char *err,
	      size_t errlen)
{
	struct tls_pair *p = build(cfg, err, errlen);

	if (!p)
		return -1;
	g.px = px;
	p->gen = 1;
	atomic_store(&g.cur, p);
	atomic_store(&g.gen, 1);
	return 0;
}

/* The oldest generation some worker still holds (its own references are
 * on the contexts it adopted last). */
static uint64_t oldest_seen(const struct proxy *px)
{
	uint64_t min = UINT64_MAX;

	for (unsigned i = 0; px && px->workers && i < px->nworkers; i++) {
		uint64_t seen = atomic_load_explicit(&px->workers[i].tls_gen,
						     memory_order_acquire);
		if (seen < min)
			min = seen;
	}
	return min;
}

void tls_reclaim(void)
{
	uint64_t seen = oldest_seen(g.px);
	struct tls_pair **pp = &g.retired;

	/* A pair retired when generation gen replaced it is unreachable
	 * once every worker has seen gen: none reads g.cur's old value. */
	while (*pp) {
		struct tls_pair *p = *pp;
		if (seen != UINT64_MAX && seen > p->gen) {
			*pp = p->next;
			pair_free(p);
		} else {
			pp = &p->next;
		}
	}
}

int tls_reload(const struct config *cfg, char *err, size_t errlen)
{
	struct tls_pair *p, *old;

	p = build(cfg, err, errlen);
	if (!p)
		return -1;
	old = atomic_load(&g.cur);
	p->gen = (old ? old->gen : 0) + 1;
	atomic_store_explicit(&g.cur, p, memory_order_release);
	atomic_store_explicit(&g.gen, p->gen, memory_order_release);
	if (old) {
		old->next = g.retired;
		g.retired = old;
	}
	tls_reclaim();
	return 0;
}

void tls_shutdown(void)
{
	while (g.retired) {
		struct tls_pair *p = g.retired;
		g.retired = p->next;
		pair_free(p);
	}
	pair_free(atomic_exchange(&g.cur, NULL));
	atomic_store(&g.gen, 0);
}

/* ---- the workers' side ----------------------------------------------- */

void tls_worker_sync(struct worker *w)
{
	uint64_t gen = atomic_load_explicit(&g.gen, memory_order_acquire);
	struct tls_pair *p;

	if (gen == atomic_load_explicit(&w->tls_gen, memory_order_relaxed))
		return;
	p = atomic_load_explicit(&g.cur, memory_order_acquire);
	if (!p)
		return;
	/* Our own references: the reload thread drops its own on this
	 * pair only after every worker has moved past it. */
	if (p->srv)
		SSL_CTX_up_ref(p->srv);
	if (p->cli)
		SSL_CTX_up_ref(p->cli);
	SSL_CTX_free(w->tls_srv);
	SSL_CTX_free(w->tls_cli);
	w->tls_srv = p->srv;
	w->tls_cli = p->cli;
	atomic_store_explicit(&w->tls_gen, p->gen, memory_order_release);
}

SSL_CTX *tls_server_ctx(struct worker *w)
{
	tls_worker_sync(w);
	return w->tls_srv;
}

SSL_CTX *tls_client_ctx(struct worker *w)
{
	tls_worker_sync(w);
	return w->tls_cli;
}

void tls_worker_release(struct worker *w)
{
	SSL_CTX_free(w->tls_srv);
	SSL_CTX_free(w->tls_cli);
	w->tls_srv = w->tls_cli = NULL;
	/* Seen everything: nothing it holds blocks a reclaim. */
	atomic_store_explicit(&w->tls_gen, UINT64_MAX - 1, memory_order_release);
}

void tls_describe(const struct config *cfg, char *out, size_t outlen)
{
	static const char *const modes[] = {
		"off", "preferred", "required", "verify-ca", "verify-identity",
	};
	size_t n = 0;

	out[0] = '\0';
	if (cfg->tls_cert)
		n += (size_t)snprintf(out + n, outlen - n, ", TLS to clients%s%s",
				      cfg->tls_ca ? " (client certificates "
				      "checked)" : "",
				      cfg->require_tls ? ", required" : "");
	if (n < outlen && cfg->backend_tls != BTLS_OFF)
		n += (size_t)snprintf(out + n, outlen - n, ", backend TLS %s",
				      modes[cfg->backend_tls]);
	if (n < outlen && (cfg->compression || cfg->backend_compression))
		snprintf(out + n, outlen - n, ", compression %s%s (level %d)",
			 cfg->compression ? "offered" : "",
			 cfg->backend_compression ?
			 (cfg->compression ? " and to the backend" :
			  "to the backend") : "",
			 cfg->compression_level);
}
