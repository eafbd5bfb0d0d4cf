/*
 * mysql_rows.c - a small reader of text result sets (see mysql_rows.h).
 */
#include "mysql_rows.h"

#include "mysql_proto.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

enum { RR_START, RR_COLUMNS, RR_COLUMNS_EOF, RR_ROWS, RR_DONE, RR_ERR };

void rows_init(struct rows_reader *r, bool deprecate_eof)
{
	r->deprecate_eof = deprecate_eof;
	r->state = RR_START;
	r->ncols = r->ncols_seen = 0;
	r->status = 0;
	r->err_code = 0;
	r->err_state[0] = '\0';
	r->err_msg[0] = '\0';
}

static enum rows_event error_packet(struct rows_reader *r, const uint8_t *p,
				    size_t len)
{
	struct mysql_err e;

	if (mysql_parse_err(p, len, &e))
		return ROWS_BAD;
	r->err_code = e.code;
	memcpy(r->err_state, e.sqlstate, sizeof(r->err_state));
	snprintf(r->err_msg, sizeof(r->err_msg), "%.*s", (int)e.message.len,
		 e.message.ptr);
	r->state = RR_ERR;
	return ROWS_ERR;
}

/* The end of a result (or of an OK response): another may follow. */
static enum rows_event end_of_result(struct rows_reader *r, uint16_t status)
{
	r->status = status;
	if (status & SERVER_MORE_RESULTS_EXISTS) {
		r->state = RR_START;
		return ROWS_MORE;
	}
	r->state = RR_DONE;
	return ROWS_DONE;
}

/* Column definition (protocol 4.1): catalog, schema, table, org_table,
 * name, org_name as length-encoded strings, then fixed fields we skip. */
static int column_name(const uint8_t *p, size_t len, char *out, size_t cap)
{
	struct mysql_str s;
	size_t pos = 0;

	for (int i = 0; i < 5; i++)
		if (mysql_get_lenenc_str(p, len, &pos, &s))
			return -1;
	snprintf(out, cap, "%.*s", (int)s.len, s.ptr);
	return 0;
}

static enum rows_event row(struct rows_reader *r, const uint8_t *p, size_t len,
			   struct rows_cell *cells)
{
	size_t pos = 0;

	for (unsigned i = 0; i < r->ncols; i++) {
		struct mysql_str s;

		if (pos < len && p[pos] == 0xFB) {
			cells[i] = (struct rows_cell){.ptr = "", .null = true};
			pos++;
			continue;
		}
		if (mysql_get_lenenc_str(p, len, &pos, &s))
			return ROWS_BAD;
		cells[i] = (struct rows_cell){.ptr = s.ptr, .len = s.len};
	}
	return pos == len ? ROWS_ROW : ROWS_BAD;
}

enum rows_event rows_feed(struct rows_reader *r, const uint8_t *p, size_t len,
			  struct rows_cell *cells)
{
	uint16_t status, warnings;
	struct mysql_ok ok;
	uint64_t n;

	if (len == 0)
		return ROWS_BAD;
	switch (r->state) {
	case RR_START:
		if (p[0] == 0xFF)
			return error_packet(r, p, len);
		if (p[0] == 0x00) {
			if (mysql_parse_ok(p, len, &ok))
				return ROWS_BAD;
			return end_of_result(r, ok.status);
		}
		/* 0xFB: LOCAL INFILE, which none of our queries asks for. */
		if (mysql_get_lenenc(p, len, &n) != (int)len || n == 0 ||
		    n > ROWS_MAX_COLS)
			return ROWS_BAD;
		r->ncols = (unsigned)n;
		r->ncols_seen = 0;
		r->state = RR_COLUMNS;
		return ROWS_MORE;
	case RR_COLUMNS:
		if (column_name(p, len, r->names[r->ncols_seen], ROWS_NAME_MAX))
			return ROWS_BAD;
		if (++r->ncols_seen == r->ncols)
			r->state = r->deprecate_eof ? RR_ROWS : RR_COLUMNS_EOF;
		return ROWS_MORE;
	case RR_COLUMNS_EOF:
		if (mysql_parse_eof(p, len, &status, &warnings))
			return ROWS_BAD;
		r->state = RR_ROWS;
		return ROWS_MORE;
	case RR_ROWS:
		if (p[0] == 0xFF)
			return error_packet(r, p, len);
		if (mysql_is_terminator(p[0], (uint32_t)len, r->deprecate_eof)) {
			if (r->deprecate_eof) {
				if (mysql_parse_ok(p, len, &ok))
					return ROWS_BAD;
				return end_of_result(r, ok.status);
			}
			if (mysql_parse_eof(p, len, &status, &warnings))
				return ROWS_BAD;
			return end_of_result(r, status);
		}
		return row(r, p, len, cells);
	default:
		/* Nothing may follow the end of the response. */
		return ROWS_BAD;
	}
}

int rows_column(const struct rows_reader *r, const char *name)
{
	for (unsigned i = 0; i < r->ncols; i++)
		if (!strcasecmp(r->names[i], name))
			return (int)i;
	return -1;
}

bool rows_cell_is(const struct rows_cell *c, const char *s)
{
	return !c->null && strlen(s) == c->len && !strncasecmp(c->ptr, s, c->len);
}

int rows_cell_u64(const struct rows_cell *c, uint64_t *v)
{
	uint64_t x = 0;

	if (c->null || c->len == 0 || c->len > 20)
		return -1;
	for (size_t i = 0; i < c->len; i++) {
		unsigned d = (unsigned)(c->ptr[i] - '0');
		if (d > 9 || x > (UINT64_MAX - d) / 10)
			return -1;
		x = x * 10 + d;
	}
	*v = x;
	return 0;
}
