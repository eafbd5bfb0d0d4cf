/*
 * intercept.h - the built-in interception hook: query rules and digest
 * statistics, and the calls the control plane makes into it.
 *
 * The rule set in force is one atomic pointer.  A reload publishes a new
 * set; each worker adopts it on its next tick (building its own match
 * data) and records which set it uses, so the old set is freed only when
 * no worker can still be reading it.  Nothing is locked per query.
 */
#ifndef MYRING_INTERCEPT_H
#define MYRING_INTERCEPT_H

#include "digest_stats.h"
#include "rules.h"

#include <stdbool.h>

struct config;

/* Registers the hook when rules, digests or a config file call for it.
 * Takes ownership of rs (may be NULL: no rules yet). */
int intercept_register(struct ruleset *rs, bool digests, uint32_t digest_max,
		       bool always, unsigned nworkers, char *err,
		       size_t errlen);
bool intercept_active(void);
bool intercept_digests(void);
unsigned intercept_workers(void);

/* Publishes rs; returns the set it replaces (free it once
 * intercept_retired() says so). */
struct ruleset *intercept_publish(struct ruleset *rs);
/* True once no worker uses old any more. */
bool intercept_retired(const struct ruleset *old);
/* The set in force (for reading names and hit counters). */
const struct ruleset *intercept_current(void);

/* On worker `worker`'s own thread (control requests). */
int intercept_snapshot(unsigned worker, struct dstat_rows *out,
		       uint64_t *live, uint64_t *evictions);
void intercept_reset(unsigned worker);
/* From any thread: worker's digest entries and evictions so far. */
void intercept_digest_counts(unsigned worker, uint64_t *live,
			     uint64_t *evictions);
void intercept_digest_totals(uint64_t *live, uint64_t *evictions);
void intercept_shutdown(void);


#endif
