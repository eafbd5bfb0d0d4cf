/*
 * admin_tables.h - the tables the admin port serves, built in memory for
 * one statement: stats.* (counters, workers, rules, digests),
 * information_schema.* (SCHEMATA, TABLES, COLUMNS, PROCESSLIST) and the
 * results of the SHOW statements.  admin_engine.h then filters, sorts
 * and projects them.
 */
#ifndef MYRING_ADMIN_TABLES_H
#define MYRING_ADMIN_TABLES_H

#include "admin_engine.h"
#include "ctl.h"
#include "digest_stats.h"
#include "strbuf.h"
#include "worker.h"

/* A table being built.  Cells are filled row by row; text goes to one
 * buffer and the pointers are fixed up once it stops moving. */
struct table {
	const char *name;          /* for table.column in queries */
	const char *const *names;
	const enum admin_col_type *types;
	unsigned ncols;
	struct admin_value *cells;
	size_t nrows, cap_rows;
	size_t *text_off;          /* per cell: offset in text, or SIZE_MAX */
	struct strbuf text;
	bool oom;
	/* column names made for this table (Tables_in_<db>) */
	const char *own_names[2];
	char own_name[80];
};

void tb_init(struct table *t, const char *name, const char *const *names,
	     const enum admin_col_type *types, unsigned ncols);
size_t tb_row(struct table *t);            /* SIZE_MAX when out of memory */
void tb_u64(struct table *t, size_t row, unsigned col, uint64_t v);
void tb_i64(struct table *t, size_t row, unsigned col, int64_t v);
void tb_null(struct table *t, size_t row, unsigned col);
void tb_text(struct table *t, size_t row, unsigned col, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The engine's view; t must not change after. */
void tb_finish(struct table *t, struct admin_table *out);
void tb_free(struct table *t);

/* The databases: "stats" and "information_schema", matched caselessly;
 * NULL if name is neither. */
const char *catalog_db(const char *name);

/* Every table the admin port serves, for SHOW TABLES, DESCRIBE and
 * information_schema. */
struct catalog_entry {
	const char *db, *name;
	const char *const *cols;
	const enum admin_col_type *types;
	unsigned ncols;
	const char *comment;
};
unsigned catalog_count(void);
const struct catalog_entry *catalog_at(unsigned i);
const struct catalog_entry *catalog_find(const char *db, const char *name);

/* stats.* */
void stats_table(const struct proxy *px, uint64_t start_s, struct table *t);
void workers_table(const struct proxy *px, struct table *t);
void rules_table(struct table *t);
void digests_table(struct dstat_rows *rows, struct table *t);
/* admin_pool_tables.c: backend connections, from the workers' copies
 * (res[n], ctl.h) or their counters. */
void backends_table(const struct proxy *px, const struct ctl_result *res,
		    unsigned n, struct table *t);
void pools_table(const struct ctl_result *res, unsigned n, struct table *t);
void pins_table(const struct proxy *px, struct table *t);
void sessions_table(const struct ctl_result *res, unsigned n,
		    uint64_t id_base, struct table *t);
/* admin_shard_tables.c: the keyspace (shard_map.h) myring started with;
 * no rows without one. */
void shards_table(const struct proxy *px, struct table *t);
void shard_tables_table(const struct proxy *px, struct table *t);
/* stats.transactions: in-doubt transactions over shards (xa_recover.c). */
void transactions_table(const struct proxy *px, struct table *t);
/* The admin port's XA COMMIT | ROLLBACK 'gtrid': OK or ERR into out. */
struct pkt_buf;
void xa_resolve_stmt(const char *gtrid, bool commit, struct pkt_buf *out);
/* "stats.backends, stats.digests, ...": every table, for messages. */
void catalog_list(char *out, size_t cap);

/* SHOW results */
void config_table(struct table *t);
void variables_table(const struct admin_ctx *ctx, struct table *t);
void databases_table(struct table *t);
void show_tables_table(const char *db, bool full, struct table *t);
void table_status_table(const char *db, struct table *t);
void show_columns_table(const struct catalog_entry *ce, bool full,
			struct table *t);
void index_table(struct table *t);
void create_table_table(const struct catalog_entry *ce, struct table *t);
void warnings_table(struct table *t);
void charset_table(struct table *t);
void collation_table(struct table *t);
void engines_table(struct table *t);

/* information_schema.* */
void schemata_table(struct table *t);
void is_tables_table(struct table *t);
void is_columns_table(struct table *t);

/* SHOW PROCESSLIST (upper: information_schema.PROCESSLIST's names);
 * time < 0 is NULL, and so are NULL strings. */
void processlist_init(struct table *t, bool upper);
void processlist_row(struct table *t, uint64_t id, const char *user,
		     const char *host, const char *db, const char *command,
		     int64_t time, const char *state, const char *info);

#endif
