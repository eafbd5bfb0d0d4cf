/*
 * config_users.h - the users myring authenticates itself (auth: proxy), as
 * the config file's `users:` list gives them (docs/config.md, "Users").
 *
 * config.c walks the YAML and hands each entry over as text; this file
 * decides what the entry means: the plugin myring demands, the verifiers
 * from a plaintext or from the text the server stores, and the login
 * myring uses for its own backend connections.  Pure, no I/O, so every
 * refusal is unit-tested through config_load_string().
 *
 * Secrets never outlive their use: a users array is wiped before it is
 * freed (config_users_drop), and so is every copy made on the way.
 */
#ifndef MYRING_CONFIG_USERS_H
#define MYRING_CONFIG_USERS_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>

/* The keys of one entry of `users:`. */
enum user_key {
	UK_NAME, UK_PLUGIN, UK_PASSWORD, UK_STORED, UK_BACKEND_USER,
	UK_BACKEND_PASSWORD, UK__COUNT
};

extern const char *const user_keys[UK__COUNT];

/* One entry as text (NUL-free, NUL-terminated); NULL where a key is not
 * given. */
struct user_entry {
	const char *val[UK__COUNT];
};

/*
 * Appends the user e describes to cfg->users.  The name must not be taken
 * (the caller checks, to say where the first one is).  Returns 0, or -1
 * with why set to the reason and *bad to the key it is about (UK__COUNT:
 * the entry as a whole, e.g. neither password nor stored).  Messages never
 * quote a password or a stored hash.
 */
int config_user_add(struct config *cfg, const struct user_entry *e,
		    enum user_key *bad, char *why, size_t whylen);

/* The index of the user called name in cfg, or -1. */
int config_user_find(const struct config *cfg, const char *name);

/* Gives cfg a users array of its own (a copy of the one it shares with
 * another config), so that changing it leaves the other alone.  0 or -1
 * (out of memory; cfg->users is then NULL). */
int config_users_own(struct config *cfg);

/* Wipes and frees a users array. */
void config_users_drop(struct auth_user *users, unsigned n);

/* Whether two configs have the same users, secrets and backend logins
 * included (for RELOAD CONFIG: users change only with a restart). */
bool config_users_equal(const struct config *a, const struct config *b);

#endif
