# myring - a MySQL proxy on io_uring.
#
#   make            build build/myring (-O2, warnings are errors in CI)
#   make asan       build build/asan/myring (AddressSanitizer + UBSan)
#   make build/valgrind/myring   glibc-malloc build for valgrind
#   make unit       build and run the Criterion unit tests
#   make test       install what is missing, build everything, start a private
#                   MariaDB, run unit + integration tests (normal and sanitizer
#                   binaries), stop what it started
#   make run        build and run myring in front of a throwaway MariaDB
#   make fuzz       build the libFuzzer targets (clang)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CPPFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc $(CPPFLAGS)
LIBS    := -luring -lmimalloc -lpcre2-8 -lyaml -lcrypto -lpthread
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)

SRC      := $(sort $(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/obj/%.o)
VG_OBJ   := $(SRC:src/%.c=build/valgrind/obj/%.o)

# What the unit tests and fuzzers link against: pure code, and the socket
# helpers of start-up (plain system calls, no ring).
PURE_NAMES := mysql_proto mysql_framer mysql_tracker mysql_state stmt_cache \
              cli digest config config_users rules litscan sql_scan sql_classify \
              mysql_srv mysql_auth mysql_auth_exchange admin_sql admin_engine \
              histogram digest_stats net startup sql_rewrite session_dir \
              mysql_rows health
PURE_SRC   := $(filter $(PURE_NAMES:%=src/%.c),$(SRC))
PURE_OBJ   := $(PURE_SRC:src/%.c=build/asan/obj/%.o)

UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
ITEST_SRC := $(sort $(wildcard tests/integration/*.c))
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

.PHONY: all asan unit test run fuzz clean deps
all: build/myring

build/obj/%.o: src/%.c | build/obj
	$(CC) $(CPPFLAGS_ALL) -DMYRING_VERSION='"$(VERSION)"' $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

build/myring: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

build/asan/obj/%.o: src/%.c | build/asan/obj
	$(CC) $(CPPFLAGS_ALL) -DMYRING_VERSION='"$(VERSION)"' $(ASAN_FLAGS) $(WARN) -MMD -MP -c $< -o $@

# The sanitizer build links glibc malloc: mimalloc would hide heap errors
# from ASan.
build/asan/myring: $(ASAN_OBJ)
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(filter-out -lmimalloc,$(LIBS))

asan: build/asan/myring

# For valgrind: glibc malloc (mimalloc's own mappings are invisible to
# memcheck, so leaks would go unseen), no sanitizers.
build/valgrind/obj/%.o: src/%.c | build/valgrind/obj
	$(CC) $(CPPFLAGS_ALL) -DMYRING_VERSION='"$(VERSION)"' -O1 -g $(WARN) -MMD -MP -c $< -o $@

build/valgrind/myring: $(VG_OBJ)
	$(CC) -O1 -g $(LDFLAGS) -o $@ $^ $(filter-out -lmimalloc,$(LIBS))

build/obj build/asan/obj build/valgrind/obj build/tests:
	mkdir -p $@

build/tests/unit: $(UNIT_SRC) $(PURE_OBJ) | build/tests
	$(CC) $(CPPFLAGS_ALL) $(ASAN_FLAGS) $(WARN) -o $@ $(UNIT_SRC) $(PURE_OBJ) -lcriterion -lpcre2-8 -lyaml -lcrypto

# test_state.c compiles pure modules in (#include "mysql_state.c"): they
# are prerequisites too, so a change to them rebuilds the suite.
build/tests/integration: $(ITEST_SRC) $(PURE_SRC) $(wildcard $(PURE_SRC:.c=.h)) | build/tests
	$(CC) $(CPPFLAGS_ALL) -O1 -g $(WARN) -Wno-missing-prototypes -o $@ $(ITEST_SRC) \
		$$(pkg-config --cflags --libs libmariadb 2>/dev/null || echo -lmariadb) -lcriterion -lpthread

unit: build/tests/unit
	./build/tests/unit

test:
	bash scripts/test.sh

run:
	bash scripts/run.sh $(ARGS)

deps:
	bash scripts/deps.sh

fuzz:
	bash tests/fuzz/build.sh

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(VG_OBJ:.o=.d)
