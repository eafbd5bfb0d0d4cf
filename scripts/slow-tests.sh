#!/usr/bin/env bash
# The integration suite on a starved machine, to find tests that race the
# clock before CI does.  Runs `scripts/test.sh` (by default only the
# normal build's integration step) N times with everything it starts
# (MariaDB, the proxies, the test clients) in a cgroup limited to PERCENT
# of one CPU.  A test that passes here at 15% (about 6x slower than an idle
# run) does not depend on the machine's speed.
#
#   scripts/slow-tests.sh [--cpu PERCENT] [--runs N] [--filter PATTERN]
#                         [--steps "normal asan"]
#
# Needs root and the cgroup cpu controller (v1 or v2).  Exit status: 0 if
# every run passed.
set -euo pipefail
cd "$(dirname "$0")/.."

cpu=15
runs=3
filter=
steps=normal
while (($#)); do
	case $1 in
	--cpu) cpu=$2; shift 2 ;;
	--runs) runs=$2; shift 2 ;;
	--filter) filter=$2; shift 2 ;;
	--steps) steps=$2; shift 2 ;;
	-h | --help) sed -n '2,12p' "$0"; exit 0 ;;
	*) echo "slow-tests: unknown argument $1 (see --help)" >&2; exit 2 ;;
	esac
done
[[ $cpu =~ ^[0-9]+$ && $cpu -ge 1 && $cpu -le 100 ]] ||
	{ echo "slow-tests: --cpu takes 1..100" >&2; exit 2; }

period=100000
quota=$((period * cpu / 100))
if [[ -f /sys/fs/cgroup/cgroup.controllers ]]; then
	root=/sys/fs/cgroup
	grep -qw cpu "$root/cgroup.subtree_control" ||
		echo +cpu >"$root/cgroup.subtree_control"
	group=$root/myring-slow-$$
	mkdir "$group"
	echo "$quota $period" >"$group/cpu.max"
elif [[ -d /sys/fs/cgroup/cpu ]]; then
	root=/sys/fs/cgroup/cpu
	group=$root/myring-slow-$$
	mkdir "$group"
	echo "$period" >"$group/cpu.cfs_period_us"
	echo "$quota" >"$group/cpu.cfs_quota_us"
else
	echo "slow-tests: no cgroup cpu controller here" >&2
	exit 1
fi
# Leave the group before removing it; test.sh has stopped what it started.
trap 'echo $$ >"$root/cgroup.procs"; rmdir "$group" 2>/dev/null || true' EXIT
echo $$ >"$group/cgroup.procs"

failed=0
for ((r = 1; r <= runs; r++)); do
	echo "==== slow-tests: run $r of $runs at $cpu% of one CPU"
	if MYRING_TEST_STEPS=$steps MYRING_ITEST_FILTER=$filter bash scripts/test.sh; then
		echo "==== slow-tests: run $r passed"
	else
		echo "==== slow-tests: run $r FAILED"
		failed=$((failed + 1))
	fi
done
echo "slow-tests: $((runs - failed)) of $runs run(s) passed at $cpu% of one CPU"
((failed == 0))
