# shellcheck shell=bash
# Sourced by scripts/replicas.sh and scripts/shards.sh: the servers of a
# set live in $dir/NAME, each started by scripts/mariadb.sh, which writes
# its socket, port and PID to $dir/NAME/env.  Each helper prints nothing
# for a server that is not running.

# The including script sets dir before it sources this.
: "${dir:?scripts/server-set.sh needs dir}"

# sock_of NAME: the server's socket.
sock_of() {
	sed -n 's/^MARIADB_SOCKET=//p' "$dir/$1/env" 2>/dev/null || true
}
port_of() {
	sed -n 's/^MARIADB_PORT=//p' "$dir/$1/env" 2>/dev/null || true
}
pid_of() {
	sed -n 's/^MARIADB_PID=//p' "$dir/$1/env" 2>/dev/null || true
}

# sql NAME SQL: runs SQL as root over the server's socket.
sql() {
	local s
	s=$(sock_of "$1")
	[[ -n $s ]] || return 1
	mariadb --no-defaults --protocol=socket -S "$s" -uroot -N -B \
		--connect-timeout=3 -e "$2"
}
