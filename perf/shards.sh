#!/usr/bin/env bash
# Sharding: sysbench's tables sharded over four MariaDB servers
# (scripts/shards.sh) against the same rows on one server, in one
# interleaved run.  oltp_point_select and oltp_read_write through myring
# with the keyspace (sharded) and through myring onto the one server
# (unsharded), and the server directly; scatter aggregates (COUNT, SUM ...
# GROUP BY, ORDER BY ... LIMIT) over sbtestall, a fifth table holding the four
# tables' rows (1M rows in the full run).  QPS, p50/p99, myring's CPU
# per query, the servers' CPU per query, and a profile of myring under the
# scatter queries (the merge's share).  See perf/README.md.
#
#   perf/shards.sh                  full run: 4 tables x 250,000 rows
#                                   (1M rows; ~13 minutes, data kept)
#   perf/shards.sh --quick          4 x 10,000 rows, short runs (~4 minutes)
#   options: --repeats N (default 3; 2 with --quick)  --cpus LIST (unused,
#            accepted as the other scripts do)  --update-results (write
#            the figures into perf/RESULTS.md, block "shards")
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_rig_setup shards.sh "$@"
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

RIG=$ROOT/perf/out/shards
LOADER_PID=
cleanup() {
	[[ -n $LOADER_PID ]] && kill -TERM "$LOADER_PID" 2>/dev/null
	bash scripts/shards.sh stop "$RIG" > /dev/null 2>&1 || true
}
trap cleanup EXIT
# Reuses the servers (and their datadirs: the sbtest rows stay between
# runs); recreates only the rig's own database, shop.
bash scripts/shards.sh start "$RIG"
# shellcheck disable=SC1091
source "$RIG/env"
TABLES=4
SIZE=$([[ $QUICK == 1 ]] && echo 10000 || echo 250000)
SHARD_SOCKETS=("$SHARD0_SOCKET" "$SHARD1_SOCKET" "$SHARD2_SOCKET" "$SHARD3_SOCKET")

root_sql() { # SOCKET SQL
	mariadb --no-defaults --protocol=socket -S "$1" -uroot -N -B sbtest -e "$2"
}

# The rig's servers are small (64 MiB buffer pools, for the tests); the
# benchmark's rows must be in memory, or it measures the disk.
mariadb --no-defaults -S "$REF_SOCKET" -uroot \
	-e "SET GLOBAL innodb_buffer_pool_size = 768 * 1024 * 1024"
for s in "${SHARD_SOCKETS[@]}"; do
	mariadb --no-defaults -S "$s" -uroot -e "SET GLOBAL innodb_buffer_pool_size = 256 * 1024 * 1024"
done

# The keyspace: sbtest1..4 each sharded by id (hash) over the four shards.
# A keyspace over one shard, the reference (keyspace1): every statement
# is planned and lands on that one shard, so against unsharded it shows
# what the parser and the planner cost, on the same server topology.
write_keyspace_config() { # FILE PORT...
	local file=$1 i=0 p shards=""
	shift
	{
		echo "# perf/shards.sh: sysbench's tables sharded by id (hash)"
		echo "auth: proxy"
		echo "users:"
		echo "  - name: myring"
		echo "    password: myring-pw"
		echo "groups:"
		for p in "$@"; do
			echo "  - name: g$i"
			echo "    servers: [127.0.0.1:$p]"
			shards+=${shards:+, }g$i
			i=$((i + 1))
		done
		echo "keyspace:"
		echo "  schema: sbtest"
		echo "  shards: [$shards]"
		echo "  tables:"
		for t in $(seq 1 "$TABLES") all; do
			echo "    - name: sbtest$t"
			echo "      key: id"
			echo "      function: hash"
		done
	} > "$file"
}
write_keyspace_config "$RIG/sbtest-sharded.yaml" "$SHARD0_PORT" "$SHARD1_PORT" \
	"$SHARD2_PORT" "$SHARD3_PORT"
write_keyspace_config "$RIG/sbtest-keyspace1.yaml" "$REF_PORT"

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# Every table holds the same rows on the reference as on the shards
# together, and myring counts them alike.
data_ok() {
	local t n_ref n_shards s
	for t in $(seq 1 "$TABLES") all; do
		n_ref=$(root_sql "$REF_SOCKET" "SELECT COUNT(*) FROM sbtest$t" 2>/dev/null) || return 1
		[[ $n_ref == "$([[ $t == all ]] && echo $((TABLES * SIZE)) || echo "$SIZE")" ]] || return 1
		n_shards=0
		for s in "${SHARD_SOCKETS[@]}"; do
			n=$(root_sql "$s" "SELECT COUNT(*) FROM sbtest$t" 2>/dev/null) || return 1
			n_shards=$((n_shards + n))
		done
		[[ $n_shards == "$n_ref" ]] || return 1
	done
}

# sysbench prepare on the reference only (its INSERTs name no id, which
# the keyspace refuses: myring must see the shard key), then the rows
# copied through myring's keyspace, so each lands on the shard its id
# hashes to.
prepare() {
	local sb=(--mysql-host=127.0.0.1 --mysql-port="$REF_PORT" --mysql-user=myring
		--mysql-password=myring-pw --mysql-db=sbtest --tables="$TABLES" --table-size="$SIZE")
	local t0=$SECONDS port s t ddl m
	rm -f "$RIG"/sbtest-prepared-*
	for s in "$REF_SOCKET" "${SHARD_SOCKETS[@]}"; do
		mariadb --no-defaults -S "$s" -uroot \
			-e "DROP DATABASE IF EXISTS sbtest; CREATE DATABASE sbtest"
	done
	echo "shards: sysbench prepare on the reference ($TABLES tables x $SIZE rows)"
	sysbench oltp_common "${sb[@]}" prepare > "$RIG/prepare.log"
	# sbtestall: every table's rows in one table (ids made unique), what the
	# scatter queries read: the issue's 1M rows over four shards.
	root_sql "$REF_SOCKET" "CREATE TABLE sbtestall LIKE sbtest1"
	for t in $(seq 1 "$TABLES"); do
		root_sql "$REF_SOCKET" "INSERT INTO sbtestall SELECT id + $(((t - 1) * SIZE)), k, c, pad FROM sbtest$t"
	done
	local t_prepare=$((SECONDS - t0))
	port=$(free_port)
	build/myring --config "$RIG/sbtest-sharded.yaml" --listen "127.0.0.1:$port" \
		--log-level warn 2> "$RIG/loader-myring.log" &
	LOADER_PID=$!
	for _ in $(seq 50); do
		mariadb --no-defaults -h127.0.0.1 -P"$port" -umyring -pmyring-pw -e 'SELECT 1' \
			> /dev/null 2>&1 && break
		sleep 0.1
	done
	m=(mariadb --no-defaults -h127.0.0.1 -P"$port" -umyring -pmyring-pw sbtest)
	for t in $(seq 1 "$TABLES") all; do
		# The reference's definition; myring sends DDL to every shard.
		ddl=$(root_sql "$REF_SOCKET" "SHOW CREATE TABLE sbtest$t" | cut -f2- |
			sed 's/\\n/ /g; s/ AUTO_INCREMENT=[0-9]*//')
		"${m[@]}" -e "$ddl"
	done
	echo "shards: copying the rows into the shards through myring"
	# Extended INSERTs of at most 16 KiB (~80 sysbench rows): myring's
	# planner refuses an INSERT of 128 rows or more ("more than 128
	# subqueries in one statement").
	mariadb-dump --no-defaults -S "$REF_SOCKET" -uroot --no-create-info --complete-insert \
		--skip-add-locks --skip-disable-keys --compact --net-buffer-length=16384 sbtest |
		"${m[@]}"
	kill -TERM "$LOADER_PID"
	wait "$LOADER_PID" || true
	LOADER_PID=
	data_ok || { echo "shards: the shards do not hold the reference's rows" >&2; exit 1; }
	echo "shards: prepared in $t_prepare s, copied in $((SECONDS - t0 - t_prepare)) s"
	echo "sysbench prepare ${t_prepare} s, copy through myring $((SECONDS - t0 - t_prepare)) s" \
		> "$RIG/sbtest-prepared-$TABLES-$SIZE-all"
}
if [[ ! -f $RIG/sbtest-prepared-$TABLES-$SIZE-all ]] || ! data_ok; then
	prepare
else
	echo "shards: reusing the sbtest data ($TABLES tables x $SIZE rows)"
fi

export BENCH_MYRING=$ROOT/build/myring BENCH_OUT=$ROOT/perf/out
export BENCH_TABLES=$TABLES BENCH_TABLE_SIZE=$SIZE
export MARIADB_PORT=$REF_PORT MARIADB_PID=$REF_PID
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
export SHARDS_SHARDED_CONFIG=$RIG/sbtest-sharded.yaml SHARDS_KEYSPACE1_CONFIG=$RIG/sbtest-keyspace1.yaml
SHARDS_PREPARED=$(cat "$RIG/sbtest-prepared-$TABLES-$SIZE-all")
export SHARDS_PREPARED
export SHARD0_PID SHARD1_PID SHARD2_PID SHARD3_PID REF_PORT REF_PID
python3 perf/shards.py

if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/shards.md perf/RESULTS.md \
		"perf/shards.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS" \
		"shards$([[ $QUICK == 1 ]] && echo ' quick')"
	echo "shards: perf/RESULTS.md updated"
fi
