#!/usr/bin/env bash
# Profiles myring under a sysbench workload with `perf record -g`.
#   perf/record.sh WORKLOAD [--threads N] [--seconds S] [--cpus LIST]
# WORKLOAD is a sysbench test (oltp_point_select, oltp_read_only,
# oltp_read_write).  Writes perf/out/perf.data; render it with perf/flame.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
WORKLOAD=${1:?usage: perf/record.sh WORKLOAD [--threads N] [--seconds S] [--cpus LIST]}
shift
THREADS=32 SECONDS_=10 CPUS="0-$(($(nproc) - 1))"
while (($#)); do
	case "$1" in
	--threads) THREADS=$2; shift ;;
	--seconds) SECONDS_=$2; shift ;;
	--cpus) CPUS=$2; shift ;;
	*) echo "record.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
bash scripts/deps.sh perf
make -s build/myring
mkdir -p perf/out
# shellcheck source=perf/db.sh
source perf/db.sh
MYRING_PID=
cleanup() {
	[[ -n "$MYRING_PID" ]] && kill -TERM "$MYRING_PID" 2>/dev/null
	bash scripts/mariadb.sh stop "$DB" > /dev/null 2>&1 || true
}
trap cleanup EXIT
perf_db_up 4 10000
SB=(--mysql-host=127.0.0.1 --mysql-user=myring --mysql-password=myring-pw
    --mysql-db=myring_test --tables=4 --table-size=10000)
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/myring --listen "127.0.0.1:$PORT" --backend "127.0.0.1:$MARIADB_PORT" \
	--cpus "$CPUS" --log-level warn &
MYRING_PID=$!
sleep 0.5
# Hardware cycles where the machine exposes them, else the cpu-clock timer.
EVENT=cycles
if ! perf stat -e cycles true > /dev/null 2>&1 ||
	perf stat -e cycles true 2>&1 | grep -q "not supported"; then
	EVENT=cpu-clock
fi
echo "record: $WORKLOAD --threads $THREADS for ${SECONDS_}s, event $EVENT, myring --cpus $CPUS"
sysbench "$WORKLOAD" "${SB[@]}" --mysql-port="$PORT" --threads="$THREADS" \
	--time=$((SECONDS_ + 2)) --report-interval=0 run > perf/out/record-sysbench.txt &
SBPID=$!
sleep 1
perf record -e "$EVENT" -F 2999 -g -p "$MYRING_PID" -o perf/out/perf.data \
	-- sleep "$SECONDS_" 2>&1 | tail -2
wait "$SBPID" || true
grep -E "queries:|95th" perf/out/record-sysbench.txt || true
echo "record: wrote perf/out/perf.data; render it with perf/flame.sh"
