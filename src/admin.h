/*
 * admin.h - one admin-port connection: myring as a MySQL server.  The
 * handshake (mysql_native_password against the admin credentials) and
 * the statements of admin_sql.h, answered from the workers' counters,
 * the merged digest tables, the rule set, the config in force and the
 * sessions of every worker.
 */
#ifndef MYRING_ADMIN_H
#define MYRING_ADMIN_H

#include "ctl.h"
#include "mysql_srv.h"

/* The largest command the admin port reads (@@max_allowed_packet). */
#define ADMIN_MAX_PACKET (1u << 20)

/* What a statement waits for: a worker request (digest snapshot, reset,
 * the live sessions and pools) or a reload to settle. */
enum admin_wait { AW_NONE, AW_SNAPSHOT, AW_RESET, AW_RELOAD, AW_LIVE };

struct admin_conn;

struct admin_conn *admin_open(const struct proxy *px, uint32_t id,
			      const char *peer, uint64_t start_s,
			      struct pkt_buf *out);
/* One whole packet (header included).  Returns 0 to go on, -1 to close
 * once out is sent.  *wait asks the control thread for something first;
 * admin_resume then finishes the reply. */
int admin_packet(struct admin_conn *a, const uint8_t *pkt, size_t len,
		 struct pkt_buf *out, enum admin_wait *wait);
void admin_resume(struct admin_conn *a, struct ctl_result *res, unsigned n,
		  const char *msg, int rc, struct pkt_buf *out);
void admin_free(struct admin_conn *a);

#endif
