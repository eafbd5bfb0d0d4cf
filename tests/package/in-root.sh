#!/usr/bin/env bash
# Installs the package for real, in a throwaway root (an overlay of the
# build machine's own Debian 12 root, in a private mount and network
# namespace: scripts/test-package.sh), and checks what dpkg, the
# maintainer scripts and the installed unit do.  Nothing here reaches the
# real machine.
#   in-root.sh PACKAGE.deb DIR
# DIR holds run_as_unit.py and repo/: what make install needs (Makefile,
# scripts/manpage.sh, packaging/, docs, a built binary named myring).
set -uo pipefail
deb=$1
here=$2
fails=0
ok() { echo "package: ok   $*"; }
bad() { echo "package: FAIL $*"; fails=$((fails + 1)); }
expect() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}
export DEBIAN_FRONTEND=noninteractive
conf=/etc/myring/myring.yaml
unit=/lib/systemd/system/myring.service

# make install as root, without DESTDIR, as on a machine without the
# package: the user is created, the config given to its group.
repo=$here/repo
if ! make -C "$repo" --no-print-directory install INSTALL_BIN="$repo/myring" \
	>/tmp/make-install.log 2>&1; then
	bad "make install (root, no DESTDIR)"
	cat /tmp/make-install.log
fi
# (Debian's /usr/local/man is a link to /usr/local/share/man.)
expect "make install: /usr/local/bin/myring, the unit, the manual page (man -w: $(man -w myring 2>&1))" \
	test -x /usr/local/bin/myring -a -f /usr/local/lib/systemd/system/myring.service \
	-a "$(readlink -f "$(man -w myring 2>/dev/null)")" = /usr/local/share/man/man1/myring.1
expect "make install: created the system user myring" \
	test -n "$(getent passwd myring | grep ':/nonexistent:/usr/sbin/nologin$')"
expect "make install: $conf is 640 root:myring" \
	test "$(stat -c '%a %U %G' "$conf")" = "640 root myring"
expect "make install: systemd-analyze verify of the installed unit" \
	systemd-analyze verify /usr/local/lib/systemd/system/myring.service
make -C "$repo" --no-print-directory uninstall >/tmp/make-uninstall.log 2>&1 ||
	bad "make uninstall"
expect "make uninstall: files gone, config kept" \
	test ! -e /usr/local/bin/myring -a ! -e /usr/local/lib/systemd/system/myring.service \
	-a ! -e /usr/local/share/doc/myring -a -e "$conf"
# The package starts from a machine without either.
rm -rf /etc/myring
userdel myring

if ! dpkg -i "$deb" >/tmp/dpkg-i.log 2>&1; then
	bad "dpkg -i $(basename "$deb")"
	cat /tmp/dpkg-i.log
	exit 1
fi
ok "dpkg -i $(basename "$deb"): dependencies met, maintainer scripts ran"
expect "dpkg -s: installed" \
	grep -qx 'Status: install ok installed' <(dpkg -s myring)

# The postinst: the user, the config's permissions, the unit enabled.
IFS=: read -r _ _ uid _ _ home shell < <(getent passwd myring)
expect "system user myring (uid $uid, home $home, shell $shell)" \
	test -n "$uid" -a "${uid:-1000}" -lt 1000 -a "$home" = /nonexistent \
	-a "$shell" = /usr/sbin/nologin
expect "$conf is 640 root:myring" \
	test "$(stat -c '%a %U %G' "$conf")" = "640 root myring"
expect "$conf is a conffile" grep -qx " $conf [0-9a-f]*" \
	<(dpkg-query -W -f='${Conffiles}\n' myring)
expect "enabled as Debian enables daemons (multi-user.target.wants)" \
	test "$(readlink /etc/systemd/system/multi-user.target.wants/myring.service)" = "$unit"
expect "systemd-analyze verify $unit" systemd-analyze verify "$unit"
expect "man -w myring finds the page" \
	test "$(man -w myring 2>/dev/null)" = /usr/share/man/man1/myring.1.gz
expect "myring --version runs (libraries resolved)" \
	grep -q '^built with liburing ' <(/usr/bin/myring --version)
expect "--check-config $conf as user myring" \
	setpriv --reuid=myring --regid=myring --init-groups \
	/usr/bin/myring --check-config "$conf"

# The service as its unit runs it: user, capabilities, limits, readiness.
expect "the unit's ExecStart, as systemd would run it" \
	python3 "$here/run_as_unit.py" "$unit"
expect "a port below 1024 with the unit's CAP_NET_BIND_SERVICE" \
	python3 "$here/run_as_unit.py" "$unit" --extra=--listen \
	--extra=127.0.0.1:306
expect "... and without it: refused" \
	python3 "$here/run_as_unit.py" "$unit" --extra=--listen \
	--extra=127.0.0.1:306 --no-caps --expect-exit 3 \
	--expect-msg "Permission denied"
# Why the unit sets LimitMEMLOCK: the rings are charged to it (exit 3
# and a hint on this kernel; older kernels charge the cgroup and start).
if python3 "$here/run_as_unit.py" "$unit" --memlock 65536 --expect-exit 3 \
	--expect-msg "LimitMEMLOCK" >/tmp/memlock.log 2>&1; then
	ok "with a 64 KiB RLIMIT_MEMLOCK: exit 3, the message names LimitMEMLOCK"
else
	echo "package: note a 64 KiB RLIMIT_MEMLOCK did not stop the start" \
	     "(this kernel does not charge io_uring rings to it):"
	sed -n '1,3p' /tmp/memlock.log
fi

# An edited config survives a reinstall, with its permissions.
echo "# edited" >>"$conf"
dpkg -i "$deb" >/tmp/dpkg-i2.log 2>&1 || bad "dpkg -i again"
expect "a reinstall keeps the edited config and its mode" \
	test "$(tail -n 1 "$conf"):$(stat -c '%a %G' "$conf")" = "# edited:640 myring"

dpkg -r myring >/tmp/dpkg-r.log 2>&1 || bad "dpkg -r myring"
expect "dpkg -r: binary, unit and manual page gone" \
	test ! -e /usr/bin/myring -a ! -e "$unit" \
	-a ! -e /usr/share/man/man1/myring.1.gz
expect "dpkg -r: the config stays" test -e "$conf"
dpkg --purge myring >/tmp/dpkg-purge.log 2>&1 || bad "dpkg --purge myring"
expect "dpkg --purge: config, its statoverride and enable link gone" \
	test ! -e /etc/myring -a \
	! -e /etc/systemd/system/multi-user.target.wants/myring.service
expect "dpkg --purge: no statoverride left" \
	test -z "$(dpkg-statoverride --list $conf)"
expect "dpkg --purge: the system user stays (Debian convention)" \
	test -n "$(getent passwd myring)"
exit $((fails > 0))
