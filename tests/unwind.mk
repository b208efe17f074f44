# Unwinding tests: workloads built WITHOUT frame pointers (C at -O2
# -fomit-frame-pointer, C++ at -O2 through Debian's libstdc++) traced by
# heaptrace in every --unwind mode and compared with gdb's backtraces;
# workloads for the in-kernel unwinder (tests/workloads/unwind_cfi.c and
# the dlopen'ed unwind_lib.c); real Debian programs under heaptrace and
# under Debian's heaptrack.
# The suite is tests/unwind_it.c.
#
#   make unwind-tests                         build all, run as root (sudo if needed)
#   make unwind-tests UNWIND_FILTER='*gdb*'   run matching tests only
#
# tests/workloads/unwind_* are built here, by explicit rules that win over
# tests.mk's pattern rule for tests/workloads/*.c (that one keeps frame
# pointers; these must not have them).

UNWIND_C_BIN   := $(TEST_OUT)/unwind_c
UNWIND_CXX_BIN := $(TEST_OUT)/unwind_cxx
UNWIND_CFI_BIN := $(TEST_OUT)/unwind_cfi
UNWIND_LIB     := $(TEST_OUT)/unwind_lib
UNWIND_BIN     := $(TEST_OUT)/unwind_it
UNWIND_FILTER  ?=
UNWIND_DEPS    := heaptrace $(UNWIND_C_BIN) $(UNWIND_CXX_BIN) $(UNWIND_CFI_BIN) $(UNWIND_LIB) \
		  $(UNWIND_BIN)
TEST_PROGRAMS  += $(UNWIND_DEPS)

# Optimised, and explicitly without frame pointers (gcc's x86-64 default
# at -O2 anyway): only CFI can get through these frames.
UNWIND_C_FLAGS   := -std=gnu11 -O2 -g -fomit-frame-pointer $(TEST_WARN)
UNWIND_CXX_FLAGS := -std=gnu++17 -O2 -g -fomit-frame-pointer -Wall -Wextra -Werror -Wshadow

$(UNWIND_C_BIN): tests/workloads/unwind_c.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UNWIND_C_FLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $<

$(UNWIND_CFI_BIN): tests/workloads/unwind_cfi.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UNWIND_C_FLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $< -ldl

# A shared object (no .so suffix, so that tests.mk's workload list can
# name it too), dlopen'ed by unwind_cfi.
$(UNWIND_LIB): tests/workloads/unwind_lib.c
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(UNWIND_C_FLAGS) -fPIC -shared -MMD -MP -MF $@.d -MT $@ -o $@ $<

$(UNWIND_CXX_BIN): tests/workloads/unwind_cxx.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) $(UNWIND_CXX_FLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $<

# The differential tests' reference and programs.
UNWIND_PKGS_STAMP := $(OUTPUT)/.unwind-deps-ok
$(UNWIND_PKGS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh heaptrack sqlite3 jq perl python3.11
	$(Q)mkdir -p $(@D) && touch $@

.PHONY: unwind-tests
unwind-tests: $(UNWIND_DEPS) | $(UNWIND_PKGS_STAMP)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_UNWIND_C=$(abspath $(UNWIND_C_BIN)) \
		HEAPTRACE_UNWIND_CXX=$(abspath $(UNWIND_CXX_BIN)) \
		HEAPTRACE_UNWIND_CFI=$(abspath $(UNWIND_CFI_BIN)) \
		$(UNWIND_BIN) $(if $(UNWIND_FILTER),'$(UNWIND_FILTER)')
