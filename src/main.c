/*
 * main.c - start-up and shutdown: flags, name resolution, hooks, one
 * worker per core, and signals.  Everything that may block (DNS, opening
 * files, compiling regular expressions) happens here, before any worker
 * serves a connection.
 */
#include "cli.h"
#include "hooks.h"
#include "log.h"
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
		return usage_error(err);
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
	/* Order matters: a denied query is never rewritten, and the query log
	 * (last) sees every command with the verdict it got. */
	if (deny_install(cfg->deny, cfg->ndeny, err, sizeof(err)) ||
	    rewrite_install(cfg->rewrite, cfg->nrewrite, err, sizeof(err)))
		return usage_error(err);
	if (cfg->log_queries &&
	    querylog_install(cfg->log_queries, err, sizeof(err)))
		return usage_error(err);

	if (cfg->ncpus) {
		px.nworkers = cfg->ncpus;
	} else if (cfg->threads) {
		px.nworkers = cfg->threads;
	} else {
		long n = sysconf(_SC_NPROCESSORS_ONLN);
		px.nworkers = n > 0 ? (unsigned)n : 1;
	}
	raise_fd_limit(px.nworkers, cfg->max_conns);

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
	if (rc == 0) {
		LOGI("myring %s listening on %s, backend %s, %u worker(s)%s",
		     MYRING_VERSION, px.listen.text, px.backend.text, px.nworkers,
		     cfg->ncpus ? " (pinned)" : "");
		for (;;) {
			int sig;
			if (sigwait(&sigs, &sig))
				continue;
			if (sig == SIGHUP) {
				LOGI("SIGHUP: nothing to reload yet");
				continue;
			}
			if (atomic_load(&px.drain) == 0) {
				LOGI("%s: draining (up to %u ms); signal again to "
				     "stop at once", strsignal(sig),
				     cfg->drain_timeout_ms);
				atomic_store(&px.drain, 1);
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
	querylog_shutdown();
	free(joined);
	free(px.workers);
	if (rc == 0)
		LOGI("stopped");
	return rc;
}
