#!/usr/bin/env bash
# What `make test` runs.  From nothing: installs missing packages, builds
# the normal, sanitizer and valgrind binaries and the test programs,
# starts a private MariaDB, runs the unit tests, the integration suite
# against the normal and the ASan/UBSan proxy, and the valgrind smoke
# check, then stops everything it started (also on failure or Ctrl-C).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/build/test-logs
DBDIR=$ROOT/build/test-mariadb
mkdir -p "$LOGS"
rm -f "$LOGS"/asan.* "$LOGS"/ubsan.*

started_pids=()
cleanup() {
	for pid in "${started_pids[@]}"; do
		kill -KILL "$pid" 2>/dev/null || true
	done
	bash scripts/mariadb.sh stop "$DBDIR" >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

step() { printf '\n==== %s\n' "$*"; }
failures=()
fail() { failures+=("$1"); echo "FAILED: $1"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

step "dependencies"
bash scripts/deps.sh || exit 1

step "build"
targets=(build/myring build/asan/myring build/valgrind/myring build/tests/unit)
have_itests=0
if compgen -G "tests/integration/*.c" > /dev/null; then
	targets+=(build/tests/integration)
	have_itests=1
fi
make -j2 "${targets[@]}" || exit 1

step "unit tests (Criterion, ASan/UBSan)"
./build/tests/unit --jobs 2 || fail "unit tests"

step "private MariaDB"
bash scripts/mariadb.sh start "$DBDIR" || exit 1
# shellcheck disable=SC1091
source "$DBDIR/env"
export MARIADB_HOST MARIADB_PORT MARIADB_SOCKET MARIADB_HAVE_ED25519

# Proxies spawned by the tests (and the shared one) log sanitizer reports
# here instead of only to a stderr nobody reads.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"

run_integration() { # name binary
	local name=$1 bin=$2 port pid qlog
	port=$(free_port)
	qlog=$LOGS/queries-$name.log
	rm -f "$qlog"
	step "integration tests against $bin"
	"$bin" --listen "127.0.0.1:$port" --backend "127.0.0.1:$MARIADB_PORT" \
		--threads 2 --log-queries "$qlog" --deny 'myring_denied_[a-z]+' \
		--max-packet 32M --log-level info 2> "$LOGS/myring-$name.log" &
	pid=$!
	started_pids+=("$pid")
	for _ in $(seq 1 100); do
		if (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			break
		fi
		sleep 0.1
	done
	MYRING_BIN=$ROOT/$bin MYRING_HOST=127.0.0.1 MYRING_PORT=$port \
		MYRING_QUERY_LOG=$qlog MYRING_ASAN=$([[ $name == asan ]] && echo 1 || echo 0) \
		timeout 600 ./build/tests/integration --jobs 2 ||
		fail "integration tests ($name)"
	step "hostile clients against $bin"
	timeout 120 python3 tests/badinput.py 127.0.0.1 "$port" myring myring-pw \
		--max-packet 33554432 || fail "hostile clients ($name)"
	kill -TERM "$pid" 2>/dev/null
	local rc=0
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name proxy did not exit within 20 s of SIGTERM"
		kill -KILL "$pid"
	fi
	wait "$pid" || rc=$?
	if [[ $rc -ne 0 ]]; then
		fail "$name proxy exited with status $rc after SIGTERM"
		tail -20 "$LOGS/myring-$name.log"
	fi
}

if [[ $have_itests == 1 ]]; then
	run_integration normal build/myring
	run_integration asan build/asan/myring
else
	fail "no integration tests found in tests/integration"
fi

step "sanitizer reports"
if compgen -G "$LOGS/asan.*" > /dev/null || compgen -G "$LOGS/ubsan.*" > /dev/null; then
	cat "$LOGS"/asan.* "$LOGS"/ubsan.* 2>/dev/null | head -200
	fail "AddressSanitizer/UBSan reported errors"
else
	echo "none"
fi

step "valgrind (memcheck) smoke test"
bash scripts/valgrind-check.sh "$DBDIR/env" || fail "valgrind smoke test"

step "summary"
if ((${#failures[@]})); then
	printf '  %s\n' "${failures[@]}"
	echo "make test: ${#failures[@]} step(s) failed"
	exit 1
fi
echo "make test: all steps passed"
