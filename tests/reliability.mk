# Reliability: fault tests (tests/reliability_it.c), parser fuzzing, soak.
#
#   make reliability-tests                          as root (sudo if needed)
#   make reliability-tests RELIABILITY_FILTER='*sigkill*'
#   make fuzz-corpus     every fuzz target over its seed corpus, once
#   make fuzz            every fuzz target for FUZZ_SECONDS (60) each
#   make soak            scripts/soak.sh for SOAK_SECONDS (600)
#
# tests/workloads/rel_*.c are built by tests.mk's workload rule; the exec
# tests also need non-PIE builds of rel_work and rel_other.

REL_BIN            := $(TEST_OUT)/reliability_it
REL_WORK           := $(TEST_OUT)/rel_work
REL_NOPIE          := $(TEST_OUT)/rel_work_nopie
REL_OTHER          := $(TEST_OUT)/rel_other_nopie
RELIABILITY_FILTER ?=
RELIABILITY_DEPS   := heaptrace $(REL_BIN) $(REL_WORK) $(REL_NOPIE) $(REL_OTHER)
TEST_PROGRAMS      += $(RELIABILITY_DEPS)

.PHONY: reliability-tests fuzz fuzz-corpus soak

$(REL_NOPIE): tests/workloads/rel_work.c tests/workloads/common.h | $(TEST_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKLOAD_CFLAGS) -no-pie -o $@ $<

$(REL_OTHER): tests/workloads/rel_other.c tests/workloads/common.h | $(TEST_OUT)
	$(call msg,CC,$@)
	$(Q)$(CC) $(WORKLOAD_CFLAGS) -no-pie -o $@ $<

reliability-tests: $(RELIABILITY_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_REL_WORK=$(abspath $(REL_WORK)) \
		HEAPTRACE_REL_NOPIE=$(abspath $(REL_NOPIE)) \
		HEAPTRACE_REL_OTHER=$(abspath $(REL_OTHER)) \
		$(REL_BIN) $(if $(RELIABILITY_FILTER),'$(RELIABILITY_FILTER)')

# --- fuzzing: libFuzzer targets for the parsers heaptrace writes itself ---
#
# Each target is built with clang -fsanitize=fuzzer,address,undefined from
# the sources it exercises (instrumented, unlike the gcc-built library).
FUZZ_OUT     := $(OUTPUT)/fuzz
FUZZ_CC      ?= clang
FUZZ_CFLAGS  := -g -O1 -std=gnu11 -D_GNU_SOURCE -fsanitize=fuzzer,address,undefined \
		-fno-sanitize-recover=undefined -fno-omit-frame-pointer \
		-I$(OUTPUT) -Ibpf -Iuser
FUZZ_SECONDS ?= 60
FUZZ_TARGETS := procmaps stream_decode stream_replay perfmap cfitab
FUZZ_BINS    := $(patsubst %,$(FUZZ_OUT)/fuzz_%,$(FUZZ_TARGETS))
TEST_PROGRAMS += $(FUZZ_BINS)

# What each target links: the parser and what its consumers reach.
FUZZ_SRC_procmaps      := user/procmaps.c
FUZZ_SRC_stream_decode := user/stream.c
FUZZ_SRC_stream_replay := user/stream.c user/heap.c user/stacks.c user/util.c
FUZZ_SRC_perfmap       := user/perfmap.c user/util.c
FUZZ_SRC_cfitab        := user/cfitab.c user/util.c
FUZZ_LIBS_stream_decode := -lbpf
FUZZ_LIBS_stream_replay := -lbpf
FUZZ_LIBS_cfitab        := -ldw -lelf
# perfmap.c's load() calls qsort(NULL, 0, ...) for a file without entries:
# harmless with glibc, but UBSan's nonnull check stops on it (reported).
FUZZ_LIBS_perfmap       := -fno-sanitize=nonnull-attribute

$(FUZZ_OUT):
	$(Q)mkdir -p $@

define fuzz_rule
$(FUZZ_OUT)/fuzz_$(1): tests/fuzz/fuzz_$(1).c $(FUZZ_SRC_$(1)) bpf/events.h | $(FUZZ_OUT) $(DEPS_STAMP)
	$$(call msg,FUZZ-CC,$$@)
	$$(Q)$$(FUZZ_CC) $$(FUZZ_CFLAGS) -o $$@ $$< $(FUZZ_SRC_$(1)) $(FUZZ_LIBS_$(1))
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_rule,$(t))))

# Every seed once: a regression test, part of `make test`.
fuzz-corpus: $(FUZZ_BINS)
	$(call msg,TEST,$@)
	$(Q)for t in $(FUZZ_TARGETS); do \
		$(FUZZ_OUT)/fuzz_$$t -runs=0 -artifact_prefix=$(FUZZ_OUT)/crash-$$t- \
			tests/fuzz/corpus/$$t >$(FUZZ_OUT)/$$t.log 2>&1 || \
		{ tail -40 $(FUZZ_OUT)/$$t.log; echo "fuzz-corpus: $$t failed"; exit 1; }; \
	done

# FUZZ_SECONDS of fuzzing per target; new inputs go to $(FUZZ_OUT)/corpus,
# crashes to $(FUZZ_OUT)/crash-* (copy good finds into tests/fuzz/corpus).
fuzz: $(FUZZ_BINS)
	$(Q)for t in $(FUZZ_TARGETS); do \
		mkdir -p $(FUZZ_OUT)/corpus/$$t; \
		echo "  FUZZ     $$t ($(FUZZ_SECONDS) s)"; \
		$(FUZZ_OUT)/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
			-artifact_prefix=$(FUZZ_OUT)/crash-$$t- \
			$(FUZZ_OUT)/corpus/$$t tests/fuzz/corpus/$$t \
			>$(FUZZ_OUT)/$$t.log 2>&1 || \
		{ tail -60 $(FUZZ_OUT)/$$t.log; echo "fuzz: $$t found a crash"; exit 1; }; \
		grep -E '^stat::number_of_executed_units|^stat::peak_rss' $(FUZZ_OUT)/$$t.log; \
	done

# --- soak: 10 minutes of churn and growth under periodic snapshots ---
SOAK_SECONDS ?= 600

soak: heaptrace $(REL_WORK)
	$(Q)$(TEST_SUDO) env SOAK_SECONDS=$(SOAK_SECONDS) scripts/soak.sh \
		$(abspath heaptrace) $(abspath $(REL_WORK))
