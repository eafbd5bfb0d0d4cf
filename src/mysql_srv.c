#include "mysql_srv.h"

#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

/* ---- buffer ----------------------------------------------------------- */

void pkt_buf_init(struct pkt_buf *pb)
{
	memset(pb, 0, sizeof(*pb));
}

void pkt_buf_free(struct pkt_buf *pb)
{
	free(pb->data);
	pkt_buf_init(pb);
}

void pkt_buf_reset(struct pkt_buf *pb)
{
	pb->len = 0;
	pb->seq = 0;
	pb->oom = false;
}

static uint8_t *reserve(struct pkt_buf *pb, size_t n)
{
	if (pb->oom)
		return NULL;
	if (pb->cap - pb->len < n) {
		size_t ncap = pb->cap ? pb->cap : 1024;
		uint8_t *p;
		while (ncap - pb->len < n)
			ncap *= 2;
		p = realloc(pb->data, ncap);
		if (!p) {
			pb->oom = true;
			return NULL;
		}
		pb->data = p;
		pb->cap = ncap;
	}
	return pb->data + pb->len;
}

void pkt_buf_append_raw(struct pkt_buf *pb, const void *p, size_t len)
{
	uint8_t *dst = reserve(pb, len);

	if (dst && len) {
		memcpy(dst, p, len);
		pb->len += len;
	}
}

void pkt_buf_packet2(struct pkt_buf *pb, const void *head, size_t hlen,
		     const void *body, size_t blen)
{
	size_t total = hlen + blen, npkts = total / MYSQL_MAX_PAYLOAD + 1;
	const uint8_t *h = head, *b = body;
	uint8_t *dst;

	/* Reserve once for every packet: a rewritten query can be large. */
	if (!reserve(pb, total + npkts * MYSQL_HDR_LEN))
		return;
	dst = pb->data + pb->len;
	for (size_t i = 0; i < npkts; i++) {
		size_t n = total < MYSQL_MAX_PAYLOAD ? total : MYSQL_MAX_PAYLOAD;
		size_t from_head = n < hlen ? n : hlen;

		mysql_put_header(dst, (uint32_t)n, pb->seq++);
		dst += MYSQL_HDR_LEN;
		if (from_head) {
			memcpy(dst, h, from_head);
			h += from_head;
			hlen -= from_head;
		}
		if (n > from_head) {
			memcpy(dst + from_head, b, n - from_head);
			b += n - from_head;
		}
		dst += n;
		total -= n;
	}
	pb->len = (size_t)(dst - pb->data);
}

void pkt_buf_packet(struct pkt_buf *pb, const void *payload, size_t len)
{
	pkt_buf_packet2(pb, NULL, 0, payload, len);
}

/* A payload assembled in a scratch buffer before it is framed. */
struct payload {
	uint8_t *p;
	size_t len, cap;
	bool oom;
};

static void put(struct payload *pl, const void *src, size_t n)
{
	if (pl->oom)
		return;
	if (pl->cap - pl->len < n) {
		size_t ncap = pl->cap ? pl->cap * 2 : 256;
		while (ncap - pl->len < n)
			ncap *= 2;
		uint8_t *np = realloc(pl->p, ncap);
		if (!np) {
			pl->oom = true;
			return;
		}
		pl->p = np;
		pl->cap = ncap;
	}
	memcpy(pl->p + pl->len, src, n);
	pl->len += n;
}

static void put_u8(struct payload *pl, uint8_t v)
{
	put(pl, &v, 1);
}

static void put_u16(struct payload *pl, uint16_t v)
{
	uint8_t b[2];
	mysql_put_u16(b, v);
	put(pl, b, 2);
}

static void put_u32(struct payload *pl, uint32_t v)
{
	uint8_t b[4];
	mysql_put_u32(b, v);
	put(pl, b, 4);
}

static void put_lenenc(struct payload *pl, uint64_t v)
{
	uint8_t b[9];
	put(pl, b, (size_t)(mysql_put_lenenc(b, v) - b));
}

static void put_lenenc_str(struct payload *pl, const char *s, size_t n)
{
	put_lenenc(pl, n);
	put(pl, s, n);
}

static void finish(struct pkt_buf *pb, struct payload *pl)
{
	if (pl->oom)
		pb->oom = true;
	else
		pkt_buf_packet(pb, pl->p, pl->len);
	free(pl->p);
}

/* ---- connection phase --------------------------------------------------- */

void srv_scramble(uint8_t out[20])
{
	size_t got = 0;

	while (got < 20) {
		ssize_t n = getrandom(out + got, 20 - got, 0);
		if (n > 0)
			got += (size_t)n;
	}
	/* Clients treat the scramble as a NUL-terminated string: keep each
	 * byte printable, as servers do. */
	for (int i = 0; i < 20; i++)
		out[i] = (uint8_t)(33 + out[i] % 94);
}

void srv_build_greeting(struct pkt_buf *pb, uint32_t connection_id,
			const uint8_t scramble[20], const char *server_version,
			uint64_t caps)
{
	static const char plugin[] = "mysql_native_password";
	struct payload pl = {0};
	uint8_t zero[10] = {0};

	put_u8(&pl, 10);
	put(&pl, server_version, strlen(server_version) + 1);
	put_u32(&pl, connection_id);
	put(&pl, scramble, 8);
	put_u8(&pl, 0);
	put_u16(&pl, (uint16_t)caps);
	put_u8(&pl, 45);                     /* utf8mb4_general_ci */
	put_u16(&pl, SERVER_STATUS_AUTOCOMMIT);
	put_u16(&pl, (uint16_t)(caps >> 16));
	put_u8(&pl, 21);                     /* scramble length + NUL */
	put(&pl, zero, 10);
	put(&pl, scramble + 8, 12);
	put_u8(&pl, 0);
	put(&pl, plugin, sizeof(plugin));
	finish(pb, &pl);
}

/* ---- responses ------------------------------------------------------------ */

void srv_ok(struct pkt_buf *pb, uint64_t affected, uint16_t status,
	    const char *info)
{
	struct payload pl = {0};

	put_u8(&pl, 0x00);
	put_lenenc(&pl, affected);
	put_lenenc(&pl, 0);
	put_u16(&pl, status);
	put_u16(&pl, 0);
	/* Length-encoded, as MariaDB sends it: Connector/C reads it so
	 * whether or not session tracking was negotiated. */
	if (info && *info)
		put_lenenc_str(&pl, info, strlen(info));
	finish(pb, &pl);
}

void srv_err(struct pkt_buf *pb, uint16_t code, const char *sqlstate,
	     const char *message)
{
	struct payload pl = {0};
	size_t n = strlen(message);

	put_u8(&pl, 0xFF);
	put_u16(&pl, code);
	put_u8(&pl, '#');
	put(&pl, sqlstate && strlen(sqlstate) == 5 ? sqlstate : "HY000", 5);
	put(&pl, message, n < 60000 ? n : 60000);
	finish(pb, &pl);
}

void srv_resultset_begin(struct pkt_buf *pb, unsigned ncols)
{
	struct payload pl = {0};

	put_lenenc(&pl, ncols);
	finish(pb, &pl);
}

void srv_column(struct pkt_buf *pb, const char *name, enum srv_col_type type,
		uint64_t caps)
{
	struct payload pl = {0};
	size_t n = strlen(name);
	uint8_t mtype;
	uint16_t charset, flags = 0;
	uint8_t decimals = 0;
	uint32_t length;

	switch (type) {
	case SRV_COL_INT:
	case SRV_COL_UINT:
		mtype = 0x08;                /* LONGLONG */
		charset = 63;                /* binary */
		length = 20;
		flags = 0x0001 | 0x8000 | (type == SRV_COL_UINT ? 0x0020 : 0);
		break;
	case SRV_COL_DOUBLE:
		mtype = 0x05;
		charset = 63;
		length = 22;
		decimals = 31;               /* "not fixed", as servers say */
		flags = 0x8000;
		break;
	default:
		mtype = 0xFD;                /* VAR_STRING */
		charset = 45;
		length = 4 * 1024;
		break;
	}
	put_lenenc_str(&pl, "def", 3);
	put_lenenc_str(&pl, "stats", 5);
	put_lenenc_str(&pl, "", 0);
	put_lenenc_str(&pl, "", 0);
	put_lenenc_str(&pl, name, n);
	put_lenenc_str(&pl, name, n);
	if (caps & MARIADB_CLIENT_EXTENDED_METADATA)
		put_lenenc(&pl, 0);          /* no extended type info */
	put_u8(&pl, 0x0C);
	put_u16(&pl, charset);
	put_u32(&pl, length);
	put_u8(&pl, mtype);
	put_u16(&pl, flags);
	put_u8(&pl, decimals);
	put_u16(&pl, 0);
	finish(pb, &pl);
}

static void eof(struct pkt_buf *pb, uint16_t status)
{
	struct payload pl = {0};

	put_u8(&pl, 0xFE);
	put_u16(&pl, 0);
	put_u16(&pl, status);
	finish(pb, &pl);
}

void srv_columns_end(struct pkt_buf *pb, uint64_t caps)
{
	if (!(caps & CLIENT_DEPRECATE_EOF))
		eof(pb, SERVER_STATUS_AUTOCOMMIT);
}

void srv_row(struct pkt_buf *pb, const char *const *cells, const size_t *lens,
	     unsigned ncols)
{
	struct payload pl = {0};

	for (unsigned i = 0; i < ncols; i++) {
		if (!cells[i])
			put_u8(&pl, 0xFB);
		else
			put_lenenc_str(&pl, cells[i], lens[i]);
	}
	finish(pb, &pl);
}

void srv_resultset_end(struct pkt_buf *pb, uint64_t caps, uint16_t status)
{
	struct payload pl = {0};

	if (!(caps & CLIENT_DEPRECATE_EOF)) {
		eof(pb, status);
		return;
	}
	/* OK with the EOF header byte. */
	put_u8(&pl, 0xFE);
	put_lenenc(&pl, 0);
	put_lenenc(&pl, 0);
	put_u16(&pl, status);
	put_u16(&pl, 0);
	finish(pb, &pl);
}
