#!/usr/bin/env bash
# What `make run` runs: build myring, start a throwaway MariaDB, and run
# myring in the foreground in front of it.  Ctrl-C stops both and removes
# the throwaway data.  Arguments are passed on to myring.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
make build/myring
DIR=$(mktemp -d /tmp/myring-run.XXXXXX)
MYRING_PID=
cleanup() {
	[[ -n "$MYRING_PID" ]] && kill -TERM "$MYRING_PID" 2>/dev/null && wait "$MYRING_PID" 2>/dev/null
	bash scripts/mariadb.sh stop "$DIR" > /dev/null || true
	rm -rf "$DIR"
}
trap cleanup EXIT
trap 'exit 0' INT TERM
bash scripts/mariadb.sh start "$DIR"
# shellcheck disable=SC1091
source "$DIR/env"
port=6033
while (echo > "/dev/tcp/127.0.0.1/$port") 2>/dev/null; do
	port=$((port + 1))
done
cat <<MSG

myring listens on 127.0.0.1:$port in front of MariaDB on 127.0.0.1:$MARIADB_PORT.
connect with: mariadb -h127.0.0.1 -P$port -umyring -pmyring-pw myring_test
Ctrl-C stops myring and the throwaway MariaDB.

MSG
build/myring --listen "127.0.0.1:$port" --backend "127.0.0.1:$MARIADB_PORT" \
	--threads "$(nproc)" "$@" &
MYRING_PID=$!
wait "$MYRING_PID"
