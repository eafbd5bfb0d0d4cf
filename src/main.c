/*
 * main.c - start-up and shutdown: flags, name resolution, hooks, one
 * worker per core, and signals.  Everything that may block (DNS, opening
 * files, compiling regular expressions) happens here, before any worker
 * serves a connection.
 */
#include "cli.h"
#include "config.h"
#include "ctl.h"
#include "hooks.h"
#include "intercept.h"
#include "log.h"
#include "reload.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static struct proxy px;

static int usage_error(const char *msg)
{
	fprintf(stderr, "myring: %s (see --help)\n", msg);
	return 2;
}

/* Each connection holds two descriptors; make room for --max-conns. */
static void raise_fd_limit(unsigned nworkers, uint32_t max_conns)
{
	struct rlimit rl;
	rlim_t want = (rlim_t)nworkers * max_conns * 2 + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl))
		return;
	if (rl.rlim_cur < want) {
		rl.rlim_cur = want < rl.rlim_max ? want : rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

static unsigned worker_count(const struct config *cfg)
{
	long n;

	if (cfg->ncpus)
		return cfg->ncpus;
	if (cfg->threads)
		return cfg->threads;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n > 0 ? (unsigned)n : 1;
}

/* --check-config: everything start-up would check about the file,
 * without binding or resolving anything. */
static int check_config(const struct config *cfg)
{
	struct rule_spec *specs;
	struct ruleset *rs;
	unsigned n;
	char err[512];

	if (rules_specs_from_config(cfg, &specs, &n, err, sizeof(err))) {
		fprintf(stderr, "myring: %s\n", err);
		return 2;
	}
	rs = ruleset_build(specs, n, 1, err, sizeof(err));
	free(specs);
	if (!rs) {
		fprintf(stderr, "myring: %s: %s\n", cfg->config_path, err);
		return 2;
	}
	ruleset_free(rs);
	printf("%s: OK (%u rule(s))\n", cfg->config_path, n);
	return 0;
}

static bool digests_wanted(const struct config *cfg)
{
	if (cfg->digests >= 0)
		return cfg->digests == 1;
	return cfg->admin.host[0] || cfg->metrics.host[0];
}

/* Rules (and --deny/--rewrite), digests, then the query log, which comes
 * last so it sees every command with the marks and verdict it got. */
static int install_hooks(const struct config *cfg, unsigned nworkers)
{
	struct rule_spec *specs;
	struct ruleset *rs;
	unsigned n;
	char err[512];

	if (rules_specs_from_config(cfg, &specs, &n, err, sizeof(err)))
		return usage_error(err);
	rs = ruleset_build(specs, n, nworkers, err, sizeof(err));
	free(specs);
	if (!rs)
		return usage_error(err);
	if (intercept_register(rs, digests_wanted(cfg), cfg->digest_max,
			       cfg->config_path != NULL, nworkers, err,
			       sizeof(err)))
		return usage_error(err);
	/* With a config file the writer is set up even without a log, so a
	 * reload can turn logging on. */
	if ((cfg->log_queries || cfg->config_path) &&
	    querylog_install(cfg->log_queries, cfg->log_marked_only ?
			     QL_MARKED : QL_ALL, err, sizeof(err)))
		return usage_error(err);
	return 0;
}

int main(int argc, char **argv)
{
	static char out[4096];
	char err[512];
	struct config *cfg = &px.cfg;
	sigset_t sigs;
	unsigned started = 0;
	int rc = 0;

	switch (cli_parse(argc, argv, cfg, out, sizeof(out), err, sizeof(err))) {
	case CLI_EXIT_OK:
		fputs(out, stdout);
		return 0;
	case CLI_EXIT_USAGE:
		config_free(cfg);
		return usage_error(err);
	case CLI_CHECK_CONFIG:
		rc = check_config(cfg);
		config_free(cfg);
		return rc;
	case CLI_RUN:
		break;
	}
	log_threshold = cfg->log_level;
	/* Every thread started from here on (workers, the query-log writer)
	 * inherits this mask: only the main thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (net_resolve(&cfg->listen, &px.listen, err, sizeof(err))) {
		char msg[600];
		snprintf(msg, sizeof(msg), "--listen: %s", err);
		return usage_error(msg);
	}
	if (net_resolve(&cfg->backend, &px.backend, err, sizeof(err))) {
		char msg[600];
		snprintf(msg, sizeof(msg), "--backend: %s", err);
		return usage_error(msg);
	}
	px.nworkers = worker_count(cfg);
	if (cfg->admin.host[0] && !strcmp(cfg->admin_password, "admin"))
		LOGW("admin port with the default password 'admin': set "
		     "admin-password in the config file");
	rc = install_hooks(cfg, px.nworkers);
	if (rc)
		return rc;
	reload_init(argc, argv, cfg);
	raise_fd_limit(px.nworkers, cfg->max_conns);

	if (ctl_listen(&px, err, sizeof(err)))
		return usage_error(err);
	px.workers = calloc(px.nworkers, sizeof(*px.workers));
	bool *joined = calloc(px.nworkers, sizeof(*joined));
	if (!px.workers || !joined) {
		LOGE("out of memory");
		return 1;
	}
	for (unsigned i = 0; i < px.nworkers; i++) {
		struct worker *w = &px.workers[i];
		w->id = i;
		w->px = &px;
		w->cpu = cfg->ncpus ? cfg->cpus[i] : -1;
		if (worker_start(w)) {
			LOGE("worker %u: %s", i, w->start_msg);
			worker_join(w);
			rc = 1;
			break;
		}
		started++;
	}
	if (rc == 0 && ctl_start(err, sizeof(err))) {
		LOGE("%s", err);
		rc = 2;
		atomic_store(&px.drain, 2);
		for (unsigned i = 0; i < started; i++)
			worker_join(&px.workers[i]);
		started = 0;
	}
	if (rc == 0) {
		LOGI("myring %s listening on %s, backend %s, %u worker(s)%s",
		     MYRING_VERSION, px.listen.text, px.backend.text, px.nworkers,
		     cfg->ncpus ? " (pinned)" : "");
		for (;;) {
			int sig;
			if (sigwait(&sigs, &sig))
				continue;
			if (sig == SIGHUP) {
				char msg[600];
				if (reload_run(msg, sizeof(msg)))
					LOGE("SIGHUP: %s", msg);
				else
					LOGI("SIGHUP: %s", msg);
				continue;
			}
			if (atomic_load(&px.drain) == 0) {
				LOGI("%s: draining (up to %u ms); signal again to "
				     "stop at once", strsignal(sig),
				     cfg->drain_timeout_ms);
				atomic_store(&px.drain, 1);
				ctl_stop();
				break;
			}
		}
		/* A second signal cuts the drain short. */
		for (;;) {
			struct timespec tick = {0, 100000000};
			siginfo_t si;
			bool alive = false;
			int sig = sigtimedwait(&sigs, &si, &tick);
			if (sig == SIGTERM || sig == SIGINT) {
				LOGI("%s again: stopping now", strsignal(sig));
				atomic_store(&px.drain, 2);
			}
			for (unsigned i = 0; i < started; i++) {
				if (joined[i])
					continue;
				if (pthread_tryjoin_np(px.workers[i].thread, NULL) == 0)
					joined[i] = true;
				else
					alive = true;
			}
			if (!alive)
				break;
		}
	} else {
		atomic_store(&px.drain, 2);
		for (unsigned i = 0; i < started; i++)
			worker_join(&px.workers[i]);
	}
	ctl_stop();
	querylog_shutdown();
	reload_shutdown();
	intercept_shutdown();
	config_free(cfg);
	free(joined);
	free(px.workers);
	if (rc == 0)
		LOGI("stopped");
	return rc;
}
