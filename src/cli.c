#include "cli.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef MYRING_VERSION
#define MYRING_VERSION "0.0.0"
#endif

static const char usage_text[] =
"Usage: myring --listen HOST:PORT --backend HOST:PORT [options]\n"
"\n"
"A MySQL/MariaDB proxy on io_uring: one pinned worker thread per core.\n"
"\n"
"Required:\n"
"  --listen HOST:PORT       address clients connect to (IPv6: [::1]:6033)\n"
"  --backend HOST:PORT      MySQL/MariaDB server; host names are resolved\n"
"                           once at start-up\n"
"Workers:\n"
"  --threads N              number of worker threads (default: online cores)\n"
"  --cpus LIST              one worker pinned to each listed core, e.g. 0-3,6\n"
"                           (overrides --threads)\n"
"Interception:\n"
"  --log-queries FILE       append one line per command to FILE (see README)\n"
"  --deny REGEX             reject queries matching REGEX (PCRE2) with an\n"
"                           error; repeatable, up to 64\n"
"  --rewrite /REGEX/REPL/   rewrite queries matching REGEX, replacing every\n"
"                           match with REPL ($1.. refer to groups); any\n"
"                           delimiter, given by the first character;\n"
"                           repeatable, first matching rule applies\n"
"Limits and timeouts:\n"
"  --max-packet BYTES       largest client command accepted (default 64M,\n"
"                           suffixes K, M, G); larger gets ERR 1153\n"
"  --connect-timeout MS     backend connect timeout (default 5000)\n"
"  --drain-timeout MS       on SIGTERM/SIGINT, how long in-flight commands\n"
"                           may run before connections are cut (default 10000)\n"
"  --max-conns N            client connections per worker (default 16384)\n"
"Buffers:\n"
"  --buffers N              receive buffers per worker, power of two\n"
"                           (default 1024)\n"
"  --buffer-size BYTES      size of each receive buffer (default 16K)\n"
"Other:\n"
"  --log-level LEVEL        error, warn, info (default) or debug\n"
"  --version                print the version and exit\n"
"  --help                   print this help and exit\n";

const char *cli_usage(void)
{
	return usage_text;
}

int cli_parse_cpulist(const char *s, int *cpus, unsigned max)
{
	unsigned n = 0;
	const char *p = s;

	if (!*p)
		return -1;
	for (;;) {
		char *end;
		long lo, hi;

		if (!isdigit((unsigned char)*p))
			return -1;
		errno = 0;
		lo = strtol(p, &end, 10);
		if (errno || lo < 0 || lo >= CLI_MAX_CPUS)
			return -1;
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -1;
			hi = strtol(p, &end, 10);
			if (errno || hi < lo || hi >= CLI_MAX_CPUS)
				return -1;
			p = end;
		}
		for (long c = lo; c <= hi; c++) {
			for (unsigned i = 0; i < n; i++)
				if (cpus[i] == c)
					return -1;
			if (n == max)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*p == '\0')
			break;
		if (*p != ',')
			return -1;
		p++;
	}
	return (int)n;
}

int cli_parse_hostport(const char *s, struct hostport *hp)
{
	const char *colon, *host = s;
	size_t hlen;

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
	OPT_VERSION, OPT_HELP,
};

static const struct option long_opts[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"backend", required_argument, NULL, OPT_BACKEND},
	{"threads", required_argument, NULL, OPT_THREADS},
	{"cpus", required_argument, NULL, OPT_CPUS},
	{"log-queries", required_argument, NULL, OPT_LOG_QUERIES},
	{"deny", required_argument, NULL, OPT_DENY},
	{"rewrite", required_argument, NULL, OPT_REWRITE},
	{"log-level", required_argument, NULL, OPT_LOG_LEVEL},
	{"max-packet", required_argument, NULL, OPT_MAX_PACKET},
	{"connect-timeout", required_argument, NULL, OPT_CONNECT_TIMEOUT},
	{"drain-timeout", required_argument, NULL, OPT_DRAIN_TIMEOUT},
	{"buffers", required_argument, NULL, OPT_BUFFERS},
	{"buffer-size", required_argument, NULL, OPT_BUFFER_SIZE},
	{"max-conns", required_argument, NULL, OPT_MAX_CONNS},
	{"version", no_argument, NULL, OPT_VERSION},
	{"help", no_argument, NULL, OPT_HELP},
	{NULL, 0, NULL, 0},
};

static const char *opt_name(int code)
{
	for (const struct option *o = long_opts; o->name; o++)
		if (o->val == code)
			return o->name;
	return "?";
}

enum cli_result cli_parse(int argc, char **argv, struct config *cfg,
			  char *out, size_t outlen, char *err, size_t errlen)
{
	bool have_listen = false, have_backend = false;
	int c;

	*cfg = (struct config){
		.log_level = LOG_INFO,
		.max_packet = 64u << 20,
		.connect_timeout_ms = 5000,
		.drain_timeout_ms = 10000,
		.buffers = 1024,
		.buffer_size = 16u << 10,
		.max_conns = 16384,
	};
	out[0] = err[0] = '\0';
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":", long_opts, NULL)) != -1) {
		uint64_t v;

		switch (c) {
		case OPT_LISTEN:
		case OPT_BACKEND:
			if (cli_parse_hostport(optarg, c == OPT_LISTEN ?
					       &cfg->listen : &cfg->backend)) {
				snprintf(err, errlen,
					 "--%s: expected HOST:PORT or [IPv6]:PORT, got '%s'",
					 opt_name(c), optarg);
				return CLI_EXIT_USAGE;
			}
			*(c == OPT_LISTEN ? &have_listen : &have_backend) = true;
			break;
		case OPT_THREADS:
			if (parse_size(optarg, CLI_MAX_CPUS, &v) || v == 0) {
				snprintf(err, errlen,
					 "--threads: expected 1..%d, got '%s'",
					 CLI_MAX_CPUS, optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->threads = (unsigned)v;
			break;
		case OPT_CPUS: {
			int n = cli_parse_cpulist(optarg, cfg->cpus, CLI_MAX_CPUS);
			if (n <= 0) {
				snprintf(err, errlen,
					 "--cpus: expected a list like 0-3,6, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->ncpus = (unsigned)n;
			break;
		}
		case OPT_LOG_QUERIES:
			if (!*optarg) {
				snprintf(err, errlen, "--log-queries: empty file name");
				return CLI_EXIT_USAGE;
			}
			cfg->log_queries = optarg;
			break;
		case OPT_DENY:
			if (cfg->ndeny == CLI_MAX_DENY) {
				snprintf(err, errlen, "--deny: more than %d rules",
					 CLI_MAX_DENY);
				return CLI_EXIT_USAGE;
			}
			if (!*optarg) {
				snprintf(err, errlen, "--deny: empty regular expression");
				return CLI_EXIT_USAGE;
			}
			cfg->deny[cfg->ndeny++] = optarg;
			break;
		case OPT_REWRITE:
			if (cfg->nrewrite == CLI_MAX_DENY) {
				snprintf(err, errlen, "--rewrite: more than %d rules",
					 CLI_MAX_DENY);
				return CLI_EXIT_USAGE;
			}
			if (cli_parse_rewrite(optarg, NULL, NULL, NULL, NULL)) {
				snprintf(err, errlen,
					 "--rewrite: expected /REGEX/REPLACEMENT/ with one "
					 "delimiter character, got '%s'", optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->rewrite[cfg->nrewrite++] = optarg;
			break;
		case OPT_LOG_LEVEL:
			if (!strcmp(optarg, "error"))
				cfg->log_level = LOG_ERROR;
			else if (!strcmp(optarg, "warn"))
				cfg->log_level = LOG_WARN;
			else if (!strcmp(optarg, "info"))
				cfg->log_level = LOG_INFO;
			else if (!strcmp(optarg, "debug"))
				cfg->log_level = LOG_DEBUG;
			else {
				snprintf(err, errlen,
					 "--log-level: expected error, warn, info or debug, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_MAX_PACKET:
			/* 1 GiB is the protocol's max_allowed_packet ceiling. */
			if (parse_size(optarg, 1u << 30, &v) || v < 1024) {
				snprintf(err, errlen,
					 "--max-packet: expected 1K..1G bytes, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->max_packet = (uint32_t)v;
			break;
		case OPT_CONNECT_TIMEOUT:
		case OPT_DRAIN_TIMEOUT:
			if (parse_size(optarg, 3600000, &v) || v == 0) {
				snprintf(err, errlen,
					 "--%s: expected 1..3600000 milliseconds, got '%s'",
					 opt_name(c), optarg);
				return CLI_EXIT_USAGE;
			}
			*(c == OPT_CONNECT_TIMEOUT ? &cfg->connect_timeout_ms :
			  &cfg->drain_timeout_ms) = (uint32_t)v;
			break;
		case OPT_BUFFERS:
			if (parse_size(optarg, 32768, &v) || v < 16 || (v & (v - 1))) {
				snprintf(err, errlen,
					 "--buffers: expected a power of two in 16..32768, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->buffers = (uint32_t)v;
			break;
		case OPT_BUFFER_SIZE:
			if (parse_size(optarg, 1u << 20, &v) || v < 1024) {
				snprintf(err, errlen,
					 "--buffer-size: expected 1K..1M bytes, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->buffer_size = (uint32_t)v;
			break;
		case OPT_MAX_CONNS:
			if (parse_size(optarg, 1u << 20, &v) || v == 0) {
				snprintf(err, errlen,
					 "--max-conns: expected 1..1048576, got '%s'",
					 optarg);
				return CLI_EXIT_USAGE;
			}
			cfg->max_conns = (uint32_t)v;
			break;
		case OPT_VERSION:
			snprintf(out, outlen, "myring %s\n", MYRING_VERSION);
			return CLI_EXIT_OK;
		case OPT_HELP:
			snprintf(out, outlen, "%s", usage_text);
			return CLI_EXIT_OK;
		case ':':
			snprintf(err, errlen, "%s: missing value",
				 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		default:
			snprintf(err, errlen, "unknown flag '%s'",
				 argv[optind - 1]);
			return CLI_EXIT_USAGE;
		}
	}
	if (optind < argc) {
		snprintf(err, errlen, "unexpected argument '%s'", argv[optind]);
		return CLI_EXIT_USAGE;
	}
	if (!have_listen || !have_backend) {
		snprintf(err, errlen, "--%s is required",
			 have_listen ? "backend" : "listen");
		return CLI_EXIT_USAGE;
	}
	return CLI_RUN;
}
