# What the test makefiles share; included by the top-level Makefile (which
# provides OUTPUT, CC, Q, msg and DEPS_STAMP) before tests/*.mk.
#
# Every integration program is tests/NAME_it.c, a cmocka program linked
# with the helpers of tests/testlib.c into $(TEST_OUT)/NAME_it; it takes
# one optional argument, a pattern of the test names to run.

TEST_OUT           := $(OUTPUT)/tests
TEST_WARN          := -Wall -Wextra -Werror -Wshadow -Wmissing-prototypes
# Workloads are built so that frame-pointer stack walks see every call
# site: no optimisation, inlining or sibling calls, frame pointers kept.
WORKLOAD_CFLAGS    := -std=gnu11 -O0 -g -fno-omit-frame-pointer -fno-inline \
		      -fno-optimize-sibling-calls -pthread $(TEST_WARN)
INTEGRATION_CFLAGS := -std=gnu11 -g -O1 $(TEST_WARN)
INTEGRATION_LIBS   := -lcmocka -ljson-c -lm
# Root is needed to load BPF programs; use sudo only when not root already.
TEST_SUDO          := $(if $(filter 0,$(shell id -u)),,sudo)

TESTLIB_O          := $(TEST_OUT)/testlib.o
IT_BINS            := $(patsubst tests/%.c,$(TEST_OUT)/%,$(wildcard tests/*_it.c))

$(TEST_OUT):
	$(Q)mkdir -p $@

$(TESTLIB_O) $(IT_BINS:=.o): $(TEST_OUT)/%.o: tests/%.c | $(TEST_OUT) $(DEPS_STAMP)
	$(call msg,CC,$@)
	$(Q)$(CC) $(INTEGRATION_CFLAGS) -MMD -MP -c $< -o $@

$(IT_BINS): %: %.o $(TESTLIB_O)
	$(call msg,LINK,$@)
	$(Q)$(CC) -o $@ $^ $(INTEGRATION_LIBS)

-include $(wildcard $(TEST_OUT)/*.d)
