#!/usr/bin/env bash
# Runs inside the container of boot-systemd.sh, with systemd as PID 1:
# the installed unit, unchanged, under real systemd: Type=notify
# readiness, the sandbox (user, capabilities, seccomp, read-only system)
# with io_uring working in it, a query through it to a MariaDB, the query
# log in LogsDirectory, journal priorities, reload (good and bad file),
# Restart=on-failure, RestartPreventExitStatus=2 and stop.
#   in-systemd.sh DIR    (DIR holds mariadb.sh)
set -uo pipefail
here=$1
fails=0
ok() { echo "package: ok   systemd: $*"; }
bad() { echo "package: FAIL systemd: $*"; fails=$((fails + 1)); }
expect() {
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
conf=/etc/myring/myring.yaml
show() { systemctl show -p "$1" --value myring; }
wait_state() { # state, seconds
	for _ in $(seq 1 $(($2 * 10))); do
		[[ $(show ActiveState) == "$1" ]] && return 0
		sleep 0.1
	done
	return 1
}
unit_log() { journalctl -u myring --no-pager -o cat "$@"; }

for _ in $(seq 1 100); do
	[[ $(systemctl is-system-running 2>/dev/null) == running ]] && break
	sleep 0.1
done
expect "systemd $(systemctl --version | head -n 1 | cut -d' ' -f2) is up" \
	test "$(systemctl is-system-running)" = running

# A backend for it, on this container's own loopback.
if ! bash "$here/mariadb.sh" start /tmp/db >/tmp/db.log 2>&1; then
	bad "a MariaDB for the backend"
	tail -n 20 /tmp/db.log
	exit 1
fi
# shellcheck disable=SC1091
source /tmp/db/env
sed -i "s/^backend: .*/backend: 127.0.0.1:$MARIADB_PORT/" "$conf"
echo "log-queries: /var/log/myring/queries.log" >>"$conf"

systemctl start myring
expect "systemctl start myring: active once myring said READY=1 ($(show StatusText))" \
	test "$(show ActiveState)/$(show SubState)" = active/running -a \
	"$(show StatusText)" = "listening on 127.0.0.1:6033, backend 127.0.0.1:$MARIADB_PORT"
pid=$(show MainPID)
status() { awk -v k="$1:" '$1 == k {print $2}' "/proc/$pid/status"; }
expect "runs as myring ($(id -u myring)), not root" \
	test "$(status Uid)" = "$(id -u myring)" -a "$(id -u myring)" != 0
expect "capabilities: CAP_NET_BIND_SERVICE only ($(status CapEff)), no_new_privs, seccomp" \
	test "$(status CapEff)" = 0000000000000400 -a "$(status CapBnd)" = 0000000000000400 \
	-a "$(status NoNewPrivs)" = 1 -a "$(status Seccomp)" = 2
expect "the file system is read-only to it but for /var/log/myring" \
	test -n "$(grep -E ' / [^ ]+ ro,' "/proc/$pid/mountinfo")" -a \
	-n "$(grep -E ' /var/log/myring [^ ]+ rw,' "/proc/$pid/mountinfo")"
answer=$(mariadb --no-defaults -h127.0.0.1 -P6033 -umyring -pmyring-pw myring_test \
	-BNe "SELECT CONCAT('through ', 'myring')" 2>&1)
expect "a query through the sandboxed proxy (io_uring under SystemCallFilter=@system-service): '$answer'" \
	test "$answer" = "through myring"
sleep 0.5
expect "the query log is written to /var/log/myring" \
	grep -q "CONCAT('through ', 'myring')" /var/log/myring/queries.log
expect "the journal has myring's lines at their priority (info = 6)" \
	test -n "$(journalctl -u myring -o json --no-pager | grep '"PRIORITY":"6"' | grep 'listening on 127.0.0.1:6033')"

systemctl reload myring
expect "systemctl reload: RELOADING=1 ... READY=1, still active" \
	test "$(show ActiveState)" = active -a "$(show MainPID)" = "$pid" -a \
	-n "$(unit_log | grep 'SIGHUP: reloaded /etc/myring/myring.yaml')"
cp "$conf" /tmp/good.yaml
echo "threads: [" >>"$conf"
if systemctl reload myring 2>/dev/null; then
	bad "systemctl reload with a broken file should fail"
else
	ok "systemctl reload with a broken file fails (--check-config), no SIGHUP sent"
fi
expect "... and the service keeps running" test "$(show ActiveState)" = active -a "$(show MainPID)" = "$pid"
cp /tmp/good.yaml "$conf"

kill -SEGV "$pid"
for _ in $(seq 1 100); do
	new=$(show MainPID)
	[[ $new != 0 && $new != "$pid" && $(show SubState) == running ]] && break
	sleep 0.1
done
expect "Restart=on-failure: a crashed myring is started again (pid $pid -> $new)" \
	test "$new" != 0 -a "$new" != "$pid" -a "$(show ActiveState)" = active

echo "threads: [" >>"$conf"
# (A manual restart sets NRestarts, the count of automatic ones, to 0.)
systemctl restart myring 2>/dev/null
sleep 3   # RestartSec=2: a restart would have happened by now
expect "RestartPreventExitStatus=2: a broken file fails the start, no restart loop ($(show ActiveState), status $(show ExecMainStatus), $(show NRestarts) restarts)" \
	test "$(show ActiveState)" = failed -a "$(show ExecMainStatus)" = 2 -a \
	"$(show NRestarts)" = 0
expect "... its error is in the journal at priority err" \
	test -n "$(journalctl -u myring -p err -o cat --no-pager | grep '^myring: /etc/myring/myring.yaml')"
cp /tmp/good.yaml "$conf"
systemctl reset-failed myring

systemctl start myring
pid=$(show MainPID)
systemctl stop myring
expect "systemctl stop: STOPPING=1, drained, exit 0" \
	test "$(show ActiveState)" = inactive -a "$(show ExecMainStatus)" = 0 -a \
	-n "$(unit_log | grep 'stopped')"
bash "$here/mariadb.sh" stop /tmp/db >/dev/null 2>&1
exit $((fails > 0))
