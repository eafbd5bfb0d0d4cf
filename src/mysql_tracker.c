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
	ST_FIELDS,         /* COM_FIELD_LIST: definitions until a terminator */
	ST_DONE,
};

/* MySQL and MariaDB cap a table at 4096 columns; anything far beyond is a
 * stream read out of step, not a column count. */
#define MAX_COLUMNS 65535u

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
		t->state = ST_FIELDS;
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
	/* An ERR too short for its code is not an ERR: out of step. */
	if (f->peek_len < 3)
		return TRACK_BAD;
	t->err_code = mysql_get_u16(f->peek + 1);
	/* Code 0 would read as "no error" in the outcome. */
	if (!t->err_code)
		t->err_code = 0xFFFF;
	return ended(t);
}

/* Every status the response carried is remembered, not only the last:
 * an OK in the middle of a multi-result can say the session changed. */
static void set_status(struct mysql_tracker *t, uint16_t status)
{
	t->status = status;
	t->status_seen |= status;
	t->has_status = true;
}

/* An EOF cannot carry the session-state entries its flag announces.
 * Inside a transaction the flag comes with every result set (the
 * transaction state gained a read), and what the transaction did is
 * reported by the OK that ends it; outside one it means a change nobody
 * will describe. */
static void note_eof_state(struct mysql_tracker *t, uint16_t status)
{
	if ((status & SERVER_SESSION_STATE_CHANGED) &&
	    !(status & SERVER_STATUS_IN_TRANS))
		t->state_in_eof = true;
}

/* OK packet (0x00, or 0xFE as a terminator with DEPRECATE_EOF).  The peek
 * holds the whole fixed part: 1 + 9 + 9 + 2 + 2 < MYSQL_PEEK. */
static int take_ok(struct mysql_tracker *t, const struct mysql_frame *f)
{
	struct mysql_ok ok;

	if (mysql_parse_ok(f->peek, f->peek_len, &ok))
		return -1;
	t->affected_rows += ok.affected_rows;
	t->last_insert_id = ok.last_insert_id;
	if (ok.last_insert_id)
		t->insert_id = ok.last_insert_id;
	set_status(t, ok.status);
	t->ok_state = ok.status & SERVER_SESSION_STATE_CHANGED;
	return 0;
}

/* A short 0xFE where a definition must be: the server ended a block the
 * tracker thinks is longer. */
static bool is_eof(const struct mysql_frame *f)
{
	return f->peek_len && f->peek[0] == 0xFE && f->len < 9;
}

/* A result-set terminator: EOF, or OK-with-0xFE under DEPRECATE_EOF. */
static enum mysql_track_result terminator(struct mysql_tracker *t,
					  const struct mysql_frame *f)
{
	if (t->deprecate_eof) {
		struct mysql_ok ok;
		if (mysql_parse_ok(f->peek, f->peek_len, &ok))
			return TRACK_BAD;
		set_status(t, ok.status);
		t->ok_state = ok.status & SERVER_SESSION_STATE_CHANGED;
	} else {
		uint16_t status, warnings;
		if (mysql_parse_eof(f->peek, f->peek_len, &status, &warnings))
			return TRACK_BAD;
		set_status(t, status);
		note_eof_state(t, status);
	}
	/* Only a COM_QUERY-like response chains results; a FETCH or FIELD_LIST
	 * terminator is final whatever its flags say. */
	if (t->kind == RESP_RESULT && (t->status & SERVER_MORE_RESULTS_EXISTS)) {
		t->state = ST_FIRST;
		return TRACK_MORE;
	}
	return ended(t);
}

static enum mysql_track_result first_packet(struct mysql_tracker *t,
					    const struct mysql_frame *f)
{
	uint8_t b = f->peek[0];
	uint64_t ncols;

	if (b == 0xFF)
		return on_err(t, f);
	if (b == 0x00) {
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
	/* The packet holds the count and nothing else (the layouts that add a
	 * metadata flag after it are masked out of the capabilities). */
	if (mysql_get_lenenc(f->peek, f->peek_len, &ncols) < 0 || ncols == 0 ||
	    ncols > MAX_COLUMNS)
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
	/* [0x00][stmt id 4][columns 2][params 2][filler 1][warnings 2] */
	if (f->peek[0] != 0x00 || f->peek_len < 12)
		return TRACK_BAD;
	t->stmt_id = mysql_get_u32(f->peek + 1);
	ncols = mysql_get_u16(f->peek + 5);
	nparams = mysql_get_u16(f->peek + 7);
	t->prep_columns = ncols;
	t->prep_params = nparams;
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

/* One definition of a block of `left`; returns true when it was the last. */
static bool last_definition(struct mysql_tracker *t)
{
	return --t->left == 0;
}

static enum mysql_track_result feed_auth(struct mysql_tracker *t,
					 const struct mysql_frame *f)
{
	switch (f->peek[0]) {
	case 0x00:
		if (take_ok(t, f))
			return TRACK_BAD;
		return ended(t);
	case 0xFF:
		return on_err(t, f);
	case 0xFE: /* AuthSwitchRequest (or the pre-4.1 old-password switch) */
	case 0x01: /* AuthMoreData: caching_sha2 fast/full, RSA key, ... */
		return TRACK_MORE;
	default:
		return TRACK_BAD;
	}
}

/* One packet of a block of column or parameter definitions: true when it
 * was the block's last; otherwise *r says how the response goes on. */
static bool end_of_definitions(struct mysql_tracker *t,
			       const struct mysql_frame *f,
			       enum mysql_track_result *r)
{
	if (f->peek[0] == 0xFF)
		*r = on_err(t, f);
	else if (is_eof(f))
		*r = TRACK_BAD;
	else if (!last_definition(t))
		*r = TRACK_MORE;
	else
		return true;
	return false;
}

enum mysql_track_result mysql_tracker_feed(struct mysql_tracker *t,
					   const struct mysql_frame *f)
{
	enum mysql_track_result r;

	t->ok_state = false;
	/* The first byte of a continuation is payload, not a packet type. */
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
		if (t->kind == RESP_STREAM)
			return TRACK_MORE;
		return TRACK_BAD;
	}

	switch (t->kind) {
	case RESP_SINGLE:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		/* COM_STATISTICS text is not an OK: a failed parse is fine. */
		if (f->peek[0] == 0x00)
			take_ok(t, f);
		return ended(t);
	case RESP_AUTH:
		return feed_auth(t, f);
	case RESP_STREAM:
		/* A binlog stream has no end the tracker could see; only an
		 * ERR (e.g. the dump was refused) closes it. */
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		return TRACK_MORE;
	case RESP_RESULT:
	case RESP_PREPARE:
	case RESP_FETCH:
	case RESP_FIELD_LIST:
		break;
	default: /* RESP_NONE: the server must stay silent */
		return TRACK_BAD;
	}

	switch (t->state) {
	case ST_FIRST:
		if (t->kind == RESP_PREPARE)
			return prepare_ok(t, f);
		return first_packet(t, f);
	case ST_COLDEFS:
		if (!end_of_definitions(t, f, &r))
			return r;
		/* With DEPRECATE_EOF rows follow at once (a cursor's OK-as-EOF
		 * then ends the response through terminator()). */
		t->state = t->deprecate_eof ? ST_ROWS : ST_COLDEF_EOF;
		return TRACK_MORE;
	case ST_COLDEF_EOF: {
		uint16_t status, warnings;

		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (mysql_parse_eof(f->peek, f->peek_len, &status, &warnings))
			return TRACK_BAD;
		set_status(t, status);
		note_eof_state(t, status);
		/* COM_STMT_EXECUTE that opened a cursor: the rows come with
		 * COM_STMT_FETCH, this response has none. */
		if (status & SERVER_STATUS_CURSOR_EXISTS)
			return ended(t);
		t->state = ST_ROWS;
		return TRACK_MORE;
	}
	case ST_ROWS:
		/* 0xFF is no valid first byte for a text row (lenenc) nor a
		 * binary row (0x00): it is an ERR. */
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
	case ST_PREP_COLS:
		if (!end_of_definitions(t, f, &r))
			return r;
		if (!t->deprecate_eof) {
			t->state = t->state == ST_PREP_PARAMS ? ST_PREP_PARAMS_EOF :
								 ST_PREP_COLS_EOF;
			return TRACK_MORE;
		}
		if (t->state == ST_PREP_PARAMS)
			return prep_params_done(t);
		return ended(t);
	case ST_PREP_PARAMS_EOF:
		if (!is_eof(f))
			return TRACK_BAD;
		return prep_params_done(t);
	case ST_PREP_COLS_EOF:
		if (!is_eof(f))
			return TRACK_BAD;
		return ended(t);
	case ST_FIELDS:
		if (f->peek[0] == 0xFF)
			return on_err(t, f);
		if (mysql_is_terminator(f->peek[0], f->len, t->deprecate_eof))
			return terminator(t, f);
		return TRACK_MORE;
	default:
		return TRACK_BAD;
	}
}

int mysql_tracker_run(struct mysql_tracker *t, enum mysql_resp_kind kind,
		      bool deprecate_eof, uint8_t *pkts, size_t len)
{
	struct mysql_framer fr;
	struct mysql_frame f;
	size_t pos = 0;

	mysql_tracker_start(t, kind, deprecate_eof);
	mysql_framer_init(&fr);
	while (mysql_framer_next(&fr, pkts, len, &pos, &f)) {
		if (mysql_tracker_feed(t, &f) == TRACK_DONE)
			return pos + fr.payload_left == len ? 0 : -1;
	}
	return -1;
}
