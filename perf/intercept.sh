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
# shellcheck source=perf/opts.sh
source perf/opts.sh
perf_opts intercept.sh "$@"

bash scripts/deps.sh perf
make -s build/myring
mkdir -p perf/out
# shellcheck source=perf/db.sh
source perf/db.sh
perf_db_run 4 10000
export BENCH_QUICK=$QUICK BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS
python3 perf/intercept.py
if [[ $UPDATE == 1 ]]; then
	python3 perf/update_results.py perf/out/intercept.md perf/RESULTS.md \
		"perf/intercept.sh $([[ $QUICK == 1 ]] && echo --quick) --repeats $REPEATS --cpus $CPUS" \
		intercept
fi
