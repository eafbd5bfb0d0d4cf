#include "cli.h"
#include "backend_tls.h"
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <openssl/crypto.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif
/* liburing 2.3 has no version macros: the Makefile passes what
 * pkg-config says of the library it builds against. */
#ifndef MYRING_LIBURING_VERSION
#define MYRING_LIBURING_VERSION "unknown"
#endif

static const char usage_text[] =
"Usage: myring --listen HOST:PORT --backend HOST:PORT [options]\n"
"       myring --config FILE [options]\n"
"       myring --check-config FILE [options]\n"
"\n"
"A MySQL/MariaDB proxy on io_uring: one worker thread per core, each with\n"
"its own ring and listener.\n"
"\n"
"Required (as flags or in the config file):\n"
"  --listen HOST:PORT       address clients connect to (IPv6: [::1]:6033)\n"
"  --backend HOST:PORT      MySQL/MariaDB server; host names are resolved\n"
"                           once at start-up (or --primary, or groups in\n"
"                           the config file); a server on this host also\n"
"                           as unix:/PATH, its socket (cheaper per query)\n"
"Workers:\n"
"  --threads N              number of worker threads (default: one per CPU\n"
"                           this process may use; half of them when every\n"
"                           backend runs on this host)\n"
"  --cpus LIST              one worker pinned to each listed core, e.g. 0-3,6\n"
"                           (overrides --threads)\n"
"  --splice-min BYTES       a server packet whose rest is this long or longer\n"
"                           moves to the client by splice(2), uncopied\n"
"                           (default 256K; 0: never)\n"
"  --pin on|off             on (default): worker i is pinned to the i-th CPU\n"
"                           this process may use (unless more workers than\n"
"                           CPUs); off: workers float\n"
"Interception:\n"
"  --log-queries FILE       append one line per command to FILE (see README)\n"
"  --log-queries-mode MODE  all (default): every command; rules: only those\n"
"                           a rule marks with log: true\n"
"  --deny REGEX             reject a query (the whole command) if REGEX\n"
"                           (PCRE2, caseless unless (?-i)) matches one of\n"
"                           its statements, each seen with comments removed\n"
"                           and trimmed (README); repeatable, up to 64\n"
"  --rewrite /REGEX/REPL/   in each statement REGEX matches (caseless, comments\n"
"                           removed), replace every match with REPL ($1..\n"
"                           refer to groups); any delimiter, given by the\n"
"                           first character; repeatable, first matching\n"
"                           rule applies\n"
"Backend groups (with --auth proxy):\n"
"  --primary HOST:PORT      a primary and its replicas in place of --backend:\n"
"  --replica HOST:PORT      reads split to replicas, writes and transactions\n"
"                           to the server whose read_only is 0 (repeatable)\n"
"  --max-lag SECONDS        replicas further behind get no reads (default:\n"
"                           lag not checked)\n"
"  --check-interval MS      how often each server's health is checked\n"
"                           (default 1000)\n"
"Authentication and pooling:\n"
"  --auth MODE              passthrough (default): clients log in to the\n"
"                           server, each on a backend connection of its own\n"
"                           for life; proxy: myring checks the users itself\n"
"                           and lends pooled backend connections\n"
"  --user NAME:PASSWORD     a user for --auth proxy (repeatable); myring's\n"
"                           backend logins use the same name and password\n"
"  --pool MODE              session, transaction (default) or statement: how\n"
"                           long a session keeps a pooled connection\n"
"  --pool-size N            backend connections per server, all workers\n"
"                           together: a hard cap (default 64)\n"
"  --pool-wait-ms MS        how long a command waits for a free connection\n"
"                           before ERR 1040 (default 5000)\n"
"  --pool-min-idle N        idle connections each worker keeps (default 0)\n"
"  --pool-idle-timeout MS   idle connections beyond that close (default 60000)\n"
"  --pool-max-age MS        connections older close when idle (default\n"
"                           3600000; 0: never)\n"
"  --monitor-user NAME      the user the health checks log in to the servers\n"
"                           as (--auth proxy; default: the first user whose\n"
"                           password myring knows in plaintext)\n"
"  --monitor-password PW    its password (better kept in the config file)\n"
"TLS and compression:\n"
"  --tls-cert FILE          PEM certificate (chain) myring presents to\n"
"                           clients: TLS is offered (CLIENT_SSL)\n"
"  --tls-key FILE           its private key (default: in --tls-cert)\n"
"  --tls-ca FILE            CA certificates client certificates are checked\n"
"                           against (a client that presents one)\n"
"  --tls-client-cert MODE   optional (default) or required: with required,\n"
"                           a client without a valid certificate is refused\n"
"  --require-tls[=on|off]   refuse logins that do not use TLS (ERR 3159)\n"
"  --tls-min-version V      TLSv1.2 (default) or TLSv1.3, both legs\n"
"  --tls-ciphers LIST       TLS 1.2 cipher list (OpenSSL syntax)\n"
"  --backend-tls MODE       off (default), preferred, required, verify-ca,\n"
"                           verify-identity: TLS towards the servers (a\n"
"                           server in groups: may set its own, tls:)\n"
"  --backend-tls-ca FILE    CA certificates for verify-ca/verify-identity\n"
"  --backend-tls-cert FILE  client certificate myring presents to the server\n"
"  --backend-tls-key FILE   its private key (default: in --backend-tls-cert)\n"
"  --compression on|off     offer protocol compression to clients that ask\n"
"                           for it (default on)\n"
"  --backend-compression on|off  compress the backend leg (default off)\n"
"  --compression-level N    zlib level 1..9 for what myring compresses\n"
"                           (default 6)\n"
"Observability:\n"
"  --admin HOST:PORT        MySQL-protocol admin port (stats tables, reload);\n"
"                           credentials from the config file (admin-user,\n"
"                           admin-password)\n"
"  --metrics HOST:PORT      Prometheus metrics over HTTP at /metrics\n"
"  --digests on|off|auto    per-fingerprint query statistics (default auto:\n"
"                           on when --admin or --metrics is given)\n"
"  --digest-max N           digest entries kept per worker (default 4096)\n"
"Limits and timeouts:\n"
"  --max-packet BYTES       largest client command accepted (default 1G, the\n"
"                           protocol's limit; suffixes K, M, G); larger gets\n"
"                           ERR 1153\n"
"  --connect-timeout MS     backend connect timeout, until the server's\n"
"                           greeting has arrived (default 5000)\n"
"  --drain-timeout MS       on SIGTERM/SIGINT, how long in-flight commands\n"
"                           may run before connections are cut (default 10000)\n"
"  --max-conns N            client connections per worker (default 16384)\n"
"Distributed transactions (a keyspace):\n"
"  --xa-recovery-interval-ms MS  how often in-doubt XA branches are looked\n"
"                           for (default 5000)\n"
"  --xa-grace-ms MS         an undecided prepared branch is rolled back once\n"
"                           seen this long (default 10000)\n"
"Buffers:\n"
"  --buffers N              receive buffers per worker, power of two\n"
"                           (default 128)\n"
"  --buffer-size BYTES      size of each receive buffer (default 32K)\n"
"Config file:\n"
"  --config FILE            YAML: every flag above by its name (listen: ...,\n"
"                           max-packet: ...), admin-user, admin-password,\n"
"                           digest-text-max and an ordered list of query\n"
"                           rules (docs/config.md); flags given too override\n"
"                           the file; SIGHUP reloads it\n"
"  --check-config FILE      check FILE and the other flags as a start would\n"
"                           (names resolved, CPUs, addresses, rules) without\n"
"                           binding anything; exit 0 if valid, 2 if not\n"
"Other:\n"
"  --log-level LEVEL        error, warn, info (default) or debug\n"
"  -V, --version            print the versions of myring, liburing and OpenSSL\n"
"  -h, --help               print this help and exit\n"
"\n"
"Exit status: 0 stopped cleanly (or help, version, valid config); 1 failed\n"
"while running; 2 bad flag, value or config file; 3 the system refused the\n"
"start (address in use, io_uring unavailable, ...).  README.md has the table.\n";

int cli_check_backends(const struct config *cfg, char *err, size_t errlen)
{
	unsigned ways = !!cfg->backend.host[0] + !!cfg->primary.host[0] +
			!!cfg->ngroups;

	if (ways > 1) {
		snprintf(err, errlen, "--backend, --primary and the config file's "
			 "groups each name the backends: give one of them");
		return -1;
	}
	if (cfg->nreplicas && !cfg->primary.host[0]) {
		snprintf(err, errlen, "--replica needs --primary");
		return -1;
	}
	if (cfg->max_lag_ms && !cfg->nreplicas) {
		snprintf(err, errlen, "--max-lag needs --replica");
		return -1;
	}
	if (cfg->check_interval_ms && !cfg->nreplicas) {
		snprintf(err, errlen, "--check-interval needs --replica (a "
			 "group in the file has check-interval:)");
		return -1;
	}
	if (cfg->keyspace && cfg->auth != AUTH_PROXY) {
		snprintf(err, errlen, "the keyspace needs --auth proxy (auth: "
			 "proxy in the file: myring's own backend connections to "
			 "every shard)");
		return -1;
	}
	if ((cfg->primary.host[0] || cfg->ngroups) && cfg->auth != AUTH_PROXY) {
		snprintf(err, errlen, "%s need --auth proxy (myring's own backend "
			 "connections)", cfg->ngroups ? "backend groups" :
			 "--primary and --replica");
		return -1;
	}
	for (unsigned i = 0; i < cfg->nrules; i++) {
		const char *route = cfg->rules[i].route;
		bool found = false;

		if (!route)
			continue;
		if (!cfg->ngroups)
			found = !strcmp(route, "default");
		for (unsigned g = 0; g < cfg->ngroups; g++)
			found |= !strcmp(route, cfg->groups[g].name);
		if (!found) {
			snprintf(err, errlen, "rule '%s': route: no backend group "
				 "'%s' (groups: %s)", cfg->rules[i].name, route,
				 cfg->ngroups ? "see groups:" : "default");
			return -1;
		}
	}
	/* Each server's TLS settings: what needs no file is checked here,
	 * the files when tls.c reads them. */
	return btls_check(cfg, err, errlen);
}

const char *cli_usage(void)
{
	return usage_text;
}

/* What --version prints: enough for a bug report about the ring or TLS.
 * OpenSSL twice, because the library found at run time may be a newer
 * build than the headers were (a security update). */
static void version_text(char *out, size_t outlen)
{
	snprintf(out, outlen,
		 "myring %s\n"
		 "built with liburing %s, %s\n"
		 "running with %s\n",
		 MYRING_VERSION, MYRING_LIBURING_VERSION, OPENSSL_VERSION_TEXT,
		 OpenSSL_version(OPENSSL_VERSION));
}

int cli_parse_cpulist(const char *s, int *cpus, unsigned max, char *why,
		      size_t whylen)
{
	unsigned n = 0;
	const char *p = s;

#define WHY(...) do { if (why) snprintf(why, whylen, __VA_ARGS__); return -1; } while (0)
	if (!*p)
		WHY("empty list");
	for (;;) {
		char *end;
		long lo, hi;

		if (!isdigit((unsigned char)*p))
			WHY("expected a CPU number at '%s'", p);
		errno = 0;
		lo = strtol(p, &end, 10);
		if (errno || lo < 0 || lo >= CLI_MAX_CPUS)
			WHY("CPU numbers go up to %d", CLI_MAX_CPUS - 1);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				WHY("range %ld- has no end", lo);
			hi = strtol(p, &end, 10);
			if (errno || hi >= CLI_MAX_CPUS)
				WHY("CPU numbers go up to %d", CLI_MAX_CPUS - 1);
			if (hi < lo)
				WHY("range %ld-%ld runs backwards", lo, hi);
			p = end;
		}
		for (long c = lo; c <= hi; c++) {
			for (unsigned i = 0; i < n; i++)
				if (cpus[i] == c)
					WHY("CPU %ld is listed twice", c);
			if (n == max)
				WHY("more than %u CPUs", max);
			cpus[n++] = (int)c;
		}
		if (*p == '\0')
			break;
		if (*p != ',')
			WHY("unexpected '%c'", *p);
		p++;
	}
#undef WHY
	return (int)n;
}

int cli_parse_hostport(const char *s, struct hostport *hp)
{
	const char *colon, *host = s;
	size_t hlen;

	if (!strncmp(s, "unix:", 5)) {
		const char *path = s + 5;
		size_t plen = strlen(path);

		/* 108 is sun_path's size on Linux, with its terminating NUL. */
		if (path[0] != '/' || plen >= 108 || plen >= sizeof(hp->host))
			return -1;
		memcpy(hp->host, path, plen + 1);
		hp->port[0] = '\0';
		return 0;
	}
	if (*s == '[') {
		const char *close = strchr(s, ']');
		if (!close || close[1] != ':')
			return -1;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon || memchr(s, ':', (size_t)(colon - s)))
			return -1; /* bare IPv6 literals need brackets */
		hlen = (size_t)(colon - s);
	}
	if (hlen == 0 || hlen >= sizeof(hp->host))
		return -1;
	const char *port = colon + 1;
	size_t plen = strlen(port);
	if (plen == 0 || plen >= sizeof(hp->port))
		return -1;
	for (size_t i = 0; i < plen; i++)
		if (!isdigit((unsigned char)port[i]))
			return -1;
	long pn = strtol(port, NULL, 10);
	if (pn < 1 || pn > 65535)
		return -1;
	memcpy(hp->host, host, hlen);
	hp->host[hlen] = '\0';
	memcpy(hp->port, port, plen + 1);
	return 0;
}

void cli_format_hostport(const struct hostport *hp, char *out, size_t outlen)
{
	if (!hp->host[0])
		snprintf(out, outlen, "%s", "");
	else if (hostport_is_unix(hp))
		snprintf(out, outlen, "unix:%s", hp->host);
	else if (strchr(hp->host, ':'))
		snprintf(out, outlen, "[%s]:%s", hp->host, hp->port);
	else
		snprintf(out, outlen, "%s:%s", hp->host, hp->port);
}

int cli_parse_rewrite(const char *spec, const char **re, size_t *re_len,
		      const char **repl, size_t *repl_len)
{
	char delim = spec[0];
	const char *mid, *end;

	if (!delim || isalnum((unsigned char)delim) || isspace((unsigned char)delim) ||
	    delim == '\\')
		return -1;
	mid = strchr(spec + 1, delim);
	if (!mid || mid == spec + 1)
		return -1;
	end = strchr(mid + 1, delim);
	if (!end || end[1] != '\0')
		return -1;
	if (re) {
		*re = spec + 1;
		*re_len = (size_t)(mid - spec - 1);
		*repl = mid + 1;
		*repl_len = (size_t)(end - mid - 1);
	}
	return 0;
}

/* Unsigned integer with an optional K/M/G suffix (powers of 1024). */
static int parse_size(const char *s, uint64_t maxv, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0' || v > maxv)
		return -1;
	*out = v;
	return 0;
}

enum {
	OPT_LISTEN = 256, OPT_BACKEND, OPT_THREADS, OPT_CPUS, OPT_LOG_QUERIES,
	OPT_DENY, OPT_LOG_LEVEL, OPT_MAX_PACKET, OPT_CONNECT_TIMEOUT,
	OPT_DRAIN_TIMEOUT, OPT_BUFFERS, OPT_BUFFER_SIZE, OPT_MAX_CONNS, OPT_REWRITE,
	OPT_ADMIN, OPT_METRICS, OPT_DIGESTS, OPT_DIGEST_MAX, OPT_LOG_QUERIES_MODE,
	OPT_AUTH, OPT_USER, OPT_POOL, OPT_POOL_SIZE, OPT_POOL_WAIT,
	OPT_POOL_MIN_IDLE, OPT_POOL_IDLE_TIMEOUT, OPT_POOL_MAX_AGE,
	OPT_TLS_CERT, OPT_TLS_KEY, OPT_TLS_CA, OPT_TLS_CLIENT_CERT,
	OPT_REQUIRE_TLS, OPT_TLS_MIN_VERSION, OPT_TLS_CIPHERS, OPT_BACKEND_TLS,
	OPT_BACKEND_TLS_CA, OPT_BACKEND_TLS_CERT, OPT_BACKEND_TLS_KEY,
	OPT_COMPRESSION, OPT_BACKEND_COMPRESSION, OPT_COMPRESSION_LEVEL,
	OPT_MONITOR_USER, OPT_MONITOR_PASSWORD,
	OPT_PRIMARY, OPT_REPLICA, OPT_MAX_LAG, OPT_CHECK_INTERVAL, OPT_PIN,
	OPT_SPLICE_MIN, OPT_XA_RECOVERY_INTERVAL, OPT_XA_GRACE,
	/* Not settings: handled by cli_parse itself. */
	OPT_CONFIG, OPT_CHECK_CONFIG, OPT_VERSION, OPT_HELP,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"primary", required_argument, NULL, OPT_PRIMARY},
	{"replica", required_argument, NULL, OPT_REPLICA},
	{"max-lag", required_argument, NULL, OPT_MAX_LAG},
	{"check-interval", required_argument, NULL, OPT_CHECK_INTERVAL},
	{"xa-recovery-interval-ms", required_argument, NULL,
	 OPT_XA_RECOVERY_INTERVAL},
	{"xa-grace-ms", required_argument, NULL, OPT_XA_GRACE},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"pin", required_argument, NULL, OPT_PIN},
	{"splice-min", required_argument, NULL, OPT_SPLICE_MIN},
	{"log-queries", required_argument, NULL, OPT_LOG_QUERIES},
	{"log-queries-mode", required_argument, NULL, OPT_LOG_QUERIES_MODE},
	{"deny", required_argument, NULL, OPT_DENY},
	{"rewrite", required_argument, NULL, OPT_REWRITE},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"max-packet", required_argument, NULL, OPT_MAX_PACKET},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
	{"buffers", required_argument, NULL, OPT_BUFFERS},
	{"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
	{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	{"admin", required_argument, NULL, OPT_ADMIN},
	{"metrics", required_argument, NULL, OPT_METRICS},
	{"digests", required_argument, NULL, OPT_DIGESTS},
	{"digest-max", required_argument, NULL, OPT_DIGEST_MAX},
	{"auth", required_argument, NULL, OPT_AUTH},
	{"user", required_argument, NULL, OPT_USER},
	{"pool", required_argument, NULL, OPT_POOL},
	{"pool-size", required_argument, NULL, OPT_POOL_SIZE},
	{"pool-wait-ms", required_argument, NULL, OPT_POOL_WAIT},
	{"pool-min-idle", required_argument, NULL, OPT_POOL_MIN_IDLE},
	{"pool-idle-timeout", required_argument, NULL, OPT_POOL_IDLE_TIMEOUT},
	{"pool-max-age", required_argument, NULL, OPT_POOL_MAX_AGE},
	{"monitor-user", required_argument, NULL, OPT_MONITOR_USER},
	{"monitor-password", required_argument, NULL, OPT_MONITOR_PASSWORD},
	{"tls-cert", required_argument, NULL, OPT_TLS_CERT},
	{"tls-key", required_argument, NULL, OPT_TLS_KEY},
	{"tls-ca", required_argument, NULL, OPT_TLS_CA},
	{"tls-client-cert", required_argument, NULL, OPT_TLS_CLIENT_CERT},
	{"require-tls", optional_argument, NULL, OPT_REQUIRE_TLS},
	{"tls-min-version", required_argument, NULL, OPT_TLS_MIN_VERSION},
	{"tls-ciphers", required_argument, NULL, OPT_TLS_CIPHERS},
	{"backend-tls", required_argument, NULL, OPT_BACKEND_TLS},
	{"backend-tls-ca", required_argument, NULL, OPT_BACKEND_TLS_CA},
	{"backend-tls-cert", required_argument, NULL, OPT_BACKEND_TLS_CERT},
	{"backend-tls-key", required_argument, NULL, OPT_BACKEND_TLS_KEY},
	{"compression", required_argument, NULL, OPT_COMPRESSION},
	{"backend-compression", required_argument, NULL, OPT_BACKEND_COMPRESSION},
	{"compression-level", required_argument, NULL, OPT_COMPRESSION_LEVEL},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"check-config", required_argument, NULL, OPT_CHECK_CONFIG},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

const char *cli_flag(unsigned i)
{
	if (i >= sizeof(long_opts) / sizeof(long_opts[0]))
		return NULL;
	return long_opts[i].name;
}

void cli_defaults(struct config *cfg)
{
	*cfg = (struct config){
		.log_level = LOG_INFO,
		/* The protocol's ceiling: the server enforces its own
		 * max_allowed_packet and answers a larger command itself. */
		.max_packet = 1u << 30,
		.connect_timeout_ms = 5000,
		.drain_timeout_ms = 10000,
		.buffers = 128,
		.buffer_size = 32u << 10,
		.splice_min = 256u << 10,
		.max_conns = 16384,
		.admin_user = "admin",
		.admin_password = "admin",
		.digests = -1,
		.digest_max = 4096,
		.digest_text_max = 1024,
		.auth = AUTH_PASSTHROUGH,
		.pool_mode = POOL_TRANSACTION,
		.pool_size = 64,
		.pool_wait_ms = 5000,
		.pool_idle_timeout_ms = 60000,
		.pool_max_age_ms = 3600000,
		.xa_recovery_interval_ms = 5000,
		.xa_grace_ms = 10000,
		.tls_min_version = 0x0303,   /* TLS1_2_VERSION */
		.compression = true,
		.compression_level = 6,
	};
}

static int opt_code(const char *name)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (!strcmp(o->name, name))
			return o->val;
	return -1;
}

/* on/off and the usual spellings of both; -1 if neither. */
static int parse_bool(const char *v)
{
	static const char *const yes[] = {"on", "true", "yes", "1"};
	static const char *const no[] = {"off", "false", "no", "0"};

	for (unsigned i = 0; i < 4; i++) {
		if (!strcasecmp(v, yes[i]))
			return 1;
		if (!strcasecmp(v, no[i]))
			return 0;
	}
	return -1;
}

/* Every setting goes through here, from a flag or from the config file,
 * so both accept exactly the same values with the same messages.  label
 * is how the caller names the setting ("--threads" or "threads"). */
static int set_option(struct config *cfg, int code, const char *value,
		      const char *label, char *err, size_t errlen)
{
	uint64_t v;

#define BAD(...) do { snprintf(err, errlen, __VA_ARGS__); return -1; } while (0)
	switch (code) {
	case OPT_LISTEN:
	case OPT_BACKEND:
	case OPT_ADMIN:
	case OPT_METRICS: {
		struct hostport *hp = code == OPT_LISTEN ? &cfg->listen :
				      code == OPT_BACKEND ? &cfg->backend :
				      code == OPT_ADMIN ? &cfg->admin : &cfg->metrics;
		if (code == OPT_BACKEND) {
			if (cli_parse_hostport(value, hp))
				BAD("%s: expected HOST:PORT, [IPv6]:PORT or "
				    "unix:/PATH, got '%s'", label, value);
			break;
		}
		/* Listeners are TCP: each worker binds the port with
		 * SO_REUSEPORT, which Unix sockets lack. */
		if (!strncmp(value, "unix:", 5))
			BAD("%s: a Unix socket is for backends only; expected "
			    "HOST:PORT or [IPv6]:PORT, got '%s'", label, value);
		if (cli_parse_hostport(value, hp))
			BAD("%s: expected HOST:PORT or [IPv6]:PORT, got '%s'",
			    label, value);
		break;
	}
	case OPT_THREADS:
		if (parse_size(value, CLI_MAX_CPUS, &v) || v == 0)
			BAD("%s: expected 1..%d, got '%s'", label, CLI_MAX_CPUS,
			    value);
		cfg->threads = (unsigned)v;
		break;
	case OPT_CPUS: {
		char why[80];
		int n = cli_parse_cpulist(value, cfg->cpus, CLI_MAX_CPUS, why,
					  sizeof(why));
		if (n <= 0)
			BAD("%s: %s in '%s' (expected a list like 0-3,6)",
			    label, why, value);
		cfg->ncpus = (unsigned)n;
		break;
	}
	case OPT_PIN:
		if (!strcmp(value, "on"))
			cfg->no_pin = false;
		else if (!strcmp(value, "off"))
			cfg->no_pin = true;
		else
			BAD("%s: expected on or off, got '%s'", label, value);
		break;
	case OPT_LOG_QUERIES:
		if (!*value)
			BAD("%s: empty file name", label);
		cfg->log_queries = value;
		break;
	case OPT_LOG_QUERIES_MODE:
		if (!strcmp(value, "all"))
			cfg->log_marked_only = false;
		else if (!strcmp(value, "rules"))
			cfg->log_marked_only = true;
		else
			BAD("%s: expected all or rules, got '%s'", label, value);
		break;
	case OPT_DENY:
		if (cfg->ndeny == CLI_MAX_DENY)
			BAD("%s: more than %d rules", label, CLI_MAX_DENY);
		if (!*value)
			BAD("%s: empty regular expression", label);
		cfg->deny[cfg->ndeny++] = value;
		break;
	case OPT_REWRITE:
		if (cfg->nrewrite == CLI_MAX_DENY)
			BAD("%s: more than %d rules", label, CLI_MAX_DENY);
		if (cli_parse_rewrite(value, NULL, NULL, NULL, NULL))
			BAD("%s: expected /REGEX/REPLACEMENT/ with one delimiter "
			    "character, got '%s'", label, value);
		cfg->rewrite[cfg->nrewrite++] = value;
		break;
	case OPT_LOG_LEVEL:
		if (!strcmp(value, "error"))
			cfg->log_level = LOG_ERROR;
		else if (!strcmp(value, "warn"))
			cfg->log_level = LOG_WARN;
		else if (!strcmp(value, "info"))
			cfg->log_level = LOG_INFO;
		else if (!strcmp(value, "debug"))
			cfg->log_level = LOG_DEBUG;
		else
			BAD("%s: expected error, warn, info or debug, got '%s'",
			    label, value);
		break;
	case OPT_MAX_PACKET:
		/* 1 GiB is the protocol's max_allowed_packet ceiling. */
		if (parse_size(value, 1u << 30, &v) || v < 1024)
			BAD("%s: expected 1K..1G bytes, got '%s'", label, value);
		cfg->max_packet = (uint32_t)v;
		break;
	case OPT_CONNECT_TIMEOUT:
	case OPT_DRAIN_TIMEOUT:
		if (parse_size(value, 3600000, &v) || v == 0)
			BAD("%s: expected 1..3600000 milliseconds, got '%s'",
			    label, value);
		*(code == OPT_CONNECT_TIMEOUT ? &cfg->connect_timeout_ms :
		  &cfg->drain_timeout_ms) = (uint32_t)v;
		break;
	case OPT_BUFFERS:
		if (parse_size(value, 32768, &v) || v < 16 || (v & (v - 1)))
			BAD("%s: expected a power of two in 16..32768, got '%s'",
			    label, value);
		cfg->buffers = (uint32_t)v;
		break;
	case OPT_BUFFER_SIZE:
		if (parse_size(value, 1u << 20, &v) || v < 1024)
			BAD("%s: expected 1K..1M bytes, got '%s'", label, value);
		cfg->buffer_size = (uint32_t)v;
		break;
	case OPT_SPLICE_MIN:
		if (parse_size(value, 1u << 30, &v) || (v && v < (64u << 10)))
			BAD("%s: expected 0 (off) or 64K..1G bytes, got '%s'",
			    label, value);
		cfg->splice_min = (uint32_t)v;
		break;
	case OPT_MAX_CONNS:
		if (parse_size(value, 1u << 20, &v) || v == 0)
			BAD("%s: expected 1..1048576, got '%s'", label, value);
		cfg->max_conns = (uint32_t)v;
		break;
	case OPT_DIGESTS:
		if (!strcmp(value, "on"))
			cfg->digests = 1;
		else if (!strcmp(value, "off"))
			cfg->digests = 0;
		else if (!strcmp(value, "auto"))
			cfg->digests = -1;
		else
			BAD("%s: expected on, off or auto, got '%s'", label, value);
		break;
	case OPT_DIGEST_MAX:
		if (parse_size(value, 1u << 20, &v) || v < 16)
			BAD("%s: expected 16..1048576 entries, got '%s'", label,
			    value);
		cfg->digest_max = (uint32_t)v;
		break;
	case OPT_AUTH:
		if (!strcmp(value, "passthrough"))
			cfg->auth = AUTH_PASSTHROUGH;
		else if (!strcmp(value, "proxy"))
			cfg->auth = AUTH_PROXY;
		else
			BAD("%s: expected passthrough or proxy, got '%s'", label,
			    value);
		break;
	case OPT_PRIMARY:
		if (cli_parse_hostport(value, &cfg->primary))
			BAD("%s: expected HOST:PORT, [IPv6]:PORT or unix:/PATH, got '%s'",
			    label, value);
		break;
	case OPT_REPLICA:
		if (cfg->nreplicas == CLI_MAX_REPLICAS)
			BAD("%s: at most %d replicas", label, CLI_MAX_REPLICAS);
		if (cli_parse_hostport(value, &cfg->replicas[cfg->nreplicas]))
			BAD("%s: expected HOST:PORT, [IPv6]:PORT or unix:/PATH, got '%s'",
			    label, value);
		cfg->nreplicas++;
		break;
	case OPT_MAX_LAG: {
		char *end;
		double secs;

		errno = 0;
		secs = strtod(value, &end);
		if (!isdigit((unsigned char)*value) || *end || errno ||
		    secs > 86400 || secs < 0.001)
			BAD("%s: expected seconds, 0.001..86400, got '%s'", label,
			    value);
		cfg->max_lag_ms = (uint32_t)(secs * 1000 + 0.5);
		break;
	}
	case OPT_CHECK_INTERVAL:
		/* As the file's check-interval: (config.c). */
		if (parse_size(value, 3600000, &v) || v < 100)
			BAD("%s: expected 100..3600000 (ms), got '%s'", label,
			    value);
		cfg->check_interval_ms = (uint32_t)v;
		break;
	case OPT_USER:
		if (cli_add_user(cfg, value, err, errlen)) {
			char why[200];
			snprintf(why, sizeof(why), "%s", err);
			BAD("%s: %s", label, why);
		}
		break;
	case OPT_POOL:
		if (!strcmp(value, "session"))
			cfg->pool_mode = POOL_SESSION;
		else if (!strcmp(value, "transaction"))
			cfg->pool_mode = POOL_TRANSACTION;
		else if (!strcmp(value, "statement"))
			cfg->pool_mode = POOL_STATEMENT;
		else
			BAD("%s: expected session, transaction or statement, "
			    "got '%s'", label, value);
		break;
	case OPT_POOL_SIZE:
		if (parse_size(value, 100000, &v) || v == 0)
			BAD("%s: expected 1..100000 connections, got '%s'", label,
			    value);
		cfg->pool_size = (uint32_t)v;
		break;
	case OPT_POOL_MIN_IDLE:
		if (parse_size(value, 100000, &v))
			BAD("%s: expected 0..100000 connections, got '%s'", label,
			    value);
		cfg->pool_min_idle = (uint32_t)v;
		break;
	case OPT_POOL_WAIT:
	case OPT_POOL_IDLE_TIMEOUT:
	case OPT_POOL_MAX_AGE:
		if (parse_size(value, 86400000, &v) ||
		    (v == 0 && code == OPT_POOL_WAIT))
			BAD("%s: expected %s..86400000 milliseconds, got '%s'",
			    label, code == OPT_POOL_WAIT ? "1" : "0", value);
		*(code == OPT_POOL_WAIT ? &cfg->pool_wait_ms :
		  code == OPT_POOL_IDLE_TIMEOUT ? &cfg->pool_idle_timeout_ms :
		  &cfg->pool_max_age_ms) = (uint32_t)v;
		break;
	case OPT_XA_RECOVERY_INTERVAL:
	case OPT_XA_GRACE:
		if (parse_size(value, 86400000, &v) || v == 0)
			BAD("%s: expected 1..86400000 milliseconds, got '%s'",
			    label, value);
		*(code == OPT_XA_GRACE ? &cfg->xa_grace_ms :
		  &cfg->xa_recovery_interval_ms) = (uint32_t)v;
		break;
	case OPT_MONITOR_USER:
		if (!*value || strlen(value) > AUTH_NAME_MAX)
			BAD("%s: expected 1..%d bytes", label, AUTH_NAME_MAX);
		cfg->monitor_user = value;
		break;
	case OPT_MONITOR_PASSWORD:
		/* The value is not quoted back: it is a password. */
		if (strlen(value) > AUTH_PASSWORD_MAX)
			BAD("%s: longer than %d bytes", label, AUTH_PASSWORD_MAX);
		cfg->monitor_password = value;
		break;
	case OPT_TLS_CERT:
	case OPT_TLS_KEY:
	case OPT_TLS_CA:
	case OPT_BACKEND_TLS_CA:
	case OPT_BACKEND_TLS_CERT:
	case OPT_BACKEND_TLS_KEY:
		if (!*value)
			BAD("%s: empty file name", label);
		*(code == OPT_TLS_CERT ? &cfg->tls_cert :
		  code == OPT_TLS_KEY ? &cfg->tls_key :
		  code == OPT_TLS_CA ? &cfg->tls_ca :
		  code == OPT_BACKEND_TLS_CA ? &cfg->backend_tls_ca :
		  code == OPT_BACKEND_TLS_CERT ? &cfg->backend_tls_cert :
		  &cfg->backend_tls_key) = value;
		break;
	case OPT_TLS_CLIENT_CERT:
		if (!strcmp(value, "optional"))
			cfg->tls_client_cert_required = false;
		else if (!strcmp(value, "required"))
			cfg->tls_client_cert_required = true;
		else
			BAD("%s: expected optional or required, got '%s'", label,
			    value);
		break;
	case OPT_REQUIRE_TLS:
	case OPT_COMPRESSION:
	case OPT_BACKEND_COMPRESSION: {
		/* A bare --require-tls means on. */
		int b = parse_bool(value ? value : "on");
		if (b < 0)
			BAD("%s: expected on or off, got '%s'", label, value);
		*(code == OPT_REQUIRE_TLS ? &cfg->require_tls :
		  code == OPT_COMPRESSION ? &cfg->compression :
		  &cfg->backend_compression) = b;
		break;
	}
	case OPT_TLS_MIN_VERSION:
		if (!strcasecmp(value, "TLSv1.2") || !strcmp(value, "1.2"))
			cfg->tls_min_version = 0x0303;
		else if (!strcasecmp(value, "TLSv1.3") || !strcmp(value, "1.3"))
			cfg->tls_min_version = 0x0304;
		else
			BAD("%s: expected TLSv1.2 or TLSv1.3, got '%s'", label,
			    value);
		break;
	case OPT_TLS_CIPHERS:
		if (!*value)
			BAD("%s: empty cipher list", label);
		cfg->tls_ciphers = value;
		break;
	case OPT_BACKEND_TLS: {
		enum backend_tls mode;
		if (btls_mode_parse(value, &mode))
			BAD("%s: expected off, preferred, required, verify-ca or "
			    "verify-identity, got '%s'", label, value);
		cfg->backend_tls = mode;
		break;
	}
	case OPT_COMPRESSION_LEVEL:
		if (parse_size(value, 9, &v) || v == 0)
			BAD("%s: expected 1..9, got '%s'", label, value);
		cfg->compression_level = (int)v;
		break;
	default:
		BAD("%s: not a setting", label);
	}
#undef BAD
	return 0;
}

int cli_add_user(struct config *cfg, const char *spec, char *err,
		 size_t errlen)
{
	const char *colon = strchr(spec, ':');
	struct auth_user *u, *grown;
	size_t nlen;
	char name[AUTH_NAME_MAX + 1];

	/* The value is not quoted back: it may be a password. */
	if (!colon || colon == spec) {
		snprintf(err, errlen, "expected NAME:PASSWORD (%s)",
			 colon ? "the name is empty" : "no ':' in the value");
		return -1;
	}
	nlen = (size_t)(colon - spec);
	if (nlen > AUTH_NAME_MAX) {
		snprintf(err, errlen, "user name longer than %d bytes",
			 AUTH_NAME_MAX);
		return -1;
	}
	memcpy(name, spec, nlen);
	name[nlen] = '\0';
	for (unsigned i = 0; i < cfg->nusers; i++)
		if (!strcmp(cfg->users[i].name, name)) {
			snprintf(err, errlen, i < cfg->nusers_file ?
				 "user '%s' is also in the config file; define "
				 "each user once" : "user '%s' given twice",
				 name);
			return -1;
		}
	if (cfg->nusers == CLI_MAX_USERS) {
		snprintf(err, errlen, "more than %d users", CLI_MAX_USERS);
		return -1;
	}
	grown = realloc(cfg->users, (cfg->nusers + 1) * sizeof(*grown));
	if (!grown) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	cfg->users = grown;
	u = &cfg->users[cfg->nusers];
	/* Kept as the verifiers a server would store (and the password, for
	 * logging in to the backend as this user). */
	if (auth_user_init(u, name, AUTH_NATIVE) ||
	    auth_user_set_password(u, colon + 1, strlen(colon + 1))) {
		snprintf(err, errlen, "password longer than %d bytes",
			 AUTH_PASSWORD_MAX);
		return -1;
	}
	cfg->nusers++;
	return 0;
}

int cli_set_option(struct config *cfg, const char *name, const char *value,
		   char *err, size_t errlen)
{
	int code = opt_code(name);

	if (code < 0 || code >= OPT_CONFIG) {
		snprintf(err, errlen, "unknown setting '%s'", name);
		return -2;
	}
	return set_option(cfg, code, value, name, err, errlen);
}

enum cli_result cli_parse(int argc, char **argv, struct config *cfg,
			  char *out, size_t outlen, char *err, size_t errlen)
{
	const char *config_path = NULL;
	bool check = false;
	int c;

	cli_defaults(cfg);
	out[0] = err[0] = '\0';
	/* Pass 1 finds --config and the flags that exit early; the file is
	 * loaded before pass 2 so that flags override it. */
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		switch (c) {
		case OPT_CONFIG:
		case OPT_CHECK_CONFIG:
			if (config_path && strcmp(config_path, optarg)) {
				snprintf(err, errlen,
					 "--%s: only one config file may be given",
					 c == OPT_CONFIG ? "config" : "check-config");
				return CLI_EXIT_USAGE;
			}
			config_path = optarg;
			check |= c == OPT_CHECK_CONFIG;
			break;
		case 'V':
		case OPT_VERSION:
			version_text(out, outlen);
			return CLI_EXIT_OK;
		case 'h':
		case OPT_HELP:
			snprintf(out, outlen, "%s", usage_text);
			return CLI_EXIT_OK;
		case ':':
			snprintf(err, errlen, "%s: missing value",
				 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		case '?':
			snprintf(err, errlen, "unknown flag '%s'",
				 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			break;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (config_path) {
		cfg->config_path = config_path;
		if (config_load(config_path, cfg, err, errlen))
			return CLI_EXIT_CONFIG;
	}
	optind = 1;
	while ((c = getopt_long(argc, argv, ":hV", long_opts, NULL)) != -1) {
		char label[40];

		if (c == OPT_CONFIG || c == OPT_CHECK_CONFIG)
			continue;
		for (const struct option *o = long_opts; o->name; o++)
			if (o->val == c)
				snprintf(label, sizeof(label), "--%s", o->name);
		if (set_option(cfg, c, optarg, label, err, errlen))
			return CLI_EXIT_USAGE;
	}
	/* A file meant to be completed by flags is checked with them. */
	if (!cfg->listen.host[0] || (!cfg->backend.host[0] &&
				     !cfg->primary.host[0] && !cfg->ngroups)) {
		snprintf(err, errlen, "--%s is required%s",
			 cfg->listen.host[0] ? "backend" : "listen",
			 config_path ? " (as a flag or in the config file)" : "");
		return CLI_EXIT_USAGE;
	}
	if (cli_check_backends(cfg, err, errlen))
		return CLI_EXIT_USAGE;
	return check ? CLI_CHECK_CONFIG : CLI_RUN;
}
