#!/usr/bin/env bash
# Runs build/valgrind/myring (glibc malloc) under memcheck in front of the
# test MariaDB, drives it with the mariadb CLI (handshake, text queries,
# multi-results, a 4 MiB query, --deny, a client killed mid-result, rules
# from a config file, digests, the admin port, /metrics, SIGHUP and
# RELOAD CONFIG reloads, a rejected reload), drains it with SIGTERM and
# fails on any memcheck error or definite leak.
#
# usage: scripts/valgrind-check.sh MARIADB_ENV_FILE
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck disable=SC1090
source "$1"
BIN=build/valgrind/myring
LOGDIR=build/test-logs
mkdir -p "$LOGDIR"
VGLOG=$LOGDIR/valgrind.log
QLOG=$LOGDIR/valgrind-queries.log
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}
PORT=$(free_port)
APORT=$(free_port)
MPORT=$(free_port)
CONF=$LOGDIR/valgrind.yaml
cat >"$CONF" <<'YAML'
admin-password: vg-admin
digests: on
rules:
  - name: vg-answer
    match: '^SELECT @@vg_answer'
    action: answer
    columns: [a]
    rows: [[x], [~]]
  - name: vg-rewrite
    match: 'vg_rw_(\w+)'
    action: rewrite
    replace: 'rewritten_$1'
    log: true
YAML

# --pin off: valgrind runs one thread at a time under its own lock, and
# workers pinned to different CPUs then hand that lock over so slowly that
# a RELOAD CONFIG (which waits for every worker's tick) takes minutes.
MYRING_NO_JIT=1 valgrind --quiet --leak-check=full --errors-for-leak-kinds=definite \
	--error-exitcode=99 --log-file="$VGLOG" \
	"$BIN" --listen "127.0.0.1:$PORT" --backend "127.0.0.1:$MARIADB_PORT" \
	--threads 2 --pin off --log-queries "$QLOG" --deny 'vg_denied' --log-level warn \
	--config "$CONF" --admin "127.0.0.1:$APORT" --metrics "127.0.0.1:$MPORT" \
	2> "$LOGDIR/valgrind-myring.log" &
VGPID=$!
trap 'kill -KILL $VGPID 2>/dev/null || true' EXIT

for _ in $(seq 1 100); do
	if mariadb -h127.0.0.1 -P"$PORT" -umyring -pmyring-pw -e 'select 1' >/dev/null 2>&1; then
		break
	fi
	sleep 0.2
done

M=(mariadb --max-allowed-packet=1G -h127.0.0.1 -P"$PORT" -umyring -pmyring-pw myring_test)
fail=0
passed=0
check() { # description expected command...
	local what=$1 want=$2; shift 2
	local got
	got=$("$@" 2>&1 | tr '\n' ' ' | sed 's/ *$//') || true
	if [[ "$got" == *"$want"* ]]; then
		echo "valgrind smoke: ok   $what"
		passed=$((passed + 1))
	else
		echo "valgrind smoke: FAIL $what: wanted '$want', got '${got:0:200}'"
		fail=1
	fi
}
check "text query" "3" "${M[@]}" -N -B -e 'select 1+2'
check "multi-results" "1 2 3" "${M[@]}" -N -B -e 'select 1; select 2; select 3'
check "deny" "ERROR 1105" "${M[@]}" -N -B -e "select 'vg_denied'"
BIGSQL=$LOGDIR/valgrind-big.sql
printf "select length('%s');\n" "$(head -c 4194304 /dev/zero | tr '\0' x)" > "$BIGSQL"
check "4 MiB query" "4194304" bash -c '"$@" -N -B < '"$BIGSQL" _ "${M[@]}"
check "16 MiB+ row" "16777300" "${M[@]}" -N -B -e "select length(repeat('y', 16777300))"
# A client that vanishes mid-result.
"${M[@]}" -e 'select repeat("z", 1000), seq from seq_1_to_200000' > /dev/null 2>&1 &
CL=$!
sleep 0.5
kill -KILL $CL 2>/dev/null || true
wait $CL 2>/dev/null || true
check "after a killed client" "ok" "${M[@]}" -N -B -e "select 'ok'"
A=(mariadb -h127.0.0.1 -P"$APORT" -uadmin -pvg-admin)
check "answer rule" "x NULL" "${M[@]}" -N -B -e 'SELECT @@vg_answer'
check "rewrite rule" "rewritten_abc" "${M[@]}" -N -B -e "SELECT 'vg_rw_abc'"
check "admin digests" "SELECT ?" "${A[@]}" -N -B -e 'SELECT fingerprint FROM stats.digests ORDER BY count DESC'
check "admin rules" "1" "${A[@]}" -N -B -e 'SELECT hits FROM stats.rules WHERE name = '"'"'vg-answer'"'"
check "metrics" "myring_commands_total" python3 -c \
	'import sys, urllib.request; print(urllib.request.urlopen(sys.argv[1]).read().decode())' \
	"http://127.0.0.1:$MPORT/metrics"
ok() { "$@" && echo OK; }
kill -HUP $VGPID
sleep 1
check "after SIGHUP" "rewritten_def" "${M[@]}" -N -B -e "SELECT 'vg_rw_def'"
check "RELOAD CONFIG" "OK" ok "${A[@]}" -N -B -e 'RELOAD CONFIG'
printf 'rules:\n  - match: "(broken"\n' >"$CONF.bad"
cp "$CONF" "$CONF.good"
cp "$CONF.bad" "$CONF"
check "bad reload rejected" "old config stays" "${A[@]}" -N -B -e 'RELOAD CONFIG'
cp "$CONF.good" "$CONF"
check "RESET STATS" "OK" ok "${A[@]}" -N -B -e 'RESET STATS'
check "wrong admin password" "1045" mariadb -h127.0.0.1 -P"$APORT" -uadmin -pnope -e 'SHOW STATS'

kill -TERM $VGPID
rc=0
wait $VGPID || rc=$?
trap - EXIT
if [[ $rc -ne 0 ]]; then
	echo "valgrind smoke: FAIL myring exited $rc under valgrind"
	cat "$VGLOG"
	fail=1
fi
if grep -q "ERROR SUMMARY: [1-9]" "$VGLOG" || grep -q "definitely lost: [1-9]" "$VGLOG"; then
	echo "valgrind smoke: FAIL memcheck reports:"
	cat "$VGLOG"
	fail=1
fi
if [[ $fail -eq 0 ]]; then
	passed=$((passed + 1)) # clean exit, no memcheck report
fi
echo "valgrind: $passed passed, $fail failed"

exit $fail
