/*
 * Which CPUs the workers are pinned to (startup.c): by default one per CPU
 * this process may use, --cpus as given, none with --pin off or with more
 * workers than CPUs.
 */
#include "cli.h"
#include "config.h"
#include "startup.h"

#include <criterion/criterion.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

static struct config cfg;
static struct startup st;
static char err[512];

/* A backend on another host (TEST-NET-1: never one of this host's): the
 * workers get every CPU. */
static void setup(void)
{
	char out[256];
	char *argv[] = {"myring", "--listen", "127.0.0.1:16033", "--backend",
			"192.0.2.1:3306", NULL};

	cr_assert_eq(cli_parse(5, argv, &cfg, out, sizeof(out), err,
			       sizeof(err)), CLI_RUN, "%s", err);
}

static void teardown(void)
{
	startup_free(&st);
	config_free(&cfg);
}

TestSuite(startup_cpus, .init = setup, .fini = teardown);

/* The CPUs this process may use, in order. */
static unsigned allowed(int *cpus)
{
	cpu_set_t set;
	unsigned n = 0;

	cr_assert_eq(sched_getaffinity(0, sizeof(set), &set), 0);
	for (int c = 0; c < CPU_SETSIZE && n < CLI_MAX_CPUS; c++)
		if (CPU_ISSET(c, &set))
			cpus[n++] = c;
	return n;
}

Test(startup_cpus, by_default_each_worker_has_a_cpu_of_the_mask)
{
	int cpus[CLI_MAX_CPUS];
	unsigned n = allowed(cpus);

	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st.nworkers, n);
	cr_assert(st.pinned);
	for (unsigned i = 0; i < n; i++)
		cr_assert_eq(st.cpus[i], cpus[i], "worker %u", i);
}

Test(startup_cpus, a_backend_on_this_host_leaves_half_the_cpus_to_it)
{
	int cpus[CLI_MAX_CPUS];
	unsigned n = allowed(cpus);

	snprintf(cfg.backend.host, sizeof(cfg.backend.host), "127.0.0.1");
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(st.colocated);
	cr_assert_eq(st.nworkers, (n + 1) / 2);
	cr_assert(st.pinned);
	cr_assert_eq(st.cpus[0], cpus[0]);
	startup_free(&st);
	/* --threads decides alone. */
	cfg.threads = 2;
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(!st.colocated);
	cr_assert_eq(st.nworkers, 2);
}

Test(startup_cpus, local_addresses_are_told_apart)
{
	static const char *const local[] = {"127.0.0.1", "127.3.4.5", "::1"};

	for (unsigned i = 0; i < 3; i++) {
		snprintf(cfg.backend.host, sizeof(cfg.backend.host), "%s",
			 local[i]);
		cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0,
			     "%s", err);
		cr_assert(startup_backends_local(&st), "%s", local[i]);
		startup_free(&st);
	}
	snprintf(cfg.backend.host, sizeof(cfg.backend.host), "198.51.100.7");
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(!startup_backends_local(&st));
	startup_free(&st);
	/* A Unix socket is on this host by definition. */
	cr_assert_eq(cli_parse_hostport("unix:/run/mysqld/mysqld.sock",
					&cfg.backend), 0);
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(startup_backends_local(&st));
	cr_assert_str_eq(st.servers[0].text, "unix:/run/mysqld/mysqld.sock");
}

Test(startup_cpus, threads_take_the_first_cpus)
{
	int cpus[CLI_MAX_CPUS];

	allowed(cpus);
	cfg.threads = 1;
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(st.nworkers, 1);
	cr_assert(st.pinned);
	cr_assert_eq(st.cpus[0], cpus[0]);
}

Test(startup_cpus, pin_off_floats)
{
	cfg.no_pin = true;
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(!st.pinned);
	cr_assert_str_eq(st.unpinned_why, "--pin off");
}

Test(startup_cpus, more_workers_than_cpus_float)
{
	int cpus[CLI_MAX_CPUS];

	cfg.threads = allowed(cpus) + 1;
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(!st.pinned);
	cr_assert(strstr(st.unpinned_why, "more workers"), "%s",
		  st.unpinned_why);
}

Test(startup_cpus, cpus_are_kept_as_listed)
{
	int cpus[CLI_MAX_CPUS];

	allowed(cpus);
	cfg.cpus[0] = cpus[0];
	cfg.ncpus = 1;
	cfg.no_pin = true;      /* --cpus names the CPUs: it wins */
	cr_assert_eq(startup_check(&cfg, &st, err, sizeof(err)), 0, "%s", err);
	cr_assert(st.pinned);
	cr_assert_eq(st.nworkers, 1);
	cr_assert_eq(st.cpus[0], cpus[0]);
}
