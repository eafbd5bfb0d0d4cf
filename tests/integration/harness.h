/* Shared helpers for the integration tests (Criterion + Connector/C). */
#ifndef MYRING_TEST_HARNESS_H
#define MYRING_TEST_HARNESS_H

#include <mysql.h>
#include <stdio.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

/* Environment set by scripts/test.sh; a missing one fails the test. */
const char *env_or_fail(const char *name);
int env_int(const char *name);
/* KEY=number from a sourceable env file (what scripts/shards.sh and
 * scripts/replicas.sh write);
 * asserts that it is there and positive. */
long env_file_long(const char *file, const char *key);
/* The shard rig of the `shards` step (scripts/shards.sh): its directory,
 * MYRING_SHARDS_DIR (the test is skipped without it), a number of its
 * env file (REF_PORT, ...) and shard i's port. */
const char *shard_rig_dir(void);
long shard_rig_env(const char *key);
int shard_rig_port(int i);
/* The start of a config for myring over the rig's four shards: auth:
 * proxy, user myring, groups g0..g3 (ports[i]: shard i's port). */
void shard_rig_config_head(FILE *f, int ports[4]);
/* A connection as myring/myring-pw to port (a shard, or a myring over
 * the rig) in database db (may be NULL); asserts. */
MYSQL *shard_rig_connect(int port, const char *db);
bool under_asan(void);

/* Connects to the shared proxy (or to MariaDB directly). NULL on failure,
 * with the error copied to err. */
MYSQL *proxy_connect_as(const char *user, const char *pw, const char *db,
			unsigned long flags, char *err, size_t errlen);
MYSQL *proxy_connect(void);          /* myring/myring-pw, myring_test; asserts */
MYSQL *direct_connect(void);         /* to MariaDB, bypassing the proxy */
MYSQL *connect_port(int port, const char *user, const char *pw,
		    const char *db, unsigned long flags, char *err, size_t errlen);

/* Runs a query expecting success; returns the first column of the first
 * row (malloc'd) or NULL if there is no result set. */
char *query_value(MYSQL *m, const char *sql);
void query_ok(MYSQL *m, const char *sql);
/* The first column of the first row as a number; asserts there is one. */
long query_long(MYSQL *m, const char *sql);

int free_port(void);

/* A myring instance of the test's own. */
struct proxy_proc {
	pid_t pid;
	int port;
	char log[256];
};
/* Starts MYRING_BIN with the given extra args (NULL-terminated) in front of
 * backend_port; waits until it accepts connections.  backend_port 0: no
 * --backend (args name the servers, --primary/--replica). */
void proxy_start(struct proxy_proc *p, int backend_port, const char *const *args);
/* SIGTERM and wait (bounded); returns the exit status, or -1 on timeout. */
int proxy_stop(struct proxy_proc *p, int timeout_ms);
/* The last lines of the proxy's log, for failure messages: a CI run
 * keeps what the tests print, not files in /tmp. */
const char *proxy_log_tail(const struct proxy_proc *p);

/* Runs MYRING_BIN with args (NULL-terminated) to its end (killed after
 * timeout_ms); its stdout and stderr go to out.  Returns the exit status,
 * or -1 if it had to be killed. */
int myring_run(const char *const *args, char *out, size_t outlen,
	       int timeout_ms);

uint64_t now_ms(void);

/* The body and headers of GET path on 127.0.0.1:port (malloc'd). */
char *http_get(int port, const char *path);
/* The value of an unlabelled series in a Prometheus text body, or -1. */
double metric(const char *body, const char *series);
#endif
