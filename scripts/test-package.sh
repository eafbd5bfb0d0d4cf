#!/usr/bin/env bash
# make test's "package" step: installing myring, checked.
#  1. make install / make uninstall with DESTDIR and PREFIX into a scratch
#     directory: what lands where, with which modes and paths; an edited
#     config survives a second install and the uninstall.
#  2. The manual page: renders with man -l without a warning, and lists
#     every flag of --help.
#  3. make deb, then dpkg-deb --info / --contents: version, Depends naming
#     the package of every library the binary links (found with dpkg -S,
#     independently of dpkg-shlibdeps), conffiles, modes, a stripped and
#     hardened binary.
#  4. As root: a real dpkg -i of the package into a throwaway root (an
#     overlay of this machine's own Debian 12 root, in private mount and
#     network namespaces) with the installed unit's service run as systemd
#     would run it, then dpkg -r and --purge (tests/package/in-root.sh).
#     This machine is not changed: checked at the end.  Skipped, saying
#     why, where it cannot run (not root, no overlayfs).
#  5. As root: the installed unit, unchanged, under a real systemd booted
#     as PID 1 of throwaway namespaces: readiness, sandbox, a query
#     through it, reload, restart policy, stop (tests/package/in-systemd.sh).
# Prints "package: ok ..." per check; exits 1 if one failed.
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
fails=0
ok() { echo "package: ok   $*"; }
bad() { echo "package: FAIL $*"; fails=$((fails + 1)); }
expect() { # description, then a command that must succeed
	local what=$1
	shift
	if "$@"; then ok "$what"; else bad "$what"; fi
}

scratch=$(mktemp -d /tmp/myring-package.XXXXXX)
trap 'rm -rf "$scratch"' EXIT

# What this machine looks like before; compared at the end.
host_state() {
	getent passwd myring
	ls -la /etc/myring 2>&1
	dpkg-query -W -f='${Status} ${Version}\n' myring 2>&1
}
before=$(host_state)

# ---- 1. make install / uninstall, DESTDIR and PREFIX
stage=$scratch/stage
if ! make --no-print-directory install DESTDIR="$stage" PREFIX=/opt/myring \
	>"$scratch/install.log" 2>&1; then
	bad "make install DESTDIR=... PREFIX=/opt/myring"
	cat "$scratch/install.log"
else
	ok "make install DESTDIR=$stage PREFIX=/opt/myring"
fi
mode() { stat -c '%a' "$1" 2>/dev/null; }
expect "binary: PREFIX/bin/myring, 755" test "$(mode "$stage/opt/myring/bin/myring")" = 755
expect "manual page: PREFIX/share/man/man1/myring.1, 644" \
	test "$(mode "$stage/opt/myring/share/man/man1/myring.1")" = 644
svc=$stage/opt/myring/lib/systemd/system/myring.service
expect "unit: PREFIX/lib/systemd/system/myring.service" test -f "$svc"
expect "the unit starts PREFIX/bin/myring with /etc/myring/myring.yaml" \
	grep -qx 'ExecStart=/opt/myring/bin/myring --config /etc/myring/myring.yaml' "$svc"
expect "no @PLACEHOLDER@ left in the unit or the manual page" \
	test -z "$(grep -l '@[A-Z]*@' "$svc" "$stage/opt/myring/share/man/man1/myring.1")"
expect "docs and examples in PREFIX/share/doc/myring" \
	test -f "$stage/opt/myring/share/doc/myring/operations.md" -a \
	-f "$stage/opt/myring/share/doc/myring/examples/rules.yaml"
conf=$stage/etc/myring/myring.yaml
expect "config: /etc/myring/myring.yaml (not under PREFIX), 640" test "$(mode "$conf")" = 640
expect "config: the example" cmp -s "$conf" docs/examples/myring.yaml
echo "# edited" >>"$conf"
make --no-print-directory install DESTDIR="$stage" PREFIX=/opt/myring >"$scratch/install2.log" 2>&1 ||
	bad "make install, twice"
expect "a second make install keeps an edited config (and says so)" \
	test "$(tail -n 1 "$conf")" = "# edited" -a -n "$(grep 'kept' "$scratch/install2.log")"
make --no-print-directory uninstall DESTDIR="$stage" PREFIX=/opt/myring >"$scratch/uninstall.log" 2>&1 ||
	bad "make uninstall"
left=$(cd "$stage" && find . -type f | sort | tr '\n' ' ')
expect "make uninstall removes all but the config (left: $left)" \
	test "$left" = "./etc/myring/myring.yaml "

# ---- 2. the manual page
man1=build/myring.1
make --no-print-directory man >/dev/null || bad "make man"
warnings=$(LC_ALL=C MANWIDTH=80 man --warnings -l "$man1" 2>&1 >/dev/null)
expect "man -l $man1 renders without warnings${warnings:+: $warnings}" test -z "$warnings"
page=$(LC_ALL=C MANWIDTH=200 man -l "$man1" 2>/dev/null | col -b)
missing=()
nflags=0
for flag in $(build/myring --help | grep -E '^  -' | grep -oE -- '--[a-z][a-z-]*'); do
	nflags=$((nflags + 1))
	# "--require-tls[=on|off]": an optional value is written on.
	grep -qE -- "(^|[ ,])$flag( |\\[|\$)" <<<"$page" || missing+=("$flag")
done
expect "the manual page lists all $nflags flags of --help${missing[*]:+ (missing: ${missing[*]})}" \
	test "$nflags" -gt 20 -a ${#missing[@]} = 0
expect "the manual page has NAME, SYNOPSIS, OPTIONS, EXIT STATUS, FILES" \
	test "$(grep -cE '^(NAME|SYNOPSIS|OPTIONS|EXIT STATUS|FILES)$' <<<"$page")" = 5

# ---- 3. make deb, and what dpkg-deb says of it
if ! make --no-print-directory deb >"$scratch/deb.log" 2>&1; then
	bad "make deb"
	tail -n 30 "$scratch/deb.log"
	exit 1
fi
version=$(cat VERSION)-1
arch=$(dpkg --print-architecture)
deb=build/myring_${version}_${arch}.deb
ok "make deb: $deb"
field() { dpkg-deb -f "$deb" "$1"; }
expect "Package: myring, Version: $version, Architecture: $arch" \
	test "$(field Package) $(field Version) $(field Architecture)" = "myring $version $arch"
depends=$(field Depends)
# Every library the binary links, by the package that ships it here.
for lib in $(readelf -d build/deb/myring | sed -n 's/.*(NEEDED).*\[\(.*\)\]/\1/p'); do
	path=$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64|AArch64|64bit/ {print $NF; exit}')
	[[ -n $path ]] || path=$(ldconfig -p | awk -v l="$lib" '$1 == l {print $NF; exit}')
	# /lib is /usr/lib on Debian 12, and dpkg knows each file under one
	# of the two names.
	real=$(readlink -f "$path")
	owner=$( (dpkg -S "$path" || dpkg -S "$real" || dpkg -S "${real#/usr}") \
		2>/dev/null | head -n 1 | cut -d: -f1)
	expect "Depends names $owner (for $lib)" \
		grep -qE "(^|, )$owner( |,|\$)" <<<"$depends"
done
expect "Depends names adduser (postinst)" grep -qE '(^|, )adduser(,|$)' <<<"$depends"
expect "conffiles: /etc/myring/myring.yaml" \
	test "$(dpkg-deb --ctrl-tarfile "$deb" | tar -xOf - ./conffiles)" = /etc/myring/myring.yaml
contents=$(dpkg-deb --contents "$deb" | awk '{print $1, $2, $6}')
for want in "-rwxr-xr-x root/root ./usr/bin/myring" \
	"-rw-r--r-- root/root ./lib/systemd/system/myring.service" \
	"-rw-r--r-- root/root ./usr/share/man/man1/myring.1.gz" \
	"-rw-r----- root/root ./etc/myring/myring.yaml" \
	"-rw-r--r-- root/root ./usr/share/doc/myring/copyright" \
	"-rw-r--r-- root/root ./usr/share/doc/myring/changelog.Debian.gz"; do
	expect "contents: $want" grep -qxF -- "$want" <<<"$contents"
done
expect "contents: nothing under /usr/local" test -z "$(grep ' \./usr/local' <<<"$contents")"
ext=$scratch/deb
dpkg-deb -x "$deb" "$ext"
expect "the unit starts /usr/bin/myring --config /etc/myring/myring.yaml" \
	grep -qx 'ExecStart=/usr/bin/myring --config /etc/myring/myring.yaml' \
	"$ext/lib/systemd/system/myring.service"
expect "the packaged binary is stripped" \
	test -z "$(readelf -S "$ext/usr/bin/myring" | grep -w '\.symtab')"
expect "... and hardened (stack protector, fortify, full RELRO, PIE)" \
	test -n "$(readelf -Ws --dyn-syms "$ext/usr/bin/myring" | grep -w __stack_chk_fail)" \
	-a -n "$(readelf -Ws --dyn-syms "$ext/usr/bin/myring" | grep -E '__[a-z]+_chk@')" \
	-a -n "$(readelf -d "$ext/usr/bin/myring" | grep -E 'BIND_NOW|FLAGS.*NOW')" \
	-a -n "$(readelf -h "$ext/usr/bin/myring" | grep 'DYN ')"
expect "the packaged binary says its version" \
	test "$("$ext/usr/bin/myring" --version | head -n 1)" = "myring $(cat VERSION)"

# ---- 4. a real install into a throwaway root
why=
if [[ $(id -u) != 0 ]]; then
	why="not root"
elif ! command -v unshare >/dev/null || ! command -v chroot >/dev/null; then
	why="no unshare/chroot"
fi
if [[ -z $why ]]; then
	# The overlay's writable layer may not live on the file system it
	# covers: a tmpfs that exists in the private mount namespace only.
	ov=$scratch/overlay
	mkdir "$ov"
	cp "$deb" tests/package/in-root.sh tests/package/run_as_unit.py "$scratch/"
	# What make install needs, for trying it as root in the throwaway root.
	mkdir -p "$scratch/repo/scripts" "$scratch/repo/docs"
	cp Makefile VERSION README.md "$scratch/repo/"
	cp scripts/manpage.sh "$scratch/repo/scripts/"
	cp -r packaging "$scratch/repo/"
	cp -r docs/*.md docs/myring.1.in docs/examples "$scratch/repo/docs/"
	cp build/myring "$scratch/repo/myring"
	unshare --mount --net --fork bash -c '
		set -e
		ov=$1 scratch=$2 deb=$3
		mount --make-rprivate /
		mount -t tmpfs -o mode=700 tmpfs "$ov"
		mkdir "$ov/upper" "$ov/work" "$ov/root"
		if ! mount -t overlay overlay \
			-o "lowerdir=/,upperdir=$ov/upper,workdir=$ov/work" "$ov/root" 2>"$ov/mount.err"; then
			echo "package: skip real install: overlayfs: $(cat "$ov/mount.err")"
			exit 77
		fi
		r=$ov/root
		mount -t proc proc "$r/proc"
		mount --rbind /dev "$r/dev"
		mount --rbind /sys "$r/sys"
		# No systemd in here, whatever runs the machine: the postinst
		# must not reach the real one (daemon-reload, start).
		mount -t tmpfs tmpfs "$r/run"
		printf "#!/bin/sh\nexit 101\n" >"$r/usr/sbin/policy-rc.d"
		chmod 755 "$r/usr/sbin/policy-rc.d"
		ip link set lo up
		mkdir -p "$r/tmp/myring-pkg"
		cp -r "$scratch/$(basename "$deb")" "$scratch/in-root.sh" \
			"$scratch/run_as_unit.py" "$scratch/repo" "$r/tmp/myring-pkg/"
		exec chroot "$r" /bin/bash /tmp/myring-pkg/in-root.sh \
			"/tmp/myring-pkg/$(basename "$deb")" /tmp/myring-pkg
	' _ "$ov" "$scratch" "$deb"
	rc=$?
	if [[ $rc == 77 ]]; then
		:
	elif [[ $rc != 0 ]]; then
		bad "install into a throwaway root (above)"
	fi
else
	echo "package: skip real install ($why): dpkg-deb checks only"
fi
# ---- 5. the unit under real systemd, in a container
# systemd as PID 1 of fresh namespaces, in a cgroup of its own below this
# process's, on another throwaway overlay root (tests/package/
# boot-systemd.sh); tests/package/in-systemd.sh drives it through
# nsenter.  An environment that cannot boot it is a skip, said loudly;
# a unit that misbehaves under it is a failure.
why=
cg2=$(findmnt -n -t cgroup2 -o TARGET 2>/dev/null | head -n 1)
if [[ $(id -u) != 0 ]]; then
	why="not root"
elif [[ ! -x /lib/systemd/systemd ]]; then
	why="no /lib/systemd/systemd"
elif ! command -v capsh >/dev/null || ! command -v nsenter >/dev/null; then
	why="no capsh or nsenter"
elif [[ -z $cg2 ]]; then
	why="no cgroup2 file system"
fi
cg=
if [[ -z $why ]]; then
	self=$(awk -F: '$1 == "0" {print $3}' /proc/self/cgroup)
	cg=$cg2${self%/}/myring-package-check.$$
	mkdir "$cg" 2>/dev/null || why="cannot create the cgroup $cg"
fi
if [[ -z $why ]]; then
	mkdir "$scratch/files" "$scratch/sd"
	# mariadb.sh makes the test MariaDB's TLS certificates with test-certs.sh.
	cp tests/package/in-systemd.sh scripts/mariadb.sh scripts/test-certs.sh \
		"$scratch/files/"
	(echo "$BASHPID" >"$cg/cgroup.procs" &&
		exec unshare --mount --net --pid --ipc --uts --cgroup --fork \
			bash tests/package/boot-systemd.sh "$scratch/sd" "$deb" "$scratch/files") \
		>"$scratch/boot.log" 2>&1 &
	boot=$!
	sd=
	for _ in $(seq 1 300); do
		sd=$(pgrep -P "$(pgrep -P "$boot" -x unshare || echo "$boot")" -x systemd || true)
		[[ -z $sd ]] && sd=$(pgrep -P "$boot" -x systemd || true)
		if [[ -n $sd ]] && nsenter -t "$sd" -m -p -r -w systemctl is-system-running \
			>/dev/null 2>&1; then
			break
		fi
		kill -0 "$boot" 2>/dev/null || break
		sleep 0.1
	done
	if [[ -n $sd ]] && nsenter -t "$sd" -m -p -r -w systemctl is-system-running >/dev/null 2>&1; then
		nsenter -t "$sd" -m -p -n -i -u -C -r -w \
			bash /tmp/myring-pkg/in-systemd.sh /tmp/myring-pkg ||
			bad "the unit under systemd (above)"
	else
		echo "package: skip the unit under systemd: it did not boot in a container here:"
		tail -n 15 "$scratch/boot.log" | sed 's/^/    /'
	fi
	# Its PID 1 gone, the namespace's processes die with it.
	[[ -n $sd ]] && kill -KILL "$sd" 2>/dev/null
	kill -KILL "$boot" 2>/dev/null
	wait "$boot" 2>/dev/null
	for _ in $(seq 1 50); do
		find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null
		[[ -d $cg ]] || break
		sleep 0.1
	done
	[[ -d $cg ]] && bad "could not remove the cgroup $cg"
else
	echo "package: skip the unit under systemd ($why): systemd-analyze verify only"
fi

after=$(host_state)
expect "this machine is unchanged (user, /etc/myring, dpkg database)" \
	test "$before" = "$after"

if ((fails)); then
	echo "package: $fails check(s) failed"
	exit 1
fi
echo "package: all checks passed"
