#!/usr/bin/env bash
# Distributed transactions: what a transaction costs through myring's
# keyspace when it touches one shard (an ordinary transaction), two or
# four (two-phase commit over XA, docs/transactions.md), in one
# interleaved run over the four MariaDB shards of scripts/shards.sh.
# Transactions per second, transaction and COMMIT latency (p50/p99),
# myring's and the shards' CPU per transaction, and where a two-phase
# commit's time goes (prepare, decision record, decision, branch commits:
# myring's xa_*_us counters); and the cost of atomic autocommit writes:
# UPDATE ... WHERE id IN (a, b[, c, d]) over two or four shards against a
# single-shard autocommit UPDATE (statements/s, p50/p99, myring's CPU
# per statement).  See perf/README.md.
# BENCH_NOTE: a sentence added to the report (e.g. that the machine was
# shared with other work during the run).
#
#   perf/xa.sh                 full run: 3 repeats x 8 s per cell (~6 min)
#   perf/xa.sh --quick         2 repeats x 3 s (~2 min)
#   options: --repeats N  --cpus LIST (accepted, unused)
#            --update-results (write the tables into perf/RESULTS.md,
#            block "xa")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_rig_setup xa.sh "$@"
RIG=$ROOT/perf/out/xa
cleanup() {
	bash scripts/shards.sh stop "$RIG" > /dev/null 2>&1 || true
}
trap cleanup EXIT
bash scripts/shards.sh start "$RIG"
# shellcheck disable=SC1091
source "$RIG/env"
SHARD_SOCKETS=("$SHARD0_SOCKET" "$SHARD1_SOCKET" "$SHARD2_SOCKET" "$SHARD3_SOCKET")
ACCOUNTS=${XA_ACCOUNTS:-40000}

# The keyspace: bank.accounts sharded by id (hash) over the four shards.
CONFIG=$RIG/bank.yaml
{
	echo "# perf/xa.sh: bank.accounts sharded by id over four shards"
	echo "auth: proxy"
	echo "admin-user: admin"
	echo "admin-password: xa-bench"
	echo "users:"
	echo "  - name: myring"
	echo "    password: myring-pw"
	echo "groups:"
	i=0
	for p in "$SHARD0_PORT" "$SHARD1_PORT" "$SHARD2_PORT" "$SHARD3_PORT"; do
		echo "  - name: g$i"
		echo "    servers: [127.0.0.1:$p]"
		i=$((i + 1))
	done
	echo "keyspace:"
	echo "  schema: bank"
	echo "  shards: [g0, g1, g2, g3]"
	echo "  tables:"
	echo "    - name: accounts"
	echo "      key: id"
	echo "      function: hash"
} > "$CONFIG"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# The accounts, loaded through myring (each row on its id's shard), then
# the ids each shard holds, read on the shards themselves.
loaded() {
	local s n total=0
	for s in "${SHARD_SOCKETS[@]}"; do
		n=$(mariadb --no-defaults -S "$s" -uroot -N -B -e \
			"SELECT COUNT(*) FROM bank.accounts" 2>/dev/null) || return 1
		total=$((total + n))
	done
	[[ $total == "$ACCOUNTS" ]]
}
if ! loaded; then
	echo "xa: loading $ACCOUNTS accounts through myring"
	for s in "${SHARD_SOCKETS[@]}"; do
		mariadb --no-defaults -S "$s" -uroot -e "DROP DATABASE IF EXISTS bank;
			CREATE DATABASE bank; CREATE TABLE bank.accounts
			(id BIGINT PRIMARY KEY, balance BIGINT NOT NULL)"
	done
	port=$(free_port)
	build/myring --config "$CONFIG" --listen "127.0.0.1:$port" --log-level warn \
		2> "$RIG/loader-myring.log" &
	loader=$!
	for _ in $(seq 50); do
		mariadb --no-defaults -h127.0.0.1 -P"$port" -umyring -pmyring-pw -e 'SELECT 1' \
			> /dev/null 2>&1 && break
		sleep 0.1
	done
	python3 - "$ACCOUNTS" <<'PY' |
import sys
n = int(sys.argv[1])
for lo in range(1, n + 1, 100):
    rows = ", ".join("(%d, 1000)" % i for i in range(lo, min(lo + 100, n + 1)))
    print("INSERT INTO accounts (id, balance) VALUES %s;" % rows)
PY
		mariadb --no-defaults -h127.0.0.1 -P"$port" -umyring -pmyring-pw bank
	kill -TERM "$loader"
	wait "$loader" || true
	loaded || { echo "xa: the shards do not hold $ACCOUNTS accounts" >&2; exit 1; }
fi
for i in 0 1 2 3; do
	mariadb --no-defaults -S "${SHARD_SOCKETS[$i]}" -uroot -N -B \
		-e "SELECT id FROM bank.accounts" > "$RIG/ids-$i"
done

export BENCH_MYRING=$ROOT/build/myring BENCH_OUT=$ROOT/perf/out
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
export MARIADB_PORT=$SHARD0_PORT MARIADB_PID=$SHARD0_PID
export XA_CONFIG=$CONFIG XA_RIG=$RIG XA_ACCOUNTS=$ACCOUNTS
export SHARD0_PID SHARD1_PID SHARD2_PID SHARD3_PID
export SHARD0_SOCKET SHARD1_SOCKET SHARD2_SOCKET SHARD3_SOCKET
python3 perf/xa.py

if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/xa.md perf/RESULTS.md \
		"perf/xa.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS" \
		"xa$([[ $QUICK == 1 ]] && echo ' quick')"
	echo "xa: perf/RESULTS.md updated"
fi
