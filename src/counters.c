#include "counters.h"

#include "worker.h"

#define C(name, metric, help, field) \
	{name, metric, help, offsetof(struct worker_stats, field)}

const struct counter_desc worker_counters[] = {
	C("connections_accepted", "myring_connections_accepted_total",
	  "Client connections accepted.", accepted),
	C("connections_closed", "myring_connections_closed_total",
	  "Client connections closed.", closed),
	C("command_errors", "myring_command_errors_total",
	  "Commands whose response was an ERR packet.", errors),
	C("rows_sent", "myring_rows_sent_total",
	  "Result-set rows sent to clients.", rows_sent),
	C("rejected", "myring_rejected_total",
	  "Commands answered with an error by a rule.", rejected),
	C("answered", "myring_answered_total",
	  "Commands answered by a rule with a fixed reply.", answered),
	C("delayed", "myring_delayed_total",
	  "Commands held by a delay rule.", delayed),
	C("protocol_errors", "myring_protocol_errors_total",
	  "Malformed or out-of-sync packets (the connection was closed).",
	  protocol_errors),
	C("backend_connects", "myring_backend_connects_total",
	  "Backend connections established.", backend_connects),
	C("backend_connect_failures", "myring_backend_connect_failures_total",
	  "Backend connection attempts that failed.", backend_connect_failed),
	C("send_evictions", "myring_send_evictions_total",
	  "Stalled sends moved out of the receive buffer pool when it ran low.",
	  send_evictions),
	C("pool_borrows", "myring_pool_borrows_total",
	  "Pooled backend connections lent to sessions.", pool.borrows),
	C("pool_waits", "myring_pool_waits_total",
	  "Borrows that waited for a connection.", pool.waits),
	C("pool_wait_timeouts", "myring_pool_wait_timeouts_total",
	  "Sessions that waited --pool-wait-ms in vain (ERR 1040).",
	  pool.wait_timeouts),
	C("pool_resets", "myring_pool_resets_total",
	  "Pooled connections reset before the next borrower.", pool.resets),
	C("pool_closed_idle", "myring_pool_closed_idle_total",
	  "Pooled connections closed for idle timeout, max age or the cap.",
	  pool.closed_idle),
	C("pool_lost_idle", "myring_pool_lost_idle_total",
	  "Pooled connections the server closed while they were idle.",
	  pool.lost_idle),
	C("pool_commands", "myring_pool_commands_total",
	  "Commands pooled sessions sent to a server.", pool.commands),
	C("pool_pinned_commands", "myring_pool_pinned_commands_total",
	  "Of those, the ones sent while the session was pinned "
	  "(not multiplexed).", pool.pinned_commands),
	C("causal_waits", "myring_causal_waits_total",
	  "Causal reads that waited on a replica for the GTID they must see.",
	  causal_waits),
	C("causal_fallbacks", "myring_causal_fallbacks_total",
	  "Causal reads whose replica had not caught up in time (sent to the "
	  "primary).", causal_fallbacks),
	C("loop_turns", "myring_loop_turns_total",
	  "Event-loop turns (one io_uring_enter each) over all workers.",
	  loop_turns),
	C("completions", "myring_completions_total",
	  "io_uring completions handled; per loop turn, the batching.",
	  completions),
};

const size_t nworker_counters = sizeof(worker_counters) / sizeof(worker_counters[0]);
