#!/usr/bin/env bash
# The cost of interception: myring with nothing on, with digest statistics,
# with 100 regex rules (that match nothing the workload sends, so every
# rule is evaluated for every query), and with both, in one interleaved
# run of sysbench oltp_point_select with text queries (--db-ps-mode=disable,
# so every query carries SQL).  See perf/README.md.
#
#   perf/intercept.sh              full run (~6 minutes)
#   perf/intercept.sh --quick      short runs (~1 minute)
#   options: --repeats N (default 3)  --cpus LIST  --update-results
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
QUICK=0 REPEATS=3 UPDATE=0
CPUS="0-$(($(nproc) - 1))"
while (($#)); do
	case "$1" in
	--quick) QUICK=1 ;;
	--repeats) REPEATS=$2; shift ;;
	--cpus) CPUS=$2; shift ;;
	--update-results) UPDATE=1 ;;
	*) echo "intercept.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

bash scripts/deps.sh perf
make -s build/myring
mkdir -p perf/out
# shellcheck source=perf/db.sh
source perf/db.sh
cleanup() { bash scripts/mariadb.sh stop "$DB" > /dev/null 2>&1 || true; }
trap cleanup EXIT
TABLES=4 SIZE=10000
perf_db_up $TABLES $SIZE
export MARIADB_PORT MARIADB_PID
export BENCH_MYRING=$ROOT/build/myring BENCH_OUT=$ROOT/perf/out
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
export BENCH_TABLES=$TABLES BENCH_TABLE_SIZE=$SIZE
python3 perf/intercept.py
if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/intercept.md perf/RESULTS.md \
		"perf/intercept.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		intercept
fi
