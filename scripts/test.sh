#!/usr/bin/env bash
# What `make test` runs.  From nothing: installs missing packages, builds
# the normal, sanitizer and valgrind binaries and the test programs,
# runs the unit tests, checks installing (make install, the manual page,
# make deb and a dpkg -i into a throwaway root: scripts/test-package.sh),
# starts a private MariaDB, runs the integration
# suite and the hostile-client script against the normal and the
# ASan/UBSan proxy, and against the ASan/UBSan proxy in pooled mode
# (--auth proxy), runs the backend-group suite against a private primary
# and two replicas (scripts/replicas.sh) with both builds, runs the
# sharding differential test (four shards and a reference server,
# scripts/shards.sh, tests/difftest.c) against the ASan/UBSan build,
# checks for sanitizer reports, runs the valgrind smoke check, then stops
# everything it started, by PID (also on failure, Ctrl-C or SIGTERM).
# Logs: build/test-logs/.
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
LOGS=$ROOT/build/test-logs
DBDIR=$ROOT/build/test-mariadb
RSDIR=$ROOT/build/test-replicas
SHDIR=$ROOT/build/test-shards
T0=$SECONDS

# Which steps run: all of them for `make test`; scripts/slow-tests.sh
# asks for "normal" only.  MYRING_ITEST_FILTER narrows the integration
# suite (a Criterion --filter pattern such as 'lifecycle/*').
STEPS=" ${MYRING_TEST_STEPS:-unit package normal asan pooled tls clients groups shards valgrind} "
want() { [[ $STEPS == *" $1 "* ]]; }
for s in $STEPS; do
	case $s in
	unit | package | normal | asan | pooled | tls | clients | groups | shards | valgrind) ;;
	*) echo "make test: unknown step '$s' in MYRING_TEST_STEPS (unit package normal asan pooled tls clients groups shards valgrind)"
	   exit 2 ;;
	esac
done
ITEST_ARGS=(--jobs 2)
[[ -z ${MYRING_ITEST_FILTER:-} ]] || ITEST_ARGS+=(--filter "$MYRING_ITEST_FILTER")

# Per-step time limits (seconds).
UNIT_TIMEOUT=300
ITEST_TIMEOUT=600
BADINPUT_TIMEOUT=180
PACKAGE_TIMEOUT=300
VALGRIND_TIMEOUT=300
GROUPS_TIMEOUT=300
DIFFTEST_TIMEOUT=240
# The differential test's seed and length (docs/testing.md): a failure
# names its seed; MYRING_DIFFTEST_SEED=S reproduces it.
DIFFTEST_SEED=${MYRING_DIFFTEST_SEED:-12}
DIFFTEST_QUERIES=${MYRING_DIFFTEST_QUERIES:-3000}

step() { printf '\n==== [%3ds] %s\n' "$((SECONDS - T0))" "$*"; }
failures=()
fail() {
	failures+=("$1")
	echo "FAILED: $1"
}

# Everything started in the background, by PID: myring instances and the
# `timeout` wrappers of the test runners (each leads its own process group
# and passes a signal on to that whole group).
bg_pids=()
forget() { # PID
	local keep=() p
	for p in "${bg_pids[@]}"; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	bg_pids=("${keep[@]}")
}
# True if PID is still a live child of this shell: a PID that exited (and
# was reaped) and then reused by the system is never signalled.
mine() { # PID
	local st
	st=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null) || return 1
	[[ $st != Z* && $(cut -d' ' -f2 <<<"$st") == "$$" ]]
}
db_started=0
rs_started=0
sh_started=0
cleanup() {
	local rc=$? p live
	set +e
	# A second Ctrl-C must not cut the cleanup short.
	trap - EXIT
	trap '' INT TERM
	if ((${#bg_pids[@]})); then
		echo "test: stopping what is still running: ${bg_pids[*]}"
		for p in "${bg_pids[@]}"; do
			mine "$p" && kill -TERM "$p" 2>/dev/null
		done
		for _ in $(seq 1 100); do
			live=()
			for p in "${bg_pids[@]}"; do
				mine "$p" && live+=("$p")
			done
			bg_pids=("${live[@]}")
			((${#bg_pids[@]})) || break
			sleep 0.1
		done
		for p in "${bg_pids[@]}"; do
			echo "test: pid $p ignored SIGTERM for 10 s, sending SIGKILL"
			kill -KILL "$p" 2>/dev/null || true
		done
	fi
	if [[ $db_started == 1 ]]; then
		bash scripts/mariadb.sh stop "$DBDIR" || true
	fi
	if [[ $rs_started == 1 ]]; then
		bash scripts/replicas.sh stop "$RSDIR" || true
	fi
	if [[ $sh_started == 1 ]]; then
		bash scripts/shards.sh stop "$SHDIR" || true
	fi
	exit "$rc"
}
trap cleanup EXIT
trap 'echo "test: interrupted"; exit 130' INT
trap 'echo "test: terminated"; exit 143' TERM

# Runs a command in the background under `timeout` and waits for it, so a
# signal to this script is acted on at once and cleanup can stop it.
run_bounded() { # SECONDS command...
	local secs=$1 pid rc=0
	shift
	timeout -k 10 "$secs" "$@" &
	pid=$!
	bg_pids+=("$pid")
	wait "$pid" || rc=$?
	forget "$pid"
	if [[ $rc == 124 || $rc == 137 ]]; then
		echo "test: '$1' did not finish within $secs s"
	fi
	return "$rc"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

step "dependencies (scripts/deps.sh)"
if ! bash scripts/deps.sh; then
	echo "make test: FAILED: dependencies"
	exit 1
fi

mkdir -p "$LOGS"
rm -f "$LOGS"/asan.* "$LOGS"/ubsan.*

step "build"
targets=(build/myring build/asan/myring build/valgrind/myring build/tests/unit
	build/tests/difftest)
have_itests=0
if compgen -G "tests/integration/*.c" >/dev/null; then
	targets+=(build/tests/integration)
	have_itests=1
fi
if ! make -j2 "${targets[@]}"; then
	echo "make test: FAILED: build"
	exit 1
fi

# Sanitizer reports of every instrumented process (the unit tests, the
# proxies started here and those the integration tests start) go to files
# in $LOGS, checked at the end.
export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:log_path=$LOGS/asan"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:log_path=$LOGS/ubsan"

if want unit; then
	step "unit tests (Criterion, ASan/UBSan build)"
	run_bounded "$UNIT_TIMEOUT" ./build/tests/unit --jobs 2 || fail "unit tests"
fi

if want package; then
	step "installing: make install, manual page, make deb, dpkg -i (scripts/test-package.sh)"
	run_bounded "$PACKAGE_TIMEOUT" bash scripts/test-package.sh || fail "installing and packaging"
fi

if want normal || want asan || want pooled || want tls || want clients || want valgrind; then
	step "private MariaDB (scripts/mariadb.sh start $DBDIR)"
	db_started=1
	if ! bash scripts/mariadb.sh start "$DBDIR"; then
		echo "make test: FAILED: MariaDB did not start"
		exit 1
	fi
	# shellcheck disable=SC1091
	source "$DBDIR/env"
	export MARIADB_HOST MARIADB_PORT MARIADB_SOCKET MARIADB_HAVE_ED25519 MARIADB_CERTS
fi

# The stall watch (scripts/stall-watch.sh) beside an integration step.
watch_pid=
watch_log=
watch_start() { # name
	watch_log=$LOGS/stall-watch-$1.log
	bash scripts/stall-watch.sh "$MARIADB_SOCKET" "$watch_log" &
	watch_pid=$!
	bg_pids+=("$watch_pid")
}
watch_stop() {
	[[ -n $watch_pid ]] || return 0
	kill "$watch_pid" 2>/dev/null || true
	wait "$watch_pid" 2>/dev/null || true
	forget "$watch_pid"
	watch_pid=
}
watch_report() {
	if [[ -s $watch_log ]]; then
		echo "what the stall watch saw ($watch_log):"
		tail -n 40 "$watch_log"
	else
		echo "the stall watch saw nothing unusual (no late wake-up, no server thread busy >= 10 s)"
	fi
}

# Tests that failed in a whole run get one more run each, alone.  One that
# passes then is reported as FLAKY with what the stall watch saw, and does
# not fail the step: twice now a CI run had two tests, in two different
# proxies, wait out the client's 60 s read timeout at the same moment,
# never seen in dozens of local runs; the watch is there to name the
# cause the next time.  A test that fails again fails the step, and more
# than two failures are never retried.
flaky=()
retry_failed() { # name output runner
	local name=$1 out=$2 runner=$3 t tests=() again=0
	mapfile -t tests < <(sed -n 's/^\[FAIL\] \([^:]*\)::\([^:]*\):.*/\1\/\2/p' "$out" | sort -u)
	watch_report
	if ((${#tests[@]} == 0 || ${#tests[@]} > 2)); then
		return 1
	fi
	for t in "${tests[@]}"; do
		echo "test: running $t again, alone"
		if "$runner" --jobs 1 --filter "$t"; then
			flaky+=("$name: $t")
			echo "FLAKY: $t failed in the whole run and passed alone"
		else
			again=1
		fi
	done
	return "$again"
}

run_integration() { # name binary
	local name=$1 bin=$2 port pid qlog log asan=0 up=0 rc=0 mode=() env=()
	local itest_args=("${ITEST_ARGS[@]}")
	[[ $bin == */asan/* ]] && asan=1
	# The same suite through myring's own pooled backend connections:
	# myring checks the test users itself (ed25519's too, as a native
	# password user, which also makes myring log in to the server with
	# ed25519) and lends connections per transaction.
	if [[ $name == pooled ]]; then
		mode=(--auth proxy --user myring:myring-pw --user myring_other:other-pw)
		[[ $MARIADB_HAVE_ED25519 == 1 ]] && mode+=(--user myring_ed:ed-pw)
	fi
	# The query corpus again with every byte through TLS and compression
	# on both legs: the client's (verified against the test CA) and the
	# backend's (verify-identity against the test MariaDB's certificate).
	if [[ $name == tls ]]; then
		mode=(--tls-cert "$MARIADB_CERTS/server.pem"
		      --tls-key "$MARIADB_CERTS/server-key.pem"
		      --backend-tls verify-identity
		      --backend-tls-ca "$MARIADB_CERTS/ca.pem"
		      --backend-compression on)
		env=(MYRING_CLIENT_TLS_CA="$MARIADB_CERTS/ca.pem"
		     MYRING_CLIENT_COMPRESS=1)
		[[ -n ${MYRING_ITEST_FILTER:-} ]] ||
			itest_args+=(--filter '@(large|session|stmt|rules|answer)/*')
	fi
	port=$(free_port)
	qlog=$LOGS/queries-$name.log
	log=$LOGS/myring-$name.log
	rm -f "$qlog"

	step "start $bin on 127.0.0.1:$port (log $log)"
	"$bin" --listen "127.0.0.1:$port" --backend "127.0.0.1:$MARIADB_PORT" \
		--threads 2 --log-queries "$qlog" --deny 'myring_denied_[a-z]+' \
		--rewrite "#myring_rewrite_me#rewritten#" \
		--rewrite "#^SELECT 'myring_shrink[^']*'#SELECT 'shrunk'#" \
		--max-packet 32M --log-level info "${mode[@]}" </dev/null 2>"$log" &
	pid=$!
	bg_pids+=("$pid")
	for _ in $(seq 1 300); do
		if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			up=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [[ $up == 0 ]]; then
		if kill -0 "$pid" 2>/dev/null; then
			fail "$name proxy: not accepting on port $port after 30 s"
			kill -KILL "$pid" 2>/dev/null || true
		else
			fail "$name proxy: exited during start-up"
		fi
		wait "$pid" 2>/dev/null || true
		forget "$pid"
		tail -n 20 "$log"
		return 0
	fi
	echo "listening (pid $pid)"

	step "integration tests against $bin"
	itest() { # criterion args...
		MYRING_BIN=$ROOT/$bin MYRING_HOST=127.0.0.1 MYRING_PORT=$port \
			MYRING_QUERY_LOG=$qlog MYRING_ASAN=$asan \
			MYRING_POOLED=$([[ $name == pooled ]] && echo 1 || echo 0) \
			MYRING_RUN=$name \
			run_bounded "$ITEST_TIMEOUT" env "${env[@]}" ./build/tests/integration "$@"
	}
	watch_start "$name"
	local out=$LOGS/itest-$name.out irc=0 tee_fd tee_pid
	# Shown as it runs and kept for retry_failed, which reads it whole:
	# tee is waited for before that.
	exec {tee_fd}> >(tee "$out")
	tee_pid=$!
	itest "${itest_args[@]}" >&"$tee_fd" 2>&1 || irc=$?
	exec {tee_fd}>&-
	wait "$tee_pid" 2>/dev/null || true
	if ((irc != 0)) && ! retry_failed "$name" "$out" itest; then
		fail "integration tests ($name)"
	fi
	watch_stop

	step "hostile clients (tests/badinput.py) against $bin"
	run_bounded "$BADINPUT_TIMEOUT" python3 tests/badinput.py 127.0.0.1 "$port" \
		myring myring-pw --max-packet 33554432 || fail "hostile clients ($name)"

	step "SIGTERM to $bin (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "$name proxy did not exit within 20 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	forget "$pid"
	if [[ $rc -ne 0 ]]; then
		fail "$name proxy exited with status $rc after SIGTERM"
		tail -n 20 "$log"
	else
		echo "exited with status 0"
	fi
}

if [[ $have_itests == 1 ]]; then
	if want normal; then run_integration normal build/myring; fi
	if want asan; then run_integration asan build/asan/myring; fi
	if want pooled; then run_integration pooled build/asan/myring; fi
	if want tls; then run_integration tls build/asan/myring; fi
else
	fail "no integration tests found in tests/integration"
fi

# The backend-group suite (tests/integration/test_groups.c): each test
# starts its own myring on the replica set, kills and promotes servers,
# and rebuilds the set (replicas.sh start) when the test before left it
# changed; so one test at a time.
if want groups && [[ $have_itests == 1 ]]; then
	step "primary and two replicas (scripts/replicas.sh reset $RSDIR)"
	rs_started=1
	if bash scripts/replicas.sh reset "$RSDIR"; then
		gfilter='groups/*'
		[[ ${MYRING_ITEST_FILTER:-} != groups/* ]] || gfilter=$MYRING_ITEST_FILTER
		for bin in build/myring build/asan/myring; do
			step "backend-group tests against $bin"
			MYRING_BIN=$ROOT/$bin MYRING_HOST=127.0.0.1 MYRING_PORT=0 \
				MYRING_ASAN=$([[ $bin == */asan/* ]] && echo 1 || echo 0) \
				MYRING_REPLICAS_DIR=$RSDIR \
				run_bounded "$GROUPS_TIMEOUT" ./build/tests/integration --jobs 1 \
				--filter "$gfilter" || fail "backend-group tests ($bin)"
		done
	else
		fail "the replica set did not start"
	fi
	bash scripts/replicas.sh stop "$RSDIR" || true
	rs_started=0
fi

# The sharding differential test (docs/testing.md): myring over four
# shards against one reference server, the same rows loaded into both
# (through myring on its side), thousands of generated queries compared;
# then the sharding integration tests on the same rig.
run_shards() {
	local bin=build/asan/myring port pid log=$LOGS/myring-shards.log dconfig
	local dlog=$LOGS/difftest.log out rc=0 up=0 shard_args=() a

	step "sharding: the example keyspace (--check-config docs/examples/sharded.yaml)"
	if ! out=$("$bin" --check-config docs/examples/sharded.yaml 2>&1); then
		echo "$out"
		fail "sharding: docs/examples/sharded.yaml rejected"
		return 0
	fi
	echo "$out"

	step "four shards and a reference server (scripts/shards.sh start $SHDIR)"
	sh_started=1
	if ! bash scripts/shards.sh start "$SHDIR"; then
		fail "sharding: the shards did not start"
		return 0
	fi
	# shellcheck disable=SC1091
	source "$SHDIR/env"
	port=$(free_port)
	# The differential test's myring: the rig's config, with lookup
	# tables on customers.region and customers.name (docs/sharding.md),
	# so that the generated statements by either go through them.  The
	# rig's own config (the other tests') has none.
	dconfig=$SHDIR/myring-difftest.yaml
	awk '{ print }
	     /^    - name: customers$/ { c = 1 }
	     c && /^      function: hash$/ {
		print "      lookup:\n        - column: region\n          shard: g1\n        - column: name"
		c = 0
	     }' "$SHARDS_CONFIG" >"$dconfig"
	if ! grep -q 'column: region' "$dconfig" ||
	   ! "$bin" --check-config "$dconfig" --listen "127.0.0.1:$port"; then
		fail "sharding: $dconfig (from $SHARDS_CONFIG, written by scripts/shards.sh) rejected"
		return 0
	fi

	step "start $bin --config $dconfig on 127.0.0.1:$port (log $log)"
	"$bin" --config "$dconfig" --listen "127.0.0.1:$port" --threads 2 \
		--log-level info </dev/null 2>"$log" &
	pid=$!
	bg_pids+=("$pid")
	for _ in $(seq 1 300); do
		if (: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
			up=1
			break
		fi
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if [[ $up == 0 ]]; then
		fail "sharding: myring not accepting on port $port after 30 s"
		kill -KILL "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		forget "$pid"
		tail -n 20 "$log"
		return 0
	fi

	step "differential test: seed $DIFFTEST_SEED, $DIFFTEST_QUERIES queries (log $dlog)"
	for a in ${SHARDS_ADDRS//,/ }; do
		shard_args+=(--shard "$a")
	done
	if run_bounded "$DIFFTEST_TIMEOUT" ./build/tests/difftest \
		--a "127.0.0.1:$port" --b "127.0.0.1:$REF_PORT" "${shard_args[@]}" \
		--seed "$DIFFTEST_SEED" --queries "$DIFFTEST_QUERIES" >"$dlog" 2>&1; then
		grep -E '^(refused|difftest: )' "$dlog" | tail -n 40
	else
		head -n 300 "$dlog"
		[[ $(wc -l <"$dlog") -le 300 ]] || echo "... (the rest in $dlog)"
		fail "sharding: differential test (seed $DIFFTEST_SEED; log $dlog)"
	fi

	step "SIGTERM to $bin (pid $pid)"
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 200); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	if kill -0 "$pid" 2>/dev/null; then
		fail "sharding: myring did not exit within 20 s of SIGTERM"
		kill -KILL "$pid" 2>/dev/null || true
	fi
	wait "$pid" || rc=$?
	forget "$pid"
	if [[ $rc -ne 0 ]]; then
		fail "sharding: myring exited with status $rc after SIGTERM"
		tail -n 20 "$log"
	fi

	# What the differential test does not look at (where rows are
	# stored, transactions, schema changes, a shard down, clients that
	# leave or read slowly): each test starts its own myring on the rig.
	if [[ $have_itests == 1 ]]; then
		local sfilter='shards/*'
		[[ ${MYRING_ITEST_FILTER:-} != shards/* ]] || sfilter=$MYRING_ITEST_FILTER
		step "sharding tests against $bin"
		MYRING_BIN=$ROOT/$bin MYRING_HOST=127.0.0.1 MYRING_PORT=0 \
			MYRING_ASAN=1 MYRING_SHARDS_DIR=$SHDIR \
			run_bounded "$GROUPS_TIMEOUT" ./build/tests/integration --jobs 1 \
			--filter "$sfilter" || fail "sharding tests ($bin)"
	fi
}

if want shards; then
	run_shards
	if [[ $sh_started == 1 ]]; then
		bash scripts/shards.sh stop "$SHDIR" || true
		sh_started=0
	fi
fi

step "sanitizer reports ($LOGS/asan.*, $LOGS/ubsan.*)"
if compgen -G "$LOGS/asan.*" >/dev/null || compgen -G "$LOGS/ubsan.*" >/dev/null; then
	for f in "$LOGS"/asan.* "$LOGS"/ubsan.*; do
		[[ -e $f ]] || continue
		echo "---- $f"
		head -n 100 "$f"
	done
	fail "AddressSanitizer/UBSan reports (see above)"
else
	echo "none"
fi

if want clients; then
	step "TLS and compression with other clients (tests/tls_clients.sh)"
	run_bounded 300 bash tests/tls_clients.sh build/asan/myring ||
		fail "TLS and compression with the mariadb CLI, PyMySQL and mysql2"
fi

if want valgrind; then
	step "valgrind (memcheck) smoke test"
	run_bounded "$VALGRIND_TIMEOUT" bash scripts/valgrind-check.sh "$DBDIR/env" ||
		fail "valgrind smoke test"
fi

step "summary"
if ((${#flaky[@]})); then
	printf '  FLAKY (failed, then passed alone): %s\n' "${flaky[@]}"
fi
if ((${#failures[@]})); then
	printf '  FAILED: %s\n' "${failures[@]}"
	echo "make test: ${#failures[@]} step(s) failed in $((SECONDS - T0)) s (logs in $LOGS)"
	exit 1
fi
echo "make test: all steps passed in $((SECONDS - T0)) s"
