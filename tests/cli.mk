# The command line as a user meets it (tests/cli_it.c): output paths that
# are devices, FIFOs, descriptors or symlinks, checks before tracing,
# warnings and one-line errors. Included by the top-level Makefile after
# tests/common.mk; the program is built by its rule for tests/*_it.c.
#
#   make cli-tests                         as root (sudo if needed)
#   make cli-tests CLI_FILTER='*fifo*'     run matching tests only

CLI_FILTER ?=
CLI_DEPS   := heaptrace $(TEST_OUT)/cli_it $(TEST_OUT)/known
TEST_PROGRAMS += $(CLI_DEPS)

.PHONY: cli-tests

cli-tests: $(CLI_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		$(TEST_OUT)/cli_it $(if $(CLI_FILTER),'$(CLI_FILTER)')
