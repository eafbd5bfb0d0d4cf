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
#   make install    binary, manual page, systemd unit, docs and the config
#                   file (kept if present); PREFIX (/usr/local), DESTDIR
#   make uninstall  remove what make install put there (not the config)
#   make deb        build/myring_VERSION-1_ARCH.deb (scripts/deb.sh)
#   make man        build/myring.1, the manual page (man -l build/myring.1)

CC      ?= cc
CFLAGS  ?= -O2 -g
WARN    := -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes \
           -Wno-unused-parameter
CPPFLAGS_ALL := -std=gnu11 -D_GNU_SOURCE -Iinclude -Isrc $(CPPFLAGS)
LIBS    := -luring -lmimalloc -lpcre2-8 -lyaml -lssl -lcrypto -lz -lpthread -lm
VERSION := $(shell cat VERSION 2>/dev/null || echo 0.0.0)
# For --version: liburing 2.3 has no version macros of its own.
LIBURING_VERSION := $(shell pkg-config --modversion liburing 2>/dev/null || echo unknown)
VERSION_DEFS := -DMYRING_VERSION='"$(VERSION)"' \
                -DMYRING_LIBURING_VERSION='"$(LIBURING_VERSION)"'

SRC      := $(sort $(wildcard src/*.c))
OBJ      := $(SRC:src/%.c=build/obj/%.o)
ASAN_OBJ := $(SRC:src/%.c=build/asan/obj/%.o)
VG_OBJ   := $(SRC:src/%.c=build/valgrind/obj/%.o)
DEB_OBJ  := $(SRC:src/%.c=build/deb/obj/%.o)

# What the unit tests and fuzzers link against: pure code, and the socket
# helpers of start-up (plain system calls, no ring).
PURE_NAMES := mysql_proto mysql_framer mysql_tracker mysql_state stmt_cache \
              cli digest config config_users rules litscan sql_scan sql_classify \
              mysql_srv mysql_auth mysql_auth_exchange admin_sql admin_engine \
              histogram digest_stats net startup sql_rewrite session_dir \
              mysql_compress sql_ast sql_parse sql_print mysql_rows health
# The service manager's notification socket (plain system calls too).
PURE_NAMES += sdnotify
# Servers and groups: what a reload may change is decided without a ring.
PURE_NAMES += groups sql_hint backend_tls
# The shard map (docs/sharding.md).
PURE_NAMES += shard_map config_keyspace
# Merging shard results (docs/architecture.md, "Merging results").
PURE_NAMES += mysql_decimal collation collation_tables rs_codec mysql_value \
              merge merge_types
# The shard planner (docs/sharding.md, "Query planning").
PURE_NAMES += shard_plan shard_plan_select shard_plan_merge shard_plan_union \
              shard_plan_seq shard_plan_float shard_plan_lookup stmt_bind
# Distributed transactions: the commit coordinator (docs/transactions.md).
PURE_NAMES += xa_coord
# Sequences: a worker's blocks of keys (docs/sharding.md, "Sequences").
PURE_NAMES += seq_block
PURE_SRC   := $(filter $(PURE_NAMES:%=src/%.c),$(SRC))
PURE_OBJ   := $(PURE_SRC:src/%.c=build/asan/obj/%.o)

UNIT_SRC  := $(sort $(wildcard tests/unit/*.c))
ITEST_SRC := $(sort $(wildcard tests/integration/*.c))
ASAN_FLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined \
              -fno-sanitize-recover=undefined

.PHONY: all asan unit test run fuzz clean deps install uninstall deb man
all: build/myring

build/obj/%.o: src/%.c | build/obj
	$(CC) $(CPPFLAGS_ALL) $(VERSION_DEFS) $(CFLAGS) $(WARN) -MMD -MP -c $< -o $@

build/myring: $(OBJ)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LIBS)

build/asan/obj/%.o: src/%.c | build/asan/obj
	$(CC) $(CPPFLAGS_ALL) $(VERSION_DEFS) $(ASAN_FLAGS) $(WARN) -MMD -MP -c $< -o $@

# The sanitizer build links glibc malloc: mimalloc would hide heap errors
# from ASan.
build/asan/myring: $(ASAN_OBJ)
	$(CC) $(ASAN_FLAGS) $(LDFLAGS) -o $@ $^ $(filter-out -lmimalloc,$(LIBS))

asan: build/asan/myring

# For valgrind: glibc malloc (mimalloc's own mappings are invisible to
# memcheck, so leaks would go unseen), no sanitizers.
build/valgrind/obj/%.o: src/%.c | build/valgrind/obj
	$(CC) $(CPPFLAGS_ALL) $(VERSION_DEFS) -O1 -g $(WARN) -MMD -MP -c $< -o $@

build/valgrind/myring: $(VG_OBJ)
	$(CC) -O1 -g $(LDFLAGS) -o $@ $^ $(filter-out -lmimalloc,$(LIBS))

# The Debian package's binary: the distribution's hardening flags, which
# scripts/deb.sh takes from dpkg-buildflags and passes in.
build/deb/obj/%.o: src/%.c | build/deb/obj
	$(CC) $(CPPFLAGS_ALL) $(VERSION_DEFS) $(DEB_CPPFLAGS) $(DEB_CFLAGS) $(WARN) -MMD -MP -c $< -o $@

build/deb/myring: $(DEB_OBJ)
	$(CC) $(DEB_CFLAGS) $(DEB_LDFLAGS) -o $@ $^ $(LIBS)

# A release (a new VERSION) rebuilds what prints the version: everything,
# for simplicity.
$(OBJ) $(ASAN_OBJ) $(VG_OBJ) $(DEB_OBJ): VERSION

build/obj build/asan/obj build/valgrind/obj build/deb/obj build/tests:
	mkdir -p $@

build/tests/unit: $(UNIT_SRC) $(wildcard tests/unit/*.h) $(PURE_OBJ) | build/tests
	$(CC) $(CPPFLAGS_ALL) $(VERSION_DEFS) $(ASAN_FLAGS) $(WARN) -o $@ $(UNIT_SRC) $(PURE_OBJ) -lcriterion -lpcre2-8 -lyaml -lcrypto -lz -lm

# test_state.c compiles pure modules in (#include "mysql_state.c"): they
# are prerequisites too, so a change to them rebuilds the suite.  The
# stmt_cache.c it includes reads types with rs_codec.c, linked beside (its
# static helpers' names clash with the others' in one unit).
build/tests/integration: $(ITEST_SRC) $(PURE_SRC) $(wildcard $(PURE_SRC:.c=.h)) | build/tests
	$(CC) $(CPPFLAGS_ALL) -O1 -g $(WARN) -Wno-missing-prototypes -o $@ $(ITEST_SRC) src/rs_codec.c \
		$$(pkg-config --cflags --libs libmariadb 2>/dev/null || echo -lmariadb) -lcriterion -lpthread

# The differential tester for sharding (docs/testing.md): a standalone
# client of two servers, nothing of myring linked in.
build/tests/difftest: tests/difftest.c | build/tests
	$(CC) $(CPPFLAGS_ALL) -O1 -g $(WARN) -o $@ tests/difftest.c \
		$$(pkg-config --cflags --libs libmariadb 2>/dev/null || echo -lmariadb)

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

# Installing (docs/operations.md, "Installing").  SYSCONFDIR is /etc
# whatever the PREFIX: the unit starts myring with
# $(SYSCONFDIR)/myring/myring.yaml, and systemd looks for units in
# /usr/local/lib/systemd/system as well as /usr/lib/systemd/system.
PREFIX     ?= /usr/local
BINDIR     ?= $(PREFIX)/bin
MANDIR     ?= $(PREFIX)/share/man
DOCDIR     ?= $(PREFIX)/share/doc/myring
UNITDIR    ?= $(PREFIX)/lib/systemd/system
SYSCONFDIR ?= /etc
# The binary to install: scripts/deb.sh installs its hardened build.
INSTALL_BIN ?= build/myring
DOCS := README.md docs/config.md docs/operations.md docs/admin.md \
        docs/metrics.md
PATHS = BINDIR=$(BINDIR) DOCDIR=$(DOCDIR) UNITDIR=$(UNITDIR) \
        SYSCONFDIR=$(SYSCONFDIR)
CONF := $(DESTDIR)$(SYSCONFDIR)/myring/myring.yaml

# The manual page and the unit name the installed paths: made afresh for
# each install, from --help and the unit template.
man: build/myring
	$(PATHS) bash scripts/manpage.sh build/myring docs/myring.1.in >build/myring.1

install: $(INSTALL_BIN)
	mkdir -p build
	$(PATHS) bash scripts/manpage.sh $(INSTALL_BIN) docs/myring.1.in >build/myring.1
	sed -e 's|@BINDIR@|$(BINDIR)|g' -e 's|@SYSCONFDIR@|$(SYSCONFDIR)|g' \
	    -e 's|@DOCDIR@|$(DOCDIR)|g' packaging/myring.service.in >build/myring.service
	install -d "$(DESTDIR)$(BINDIR)" "$(DESTDIR)$(MANDIR)/man1" \
		"$(DESTDIR)$(UNITDIR)" "$(DESTDIR)$(DOCDIR)/examples" \
		"$(DESTDIR)$(SYSCONFDIR)/myring"
	install -m 755 $(INSTALL_BIN) "$(DESTDIR)$(BINDIR)/myring"
	install -m 644 build/myring.1 "$(DESTDIR)$(MANDIR)/man1/myring.1"
	install -m 644 build/myring.service "$(DESTDIR)$(UNITDIR)/myring.service"
	install -m 644 $(DOCS) "$(DESTDIR)$(DOCDIR)/"
	install -m 644 docs/examples/*.yaml "$(DESTDIR)$(DOCDIR)/examples/"
	@# The service's user, on this machine (a package's postinst makes
	@# it where the package is installed).
	@if [ -z "$(DESTDIR)" ] && ! getent passwd myring >/dev/null; then \
		if [ "$$(id -u)" = 0 ]; then \
			echo "useradd --system myring"; \
			useradd --system --user-group --no-create-home \
				--home-dir /nonexistent --shell /usr/sbin/nologin \
				--comment "myring MySQL proxy" myring; \
		else \
			echo "install: not root: create the system user myring" \
			     "before starting the service (docs/operations.md)"; \
		fi; \
	fi
	@# An edited config is never replaced.  It may hold passwords
	@# (admin-password, users): readable by root and the service only.
	@if [ -e "$(CONF)" ]; then \
		echo "install: kept $(CONF); the new example is in $(DOCDIR)/examples"; \
	elif [ -z "$(DESTDIR)" ] && getent group myring >/dev/null; then \
		echo "install -m 640 -g myring docs/examples/myring.yaml $(CONF)"; \
		install -m 640 -g myring docs/examples/myring.yaml "$(CONF)"; \
	else \
		echo "install -m 640 docs/examples/myring.yaml $(CONF)"; \
		install -m 640 docs/examples/myring.yaml "$(CONF)"; \
	fi
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload; \
		echo "start it with: systemctl enable --now myring"; \
	fi

# The config file and the user stay, as with a package that is removed
# but not purged.
uninstall:
	rm -f "$(DESTDIR)$(BINDIR)/myring" "$(DESTDIR)$(MANDIR)/man1/myring.1" \
	      "$(DESTDIR)$(UNITDIR)/myring.service"
	rm -rf "$(DESTDIR)$(DOCDIR)"
	@if [ -z "$(DESTDIR)" ] && [ -d /run/systemd/system ]; then \
		systemctl daemon-reload; \
	fi
	@echo "uninstall: kept $(CONF) and the user myring"

deb:
	bash scripts/deb.sh

clean:
	rm -rf build

-include $(OBJ:.o=.d) $(ASAN_OBJ:.o=.d) $(VG_OBJ:.o=.d) $(DEB_OBJ:.o=.d)
