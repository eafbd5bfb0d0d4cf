/* strbuf.h - a growable text buffer for the control plane (metrics, admin
 * values).  Allocation failure is sticky: check oom once at the end. */
#ifndef MYRING_STRBUF_H
#define MYRING_STRBUF_H

#include <stdbool.h>
#include <stddef.h>

struct strbuf {
	char *data;
	size_t len, cap;
	bool oom;
};

void sb_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void sb_free(struct strbuf *sb);

#endif
