# The command line as a user meets it (tests/cli_it.c): output paths that
# are devices, FIFOs, descriptors or symlinks, checks before tracing,
# warnings and one-line errors. Included by the top-level Makefile after
# tests/tests.mk (TEST_OUT, TEST_SUDO, INTEGRATION_CFLAGS, INTEGRATION_LIBS).
#
#   make cli-tests                         as root (sudo if needed)
#   make cli-tests CLI_FILTER='*fifo*'     run matching tests only

CLI_IT     := $(TEST_OUT)/cli_it
CLI_FILTER ?=

.PHONY: cli-tests

$(CLI_IT): tests/cli_it.c tests/testlib.h $(TEST_OUT)/testlib.o | $(TEST_OUT) $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(INTEGRATION_CFLAGS) -o $@ $< $(TEST_OUT)/testlib.o $(INTEGRATION_LIBS)

cli-tests: heaptrace $(CLI_IT) $(TEST_OUT)/known
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		$(CLI_IT) $(if $(CLI_FILTER),'$(CLI_FILTER)')
