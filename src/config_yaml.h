/*
 * config_yaml.h - what the parts of the config loader that live in files
 * of their own (config_keyspace.c) walk the YAML document with.  The
 * loader itself is config.c's; these are its helpers, with the same
 * messages ("FILE:LINE: ...") and the same rules (scalars without NULs,
 * unique keys, spelling suggestions for unknown words).
 */
#ifndef MYRING_CONFIG_YAML_H
#define MYRING_CONFIG_YAML_H

#include "cli.h"

#include <stdbool.h>
#include <stddef.h>
#include <yaml.h>

struct loader;

/* The config being filled (a scratch copy: see config.c). */
struct config *cy_config(struct loader *ld);
yaml_node_t *cy_node(struct loader *ld, int id);
unsigned cy_line(const yaml_node_t *n);
/* "a sequence", "a mapping", "a scalar" */
const char *cy_kind(const yaml_node_t *n);
/* "FILE:LINE: message"; always returns -1. */
int cy_fail(struct loader *ld, const yaml_node_t *at, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "PREFIX: unknown WHAT 'WORD' (did you mean '...'?)"; -1. */
int cy_unknown(struct loader *ld, const yaml_node_t *at, const char *prefix,
	       const char *what, const char *word, const char *const *cands,
	       size_t n);
/* YAML's null written plain (`key:`, `~`, `null`). */
bool cy_is_null(const yaml_node_t *n);
/* A scalar's text; what names it in messages.  0 or -1. */
int cy_scalar(struct loader *ld, const char *what, const yaml_node_t *n,
	      const char **out);
/* The key of pair is a scalar and not repeated in map.  0 or -1. */
int cy_check_key(struct loader *ld, yaml_node_t *map, yaml_node_pair_t *pair);
size_t cy_seq_len(const yaml_node_t *n);

#endif
