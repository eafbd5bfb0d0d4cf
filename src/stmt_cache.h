/*
 * stmt_cache.h - prepared statements across pooled connections.
 *
 * Pure: no I/O.  With pooling a client's prepared statement outlives the
 * backend connection it was prepared on, so myring gives the client ids
 * of its own and maps them, per backend connection, to the server's:
 *
 *   client session                      backend connection
 *   stmt_clients: myring id ->          stmt_cache: key -> server id,
 *     SQL, schema, key, counts,           counts, types sent, LRU
 *     last parameter types
 *
 * The key (stmt_key) is a keyed hash of the SQL text, the schema it was
 * prepared in and whatever else changes how the server parses it (the
 * caller passes sql_mode and the character sets as `ctx`): two sessions
 * preparing the same text in the same context share one server statement.
 * The hash is SipHash-2-4 under a secret the caller draws at start-up, so
 * a client cannot make its statement collide with another's.
 *
 * A backend cache is bounded; when full, putting a statement evicts the
 * least recently used one that is not pinned and reports its server id:
 * the caller sends COM_STMT_CLOSE for it, so the server's
 * max_prepared_stmt_count is never reached by statements nobody uses.
 *
 * The packet helpers read and rewrite statement ids in COM_STMT_* payloads
 * and PREPARE_OK, and add parameter types to a COM_STMT_EXECUTE that was
 * sent without them (new-params-bound flag 0: "use the types of the last
 * execute"), for a server statement that never received this client's
 * types.  Layouts assume CLIENT_QUERY_ATTRIBUTES is off (myring masks it).
 */
#ifndef MYRING_STMT_CACHE_H
#define MYRING_STMT_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* MariaDB: a statement id of 0xFFFFFFFF means the one last prepared on the
 * connection (Connector/C sends PREPARE and EXECUTE back to back so). */
#define STMT_ID_LAST 0xFFFFFFFFu

/* ---- keys -------------------------------------------------------------- */

struct stmt_secret {
	uint64_t k0, k1;
};

uint64_t stmt_hash(const struct stmt_secret *s, const void *data, size_t len);
/* The statement key: SQL text, schema, parse context, each length-framed
 * so that no two different triples hash the same input. */
uint64_t stmt_key(const struct stmt_secret *s, const char *sql, size_t sql_len,
		  const char *schema, size_t schema_len, const void *ctx,
		  size_t ctx_len);

/* ---- a session's statements --------------------------------------------- */

#define STMT_CLIENT_TYPES      0x01 /* types holds the last bound types */
#define STMT_CLIENT_LONG_DATA  0x02 /* SEND_LONG_DATA before the next
                                     * EXECUTE: keep the backend */
#define STMT_CLIENT_READ_ONLY  0x08 /* a read: its EXECUTEs may go to a
                                     * replica (session_route.c) */
#define STMT_CLIENT_CURSOR     0x04 /* a cursor is open: FETCH must reach
                                     * the same server statement */

struct stmt_client {
	uint32_t id;             /* myring's id, given to the client; 0: free */
	uint16_t num_params;
	uint16_t num_columns;
	uint32_t flags;          /* STMT_CLIENT_* */
	uint32_t sql_len;
	uint16_t schema_len;
	uint64_t key;
	uint64_t types_hash;     /* stmt_hash of types, when known */
	char *sql;               /* NUL-terminated, followed by the schema */
	char *schema;            /* NUL-terminated, inside the sql allocation */
	uint8_t *types;          /* 2 * num_params bytes, or NULL */
	/* An execution over several shards met FLOAT columns: the shards'
	 * columns (bit j of float_cols, of float_ncols) and their column
	 * definitions (packets, headers included), which they get back
	 * when the shards send them as doubles (shard_plan_float.c). */
	uint64_t float_cols;
	uint16_t float_ncols;
	uint32_t float_defs_len;
	uint8_t *float_defs;
};

struct stmt_clients {
	struct stmt_client *slots;  /* open addressing by id */
	uint32_t cap;               /* slots, a power of two (or 0) */
	uint32_t count;
	uint32_t max_count;
	uint32_t next_id;
	uint32_t last_id;           /* the one STMT_ID_LAST names, or 0 */
	size_t bytes, max_bytes;    /* heap bytes held, and their limit */
};

void stmt_clients_init(struct stmt_clients *m, uint32_t max_count,
		       size_t max_bytes);
void stmt_clients_free(struct stmt_clients *m);
/* Adds a statement and gives it a new id (never 0 or STMT_ID_LAST, never
 * one in use).  NULL when max_count or max_bytes would be exceeded, or on
 * allocation failure. */
struct stmt_client *stmt_client_add(struct stmt_clients *m, uint64_t key,
				    const char *sql, size_t sql_len,
				    const char *schema, size_t schema_len,
				    uint16_t num_params, uint16_t num_columns);
/* The statement with this id (STMT_ID_LAST: the last added), or NULL.
 * The pointer is valid until the next add or remove. */
struct stmt_client *stmt_client_get(struct stmt_clients *m, uint32_t id);
/* Remembers its FLOAT columns (struct stmt_client): defs, len are
 * copied.  -1 over max_bytes or on allocation failure. */
int stmt_client_set_floats(struct stmt_clients *m, struct stmt_client *s,
			   uint64_t cols, uint16_t ncols, const uint8_t *defs,
			   uint32_t len);
/* Remembers the types of an EXECUTE with new-params-bound 1 (2 bytes per
 * parameter).  -1 over max_bytes or on allocation failure. */
int stmt_client_set_types(struct stmt_clients *m, struct stmt_client *s,
			  const uint8_t *types, const struct stmt_secret *secret);
bool stmt_client_remove(struct stmt_clients *m, uint32_t id);

/* ---- a backend connection's statements ----------------------------------- */

struct stmt_backend {
	uint64_t key;
	uint32_t server_id;
	uint16_t num_params;
	uint16_t num_columns;
	uint16_t pins;           /* > 0: never evicted (cursor, long data) */
	bool types_sent;         /* the server has types for it ... */
	uint64_t types_hash;     /* ... these (stmt_hash) */
	uint32_t prev, next;     /* LRU list; private */
};

struct stmt_cache {
	struct stmt_backend *entries; /* max of them */
	uint32_t *index;         /* open addressing on key: entry + 1, 0 empty */
	uint32_t mask;           /* index slots - 1 */
	uint32_t max, count;
	uint32_t head, tail;     /* most and least recently used */
	uint32_t free_list;
};

/* max_entries >= 1.  -1 on allocation failure. */
int stmt_cache_init(struct stmt_cache *c, uint32_t max_entries);
void stmt_cache_free(struct stmt_cache *c);
/* The entry for key, made the most recently used; NULL if absent. */
struct stmt_backend *stmt_cache_get(struct stmt_cache *c, uint64_t key);
/*
 * Caches key -> server_id.  Returns 0 if nothing had to go; 1 if an entry
 * went and *evicted holds its server id (close it): the least recently
 * used unpinned entry when the cache was full, or the entry key had
 * before.  -1 if the cache is full of pinned entries (nothing changed: do
 * not cache it, close it after use).
 */
int stmt_cache_put(struct stmt_cache *c, uint64_t key, uint32_t server_id,
		   uint16_t num_params, uint16_t num_columns,
		   uint32_t *evicted);
/* Removes key; *server_id gets its id.  False if absent. */
bool stmt_cache_remove(struct stmt_cache *c, uint64_t key,
		       uint32_t *server_id);
/* Evicts the least recently used unpinned entry; false if none. */
bool stmt_cache_evict(struct stmt_cache *c, uint32_t *server_id);
/* Forgets all (COM_RESET_CONNECTION, COM_CHANGE_USER: the server closed
 * them itself). */
void stmt_cache_clear(struct stmt_cache *c);

/* Whether an EXECUTE of s on b without types needs the client's types
 * added: the server statement has none, or another client's. */
static inline bool stmt_needs_types(const struct stmt_client *s,
				    const struct stmt_backend *b)
{
	return s->num_params && (s->flags & STMT_CLIENT_TYPES) &&
	       (!b->types_sent || b->types_hash != s->types_hash);
}

/* ---- packets --------------------------------------------------------------- */

/* The statement id of COM_STMT_EXECUTE, _SEND_LONG_DATA, _CLOSE, _RESET,
 * _FETCH or _BULK_EXECUTE (at offset 1 in each).  -1 for another command
 * or a payload too short for its command. */
int stmt_cmd_get_id(const uint8_t *payload, size_t len, uint32_t *id);
int stmt_cmd_set_id(uint8_t *payload, size_t len, uint32_t id);

/* PREPARE_OK: 0x00, id(4), columns(2), params(2), filler(1), warnings(2). */
struct stmt_prepare_ok {
	uint32_t id;
	uint16_t num_columns;
	uint16_t num_params;
	uint16_t warnings;
};
int stmt_prepare_ok_parse(const uint8_t *payload, size_t len,
			  struct stmt_prepare_ok *ok);
int stmt_prepare_ok_set_id(uint8_t *payload, size_t len, uint32_t id);

/*
 * COM_STMT_EXECUTE:
 *   0x17 id(4) flags(1) iterations(4)
 *   if num_params > 0:
 *     NULL bitmap ((num_params + 7) / 8)  new-params-bound(1)
 *     if new-params-bound: type(1) unsigned-flag(1) per parameter
 *     values (binary protocol; NULL ones absent)
 * num_params comes from the PREPARE_OK: the packet does not say.
 */
struct stmt_execute {
	uint32_t id;
	uint8_t flags;           /* cursor type */
	uint32_t iterations;
	bool new_params_bound;
	size_t null_off;         /* NULL bitmap; 0 without parameters */
	size_t bound_off;        /* the new-params-bound byte; 0 without */
	size_t types_off;        /* the types; 0 unless bound */
	size_t values_off;       /* the values (= len without parameters) */
};
/* -1 if not an EXECUTE, too short for num_params, or new-params-bound is
 * neither 0 nor 1. */
int stmt_execute_parse(const uint8_t *payload, size_t len,
		       uint16_t num_params, struct stmt_execute *ex);
/* Bytes of a binary-protocol value of type t at p (len left), or -1. */
long stmt_param_size(uint8_t t, const uint8_t *p, size_t len);

/* What an EXECUTE binds to parameter i, as a literal would spell it. */
struct stmt_param_value {
	const char *text;        /* into the packet, or into buf */
	size_t len;
	bool is_string;          /* a string type (CHAR, VARCHAR, BLOB) */
};
/*
 * The value of parameter i of ex (parsed from p), with types (2 *
 * num_params bytes: the packet's when bound, else the ones an earlier
 * execution sent).  Integers come out in decimal (written into buf),
 * DOUBLE/FLOAT as %.17g, DECIMAL and strings as sent.  Returns 1 with
 * *out filled, 0 when it is NULL or of another type (dates, bits), -1
 * when the packet is malformed.
 */
int stmt_execute_param(const uint8_t *p, size_t len, uint16_t num_params,
		       const struct stmt_execute *ex, const uint8_t *types,
		       unsigned i, char *buf, size_t cap,
		       struct stmt_param_value *out);

/* Writes into out the EXECUTE payload in with new-params-bound set to 1
 * and types (2 * num_params bytes) inserted before the values.  Returns
 * the new length, len + 2 * num_params, or -1 if in is not an EXECUTE
 * with num_params > 0 and new-params-bound 0, or cap is too small.  in
 * and out must not overlap. */
long stmt_execute_add_types(const uint8_t *in, size_t len,
			    uint16_t num_params, const uint8_t *types,
			    uint8_t *out, size_t cap);

#endif
