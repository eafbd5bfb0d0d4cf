/*
 * sql_arena.h - the memory and text types of the SQL front end (the bump
 * allocator every parse allocates from, borrowed strings, growable output
 * text), apart from the syntax tree so that code which only holds a plan
 * (shard_plan.h) need not see the tree's names.
 */
#ifndef MYRING_SQL_ARENA_H
#define MYRING_SQL_ARENA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- memory ---------------------------------------------------------- */

/*
 * A bump allocator.  Blocks are chained; sql_arena_reset() frees all but
 * one, grown to what the last use needed, so that a parser reused for
 * statements of a similar size allocates one block and then nothing.
 * Memory handed out is zeroed and 8-byte aligned.  `limit` bounds the
 * bytes one use may take (0: SQL_ARENA_DEFAULT_LIMIT).
 */
#define SQL_ARENA_DEFAULT_LIMIT (64u << 20)

struct sql_arena_block;

struct sql_arena {
	struct sql_arena_block *head;   /* the block being filled */
	char *cur, *end;                /* its free space */
	size_t used;                    /* bytes taken since the reset */
	size_t limit;
	size_t keep;                    /* size of the block a reset keeps */
};

void sql_arena_init(struct sql_arena *a, size_t limit);
void sql_arena_reset(struct sql_arena *a);
void sql_arena_free(struct sql_arena *a);
/* NULL when out of memory or over the limit. */
void *sql_arena_alloc(struct sql_arena *a, size_t n);
/* A copy of [s, s + n) in the arena (not NUL-terminated), or NULL. */
const char *sql_arena_dup(struct sql_arena *a, const char *s, size_t n);

/* ---- text ------------------------------------------------------------ */

struct sql_str {
	const char *ptr;
	size_t len;
};

/* Growable output text (printer, dump).  Appends; failure is sticky: check
 * oom once at the end.  free(buf) when done, or sql_buf_free(). */
struct sql_buf {
	char *buf;
	size_t len, cap;
	bool oom;
};

void sql_buf_put(struct sql_buf *b, const void *s, size_t n);
void sql_buf_puts(struct sql_buf *b, const char *s);
void sql_buf_putc(struct sql_buf *b, char c);
void sql_buf_free(struct sql_buf *b);

#endif
