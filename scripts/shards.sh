#!/usr/bin/env bash
# The sharding rig for the differential test (docs/testing.md, "Sharding:
# the differential test"): four MariaDB shards and one reference server,
# each a scripts/mariadb.sh server (own datadir, free loopback port,
# stopped by PID only), each with the same empty schema.
#
#   scripts/shards.sh start DIR   make sure the five servers run (reused when
#                                 they do), roll back XA branches an earlier
#                                 run left prepared, then create the schema afresh
#                                 (the tables are empty afterwards)
#   scripts/shards.sh stop DIR    stop all five
#   scripts/shards.sh restart DIR [NAME...]
#                                 start again, on the port it had, each named
#                                 server (all five by default) that is not
#                                 running (a test killed it); its data is
#                                 kept (InnoDB recovers it, prepared XA
#                                 branches included) and DIR/env rewritten
#
# Servers: DIR/shard0 .. DIR/shard3 and DIR/ref, utf8mb4 with
# utf8mb4_general_ci as the server default and on every table.  Users:
# those of scripts/mariadb.sh (myring/myring-pw, all privileges).  On each,
# the database shop:
#   customers  sharded by id (hash); country joins countries.code
#   orders     sharded by customer_id (hash): co-located with its customer
#   countries  broadcast: the same rows on every shard
# and on the reference only, shop_check: the same tables again, so the
# tester can be checked against the reference itself (A and B on one
# server, different databases).
#
# DIR/env is sourceable: SHARD0_PORT .. SHARD3_PORT, REF_PORT, their _PID
# and _SOCKET, SHARDS_ADDRS (the four shards, host:port,...) and
# SHARDS_CONFIG, DIR/myring.yaml: a myring config for the rig (auth proxy,
# user myring, one group per shard, the keyspace; no listen address: give
# --listen).  docs/examples/sharded.yaml is the same config, annotated.
#
# "Afresh" copies one datadir bootstrapped once (DIR/template).
set -euo pipefail

usage() {
	echo "usage: scripts/shards.sh start|stop DIR | restart DIR [NAME...]" >&2
	exit 2
}
die() {
	echo "shards: $*" >&2
	exit 1
}

cmd=${1:-}
dir=${2:-}
[[ ($cmd == start || $cmd == stop || $cmd == restart) && -n $dir ]] || usage
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$dir"
dir=$(cd "$dir" && pwd)
envf=$dir/env
names=(shard0 shard1 shard2 shard3 ref)
# Small servers: five of them share the machine with the tests.
server_args="--character-set-server=utf8mb4 --collation-server=utf8mb4_general_ci
	--innodb-buffer-pool-size=64M --innodb-log-file-size=16M
	--max-connections=500"

exec 8>"$dir/.lock"
flock -w 300 8 || die "$dir is locked by another shards.sh for over 300 s"

# shellcheck source=scripts/server-set.sh
source "$here/server-set.sh"

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
		--skip-name-resolve --skip-test-db --innodb-log-file-size=16M \
		</dev/null >"$dir/install.log" 2>&1 8>&- || {
		tail -n 40 "$dir/install.log" >&2
		rm -rf "$t.new"
		die "mariadb-install-db failed (full output in $dir/install.log)"
	}
	mv "$t.new" "$t"
}

# mariadb.sh start reuses a server that runs; a new one gets a copy of
# the template.
start_one() { # NAME
	local n=$1
	mkdir -p "$dir/$n"
	[[ -d $dir/$n/data/mysql ]] || cp -a "$dir/template" "$dir/$n/data"
	MARIADB_EXTRA_ARGS=$server_args \
		bash "$here/mariadb.sh" start "$dir/$n" 8>&- >"$dir/$n.start.log" 2>&1
}

# The schema, on every server; shop_check on the reference only.
schema_sql() { # DB
	cat <<SQL
DROP DATABASE IF EXISTS $1;
CREATE DATABASE $1 CHARACTER SET utf8mb4 COLLATE utf8mb4_general_ci;
USE $1;
CREATE TABLE customers (
	id BIGINT PRIMARY KEY,
	name VARCHAR(40),
	region VARCHAR(20),
	balance DECIMAL(12,2),
	created DATE,
	country CHAR(2) NULL
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE orders (
	id BIGINT PRIMARY KEY,
	customer_id BIGINT,
	amount DECIMAL(10,2),
	qty INT,
	status VARCHAR(10),
	note VARCHAR(40) NULL,
	KEY (customer_id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
CREATE TABLE countries (
	code CHAR(2) PRIMARY KEY,
	name VARCHAR(40)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_general_ci;
SQL
}

write_config() { # FILE
	local i
	{
		cat <<'YAML'
# Written by scripts/shards.sh: myring over the rig's four shards
# (docs/examples/sharded.yaml explains it).  Give --listen.
auth: proxy
users:
  - name: myring
    password: myring-pw
groups:
YAML
		for i in 0 1 2 3; do
			echo "  - name: g$i"
			echo "    servers: [127.0.0.1:$(port_of "shard$i")]"
		done
		cat <<'YAML'
keyspace:
  schema: shop
  shards: [g0, g1, g2, g3]
  tables:
    - name: customers
      key: id
      function: hash
    - name: orders
      key: customer_id
      function: hash
    - name: countries
      type: broadcast
YAML
	} >"$1.new"
	mv -f "$1.new" "$1"
}

write_env() {
	local tmp n up addrs=""
	tmp=$(mktemp "$dir/env.XXXXXX")
	for n in "${names[@]}"; do
		up=${n^^}
		{
			echo "${up}_PORT=$(port_of "$n")"
			echo "${up}_PID=$(pid_of "$n")"
			echo "${up}_SOCKET=$(sock_of "$n")"
		} >>"$tmp"
		[[ $n == ref ]] || addrs+=${addrs:+,}127.0.0.1:$(port_of "$n")
	done
	echo "SHARDS_ADDRS=$addrs" >>"$tmp"
	echo "SHARDS_CONFIG=$dir/myring.yaml" >>"$tmp"
	mv -f "$tmp" "$envf"
}

# A run that died between an XA PREPARE and its COMMIT/ROLLBACK leaves the
# branch prepared in a reused datadir (InnoDB keeps it across restarts),
# holding its rows' locks: DROP DATABASE would wait for them.  A fresh
# start means a fresh rig, so such branches are rolled back first.
rollback_prepared() { # NAME
	local xid
	while IFS= read -r xid; do
		[[ -n $xid ]] || continue
		echo "shards: $1: rolling back a prepared XA branch left by an earlier run"
		sql "$1" "XA ROLLBACK $xid" || die "XA ROLLBACK $xid on $1 failed"
	done < <(sql "$1" "XA RECOVER FORMAT='SQL'" | cut -f4)
}

do_start() {
	local t0=$SECONDS n pids=() failed=0 i
	# A failure half-way must not leave servers running.
	trap 'stop_all' EXIT
	trap 'exit 130' INT
	trap 'exit 143' TERM
	template
	# In parallel: each start mostly waits for its server's InnoDB.
	for n in "${names[@]}"; do
		start_one "$n" &
		pids+=($!)
	done
	for i in "${!names[@]}"; do
		if ! wait "${pids[$i]}"; then
			echo "shards: starting ${names[$i]} failed:" >&2
			cat "$dir/${names[$i]}.start.log" >&2
			failed=1
		fi
	done
	((failed == 0)) || exit 1
	for n in "${names[@]}"; do
		rollback_prepared "$n"
		sql "$n" "$(schema_sql shop)" || die "creating the schema on $n failed"
	done
	sql ref "$(schema_sql shop_check)" || die "creating shop_check on ref failed"
	write_config "$dir/myring.yaml"
	write_env
	trap - EXIT INT TERM
	echo "shards: shards on 127.0.0.1:$(port_of shard0), :$(port_of shard1)," \
		":$(port_of shard2), :$(port_of shard3), reference on" \
		"127.0.0.1:$(port_of ref), ready in $((SECONDS - t0)) s ($dir)"
}

# The servers named (all by default) that do not run are started on the
# port they had: myring's configuration names it.
do_restart() { # NAME...
	local n port
	(($#)) || set -- "${names[@]}"
	for n in "$@"; do
		[[ " ${names[*]} " == *" $n "* ]] || die "no server $n in the rig"
		port=$(port_of "$n")
		[[ -n $port ]] || die "$n has no port recorded ($dir/$n/env)"
		MARIADB_WANT_PORT=$port MARIADB_EXTRA_ARGS=$server_args \
			bash "$here/mariadb.sh" start "$dir/$n" 8>&- \
			>"$dir/$n.start.log" 2>&1 || {
			cat "$dir/$n.start.log" >&2
			die "restarting $n failed"
		}
	done
	write_env
}

case $cmd in
start) do_start ;;
restart)
	shift 2
	do_restart "$@"
	;;
stop)
	stop_all
	echo "shards: stopped ($dir)"
	;;
esac
