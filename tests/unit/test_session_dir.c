/* session_dir: pooled sessions' ids and the KILL QUERY hold. */
#include <criterion/criterion.h>

#include "../../src/session_dir.h"

Test(session_dir, ids_are_unique_while_live_and_name_their_worker)
{
	struct session_dir d;
	struct sdir_entry *e[100];
	uint32_t ids[100];

	cr_assert_eq(sdir_init(&d, 40), 0);
	for (int i = 0; i < 100; i++) {
		e[i] = sdir_add(&d, 3, &ids[i]);
		if (i >= 80) {
			/* Twice 40 entries and a bit: full. */
			continue;
		}
		cr_assert(e[i], "entry %d", i);
		cr_assert_eq(sdir_worker_of(ids[i]), 3);
		cr_assert_eq(sdir_find(&d, ids[i]), e[i]);
		for (int j = 0; j < i; j++)
			cr_assert_neq(ids[i], ids[j]);
	}
	/* A removed id is unknown; its entry is taken again, by a new id. */
	sdir_remove(e[5]);
	cr_assert_null(sdir_find(&d, ids[5]));
	cr_assert_null(sdir_find(&d, 0));
	cr_assert_null(sdir_find(&d, 3u << 24));
	sdir_free(&d);
}

Test(session_dir, a_held_connection_is_not_released_until_unheld)
{
	struct session_dir d;
	uint32_t id, backend;
	struct sdir_entry *e;

	cr_assert_eq(sdir_init(&d, 4), 0);
	e = sdir_add(&d, 0, &id);
	cr_assert(id != 0);
	/* Nothing held: a hold finds no connection and holds nothing. */
	cr_assert(sdir_hold(e, 99, &backend));
	cr_assert_eq(backend, 0);
	cr_assert(sdir_release(e, 0));
	sdir_set_backend(e, 1234);
	cr_assert(sdir_hold(e, 99, &backend));
	cr_assert_eq(backend, 1234);
	/* A second killer does not get it; the owner may not give it back. */
	cr_assert_not(sdir_hold(e, 98, &backend));
	cr_assert_not(sdir_release(e, 1234));
	cr_assert_eq(atomic_load(&e->backend), 1234);
	/* Only the holder unholds. */
	sdir_unhold(e, 98);
	cr_assert_not(sdir_release(e, 1234));
	sdir_unhold(e, 99);
	cr_assert(sdir_release(e, 1234));
	cr_assert_eq(atomic_load(&e->backend), 0);
	/* An entry held by a KILL QUERY is not given to a new session. */
	sdir_set_backend(e, 77);
	cr_assert(sdir_hold(e, 5, &backend));
	sdir_remove(e);
	for (int i = 0; i < 63; i++) {
		uint32_t other;
		cr_assert_neq(sdir_add(&d, 0, &other), e);
	}
	sdir_free(&d);
}
