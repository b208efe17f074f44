# Test workloads and the integration suite; included by the top-level
# Makefile, which provides OUTPUT, CC, Q, msg, DEPS_STAMP and `heaptrace`.
#
#   make integration                       build all, run as root (sudo if needed)
#   make integration INTEGRATION_FILTER='*attach*'   run matching tests only
#
# Workloads are built so that frame-pointer stack walks see every call
# site: no optimisation, inlining or sibling calls, frame pointers kept.

TEST_OUT        := $(OUTPUT)/tests
WORKLOAD_SRCS   := $(wildcard tests/workloads/*.c)
WORKLOADS       := $(patsubst tests/workloads/%.c,$(TEST_OUT)/%,$(WORKLOAD_SRCS))
INTEGRATION_BIN := $(TEST_OUT)/integration_it
TEST_BINS       := $(WORKLOADS) $(INTEGRATION_BIN)
INTEGRATION_DEPS := heaptrace $(TEST_BINS)

TEST_WARN       := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes
WORKLOAD_CFLAGS := -std=gnu11 -O0 -g -fno-omit-frame-pointer -fno-inline \
		   -fno-optimize-sibling-calls -pthread $(TEST_WARN)
INTEGRATION_CFLAGS := -std=gnu11 -g -O1 $(TEST_WARN)
INTEGRATION_LIBS := -lcmocka -ljson-c -lm

# Root is needed to load BPF programs; use sudo only when not root already.
TEST_SUDO       := $(if $(filter 0,$(shell id -u)),,sudo)
INTEGRATION_FILTER ?=

$(TEST_OUT):
	$(Q)mkdir -p $@

$(TEST_OUT)/%: tests/workloads/%.c | $(TEST_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKLOAD_CFLAGS) -MMD -MP -MF $@.d -MT $@ -o $@ $<

# Helpers shared by the cmocka test programs (tests/testlib.h); every
# program links it.
TESTLIB_O       := $(TEST_OUT)/testlib.o

$(TESTLIB_O): tests/testlib.c | $(TEST_OUT) $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(INTEGRATION_CFLAGS) -MMD -MP -c $< -o $@

$(TEST_OUT)/integration_it.o: tests/integration_it.c | $(TEST_OUT) $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(INTEGRATION_CFLAGS) -MMD -MP -c $< -o $@

$(INTEGRATION_BIN): $(TEST_OUT)/integration_it.o $(TESTLIB_O)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $^ $(INTEGRATION_LIBS)

integration: $(INTEGRATION_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		HEAPTRACE_KNOWN_SRC=$(abspath tests/workloads/known.c) \
		$(INTEGRATION_BIN) $(if $(INTEGRATION_FILTER),'$(INTEGRATION_FILTER)')

-include $(wildcard $(TEST_OUT)/*.d)
