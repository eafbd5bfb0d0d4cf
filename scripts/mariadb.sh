#!/usr/bin/env bash
# A private MariaDB for tests and benchmarks: own datadir, free loopback
# port, started and stopped by PID (never by name).
#
#   scripts/mariadb.sh start DIR   start (or reuse) the server in DIR; writes DIR/env
#   scripts/mariadb.sh stop DIR    stop it (TERM, up to 30 s, then KILL)
#
# DIR/env is sourceable: MARIADB_HOST MARIADB_PORT MARIADB_PID MARIADB_SOCKET
# MARIADB_HAVE_ED25519 MARIADB_CERTS.  The server speaks TLS with the test
# CA's certificate for localhost/127.0.0.1 (scripts/test-certs.sh, in
# DIR/certs: MARIADB_CERTS), and accepts plaintext too.  Database
# myring_test.  Users:
#   myring@127.0.0.1, myring@localhost  myring-pw  all privileges, grant option
#   myring_other@127.0.0.1, @localhost  other-pw   all on myring_test.*
#   myring_ed@127.0.0.1, @localhost     ed-pw      ed25519 (if the plugin loads)
# (@localhost: clients of the Unix socket, as myring --backend unix:PATH)
# Root logs in over the socket only (unix_socket auth):
#   mariadb --no-defaults -S DIR/mysqld.sock -uroot
#
# Several servers may run at once in different DIRs; each gets its own port.
# MARIADB_EXTRA_ARGS: more mariadbd options, after ours (they win), such as
# --log-bin for scripts/replicas.sh.  A DIR/data that already holds an
# initialised datadir (a copy of a template) is used as it is.
# MARIADB_WANT_PORT: the port to listen on (a restart on the port a killed
# server had, as scripts/shards.sh restart does) instead of a free one.
set -euo pipefail

usage() {
	echo "usage: scripts/mariadb.sh start|stop DIR" >&2
	exit 2
}
die() {
	echo "mariadb: $*" >&2
	exit 1
}

cmd=${1:-}
dir=${2:-}
[[ ($cmd == start || $cmd == stop) && -n $dir ]] || usage
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
envf=$dir/env
data=$dir/data
sock=$dir/mysqld.sock
# A Unix socket path must fit in 108 bytes; deep checkouts get one in /tmp.
if ((${#sock} > 100)); then
	sock=/tmp/myring-mariadb-$(printf '%s' "$dir" | md5sum | cut -c1-16).sock
fi
pidf=$dir/mariadb.pid
log=$dir/mariadb.log

for tool in mariadbd mariadb mariadb-admin mariadb-install-db python3 flock openssl; do
	command -v "$tool" >/dev/null || die "$tool not found: run scripts/deps.sh"
done

# One start/stop at a time per DIR.
exec 9>"$dir/.lock"
flock -w 180 9 || die "$dir is locked by another mariadb.sh for over 180 s"

root_sql() { # SQL [extra client args...]
	local sql=$1
	shift
	mariadb --no-defaults --protocol=socket -S "$sock" -uroot -N -B "$@" -e "$sql"
}

ping_server() {
	mariadb-admin --no-defaults --protocol=socket -S "$sock" -uroot \
		--connect-timeout=2 ping >/dev/null 2>&1
}

# True if PID exists and is not a zombie.
alive() {
	local state
	state=$(sed 's/^.*) //' "/proc/$1/stat" 2>/dev/null | cut -c1) || return 1
	[[ -n $state && $state != Z && $state != X ]]
}

# True if PID is alive and is a mariadbd on our datadir, so a stale PID
# that the system has since reused is never signalled.
ours() {
	local pid=$1
	[[ $pid =~ ^[0-9]+$ ]] && alive "$pid" || return 1
	tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--datadir=$data"
}

# The PID of the server on this DIR, from env or the pid file, if it runs.
server_pid() {
	local pid
	if [[ -f $envf ]]; then
		pid=$(sed -n 's/^MARIADB_PID=//p' "$envf")
		if ours "$pid"; then
			echo "$pid"
			return 0
		fi
	fi
	if [[ -f $pidf ]]; then
		pid=$(tr -dc '0-9' <"$pidf")
		if ours "$pid"; then
			echo "$pid"
			return 0
		fi
	fi
	return 1
}

# PID must have passed ours().  Waits with alive(): an exiting process
# has an empty cmdline for a while.
stop_pid() { # PID
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 1 300); do
		alive "$pid" || return 0
		sleep 0.1
	done
	echo "mariadb: pid $pid still running 30 s after SIGTERM, sending SIGKILL" >&2
	kill -KILL "$pid" 2>/dev/null || true
	for _ in $(seq 1 50); do
		alive "$pid" || return 0
		sleep 0.1
	done
	die "pid $pid survived SIGKILL"
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

# Database, users and the ed25519 plugin.  Idempotent: also run when an
# already running server is reused.  Sets have_ed.
setup() {
	local plugin_dir n
	n=$(root_sql "SELECT COUNT(*) FROM information_schema.PLUGINS
		WHERE PLUGIN_NAME='ed25519' AND PLUGIN_STATUS='ACTIVE'")
	if [[ $n == 0 ]]; then
		plugin_dir=$(root_sql "SELECT @@plugin_dir")
		if [[ -f ${plugin_dir%/}/auth_ed25519.so ]]; then
			root_sql "INSTALL SONAME 'auth_ed25519'" ||
				echo "mariadb: INSTALL SONAME 'auth_ed25519' failed" >&2
		else
			echo "mariadb: ${plugin_dir%/}/auth_ed25519.so not found: no ed25519 user" >&2
		fi
		n=$(root_sql "SELECT COUNT(*) FROM information_schema.PLUGINS
			WHERE PLUGIN_NAME='ed25519' AND PLUGIN_STATUS='ACTIVE'")
	fi
	have_ed=0
	[[ $n == 0 ]] || have_ed=1

	root_sql "
CREATE DATABASE IF NOT EXISTS myring_test;
CREATE OR REPLACE USER 'myring'@'127.0.0.1'
	IDENTIFIED VIA mysql_native_password USING PASSWORD('myring-pw');
CREATE OR REPLACE USER 'myring'@'localhost'
	IDENTIFIED VIA mysql_native_password USING PASSWORD('myring-pw');
CREATE OR REPLACE USER 'myring'@'::1'
	IDENTIFIED VIA mysql_native_password USING PASSWORD('myring-pw');
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'::1' WITH GRANT OPTION;
CREATE OR REPLACE USER 'myring_other'@'127.0.0.1'
	IDENTIFIED VIA mysql_native_password USING PASSWORD('other-pw');
GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_other'@'127.0.0.1';
CREATE OR REPLACE USER 'myring_other'@'localhost'
	IDENTIFIED VIA mysql_native_password USING PASSWORD('other-pw');
GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_other'@'localhost';
" || die "creating the test database and users failed"

	if [[ $have_ed == 1 ]]; then
		root_sql "
CREATE OR REPLACE USER 'myring_ed'@'127.0.0.1'
	IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_ed'@'127.0.0.1';
CREATE OR REPLACE USER 'myring_ed'@'localhost'
	IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw');
GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_ed'@'localhost';
" || {
			echo "mariadb: creating the ed25519 user failed" >&2
			have_ed=0
		}
	else
		root_sql "DROP USER IF EXISTS 'myring_ed'@'127.0.0.1', 'myring_ed'@'localhost'" || true
	fi
}

write_env() { # PORT PID
	local tmp
	tmp=$(mktemp "$dir/env.XXXXXX")
	cat >"$tmp" <<ENV
MARIADB_HOST=127.0.0.1
MARIADB_PORT=$1
MARIADB_PID=$2
MARIADB_SOCKET=$sock
MARIADB_HAVE_ED25519=$have_ed
MARIADB_CERTS=$dir/certs
ENV
	mv -f "$tmp" "$envf"
}

do_stop() {
	local pid
	if pid=$(server_pid); then
		stop_pid "$pid"
		echo "mariadb: stopped pid $pid ($dir)"
	else
		echo "mariadb: no server running in $dir"
	fi
	rm -f "$envf"
}

do_start() {
	local pid port have_ed attempt size t0
	t0=$SECONDS

	if pid=$(server_pid); then
		if ping_server; then
			port=$(root_sql "SELECT @@port")
			setup
			write_env "$port" "$pid"
			echo "mariadb: reusing server on 127.0.0.1:$port (pid $pid, $dir)"
			return 0
		fi
		echo "mariadb: pid $pid does not answer; restarting it" >&2
		stop_pid "$pid"
	fi
	rm -f "$envf"

	# A private tmpdir: servers in other DIRs must not share temporary
	# files (concurrent bootstraps in /tmp were seen to fail).
	mkdir -p "$dir/tmp"
	bash "$(dirname "$0")/test-certs.sh" "$dir/certs" 9>&- >/dev/null ||
		die "making the test certificates failed"
	if [[ ! -d $data/mysql ]]; then
		echo "mariadb: initialising $data"
		rm -rf "$data" "$data.new"
		# Into a side directory first: an interrupted or failed bootstrap
		# must not leave a datadir that looks initialised.
		mariadb-install-db --no-defaults --datadir="$data.new" --user=root \
			--tmpdir="$dir/tmp" --auth-root-authentication-method=socket \
			--skip-name-resolve --skip-test-db </dev/null >"$dir/install.log" 2>&1 9>&- || {
			tail -n 40 "$dir/install.log" >&2
			rm -rf "$data.new"
			die "mariadb-install-db failed (full output in $dir/install.log)"
		}
		mv "$data.new" "$data"
	fi

	# max_connections=2500 plus tables: raise the descriptor limit as far
	# as we may (mariadbd, as root, may raise it further itself).
	# back_log: tests and perf/conns.sh open hundreds of connections at
	# once; a full accept queue drops SYNs, retried after 1, 3, 7 s.
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

	# If anything below fails (or we are interrupted), the server this
	# script started must not outlive it.
	pid=
	trap '[[ -z $pid ]] || kill -KILL "$pid" 2>/dev/null || true' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM

	local extra=()
	read -r -d "" -a extra <<<"${MARIADB_EXTRA_ARGS:-}" || true
	for attempt in 1 2 3 4 5; do
		port=${MARIADB_WANT_PORT:-$(free_port)}
		touch "$log"
		size=$(stat -c %s "$log")
		# 9>&-: the server must not inherit (and hold) the DIR lock.
		mariadbd --no-defaults --datadir="$data" --user=root --tmpdir="$dir/tmp" \
			--port="$port" --bind-address=127.0.0.1 --socket="$sock" \
			--pid-file="$pidf" --log-error="$log" \
			--max-allowed-packet=1G --max-connections=2500 --back-log=2000 \
			--local-infile=ON \
			--ssl-ca="$dir/certs/ca.pem" --ssl-cert="$dir/certs/server.pem" \
			--ssl-key="$dir/certs/server-key.pem" \
			--skip-name-resolve --max-connect-errors=1000000000 \
			--innodb-buffer-pool-size=256M --innodb-flush-log-at-trx-commit=2 \
			--performance-schema=OFF --thread-cache-size=200 \
			--open-files-limit=65536 --table-open-cache=4000 --skip-log-bin \
			"${extra[@]}" </dev/null >/dev/null 2>&1 9>&- &
		pid=$!
		for _ in $(seq 1 600); do
			if ping_server; then
				break 2
			fi
			if ! ours "$pid"; then
				wait "$pid" 2>/dev/null || true
				if tail -c +"$((size + 1))" "$log" | grep -qiE 'bind on tcp/ip port|address already in use'; then
					echo "mariadb: port $port was taken meanwhile (attempt $attempt), trying another" >&2
					[[ -z ${MARIADB_WANT_PORT:-} ]] || sleep 1
					pid=
					continue 2
				fi
				echo "mariadb: server exited during start-up; $log ends with:" >&2
				tail -n 30 "$log" >&2
				pid=
				exit 1
			fi
			sleep 0.1
		done
		echo "mariadb: not ready after 60 s; $log ends with:" >&2
		tail -n 30 "$log" >&2
		exit 1
	done
	if [[ -z $pid ]]; then
		die "could not bind a free port in 5 attempts"
	fi

	setup
	write_env "$port" "$pid"
	trap - EXIT INT TERM
	echo "mariadb: ready on 127.0.0.1:$port in $((SECONDS - t0)) s (pid $pid, socket $sock, ed25519=$have_ed)"
}

case $cmd in
start) do_start ;;
stop) do_stop ;;
esac
