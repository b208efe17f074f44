# Symbolizer tests.
#
#  - symtarget (tests/symbolize_target.c): the process the unit test
#    tests/test_symbolize.c symbolizes from the outside, as a PIE, -no-pie,
#    stripped (.dynsym only), with its debug information in a separate
#    file named by .gnu_debuglink, and static (run in a chroot). Built
#    -g -O2 -rdynamic.
#  - cpp_alloc (tests/workloads/cpp_alloc.cc) at -O0 and -O2, and the
#    end-to-end suite tests/symbolize_it.c (root: it runs
#    heaptrace), which also traces tests/workloads/jit.c and known.
#
#   make symbolize-tests                              build all, run as root
#   make symbolize-tests SYMBOLIZE_FILTER='*O2*'      run matching tests only
#   make bench-symbolize                              time symbolizing 100,000 addresses

SYMTARGET_FLAGS := -std=gnu11 -g -O2 -fno-omit-frame-pointer -rdynamic $(TEST_WARN)
SYMTARGETS      := $(TEST_OUT)/symtarget $(TEST_OUT)/symtarget-nopie \
		   $(TEST_OUT)/symtarget-stripped $(TEST_OUT)/symtarget-debuglink \
		   $(TEST_OUT)/symtarget-static

$(TEST_OUT)/symtarget: tests/symbolize_target.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SYMTARGET_FLAGS) -o $@ $<

$(TEST_OUT)/symtarget-nopie: tests/symbolize_target.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SYMTARGET_FLAGS) -no-pie -o $@ $<

$(TEST_OUT)/symtarget-stripped: $(TEST_OUT)/symtarget
	$(call msg,STRIP,$@)
	$(Q)strip --strip-all -o $@ $<

# Debug information (DWARF and .symtab) only in symtarget-debuglink.debug.
$(TEST_OUT)/symtarget-debuglink: $(TEST_OUT)/symtarget
	$(call msg,OBJCOPY,$@)
	$(Q)objcopy --only-keep-debug $< $@.debug
	$(Q)strip --strip-all -o $@.tmp $<
	$(Q)objcopy --add-gnu-debuglink=$@.debug $@.tmp $@
	$(Q)rm -f $@.tmp

# Static, for a chroot (another root, as in a container); debug
# information in symtarget-static.debug, to be found inside that root.
$(TEST_OUT)/symtarget-static: tests/symbolize_target.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(SYMTARGET_FLAGS) -static -o $@.full $<
	$(Q)objcopy --only-keep-debug $@.full $@.debug
	$(Q)strip --strip-all -o $@.tmp $@.full
	$(Q)objcopy --add-gnu-debuglink=$@.debug $@.tmp $@
	$(Q)rm -f $@.tmp $@.full

# The unit test runs them (it looks next to itself).
$(OUTPUT)/tests/test_symbolize: $(SYMTARGETS)

# -O2 so that the standard library's internals inline into the sites;
# frame pointers and no sibling calls so that every site keeps its frame.
CPP_ALLOC_FLAGS := -std=gnu++17 -g -fno-omit-frame-pointer -fno-optimize-sibling-calls \
		   -Wall -Wextra -Werror -Wshadow
CPP_ALLOC_BINS  := $(TEST_OUT)/cpp_alloc_O0 $(TEST_OUT)/cpp_alloc_O2

$(TEST_OUT)/cpp_alloc_O%: tests/workloads/cpp_alloc.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -O$* $(CPP_ALLOC_FLAGS) -o $@ $<

SYMBOLIZE_IT     := $(TEST_OUT)/symbolize_it
SYMBOLIZE_FILTER ?=
SYMBOLIZE_DEPS   := heaptrace $(SYMBOLIZE_IT) $(CPP_ALLOC_BINS) $(TEST_OUT)/known $(TEST_OUT)/jit
TEST_PROGRAMS    += $(SYMBOLIZE_DEPS)

.PHONY: symbolize-tests
symbolize-tests: $(SYMBOLIZE_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_CPP_O0=$(abspath $(TEST_OUT)/cpp_alloc_O0) \
		HEAPTRACE_CPP_O2=$(abspath $(TEST_OUT)/cpp_alloc_O2) \
		HEAPTRACE_CPP_SRC=$(abspath tests/workloads/cpp_alloc.cc) \
		HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		HEAPTRACE_JIT=$(abspath $(TEST_OUT)/jit) \
		$(SYMBOLIZE_IT) $(if $(SYMBOLIZE_FILTER),'$(SYMBOLIZE_FILTER)')

# Report-time cost: 10,000 stacks x 10 distinct addresses from libc,
# libstdc++, libdw, ... (see tests/bench_symbolize.c). No root needed.
BENCH_SYMBOLIZE := $(TEST_OUT)/bench_symbolize

$(BENCH_SYMBOLIZE): tests/bench_symbolize.c $(LIB)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -o $@ $< $(LIB) $(LDLIBS)

.PHONY: bench-symbolize
bench-symbolize: $(BENCH_SYMBOLIZE)
	$(Q)$(BENCH_SYMBOLIZE) $(BENCH_SYMBOLIZE_ARGS)
