/*
 * startup.h - what a start checks before it serves, shared with
 * --check-config so that a check says OK only where a start gets past the
 * same point: names resolve, the addresses of one configuration do not
 * collide, the CPUs exist and are ours to use.  What only a start can
 * find out (a port taken by another process, io_uring refused, the query
 * log not writable) is left to it, and the check says so.
 */
#ifndef MYRING_STARTUP_H
#define MYRING_STARTUP_H

#include "cli.h"
#include "net.h"

#include <stdbool.h>
#include <stddef.h>

/* Exit statuses (README.md, "Exit status"). */
enum myring_exit {
	EXIT_STOPPED = 0,     /* stopped cleanly; --help, --version, valid check */
	EXIT_RUNTIME = 1,     /* failed while running */
	EXIT_CONFIG = 2,      /* bad flag, value or config file */
	EXIT_SYSTEM = 3,      /* the system refused the start */
};

struct startup {
	struct netaddr listen, backend, admin, metrics;
	/* Every backend server, resolved: the groups' servers in order
	 * (--backend: one; --primary: it, then the replicas).  backend is
	 * the first of them.  Heap: startup_free(). */
	struct netaddr *servers;
	unsigned nservers;
	bool has_admin, has_metrics;
	unsigned nworkers;
	bool pinned;
	int cpus[CLI_MAX_CPUS];      /* pinned: worker i's CPU */
	const char *unpinned_why;    /* not pinned: why, for the log */
	bool colocated;              /* every backend on this host: half the
	                              * CPUs got workers (no --threads/--cpus) */
};

/* Resolves and cross-checks cfg.  0, or -1 with err (one line). */
int startup_check(const struct config *cfg, struct startup *st, char *err,
		  size_t errlen);
void startup_free(struct startup *st);
/* Whether every backend server resolved to an address of this host. */
bool startup_backends_local(const struct startup *st);

/*
 * Binds the n workers' listeners on st->listen, sharing the port among
 * themselves with SO_REUSEPORT, and refuses a port that another process
 * already listens on (which SO_REUSEPORT would otherwise let them share,
 * splitting connections between the two).  0, or -1 with err; fds are
 * closed on failure.
 */
int startup_bind_workers(const struct startup *st, int *fds, unsigned n,
			 char *err, size_t errlen);

/* "0-3,6" for a sorted list of CPUs (the start-up line, messages). */
void startup_format_cpus(const int *cpus, unsigned n, char *out, size_t outlen);

#endif
