#include "mysql_proto.h"

#include <stdio.h>
#include <string.h>

const char *mysql_command_name(uint8_t cmd)
{
	static const char *const names[] = {
		[COM_SLEEP] = "Sleep", [COM_QUIT] = "Quit",
		[COM_INIT_DB] = "Init_db", [COM_QUERY] = "Query",
		[COM_FIELD_LIST] = "Field_list", [COM_CREATE_DB] = "Create_db",
		[COM_DROP_DB] = "Drop_db", [COM_REFRESH] = "Refresh",
		[COM_SHUTDOWN] = "Shutdown", [COM_STATISTICS] = "Statistics",
		[COM_PROCESS_INFO] = "Processlist", [COM_CONNECT] = "Connect",
		[COM_PROCESS_KILL] = "Kill", [COM_DEBUG] = "Debug",
		[COM_PING] = "Ping", [COM_TIME] = "Time",
		[COM_DELAYED_INSERT] = "Delayed_insert",
		[COM_CHANGE_USER] = "Change_user",
		[COM_BINLOG_DUMP] = "Binlog_dump", [COM_TABLE_DUMP] = "Table_dump",
		[COM_CONNECT_OUT] = "Connect_out",
		[COM_REGISTER_SLAVE] = "Register_slave",
		[COM_STMT_PREPARE] = "Stmt_prepare",
		[COM_STMT_EXECUTE] = "Stmt_execute",
		[COM_STMT_SEND_LONG_DATA] = "Stmt_send_long_data",
		[COM_STMT_CLOSE] = "Stmt_close", [COM_STMT_RESET] = "Stmt_reset",
		[COM_SET_OPTION] = "Set_option", [COM_STMT_FETCH] = "Stmt_fetch",
		[COM_DAEMON] = "Daemon",
		[COM_BINLOG_DUMP_GTID] = "Binlog_dump_gtid",
		[COM_RESET_CONNECTION] = "Reset_connection",
	};

	if (cmd == COM_STMT_BULK_EXECUTE)
		return "Stmt_bulk_execute";
	if (cmd < sizeof(names) / sizeof(names[0]) && names[cmd])
		return names[cmd];
	return "Unknown";
}

int mysql_get_lenenc(const uint8_t *p, size_t len, uint64_t *value)
{
	if (len < 1)
		return -1;
	switch (p[0]) {
	case 0xFB:
	case 0xFF:
		return -1;
	case 0xFC:
		if (len < 3)
			return -1;
		*value = mysql_get_u16(p + 1);
		return 3;
	case 0xFD:
		if (len < 4)
			return -1;
		*value = mysql_get_u24(p + 1);
		return 4;
	case 0xFE:
		if (len < 9)
			return -1;
		*value = (uint64_t)mysql_get_u32(p + 1) |
			 (uint64_t)mysql_get_u32(p + 5) << 32;
		return 9;
	default:
		*value = p[0];
		return 1;
	}
}

size_t mysql_lenenc_size(uint64_t v)
{
	if (v < 251)
		return 1;
	if (v < (1u << 16))
		return 3;
	if (v < (1u << 24))
		return 4;
	return 9;
}

uint8_t *mysql_put_lenenc(uint8_t *p, uint64_t v)
{
	if (v < 251) {
		*p++ = (uint8_t)v;
	} else if (v < (1u << 16)) {
		*p++ = 0xFC;
		mysql_put_u16(p, (uint16_t)v);
		p += 2;
	} else if (v < (1u << 24)) {
		*p++ = 0xFD;
		mysql_put_u24(p, (uint32_t)v);
		p += 3;
	} else {
		*p++ = 0xFE;
		mysql_put_u32(p, (uint32_t)v);
		mysql_put_u32(p + 4, (uint32_t)(v >> 32));
		p += 8;
	}
	return p;
}

/* A NUL-terminated string at *pos; -1 if no NUL before the end. */
static int get_cstr(const uint8_t *p, size_t len, size_t *pos,
		    struct mysql_str *out)
{
	const uint8_t *nul;

	if (*pos > len)
		return -1;
	nul = memchr(p + *pos, 0, len - *pos);
	if (!nul)
		return -1;
	out->ptr = (const char *)p + *pos;
	out->len = (size_t)(nul - (p + *pos));
	*pos += out->len + 1;
	return 0;
}

/* A NUL-terminated string that may also end at the end of the packet
 * (some clients and servers omit the final NUL). */
static void get_cstr_or_eof(const uint8_t *p, size_t len, size_t *pos,
			    struct mysql_str *out)
{
	if (get_cstr(p, len, pos, out)) {
		out->ptr = (const char *)p + *pos;
		out->len = len - *pos;
		*pos = len;
	}
}

int mysql_get_lenenc_str(const uint8_t *p, size_t len, size_t *pos,
			 struct mysql_str *out)
{
	uint64_t n;
	int used;

	if (*pos > len)
		return -1;
	used = mysql_get_lenenc(p + *pos, len - *pos, &n);
	if (used < 0 || n > len - *pos - (size_t)used)
		return -1;
	out->ptr = (const char *)p + *pos + used;
	out->len = (size_t)n;
	*pos += (size_t)used + (size_t)n;
	return 0;
}

int mysql_parse_greeting(const uint8_t *p, size_t len, struct mysql_greeting *g)
{
	size_t pos = 1;
	uint8_t auth_len = 0;

	memset(g, 0, sizeof(*g));
	if (len < 1 || p[0] == 0xFF)
		return -1;
	g->protocol = p[0];
	if (get_cstr(p, len, &pos, &g->server_version))
		return -1;
	/* connection id, scramble part 1, filler, caps low */
	if (len - pos < 4 + 8 + 1 + 2)
		return -1;
	g->connection_id = mysql_get_u32(p + pos);
	pos += 4;
	g->scramble1 = p + pos;
	pos += 8 + 1;
	g->caps_lo_off = pos;
	g->caps = mysql_get_u16(p + pos);
	pos += 2;
	if (pos == len)
		return 0; /* a pre-4.1 server stops here */
	if (len - pos < 1 + 2 + 2 + 1 + 10)
		return -1;
	g->charset = p[pos++];
	g->status = mysql_get_u16(p + pos);
	pos += 2;
	g->caps_hi_off = pos;
	g->caps |= (uint64_t)mysql_get_u16(p + pos) << 16;
	pos += 2;
	auth_len = p[pos++];
	if (!(g->caps & CLIENT_MYSQL)) {
		/* MariaDB: 6 filler bytes, then 4 bytes of extended caps. */
		g->ext_caps_off = pos + 6;
		g->caps |= (uint64_t)mysql_get_u32(p + pos + 6) << 32;
	}
	pos += 10;
	if (g->caps & CLIENT_SECURE_CONNECTION) {
		size_t n = auth_len > 8 ? (size_t)auth_len - 8 : 13;
		if (n < 13)
			n = 13;
		if (len - pos < n)
			return -1;
		g->scramble2 = p + pos;
		/* The part is NUL-terminated inside its declared length. */
		g->scramble2_len = n - 1;
		pos += n;
	}
	if (g->caps & CLIENT_PLUGIN_AUTH)
		get_cstr_or_eof(p, len, &pos, &g->auth_plugin);
	return 0;
}

void mysql_greeting_set_caps(uint8_t *payload, const struct mysql_greeting *g,
			     uint64_t caps)
{
	mysql_put_u16(payload + g->caps_lo_off, (uint16_t)caps);
	if (g->caps_hi_off)
		mysql_put_u16(payload + g->caps_hi_off, (uint16_t)(caps >> 16));
	if (g->ext_caps_off)
		mysql_put_u32(payload + g->ext_caps_off, (uint32_t)(caps >> 32));
}

int mysql_parse_handshake_response(const uint8_t *p, size_t len,
				   uint64_t server_caps,
				   struct mysql_handshake_response *r)
{
	size_t pos = 32;
	uint64_t caps, eff;

	memset(r, 0, sizeof(*r));
	if (len < 32)
		return -1;
	caps = mysql_get_u32(p);
	r->max_packet = mysql_get_u32(p + 4);
	r->charset = p[8];
	/* A MariaDB client clears CLIENT_MYSQL and puts its extended caps in
	 * the last 4 filler bytes; against a MySQL greeting (CLIENT_MYSQL set)
	 * those bytes are plain filler whatever the client says. */
	if (!(caps & CLIENT_MYSQL) && !(server_caps & CLIENT_MYSQL)) {
		r->ext_caps_off = 28;
		caps |= (uint64_t)mysql_get_u32(p + 28) << 32;
	}
	r->caps = caps;
	if (len == 32) {
		r->ssl_request = (caps & CLIENT_SSL) != 0;
		return r->ssl_request ? 0 : -1;
	}
	/* The server reads the rest by the capabilities both sides have: a
	 * flag the client sets but the greeting lacked changes nothing. */
	eff = caps & server_caps;
	if (get_cstr(p, len, &pos, &r->user))
		return -1;
	if (eff & CLIENT_PLUGIN_AUTH_LENENC_CLIENT_DATA) {
		if (mysql_get_lenenc_str(p, len, &pos, &r->auth))
			return -1;
	} else if (eff & CLIENT_SECURE_CONNECTION) {
		if (pos >= len || p[pos] > len - pos - 1)
			return -1;
		r->auth.ptr = (const char *)p + pos + 1;
		r->auth.len = p[pos];
		pos += 1 + p[pos];
	} else {
		if (get_cstr(p, len, &pos, &r->auth))
			return -1;
	}
	/* Trailing fields may be cut short: old clients stop after the
	 * schema or omit the plugin name's NUL. */
	if ((eff & CLIENT_CONNECT_WITH_DB) && pos < len)
		get_cstr_or_eof(p, len, &pos, &r->schema);
	if ((eff & CLIENT_PLUGIN_AUTH) && pos < len)
		get_cstr_or_eof(p, len, &pos, &r->plugin);
	if ((eff & CLIENT_CONNECT_ATTRS) && pos < len) {
		if (mysql_get_lenenc_str(p, len, &pos, &r->attrs))
			return -1;
	}
	return 0;
}

void mysql_handshake_response_set_caps(uint8_t *payload,
				       const struct mysql_handshake_response *r,
				       uint64_t caps)
{
	mysql_put_u32(payload, (uint32_t)caps);
	if (r->ext_caps_off)
		mysql_put_u32(payload + r->ext_caps_off, (uint32_t)(caps >> 32));
}

int mysql_attrs_next(struct mysql_str attrs, size_t *pos,
		     struct mysql_str *key, struct mysql_str *value)
{
	const uint8_t *p = (const uint8_t *)attrs.ptr;

	if (*pos >= attrs.len)
		return 0;
	if (mysql_get_lenenc_str(p, attrs.len, pos, key) ||
	    mysql_get_lenenc_str(p, attrs.len, pos, value))
		return -1;
	return 1;
}

int mysql_parse_change_user(const uint8_t *p, size_t len, uint64_t caps,
			    struct mysql_change_user *cu)
{
	size_t pos = 1;

	memset(cu, 0, sizeof(*cu));
	if (len < 2 || p[0] != COM_CHANGE_USER)
		return -1;
	if (get_cstr(p, len, &pos, &cu->user))
		return -1;
	if (caps & CLIENT_SECURE_CONNECTION) {
		if (pos >= len || p[pos] > len - pos - 1)
			return -1;
		cu->auth.ptr = (const char *)p + pos + 1;
		cu->auth.len = p[pos];
		pos += 1 + p[pos];
	} else if (get_cstr(p, len, &pos, &cu->auth)) {
		return -1;
	}
	if (pos >= len)
		return -1;
	get_cstr_or_eof(p, len, &pos, &cu->schema);
	if (len - pos >= 2) {
		cu->charset = mysql_get_u16(p + pos);
		pos += 2;
	}
	if ((caps & CLIENT_PLUGIN_AUTH) && pos < len)
		get_cstr_or_eof(p, len, &pos, &cu->plugin);
	if ((caps & CLIENT_CONNECT_ATTRS) && pos < len &&
	    mysql_get_lenenc_str(p, len, &pos, &cu->attrs))
		return -1;
	return 0;
}

int mysql_parse_ok(const uint8_t *p, size_t len, struct mysql_ok *ok)
{
	size_t pos = 1;
	int n;

	memset(ok, 0, sizeof(*ok));
	if (len < 1 || (p[0] != 0x00 && p[0] != 0xFE))
		return -1;
	/* A lone 0xFE is a pre-4.1 EOF: a terminator without status. */
	if (len == 1)
		return p[0] == 0xFE ? 0 : -1;
	n = mysql_get_lenenc(p + pos, len - pos, &ok->affected_rows);
	if (n < 0)
		return -1;
	pos += (size_t)n;
	n = mysql_get_lenenc(p + pos, len - pos, &ok->last_insert_id);
	if (n < 0)
		return -1;
	pos += (size_t)n;
	if (len - pos < 2)
		return -1;
	ok->status = mysql_get_u16(p + pos);
	pos += 2;
	if (len - pos >= 2)
		ok->warnings = mysql_get_u16(p + pos);
	return 0;
}

int mysql_parse_ok_ext(const uint8_t *p, size_t len, uint64_t caps,
		       struct mysql_ok_ext *ok)
{
	size_t pos = 1;
	int n;

	memset(ok, 0, sizeof(*ok));
	if (len < 1 || (p[0] != 0x00 && p[0] != 0xFE))
		return -1;
	n = mysql_get_lenenc(p + pos, len - pos, &ok->ok.affected_rows);
	if (n < 0)
		return -1;
	pos += (size_t)n;
	n = mysql_get_lenenc(p + pos, len - pos, &ok->ok.last_insert_id);
	if (n < 0)
		return -1;
	pos += (size_t)n;
	if (len - pos < 2)
		return -1;
	ok->status_off = pos;
	ok->ok.status = mysql_get_u16(p + pos);
	pos += 2;
	/* A 4.1 server always sends the warnings; tolerate their absence as
	 * mysql_parse_ok() does, with nothing after them. */
	if (len - pos >= 2) {
		ok->ok.warnings = mysql_get_u16(p + pos);
		pos += 2;
	} else {
		pos = len;
	}
	ok->tail_off = pos;
	if (pos < len && mysql_get_lenenc_str(p, len, &pos, &ok->info))
		return -1;
	if ((caps & CLIENT_SESSION_TRACK) &&
	    (ok->ok.status & SERVER_SESSION_STATE_CHANGED) && pos < len) {
		ok->state_off = pos;
		if (mysql_get_lenenc_str(p, len, &pos, &ok->session_state))
			return -1;
	}
	ok->end_off = pos;
	return 0;
}

int mysql_parse_err(const uint8_t *p, size_t len, struct mysql_err *err)
{
	size_t pos = 3;

	memset(err, 0, sizeof(*err));
	if (len < 3 || p[0] != 0xFF)
		return -1;
	err->code = mysql_get_u16(p + 1);
	if (len - pos >= 6 && p[pos] == '#') {
		memcpy(err->sqlstate, p + pos + 1, 5);
		pos += 6;
	} else {
		memcpy(err->sqlstate, "HY000", 5);
	}
	err->sqlstate[5] = '\0';
	err->message.ptr = (const char *)p + pos;
	err->message.len = len - pos;
	return 0;
}

int mysql_parse_eof(const uint8_t *p, size_t len, uint16_t *status,
		    uint16_t *warnings)
{
	if (len < 1 || p[0] != 0xFE || len >= 9)
		return -1;
	*warnings = len >= 3 ? mysql_get_u16(p + 1) : 0;
	*status = len >= 5 ? mysql_get_u16(p + 3) : 0;
	return 0;
}

size_t mysql_build_err(uint8_t *out, size_t cap, uint8_t seq, uint16_t code,
		       const char *sqlstate, const char *message)
{
	size_t mlen = message ? strlen(message) : 0, plen;

	if (cap < MYSQL_HDR_LEN + 9)
		return 0;
	if (mlen > cap - MYSQL_HDR_LEN - 9)
		mlen = cap - MYSQL_HDR_LEN - 9;
	/* Keep it one packet shorter than 0xFFFFFF: a longer one would need a
	 * continuation the caller does not expect. */
	if (mlen > MYSQL_MAX_PAYLOAD - 10)
		mlen = MYSQL_MAX_PAYLOAD - 10;
	plen = 9 + mlen;
	mysql_put_header(out, (uint32_t)plen, seq);
	out[4] = 0xFF;
	mysql_put_u16(out + 5, code);
	out[7] = '#';
	memcpy(out + 8, sqlstate && strlen(sqlstate) == 5 ? sqlstate : "HY000", 5);
	if (mlen)
		memcpy(out + 13, message, mlen);
	return MYSQL_HDR_LEN + plen;
}

size_t mysql_build_ok(uint8_t *out, uint8_t seq, uint64_t affected_rows,
		      uint64_t last_insert_id, uint16_t status,
		      uint16_t warnings)
{
	uint8_t *p = out + MYSQL_HDR_LEN;

	*p++ = 0x00;
	p = mysql_put_lenenc(p, affected_rows);
	p = mysql_put_lenenc(p, last_insert_id);
	mysql_put_u16(p, status);
	mysql_put_u16(p + 2, warnings);
	p += 4;
	mysql_put_header(out, (uint32_t)(p - out - MYSQL_HDR_LEN), seq);
	return (size_t)(p - out);
}
