#!/usr/bin/env bash
# Cost of a system call and of an io_uring round trip on this
# machine (see perf/syscost.c and RESULTS.md "Where myring's CPU goes").
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh > /dev/null
mkdir -p build/perf
gcc -O2 -Wall -Wextra -o build/perf/syscost perf/syscost.c -luring
exec build/perf/syscost
