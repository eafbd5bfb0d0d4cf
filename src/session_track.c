/*
 * session_track.c - what a pooled session's server says about the session
 * (auth: proxy), and what the client is shown of it.
 *
 * Every OK whose status says the session changed carries the change
 * (CLIENT_SESSION_TRACK on myring's connections; mysql_state.h).  Such an
 * OK is the one packet of a response that myring copies whole: its
 * entries update the session's state, which is replayed on whichever
 * connection the session borrows next, and the packet goes on to the
 * client with the entries it asked for (none, if it did not negotiate
 * session tracking; only those of its own session_track_* settings if it
 * did).  A change myring cannot carry over pins the session to its
 * connection instead.
 */
#include "session.h"

#include <stdlib.h>

#include "log.h"
#include "mysql_state.h"

#include <string.h>

/* Every reason gained is counted, and the gauge of sessions pinned now
 * follows the bits both ways. */
void session_set_pins(struct session *s, uint32_t pins)
{
	struct worker *w = s->c.w;
	uint32_t gained = pins & ~s->pins, lost = s->pins & ~pins;

	for (unsigned i = 0; i < PIN_NREASONS; i++) {
		if (gained & (1u << i)) {
			w->stats.pins[i]++;
			w->pinned_now[i]++;
			LOGD("%s: pinned to its backend connection (%s)",
			     s->client_addr, pin_reason_name(i));
		} else if (lost & (1u << i)) {
			w->pinned_now[i]--;
		}
	}
	s->pins = pins;
}

/* causal-reads: global: every read after this commit must see it. */
static void causal_note_commit(struct session *s)
{
	struct proxy *px = s->c.w->px;
	struct backend_group *g;

	if (!px->nservers || !s->st.last_gtid[0])
		return;
	g = &px->groups[px->servers[s->pool_key.server].group];
	if (g->causal == CAUSAL_GLOBAL)
		group_note_gtid(g, s->st.last_gtid);
}

void session_pin(struct session *s, unsigned reason)
{
	if ((s->pins & reason) != reason)
		session_set_pins(s, s->pins | reason);
}

void session_unpin(struct session *s, unsigned reason)
{
	if (s->pins & reason)
		session_set_pins(s, s->pins & ~reason);
}

void session_state_fresh(struct session *s)
{
	char schema[MYSQL_STATE_MAX_SCHEMA + 1];
	size_t len = s->st.has_schema ? s->st.schema_len : 0;

	memcpy(schema, s->st.schema, len);
	mysql_state_free(&s->st);
	mysql_state_init(&s->st);
	mysql_state_seed_charset(&s->st, s->charset);
	s->st.multi_statements = (s->caps & CLIENT_MULTI_STATEMENTS) != 0;
	if (len)
		mysql_state_set_schema(&s->st, schema, len);
	session_set_pins(s, 0);
	s->in_trans = false;
	free(s->shard_begin);
	s->shard_begin = NULL;
	effects_reset(s);
	/* A reset closes the session's prepared statements too. */
	stmt_session_free(s);
	stmt_session_init(s);
	s->stmt_raw = false;
}

long session_track_ok(struct session *s, uint8_t *payload, size_t len)
{
	struct bconn *b = s->be;
	const struct pending *p = s->pend_count ? pend_at(s, 0) : NULL;
	/* Changes the command's own text explains (session_effects.c). */
	bool explained = p && p->explained;
	struct mysql_ok_ext ok;
	int flags;

	if (mysql_parse_ok_ext(payload, len, b->caps, &ok) == 0)
		flags = mysql_state_apply(&s->st, &ok, p ? p->apply_opts : 0);
	else
		flags = -1;
	if (flags < 0) {
		/* A state block myring cannot read: it cannot know the state
		 * either. */
		session_pin(s, PIN_STATE);
	} else {
		if (flags & (MYSQL_STATE_PIN | MYSQL_STATE_OVERFLOW))
			session_pin(s, PIN_STATE);
		/* A transaction's start and end come with a bare "state
		 * changed" too; the transaction state says it all.  Other
		 * bare changes (user variables, temporary tables, PREPARE)
		 * the command's text must explain. */
		if ((flags & MYSQL_STATE_UNEXPLAINED) && !explained &&
		    !(flags & MYSQL_STATE_TRX))
			session_pin(s, PIN_STATE);
		if (flags & MYSQL_STATE_TRACKING) {
			/* The client changed session tracking, which myring's
			 * view of this connection depends on: it keeps the
			 * connection, which is reset before anyone else's. */
			session_pin(s, PIN_STATE);
			b->dirty = true;
		}
		s->state_moved = true;
		if (flags & MYSQL_STATE_GTID)
			causal_note_commit(s);
	}
	if (!(s->caps & CLIENT_SESSION_TRACK))
		return mysql_ok_strip_session_track(payload, len, b->caps);
	return mysql_ok_filter_session_track(payload, len, b->caps,
					     &s->st.track);
}
