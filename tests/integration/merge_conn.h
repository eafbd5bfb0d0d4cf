/*
 * Connector/C for test_merge.c, which compiles myring's merge modules in:
 * their headers define COM_* and CLIENT_* as mysql.h does, so the two
 * cannot meet in one file (as state_conn.h for test_state.c).
 */
#ifndef MYRING_TEST_MERGE_CONN_H
#define MYRING_TEST_MERGE_CONN_H

#include <stdint.h>

/* A result column's definition as the server sent it. */
struct mc_field {
	unsigned type;
	unsigned long length;
	unsigned decimals;
	unsigned flags;
	unsigned charset;
};

/* Logs in to MariaDB directly (myring/myring-pw, myring_test); asserts. */
void *mc_connect(void);
void mc_close(void *mysql);
/* Runs sql, which must succeed; results are read and freed. */
void mc_query(void *mysql, const char *sql);
/* The first column's definition of sql's result; asserts. */
struct mc_field mc_first_field(void *mysql, const char *sql);

#endif
