#!/usr/bin/env bash
# Pooling: thousands of clients over a few server connections.  MariaDB
# directly, myring --auth proxy in transaction mode (--pool-size 64) and in
# session mode, in one interleaved run: sysbench point_select and
# read_write at 32, 1000 and 4000 client threads and a driver-style
# workload; QPS, latency, proxy CPU per query, the server's peak
# connection count; and the memory of an idle client (perf/conns.sh
# --auth-proxy).  See perf/README.md.
#
#   perf/pool.sh                  full run (~16 minutes)
#   perf/pool.sh --quick          a few short cells (under 3 minutes)
#   options: --repeats N (default 3)  --cpus LIST (default all cores)
#            --update-results (write the figures into perf/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_opts pool.sh "$@"

bash scripts/deps.sh perf
make -s build/myring
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/loadgen perf/loadgen.c \
	$(pkg-config --cflags --libs libmariadb) -lpthread
# 4000 clients through a proxy: 4000 sockets in sysbench, twice that in
# myring in session mode, as many again in the server.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# Idle-client memory first: conns.sh starts and stops the server itself.
CONNS=perf/out/pool-conns.txt
bash perf/conns.sh "$([[ $QUICK == 1 ]] && echo 1000 || echo 4000)" \
	--cpus "$CPUS" --auth-proxy | tee "$CONNS"

# shellcheck source=perf/db.sh
source perf/db.sh
perf_db_run 4 "$([[ $QUICK == 1 ]] && echo 10000 || echo 100000)"
export BENCH_LOADGEN=$ROOT/build/perf/loadgen POOL_CONNS_FILE=$ROOT/$CONNS
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
python3 perf/pool.py

if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/pool.md perf/RESULTS.md \
		"perf/pool.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		"pool$([[ $QUICK == 1 ]] && echo ' quick')"
	echo "pool: perf/RESULTS.md updated"
fi
