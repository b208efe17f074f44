# Allocator tests: workloads with known heap profiles on every allocator
# heaptrace discovers - Debian's jemalloc (linked, static, preloaded under
# C++, its non-standard API), tcmalloc, mimalloc (also dlopen'd late), a
# static glibc program, a Rust program on `_rjem_`-prefixed jemalloc, an
# allocator it does not recognise (in the executable, preloaded), and
# CPython's pymalloc (a program embedding libpython3.11, gdb's Python,
# Debian's python3.11 refused) - traced by heaptrace and compared exactly
# (tests/alloc_it.c).
#
#   make alloc-tests                          build all, run as root (sudo if needed)
#   make alloc-tests ALLOC_FILTER='*rust*'    run matching tests only
#
# The packages they need are installed by scripts/install-alloc-deps.sh.
# tests.mk's pattern rule also builds tests/workloads/alloc_*.c plainly
# (the allocator APIs are then weak and those builds never run); the
# programs here go to $(TEST_OUT)/alloc/, built against each allocator.

CARGO            ?= $(shell command -v cargo 2>/dev/null || echo $(HOME)/.cargo/bin/cargo)

ALLOC_OUT        := $(TEST_OUT)/alloc
ALLOC_DEPS_STAMP := $(OUTPUT)/.alloc-deps-ok
ALLOC_BIN        := $(TEST_OUT)/alloc_it
ALLOC_FILTER     ?=
ALLOC_CFLAGS     := $(WORKLOAD_CFLAGS) -DALLOC_LINKED
ALLOC_CXXFLAGS   := -std=gnu++17 -O0 -g -fno-omit-frame-pointer -fno-inline \
		    -fno-optimize-sibling-calls -Wall -Wextra -Werror -Wshadow
RUST_SRC         := $(ALLOC_OUT)/rust-src
RUST_BIN         := $(ALLOC_OUT)/rust/debug/workload

ALLOC_STD        := std_je std_jes std_tc std_mi std_static std_glibc
ALLOC_WORKLOADS  := $(addprefix $(ALLOC_OUT)/,$(ALLOC_STD) jex tc mi dl cxx cxx_tc cxx_mi \
		    own libbump.so quiet dlje py libpyfake.so libpyfake_nsi.so pyfake pyfake_nsi)
ALLOC_DEPS       := heaptrace $(ALLOC_WORKLOADS) $(RUST_BIN) $(ALLOC_BIN)
TEST_PROGRAMS    += $(ALLOC_DEPS)

$(ALLOC_DEPS_STAMP): scripts/install-alloc-deps.sh
	$(Q)scripts/install-alloc-deps.sh
	$(Q)mkdir -p $(@D) && touch $@

$(ALLOC_OUT)/std_je: LIBS_ALLOC := -ljemalloc
$(ALLOC_OUT)/std_jes: LIBS_ALLOC := -Wl,-Bstatic -ljemalloc_pic -Wl,-Bdynamic -lstdc++ -lm -ldl
$(ALLOC_OUT)/std_tc: LIBS_ALLOC := -ltcmalloc_minimal
$(ALLOC_OUT)/std_mi: LIBS_ALLOC := -lmimalloc
$(ALLOC_OUT)/std_static: LIBS_ALLOC := -static
$(ALLOC_OUT)/std_glibc: LIBS_ALLOC :=
$(ALLOC_OUT)/jex: LIBS_ALLOC := -ljemalloc
$(ALLOC_OUT)/tc: LIBS_ALLOC := -ltcmalloc_minimal
$(ALLOC_OUT)/mi: LIBS_ALLOC := -lmimalloc
$(ALLOC_OUT)/dl: LIBS_ALLOC :=
$(ALLOC_OUT)/quiet: LIBS_ALLOC :=
$(ALLOC_OUT)/dlje: LIBS_ALLOC :=
$(ALLOC_OUT)/py: LIBS_ALLOC := -lpython3.11
$(ALLOC_OUT)/cxx: LIBS_ALLOC :=
$(ALLOC_OUT)/cxx_tc: LIBS_ALLOC := -ltcmalloc_minimal
$(ALLOC_OUT)/cxx_mi: LIBS_ALLOC := -lmimalloc

$(addprefix $(ALLOC_OUT)/,$(ALLOC_STD)): tests/workloads/alloc_std.c tests/workloads/common.h \
		| $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALLOC_CFLAGS) -o $@ $< $(LIBS_ALLOC)

$(ALLOC_OUT)/jex $(ALLOC_OUT)/tc $(ALLOC_OUT)/mi $(ALLOC_OUT)/dl $(ALLOC_OUT)/quiet \
		$(ALLOC_OUT)/dlje $(ALLOC_OUT)/py: \
		$(ALLOC_OUT)/%: tests/workloads/alloc_%.c tests/workloads/common.h | $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALLOC_CFLAGS) -o $@ $< $(LIBS_ALLOC)

# An allocator heaptrace does not know: in a program's executable, and
# as an LD_PRELOAD object (optimised: its entry points tail-call).
$(ALLOC_OUT)/own: tests/workloads/alloc_own.c tests/workloads/alloc_bump.h \
		tests/workloads/common.h | $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(ALLOC_CFLAGS) -o $@ $<

$(ALLOC_OUT)/libbump.so: tests/workloads/alloc_bump.h | $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g -fPIC -shared $(TEST_WARN) -x c -o $@ $<

# CPython's allocator shape (alloc_pyfake.h), with and without semantic
# interposition, and a program on each.
$(ALLOC_OUT)/libpyfake.so: PYFAKE_CFLAGS :=
$(ALLOC_OUT)/libpyfake_nsi.so: PYFAKE_CFLAGS := -fno-semantic-interposition
$(ALLOC_OUT)/libpyfake.so $(ALLOC_OUT)/libpyfake_nsi.so: tests/workloads/alloc_pyfake.h \
		| $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) -std=gnu11 -O2 -g -fPIC -shared $(PYFAKE_CFLAGS) $(TEST_WARN) \
		-Wl,-soname,$(@F) -x c -o $@ $<

$(ALLOC_OUT)/pyfake $(ALLOC_OUT)/pyfake_nsi: $(ALLOC_OUT)/%: tests/workloads/alloc_pyfake.c \
		tests/workloads/common.h $(ALLOC_OUT)/lib%.so | $(ALLOC_DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(ALLOC_CFLAGS) -o $@ $< -L$(ALLOC_OUT) -l$* -Wl,-rpath,$(abspath $(ALLOC_OUT))

$(ALLOC_OUT)/cxx $(ALLOC_OUT)/cxx_tc $(ALLOC_OUT)/cxx_mi: tests/workloads/alloc_cxx.cc \
		tests/workloads/common.h | $(ALLOC_DEPS_STAMP)
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(ALLOC_CXXFLAGS) -o $@ $< $(LIBS_ALLOC)

# The Rust workload: built offline from Debian's crates, from a copy of
# tests/rust (cargo writes its Cargo.lock next to the manifest), into
# .output. The first build compiles jemalloc (about a minute).
$(RUST_BIN): tests/rust/Cargo.toml tests/rust/.cargo/config.toml tests/rust/src/main.rs \
		| $(ALLOC_DEPS_STAMP)
	$(call msg,CARGO,$@)
	$(Q)mkdir -p $(RUST_SRC)
	$(Q)cp -R tests/rust/. $(RUST_SRC)/
	$(Q)cd $(RUST_SRC) && $(CARGO) build --offline --quiet \
		--target-dir $(abspath $(ALLOC_OUT))/rust
	$(Q)touch $@

.PHONY: alloc-tests
alloc-tests: $(ALLOC_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_ALLOC_DIR=$(abspath $(ALLOC_OUT)) \
		HEAPTRACE_ALLOC_RUST=$(abspath $(RUST_BIN)) \
		$(ALLOC_BIN) $(if $(ALLOC_FILTER),'$(ALLOC_FILTER)')

# Firefox ESR (mozjemalloc in its executable) under heaptrace, beside
# bpftrace's counts of the executable's malloc & co in the same run. Not
# part of `make test`: it installs firefox-esr and takes about two minutes.
.PHONY: firefox-measure
firefox-measure: heaptrace
	$(Q)$(TEST_SUDO) scripts/measure-firefox.sh $(abspath heaptrace)
