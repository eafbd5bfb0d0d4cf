#!/usr/bin/env bash
# Installs the Debian 12 packages myring needs, only those missing.
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh perf     also the benchmark tools (sysbench, haproxy, perf)
# Idempotent; when everything is present it only runs dpkg-query.
set -euo pipefail

pkgs=(build-essential pkg-config liburing-dev libmimalloc-dev libpcre2-dev
      libcriterion-dev libmariadb-dev mariadb-server mariadb-client
      libyaml-dev libssl-dev zlib1g-dev python3-prometheus-client python3-pymysql clang
      libclang-rt-14-dev valgrind python3 dpkg-dev man-db iproute2 systemd)
case ${1:-} in
"") ;;
perf) pkgs+=(sysbench haproxy linux-perf) ;;
*)
	echo "usage: scripts/deps.sh [perf]" >&2
	exit 2
	;;
esac

# One dpkg-query for all (it exits non-zero if one is unknown to dpkg).
status=$(dpkg-query -W -f='${Package} ${db:Status-Status}\n' "${pkgs[@]}" 2>/dev/null || true)
missing=()
for p in "${pkgs[@]}"; do
	if ! grep -qxF "$p installed" <<<"$status"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: missing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: not root; install them with:" >&2
	echo "  sudo apt-get install --no-install-recommends ${missing[*]}" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
log=$(mktemp /tmp/myring-apt.XXXXXX.log)
cleanup() { rm -f "$log"; }
# The distribution's MariaDB service must not be started by the package
# scripts: tests run their own private server on a free port.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	cleanup() { rm -f "$log" /usr/sbin/policy-rc.d; }
fi
trap cleanup EXIT
echo "deps: apt-get update"
if ! apt-get update >"$log" 2>&1; then
	tail -n 30 "$log" >&2
	echo "deps: apt-get update failed" >&2
	exit 1
fi
echo "deps: apt-get install ${missing[*]} (this can take a few minutes)"
if ! apt-get install -y --no-install-recommends "${missing[@]}" >"$log" 2>&1; then
	tail -n 40 "$log" >&2
	echo "deps: apt-get install failed" >&2
	exit 1
fi
echo "deps: installed ${#missing[@]} package(s)"
