#!/usr/bin/env bash
# Read/write split: a MariaDB primary and two GTID replicas
# (scripts/replicas.sh) and, in one interleaved run, sysbench
# oltp_read_only and oltp_read_write at 32 and 256 threads against the
# primary directly, through myring pooling onto the primary alone, and
# through myring splitting reads over both replicas.  QPS, p50/p99, CPU
# per query of myring and of the three servers together, and the share of
# the commands each server ran.  See perf/README.md.
#
#   perf/groups.sh                  full run (~10 minutes)
#   perf/groups.sh --quick          a few short cells (under 3 minutes)
#   options: --repeats N (default 3)  --cpus LIST (default all cores)
#            --update-results (write the figures into perf/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_opts groups.sh "$@"

bash scripts/deps.sh perf
make -s build/myring
mkdir -p perf/out
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

SET=$ROOT/perf/out/replicas
trap 'bash scripts/replicas.sh stop "$SET" > /dev/null 2>&1 || true' EXIT
# Afresh: a set an earlier test promoted or half killed is no baseline.
bash scripts/replicas.sh reset "$SET"
# shellcheck disable=SC1091
source "$SET/env"
TABLES=4
SIZE=$([[ $QUICK == 1 ]] && echo 10000 || echo 100000)
sb=(--mysql-host=127.0.0.1 --mysql-user=myring --mysql-password=myring-pw
	--mysql-db=myring_test --tables="$TABLES" --table-size="$SIZE")
echo "groups: preparing sysbench data on the primary ($TABLES tables x $SIZE rows)"
sysbench oltp_common "${sb[@]}" --mysql-port="$REPL_PRIMARY_PORT" cleanup > /dev/null 2>&1 || true
sysbench oltp_common "${sb[@]}" --mysql-port="$REPL_PRIMARY_PORT" prepare > /dev/null

export BENCH_MYRING=$ROOT/build/myring BENCH_OUT=$ROOT/perf/out
export BENCH_TABLES=$TABLES BENCH_TABLE_SIZE=$SIZE
export MARIADB_PORT=$REPL_PRIMARY_PORT MARIADB_PID=$REPL_PRIMARY_PID
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
export REPL_PRIMARY_PORT REPL_REPLICA1_PORT REPL_REPLICA2_PORT
export REPL_PRIMARY_PID REPL_REPLICA1_PID REPL_REPLICA2_PID
export REPL_PRIMARY_SOCKET REPL_REPLICA1_SOCKET REPL_REPLICA2_SOCKET
python3 perf/groups.py

if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/groups.md perf/RESULTS.md \
		"perf/groups.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		"groups$([[ $QUICK == 1 ]] && echo ' quick')"
	echo "groups: perf/RESULTS.md updated"
fi
