/*
 * pins.h - why a pooled session keeps its backend connection between
 * transactions: state the server holds that myring cannot carry over to
 * another connection.  Each reason is a bit of session.pins; they are
 * counted (every time a session gains one) and gauged (sessions holding
 * one now) by reason in stats.pins and /metrics.
 */
#ifndef MYRING_PINS_H
#define MYRING_PINS_H

enum pin_reason {
	PIN_STATE = 0x1,         /* a session change myring cannot replay */
	PIN_PREPARED = 0x2,      /* prepared statements the server ids of
	                          * which stay (no MariaDB, or too many) */
	PIN_TRANSACTION = 0x4,   /* statement mode: a transaction; XA */
	PIN_CURSOR = 0x8,        /* a statement executed with a cursor */
	PIN_LONG_DATA = 0x10,    /* COM_STMT_SEND_LONG_DATA */
	PIN_USER_VARIABLE = 0x20, /* a user variable whose value myring
	                          * cannot know */
	PIN_TEMPORARY_TABLE = 0x40,
	PIN_NAMED_LOCK = 0x80,   /* GET_LOCK() */
	PIN_TABLE_LOCK = 0x100,  /* LOCK TABLES, FLUSH ... WITH READ LOCK,
	                          * BACKUP LOCK / STAGE */
	PIN_HANDLER = 0x200,     /* HANDLER t OPEN */
	PIN_SQL_PREPARE = 0x400, /* PREPARE s FROM ... */
	PIN_FOUND_ROWS = 0x800,  /* SQL_CALC_FOUND_ROWS, for FOUND_ROWS() */
	PIN_LAST_INSERT_ID = 0x1000, /* LAST_INSERT_ID(expr) */
	PIN_SEQUENCE = 0x2000,   /* NEXTVAL(), for LASTVAL() */
};

#define PIN_NREASONS 14

/* "state", "prepared", ...: the reason of bit 1 << i. */
static inline const char *pin_reason_name(unsigned i)
{
	static const char *const names[PIN_NREASONS] = {
		"state", "prepared", "transaction", "cursor", "long_data",
		"user_variable", "temporary_table", "named_lock", "table_lock",
		"handler", "sql_prepare", "found_rows", "last_insert_id",
		"sequence",
	};
	return i < PIN_NREASONS ? names[i] : "unknown";
}

#endif
