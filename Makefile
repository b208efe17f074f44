# heaptrace build. `make` builds, `make test` tests, `make bench` measures.
# V=1 shows full commands; SANITIZE=1 builds user space with ASan+UBSan.

OUTPUT    ?= .output
CLANG     ?= clang
BPFTOOL   ?= bpftool
CC        ?= gcc
PREFIX    ?= /usr/local
ARCH      := x86

ifeq ($(V),1)
Q =
msg =
else
Q = @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

DEPS_STAMP := $(OUTPUT)/.deps-ok
LIBS       := libbpf libelf libdw zlib
WARN       := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes -Wno-unused-parameter
CFLAGS     ?= -g -O2
CFLAGS     += -std=gnu11 $(WARN) -D_GNU_SOURCE -I$(OUTPUT) -Ibpf -Iuser -MMD -MP
LDLIBS     := -lm -pthread -lbpf -lelf -ldw -lz -liberty -lcapstone -lprotobuf-c
ifeq ($(SANITIZE),1)
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer
LDFLAGS += -fsanitize=address,undefined
endif

BPF_SRC    := bpf/heaptrace.bpf.c
BPF_OBJ    := $(OUTPUT)/heaptrace.bpf.o
SKEL       := $(OUTPUT)/heaptrace.skel.h
LIB_SRCS   := $(filter-out user/cli%.c,$(wildcard user/*.c))
LIB_OBJS   := $(patsubst user/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
CLI_OBJS   := $(patsubst user/%.c,$(OUTPUT)/%.o,$(wildcard user/cli*.c))
LIB        := $(OUTPUT)/libheaptrace.a
SOLIB      := $(OUTPUT)/libheaptrace.so
SONAME     := libheaptrace.so.0
EXAMPLES   := $(patsubst user/examples/%.c,$(OUTPUT)/examples/%,$(wildcard user/examples/*.c))
# pprof's profile.proto, compiled by protoc-c into the library.
PROTO_GEN  := $(OUTPUT)/profile.pb-c.c $(OUTPUT)/profile.pb-c.h
LIB_OBJS   += $(OUTPUT)/profile.pb-c.o

.PHONY: all deps test unit bench bench-html clean install demo examples examples-tests valgrind-tests \
	format format-check
VERSION    := $(shell sed -n 's/^\#define HEAPTRACE_VERSION "\(.*\)"/\1/p' user/heaptrace.h)
all: heaptrace $(SOLIB) $(EXAMPLES)

# A recipe that fails leaves no half-written target behind.
.DELETE_ON_ERROR:

deps: $(DEPS_STAMP)
$(DEPS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh
	$(Q)mkdir -p $(OUTPUT) && touch $@

$(OUTPUT)/heaptrace.bpf.o: $(BPF_SRC) bpf/events.h bpf/unwind.h vmlinux.h | $(DEPS_STAMP)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -I. -Ibpf \
		-Wall -Werror -c $(BPF_SRC) -o $@
	$(Q)llvm-strip -g $@ 2>/dev/null || true

$(SKEL): $(BPF_OBJ)
	$(call msg,GEN-SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< name heaptrace_bpf > $@.tmp && mv $@.tmp $@

# Library objects serve the static and the shared library alike.
$(OUTPUT)/%.o: user/%.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@

# Generated headers must exist before their users compile (afterwards the
# compiler's .d files track them like any header).
$(OUTPUT)/probes.o: $(SKEL)

$(PROTO_GEN) &: user/profile.proto | $(DEPS_STAMP)
	$(call msg,PROTOC,$<)
	$(Q)protoc-c --c_out=$(OUTPUT) --proto_path=user $<

$(OUTPUT)/profile.pb-c.o: $(OUTPUT)/profile.pb-c.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -fPIC -c $< -o $@
$(OUTPUT)/report_pprof.o: $(OUTPUT)/profile.pb-c.h

# The HTML report's page, compiled in as one C string.
$(OUTPUT)/report_html_tmpl.h: user/report_html.tmpl.html | $(DEPS_STAMP)
	$(call msg,GEN,$@)
	$(Q){ echo 'static const char report_html_tmpl[] ='; \
	  sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/\t"/' -e 's/$$/\\n"/' $<; \
	  echo ';'; } > $@
$(OUTPUT)/report_html.o: $(OUTPUT)/report_html_tmpl.h

$(LIB): $(LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)$(AR) rcs $@ $^

$(SOLIB): $(LIB_OBJS) scripts/libheaptrace.map
	$(call msg,LINK,$@)
	$(Q)$(CC) -shared -Wl,-soname,$(SONAME) -Wl,--version-script=scripts/libheaptrace.map \
		$(LDFLAGS) -o $@ $(LIB_OBJS) $(LDLIBS)

heaptrace: $(CLI_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

# The same CLI with ASan+UBSan, built in its own output directory.
$(OUTPUT)/heaptrace-asan: $(CLI_OBJS) $(LIB)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(LDFLAGS) -o $@ $^ $(LDLIBS)

ASAN_OUT := .output-asan

-include $(wildcard $(OUTPUT)/*.d)

# The test suites: the variables and rules they share first, then one
# makefile per suite. Each adds the programs its suite needs to
# TEST_PROGRAMS and its suite's target to TEST_SUITES.
include tests/common.mk
include tests/tests.mk
include tests/formats.mk
include tests/unwind.mk
include tests/symbolize.mk
include tests/alloc.mk
include tests/reliability.mk
include tests/cli.mk
include tests/mmap.mk

# Unit tests: no root, no BPF; each is a cmocka program.
UNIT_TESTS := $(patsubst tests/%.c,$(OUTPUT)/tests/%,$(wildcard tests/test_*.c))
TEST_PROGRAMS += $(UNIT_TESTS)

$(OUTPUT)/tests/test_%: tests/test_%.c $(LIB) | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# The DHAT test parses the JSON with json-c.
$(OUTPUT)/tests/test_formats: LDLIBS += -ljson-c

# The unit tests under valgrind memcheck (valgrind: scripts/install-deps.sh).
valgrind-tests: $(UNIT_TESTS)
	$(Q)for t in $(filter-out %test_symbolize,$(UNIT_TESTS)); do \
		echo "  VALGRIND $$t"; \
		valgrind -q --error-exitcode=9 --leak-check=full --errors-for-leak-kinds=definite \
			$$t >/dev/null 2>$$t.vg || { cat $$t.vg; exit 1; }; done

unit: $(UNIT_TESTS)
	$(Q)for t in $(UNIT_TESTS); do $$t || exit 1; done

# The bundled demo: a toy server with churn, a leak and a peak.
$(OUTPUT)/demo: scripts/demo.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -o $@ $<

demo: heaptrace $(OUTPUT)/demo
	./heaptrace -n 3 -- $(OUTPUT)/demo

# libheaptrace examples: custom tools in ~100 lines each.
$(OUTPUT)/examples/%: user/examples/%.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -Iuser $(LDFLAGS) -o $@ $< $(LIB) $(LDLIBS)

examples: $(EXAMPLES)

EXAMPLES_DEPS := $(EXAMPLES) $(TEST_OUT)/examples_it $(TEST_OUT)/known
TEST_PROGRAMS += $(EXAMPLES_DEPS)

examples-tests: $(EXAMPLES_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE_OUT=$(OUTPUT) $(TEST_OUT)/examples_it

# Source layout: .clang-format (kernel style as this code has it). `make
# format` applies it, `make format-check` (the first step of `make test`)
# fails on any difference and shows it. Files older than the style are
# left alone while they are listed in scripts/format-exclude.txt.
FORMAT_SRCS := $(filter-out $(shell grep -v '^\#' scripts/format-exclude.txt), \
	       $(wildcard user/*.[ch] user/examples/*.c bpf/*.[ch] tests/*.[ch] tests/fuzz/*.c \
			  tests/workloads/*.[ch] tests/workloads/*.cc))

format: | $(DEPS_STAMP)
	$(Q)clang-format -i $(FORMAT_SRCS)

format-check: | $(DEPS_STAMP)
	$(call msg,FORMAT,$@)
	$(Q)out=$$(clang-format --dry-run --Werror $(FORMAT_SRCS) 2>&1) || \
		{ printf '%s\n' "$$out" | head -40; echo "format-check: 'make format' fixes it"; exit 1; }

# make test: the format check, the unit tests, then every suite that traces
# real processes, in this order.
TEST_SUITES := format-check unit integration cli-tests examples-tests formats-tests unwind-tests \
	       symbolize-tests alloc-tests mmap-tests fuzz-corpus reliability-tests \
	       sanitize-tests valgrind-tests
.PHONY: test-programs
test-programs: $(TEST_PROGRAMS)

# Under make -j the programs build in parallel, but the suites run one at a
# time, after everything is built: they trace and time real processes, and
# running two side by side would only make them slower and flakier. The
# ordering applies to `make test` only: `make integration alloc-tests` is yours to order.
test: all $(TEST_SUITES)
ifneq ($(filter test,$(MAKECMDGOALS)),)
$(firstword $(TEST_SUITES)): | all test-programs
serialize = $(if $(word 2,$(1)),$(eval $(word 2,$(1)): | $(word 1,$(1)))$(call \
	    serialize,$(wordlist 2,$(words $(1)),$(1))))
$(call serialize,$(TEST_SUITES))
endif

# make install PREFIX=/usr/local DESTDIR=...: CLI, library, header, pkg-config.
install: heaptrace $(LIB) $(SOLIB)
	$(Q)install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/lib/pkgconfig \
		$(DESTDIR)$(PREFIX)/include
	$(Q)install -m 755 heaptrace $(DESTDIR)$(PREFIX)/bin/heaptrace
	$(Q)install -m 644 $(LIB) $(DESTDIR)$(PREFIX)/lib/libheaptrace.a
	$(Q)install -m 755 $(SOLIB) $(DESTDIR)$(PREFIX)/lib/$(SONAME)
	$(Q)ln -sf $(SONAME) $(DESTDIR)$(PREFIX)/lib/libheaptrace.so
	$(Q)install -m 644 user/heaptrace.h $(DESTDIR)$(PREFIX)/include/heaptrace.h
	$(Q)sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(VERSION)|' \
		scripts/heaptrace.pc.in > $(DESTDIR)$(PREFIX)/lib/pkgconfig/heaptrace.pc

# make bench: overhead ratios, replay throughput, memory (needs root).
$(OUTPUT)/bench/bench_loop: scripts/bench_loop.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -fno-omit-frame-pointer -pthread -o $@ $<

# 30 frames without frame pointers: the in-kernel unwinder's cost.
$(OUTPUT)/bench/bench_deep: scripts/bench_deep.c | $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -O2 -fomit-frame-pointer -o $@ $<

$(OUTPUT)/bench/bench_replay: scripts/bench_replay.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

$(OUTPUT)/bench/bench_html: scripts/bench_html.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

# The HTML report of 100,000 stacks: its size, the time to write it, and
# the time headless Chromium takes to load and draw it.
BENCH_HTML_STACKS ?= 100000
bench-html: $(OUTPUT)/bench/bench_html test-deps
	$(Q)$(OUTPUT)/bench/bench_html $(BENCH_HTML_STACKS) $(OUTPUT)/bench/big.html
	$(Q)mkdir -p $(OUTPUT)/bench/shots
	$(Q)node tests/svg/inspect_html.js --shots $(OUTPUT)/bench/shots $(OUTPUT)/bench/big.html | \
		sed -n 's/^ "load_ms": \([0-9]*\),/opened in headless Chromium in \1 ms (load, script, layout)/p'

# The real programs make bench traces, and heaptrack to compare with.
BENCH_DEPS_STAMP := $(OUTPUT)/.bench-deps-ok
$(BENCH_DEPS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh sqlite3 python3 git heaptrack
	$(Q)mkdir -p $(@D) && touch $@

bench: heaptrace $(OUTPUT)/demo $(OUTPUT)/bench/bench_loop $(OUTPUT)/bench/bench_deep \
       $(OUTPUT)/bench/bench_replay \
       $(BENCH_SYMBOLIZE) $(ALLOC_OUT)/mi | $(BENCH_DEPS_STAMP)
	$(Q)$(TEST_SUDO) scripts/bench.sh $(BENCH_ARGS)
	$(Q)echo; echo "symbolization (report time) of 10,000 distinct stacks:"
	$(Q)$(BENCH_SYMBOLIZE) $(BENCH_SYMBOLIZE_ARGS)

clean:
	$(Q)rm -rf $(OUTPUT) $(ASAN_OUT) heaptrace
