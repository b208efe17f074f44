# --mmap tests (tests/mmap_it.c): anonymous mappings by stack, exact, on
# tests/workloads/mmap_work.c (built by tests.mk's workload rule), launched
# and attached to, against strace's record of the same syscalls; the
# heap totals identical with --mmap on and off; Debian's python3 against
# strace's record replayed by tests/strace_mappings.py.
#
#   make mmap-tests                          as root (sudo if needed)
#   make mmap-tests MMAP_FILTER='*attach*'   run matching tests only

MMAP_BIN    := $(TEST_OUT)/mmap_it
MMAP_WORK   := $(TEST_OUT)/mmap_work
MMAP_FILTER ?=
MMAP_DEPS   := heaptrace $(MMAP_BIN) $(MMAP_WORK)
TEST_PROGRAMS += $(MMAP_DEPS)

# The reference (strace) and the real program (python3.11).
MMAP_PKGS_STAMP := $(OUTPUT)/.mmap-deps-ok
$(MMAP_PKGS_STAMP): scripts/install-deps.sh
	$(Q)scripts/install-deps.sh strace python3.11
	$(Q)mkdir -p $(@D) && touch $@

.PHONY: mmap-tests

mmap-tests: $(MMAP_DEPS) | $(MMAP_PKGS_STAMP)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_MMAP_WORK=$(abspath $(MMAP_WORK)) \
		HEAPTRACE_STRACE_REPLAY=$(abspath tests/strace_mappings.py) \
		$(MMAP_BIN) $(if $(MMAP_FILTER),'$(MMAP_FILTER)')
