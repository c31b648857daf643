# kvmtest: builds lib/ into one static archive and every test named in
# tests.list, plus the host-only unit tests and the benchmarks.
#
#   make                      build everything into build/
#   make check                unit tests, runner and lane self-tests, then the suite
#   make bench                build and run the benchmarks
#   make KHDR_INCLUDES=-I<kernel>/usr/include   use a kernel tree's exported uAPI

CC       ?= gcc
BUILD    ?= build
V        ?= 0
Q        := $(if $(filter 1,$(V)),,@)
# Short "CC file" lines, unless V=1 (full commands) or make -s (nothing).
SAY       = $(if $(or $(filter 1,$(V)),$(findstring s,$(firstword -$(MAKEFLAGS)))),:,echo)
ARCH_DIR := x86

# Everything is linked statically: the same binaries run on the host and,
# unchanged, inside the VM lanes' initramfs. -mno-red-zone because guest code
# takes exceptions on its own stack; no stack protector because the canary
# lives in %fs, which guests do not set up.
CFLAGS   += -std=gnu11 -O2 -g -Wall -Wextra -Wno-unused-parameter \
	    -Wno-missing-field-initializers -Werror -fno-stack-protector \
	    -fno-omit-frame-pointer -mno-red-zone -fno-pie -no-pie \
	    -fcf-protection=none -D_GNU_SOURCE
CPPFLAGS += $(KHDR_INCLUDES) -Iinclude -Iinclude/$(ARCH_DIR) -MMD -MP
# --no-warnings: libnuma.a drags in getaddrinfo, and ld warns about it
# in every static link although no test resolves a host name.
LDFLAGS  += -static -no-pie -Wl,--no-warnings
LDLIBS   += -lnuma -lcap -lpthread

LIB_SRCS  := $(wildcard lib/*.c lib/$(ARCH_DIR)/*.c lib/$(ARCH_DIR)/*.S \
		     lib/$(ARCH_DIR)/*/*.c lib/$(ARCH_DIR)/*/*.S)
LIB_OBJS  := $(patsubst %,$(BUILD)/%.o,$(basename $(LIB_SRCS)))
LIBKVMT   := $(BUILD)/libkvmtest.a

# The suite's binaries come from tests.list, read by the runner alone
# (scripts/runner/list.sh): a list it refuses builds nothing.
SUITE     := $(sort $(shell bash ./run_tests.sh --print-binaries || echo LIST-ERROR))
ifneq ($(filter LIST-ERROR,$(SUITE)),)
$(error tests.list is malformed: ./run_tests.sh --print-binaries says why)
endif
SUITE_BIN := $(addprefix $(BUILD)/,$(SUITE))
UNIT_BIN  := $(patsubst tests/%.c,$(BUILD)/%,$(wildcard tests/unit/*.c))
BENCH_BIN := $(patsubst bench/%.c,$(BUILD)/bench/%,$(wildcard bench/*.c))

all: toolcheck $(SUITE_BIN) $(UNIT_BIN) $(BENCH_BIN)

# One clear line instead of a wall of compiler errors when a tool or a -dev
# package is missing.
toolcheck:
	@command -v $(CC) >/dev/null || { echo "kvmtest: $(CC) not found: apt-get install gcc make"; exit 1; }
	@printf '#include <numa.h>\n#include <sys/capability.h>\nint main(void){return 0;}\n' | \
		$(CC) -x c -o /dev/null - -static -lnuma -lcap 2>/dev/null || { \
		echo "kvmtest: cannot link statically against libnuma and libcap: apt-get install libnuma-dev libcap-dev libc6-dev"; exit 1; }

$(BUILD)/%.o: %.c
	@mkdir -p $(@D)
	@$(SAY) "  CC      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/%.o: %.S
	@mkdir -p $(@D)
	@$(SAY) "  AS      $<"
	$(Q)$(CC) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(LIBKVMT): $(LIB_OBJS)
	@rm -f $@
	@$(SAY) "  AR      $@"
	$(Q)ar rcs $@ $^

$(BUILD)/%: $(BUILD)/tests/%.o $(LIBKVMT)
	@mkdir -p $(@D)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBKVMT) $(LDLIBS)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIBKVMT)
	@mkdir -p $(@D)
	@$(SAY) "  LD      $@"
	$(Q)$(CC) $(LDFLAGS) -o $@ $< $(LIBKVMT) $(LDLIBS)

# lib/internal.h: what lib/ files share and tests must not call. The
# library's own unit tests may look inside.
$(LIB_OBJS): CPPFLAGS += -Ilib
$(BUILD)/tests/unit/%.o: CPPFLAGS += -Ilib

# The guest-safe string functions must not be turned back into calls to
# themselves or to libc's builtins.
$(BUILD)/lib/string.o: CFLAGS += -ffreestanding -fno-builtin -fno-tree-loop-distribute-patterns

.SECONDARY:

check: all
	./scripts/run_unit_tests.sh $(BUILD)
	./tests/runner/units.sh
	./tests/runner/run.sh
	./tests/vm/run.sh
	./run_tests.sh $(CHECK_ARGS)

bench: all
	./bench/run.sh $(BUILD)

clean:
	rm -rf $(BUILD)

.PHONY: all toolcheck check bench clean
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
