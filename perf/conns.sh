#!/usr/bin/env bash
# Memory per connection: opens N client connections through myring
# (default 2000) and reports myring's RSS per connection with all of them
# idle and with all of them active.
#   perf/conns.sh [N] [--cpus LIST]
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-2000}
CPUS="0-$(($(nproc) - 1))"
[[ "${2:-}" == --cpus ]] && CPUS=$3
bash scripts/deps.sh perf
make -s build/myring
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/loadgen perf/loadgen.c \
	$(pkg-config --cflags --libs libmariadb) -lpthread
DB=perf/out/mariadb
MYRING_PID= LOADGEN_PID=
cleanup() {
	[[ -n "$LOADGEN_PID" ]] && kill "$LOADGEN_PID" 2>/dev/null
	[[ -n "$MYRING_PID" ]] && kill -TERM "$MYRING_PID" 2>/dev/null
	bash scripts/mariadb.sh stop "$DB" > /dev/null 2>&1 || true
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
bash scripts/mariadb.sh start "$DB"   # max_connections=2500
# shellcheck disable=SC1091
source "$DB/env"
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
build/myring --listen "127.0.0.1:$PORT" --backend "127.0.0.1:$MARIADB_PORT" \
	--cpus "$CPUS" --log-level warn &
MYRING_PID=$!
sleep 0.5
rss() { awk '/VmRSS/{print $2}' "/proc/$MYRING_PID/status"; }
measure() { # active
	local before after fifo=perf/out/conns.fifo
	before=$(rss)
	rm -f "$fifo"; mkfifo "$fifo"
	build/perf/loadgen idle "$PORT" "$N" 6 "$1" > "$fifo" &
	LOADGEN_PID=$!
	exec 3< "$fifo"
	read -r line <&3  # "ready": all N connections are up
	sleep 3
	after=$(rss)
	read -r line <&3 || true
	exec 3<&-
	wait "$LOADGEN_PID" || true
	LOADGEN_PID=
	rm -f "$fifo"
	echo "$before $after"
}
# Warm-up: stream large results through a few connections so every
# receive buffer of every worker's pool (a fixed --buffers x --buffer-size
# per worker, not per connection) has been touched before measuring.
build/perf/loadgen big "$PORT" 2 4 > /dev/null
pool=$(rss)
read -r b_idle a_idle < <(measure 0)
read -r b_act a_act < <(measure 1)
python3 - "$N" "$b_idle" "$a_idle" "$b_act" "$a_act" "$pool" <<'PY'
import sys
n, bi, ai, ba, aa, pool = map(int, sys.argv[1:])
print("conns: %d connections through myring; RSS with warm buffer pools and no client: %d KiB" % (n, pool))
print("conns: idle   RSS %d -> %d KiB: %.2f KiB per connection" % (bi, ai, (ai - bi) / n))
print("conns: active RSS %d -> %d KiB: %.2f KiB per connection" % (ba, aa, (aa - ba) / n))
PY
