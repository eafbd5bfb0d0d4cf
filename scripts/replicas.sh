#!/usr/bin/env bash
# A private MariaDB replica set for the backend-group tests: a primary and
# two GTID replicas, each a scripts/mariadb.sh server (own datadir, free
# loopback port, stopped by PID only).
#
#   scripts/replicas.sh start DIR   make sure the set runs as below: reused
#                                   when it does, else built afresh
#   scripts/replicas.sh reset DIR   build it afresh (after a test that
#                                   promoted a replica or killed a server)
#   scripts/replicas.sh stop DIR    stop all three
#
# The set: DIR/primary (server_id 1, read_only=0), DIR/replica1 and
# DIR/replica2 (server_id 2 and 3, read_only=1), every server with
# log-bin, log-slave-updates, binlog_format=ROW and gtid_strict_mode; the
# replicas replicate from the primary with CHANGE MASTER TO ...
# MASTER_USE_GTID=slave_pos.  Users: those of scripts/mariadb.sh, plus
#   repl@127.0.0.1            repl-pw     REPLICATION SLAVE
#   myring_monitor@127.0.0.1  monitor-pw  SLAVE MONITOR (what myring's
#                                         health checks need)
# on every server (so a promoted replica serves its peers too).  And
# myring_test.whoami, one row: the server's own server_id, written on each
# server outside replication (sql_log_bin = 0), so that a plain read says
# which server answered it (myring sends SELECT @@server_id to the
# primary: it reads what differs from server to server).
#
# DIR/env is sourceable: REPL_PRIMARY_PORT REPL_REPLICA1_PORT
# REPL_REPLICA2_PORT, REPL_*_PID, REPL_*_SOCKET, REPL_*_SERVER_ID.
# "Afresh" copies one datadir bootstrapped once (DIR/template), so a reset
# takes a few seconds, not a bootstrap per server.
set -euo pipefail

usage() {
	echo "usage: scripts/replicas.sh start|reset|stop DIR" >&2
	exit 2
}
die() {
	echo "replicas: $*" >&2
	exit 1
}

cmd=${1:-}
dir=${2:-}
[[ ($cmd == start || $cmd == reset || $cmd == stop) && -n $dir ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
envf=$dir/env
names=(primary replica1 replica2)

exec 8>"$dir/.lock"
flock -w 300 8 || die "$dir is locked by another replicas.sh for over 300 s"

# shellcheck source=scripts/server-set.sh
source "$here/server-set.sh"

# One field of SHOW SLAVE STATUS on NAME ("" if none).
slave_field() { # NAME FIELD
	local s
	s=$(sock_of "$1")
	[[ -n $s ]] || return 0
	mariadb --no-defaults --protocol=socket -S "$s" -uroot -B \
		--connect-timeout=3 -e "SHOW SLAVE STATUS\G" 2>/dev/null |
		sed -n "s/^ *$2: //p" | head -n 1
}

# True if the set runs as described at the top: every server answers,
# the primary is writable and replicates from nobody, each replica is
# read-only and replicates (both threads, no delay) from the primary.
healthy() {
	local n pport
	for n in "${names[@]}"; do
		[[ -f $dir/$n/env ]] || return 1
		kill -0 "$(pid_of "$n")" 2>/dev/null || return 1
	done
	pport=$(port_of primary)
	[[ $(sql primary "SELECT @@read_only" 2>/dev/null) == 0 ]] || return 1
	[[ -z $(slave_field primary Master_Port) ]] || return 1
	for n in replica1 replica2; do
		[[ $(sql "$n" "SELECT @@read_only" 2>/dev/null) == 1 ]] || return 1
		[[ $(slave_field "$n" Master_Port) == "$pport" ]] || return 1
		[[ $(slave_field "$n" Slave_IO_Running) == Yes ]] || return 1
		[[ $(slave_field "$n" Slave_SQL_Running) == Yes ]] || return 1
		[[ $(slave_field "$n" SQL_Delay) == 0 ]] || return 1
	done
}

stop_all() {
	local n
	for n in "${names[@]}"; do
		[[ -d $dir/$n ]] || continue
		bash "$here/mariadb.sh" stop "$dir/$n" 8>&- >/dev/null || true
	done
	rm -f "$envf"
}

template() {
	local t=$dir/template
	[[ -d $t/mysql ]] && return 0
	rm -rf "$t" "$t.new"
	mkdir -p "$dir/tmp"
	mariadb-install-db --no-defaults --datadir="$t.new" --user=root \
		--tmpdir="$dir/tmp" --auth-root-authentication-method=socket \
		--skip-name-resolve --skip-test-db </dev/null >"$dir/install.log" 2>&1 || {
		tail -n 40 "$dir/install.log" >&2
		rm -rf "$t.new"
		die "mariadb-install-db failed (full output in $dir/install.log)"
	}
	mv "$t.new" "$t"
}

start_one() { # NAME SERVER_ID
	local n=$1 id=$2
	mkdir -p "$dir/$n"
	rm -rf "$dir/$n/data"
	cp -a "$dir/template" "$dir/$n/data"
	MARIADB_EXTRA_ARGS="--log-bin=$dir/$n/data/binlog --server-id=$id
		--log-slave-updates --binlog-format=ROW --gtid-strict-mode=ON
		--gtid-domain-id=0 --relay-log=$dir/$n/data/relay
		--slave-net-timeout=5 --skip-slave-start" \
		bash "$here/mariadb.sh" start "$dir/$n" 8>&- >"$dir/$n.start.log" 2>&1 || {
		cat "$dir/$n.start.log" >&2
		return 1
	}
}

write_env() {
	local tmp n up
	tmp=$(mktemp "$dir/env.XXXXXX")
	for n in "${names[@]}"; do
		up=REPL_${n^^}
		{
			echo "${up}_PORT=$(port_of "$n")"
			echo "${up}_PID=$(pid_of "$n")"
			echo "${up}_SOCKET=$(sock_of "$n")"
			echo "${up}_SERVER_ID=$(sql "$n" "SELECT @@server_id")"
		} >>"$tmp"
	done
	mv -f "$tmp" "$envf"
}

build() {
	local t0=$SECONDS n id=1 pport
	stop_all
	# A failure half-way must not leave servers running.
	trap 'stop_all' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	template
	for n in "${names[@]}"; do
		start_one "$n" "$id" || die "starting $n failed"
		id=$((id + 1))
	done
	pport=$(port_of primary)
	for n in "${names[@]}"; do
		sql "$n" "
CREATE OR REPLACE USER 'repl'@'127.0.0.1' IDENTIFIED BY 'repl-pw';
GRANT REPLICATION SLAVE ON *.* TO 'repl'@'127.0.0.1';
CREATE OR REPLACE USER 'myring_monitor'@'127.0.0.1' IDENTIFIED BY 'monitor-pw';
GRANT SLAVE MONITOR ON *.* TO 'myring_monitor'@'127.0.0.1';
RESET MASTER;
SET SESSION sql_log_bin = 0;
CREATE TABLE myring_test.whoami (server_id INT PRIMARY KEY);
INSERT INTO myring_test.whoami VALUES (@@server_id);" ||
			die "setting up users on $n failed"
	done
	for n in replica1 replica2; do
		sql "$n" "
SET GLOBAL gtid_slave_pos = '';
CHANGE MASTER TO MASTER_HOST = '127.0.0.1', MASTER_PORT = $pport,
	MASTER_USER = 'repl', MASTER_PASSWORD = 'repl-pw',
	MASTER_USE_GTID = slave_pos, MASTER_CONNECT_RETRY = 1;
START SLAVE;
SET GLOBAL read_only = 1;" || die "starting replication on $n failed"
	done
	# Replication runs: a table made on the primary reaches both.
	sql primary "CREATE TABLE myring_test.repl_ready (id INT PRIMARY KEY);
		DROP TABLE myring_test.repl_ready" || die "write on the primary failed"
	for _ in $(seq 1 100); do
		healthy && break
		sleep 0.1
	done
	healthy || {
		for n in replica1 replica2; do
			echo "--- $n" >&2
			sql "$n" "SHOW SLAVE STATUS\G" >&2 || true
		done
		die "replication did not start"
	}
	write_env
	trap - EXIT INT TERM
	echo "replicas: primary 127.0.0.1:$pport, replicas 127.0.0.1:$(port_of replica1)" \
		"and 127.0.0.1:$(port_of replica2), ready in $((SECONDS - t0)) s ($dir)"
}

case $cmd in
start)
	if healthy; then
		write_env
		echo "replicas: reusing the set in $dir"
	else
		build
	fi
	;;
reset) build ;;
stop)
	stop_all
	echo "replicas: stopped ($dir)"
	;;
esac
