# ITC workbench - top-level build.  `make demo` and `make test` are all a new
# user needs; both set the machine up and build first.
#
#   make setup   install Debian packages, fetch the pinned QEMU source
#   make         build QEMU (with hw/itc), the itc tool and the sample FSW
#   make test    build everything (our C code also with ASan+UBSan) and run
#                every test; ends with "N passed, N failed, N skipped"
#   make demo    record an anomaly run of the sample FSW and debug it
#   make bench   print benchmark ratios measured side by side
#   make clean   remove build/ (the QEMU tarball cache outside the clone stays)

SHELL := /bin/bash
.DEFAULT_GOAL := all
BUILD := build
QEMU_BUILD := $(BUILD)/qemu-build
QEMU := $(QEMU_BUILD)/qemu-system-sparc

PKGS := glib-2.0 json-glib-1.0 libzstd libxxhash libelf
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS = $(shell pkg-config --libs $(PKGS) 2>/dev/null)

CC ?= cc
WARN := -Wall -Wextra -Werror -Wno-unused-parameter -Wmissing-prototypes
BASE_CFLAGS := -std=gnu11 -g $(WARN) -Isnapshots -Ireplay -Itools/itc -D_GNU_SOURCE
REL_CFLAGS := $(BASE_CFLAGS) -O2
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer
SAN_CFLAGS := $(BASE_CFLAGS) -O1 $(SAN_FLAGS)

# Our C code: small libraries plus the itc command; sources found by wildcard.
SNAP_SRCS := $(wildcard snapshots/*.c)
REPLAY_SRCS := $(wildcard replay/*.c)
ITC_SRCS := $(wildcard tools/itc/*.c)
UNIT_SRCS := $(wildcard tests/unit/test_*.c)
HDRS := $(wildcard snapshots/*.h replay/*.h tools/itc/*.h tests/unit/*.h)

# Two flavours: release (build/rel) and sanitized test flavour (build/san).
define FLAVOUR
$(1)_OBJDIR := $(BUILD)/$(1)
$(1)_SNAP_OBJS := $$(SNAP_SRCS:%.c=$(BUILD)/$(1)/%.o)
$(1)_REPLAY_OBJS := $$(REPLAY_SRCS:%.c=$(BUILD)/$(1)/%.o)
$(1)_ITC_OBJS := $$(ITC_SRCS:%.c=$(BUILD)/$(1)/%.o)
$(1)_LIBS := $(BUILD)/$(1)/libitcreplay.a $(BUILD)/$(1)/libitcsnap.a

$(BUILD)/$(1)/%.o: %.c $$(HDRS) | $(BUILD)/.pkgs
	@mkdir -p $$(dir $$@)
	$$(CC) $$($(2)) $$(PKG_CFLAGS) -c $$< -o $$@

$(BUILD)/$(1)/libitcsnap.a: $$($(1)_SNAP_OBJS)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1)/libitcreplay.a: $$($(1)_REPLAY_OBJS)
	@mkdir -p $$(dir $$@)
	rm -f $$@ && ar rcs $$@ $$^

$(BUILD)/$(1)/bin/itc: $$($(1)_ITC_OBJS) $$($(1)_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$($(2)) $$($(1)_ITC_OBJS) $$($(1)_LIBS) $$(PKG_LIBS) -lm -o $$@

$(BUILD)/$(1)/tests/%: $(BUILD)/$(1)/tests/unit/%.o $$($(1)_LIBS)
	@mkdir -p $$(dir $$@)
	$$(CC) $$($(2)) $$< $$($(1)_LIBS) $$(PKG_LIBS) -lm -o $$@
endef
$(eval $(call FLAVOUR,rel,REL_CFLAGS))
$(eval $(call FLAVOUR,san,SAN_CFLAGS))

ITC := $(BUILD)/rel/bin/itc
ITC_SAN := $(BUILD)/san/bin/itc
UNIT_TESTS := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/san/tests/%)

.PHONY: all setup qemu tools fsw test test-build demo bench clean fuzz format
all: setup qemu tools fsw

setup:
	@scripts/setup.sh

# Marker so compiling our C code waits for the packages.
$(BUILD)/.pkgs:
	@scripts/setup.sh
	@mkdir -p $(BUILD) && touch $@

qemu: setup
	@qemu/build.sh

ifneq ($(ITC_SRCS),)
tools: $(ITC)
else
tools:
endif

fsw: setup
	@$(MAKE) -s --no-print-directory -C tests/fsw O=$(abspath $(BUILD)/fsw)

test-build: all $(UNIT_TESTS) $(if $(ITC_SRCS),$(ITC_SAN))

test: test-build
	@tests/run.sh

demo: all
	@tests/demo.sh

bench: all
	@tests/bench/run.sh

fuzz: setup
	@$(MAKE) --no-print-directory -C tests/fuzz O=$(abspath $(BUILD)/fuzz) run

format:
	clang-format -i $(SNAP_SRCS) $(REPLAY_SRCS) $(ITC_SRCS) $(UNIT_SRCS) $(HDRS)

clean:
	rm -rf $(BUILD)
