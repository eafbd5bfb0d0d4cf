/*
 * cli.h - command-line flags.  Parsing is pure (no I/O, no name
 * resolution) so it is unit-tested; main.c resolves the addresses.
 */
#ifndef MYRING_CLI_H
#define MYRING_CLI_H

#include "mysql_auth.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define CLI_MAX_CPUS 1024
#define CLI_MAX_DENY 64
#define CLI_MAX_USERS 256
#define CLI_MAX_REPLICAS 32
#define CLI_MAX_GROUPS 64
#define CLI_MAX_GROUP_SERVERS 64

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

/* A server's or listener's address.  A backend on this host may also be
 * its Unix socket ("unix:/run/mysqld/mysqld.sock"): host is then the
 * absolute path and port is empty (hostport_is_unix). */
struct hostport {
	char host[256];   /* name, IPv4 or IPv6 literal (without brackets),
	                   * or a Unix socket's path */
	char port[8];
};

static inline bool hostport_is_unix(const struct hostport *hp)
{
	return hp->host[0] == '/';
}

struct rule_spec;
struct keyspace;

/* Who authenticates clients: the server (pass-through, each client its
 * own backend connection for life) or myring (proxy: pooled backend
 * connections of myring's own). */
enum auth_mode { AUTH_PASSTHROUGH, AUTH_PROXY };
/* How long a session keeps a pooled backend connection. */
enum pool_mode { POOL_SESSION, POOL_TRANSACTION, POOL_STATEMENT };
/* TLS towards servers, by MySQL's ssl-mode names. */
enum backend_tls {
	BTLS_OFF,          /* never */
	BTLS_PREFERRED,    /* when the server offers it */
	BTLS_REQUIRED,     /* always, without checking the certificate */
	BTLS_VERIFY_CA,    /* always, the certificate signed by the CA */
	BTLS_VERIFY_IDENTITY, /* and issued to the backend's host name */
};

/* A server of a backend group, as configured (groups.h has the rest). */
struct server_spec {
	struct hostport hp;
	uint32_t weight;             /* share of reads; default 1 */
	uint32_t max_conns;          /* 0: --pool-size */
	/* Its own TLS settings (backend_tls.h): tls 0 is --backend-tls,
	 * else 1 + enum backend_tls; a NULL file is the global one. */
	uint8_t tls;
	const char *tls_ca, *tls_cert, *tls_key;
};

/* A backend group as configured: `groups:` in the file, or the group
 * "default" that --backend or --primary/--replica make. */
struct group_spec {
	char name[64];
	struct server_spec *servers; /* owned by the config */
	unsigned nservers;
	uint8_t reads;               /* enum read_policy */
	uint8_t causal;              /* enum causal_mode */
	uint32_t causal_timeout_ms;
	uint32_t max_lag_ms;         /* 0: not checked */
	uint32_t check_interval_ms;
	uint32_t fail_checks, ok_checks;
};

struct config {
	const char *config_path;     /* --config FILE, or NULL */
	struct hostport listen;
	struct hostport backend;
	unsigned threads;            /* workers; 0 = one per online core */
	int cpus[CLI_MAX_CPUS];      /* --cpus, in order; ncpus == 0 if unset */
	unsigned ncpus;
	bool no_pin;                 /* --pin off: workers float */
	const char *log_queries;     /* query log path or NULL */
	bool log_marked_only;        /* log only commands a rule marks (log: true) */
	const char *deny[CLI_MAX_DENY];
	unsigned ndeny;
	const char *rewrite[CLI_MAX_DENY]; /* "/REGEX/REPLACEMENT/" specs */
	unsigned nrewrite;
	enum log_level log_level;
	uint32_t max_packet;         /* largest client command accepted */
	uint32_t connect_timeout_ms;
	uint32_t drain_timeout_ms;
	uint32_t buffers;            /* provided receive buffers per worker */
	uint32_t buffer_size;        /* bytes per receive buffer */
	uint32_t splice_min;         /* 0: no splice (splice.h) */
	uint32_t max_conns;          /* connections per worker */

	/* Authentication and pooling. */
	enum auth_mode auth;
	enum pool_mode pool_mode;
	uint32_t pool_size;          /* backend connections, all workers */
	uint32_t pool_wait_ms;       /* a session waits this long for one */
	uint32_t pool_min_idle;      /* idle connections kept per worker */
	uint32_t pool_idle_timeout_ms; /* idle longer: closed (0: never) */
	uint32_t pool_max_age_ms;    /* older: closed when idle (0: never) */
	/* Recovery of distributed transactions (xa_recover.c). */
	uint32_t xa_recovery_interval_ms;
	uint32_t xa_grace_ms;        /* undecided branches wait this long */
	/* Who the health checks (checker.c) log in as; NULL: the first user
	 * whose plaintext password myring knows. */
	const char *monitor_user;
	const char *monitor_password;  /* NULL: none ("") */
	/* Users myring authenticates itself (auth: proxy): the plugin each
	 * demands and what the server would store for it (mysql_auth.h);
	 * heap memory owned by the config, freed by config_free. */
	struct auth_user *users;
	unsigned nusers;

	/* TLS towards clients (off without tls_cert) and towards servers,
	 * and protocol compression on each leg (tls.h, xprt.h). */
	const char *tls_cert;        /* PEM certificate (chain) */
	const char *tls_key;         /* its private key */
	const char *tls_ca;          /* CAs client certificates must chain to */
	bool tls_client_cert_required; /* a client without one is refused */
	bool require_tls;            /* plaintext logins are refused */
	int tls_min_version;         /* TLS1_2_VERSION or TLS1_3_VERSION */
	const char *tls_ciphers;     /* TLS 1.2 cipher list (OpenSSL syntax) */
	enum backend_tls backend_tls;
	const char *backend_tls_ca;
	const char *backend_tls_cert; /* client certificate for the server */
	const char *backend_tls_key;
	bool compression;            /* offer CLIENT_COMPRESS to clients */
	bool backend_compression;    /* ask servers for it */
	int compression_level;       /* zlib 1..9 */

	/* A primary and its replicas (--primary, --replica, --max-lag), or
	 * the file's groups; either replaces --backend (cli_parse checks). */
	struct hostport primary;
	struct hostport replicas[CLI_MAX_REPLICAS];
	unsigned nreplicas;
	uint32_t max_lag_ms;
	uint32_t check_interval_ms;  /* --check-interval; 0: the default */
	struct group_spec *groups;   /* owned by the config (`groups:`) */
	unsigned ngroups;
	/* The file's `keyspace:` (shard_map.h, docs/sharding.md), or NULL;
	 * owned by the config.  Its shards' group_index is set at start. */
	struct keyspace *keyspace;
	unsigned nusers_file;        /* users[0..nusers_file-1]: the file's */

	/* Admin port (MySQL protocol) and Prometheus metrics; off when the
	 * host is empty. */
	struct hostport admin;
	char admin_user[64];         /* default "admin" */
	char admin_password[128];    /* default "admin" (warned about) */
	struct hostport metrics;
	/* Digest statistics: -1 = auto (on when the admin port or metrics
	 * are enabled), 0 = off, 1 = on. */
	int digests;
	uint32_t digest_max;         /* digest entries per worker (default 4096) */
	uint32_t digest_text_max;    /* bytes of fingerprint kept (default 1024) */
	/* Query rules from the config file, in order (see config.h). */
	struct rule_spec *rules;
	unsigned nrules;
	/* Heap memory owned by this config (strings, rules); config_free(). */
	void *owned;
};

enum cli_result {
	CLI_RUN,
	CLI_EXIT_OK,         /* --help, --version: out holds the text */
	CLI_EXIT_USAGE,      /* a flag or its value is wrong */
	CLI_EXIT_CONFIG,     /* the config file is wrong ("FILE:LINE: ...") */
	CLI_CHECK_CONFIG,
};

/* Built-in defaults. */
void cli_defaults(struct config *cfg);

/*
 * Sets one setting by its flag name without the dashes ("threads",
 * "max-packet"), as the config file does.  value must outlive cfg.
 * Returns 0; -1 with err set when the value is wrong; -2 when name is not
 * a setting.
 */
int cli_set_option(struct config *cfg, const char *name, const char *value,
		   char *err, size_t errlen);

/*
 * Parses argv into cfg: defaults, then --config FILE, then the other
 * flags.  CLI_CHECK_CONFIG: --check-config FILE was given and loaded.  CLI_RUN: start the proxy.
 * CLI_EXIT_OK: --help or --version was handled (text written to out).
 * CLI_EXIT_USAGE / CLI_EXIT_CONFIG: err holds a one-line message naming
 * the bad flag, or the file, line and key.
 */
enum cli_result cli_parse(int argc, char **argv, struct config *cfg,
			  char *out, size_t outlen, char *err, size_t errlen);

/* "0-3,6" -> {0,1,2,3,6}.  Returns the count, or -1 on a malformed list,
 * a descending range, a duplicate or more than max entries, with why
 * (may be NULL) saying which. */
int cli_parse_cpulist(const char *s, int *cpus, unsigned max, char *why,
		      size_t whylen);

/* "host:port", "[v6]:port" or "unix:/absolute/path" (a Unix socket,
 * shorter than sun_path); a v6 literal is not accepted without brackets
 * when a port follows.  Returns 0 or -1. */
int cli_parse_hostport(const char *s, struct hostport *hp);

/* hp as the user writes it: "host:port", "[v6]:port", "unix:/path", or ""
 * when unset. */
void cli_format_hostport(const struct hostport *hp, char *out, size_t outlen);

/* "/REGEX/REPLACEMENT/" (any non-alphanumeric delimiter, which may not
 * occur inside either part).  Returns 0 and the parts, or -1. */
int cli_parse_rewrite(const char *spec, const char **re, size_t *re_len,
		      const char **repl, size_t *repl_len);

/* "NAME:PASSWORD" (--user): a user myring authenticates itself, kept as
 * the password's hashes.  0, or -1 with err. */
int cli_add_user(struct config *cfg, const char *spec, char *err,
		 size_t errlen);

/* The backends are named one way (--backend, --primary/--replica or
 * groups), with --auth proxy where groups need it, and every rule's
 * route names a group.  0, or -1 with err. */
int cli_check_backends(const struct config *cfg, char *err, size_t errlen);

const char *cli_usage(void);

/* The long flags myring accepts, without dashes ("listen", ...), for
 * the test that keeps --help complete; NULL after the last. */
const char *cli_flag(unsigned i);

#endif
