#!/usr/bin/env bash
# What `make run` runs: build myring, start a throwaway MariaDB, and run
# myring in the foreground in front of it on 127.0.0.1:6033 (or the next
# free port).  Ctrl-C (or SIGTERM) stops myring and MariaDB and removes
# the throwaway data.  Arguments are passed on to myring:
#   scripts/run.sh --log-level debug
#   make run ARGS="--log-level debug --log-queries /tmp/q.log"
set -euo pipefail
cd "$(dirname "$0")/.."

bash scripts/deps.sh
make build/myring

DIR=$(mktemp -d /tmp/myring-run.XXXXXX)
MYRING_PID=
got_int=0
# shellcheck disable=SC2317  # invoked by the EXIT trap
cleanup() {
	local rc=$?
	set +e
	# Further Ctrl-Cs reach myring (a second one ends its drain at once)
	# but must not cut this cleanup short.
	trap - EXIT
	trap '' INT TERM
	if [[ -n $MYRING_PID ]] && kill -0 "$MYRING_PID" 2>/dev/null; then
		# Ctrl-C reached myring too: it drains (up to --drain-timeout,
		# 10 s by default) and exits by itself.
		if [[ $got_int == 1 ]]; then
			echo "run: waiting for myring (pid $MYRING_PID) to drain"
			for _ in $(seq 1 150); do
				kill -0 "$MYRING_PID" 2>/dev/null || break
				sleep 0.1
			done
		fi
		if kill -0 "$MYRING_PID" 2>/dev/null; then
			echo "run: stopping myring (pid $MYRING_PID)"
			kill -TERM "$MYRING_PID" 2>/dev/null
			for _ in $(seq 1 150); do
				kill -0 "$MYRING_PID" 2>/dev/null || break
				sleep 0.1
			done
			kill -KILL "$MYRING_PID" 2>/dev/null
		fi
		wait "$MYRING_PID" 2>/dev/null
	fi
	bash scripts/mariadb.sh stop "$DIR"
	rm -rf "$DIR"
	exit "$rc"
}
trap cleanup EXIT
trap 'got_int=1; echo; exit 0' INT
trap 'echo; exit 0' TERM

bash scripts/mariadb.sh start "$DIR"
# shellcheck disable=SC1091
source "$DIR/env"

# 6033, or the next port nobody listens on.
port=6033
until python3 - "$port" <<'PY' 2>/dev/null; do
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
PY
	port=$((port + 1))
	if ((port > 6133)); then
		echo "run: no free port in 6033..6133" >&2
		exit 1
	fi
done

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
admin_port=$(free_port)
metrics_port=$(free_port)
# The admin credentials live in a config file; flags given to make run
# (ARGS) come after it and override it.
cat >"$DIR/myring.yaml" <<YAML
admin-user: admin
admin-password: admin-pw
YAML
config=(--config "$DIR/myring.yaml")
admin_pw=admin-pw
for a in "$@"; do
	if [[ $a == --config || $a == --config=* ]]; then
		# The user's own file: its admin credentials apply.
		config=()
		admin_pw='<admin-password of your config file>'
	fi
done
# The server runs on this host: myring reaches it over its Unix socket,
# the cheaper leg (perf/RESULTS.md, block `ab unix-backend`).
echo "run: build/myring ${config[*]} --listen 127.0.0.1:$port --backend unix:$MARIADB_SOCKET --admin 127.0.0.1:$admin_port --metrics 127.0.0.1:$metrics_port $*"
# In the background plus `wait`, so that Ctrl-C reaches the trap at once;
# its output still goes to this terminal.
build/myring "${config[@]}" --listen "127.0.0.1:$port" \
	--backend "unix:$MARIADB_SOCKET" \
	--admin "127.0.0.1:$admin_port" --metrics "127.0.0.1:$metrics_port" \
	"$@" </dev/null &
MYRING_PID=$!

for _ in $(seq 1 100); do
	(: >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
	kill -0 "$MYRING_PID" 2>/dev/null || break
	sleep 0.1
done
if ! kill -0 "$MYRING_PID" 2>/dev/null; then
	rc=0
	wait "$MYRING_PID" || rc=$?
	MYRING_PID=
	echo "run: myring exited with status $rc" >&2
	exit 1
fi

cat <<MSG

  myring listens on 127.0.0.1:$port, in front of a throwaway MariaDB on 127.0.0.1:$MARIADB_PORT
  (myring reaches it over its Unix socket, $MARIADB_SOCKET).
  Connect with:
    mariadb -h127.0.0.1 -P$port -umyring -pmyring-pw myring_test
  (also: myring_other / other-pw$([[ $MARIADB_HAVE_ED25519 == 1 ]] && echo ", myring_ed / ed-pw (ed25519)"))
  MariaDB directly: mariadb -h127.0.0.1 -P$MARIADB_PORT -umyring -pmyring-pw myring_test
  Admin port (statistics, SHOW STATS, SELECT * FROM stats.digests, RELOAD CONFIG):
    mariadb -h127.0.0.1 -P$admin_port -uadmin -p'$admin_pw'
  Prometheus metrics: curl http://127.0.0.1:$metrics_port/metrics
  Ctrl-C stops myring and MariaDB and deletes $DIR.

MSG

rc=0
wait "$MYRING_PID" || rc=$?
MYRING_PID=
echo "run: myring exited with status $rc"
exit "$rc"
