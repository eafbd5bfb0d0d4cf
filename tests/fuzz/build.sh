#!/usr/bin/env bash
# Builds the libFuzzer targets (clang, ASan + UBSan) into build/fuzz/.
#   tests/fuzz/build.sh              build
#   tests/fuzz/build.sh --run [S]    build, then run each target for S seconds (default 30)
# Seeds: tests/fuzz/seeds/ (captured MariaDB 10.11 sessions, first 4 bytes:
# tracker kind, flags, seq delta, number of cut sizes; see fuzz_proto.c) for
# fuzz_proto, tests/fuzz/seeds_NAME/ for fuzz_NAME.
set -euo pipefail
cd "$(dirname "$0")/../.."
mkdir -p build/fuzz
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -std=gnu11 -D_GNU_SOURCE -Isrc -Iinclude"
clang $CFLAGS tests/fuzz/fuzz_proto.c src/mysql_proto.c src/mysql_framer.c \
	src/mysql_tracker.c -o build/fuzz/fuzz_proto
targets=(fuzz_proto)
clang $CFLAGS tests/fuzz/fuzz_digest.c src/digest.c src/sql_scan.c \
	-o build/fuzz/fuzz_digest
targets+=(fuzz_digest)
clang $CFLAGS tests/fuzz/fuzz_sql_scan.c src/sql_scan.c \
	-o build/fuzz/fuzz_sql_scan
targets+=(fuzz_sql_scan)
clang $CFLAGS tests/fuzz/fuzz_classify.c src/sql_classify.c src/sql_scan.c \
	-o build/fuzz/fuzz_classify
targets+=(fuzz_classify)
clang $CFLAGS tests/fuzz/fuzz_rewrite.c src/sql_rewrite.c src/sql_scan.c \
	-o build/fuzz/fuzz_rewrite
targets+=(fuzz_rewrite)
clang $CFLAGS tests/fuzz/fuzz_hint.c src/sql_hint.c src/sql_scan.c \
	-o build/fuzz/fuzz_hint
targets+=(fuzz_hint)
clang $CFLAGS tests/fuzz/fuzz_parse.c src/sql_parse.c src/sql_print.c \
	src/sql_ast.c src/sql_scan.c -o build/fuzz/fuzz_parse
targets+=(fuzz_parse)
clang $CFLAGS tests/fuzz/fuzz_admin.c src/admin_sql.c src/admin_engine.c src/mysql_srv.c \
	src/mysql_proto.c -o build/fuzz/fuzz_admin -lcrypto
targets+=(fuzz_admin)
clang $CFLAGS tests/fuzz/fuzz_config.c src/config.c src/config_users.c src/cli.c src/rules.c \
	src/litscan.c src/mysql_srv.c src/mysql_proto.c src/sql_scan.c \
	src/digest.c src/mysql_auth.c src/backend_tls.c src/config_keyspace.c \
	src/shard_map.c src/collation.c src/collation_tables.c \
	-o build/fuzz/fuzz_config -lyaml -lpcre2-8 -lcrypto
targets+=(fuzz_config)
clang $CFLAGS tests/fuzz/fuzz_auth.c src/mysql_auth.c src/mysql_auth_exchange.c src/mysql_srv.c \
	src/mysql_proto.c -o build/fuzz/fuzz_auth -lcrypto
targets+=(fuzz_auth)
clang $CFLAGS tests/fuzz/fuzz_state.c src/mysql_state.c src/stmt_cache.c \
	src/mysql_proto.c src/rs_codec.c -o build/fuzz/fuzz_state
targets+=(fuzz_state)
clang $CFLAGS tests/fuzz/fuzz_compress.c src/mysql_compress.c \
	-o build/fuzz/fuzz_compress -lz
targets+=(fuzz_compress)
clang $CFLAGS tests/fuzz/fuzz_rows.c src/merge.c src/merge_types.c src/mysql_value.c \
	src/mysql_decimal.c src/collation.c src/collation_tables.c src/rs_codec.c \
	src/mysql_srv.c src/mysql_proto.c -o build/fuzz/fuzz_rows -lm
targets+=(fuzz_rows)
# The planner with the shard map, or its tests' stand-in until the map's
# code is there.
shard_map_src=src/shard_map.c
[[ -f $shard_map_src ]] || shard_map_src=tests/unit/shard_map_stub.c
clang $CFLAGS tests/fuzz/fuzz_plan.c src/shard_plan.c src/shard_plan_select.c \
	src/shard_plan_union.c src/shard_plan_seq.c src/shard_plan_float.c \
	src/shard_plan_lookup.c \
	src/shard_plan_merge.c "$shard_map_src" src/sql_parse.c src/sql_print.c \
	src/sql_ast.c src/sql_scan.c src/merge.c src/merge_types.c \
	src/mysql_value.c src/mysql_decimal.c src/collation.c \
	src/collation_tables.c src/rs_codec.c src/mysql_srv.c src/mysql_proto.c \
	-o build/fuzz/fuzz_plan -lm
targets+=(fuzz_plan)
echo "fuzz: built ${targets[*]} in build/fuzz/"
# Each target's own seeds: tests/fuzz/seeds (protocol captures) for
# fuzz_proto, tests/fuzz/seeds_<name> for the others.
seeds() {
	case $1 in
	fuzz_proto) echo tests/fuzz/seeds ;;
	*) [[ -d tests/fuzz/seeds_${1#fuzz_} ]] && echo "tests/fuzz/seeds_${1#fuzz_}" ;;
	esac
}
if [[ "${1:-}" == --run ]]; then
	secs=${2:-30}
	for t in "${targets[@]}"; do
		mkdir -p "build/fuzz/corpus-$t"
		echo "fuzz: running $t for $secs s"
		"build/fuzz/$t" -max_total_time="$secs" -max_len=4096 \
			-artifact_prefix="build/fuzz/$t-" "build/fuzz/corpus-$t" \
			$(seeds "$t") 2>&1 | tail -3
	done
fi
