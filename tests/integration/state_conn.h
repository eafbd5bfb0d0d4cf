/*
 * Connector/C for test_state.c.  That file compiles myring's protocol
 * modules in, whose headers define COM_* and CLIENT_* as Connector/C's
 * mysql.h does: the two cannot meet in one file, so the Connector/C side
 * lives here behind plain types.
 */
#ifndef MYRING_TEST_STATE_CONN_H
#define MYRING_TEST_STATE_CONN_H

#include <stdint.h>

struct sc_conn {
	void *mysql;       /* MYSQL * */
	int fd;            /* its socket, for raw commands between its own */
	uint64_t caps;     /* negotiated capabilities */
	uint8_t charset;   /* the handshake's collation id */
};

/* Logs in to MariaDB directly (myring/myring-pw, myring_test,
 * CLIENT_MULTI_STATEMENTS); asserts. */
void sc_connect(struct sc_conn *c);
void sc_close(struct sc_conn *c);
/* The first column of the first row, malloc'd; "(null)" for NULL. */
char *sc_value(struct sc_conn *c, const char *sql);
/* mysql_query()'s result (0: success), results read and freed. */
int sc_query(struct sc_conn *c, const char *sql);
/* SHOW SESSION VARIABLES of both are equal but for what differs between
 * any two connections; asserts. */
void sc_assert_same_session(struct sc_conn *a, struct sc_conn *b);

#endif
