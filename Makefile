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
SRC_DIRS := common server server/api server/store server/resources \
            server/controllers server/node proxy dns
SRCS     := $(foreach d,$(SRC_DIRS),$(wildcard $(d)/*.c))
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
LIB_OBJS := $(filter-out $(BUILD)/server/main.o,$(OBJS))
UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNIT_BINS:= $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

DEB_PKGS := build-essential pkg-config libsqlite3-dev libmicrohttpd-dev libcjson-dev \
            libnl-3-dev libnl-genl-3-dev libnl-route-3-dev libnftnl-dev libmnl-dev \
            libyaml-dev check zlib1g-dev curl dnsutils iproute2 nftables \
            python3-kubernetes python3-pytest sqlite3 procps
DEPS_STAMP := $(BUILD)/.deps

.PHONY: all deps run test unit e2e bench bench-deps fuzz clean
all: $(BUILD)/labkube

deps: $(DEPS_STAMP)
$(DEPS_STAMP):
	@missing=$$(for p in $(DEB_PKGS); do dpkg-query -W -f='$${Status}\n' $$p 2>/dev/null | grep -q 'ok installed' || echo $$p; done); \
	if [ -n "$$missing" ]; then \
		echo "make deps: installing $$missing"; \
		SUDO=$$( [ $$(id -u) -eq 0 ] || echo sudo ); \
		$$SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $$SUDO apt-get install -y -qq $$missing >/dev/null; \
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

$(BUILD)/tests/test_%: tests/unit/test_%.c $(BUILD)/liblabkube.a
	@mkdir -p $(dir $@)
	@echo "  CCLD    $@"
	@$(CC) $(CFLAGS) $< $(BUILD)/liblabkube.a $(LDFLAGS) $(LDLIBS) $(shell pkg-config --libs check) -o $@

run: $(BUILD)/labkube
	./$(BUILD)/labkube server $(ARGS)

unit: $(UNIT_BINS)
	@tests/unit/run.sh $(UNIT_BINS)

e2e: $(BUILD)/labkube
	@LABKUBE=$(abspath $(BUILD)/labkube) tests/e2e/run.sh $(T)

test: unit e2e

# Benchmarks: the API on loopback in a namespace of their own, beside a plain
# SQLite insert loop (the physical limit of a durable write). See bench/run.sh.
BENCH_DEB_PKGS := wrk hey
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

clean:
	rm -rf build build-san

-include $(OBJS:.o=.d)
