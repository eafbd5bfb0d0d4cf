#!/usr/bin/env bash
# What relaying large rows costs on this machine, copied through user
# memory vs spliced through a pipe (see perf/splicecost.c and RESULTS.md
# "Measurements behind the defaults").
#   perf/splicecost.sh [--update-results] [ROW_BYTES...]
set -euo pipefail
cd "$(dirname "$0")/.."
UPDATE=0
if [[ ${1:-} == --update-results ]]; then
	UPDATE=1
	shift
fi
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/splicecost perf/splicecost.c -lpthread
build/perf/splicecost "$@" | tee perf/out/splicecost.md
if ((UPDATE)); then
	make -s build/myring
	python3 perf/update_results.py perf/out/splicecost.md perf/RESULTS.md \
		"perf/splicecost.sh $*" splicecost
fi
