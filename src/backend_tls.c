/*
 * backend_tls.c - each server's TLS settings and their slots (see
 * backend_tls.h).
 */
#include "backend_tls.h"

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const mode_names[] = {
	"off", "preferred", "required", "verify-ca", "verify-identity",
};

static struct {
	struct btls_settings slot[BTLS_SLOTS_MAX];
	/* Written (release) after the slot it counts: a reader that sees
	 * n sees slot[0..n-1] whole. */
	atomic_uint n;
} reg;

const char *btls_mode_name(unsigned mode)
{
	return mode < 5 ? mode_names[mode] : "?";
}

int btls_mode_parse(const char *s, enum backend_tls *out)
{
	for (unsigned i = 0; i < 5; i++)
		if (!strcasecmp(s, mode_names[i])) {
			*out = (enum backend_tls)i;
			return 0;
		}
	return -1;
}

void btls_effective(const struct config *cfg, const struct server_spec *ss,
		    struct btls_settings *out)
{
	memset(out, 0, sizeof(*out));
	out->mode = ss && ss->tls ? (uint8_t)(ss->tls - 1) :
		    (uint8_t)cfg->backend_tls;
	if (out->mode == BTLS_OFF)
		return;
	/* The CA is read only to verify: without verification, settings
	 * that differ in it alone are the same. */
	if (out->mode >= BTLS_VERIFY_CA)
		out->ca = ss && ss->tls_ca ? ss->tls_ca : cfg->backend_tls_ca;
	if (ss && ss->tls_cert) {
		out->cert = ss->tls_cert;
		out->key = ss->tls_key;
	} else {
		out->cert = cfg->backend_tls_cert;
		out->key = cfg->backend_tls_key;
	}
}

void btls_server_label(const struct group_spec *gs, unsigned i, char *out,
		       size_t outlen)
{
	char addr[300];

	cli_format_hostport(&gs->servers[i].hp, addr, sizeof(addr));
	snprintf(out, outlen, "group '%s': server %s", gs->name, addr);
}

int btls_check(const struct config *cfg, char *err, size_t errlen)
{
	bool any_tls = cfg->backend_tls != BTLS_OFF;
	char who[400];

	for (unsigned gi = 0; gi < cfg->ngroups; gi++) {
		const struct group_spec *gs = &cfg->groups[gi];

		for (unsigned i = 0; i < gs->nservers; i++) {
			const struct server_spec *ss = &gs->servers[i];
			struct btls_settings s;

			btls_effective(cfg, ss, &s);
			btls_server_label(gs, i, who, sizeof(who));
			if (s.mode == BTLS_OFF &&
			    (ss->tls_ca || ss->tls_cert || ss->tls_key)) {
				snprintf(err, errlen, "%s: tls-ca/tls-cert/"
					 "tls-key, but TLS is off for it (tls: "
					 "or --backend-tls)", who);
				return -1;
			}
			if (s.mode >= BTLS_VERIFY_CA && !s.ca) {
				snprintf(err, errlen, "%s: tls: %s needs a CA: "
					 "tls-ca: FILE, or --backend-tls-ca FILE",
					 who, btls_mode_name(s.mode));
				return -1;
			}
			if (s.mode != BTLS_OFF)
				any_tls = true;
		}
	}
	if (!any_tls && (cfg->backend_tls_ca || cfg->backend_tls_cert)) {
		snprintf(err, errlen, "--backend-tls-ca/--backend-tls-cert "
			 "without --backend-tls (it is off) or a server with "
			 "tls:");
		return -1;
	}
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static char *dup_or_null(const char *s, bool *oom)
{
	char *d;

	if (!s)
		return NULL;
	d = strdup(s);
	if (!d)
		*oom = true;
	return d;
}

int btls_slot(const struct btls_settings *s)
{
	unsigned n = atomic_load_explicit(&reg.n, memory_order_relaxed);
	struct btls_settings *e;
	bool oom = false;

	for (unsigned i = 0; i < n; i++) {
		e = &reg.slot[i];
		if (e->mode == s->mode && same(e->ca, s->ca) &&
		    same(e->cert, s->cert) && same(e->key, s->key))
			return (int)i;
	}
	if (n == BTLS_SLOTS_MAX)
		return -1;
	e = &reg.slot[n];
	e->mode = s->mode;
	e->ca = dup_or_null(s->ca, &oom);
	e->cert = dup_or_null(s->cert, &oom);
	e->key = dup_or_null(s->key, &oom);
	if (oom) {
		free((char *)e->ca);
		free((char *)e->cert);
		free((char *)e->key);
		memset(e, 0, sizeof(*e));
		return -1;
	}
	atomic_store_explicit(&reg.n, n + 1, memory_order_release);
	return (int)n;
}

const struct btls_settings *btls_slot_settings(unsigned slot)
{
	if (slot >= atomic_load_explicit(&reg.n, memory_order_acquire))
		return NULL;
	return &reg.slot[slot];
}

unsigned btls_nslots(void)
{
	return atomic_load_explicit(&reg.n, memory_order_acquire);
}

void btls_slots_reset(void)
{
	unsigned n = atomic_load(&reg.n);

	for (unsigned i = 0; i < n; i++) {
		free((char *)reg.slot[i].ca);
		free((char *)reg.slot[i].cert);
		free((char *)reg.slot[i].key);
	}
	memset(reg.slot, 0, sizeof(reg.slot));
	atomic_store(&reg.n, 0);
}
