#!/usr/bin/env bash
# Memory per connection: opens N client connections through myring
# (default 2000) and reports myring's RSS per connection with all of them
# idle and with all of them active.
#   perf/conns.sh [N] [--cpus LIST] [--auth-proxy]
# --auth-proxy: myring checks the logins itself and lends pooled backend
# connections (--auth proxy --pool transaction), so an idle client holds
# no backend connection: what a client alone costs.
set -euo pipefail
cd "$(dirname "$0")/.."
N=2000
CPUS="0-$(($(nproc) - 1))"
MODE=(--auth passthrough) MODE_NAME=passthrough
while (($#)); do
	case "$1" in
	--cpus) CPUS=$2; shift ;;
	--auth-proxy)
		MODE=(--auth proxy --user myring:myring-pw --pool transaction)
		MODE_NAME="auth proxy, pool transaction" ;;
	[0-9]*) N=$1 ;;
	*) echo "conns.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done
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
	--cpus "$CPUS" --log-level warn "${MODE[@]}" &
MYRING_PID=$!
sleep 0.5
rss() { awk '/VmRSS/{print $2}' "/proc/$MYRING_PID/status"; }
# The allocator gives freed memory back to the system a little later:
# wait (up to 10 s) until the RSS holds still, so "before" is not read
# while it is still shrinking.
settle() {
	local a b
	b=$(rss)
	for _ in $(seq 1 10); do
		sleep 1
		a=$b b=$(rss)
		((a - b < 64 && b - a < 64)) && break
	done
}
measure() { # active
	local before after fifo=perf/out/conns.fifo
	settle
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
# Memory a worker frees is returned to the system only when that worker
# allocates again: a second of short connections makes them do so now
# rather than while the idle connections are counted.
build/perf/loadgen churn "$PORT" 1 2 > /dev/null
settle
pool=$(rss)
read -r b_idle a_idle < <(measure 0)
read -r b_act a_act < <(measure 1)
python3 - "$MODE_NAME" "$N" "$b_idle" "$a_idle" "$b_act" "$a_act" "$pool" <<'PY'
import sys
mode = sys.argv[1]
n, bi, ai, ba, aa, pool = map(int, sys.argv[2:])
print("conns: %d connections through myring (%s); RSS with warm buffer pools and no client: %d KiB" % (n, mode, pool))
print("conns: idle   RSS %d -> %d KiB: %.2f KiB per connection" % (bi, ai, (ai - bi) / n))
print("conns: active RSS %d -> %d KiB: %.2f KiB per connection" % (ba, aa, (aa - ba) / n))
PY
