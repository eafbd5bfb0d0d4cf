#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build/fuzz/.
#   tests/fuzz/build.sh              build
#   tests/fuzz/build.sh --run [S]    build, then run each target for S seconds (default 30)
# Seeds (captured MariaDB 10.11 sessions, first 4 bytes: tracker kind, flags,
# seq delta, number of cut sizes; see fuzz_proto.c) are in tests/fuzz/seeds/.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -Isrc -Iinclude"
clang $CFLAGS tests/fuzz/fuzz_proto.c src/mysql_proto.c src/mysql_framer.c \
	src/mysql_tracker.c -o build/fuzz/fuzz_proto
targets=(fuzz_proto)
if [[ -f tests/fuzz/fuzz_digest.c && -f src/digest.c ]]; then
	clang $CFLAGS tests/fuzz/fuzz_digest.c src/digest.c -o build/fuzz/fuzz_digest
	targets+=(fuzz_digest)
fi
echo "fuzz: built ${targets[*]} in build/fuzz/"
if [[ "${1:-}" == --run ]]; then
	secs=${2:-30}
	for t in "${targets[@]}"; do
		mkdir -p "build/fuzz/corpus-$t"
		echo "fuzz: running $t for $secs s"
		"build/fuzz/$t" -max_total_time="$secs" -max_len=4096 \
			-artifact_prefix="build/fuzz/$t-" "build/fuzz/corpus-$t" \
			$([[ -d tests/fuzz/seeds ]] && echo tests/fuzz/seeds) 2>&1 | tail -3
	done
fi
