# Sourced by the perf scripts: the private MariaDB in perf/out/mariadb and
# the sysbench tables, prepared once per (tables, size) and kept between
# runs.  perf_db_up TABLES SIZE starts the server, sources its env
# (MARIADB_PORT, MARIADB_PID, ...) and prepares the data if needed.
# The caller's EXIT trap stops it: bash scripts/mariadb.sh stop "$DB".
DB=perf/out/mariadb

perf_db_up() { # TABLES SIZE
	local tables=$1 size=$2
	local sb=(--mysql-host=127.0.0.1 --mysql-user=myring --mysql-password=myring-pw
		--mysql-db=myring_test --tables="$tables" --table-size="$size")
	bash scripts/mariadb.sh start "$DB"
	# shellcheck disable=SC1091
	source "$DB/env"
	if [[ ! -f "$DB/prepared-$tables-$size" ]]; then
		echo "perf: preparing sysbench data ($tables tables x $size rows)"
		sysbench oltp_common "${sb[@]}" --mysql-port="$MARIADB_PORT" cleanup \
			> /dev/null 2>&1 || true
		sysbench oltp_common "${sb[@]}" --mysql-port="$MARIADB_PORT" prepare > /dev/null
		rm -f "$DB"/prepared-*
		touch "$DB/prepared-$tables-$size"
	fi
}

# perf_db_run TABLES SIZE: perf_db_up, stop the server when the calling
# script exits, and export what perf/bench.py (and the scripts built on it)
# read about the server, the data and where to write.
perf_db_run() { # TABLES SIZE
	trap 'bash scripts/mariadb.sh stop "$DB" > /dev/null 2>&1 || true' EXIT
	perf_db_up "$1" "$2"
	export MARIADB_PORT MARIADB_PID MARIADB_SOCKET BENCH_TABLES=$1 BENCH_TABLE_SIZE=$2
	export BENCH_MYRING=$PWD/build/myring BENCH_OUT=$PWD/perf/out
}

