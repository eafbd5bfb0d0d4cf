/*
 * groups.h - backend groups: a primary and its replicas, what the health
 * checker learns of each server, and what the workers route by.
 *
 * A group is the servers one logical database runs on.  Which of them is
 * the primary is not taken from the configuration but discovered: the
 * server whose read_only is 0.  The checker (checker.c, on the control
 * thread) connects to every server at the group's interval and publishes
 * what it finds in the server's `struct server_check`: role, health, lag.
 * Workers only read those words (relaxed loads: a decision made on a value
 * one check old is as good as any) when they choose a server for a
 * command; nothing on a query's path writes anything shared.
 *
 * Health, with hysteresis so that a flapping server does not bounce
 * clients:
 *
 *   UNKNOWN --first check ok--> ONLINE <--------------------------+
 *      |                          |   ^                            |
 *      |          fails N checks  |   | passes M checks in a row   |
 *      +------------------------> SHUNNED                          |
 *                                 |                                |
 *   ONLINE replica over max lag --> LAGGING --under max lag / 2 ---+
 *                                             for M checks
 *   DRAINING: removed by a reload; no new borrows, closed when idle.
 */
#ifndef MYRING_GROUPS_H
#define MYRING_GROUPS_H

#include "net.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum server_role {
	ROLE_UNKNOWN = 0,
	ROLE_PRIMARY = 1,          /* read_only = 0: takes writes */
	ROLE_REPLICA = 2,          /* read_only = 1 */
};

enum server_health {
	HEALTH_UNKNOWN = 0,        /* not checked yet: used as a primary if
	                            * the group has one server, else not */
	HEALTH_ONLINE = 1,
	HEALTH_SHUNNED = 2,        /* failed N checks in a row */
	HEALTH_LAGGING = 3,        /* a replica over the group's max lag */
	HEALTH_DRAINING = 4,       /* removed from the configuration */
};

enum read_policy {
	READ_PRIMARY = 0,          /* everything on the primary (no split) */
	READ_REPLICAS = 1,         /* reads on replicas, by weight and load;
	                            * the primary when none is usable */
	READ_ANY = 2,              /* reads on replicas and the primary */
};

enum causal_mode {
	CAUSAL_OFF = 0,
	CAUSAL_SESSION = 1,        /* a session reads its own writes */
	CAUSAL_GLOBAL = 2,         /* every read sees every write made
	                            * through myring before it */
};

/* Servers over all groups, including those a reload adds: the arrays
 * are allocated whole at start so that workers never see them move. */
#define SERVERS_MAX 256

/* Longest GTID position text kept ("0-1-123,1-2-456"). */
#define GTID_POS_MAX 256

/*
 * What the checker found.  Written by the control thread only; read by
 * the workers and the admin port.  The strings are guarded by a sequence
 * count (odd while being written): readers copy and retry if it moved.
 */
struct server_check {
	_Atomic uint8_t role;          /* enum server_role */
	_Atomic uint8_t health;        /* enum server_health */
	_Atomic uint8_t io_running;    /* replica: Slave_IO_Running = Yes */
	_Atomic uint8_t sql_running;   /* replica: Slave_SQL_Running = Yes */
	_Atomic int64_t lag_ms;        /* replica: Seconds_Behind_Master x
	                                * 1000; -1 when unknown or NULL */
	_Atomic uint32_t server_id;
	_Atomic uint64_t check_us;     /* duration of the last check */
	_Atomic uint64_t checks;       /* checks made */
	_Atomic uint64_t failures;     /* checks failed */
	_Atomic uint64_t since_s;      /* unix time health last changed */
	_Atomic uint32_t seq;          /* guards the strings below */
	char last_error[256];
	char gtid_pos[GTID_POS_MAX];   /* primary: gtid_binlog_pos;
	                                * replica: gtid_slave_pos */
};

struct backend_group {
	char name[64];
	/* Indexes into the proxy's servers (struct backend_server,
	 * backend.h), room for SERVERS_MAX.  A reload appends (the index
	 * first, then the count) and never removes: a removed server stays,
	 * draining.  The settings below may change on reload too: workers
	 * read each as one word. */
	unsigned *servers;
	_Atomic unsigned nservers;
	_Atomic uint8_t reads;         /* enum read_policy */
	_Atomic uint8_t causal;        /* enum causal_mode */
	_Atomic uint32_t causal_timeout_ms; /* a causal read waits this long
	                                * on a replica, then goes to the
	                                * primary */
	_Atomic uint32_t max_lag_ms;   /* 0: lag is not checked */
	_Atomic uint32_t check_interval_ms;
	_Atomic uint32_t fail_checks;  /* N: failed checks before shunning */
	_Atomic uint32_t ok_checks;    /* M: passed checks before return */
	/* causal: global: the newest GTID any session wrote through myring
	 * (domain-server-sequence; the sequence decides which is newer). */
	_Atomic uint64_t causal_seq;
	_Atomic uint64_t causal_ds;    /* domain << 32 | server id */
};

/* "D-S-N" -> its parts; false if gtid is not one GTID. */
bool gtid_parse(const char *gtid, uint32_t *domain, uint32_t *server,
		uint64_t *seq);
/* A session of the group committed gtid (causal: global). */
void group_note_gtid(struct backend_group *g, const char *gtid);
/* The newest GTID noted, written as "D-S-N" ("" if none). */
void group_causal_gtid(const struct backend_group *g, char *out, size_t cap);

struct proxy;
struct config;

/* The servers and groups of the configuration, in px (before the workers
 * start).  0, or -1 with err. */
int groups_setup(struct proxy *px, const struct config *cfg,
		 const struct netaddr *addrs, unsigned naddrs, char *err,
		 size_t errlen);
/* A reload's new groups, in two steps so that nothing changes unless the
 * whole reload is accepted.  Check: every server of cfg resolved into
 * *addrs (NULL when the servers came from flags: a reload cannot change
 * them); -1 with err if one fails, if groups were added, removed or
 * renamed (rules name them: that needs a restart) or if there would be
 * more than SERVERS_MAX.  Apply (frees addrs): servers new to a group
 * start unchecked (unused until a check passes), servers no longer named
 * drain, servers named again return, weights and group settings change;
 * what changed is described in note. */
int groups_reload_check(const struct proxy *px, const struct config *cfg,
			struct netaddr **addrs, char *err, size_t errlen);
void groups_reload_apply(struct proxy *px, const struct config *cfg,
			 struct netaddr *addrs, char *note, size_t notelen);
struct keyspace;

/* Points every shard of ks at its group in px (group_index).  0, or -1
 * with err when a shard names no group of px. */
int groups_resolve_keyspace(const struct proxy *px, struct keyspace *ks,
			    char *err, size_t errlen);

/* The index of the group called name, or -1. */
int groups_find(const struct proxy *px, const char *name);
void groups_free(struct proxy *px);

/* Copies the server's last error and GTID position consistently. */
void server_check_strings(const struct server_check *c, char *err,
			  size_t errlen, char *gtid, size_t gtidlen);

#endif
