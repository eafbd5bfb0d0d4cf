#!/usr/bin/env bash
# Benchmarks myring against MariaDB directly and HAProxy (TCP mode, 1 and N
# threads) in one interleaved run.  See perf/README.md.
#
#   perf/bench.sh                 full run (under 30 minutes)
#   perf/bench.sh --quick         a few cells, short runs (under 3 minutes)
#   options: --repeats N (default 3)  --cpus LIST (default all cores)
#            --update-results (rewrite the figures in perf/RESULTS.md)
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_opts bench.sh "$@"

bash scripts/deps.sh perf
make -s build/myring
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/loadgen perf/loadgen.c \
	$(pkg-config --cflags --libs libmariadb) -lpthread

# shellcheck source=perf/db.sh
source perf/db.sh
cleanup() { bash scripts/mariadb.sh stop "$DB" > /dev/null 2>&1 || true; }
trap cleanup EXIT
TABLES=4
SIZE=$([[ $QUICK == 1 ]] && echo 10000 || echo 100000)
perf_db_up $TABLES "$SIZE"

export MARIADB_PORT MARIADB_PID
export BENCH_MYRING=$ROOT/build/myring BENCH_LOADGEN=$ROOT/build/perf/loadgen
export BENCH_OUT=$ROOT/perf/out BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS
export BENCH_CPUS=$CPUS BENCH_TABLES=$TABLES BENCH_TABLE_SIZE=$SIZE
python3 perf/bench.py

if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/results.md perf/RESULTS.md \
		"perf/bench.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		"--cpus $CPUS$([[ $QUICK == 1 ]] && echo ', quick')"
	echo "bench: perf/RESULTS.md updated"
fi
