#!/usr/bin/env bash
# What `make deb` runs: a Debian package of myring, from a staged
# `make install`, without debhelper:
#   build/myring_VERSION-1_ARCH.deb
# The binary is built again with Debian's hardening flags
# (dpkg-buildflags, hardening=+all) into build/deb/myring and stripped in
# the package; Depends comes from dpkg-shlibdeps on that binary (so a new
# library dependency shows up by itself), plus adduser for the postinst.
# Maintainer scripts: packaging/debian/.  Checked by scripts/test-package.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

for tool in dpkg-deb dpkg-shlibdeps dpkg-buildflags; do
	if ! command -v "$tool" >/dev/null; then
		echo "deb: $tool is missing (apt-get install dpkg-dev)" >&2
		exit 1
	fi
done

version=$(cat VERSION)
debversion=$version-1
arch=$(dpkg --print-architecture)
top=build/deb
pkg=$top/debian/myring
out=build/myring_${debversion}_${arch}.deb

export DEB_BUILD_MAINT_OPTIONS=hardening=+all
make -j2 build/deb/myring \
	DEB_CFLAGS="$(dpkg-buildflags --get CFLAGS)" \
	DEB_CPPFLAGS="$(dpkg-buildflags --get CPPFLAGS)" \
	DEB_LDFLAGS="$(dpkg-buildflags --get LDFLAGS)"

rm -rf "$pkg" "$out"
make --no-print-directory install DESTDIR="$PWD/$pkg" PREFIX=/usr \
	UNITDIR=/lib/systemd/system INSTALL_BIN=build/deb/myring >/dev/null

# What Debian policy asks of the files: a stripped binary (the build-id
# stays, for matching a core dump with build/deb/myring), a compressed
# manual page, a copyright file and a changelog.
strip --strip-unneeded --remove-section=.comment --remove-section=.note \
	"$pkg/usr/bin/myring"
gzip -9n "$pkg/usr/share/man/man1/myring.1"
doc=$pkg/usr/share/doc/myring
{
	printf 'Format: https://www.debian.org/doc/packaging-manuals/copyright-format/1.0/\n'
	printf 'Upstream-Name: myring\n\nFiles: *\n'
	printf 'Copyright: %s\n' "$(grep -m1 '^Copyright' LICENSE | sed 's/^Copyright (c) //')"
	printf 'License: Expat\n'
	sed -n '/^Permission/,$p' LICENSE | sed -e 's/^$/./' -e 's/^/ /'
} >"$doc/copyright"
when=$(date -u -R -d "@${SOURCE_DATE_EPOCH:-$(git log -1 --format=%ct 2>/dev/null || date +%s)}")
maintainer=${DEB_MAINTAINER:-The myring developers <myring@localhost>}
printf 'myring (%s) unstable; urgency=medium\n\n  * Built from %s.\n\n -- %s  %s\n' \
	"$debversion" "$(git describe --always --dirty 2>/dev/null || echo "version $version")" \
	"$maintainer" "$when" | gzip -9n >"$doc/changelog.Debian.gz"
chmod 644 "$doc/copyright" "$doc/changelog.Debian.gz"

# Depends: what the binary links, as dpkg-shlibdeps names it (it wants a
# debian/control beside the package directory, which has its DEBIAN/).
install -d -m 755 "$pkg/DEBIAN"
printf 'Source: myring\n\nPackage: myring\nArchitecture: any\n' >"$top/debian/control"
shlibs=$(cd "$top" && dpkg-shlibdeps -O debian/myring/usr/bin/myring)
shlibs=${shlibs#shlibs:Depends=}

install -m 755 packaging/debian/postinst packaging/debian/prerm \
	packaging/debian/postrm "$pkg/DEBIAN/"
echo /etc/myring/myring.yaml >"$pkg/DEBIAN/conffiles"
cat >"$pkg/DEBIAN/control" <<EOF
Package: myring
Version: $debversion
Architecture: $arch
Maintainer: $maintainer
Installed-Size: $(du -sk --exclude=DEBIAN "$pkg" | cut -f1)
Depends: adduser, $shlibs
Section: database
Priority: optional
Description: MySQL/MariaDB proxy on io_uring
 myring sits between MySQL clients and a MySQL or MariaDB server, relays
 the wire protocol exactly and sees every command: it logs commands,
 keeps per-fingerprint statistics readable from a MySQL-protocol admin
 port, exports Prometheus metrics, applies query rules (reject, rewrite,
 answer) and pools backend connections.  One worker thread per core,
 each with its own io_uring ring.
 .
 The package runs it as a systemd service (myring.service, user myring)
 with /etc/myring/myring.yaml.
EOF
(cd "$pkg" && find . -path ./DEBIAN -prune -o -type f -printf '%P\0' |
	LC_ALL=C sort -z | xargs -0 md5sum) >"$pkg/DEBIAN/md5sums"
chmod 644 "$pkg/DEBIAN/control" "$pkg/DEBIAN/conffiles" "$pkg/DEBIAN/md5sums"

dpkg-deb --root-owner-group -Zxz --build "$pkg" "$out" >/dev/null
echo "deb: $out ($(du -h "$out" | cut -f1)); Depends: adduser, $shlibs"
