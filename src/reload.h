/*
 * reload.h - SIGHUP and the admin RELOAD CONFIG: re-read the flags and
 * the config file, and apply what can change without a restart (rules,
 * --deny/--rewrite, query logging, log level).  Settings that shape the
 * workers (listen, backend, threads, buffers, admin ...) keep their start
 * values and a warning says so.  A bad file changes nothing.
 *
 * Reloads are serialised by one mutex, taken only here and by readers of
 * the config and rule set in force (the control thread); never by a
 * worker.
 */
#ifndef MYRING_RELOAD_H
#define MYRING_RELOAD_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct proxy;

/* px: whose groups a reload changes (groups_reload). */
void reload_init(int argc, char **argv, const struct config *start,
		 struct proxy *px);
/* Returns 0 with a summary in msg, or -1 with the reason. */
int reload_run(char *msg, size_t msglen);
/* True once every worker uses the newest rule set (old ones are freed). */
bool reload_settled(void);
/* Runs fn with the config in force, under the reload lock. */
void reload_with_config(void (*fn)(const struct config *cfg, void *arg),
			void *arg);
void reload_lock(void);
void reload_unlock(void);
uint64_t reload_count(void);
uint64_t reload_failures(void);
void reload_shutdown(void);

#endif
