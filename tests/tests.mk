# Test workloads and the integration suite (tests/integration_it.c), also
# run against an ASan+UBSan build of heaptrace (sanitize-tests).
#
#   make integration                       build all, run as root (sudo if needed)
#   make integration INTEGRATION_FILTER='*attach*'   run matching tests only
#   make sanitize-tests                    the same suite, heaptrace built with SANITIZE=1

WORKLOAD_SRCS   := $(wildcard tests/workloads/*.c)
WORKLOADS       := $(patsubst tests/workloads/%.c,$(TEST_OUT)/%,$(WORKLOAD_SRCS))
INTEGRATION_BIN := $(TEST_OUT)/integration_it
INTEGRATION_DEPS := heaptrace $(WORKLOADS) $(INTEGRATION_BIN)
INTEGRATION_FILTER ?=
ASAN_HEAPTRACE  := $(ASAN_OUT)/heaptrace-asan
TEST_PROGRAMS   += $(INTEGRATION_DEPS) asan-heaptrace

.PHONY: integration sanitize-tests asan-heaptrace

$(TEST_OUT)/%: tests/workloads/%.c | $(TEST_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKLOAD_CFLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $<

# The suite's environment: which heaptrace it runs comes first.
INTEGRATION_ENV = HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		  HEAPTRACE_KNOWN_SRC=$(abspath tests/workloads/known.c)

integration: $(INTEGRATION_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) $(INTEGRATION_ENV) \
		$(INTEGRATION_BIN) $(if $(INTEGRATION_FILTER),'$(INTEGRATION_FILTER)')

# heaptrace with ASan+UBSan, in its own output directory (a make of its
# own, which knows when it is up to date).
asan-heaptrace:
	$(Q)$(MAKE) --no-print-directory OUTPUT=$(ASAN_OUT) SANITIZE=1 $(ASAN_HEAPTRACE)

sanitize-tests: asan-heaptrace $(filter-out heaptrace,$(INTEGRATION_DEPS))
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
		UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1 \
		HEAPTRACE=$(abspath $(ASAN_HEAPTRACE)) $(INTEGRATION_ENV) \
		$(INTEGRATION_BIN) $(if $(INTEGRATION_FILTER),'$(INTEGRATION_FILTER)')
