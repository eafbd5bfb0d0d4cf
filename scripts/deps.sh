#!/usr/bin/env bash
# Installs the Debian packages myring needs, only those missing.
#   scripts/deps.sh          build + test dependencies
#   scripts/deps.sh perf     also the benchmark tools (sysbench, haproxy, perf)
set -euo pipefail

pkgs=(build-essential pkg-config liburing-dev libmimalloc-dev libpcre2-dev
      libcriterion-dev libmariadb-dev mariadb-server mariadb-client
      clang libclang-rt-14-dev valgrind python3)
if [[ "${1:-}" == perf ]]; then
	pkgs+=(sysbench haproxy linux-perf)
fi

missing=()
for p in "${pkgs[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
if ((${#missing[@]} == 0)); then
	echo "deps: all ${#pkgs[@]} packages present"
	exit 0
fi
echo "deps: installing ${missing[*]}"
if [[ $(id -u) -ne 0 ]]; then
	echo "deps: missing packages and not root: install them with apt-get" >&2
	exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# The distribution's mariadb service must not start: tests run their own
# private server on a free port.
if [[ ! -e /usr/sbin/policy-rc.d ]]; then
	printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d
	chmod +x /usr/sbin/policy-rc.d
	trap 'rm -f /usr/sbin/policy-rc.d' EXIT
fi
apt-get install -y -qq --no-install-recommends "${missing[@]}" > /tmp/myring-apt.log 2>&1 || {
	tail -30 /tmp/myring-apt.log >&2
	exit 1
}
echo "deps: installed ${#missing[@]} package(s)"
