/*
 * backend_tls.h - which TLS settings each server is reached with.
 *
 * --backend-tls and its files are the default; a server of a group may
 * name its own mode, CA, certificate and key (config.md).  What a server
 * ends up with, its own keys over the global ones, is its "settings";
 * every distinct settings gets a slot number, for the life of the
 * process, so that a number a worker read from a server always means
 * the same mode and files:
 *
 *   server spec + global flags --btls_effective--> settings
 *   settings --btls_slot--> slot (found, or appended)
 *   tls.c: one client SSL_CTX per slot in each generation of contexts
 *   struct backend_server: tls_slot (a reload may change it)
 *
 * Slots are appended by the thread that starts or reloads myring and
 * never change once written, so workers and the admin port read them
 * without a lock.  Pure: no I/O (tls.c reads the files).
 */
#ifndef MYRING_BACKEND_TLS_H
#define MYRING_BACKEND_TLS_H

#include "cli.h"

#include <stddef.h>

/* Distinct settings over the process's life (reloads included). */
#define BTLS_SLOTS_MAX 512

struct btls_settings {
	uint8_t mode;              /* enum backend_tls */
	const char *ca;            /* NULL: none (always NULL when off) */
	const char *cert;
	const char *key;           /* NULL: the key is in cert's file */
};

/* "off", "preferred", ... for enum backend_tls; "?" out of range. */
const char *btls_mode_name(unsigned mode);
/* A mode by name (any case): 0, or -1 if no such mode. */
int btls_mode_parse(const char *s, enum backend_tls *out);

/* What server ss is reached with (ss NULL: a server named by --backend,
 * --primary or --replica, which has the global settings). */
void btls_effective(const struct config *cfg, const struct server_spec *ss,
		    struct btls_settings *out);
/* The checks that need no file: a verify mode without a CA, files given
 * for a server (or globally) that nothing uses.  0, or -1 with err naming
 * the server or flag. */
int btls_check(const struct config *cfg, char *err, size_t errlen);

/* The slot of s, appended if new: its number, or -1 when all
 * BTLS_SLOTS_MAX are taken (or out of memory). */
int btls_slot(const struct btls_settings *s);
/* The settings of slot (NULL if there is no such slot). */
const struct btls_settings *btls_slot_settings(unsigned slot);
/* Slots there are now. */
unsigned btls_nslots(void);
/* Forgets every slot (tests; nothing may use them any more). */
void btls_slots_reset(void);

/* "group 'NAME': server HOST:PORT", for messages about server i of gs. */
void btls_server_label(const struct group_spec *gs, unsigned i, char *out,
		       size_t outlen);

#endif
