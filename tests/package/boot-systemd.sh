#!/usr/bin/env bash
# Becomes PID 1 of fresh namespaces (scripts/test-package.sh starts it
# under unshare --mount --net --pid --ipc --uts --cgroup --fork): builds a
# throwaway root, an overlay of this machine's root whose writable layer
# is a tmpfs private to this mount namespace, installs the package in it,
# and execs systemd there, in container mode, with a target that starts
# nothing but the journal.  tests/package/in-systemd.sh then drives it.
#   boot-systemd.sh DIR PACKAGE.deb FILES
# DIR (empty) becomes the tmpfs; the root is DIR/root.  FILES (a
# directory) is copied to /tmp/myring-pkg in it.
set -euo pipefail
ov=$1
deb=$2
files=$3
mount --make-rprivate /
mount -t tmpfs -o mode=700 tmpfs "$ov"
mkdir "$ov/upper" "$ov/work" "$ov/root"
mount -t overlay overlay -o "lowerdir=/,upperdir=$ov/upper,workdir=$ov/work" "$ov/root"
r=$ov/root
mount -t proc proc "$r/proc"
# What a container gets (as systemd-nspawn does it): read-only /sys and
# /proc/sys, its own cgroup tree, a minimal /dev, empty /run and /tmp.
mount --bind "$r/proc/sys" "$r/proc/sys"
mount -o remount,bind,ro "$r/proc/sys"
mount -t sysfs -o ro sysfs "$r/sys"
mount -t cgroup2 cgroup2 "$r/sys/fs/cgroup"
mount -t tmpfs -o mode=755 tmpfs "$r/dev"
for n in null zero full random urandom tty; do
	touch "$r/dev/$n"
	mount --bind "/dev/$n" "$r/dev/$n"
done
touch "$r/dev/console"
mount --bind /dev/null "$r/dev/console"
mkdir "$r/dev/shm" "$r/dev/pts"
mount -t tmpfs -o mode=1777 tmpfs "$r/dev/shm"
mount -t devpts -o newinstance,ptmxmode=0666 devpts "$r/dev/pts"
ln -s pts/ptmx "$r/dev/ptmx"
ln -s /proc/self/fd "$r/dev/fd"
mount -t tmpfs -o mode=755 tmpfs "$r/run"
mount -t tmpfs -o mode=1777 tmpfs "$r/tmp"
ip link set lo up
hostname myring-check

printf '#!/bin/sh\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
chmod 755 "$r/usr/sbin/policy-rc.d"
cp "$deb" "$r/tmp/"
cp -r "$files" "$r/tmp/myring-pkg"
if ! chroot "$r" env DEBIAN_FRONTEND=noninteractive dpkg -i "/tmp/$(basename "$deb")" \
	>"$r/tmp/dpkg.log" 2>&1; then
	cat "$r/tmp/dpkg.log" >&2
	exit 1
fi
rm "$r/usr/sbin/policy-rc.d"

# Boot only the journal.  The unit itself is unchanged; the drop-in only
# keeps its default dependencies (sysinit.target: udev, tmpfiles, ...)
# out of this container.
cat >"$r/etc/systemd/system/myring-check.target" <<'T'
[Unit]
Description=myring package check
DefaultDependencies=no
Wants=systemd-journald.socket systemd-journald.service
AllowIsolate=yes
T
mkdir -p "$r/etc/systemd/system/myring.service.d"
cat >"$r/etc/systemd/system/myring.service.d/check.conf" <<'T'
[Unit]
DefaultDependencies=no
After=systemd-journald.socket
T
export container=myring-check
# The capabilities a container has no business with go from the bounding
# set: modules, clock, kernel log, raw I/O.
exec capsh --drop=cap_sys_module,cap_sys_time,cap_syslog,cap_sys_rawio,cap_wake_alarm -- \
	-c "exec chroot '$r' /lib/systemd/systemd --system --unit=myring-check.target \
	    --log-target=journal --show-status=no"
