/*
 * startup.c - checks and binds that come before serving (see startup.h).
 * Runs on the main thread before any worker exists: name resolution may
 * block here and nowhere else.
 */
#include "startup.h"

#include "session_dir.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void startup_format_cpus(const int *cpus, unsigned n, char *out, size_t outlen)
{
	size_t len = 0;

	out[0] = '\0';
	for (unsigned i = 0; i < n && len < outlen;) {
		unsigned j = i;
		int w;

		while (j + 1 < n && cpus[j + 1] == cpus[j] + 1)
			j++;
		if (j > i)
			w = snprintf(out + len, outlen - len, "%s%d-%d",
				     len ? "," : "", cpus[i], cpus[j]);
		else
			w = snprintf(out + len, outlen - len, "%s%d",
				     len ? "," : "", cpus[i]);
		if (w < 0)
			break;
		len += (size_t)w;
		i = j + 1;
	}
}

/* The CPUs this process may run on (taskset, cgroup cpusets). */
static unsigned allowed_cpus(int *cpus, unsigned max)
{
	cpu_set_t set;
	unsigned n = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int c = 0; c < CPU_SETSIZE && n < max; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

static int check_cpus(const struct config *cfg, char *err, size_t errlen)
{
	static int allowed[CLI_MAX_CPUS];
	unsigned nallowed = allowed_cpus(allowed, CLI_MAX_CPUS);
	long configured = sysconf(_SC_NPROCESSORS_CONF);
	char list[256];

	if (!nallowed)
		return 0;  /* no affinity to compare with: pinning will tell */
	startup_format_cpus(allowed, nallowed, list, sizeof(list));
	for (unsigned i = 0; i < cfg->ncpus; i++) {
		int c = cfg->cpus[i];
		bool ok = false;

		for (unsigned k = 0; k < nallowed && !ok; k++)
			ok = allowed[k] == c;
		if (ok)
			continue;
		if (configured > 0 && c >= configured)
			snprintf(err, errlen, "--cpus: CPU %d does not exist (this "
				 "host has %ld CPUs; this process may use %s)", c,
				 configured, list);
		else
			snprintf(err, errlen, "--cpus: CPU %d is not available to "
				 "this process (it may use %s)", c, list);
		return -1;
	}
	return 0;
}

/*
 * Workers are pinned unless --pin off: to --cpus, else worker i to the
 * i-th CPU this process may use.  Measured (perf/RESULTS.md, "pinning"):
 * a floating worker pays for migrations and cold caches on every turn of
 * its loop; pinned ones cost 10-25% less CPU per query at 8-32 clients.
 * More workers than CPUs cannot each have one: they float.
 */
static void choose_cpus(const struct config *cfg, struct startup *st)
{
	int allowed[CLI_MAX_CPUS];
	unsigned n;

	st->pinned = false;
	st->unpinned_why = NULL;
	if (cfg->ncpus) {
		memcpy(st->cpus, cfg->cpus, cfg->ncpus * sizeof(st->cpus[0]));
		st->pinned = true;
		return;
	}
	if (cfg->no_pin) {
		st->unpinned_why = "--pin off";
		return;
	}
	n = allowed_cpus(allowed, CLI_MAX_CPUS);
	if (!n) {
		st->unpinned_why = "the CPU affinity mask could not be read";
		return;
	}
	if (st->nworkers > n) {
		st->unpinned_why = "more workers than CPUs this process may use";
		return;
	}
	memcpy(st->cpus, allowed, st->nworkers * sizeof(st->cpus[0]));
	st->pinned = true;
}

/* Whether addr is one of this host's: loopback, or an interface's. */
static bool address_is_local(const struct netaddr *a)
{
	struct ifaddrs *ifs, *i;
	bool local = false;

	if (a->ss.ss_family == AF_INET) {
		const struct sockaddr_in *s4 = (const void *)&a->ss;
		if ((ntohl(s4->sin_addr.s_addr) >> 24) == 127)
			return true;
	} else if (a->ss.ss_family == AF_INET6) {
		const struct sockaddr_in6 *s6 = (const void *)&a->ss;
		if (IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr) ||
		    (IN6_IS_ADDR_V4MAPPED(&s6->sin6_addr) &&
		     s6->sin6_addr.s6_addr[12] == 127))
			return true;
	} else {
		return a->ss.ss_family == AF_UNIX;
	}
	if (getifaddrs(&ifs))
		return false;
	for (i = ifs; i && !local; i = i->ifa_next) {
		if (!i->ifa_addr || i->ifa_addr->sa_family != a->ss.ss_family)
			continue;
		if (a->ss.ss_family == AF_INET)
			local = ((const struct sockaddr_in *)(const void *)
				 i->ifa_addr)->sin_addr.s_addr ==
				((const struct sockaddr_in *)(const void *)
				 &a->ss)->sin_addr.s_addr;
		else
			local = !memcmp(&((const struct sockaddr_in6 *)
					  (const void *)i->ifa_addr)->sin6_addr,
					&((const struct sockaddr_in6 *)
					  (const void *)&a->ss)->sin6_addr,
					sizeof(struct in6_addr));
	}
	freeifaddrs(ifs);
	return local;
}

bool startup_backends_local(const struct startup *st)
{
	for (unsigned i = 0; i < st->nservers; i++)
		if (!address_is_local(&st->servers[i]))
			return false;
	return st->nservers > 0;
}

/*
 * One worker per CPU the process may use, or, when every backend runs on
 * this host (the database competes for the same CPUs), half of them:
 * measured on 2 cores shared with MariaDB (perf/RESULTS.md, block
 * `ab pinning-default`), one worker cost 0.73-0.93x the CPU per query of
 * two and had less than half their p99, at 0.93-1.07x the QPS.
 */
static unsigned worker_count(const struct config *cfg, struct startup *st)
{
	static int allowed[CLI_MAX_CPUS];
	unsigned n;

	st->colocated = false;
	if (cfg->ncpus)
		return cfg->ncpus;
	if (cfg->threads)
		return cfg->threads;
	n = allowed_cpus(allowed, CLI_MAX_CPUS);
	if (!n) {
		long online = sysconf(_SC_NPROCESSORS_ONLN);
		n = online > 0 ? (unsigned)online : 1;
	}
	if (startup_backends_local(st)) {
		st->colocated = true;
		n = (n + 1) / 2;
	}
	return n;
}

static int resolve(const char *flag, const struct hostport *hp,
		   struct netaddr *out, char *err, size_t errlen)
{
	char why[400];

	if (net_resolve(hp, out, why, sizeof(why))) {
		/* A flag's name, or where in the config file. */
		snprintf(err, errlen, "%s%s: %s", strchr(flag, ' ') ? "" : "--",
			 flag, why);
		return -1;
	}
	return 0;
}

/* The backends, however they are named (cli_check_backends says one
 * way): each server of each group, resolved. */
static int resolve_servers(const struct config *cfg, struct startup *st,
			   char *err, size_t errlen)
{
	unsigned n = cfg->ngroups ? 0 : cfg->primary.host[0] ?
		     1 + cfg->nreplicas : 1;
	char flag[96];

	for (unsigned g = 0; g < cfg->ngroups; g++)
		n += cfg->groups[g].nservers;
	st->servers = calloc(n ? n : 1, sizeof(*st->servers));
	if (!st->servers) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	if (!cfg->ngroups && !cfg->primary.host[0]) {
		if (resolve("backend", &cfg->backend, &st->servers[0], err,
			    errlen))
			return -1;
		st->nservers = 1;
	} else if (!cfg->ngroups) {
		if (resolve("primary", &cfg->primary, &st->servers[0], err,
			    errlen))
			return -1;
		for (unsigned i = 0; i < cfg->nreplicas; i++)
			if (resolve("replica", &cfg->replicas[i],
				    &st->servers[1 + i], err, errlen))
				return -1;
		st->nservers = 1 + cfg->nreplicas;
	} else {
		for (unsigned g = 0; g < cfg->ngroups; g++)
			for (unsigned i = 0; i < cfg->groups[g].nservers; i++) {
				snprintf(flag, sizeof(flag), "groups: '%s': server",
					 cfg->groups[g].name);
				if (resolve(flag, &cfg->groups[g].servers[i].hp,
					    &st->servers[st->nservers++], err,
					    errlen))
					return -1;
			}
	}
	st->backend = st->servers[0];
	return 0;
}

void startup_free(struct startup *st)
{
	free(st->servers);
	st->servers = NULL;
	st->nservers = 0;
}

int startup_check(const struct config *cfg, struct startup *st, char *err,
		  size_t errlen)
{
	struct {
		const char *flag;
		const struct netaddr *addr;
	} bound[3];
	unsigned nbound = 0;

	memset(st, 0, sizeof(*st));
	if (resolve("listen", &cfg->listen, &st->listen, err, errlen) ||
	    resolve_servers(cfg, st, err, errlen))
		return -1;
	bound[nbound++] = (typeof(bound[0])){"listen", &st->listen};
	if (cfg->admin.host[0]) {
		if (resolve("admin", &cfg->admin, &st->admin, err, errlen))
			return -1;
		st->has_admin = true;
		bound[nbound++] = (typeof(bound[0])){"admin", &st->admin};
	}
	if (cfg->metrics.host[0]) {
		if (resolve("metrics", &cfg->metrics, &st->metrics, err, errlen))
			return -1;
		st->has_metrics = true;
		bound[nbound++] = (typeof(bound[0])){"metrics", &st->metrics};
	}
	for (unsigned i = 0; i < nbound; i++)
		for (unsigned j = i + 1; j < nbound; j++)
			if (net_addr_overlap(&bound[i].addr->ss,
					     &bound[j].addr->ss)) {
				snprintf(err, errlen, "--%s %s and --%s %s share "
					 "a port: each needs its own",
					 bound[j].flag, bound[j].addr->text,
					 bound[i].flag, bound[i].addr->text);
				return -1;
			}
	if (check_cpus(cfg, err, errlen))
		return -1;
	if (cfg->auth == AUTH_PROXY && cfg->nusers == 0) {
		snprintf(err, errlen, "--auth proxy: no users to check clients "
			 "against (--user NAME:PASSWORD, or users in the config "
			 "file)");
		return -1;
	}
	st->nworkers = worker_count(cfg, st);
	if (cfg->auth == AUTH_PROXY && st->nworkers > SDIR_MAX_WORKERS) {
		/* Client ids carry the worker in their top byte. */
		snprintf(err, errlen, "--auth proxy: at most %d workers, not %u "
			 "(--threads)", SDIR_MAX_WORKERS, st->nworkers);
		return -1;
	}
	choose_cpus(cfg, st);
	return 0;
}

/*
 * SO_REUSEPORT lets any socket of the same user join a port, so two
 * myring instances (or myring and anything else started with the option)
 * would silently split the connections of one port between them.  Two
 * checks keep the port ours: a bind without SO_REUSEPORT first, which
 * fails when anyone already listens there; then, once our sockets are
 * bound, a look at the kernel's table of listening sockets
 * (/proc/net/tcp{,6}) for one that overlaps the address and is not ours,
 * which catches another process that raced us between the two.  A BPF
 * program attached to the group could steer connections but cannot stop
 * another process from joining it, so it would not help here.
 */
int startup_bind_workers(const struct startup *st, int *fds, unsigned n,
			 char *err, size_t errlen)
{
	int rc = net_probe_free(&st->listen);
	int foreign;

	if (rc) {
		snprintf(err, errlen, "--listen %s: %s%s", st->listen.text,
			 strerror(-rc), rc == -EADDRINUSE ?
			 " (another process listens on this port)" : "");
		return -1;
	}
	for (unsigned i = 0; i < n; i++)
		fds[i] = -1;
	for (unsigned i = 0; i < n; i++) {
		fds[i] = net_listen(&st->listen, 4096, true);
		if (fds[i] < 0) {
			snprintf(err, errlen, "--listen %s: %s", st->listen.text,
				 strerror(-fds[i]));
			goto fail;
		}
	}
	foreign = net_foreign_listeners(&st->listen, fds, n);
	if (foreign > 0) {
		snprintf(err, errlen, "--listen %s: another process listens on "
			 "this port too (it would take a share of the "
			 "connections)", st->listen.text);
		goto fail;
	}
	return 0;
fail:
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	return -1;
}
