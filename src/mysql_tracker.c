#include "mysql_tracker.h"

#include "mysql_proto.h"

enum {
	ST_FIRST,          /* first packet of a result (or of the response) */
	ST_COLDEFS,        /* column definitions, `left` to go */
	ST_COLDEF_EOF,     /* the EOF after the definitions (!DEPRECATE_EOF) */
	ST_ROWS,           /* rows until a terminator */
	ST_AFTER_INFILE,   /* the OK/ERR after a LOCAL INFILE stream */
	ST_PREP_PARAMS,    /* PREPARE: parameter definitions */
	ST_PREP_PARAMS_EOF,
	ST_PREP_COLS,      /* PREPARE: column definitions */
	ST_PREP_COLS_EOF,
	ST_DONE,
};

enum mysql_resp_kind mysql_response_kind(uint8_t cmd)
{
	switch (cmd) {
	case COM_QUIT:
	case COM_STMT_CLOSE:
	case COM_STMT_SEND_LONG_DATA:
		return RESP_NONE;
	case COM_QUERY:
	case COM_STMT_EXECUTE:
	case COM_PROCESS_INFO:
	case COM_STMT_BULK_EXECUTE:
		return RESP_RESULT;
	case COM_STMT_PREPARE:
		return RESP_PREPARE;
	case COM_STMT_FETCH:
		return RESP_FETCH;
	case COM_FIELD_LIST:
		return RESP_FIELD_LIST;
	case COM_CHANGE_USER:
		return RESP_AUTH;
	case COM_BINLOG_DUMP:
	case COM_BINLOG_DUMP_GTID:
		return RESP_STREAM;
	default:
		return RESP_SINGLE;
	}
}

void mysql_tracker_start(struct mysql_tracker *t, enum mysql_resp_kind kind,
			 bool deprecate_eof)
{
	*t = (struct mysql_tracker){
		.kind = (uint8_t)kind,
		.deprecate_eof = deprecate_eof,
	};
	switch (kind) {
	case RESP_FETCH:
		t->state = ST_ROWS;
		break;
	case RESP_FIELD_LIST:
		/* Definitions until a terminator: ROWS with each "row" a
		 * definition would count them as rows; use COLDEFS unbounded. */
		t->state = ST_COLDEFS;
		t->left = UINT32_MAX;
		break;
	default:
		t->state = ST_FIRST;
		break;
	}
}

static enum mysql_track_result ended(struct mysql_tracker *t)
{
	t->state = ST_DONE;
	return TRACK_DONE;
}

static enum mysql_track_result on_err(struct mysql_tracker *t,
				      const struct mysql_frame *f)
{
	t->err_code = f->peek_len >= 3 ? mysql_get_u16(f->peek + 1) : 0xFFFF;
	return ended(t);
}

/* OK packet (0x00, or 0xFE as a terminator with DEPRECATE_EOF). */
static int take_ok(struct mysql_tracker *t, const struct mysql_frame *f)
{
	struct mysql_ok ok;

	if (mysql_parse_ok(f->peek, f->peek_len, &ok))
		return -1;
	t->affected_rows += ok.affected_rows;
	t->last_insert_id = ok.last_insert_id;
	t->status = ok.status;
	return 0;
}

/* A result-set terminator: EOF, or OK-with-0xFE under DEPRECATE_EOF. */
static enum mysql_track_result terminator(struct mysql_tracker *t,
					  const struct mysql_frame *f)
{
	if (t->deprecate_eof) {
		struct mysql_ok ok;
		if (mysql_parse_ok(f->peek, f->peek_len, &ok))
			return TRACK_BAD;
		t->status = ok.status;
	} else {
		uint16_t status, warnings;
		if (mysql_parse_eof(f->peek, f->peek_len, &status, &warnings))
			return TRACK_BAD;
		t->status = status;
	}
	if (t->kind == RESP_RESULT && (t->status & SERVER_MORE_RESULTS_EXISTS)) {
		t->state = ST_FIRST;
		return TRACK_MORE;
	}
	return ended(t);
}

static enum mysql_track_result after_definitions(struct mysql_tracker *t)
{
	if (t->deprecate_eof) {
		t->state = ST_ROWS;
	} else {
		t->state = ST_COLDEF_EOF;
	}
	return TRACK_MORE;
}

static enum mysql_track_result first_packet(struct mysql_tracker *t,
					    const struct mysql_frame *f)
{
	uint8_t b = f->peek[0];
	uint64_t ncols;

	if (b == 0xFF)
		return on_err(t, f);
	if (b == 0x00 && f->len < MYSQL_MAX_PAYLOAD) {
		if (take_ok(t, f))
			return TRACK_BAD;
		if (t->status & SERVER_MORE_RESULTS_EXISTS)
			return TRACK_MORE;
		return ended(t);
	}
	if (b == 0xFB) {
		t->state = ST_AFTER_INFILE;
		return TRACK_LOCAL_INFILE;
	}
	if (mysql_get_lenenc(f->peek, f->peek_len, &ncols) < 0 || ncols == 0 ||
	    ncols > 0xFFFF * 64)
		return TRACK_BAD;
	t->result_sets++;
	t->state = ST_COLDEFS;
	t->left = (uint32_t)ncols;
	return TRACK_MORE;
}

static enum mysql_track_result prepare_ok(struct mysql_tracker *t,
					  const struct mysql_frame *f)
{
	uint16_t ncols, nparams;

	if (f->peek[0] == 0xFF)
		return on_err(t, f);
	if (f->peek[0] != 0x00 || f->peek_len < 9)
		return TRACK_BAD;
	t->stmt_id = mysql_get_u32(f->peek + 1);
	ncols = mysql_get_u16(f->peek + 5);
	nparams = mysql_get_u16(f->peek + 7);
	t->prep_columns = ncols;
	if (nparams) {
		t->state = ST_PREP_PARAMS;
		t->left = nparams;
		return TRACK_MORE;
	}
	if (ncols) {
		t->state = ST_PREP_COLS;
		t->left = ncols;
		return TRACK_MORE;
	}
	return ended(t);
}

/* The parameter block of a PREPARE response is over. */
static enum mysql_track_result prep_params_done(struct mysql_tracker *t)
{
	if (t->prep_columns) {
		t->state = ST_PREP_COLS;
		t->left = t->prep_columns;
		return TRACK_MORE;
	}
	return ended(t);
}

static bool is_eof(const struct mysql_frame *f)
{
	return f->peek_len && f->peek[0] == 0xFE && f->len < 9;
}

enum mysql_track_result mysql_tracker_feed(struct mysql_tracker *t,
					   const struct mysql_frame *f)
{
	if (f->continuation)
		return TRACK_MORE;
	if (t->state == ST_DONE)
		return TRACK_BAD;
	if (f->peek_len == 0) {
		/* No row, definition, OK, ERR or EOF is empty (a text row holds
		 * at least one length byte per column); only COM_STATISTICS may
		 * answer an empty string. */
		if (t->kind == RESP_SINGLE)
			return ended(t);
		return TRACK_BAD;
	}

	switch (t->kind) {
	case RESP_SINGLE:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (f->peek[0] == 0x00)
			take_ok(t, f); /* COM_STATISTICS text is not an OK */
		return ended(t);
	case RESP_AUTH:
		switch (f->peek[0]) {
		case 0x00:
			take_ok(t, f);
			return ended(t);
		case 0xFF:
			return on_err(t, f);
		default: /* 0xFE auth switch, 0x01 more data */
			return TRACK_MORE;
		}
	case RESP_NONE:
	case RESP_STREAM:
		return TRACK_BAD;
	default:
		break;
	}

	switch (t->state) {
	case ST_FIRST:
		if (t->kind == RESP_PREPARE)
			return prepare_ok(t, f);
		return first_packet(t, f);
	case ST_COLDEFS:
		if (t->kind == RESP_FIELD_LIST) {
			if (f->peek[0] == 0xFF)
				return on_err(t, f);
			if (mysql_is_terminator(f->peek[0], f->len, t->deprecate_eof))
				return ended(t);
			return TRACK_MORE;
		}
		if (f->peek[0] == 0xFF && t->left)
			return on_err(t, f);
		if (--t->left)
			return TRACK_MORE;
		return after_definitions(t);
	case ST_COLDEF_EOF:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (!is_eof(f))
			return TRACK_BAD;
		{
			uint16_t status = 0, warnings;
			mysql_parse_eof(f->peek, f->peek_len, &status, &warnings);
			t->status = status;
			/* COM_STMT_EXECUTE opening a cursor: no rows follow. */
			if (status & SERVER_STATUS_CURSOR_EXISTS)
				return ended(t);
		}
		t->state = ST_ROWS;
		return TRACK_MORE;
	case ST_ROWS:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (mysql_is_terminator(f->peek[0], f->len, t->deprecate_eof))
			return terminator(t, f);
		t->rows++;
		return TRACK_MORE;
	case ST_AFTER_INFILE:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (f->peek[0] != 0x00 || take_ok(t, f))
			return TRACK_BAD;
		if (t->status & SERVER_MORE_RESULTS_EXISTS) {
			t->state = ST_FIRST;
			return TRACK_MORE;
		}
		return ended(t);
	case ST_PREP_PARAMS:
		if (--t->left)
			return TRACK_MORE;
		if (!t->deprecate_eof) {
			t->state = ST_PREP_PARAMS_EOF;
			return TRACK_MORE;
		}
		return prep_params_done(t);
	case ST_PREP_PARAMS_EOF:
		if (!is_eof(f))
			return TRACK_BAD;
		return prep_params_done(t);
	case ST_PREP_COLS:
		if (--t->left)
			return TRACK_MORE;
		if (!t->deprecate_eof) {
			t->state = ST_PREP_COLS_EOF;
			return TRACK_MORE;
		}
		return ended(t);
	case ST_PREP_COLS_EOF:
		if (!is_eof(f))
			return TRACK_BAD;
		return ended(t);
	default:
		return TRACK_BAD;
	}
}
