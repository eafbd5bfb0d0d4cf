#!/usr/bin/env bash
# What TLS and protocol compression cost through myring, against the same
# done directly to MariaDB, in one interleaved run (see perf/README.md):
#
#   point_select  sysbench oltp_point_select at 32 threads, client leg TLS:
#                 QPS and the proxy's CPU per query
#   big           4 clients, results of 1..16 MiB, client leg TLS: MB/s and
#                 the proxy's CPU per MB
#   churn         8 clients, TLS connect + SELECT 1 + disconnect: TLS
#                 connections per second and the proxy's CPU per connection
#                 (the handshake's cost)
#   big-z         the big results over protocol compression (no TLS): MB/s
#                 and CPU per MB
#
# Targets (each cell runs each target in turn, each repeat):
#   direct        MariaDB itself, over TLS (or compressed); its CPU in brackets
#   plain         myring without TLS (client and server plaintext): the raw path
#   tls           myring, client leg TLS, backend leg plaintext
#   tls+tls       myring, TLS on both legs (--backend-tls verify-ca)
#   z             myring, client leg compressed, backend plaintext (big-z)
#   z+z           myring, compressed on both legs (big-z)
#
#   perf/tls.sh [--quick] [--repeats N] [--seconds S] [--cpus LIST]
#               [--update-results]
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
REPEATS=3 SECS=8 UPDATE=0
CPUS="0-$(($(nproc) - 1))"
ARGS_TEXT="$*"
while (($#)); do
	case "$1" in
	--quick) REPEATS=1 SECS=3 ;;
	--repeats) REPEATS=$2; shift ;;
	--seconds) SECS=$2; shift ;;
	--cpus) CPUS=$2; shift ;;
	--update-results) UPDATE=1 ;;
	*) echo "tls.sh: unknown option $1" >&2; exit 2 ;;
	esac
	shift
done

bash scripts/deps.sh perf
make -s build/myring
mkdir -p build/perf perf/out
gcc -O2 -Wall -Wextra -o build/perf/loadgen perf/loadgen.c \
	$(pkg-config --cflags --libs libmariadb) -lpthread
# shellcheck source=perf/db.sh
source perf/db.sh
perf_db_run 4 10000
CERTS=$ROOT/$DB/certs
TCK=$(getconf CLK_TCK)

pids=()
stop_all() {
	for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	bash scripts/mariadb.sh stop "$DB" >/dev/null 2>&1 || true
}
trap stop_all EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
declare -A PORT PID
start_myring() { # NAME FLAGS...
	local name=$1 port
	shift
	port=$(free_port)
	./build/myring --listen "127.0.0.1:$port" --backend "127.0.0.1:$MARIADB_PORT" \
		--cpus "$CPUS" --log-level warn "$@" 2>"perf/out/tls-$name.log" &
	PID[$name]=$!
	pids+=($!)
	PORT[$name]=$port
	for _ in $(seq 1 100); do
		(: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && return 0
		sleep 0.1
	done
	echo "tls.sh: myring $name did not start" >&2
	exit 1
}
TLS=(--tls-cert "$CERTS/server.pem" --tls-key "$CERTS/server-key.pem")
start_myring plain
start_myring tls "${TLS[@]}"
start_myring tls+tls "${TLS[@]}" --backend-tls verify-ca --backend-tls-ca "$CERTS/ca.pem"
start_myring z
start_myring z+z --backend-compression on
PORT[direct]=$MARIADB_PORT
PID[direct]=$MARIADB_PID

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# sysbench reads its TLS files from the working directory.
SBDIR=$(mktemp -d)
cp "$CERTS/ca.pem" "$SBDIR/cacert.pem"
cp "$CERTS/client.pem" "$SBDIR/client-cert.pem"
cp "$CERTS/client-key.pem" "$SBDIR/client-key.pem"

# One run: prints "throughput units cpu_seconds".
run_cell() { # CELL TARGET
	local cell=$1 target=$2 port=${PORT[$2]} out t0 t1 tls=1
	[[ $target == plain ]] && tls=0
	t0=$(cpu_ticks "${PID[$target]}")
	case $cell in
	point_select)
		local ssl=()
		((tls)) && ssl=(--mysql-ssl=on)
		out=$(cd "$SBDIR" && sysbench oltp_point_select --mysql-host=127.0.0.1 \
			--mysql-port="$port" --mysql-user=myring --mysql-password=myring-pw \
			--mysql-db=myring_test --tables=4 --table-size=10000 --threads=32 \
			--time="$SECS" "${ssl[@]}" run 2>&1)
		t1=$(cpu_ticks "${PID[$target]}")
		awk -v c=$((t1 - t0)) -v tck="$TCK" '/queries:/ && /per sec/ {
			gsub(/[()]/, "", $3); q=$2; print $3, q, c / tck }' <<<"$out"
		;;
	big | churn)
		local ca=""
		((tls)) && ca=$CERTS/ca.pem
		local mode=$cell n=4
		[[ $cell == churn ]] && n=8
		out=$(LOADGEN_TLS_CA=$ca ./build/perf/loadgen "$mode" "$port" "$SECS" "$n")
		t1=$(cpu_ticks "${PID[$target]}")
		if [[ $cell == big ]]; then
			awk -v c=$((t1 - t0)) -v tck="$TCK" '{split($1,b,"="); split($3,s,"=");
				print b[2] / s[2] / 1e6, b[2] / 1e6, c / tck }' <<<"$out"
		else
			awk -v c=$((t1 - t0)) -v tck="$TCK" '{split($1,n,"="); split($2,s,"=");
				print n[2] / s[2], n[2], c / tck }' <<<"$out"
		fi
		;;
	big-z)
		out=$(LOADGEN_COMPRESS=1 ./build/perf/loadgen big "$port" "$SECS" 4)
		t1=$(cpu_ticks "${PID[$target]}")
		awk -v c=$((t1 - t0)) -v tck="$TCK" '{split($1,b,"="); split($3,s,"=");
			print b[2] / s[2] / 1e6, b[2] / 1e6, c / tck }' <<<"$out"
		;;
	esac
}

declare -A TARGETS=(
	[point_select]="direct plain tls tls+tls"
	[big]="direct plain tls tls+tls"
	[churn]="direct plain tls tls+tls"
	[big-z]="direct z z+z"
)
CELLS=(point_select big churn big-z)
RAW=perf/out/tls-raw.tsv
: >"$RAW"
for ((r = 1; r <= REPEATS; r++)); do
	for cell in "${CELLS[@]}"; do
		for target in ${TARGETS[$cell]}; do
			line=$(run_cell "$cell" "$target")
			echo "tls.sh: repeat $r $cell $target: $line"
			printf '%s\t%s\t%s\n' "$cell" "$target" "$line" >>"$RAW"
		done
	done
done

# The median of the repeats: throughput, and CPU per unit (us per query,
# ms per MB, us per connection).
python3 - "$RAW" >perf/out/tls.md <<'PYEOF'
import statistics, sys
rows = {}
for line in open(sys.argv[1]):
    cell, target, rest = line.rstrip("\n").split("\t")
    thr, units, cpu = map(float, rest.split())
    rows.setdefault((cell, target), []).append((thr, cpu / units if units else 0))
unit = {"point_select": ("QPS", "CPU us/query", 1e6),
        "big": ("MB/s", "CPU ms/MB", 1e3),
        "churn": ("TLS conn/s", "CPU us/conn", 1e6),
        "big-z": ("MB/s (compressed)", "CPU ms/MB", 1e3)}
what = {"direct": "MariaDB direct", "plain": "myring, no TLS",
        "tls": "myring, client TLS, backend plain",
        "tls+tls": "myring, TLS both legs", "z": "myring, client compressed, backend plain",
        "z+z": "myring, compressed both legs"}
print("| cell | target | throughput | proxy CPU (MariaDB's for direct) |")
print("|---|---|---|---|")
for cell in ("point_select", "big", "churn", "big-z"):
    tu, cu, scale = unit[cell]
    for (c, t), v in rows.items():
        if c != cell:
            continue
        thr = statistics.median(x[0] for x in v)
        cpu = statistics.median(x[1] for x in v) * scale
        lo, hi = min(x[0] for x in v), max(x[0] for x in v)
        cpu_s = ("[%.1f]" if t == "direct" else "%.1f") % cpu
        print("| %s | %s | %.0f %s [%.0f..%.0f] | %s %s |" %
              (cell, what[t], thr, tu, lo, hi, cpu_s, cu))
PYEOF
cat perf/out/tls.md
if ((UPDATE)); then
	python3 perf/update_results.py perf/out/tls.md perf/RESULTS.md \
		"perf/tls.sh $ARGS_TEXT" "tls"
fi
rm -rf "$SBDIR"
