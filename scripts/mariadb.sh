#!/usr/bin/env bash
# A private MariaDB for tests and benchmarks: own datadir, free loopback
# port, started and stopped by PID (never by name).
#
#   scripts/mariadb.sh start DIR   start (or reuse) the server in DIR; writes DIR/env
#   scripts/mariadb.sh stop DIR    stop it
#
# DIR/env is sourceable: MARIADB_HOST MARIADB_PORT MARIADB_PID MARIADB_SOCKET
# MARIADB_HAVE_ED25519.  Users: myring/myring-pw (all privileges),
# myring_other/other-pw (myring_test.*), myring_ed/ed-pw (ed25519).
set -euo pipefail

cmd=${1:?usage: mariadb.sh start|stop DIR}
dir=${2:?usage: mariadb.sh start|stop DIR}
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
envf=$dir/env

running() {
	[[ -f "$envf" ]] || return 1
	# shellcheck disable=SC1090
	source "$envf"
	kill -0 "$MARIADB_PID" 2>/dev/null &&
		mariadb-admin --no-defaults -S "$MARIADB_SOCKET" -uroot ping >/dev/null 2>&1
}

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

case "$cmd" in
start)
	if running; then
		echo "mariadb: reusing server on port $MARIADB_PORT (pid $MARIADB_PID)"
		exit 0
	fi
	if [[ ! -d "$dir/data/mysql" ]]; then
		rm -rf "$dir/data"
		mariadb-install-db --no-defaults --datadir="$dir/data" --user=root \
			--auth-root-authentication-method=socket > "$dir/install.log" 2>&1 || {
			cat "$dir/install.log" >&2
			exit 1
		}
	fi
	ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
	port=$(free_port)
	sock=$dir/mysqld.sock
	mariadbd --no-defaults --datadir="$dir/data" --user=root \
		--port="$port" --bind-address=127.0.0.1 --socket="$sock" \
		--pid-file="$dir/mariadb.pid" --log-error="$dir/mariadb.log" \
		--max-allowed-packet=1G --max-connections=2500 --local-infile=1 \
		--skip-name-resolve --innodb-buffer-pool-size=256M \
		--performance-schema=OFF --thread-cache-size=200 \
		--open-files-limit=65536 --table-open-cache=4000 \
		--innodb-flush-log-at-trx-commit=2 --skip-log-bin \
		> /dev/null 2>&1 &
	pid=$!
	for _ in $(seq 1 300); do
		if mariadb-admin --no-defaults -S "$sock" -uroot ping >/dev/null 2>&1; then
			break
		fi
		if ! kill -0 $pid 2>/dev/null; then
			echo "mariadb: server exited during start-up:" >&2
			tail -30 "$dir/mariadb.log" >&2
			exit 1
		fi
		sleep 0.2
	done
	if ! mariadb-admin --no-defaults -S "$sock" -uroot ping >/dev/null 2>&1; then
		echo "mariadb: not ready after 60 s:" >&2
		tail -30 "$dir/mariadb.log" >&2
		kill -TERM $pid 2>/dev/null || true
		exit 1
	fi
	have_ed=1
	mariadb --no-defaults -S "$sock" -uroot -e "INSTALL SONAME 'auth_ed25519'" \
		>/dev/null 2>&1 || mariadb --no-defaults -S "$sock" -uroot -e \
		"SELECT 1 FROM information_schema.plugins WHERE plugin_name='ed25519'" \
		2>/dev/null | grep -q 1 || have_ed=0
	mariadb --no-defaults -S "$sock" -uroot <<SQL
CREATE DATABASE IF NOT EXISTS myring_test;
CREATE USER IF NOT EXISTS 'myring'@'127.0.0.1' IDENTIFIED BY 'myring-pw';
CREATE USER IF NOT EXISTS 'myring'@'localhost' IDENTIFIED BY 'myring-pw';
CREATE USER IF NOT EXISTS 'myring'@'::1' IDENTIFIED BY 'myring-pw';
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'127.0.0.1' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'localhost' WITH GRANT OPTION;
GRANT ALL PRIVILEGES ON *.* TO 'myring'@'::1' WITH GRANT OPTION;
CREATE USER IF NOT EXISTS 'myring_other'@'127.0.0.1' IDENTIFIED BY 'other-pw';
GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_other'@'127.0.0.1';
SQL
	if [[ $have_ed == 1 ]]; then
		mariadb --no-defaults -S "$sock" -uroot -e "CREATE USER IF NOT EXISTS \
			'myring_ed'@'127.0.0.1' IDENTIFIED VIA ed25519 USING PASSWORD('ed-pw'); \
			GRANT ALL PRIVILEGES ON myring_test.* TO 'myring_ed'@'127.0.0.1';" ||
			have_ed=0
	fi
	cat > "$envf" <<ENV
MARIADB_HOST=127.0.0.1
MARIADB_PORT=$port
MARIADB_PID=$pid
MARIADB_SOCKET=$sock
MARIADB_HAVE_ED25519=$have_ed
ENV
	echo "mariadb: ready on 127.0.0.1:$port (pid $pid, datadir $dir/data)"
	;;
stop)
	[[ -f "$envf" ]] || exit 0
	# shellcheck disable=SC1090
	source "$envf"
	if kill -0 "$MARIADB_PID" 2>/dev/null; then
		kill -TERM "$MARIADB_PID"
		for _ in $(seq 1 150); do
			kill -0 "$MARIADB_PID" 2>/dev/null || break
			sleep 0.2
		done
		kill -KILL "$MARIADB_PID" 2>/dev/null || true
	fi
	rm -f "$envf"
	echo "mariadb: stopped"
	;;
*)
	echo "usage: mariadb.sh start|stop DIR" >&2
	exit 2
	;;
esac
