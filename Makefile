# labkube: one binary, one Makefile.  `make`, `make run`, `make test`, `make bench`.
# Debian packages are installed on demand by `make deps` (called by every target).

CC       ?= cc
BUILD    ?= build
SANITIZE ?=
PKGS     := sqlite3 libmicrohttpd libcjson yaml-0.1 zlib libmnl libnftnl
CFLAGS   ?= -O2 -g
CFLAGS   += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wformat=2 -Wvla \
            -Wno-unused-parameter -Wmissing-prototypes -Wstrict-prototypes \
            -fno-strict-aliasing -I. $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
# Unsafe libc calls (strcpy, sprintf, strtok, ...) are compile errors in every
# source and unit test: see common/banned.h.
CFLAGS   += -include common/banned.h
LDLIBS   += $(shell pkg-config --libs $(PKGS) 2>/dev/null) -lm
ifeq ($(CI),true)
CFLAGS   += -Werror
endif
ifneq ($(SANITIZE),)
CFLAGS   += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
LDFLAGS  += -fsanitize=$(SANITIZE)
BUILD    := build-san
endif

# Every .c under these folders is part of the binary; main lives in server/main.c.
SRC_DIRS := common images server server/api server/store server/resources server/registry \
            server/controllers server/node proxy dns
SRCS     := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/server/main.o,$(OBJS))
UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

DEB_PKGS := build-essential pkg-config libsqlite3-dev libmicrohttpd-dev libcjson-dev \
            libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev \
            libyaml-dev check zlib1g-dev curl dnsutils iproute2 nftables \
            python3-kubernetes python3-pytest sqlite3 procps dnsmasq-base kmod cppcheck
DEPS_STAMP := $(BUILD)/.deps

.PHONY: all deps run test lint unit e2e bench bench-deps fuzz clean analyze
all: $(BUILD)/labkube

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing $$missing"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi
	@# pod -> cluster IP -> pod on the same bridge needs br_netfilter (t414):
	@# load it when the host has it as a module; fail when it cannot be had.
	@if [ ! -e /proc/sys/net/bridge/bridge-nf-call-iptables ]; then \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO modprobe br_netfilter || { echo "make deps: cannot load br_netfilter (pods reaching a Service backed by a pod on the same bridge need it)"; exit 1; }; \
	fi
	@mkdir -p $(BUILD) && touch $@

$(BUILD)/%.o: %.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/labkube: $(OBJS)
	$(CC) $(LDFLAGS) $^ $(LDLIBS) -o $@

# Unit tests link the same objects as the binary (less main), from an archive.
$(BUILD)/liblabkube.a: $(LIB_OBJS)
	@rm -f $@
	@ar rcs $@ $^

# tests/unit/plan.c counts the tests each binary registers (see there).
UNIT_WRAP := -Wl,--wrap=_tcase_add_test -Wl,--wrap=srunner_run_all
$(BUILD)/tests/plan.o: tests/unit/plan.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/tests/plan.o $(BUILD)/liblabkube.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS) $< $(BUILD)/tests/plan.o $(BUILD)/liblabkube.a $(LDFLAGS) $(UNIT_WRAP) \
		$(LDLIBS) $(shell pkg-config --libs check) -o $@

run: $(BUILD)/labkube
	./$(BUILD)/labkube server $(ARGS)

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

e2e: $(BUILD)/labkube
	@LABKUBE=$(abspath $(BUILD)/labkube) tests/e2e/run.sh $(T)

# Source and object checks: the include direction of ARCHITECTURE.md, and
# no component state in file-scope variables (on the built objects). One
# "ok" line each, or what breaks them and a non-zero exit.
lint: $(OBJS)
	@rc=0; tests/lint/includes.sh || rc=1; tests/lint/globals.sh $(BUILD) || rc=1; exit $$rc

# Every step runs even when an earlier one fails (a failing unit binary must
# not hide the e2e results); the target fails if any did.
test: $(BUILD)/labkube $(UNIT_BINS)
	@rc=0; $(MAKE) --no-print-directory lint || rc=1; \
	$(MAKE) --no-print-directory unit || rc=1; \
	$(MAKE) --no-print-directory e2e || rc=1; exit $$rc

# Static analysis: cppcheck over the project's sources, one configuration
# (-D_GNU_SOURCE, as built), warning/style/portability/performance checks.
# System headers are not read (fast, and their macros are not ours to
# check); cJSON's header is, for cJSON_ArrayForEach. Any finding not in
# tests/lint/cppcheck.supp (each entry with its reason) fails the target.
ANALYZE_DIRS := $(wildcard common images server proxy dns)
analyze: | $(DEPS_STAMP)
	@start=$$(date +%s); \
	cppcheck -j2 -q --std=c11 -D_GNU_SOURCE -I. \
		--include=/usr/include/cjson/cJSON.h \
		--enable=warning,style,performance,portability \
		--suppressions-list=tests/lint/cppcheck.supp \
		--error-exitcode=1 \
		--template='{file}:{line}: {severity}: {id}: {message}' \
		$(ANALYZE_DIRS) && \
	echo "analyze: ok, no cppcheck findings ($$(($$(date +%s) - start))s)" || \
	{ echo "analyze: FAILED: cppcheck findings above (fix them, or add each to tests/lint/cppcheck.supp with its reason)"; exit 1; }

# Benchmarks: the API on loopback in a namespace of their own, beside a plain
# SQLite insert loop (the physical limit of a durable write). See bench/run.sh.
BENCH_DEB_PKGS := wrk hey dnsperf dnsmasq-base
bench-deps: | $(DEPS_STAMP)
	@missing=$$(for p in $(BENCH_DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make bench-deps: installing $$missing"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(BUILD)/bench/sqlite_insert: bench/sqlite_insert.c | $(DEPS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(LDFLAGS) $(shell pkg-config --libs sqlite3 2>/dev/null) -o $@

bench: $(BUILD)/labkube $(BUILD)/bench/sqlite_insert bench-deps
	@LABKUBE=$(abspath $(BUILD)/labkube) SQLITE_INSERT=$(abspath $(BUILD)/bench/sqlite_insert) \
		bench/run.sh

# Fuzzing: dns/wire.c under libFuzzer with ASan and UBSan (clang), into
# build-fuzz/, for FUZZ_SECONDS over a seed corpus made from the unit test
# fixtures (tests/unit/fixtures/dns/*.hex). Crashes land in build-fuzz/
# as crash-* files; `build-fuzz/dns_wire_fuzz FILE` replays one.
FUZZ_DEB_PKGS := clang libclang-rt-14-dev
FUZZ_SECONDS ?= 60
FUZZ_CC      ?= clang
FUZZ_DIR     := build-fuzz
FUZZ_SRCS    := fuzz/dns_wire_fuzz.c dns/wire.c dns/answer.c common/util.c
.PHONY: fuzz-deps
fuzz-deps: | $(DEPS_STAMP)
	@missing=$$(for p in $(FUZZ_DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make fuzz-deps: installing $$missing"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
	fi

$(FUZZ_DIR)/dns_wire_fuzz: $(FUZZ_SRCS) dns/dns.h dns/zone_internal.h common/htab.h common/util.h common/json.h | fuzz-deps
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -g -O1 -std=c11 -D_GNU_SOURCE -I. $(shell pkg-config --cflags libcjson 2>/dev/null) \
		-fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all \
		$(FUZZ_SRCS) $(shell pkg-config --libs libcjson 2>/dev/null) -lm -o $@

fuzz: $(FUZZ_DIR)/dns_wire_fuzz
	@mkdir -p $(FUZZ_DIR)/seeds $(FUZZ_DIR)/corpus
	@for f in tests/unit/fixtures/dns/*.hex; do \
		perl -ne 'chomp; print pack("H*", $$_)' $$f > $(FUZZ_DIR)/seeds/$$(basename $$f .hex); \
	done
	cd $(FUZZ_DIR) && ./dns_wire_fuzz -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
		-print_final_stats=1 corpus seeds

clean:
	rm -rf build build-san build-fuzz

-include $(OBJS:.o=.d)

# ---- mutants: proof that the tests can fail (tests/mutants/run.sh) ----
# Each tests/mutants/NN-*.patch breaks one thing on purpose; its header
# names the tests that must catch it. Every mutant is built and tested in a
# scratch copy of the tree and of $(BUILD) (objects reused, never this
# tree's): `make mutants` runs them all (needs root for its e2e files),
# M="05 07" some of them; `make mutants-ci` the short form CI runs: mutants
# caught by unit tests, and one (06) by an e2e file, t113. Both fail unless
# every one is caught. (15 is caught by the include check, tests/lint/.)
MUTANTS_CI ?= 02 05 06 07 11 14 15
.PHONY: mutants mutants-ci
mutants: $(BUILD)/labkube $(UNIT_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/mutants/run.sh $(M)
mutants-ci: $(BUILD)/labkube $(UNIT_BINS)
	@BUILD=$(BUILD) SANITIZE=$(SANITIZE) tests/mutants/run.sh $(MUTANTS_CI)
# ---- end mutants ----
