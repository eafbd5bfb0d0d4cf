/*
 * config_keyspace.h - the config file's `keyspace:` (docs/config.md,
 * "Keyspace (sharding)"): the shards, each a backend group of `groups:`,
 * and how each table is spread over them.  The map itself and its
 * checks are shard_map.c's; this file reads the YAML into it and says
 * where in the file something is wrong.
 */
#ifndef MYRING_CONFIG_KEYSPACE_H
#define MYRING_CONFIG_KEYSPACE_H

#include "cli.h"

#include <yaml.h>

struct loader;

/* Loads the value v of key k (`keyspace:`) into cy_config(ld)->keyspace,
 * after the rest of the file (its groups) is loaded.  0, or -1 with the
 * loader's message; a keyspace loaded in part stays in the config for
 * its caller to drop. */
int config_keyspace_load(struct loader *ld, yaml_node_t *k, yaml_node_t *v);

/* Frees a keyspace the loader made (NULL is fine). */
void config_keyspace_drop(struct keyspace *ks);

#endif
