/*
 * config_users.c - what an entry of the config file's `users:` means (see
 * config_users.h and docs/config.md, "Users").
 */
#include "config_users.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const user_keys[UK__COUNT] = {
	[UK_NAME] = "name", [UK_PLUGIN] = "plugin",
	[UK_PASSWORD] = "password", [UK_STORED] = "stored",
	[UK_BACKEND_USER] = "backend-user",
	[UK_BACKEND_PASSWORD] = "backend-password",
};

/* The plugins by the names a user writes: the server's (CREATE USER ...
 * IDENTIFIED VIA ed25519) and the client's wire name (client_ed25519). */
static int parse_plugin(const char *s, enum auth_plugin *out)
{
	enum auth_plugin p = auth_plugin_from_name(s, strlen(s));

	if (p == AUTH_PLUGIN_UNKNOWN)
		return -1;
	*out = p;
	return 0;
}

/* A plugin by the name `plugin:` takes. */
static const char *plugin_word(enum auth_plugin p)
{
	return p == AUTH_ED25519 ? "ed25519" : auth_plugin_name(p);
}

/* What the stored text of each plugin looks like, for messages. */
static const char *stored_form(enum auth_plugin p)
{
	switch (p) {
	case AUTH_ED25519:
		return "the 43-character base64 public key MariaDB stores";
	case AUTH_CACHING_SHA2:
		return "'$A$' and 67 more characters, or 0x and 140 hex digits "
		       "as SHOW CREATE USER prints it";
	default:
		return "'*' and 40 hex digits, as PASSWORD('...') gives it";
	}
}

/* Whether len is a length the plugin's stored text can have. */
static bool stored_len_fits(enum auth_plugin p, size_t len)
{
	switch (p) {
	case AUTH_ED25519:
		return len == AUTH_ED25519_KEY_LEN ||
		       len == AUTH_ED25519_KEY_LEN + 1;
	case AUTH_CACHING_SHA2:
		return len == 70 || len == 142;
	default:
		return len == AUTH_NATIVE_HASH_LEN;
	}
}

/*
 * Stored text that another plugin would take is most likely that plugin's
 * (the entry forgot `plugin:`, or copied the wrong account's row): says
 * which, or NULL.
 */
static const char *stored_other_plugin(const char *s, enum auth_plugin mine)
{
	static const enum auth_plugin all[] = {
		AUTH_NATIVE, AUTH_ED25519, AUTH_CACHING_SHA2,
	};
	const char *found = NULL;
	struct auth_user *probe = malloc(sizeof(*probe));

	if (!probe)
		return NULL;
	for (size_t i = 0; i < sizeof(all) / sizeof(all[0]) && !found; i++) {
		if (all[i] == mine || auth_user_init(probe, "", all[i]))
			continue;
		if (!auth_user_set_stored(probe, s, strlen(s)))
			found = plugin_word(all[i]);
	}
	explicit_bzero(probe, sizeof(*probe));
	free(probe);
	return found;
}

#define WHY(k, ...) do {                                                       \
	*bad = (k);                                                            \
	snprintf(why, whylen, __VA_ARGS__);                                    \
	return -1;                                                             \
} while (0)

/* Everything about an entry that needs no verifier yet. */
static int check_entry(const struct user_entry *e, enum auth_plugin *plugin,
		       enum user_key *bad, char *why, size_t whylen)
{
	const char *const *v = e->val;

	if (!v[UK_NAME])
		WHY(UK__COUNT, "name: required (the user name clients log in "
		    "with)");
	if (!v[UK_NAME][0] || strlen(v[UK_NAME]) > AUTH_NAME_MAX)
		WHY(UK_NAME, "name: expected 1..%d bytes, got %zu",
		    AUTH_NAME_MAX, strlen(v[UK_NAME]));
	*plugin = AUTH_NATIVE;
	if (v[UK_PLUGIN] && parse_plugin(v[UK_PLUGIN], plugin))
		WHY(UK_PLUGIN, "plugin: expected mysql_native_password, ed25519 "
		    "or caching_sha2_password, got '%s'", v[UK_PLUGIN]);
	if (v[UK_PASSWORD] && v[UK_STORED])
		WHY(UK_STORED, "give password (the plaintext) or stored (the "
		    "server's hash), not both");
	if (!v[UK_PASSWORD] && !v[UK_STORED])
		WHY(UK__COUNT, "needs password (the plaintext) or stored (what "
		    "the server stores: SELECT authentication_string FROM "
		    "mysql.user)");
	if (v[UK_PASSWORD] && strlen(v[UK_PASSWORD]) > AUTH_PASSWORD_MAX)
		WHY(UK_PASSWORD, "password: longer than %d bytes",
		    AUTH_PASSWORD_MAX);
	if (v[UK_BACKEND_USER] && (!v[UK_BACKEND_USER][0] ||
				   strlen(v[UK_BACKEND_USER]) > AUTH_NAME_MAX))
		WHY(UK_BACKEND_USER, "backend-user: expected 1..%d bytes, got "
		    "%zu", AUTH_NAME_MAX, strlen(v[UK_BACKEND_USER]));
	/* A backend account without its password is almost always a
	 * password forgotten; one that has none says so with "". */
	if (v[UK_BACKEND_USER] && !v[UK_BACKEND_PASSWORD])
		WHY(UK_BACKEND_USER, "backend-user: requires backend-password "
		    "(the password of '%s' on the server; \"\" if it has none)",
		    v[UK_BACKEND_USER]);
	if (v[UK_BACKEND_PASSWORD] &&
	    strlen(v[UK_BACKEND_PASSWORD]) > AUTH_PASSWORD_MAX)
		WHY(UK_BACKEND_PASSWORD, "backend-password: longer than %d bytes",
		    AUTH_PASSWORD_MAX);
	return 0;
}

/*
 * myring logs in to the server as the user with what the client's login
 * reveals of the password (mysql_auth.h).  An ed25519 login reveals
 * nothing: with only the public key, no backend connection could ever be
 * opened for this user, and every client would wait for one in vain.
 */
static int check_backend_login(const struct auth_user *u,
			       enum user_key *bad, char *why, size_t whylen)
{
	if (u->plugin == AUTH_ED25519 && !(u->have & AUTH_USER_PLAIN) &&
	    !u->backend_explicit)
		WHY(UK_STORED, "stored: with plugin ed25519 myring cannot log "
		    "in to the server as '%s' (an ed25519 login does not reveal "
		    "the password): add backend-password: with its password on "
		    "the server, or give password: instead of stored:",
		    u->name);
	return 0;
}

int config_user_add(struct config *cfg, const struct user_entry *e,
		    enum user_key *bad, char *why, size_t whylen)
{
	const char *const *v = e->val;
	enum auth_plugin plugin;
	struct auth_user *u, *grown;
	const char *pw;

	if (check_entry(e, &plugin, bad, why, whylen))
		return -1;
	if (cfg->nusers >= CLI_MAX_USERS)
		WHY(UK_NAME, "more than %d users", CLI_MAX_USERS);
	grown = realloc(cfg->users, (cfg->nusers + 1) * sizeof(*grown));
	if (!grown)
		WHY(UK_NAME, "out of memory");
	cfg->users = grown;
	u = &cfg->users[cfg->nusers];
	auth_user_init(u, v[UK_NAME], plugin);
	/* An empty stored text is an account without a password: known to
	 * be empty, which is also what myring's backend login sends. */
	pw = v[UK_PASSWORD] ? v[UK_PASSWORD] :
	     !v[UK_STORED][0] ? "" : NULL;
	if (pw) {
		if (auth_user_set_password(u, pw, strlen(pw))) {
			explicit_bzero(u, sizeof(*u));
			WHY(UK_PASSWORD, "password: cannot derive the %s key",
			    plugin_word(plugin));
		}
	} else if (auth_user_set_stored(u, v[UK_STORED],
					strlen(v[UK_STORED]))) {
		const char *other = stored_other_plugin(v[UK_STORED], plugin);
		size_t len = strlen(v[UK_STORED]);

		explicit_bzero(u, sizeof(*u));
		if (other)
			WHY(UK_STORED, "stored: not what %s stores, but it "
			    "has the form of what %s stores (set plugin: %s, "
			    "if that is the account's plugin on the server)",
			    plugin_word(plugin), other, other);
		WHY(UK_STORED, "stored: for %s, expected %s; got %zu "
		    "characters%s", plugin_word(plugin), stored_form(plugin), len,
		    stored_len_fits(plugin, len) ? " that are not one" :
		    " (a plaintext password goes in password:)");
	}
	if (v[UK_BACKEND_PASSWORD] &&
	    auth_user_set_backend(u, v[UK_BACKEND_USER], v[UK_BACKEND_PASSWORD],
				  strlen(v[UK_BACKEND_PASSWORD]))) {
		explicit_bzero(u, sizeof(*u));
		WHY(UK_BACKEND_PASSWORD, "backend-password: too long");
	}
	if (check_backend_login(u, bad, why, whylen)) {
		explicit_bzero(u, sizeof(*u));
		return -1;
	}
	cfg->nusers++;
	return 0;
}

#undef WHY

int config_user_find(const struct config *cfg, const char *name)
{
	for (unsigned i = 0; i < cfg->nusers; i++)
		if (!strcmp(cfg->users[i].name, name))
			return (int)i;
	return -1;
}

int config_users_own(struct config *cfg)
{
	struct auth_user *copy;

	if (!cfg->users)
		return 0;
	copy = malloc(cfg->nusers * sizeof(*copy));
	if (!copy) {
		cfg->users = NULL;
		cfg->nusers = cfg->nusers_file = 0;
		return -1;
	}
	memcpy(copy, cfg->users, cfg->nusers * sizeof(*copy));
	cfg->users = copy;
	return 0;
}

void config_users_drop(struct auth_user *users, unsigned n)
{
	if (!users)
		return;
	explicit_bzero(users, n * sizeof(*users));
	free(users);
}

/* Every user is made by auth_user_init(), which clears the whole struct
 * (padding and unused bytes too), and filled by deterministic functions
 * of the config's text, so equal configs give equal bytes. */
bool config_users_equal(const struct config *a, const struct config *b)
{
	return a->nusers == b->nusers &&
	       (!a->nusers ||
		!memcmp(a->users, b->users, a->nusers * sizeof(*a->users)));
}
