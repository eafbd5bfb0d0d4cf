/*
 * Routing hints (sql_hint.c) on any bytes: nothing read outside the
 * text, only known flags, and the same answer for the same text however
 * the buffer around it looks.
 */
#include "sql_hint.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* An exact-size copy: ASan sees any read past the end. */
	char *copy = malloc(size ? size : 1);
	unsigned a, b;

	if (!copy)
		return 0;
	memcpy(copy, data, size);
	a = sql_hints(copy, size);
	b = sql_hints((const char *)data, size);
	if (a != b || (a & ~(unsigned)(SQL_HINT_PRIMARY | SQL_HINT_CAUSAL |
				      SQL_HINT_NO_CAUSAL)))
		abort();
	free(copy);
	return 0;
}
