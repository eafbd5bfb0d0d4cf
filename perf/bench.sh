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
perf_db_run 4 "$([[ $QUICK == 1 ]] && echo 10000 || echo 100000)"
export BENCH_LOADGEN=$ROOT/build/perf/loadgen
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
python3 perf/bench.py

if [[ $UPDATE == 1 ]]; then
	# On the whole machine the headline target is myring's defaults:
	# the block is named so; a narrower --cpus gets a block of its own.
	block="--cpus $CPUS"
	[[ $CPUS == "0-$(($(nproc) - 1))" ]] && block=default
	python3 perf/update_results.py perf/out/results.md perf/RESULTS.md \
		"perf/bench.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		"$block$([[ $QUICK == 1 ]] && echo ', quick')"
	echo "bench: perf/RESULTS.md updated"
fi
