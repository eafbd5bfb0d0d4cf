/*
 * xa_fault.c - the test hook of xa_fault.h: MYRING_XA_FAULT, read once.
 */
#include "xa_fault.h"

#include "log.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#define XA_FAULT_PAUSE_DEFAULT_MS 3000

static enum xa_fault_point fault_point;
static unsigned fault_ms;
static pthread_once_t fault_once = PTHREAD_ONCE_INIT;

static void fault_init(void)
{
	static const char *const names[] = {
		[XA_FAULT_AFTER_PREPARE] = "after-prepare",
		[XA_FAULT_AFTER_RECORD] = "after-record",
		[XA_FAULT_AFTER_DECISION] = "after-decision",
	};
	const char *v = getenv("MYRING_XA_FAULT");
	const char *colon = v ? strchr(v, ':') : NULL;

	if (!v || !*v)
		return;
	for (unsigned i = XA_FAULT_AFTER_PREPARE; colon &&
	     i <= XA_FAULT_AFTER_DECISION; i++)
		if ((size_t)(colon - v) == strlen(names[i]) &&
		    !strncmp(v, names[i], (size_t)(colon - v)) &&
		    !strncmp(colon + 1, "pause", 5)) {
			fault_point = (enum xa_fault_point)i;
			fault_ms = colon[6] == '=' ?
				   (unsigned)strtoul(colon + 7, NULL, 10) :
				   XA_FAULT_PAUSE_DEFAULT_MS;
		}
	if (fault_point == XA_FAULT_NONE)
		LOGW("MYRING_XA_FAULT=%s: not POINT:pause[=MS] with POINT "
		     "after-prepare, after-record or after-decision; ignored", v);
	else
		LOGW("MYRING_XA_FAULT=%s: a test hook; every distributed "
		     "commit pauses %u ms there", v, fault_ms);
}

unsigned xa_fault_pause_ms(enum xa_fault_point point)
{
	pthread_once(&fault_once, fault_init);
	return point != XA_FAULT_NONE && point == fault_point ? fault_ms : 0;
}
