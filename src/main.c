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
#include "mysql_proto.h"
#include "reload.h"
#include "sdnotify.h"
#include "shard_map.h"
#include "startup.h"
#include "tls.h"
#include "worker.h"

#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <unistd.h>

static struct proxy px;

/* Everything that stops a start is one line on stderr, "myring: ...",
 * whatever the log level: the caller (a shell, systemd) sees it. */
static int fail(int status, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(int status, const char *fmt, ...)
{
	va_list ap;

	fputs(log_journal ? "<3>myring: " : "myring: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return status;
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

/* Compiles the rules (--deny, --rewrite, the file's) as a start would. */
static struct ruleset *build_rules(const struct config *cfg, unsigned nworkers,
				   unsigned *nrules, char *err, size_t errlen)
{
	struct rule_spec *specs;
	struct ruleset *rs;

	if (rules_specs_from_config(cfg, &specs, nrules, err, errlen))
		return NULL;
	rs = ruleset_build(specs, *nrules, nworkers, err, errlen);
	free(specs);
	return rs;
}

/* --check-config: everything a start checks before it binds, with the
 * same messages; what only a start can find out is named. */
static int check_config(const struct config *cfg)
{
	struct startup st;
	struct ruleset *rs;
	unsigned n;
	char err[600], ks[160] = "";

	if (startup_check(cfg, &st, err, sizeof(err))) {
		startup_free(&st);
		return fail(EXIT_CONFIG, "%s", err);
	}
	startup_free(&st);
	rs = build_rules(cfg, 1, &n, err, sizeof(err));
	if (!rs)
		return fail(EXIT_CONFIG, "%s", err);
	ruleset_free(rs);
	if (tls_check(cfg, err, sizeof(err)))
		return fail(EXIT_CONFIG, "%s", err);
	if (cfg->keyspace)
		snprintf(ks, sizeof(ks), ", keyspace %s: %u shard(s), %u "
			 "table(s)", cfg->keyspace->schema,
			 cfg->keyspace->nshards, cfg->keyspace->ntables);
	printf("%s: OK (%u rule(s), %u worker(s)%s); left to start-up: whether "
	       "the ports are free, io_uring is available and the query log "
	       "can be written\n", cfg->config_path, n, st.nworkers, ks);
	return EXIT_STOPPED;
}

static bool digests_wanted(const struct config *cfg)
{
	if (cfg->digests >= 0)
		return cfg->digests == 1;
	return cfg->admin.host[0] || cfg->metrics.host[0];
}

/* Rules (and --deny/--rewrite), digests, then the query log, which comes
 * last so it sees every command with the marks and verdict it got. */
static int install_hooks(const struct config *cfg, unsigned nworkers,
			 unsigned *nrules)
{
	struct ruleset *rs;
	char err[600];

	rs = build_rules(cfg, nworkers, nrules, err, sizeof(err));
	if (!rs)
		return fail(EXIT_CONFIG, "%s", err);
	if (intercept_register(rs, digests_wanted(cfg), cfg->digest_max,
			       cfg->config_path != NULL, nworkers, err,
			       sizeof(err)))
		return fail(EXIT_SYSTEM, "%s", err);
	/* With a config file the writer is set up even without a log, so a
	 * reload can turn logging on. */
	if ((cfg->log_queries || cfg->config_path) &&
	    querylog_install(cfg->log_queries, cfg->log_marked_only ?
			     QL_MARKED : QL_ALL, err, sizeof(err)))
		return fail(EXIT_SYSTEM, "%s", err);
	return 0;
}

/*
 * auth: proxy: myring greets clients itself, showing them the server's
 * version and capabilities, read here once from its greeting (start-up may
 * block).  A server that is down now gets a generic MariaDB greeting; the
 * pool connects when clients come.
 */
static int proxy_auth_setup(const struct config *cfg, const struct startup *st)
{
	char err[300];

	if (groups_setup(&px, cfg, st->servers, st->nservers, err, sizeof(err)))
		return fail(EXIT_SYSTEM, "%s", err);
	/* The shards by their groups' indexes, before any worker reads
	 * them (px.cfg shares cfg's keyspace). */
	if (groups_resolve_keyspace(&px, cfg->keyspace, err, sizeof(err)))
		return fail(EXIT_CONFIG, "%s", err);
	/* Statement keys are hashed under a secret of this process. */
	if (getrandom(&px.stmt_secret, sizeof(px.stmt_secret), 0) !=
	    sizeof(px.stmt_secret))
		LOGW("getrandom: %s; statement keys use a weak secret",
		     strerror(errno));
	/* caching_sha2_password's full authentication without TLS sends the
	 * password RSA-encrypted: a key pair for this process, made once. */
	for (unsigned i = 0; i < cfg->nusers && !px.rsa; i++)
		if (cfg->users[i].plugin == AUTH_CACHING_SHA2 &&
		    !(px.rsa = auth_rsa_generate(2048)))
			LOGW("cannot make an RSA key: caching_sha2_password users "
			     "can log in only with a cached password");
	if (backend_probe(&px.backend, cfg->connect_timeout_ms, &px.profile, err,
			  sizeof(err))) {
		LOGW("backend %s: %s; clients are greeted as a generic MariaDB "
		     "server until it is up", px.backend.text, err);
		snprintf(px.profile.version, sizeof(px.profile.version),
			 "5.5.5-10.11.0-MariaDB-myring");
		px.profile.caps = 0xFFFFFFFEull | MARIADB_CLIENT_EXTENDED_METADATA;
		px.profile.charset = 45;
	}
	px.backend_mariadb = strstr(px.profile.version, "MariaDB") != NULL;
	if (!px.backend_mariadb)
		LOGI("backend %s is not MariaDB: a pooled session that prepares "
		     "statements keeps its connection", px.backend.text);
	return 0;
}

/* The start-up line: enough to tell from a log what this process runs. */
static void log_started(const struct config *cfg, const struct startup *st,
			unsigned nrules)
{
	char cpus[256] = "", workers[320], tls[200];

	if (st->pinned) {
		startup_format_cpus(st->cpus, st->nworkers, cpus, sizeof(cpus));
		snprintf(workers, sizeof(workers), "%u worker(s) pinned to CPU(s) %s",
			 st->nworkers, cpus);
	} else {
		snprintf(workers, sizeof(workers), "%u worker(s), unpinned (%s)",
			 st->nworkers, st->unpinned_why ? st->unpinned_why : "");
	}
	if (st->colocated)
		snprintf(workers + strlen(workers), sizeof(workers) -
			 strlen(workers), " (half the CPUs: the backends run on "
			 "this host; --threads or --cpus to choose)");
	tls_describe(cfg, tls, sizeof(tls));
	LOGI("myring %s listening on %s, backend %s, %s; config %s, %u rule(s), "
	     "digests %s, query log %s%s%s%s%s%s", MYRING_VERSION, st->listen.text,
	     st->backend.text, workers,
	     cfg->config_path ? cfg->config_path : "none", nrules,
	     intercept_digests() ? "on" : "off",
	     cfg->log_queries ? cfg->log_queries : "off",
	     st->has_admin ? ", admin " : "", st->has_admin ? st->admin.text : "",
	     st->has_metrics ? ", metrics " : "",
	     st->has_metrics ? st->metrics.text : "", tls);
}

/* Starts the workers on their bound listeners; 0 or an exit status. */
static int start_workers(const struct startup *st, unsigned *started)
{
	const struct config *cfg = &px.cfg;
	int *fds = calloc(st->nworkers, sizeof(*fds));
	char err[600];
	int rc = 0;

	px.workers = calloc(st->nworkers, sizeof(*px.workers));
	if (!px.workers || !fds) {
		free(fds);
		return fail(EXIT_SYSTEM, "out of memory");
	}
	if (startup_bind_workers(st, fds, st->nworkers, err, sizeof(err))) {
		free(fds);
		return fail(EXIT_SYSTEM, "%s", err);
	}
	/* Every worker's session directory exists before any worker runs:
	 * KILL on one worker reads the others' (session_dir.h). */
	for (unsigned i = 0; cfg->auth == AUTH_PROXY && i < st->nworkers; i++)
		if (sdir_init(&px.workers[i].dir, cfg->max_conns)) {
			free(fds);
			return fail(EXIT_SYSTEM, "out of memory");
		}
	for (unsigned i = 0; i < st->nworkers; i++) {
		struct worker *w = &px.workers[i];
		w->id = i;
		w->px = &px;
		w->cpu = st->pinned ? st->cpus[i] : -1;
		w->listen_fd = fds[i];
		fds[i] = -1;
		if (worker_start(w)) {
			rc = fail(EXIT_SYSTEM, "worker %u: %s", i, w->start_msg);
			worker_join(w);
			break;
		}
		(*started)++;
	}
	for (unsigned i = 0; i < st->nworkers; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	return rc;
}

int main(int argc, char **argv)
{
	static char out[16384];
	char err[600];
	struct config *cfg = &px.cfg;
	struct startup st;
	sigset_t sigs;
	unsigned started = 0, nrules = 0;
	bool *joined = NULL;
	int rc = 0;

	log_detect_journal();
	switch (cli_parse(argc, argv, cfg, out, sizeof(out), err, sizeof(err))) {
	case CLI_EXIT_OK:
		fputs(out, stdout);
		return EXIT_STOPPED;
	case CLI_EXIT_USAGE:
		config_free(cfg);
		return fail(EXIT_CONFIG, "%s (see --help)", err);
	case CLI_EXIT_CONFIG:
		config_free(cfg);
		return fail(EXIT_CONFIG, "%s", err);
	case CLI_CHECK_CONFIG:
		rc = check_config(cfg);
		config_free(cfg);
		return rc;
	case CLI_RUN:
		break;
	}
	log_threshold = cfg->log_level;
	if (startup_check(cfg, &st, err, sizeof(err))) {
		startup_free(&st);
		config_free(cfg);
		return fail(EXIT_CONFIG, "%s", err);
	}
	px.listen = st.listen;
	px.backend = st.backend;
	px.nworkers = st.nworkers;
	if (tls_setup(cfg, &px, err, sizeof(err))) {
		startup_free(&st);
		config_free(cfg);
		return fail(EXIT_CONFIG, "%s", err);
	}
	if (cfg->auth == AUTH_PROXY && (rc = proxy_auth_setup(cfg, &st))) {
		startup_free(&st);
		config_free(cfg);
		return rc;
	}
	startup_free(&st);
	if (cfg->auth == AUTH_PROXY && cfg->backend_compression)
		LOGW("--backend-compression is not supported with --auth proxy: "
		     "pooled connections are not compressed");
	/* Every thread started from here on (workers, the query-log writer)
	 * inherits this mask: only the main thread takes signals. */
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	if (cfg->auth == AUTH_PASSTHROUGH && cfg->nusers)
		LOGW("%u user(s) configured (--user, users:) but --auth is "
		     "passthrough: the server checks every client and the "
		     "users are not used (--auth proxy / auth: proxy uses "
		     "them)", cfg->nusers);
	if (cfg->admin.host[0] && !strcmp(cfg->admin_password, "admin"))
		LOGW("admin port with the default password 'admin': set "
		     "admin-password in the config file");
	rc = install_hooks(cfg, px.nworkers, &nrules);
	if (rc)
		goto out;
	reload_init(argc, argv, cfg, &px);
	raise_fd_limit(px.nworkers, cfg->max_conns);

	if (ctl_listen(&px, st.has_admin ? &st.admin : NULL,
		       st.has_metrics ? &st.metrics : NULL, err, sizeof(err))) {
		rc = fail(EXIT_SYSTEM, "%s", err);
		goto out;
	}
	joined = calloc(px.nworkers, sizeof(*joined));
	if (!joined) {
		rc = fail(EXIT_SYSTEM, "out of memory");
		goto out;
	}
	rc = start_workers(&st, &started);
	if (rc == 0 && ctl_start(err, sizeof(err))) {
		rc = fail(EXIT_SYSTEM, "%s", err);
		atomic_store(&px.drain, 2);
		for (unsigned i = 0; i < started; i++)
			worker_join(&px.workers[i]);
		started = 0;
	}
	if (rc == 0) {
		log_started(cfg, &st, nrules);
		/* Type=notify: systemd counts the service as started from
		 * here, every listener bound and every worker running. */
		int nrc = sdnotifyf("READY=1\nSTATUS=listening on %s, backend %s",
				    st.listen.text, st.backend.text);
		if (nrc)
			LOGW("cannot tell the service manager we are ready "
			     "($NOTIFY_SOCKET): %s", strerror(-nrc));
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
				sdnotify("STOPPING=1\nSTATUS=draining");
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
out:
	ctl_stop();
	auth_rsa_free(px.rsa);
	querylog_shutdown();
	reload_shutdown();
	intercept_shutdown();
	tls_shutdown();
	config_free(cfg);
	free(joined);
	for (unsigned i = 0; px.workers && i < px.nworkers; i++) {
		sdir_free(&px.workers[i].dir);
		free(px.workers[i].routed);
	}
	free(px.workers);
	groups_free(&px);
	if (rc == 0)
		LOGI("stopped");
	return rc;
}
