#include "reload.h"

#include "config.h"
#include "config_users.h"
#include "groups.h"
#include "hooks.h"
#include "intercept.h"
#include "log.h"
#include "sdnotify.h"
#include "shard_map.h"
#include "tls.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RETIRED_MAX 64

static struct {
	pthread_mutex_t lock;
	int argc;
	char **argv;
	struct proxy *px;
	struct config cur;         /* in force; owns its memory unless start */
	bool cur_is_start;
	/* --backend-tls's mode as myring started: a reload does not change
	 * it (sessions read it from the start configuration). */
	enum backend_tls backend_tls;
	struct ruleset *retired[RETIRED_MAX];
	unsigned nretired;
	uint64_t reloads, failures;
} rl = {.lock = PTHREAD_MUTEX_INITIALIZER};

void reload_init(int argc, char **argv, const struct config *start,
		 struct proxy *px)
{
	rl.px = px;
	rl.argc = argc;
	rl.argv = argv;
	rl.cur = *start;
	rl.cur_is_start = true;
	rl.backend_tls = start->backend_tls;
}

static void reclaim(void)
{
	unsigned k = 0;

	for (unsigned i = 0; i < rl.nretired; i++) {
		if (intercept_retired(rl.retired[i]))
			ruleset_free(rl.retired[i]);
		else
			rl.retired[k++] = rl.retired[i];
	}
	rl.nretired = k;
}

static bool hp_eq(const struct hostport *a, const struct hostport *b)
{
	return !strcmp(a->host, b->host) && !strcmp(a->port, b->port);
}

static bool str_eq(const char *a, const char *b)
{
	return !strcmp(a ? a : "", b ? b : "");
}

/* Names the settings that only a restart can change, comma-separated in
 * out ("" if none changed). */
static void restart_only_changes(const struct config *o, const struct config *n,
				 char *out, size_t outlen)
{
	const char *changed[24];
	unsigned k = 0;
	size_t len = 0;

	if (!hp_eq(&o->listen, &n->listen))
		changed[k++] = "listen";
	if (!hp_eq(&o->backend, &n->backend))
		changed[k++] = "backend";
	if (o->threads != n->threads || o->ncpus != n->ncpus ||
	    o->no_pin != n->no_pin ||
	    memcmp(o->cpus, n->cpus, sizeof(o->cpus[0]) * o->ncpus))
		changed[k++] = "threads/cpus/pin";
	if (o->buffers != n->buffers || o->buffer_size != n->buffer_size)
		changed[k++] = "buffers/buffer-size";
	if (o->max_conns != n->max_conns)
		changed[k++] = "max-conns";
	if (o->max_packet != n->max_packet)
		changed[k++] = "max-packet";
	if (o->connect_timeout_ms != n->connect_timeout_ms)
		changed[k++] = "connect-timeout";
	if (!hp_eq(&o->admin, &n->admin))
		changed[k++] = "admin";
	if (!hp_eq(&o->metrics, &n->metrics))
		changed[k++] = "metrics";
	if (o->digests != n->digests || o->digest_max != n->digest_max ||
	    o->digest_text_max != n->digest_text_max)
		changed[k++] = "digests";
	/* Sessions and pools know their user by its index in the list the
	 * workers started with: a new list would need them all moved. */
	if (!config_users_equal(o, n))
		changed[k++] = "users";
	if (o->auth != n->auth)
		changed[k++] = "auth";
	if (o->pool_mode != n->pool_mode || o->pool_size != n->pool_size ||
	    o->pool_wait_ms != n->pool_wait_ms ||
	    o->pool_min_idle != n->pool_min_idle ||
	    o->pool_idle_timeout_ms != n->pool_idle_timeout_ms ||
	    o->pool_max_age_ms != n->pool_max_age_ms)
		changed[k++] = "pool settings";
	/* Recovery reads them once, at its first sweep. */
	if (o->xa_recovery_interval_ms != n->xa_recovery_interval_ms ||
	    o->xa_grace_ms != n->xa_grace_ms)
		changed[k++] = "xa-recovery-interval-ms/xa-grace-ms";
	if (!str_eq(o->monitor_user, n->monitor_user) ||
	    !str_eq(o->monitor_password, n->monitor_password))
		changed[k++] = "monitor-user/monitor-password";
	/* Sessions read these from the configuration they started with;
	 * only the certificates, keys and what the TLS contexts hold
	 * (tls.c) are taken anew.  The running --backend-tls mode is the
	 * start's, whatever the reloads before asked for. */
	if (o->require_tls != n->require_tls)
		changed[k++] = "require-tls";
	if (rl.backend_tls != n->backend_tls)
		changed[k++] = "backend-tls";
	if (o->compression != n->compression ||
	    o->backend_compression != n->backend_compression ||
	    o->compression_level != n->compression_level)
		changed[k++] = "compression settings";
	out[0] = '\0';
	for (unsigned i = 0; i < k && len < outlen; i++) {
		int w = snprintf(out + len, outlen - len, "%s%s", i ? ", " : "",
				 changed[i]);
		if (w < 0)
			break;
		len += (size_t)w;
	}
}

static int reload_apply(char *msg, size_t msglen)
{
	static char out[16384];
	char err[512], restart[256], servers[600] = "";
	struct config ncfg;
	struct rule_spec *specs = NULL;
	struct ruleset *rs = NULL;
	struct netaddr *addrs = NULL;
	unsigned nspecs = 0;
	enum cli_result r;
	enum backend_tls asked;

	pthread_mutex_lock(&rl.lock);
	r = cli_parse(rl.argc, rl.argv, &ncfg, out, sizeof(out), err,
		      sizeof(err));
	if (r != CLI_RUN) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s",
			 err[0] ? err : "unexpected flags");
		goto fail;
	}
	/* Rows were placed by the keyspace in force: a map that changes
	 * while clients run would look for them on other shards. */
	if (!keyspace_equal(rl.cur.keyspace, ncfg.keyspace)) {
		snprintf(msg, msglen, "reload rejected, old config stays: "
			 "keyspace changes need a restart");
		goto fail;
	}
	if (rl.px && groups_resolve_keyspace(rl.px, ncfg.keyspace, err,
					     sizeof(err))) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	if (rules_specs_from_config(&ncfg, &specs, &nspecs, err, sizeof(err))) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	if (nspecs && !intercept_active()) {
		snprintf(msg, msglen, "reload rejected, old config stays: rules "
			 "were added but myring was started without rules or "
			 "--config; restart to enable them");
		goto fail;
	}
	rs = ruleset_build(specs, nspecs, intercept_workers(), err, sizeof(err));
	free(specs);
	specs = NULL;
	if (!rs) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	/* Servers without a tls: of their own go on with the running
	 * --backend-tls mode, as pass-through sessions do (a new one is
	 * named below as needing a restart); their own settings and every
	 * file are taken anew. */
	asked = ncfg.backend_tls;
	ncfg.backend_tls = rl.backend_tls;
	if (rl.px && groups_reload_check(rl.px, &ncfg, &addrs, err,
					 sizeof(err))) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	if (querylog_configure(ncfg.log_queries, ncfg.log_marked_only ?
			       QL_MARKED : QL_ALL, err, sizeof(err))) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	/* Certificates and keys are read again now: a renewed certificate
	 * serves new connections, those open keep theirs. */
	if (tls_reload(&ncfg, err, sizeof(err))) {
		snprintf(msg, msglen, "reload rejected, old config stays: %s", err);
		goto fail;
	}
	if (rl.px)
		groups_reload_apply(rl.px, &ncfg, addrs, servers,
				    sizeof(servers));
	addrs = NULL;
	ncfg.backend_tls = asked;
	if (servers[0])
		LOGI("reload: servers: %s", servers);
	restart_only_changes(&rl.cur, &ncfg, restart, sizeof(restart));
	if (strcmp(rl.cur.admin_user, ncfg.admin_user) ||
	    strcmp(rl.cur.admin_password, ncfg.admin_password))
		LOGI("reload: the admin credentials changed; admin logins from "
		     "now on use them");
	if (restart[0])
		LOGW("reload: changed settings that take effect after a restart "
		     "(the running values stay): %s", restart);
	if (intercept_active()) {
		struct ruleset *old = intercept_publish(rs);
		rs = NULL;
		if (old) {
			if (rl.nretired == RETIRED_MAX) {
				/* Workers have not ticked through 64 reloads:
				 * something is stuck; leak rather than free a set
				 * in use. */
				LOGE("reload: too many rule sets awaiting release");
			} else {
				rl.retired[rl.nretired++] = old;
			}
		}
	} else {
		ruleset_free(rs);
		rs = NULL;
	}
	log_threshold = ncfg.log_level;
	if (!rl.cur_is_start)
		config_free(&rl.cur);
	rl.cur = ncfg;
	rl.cur_is_start = false;
	rl.reloads++;
	reclaim();
	snprintf(msg, msglen, "reloaded%s%s: %u rule(s)%s%s%s%s",
		 ncfg.config_path ? " " : "",
		 ncfg.config_path ? ncfg.config_path : "", nspecs,
		 servers[0] ? "; servers: " : "", servers,
		 restart[0] ? "; needs a restart to take effect: " : "",
		 restart);
	pthread_mutex_unlock(&rl.lock);
	return 0;
fail:
	free(addrs);
	free(specs);
	ruleset_free(rs);
	config_free(&ncfg);
	rl.failures++;
	pthread_mutex_unlock(&rl.lock);
	return -1;
}

/* The service manager sees the reload begin and end (systemctl status
 * shows "reloading", then the outcome), whether SIGHUP or RELOAD CONFIG
 * asked for it. */
int reload_run(char *msg, size_t msglen)
{
	int rc;

	sdnotify_reloading("reloading");
	rc = reload_apply(msg, msglen);
	sdnotifyf("READY=1\nSTATUS=%s", msg);
	return rc;
}

bool reload_settled(void)
{
	bool done;

	pthread_mutex_lock(&rl.lock);
	reclaim();
	tls_reclaim();
	done = rl.nretired == 0;
	pthread_mutex_unlock(&rl.lock);
	return done;
}

void reload_with_config(void (*fn)(const struct config *cfg, void *arg),
			void *arg)
{
	pthread_mutex_lock(&rl.lock);
	fn(&rl.cur, arg);
	pthread_mutex_unlock(&rl.lock);
}

void reload_lock(void)
{
	pthread_mutex_lock(&rl.lock);
}

void reload_unlock(void)
{
	pthread_mutex_unlock(&rl.lock);
}

uint64_t reload_count(void)
{
	return rl.reloads;
}

uint64_t reload_failures(void)
{
	return rl.failures;
}

/* After the workers have stopped. */
void reload_shutdown(void)
{
	for (unsigned i = 0; i < rl.nretired; i++)
		ruleset_free(rl.retired[i]);
	rl.nretired = 0;
	if (!rl.cur_is_start)
		config_free(&rl.cur);
	rl.cur_is_start = true;
}
