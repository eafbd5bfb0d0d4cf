#!/usr/bin/env bash
# A/B comparison of myring variants in one interleaved run: the same
# build with different flags, and/or other git revisions built on the side.
# This is how each optimisation's before/after figures in RESULTS.md's
# history are measured.  See perf/README.md.
#
#   perf/ab.sh [options] VARIANT...
#   VARIANT:  NAME=FLAGS          this tree's build/myring with FLAGS
#             NAME@REV=FLAGS      git revision REV, built in perf/out/rev-REV
#             NAME=haproxy:N      HAProxy in TCP mode with N threads
#             NAME=relay          the two-hop floor: perf/relay.c, a bare
#                                 io_uring TCP relay on one pinned thread
#             (haproxy:N:unix and relay:unix reach MariaDB over its Unix
#             socket; in myring's FLAGS, @SOCKET@ is that socket's path)
#   options:  --cells LIST   workload:threads,... (default
#                            oltp_point_select:8,oltp_point_select:32)
#             --seconds S (5)  --repeats N (3)  --cpus LIST (all cores)
#             --default-workers  myring variants without --cpus/--threads
#                                start as a user's would (no --cpus given)
#             --update-results BLOCK  (write the table into RESULTS.md)
#   e.g. perf/ab.sh before@HEAD~1= after=
#        perf/ab.sh plain= batched='--wait-batch-us 50' --cells big:4
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPEATS=3 SECONDS_PER=5 UPDATE="" DEFAULT_WORKERS=0
CELLS=oltp_point_select:8,oltp_point_select:32
CPUS="0-$(($(nproc) - 1))"
VARIANTS=()
ARGS_TEXT="$*"
while (($#)); do
	case "$1" in
	--cells) CELLS=$2; shift ;;
	--seconds) SECONDS_PER=$2; shift ;;
	--repeats) REPEATS=$2; shift ;;
	--cpus) CPUS=$2; shift ;;
	--update-results) UPDATE=$2; shift ;;
	--default-workers) DEFAULT_WORKERS=1 ;;
	--*) echo "ab.sh: unknown option $1" >&2; exit 2 ;;
	*=*) VARIANTS+=("$1") ;;
	*) echo "ab.sh: a variant is NAME=FLAGS or NAME@REV=FLAGS, not '$1'" >&2; exit 2 ;;
	esac
	shift
done
((${#VARIANTS[@]} >= 1)) || { echo "ab.sh: name at least one variant" >&2; exit 2; }

bash scripts/deps.sh perf
make -s build/myring
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/loadgen perf/loadgen.c \
	$(pkg-config --cflags --libs libmariadb) -lpthread
gcc -O2 -Wall -Wextra -o build/perf/relay perf/relay.c -luring

# Variants become NAME<TAB>BINARY<TAB>FLAGS lines for ab.py.
SPEC=perf/out/ab-variants.tsv
: > "$SPEC"
for v in "${VARIANTS[@]}"; do
	head=${v%%=*} flags=${v#*=}
	name=${head%%@*} bin=$ROOT/build/myring
	if [[ $head == *@* ]]; then
		rev=${head#*@}
		sha=$(git rev-parse --short "$rev")
		dir=perf/out/rev-$sha
		if [[ ! -x $dir/build/myring ]]; then
			rm -rf "$dir"
			git worktree add --detach -f "$dir" "$sha" > /dev/null
			make -s -C "$dir" build/myring
		fi
		bin=$ROOT/$dir/build/myring
	fi
	printf '%s\t%s\t%s\n' "$name" "$bin" "$flags" >> "$SPEC"
done

# shellcheck source=perf/db.sh
source perf/db.sh
perf_db_run 4 10000
export BENCH_LOADGEN=$ROOT/build/perf/loadgen
export BENCH_REPEATS=$REPEATS BENCH_CPUS=$CPUS BENCH_SECONDS=$SECONDS_PER
export AB_SPEC=$SPEC AB_CELLS=$CELLS AB_DEFAULT_WORKERS=$DEFAULT_WORKERS
export AB_RELAY=$ROOT/build/perf/relay
python3 perf/ab.py
if [[ -n $UPDATE ]]; then
	python3 perf/update_results.py perf/out/ab.md perf/RESULTS.md \
		"perf/ab.sh $ARGS_TEXT" "ab $UPDATE"
fi
