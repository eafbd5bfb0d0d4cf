/*
 * Servers and groups across reloads (groups.c): what a reload adds,
 * drains, brings back and refuses, and that a refused reload changes
 * nothing.
 */
#include "groups.h"
#include "backend.h"
#include "worker.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

static struct server_spec specs[2][8];
static struct group_spec gspecs[2];
static struct config cfg;
static struct proxy px;

static void spec_group(unsigned gi, const char *name, const char *const *ports,
		       unsigned n)
{
	struct group_spec *g = &gspecs[gi];

	memset(g, 0, sizeof(*g));
	snprintf(g->name, sizeof(g->name), "%s", name);
	g->servers = specs[gi];
	g->nservers = n;
	g->reads = READ_REPLICAS;
	g->check_interval_ms = 1000;
	g->fail_checks = 3;
	g->ok_checks = 2;
	for (unsigned i = 0; i < n; i++) {
		memset(&specs[gi][i], 0, sizeof(specs[gi][i]));
		snprintf(specs[gi][i].hp.host, sizeof(specs[gi][i].hp.host),
			 "127.0.0.1");
		snprintf(specs[gi][i].hp.port, sizeof(specs[gi][i].hp.port),
			 "%s", ports[i]);
		specs[gi][i].weight = 1;
	}
}

/* Resolves cfg's servers and starts px with them, as main() does. */
static void start(unsigned ngroups)
{
	struct netaddr addrs[16];
	unsigned n = 0;
	char err[256];

	cfg.groups = gspecs;
	cfg.ngroups = ngroups;
	cfg.pool_size = 50;
	for (unsigned gi = 0; gi < ngroups; gi++)
		for (unsigned i = 0; i < gspecs[gi].nservers; i++)
			cr_assert_eq(net_resolve(&gspecs[gi].servers[i].hp,
						 &addrs[n++], err, sizeof(err)), 0);
	memset(&px, 0, sizeof(px));
	cr_assert_eq(groups_setup(&px, &cfg, addrs, n, err, sizeof(err)), 0,
		     "%s", err);
}

static void teardown(void)
{
	groups_free(&px);
}

/* The reload, both steps; the check's verdict. */
static int reload(char *err, char *note)
{
	struct netaddr *addrs;

	err[0] = note[0] = '\0';
	if (groups_reload_check(&px, &cfg, &addrs, err, 256))
		return -1;
	groups_reload_apply(&px, &cfg, addrs, note, 512);
	return 0;
}

static const char *status_of(unsigned i)
{
	return server_health(&px.servers[i]) == HEALTH_DRAINING ? "draining" :
	       "in";
}

TestSuite(groups_reload, .fini = teardown);

Test(groups_reload, a_new_server_is_appended_and_an_old_one_drains)
{
	const char *const before[] = {"3301", "3302"}, *const after[] =
		{"3302", "3303"};
	char err[256], note[512];

	spec_group(0, "main", before, 2);
	start(1);
	cr_assert_eq(px.nservers, 2);
	spec_group(0, "main", after, 2);
	cr_assert_eq(reload(err, note), 0, "%s", err);
	cr_assert_eq(px.nservers, 3);
	cr_assert_eq(px.groups[0].nservers, 3);
	cr_assert_str_eq(px.servers[2].addr.text, "127.0.0.1:3303");
	cr_assert_str_eq(status_of(0), "draining");
	cr_assert_str_eq(status_of(1), "in");
	cr_assert_str_eq(status_of(2), "in");
	cr_assert(strstr(note, "127.0.0.1:3303 added"), "%s", note);
	cr_assert(strstr(note, "127.0.0.1:3301 draining"), "%s", note);
	/* Unchecked servers are not used: the new one waits for a check. */
	cr_assert_eq(server_health(&px.servers[2]), HEALTH_UNKNOWN);
}

Test(groups_reload, a_server_named_again_returns_in_place)
{
	const char *const two[] = {"3301", "3302"}, *const one[] = {"3302"};
	char err[256], note[512];

	spec_group(0, "main", two, 2);
	start(1);
	spec_group(0, "main", one, 1);
	cr_assert_eq(reload(err, note), 0, "%s", err);
	cr_assert_str_eq(status_of(0), "draining");
	spec_group(0, "main", two, 2);
	cr_assert_eq(reload(err, note), 0, "%s", err);
	cr_assert_eq(px.nservers, 2, "no second entry for the same server");
	cr_assert_str_eq(status_of(0), "in");
	cr_assert(strstr(note, "127.0.0.1:3301 back"), "%s", note);
	/* Nothing changed: nothing said. */
	cr_assert_eq(reload(err, note), 0, "%s", err);
	cr_assert_str_eq(note, "");
}

Test(groups_reload, weights_and_settings_change_in_place)
{
	const char *const two[] = {"3301", "3302"};
	char err[256], note[512];

	spec_group(0, "main", two, 2);
	start(1);
	specs[0][1].weight = 5;
	specs[0][1].max_conns = 7;
	gspecs[0].max_lag_ms = 2500;
	gspecs[0].causal = CAUSAL_SESSION;
	cr_assert_eq(reload(err, note), 0, "%s", err);
	cr_assert_eq(px.servers[1].weight, 5);
	cr_assert_eq(px.servers[1].max_conns, 7);
	cr_assert_eq(px.servers[0].max_conns, 50, "default: pool-size");
	cr_assert_eq(px.groups[0].max_lag_ms, 2500);
	cr_assert_eq(px.groups[0].causal, CAUSAL_SESSION);
}

Test(groups_reload, groups_added_removed_or_renamed_are_refused)
{
	const char *const one[] = {"3301"}, *const other[] = {"3309"};
	char err[256], note[512];

	spec_group(0, "main", one, 1);
	spec_group(1, "reports", other, 1);
	start(2);
	cfg.ngroups = 1;
	cr_assert_eq(reload(err, note), -1);
	cr_assert(strstr(err, "needs a restart"), "%s", err);
	cfg.ngroups = 2;
	snprintf(gspecs[1].name, sizeof(gspecs[1].name), "report");
	cr_assert_eq(reload(err, note), -1);
	cr_assert(strstr(err, "'report' where 'reports' was"), "%s", err);
	cfg.ngroups = 0;
	cr_assert_eq(reload(err, note), -1);
	cr_assert_eq(px.nservers, 2);
}

Test(groups_reload, an_unresolvable_server_changes_nothing)
{
	const char *const two[] = {"3301", "3302"}, *const bad[] =
		{"3303", "3304"};
	char err[256], note[512];

	spec_group(0, "main", two, 2);
	start(1);
	spec_group(0, "main", bad, 2);
	snprintf(specs[0][1].hp.host, sizeof(specs[0][1].hp.host),
		 "no-such-host.invalid");
	specs[0][0].weight = 9;
	cr_assert_eq(reload(err, note), -1);
	cr_assert(strstr(err, "groups: 'main': server"), "%s", err);
	cr_assert_eq(px.nservers, 2);
	cr_assert_str_eq(status_of(0), "in");
	cr_assert_str_eq(status_of(1), "in");
	cr_assert_eq(px.servers[0].weight, 1);
}

Test(groups_reload, servers_named_by_flags_stay)
{
	const char *const two[] = {"3301", "3302"};
	struct netaddr *addrs = (void *)1;
	char err[256];

	spec_group(0, "main", two, 2);
	start(1);
	px.configured_groups = false;
	cfg.ngroups = 0;
	cr_assert_eq(groups_reload_check(&px, &cfg, &addrs, err, sizeof(err)),
		     0);
	cr_assert_null(addrs);
}

Test(groups_reload, more_than_servers_max_over_the_life_is_refused)
{
	static const char *ports[8];
	static char text[8][8];
	char err[256], note[512];
	unsigned round = 0;

	for (unsigned i = 0; i < 8; i++) {
		snprintf(text[i], sizeof(text[i]), "%u", 4000 + i);
		ports[i] = text[i];
	}
	spec_group(0, "main", ports, 8);
	start(1);
	/* Each reload names 8 new servers: the old ones drain but count. */
	for (;;) {
		round++;
		for (unsigned i = 0; i < 8; i++)
			snprintf(specs[0][i].hp.port, sizeof(specs[0][i].hp.port),
				 "%u", 4000 + round * 8 + i);
		if (reload(err, note))
			break;
		cr_assert_leq(px.nservers, SERVERS_MAX);
	}
	cr_assert_eq(px.nservers, SERVERS_MAX);
	cr_assert(strstr(err, "at most"), "%s", err);
}
