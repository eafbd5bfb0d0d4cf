/*
 * libFuzzer target for sql_replace_call() (sql_rewrite.c), under every
 * escape mode and character set: it reads nothing outside its input
 * (ASan), writes no more than it is given room for, returns the same
 * length whatever the room, counts a replacement for each difference it
 * makes, and with nothing to replace gives the input back unchanged.
 * Built by tests/fuzz/build.sh with ASan and UBSan; any failure aborts.
 */
#include "sql_rewrite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void fail(const char *what, const uint8_t *sql, size_t len)
{
	fprintf(stderr, "fuzz_rewrite: %s\n  input: [%.*s]\n", what,
		(int)(len > 400 ? 400 : len), (const char *)sql);
	abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const uint8_t escapes[] = {SQL_ESC_ALL, SQL_ESC_SINGLE,
					  SQL_ESC_NONE};
	static const uint8_t charsets[] = {SQL_CS_BYTE, SQL_CS_GBK, SQL_CS_BIG5,
					   SQL_CS_SJIS};
	const char *sql = (const char *)data;

	for (size_t e = 0; e < sizeof(escapes); e++)
		for (size_t c = 0; c < sizeof(charsets); c++) {
			struct sql_reading rd = {escapes[e], charsets[c],
						 SQL_SERVER_MARIADB, 101106};
			unsigned n1, n2;
			size_t need = sql_replace_call(sql, size, &rd,
						       "CONNECTION_ID", "4242",
						       NULL, 0, &n1);
			char *out = malloc(need + 1), *small = malloc(8);
			size_t got;

			if (!out || !small)
				abort();
			got = sql_replace_call(sql, size, &rd, "CONNECTION_ID",
					       "4242", out, need, &n2);
			if (got != need || n1 != n2)
				fail("length or count depends on the room", data,
				     size);
			if (!n1 && (need != size || memcmp(out, sql, size)))
				fail("changed without replacing", data, size);
			if (n1 && need == size && !memcmp(out, sql, size))
				fail("replaced without changing", data, size);
			memset(small, 0x5a, 8);
			if (sql_replace_call(sql, size, &rd, "CONNECTION_ID",
					     "4242", small, 4, &n2) != need ||
			    small[4] != 0x5a)
				fail("wrote past its room", data, size);
			free(out);
			free(small);
		}
	return 0;
}
