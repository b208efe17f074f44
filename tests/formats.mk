# Integration tests of the report files (-f, -o, -i, --keep, SIGUSR1):
# pprof read back by `go tool pprof` (its web UI in headless Chromium,
# tests/svg/pprof_ui.js), folded parsed back, SVG checked by
# xmllint and driven in headless Chromium (tests/svg), snapshots, symlinks,
# read-only and full output directories (tests/formats_it.c).
#
#   make formats-tests                            build, install tools, run as root
#   make formats-tests FORMATS_FILTER='*svg*'     run matching tests only
#   make test-deps                                only install the test tools
#
# The screenshot of the demo's flame graph is left in FORMATS_FLAMEGRAPH_PNG, that of
# the HTML report of tests/workloads/phases.c in FORMATS_HTML_PNG.

FORMATS_IT             := $(TEST_OUT)/formats_it
FORMATS_FILTER         ?=
FORMATS_FLAMEGRAPH_PNG ?= $(abspath $(TEST_OUT))/demo-flamegraph.png
FORMATS_HTML_PNG       ?= $(abspath $(TEST_OUT))/html-report.png
FORMATS_DEPS           := heaptrace $(FORMATS_IT) $(TEST_OUT)/known $(TEST_OUT)/grow \
			  $(OUTPUT)/demo $(TEST_OUT)/cpp_alloc_O2 $(TEST_OUT)/cpp_alloc_nopie \
			  $(TEST_OUT)/phases test-deps
TEST_PROGRAMS          += $(FORMATS_DEPS)

.PHONY: formats-tests test-deps

# go tool pprof's own disassembler reads executables at their link-time
# addresses only: -disasm is tested on a non-PIE build.
$(TEST_OUT)/cpp_alloc_nopie: tests/workloads/cpp_alloc.cc
	$(call msg,CXX,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CXX) -O2 $(CPP_ALLOC_FLAGS) -fno-pie -no-pie -o $@ $<

# go, chromium, node/npm and tests/svg/node_modules; fast when all is there.
test-deps:
	$(Q)$(TEST_SUDO) scripts/install-test-deps.sh

formats-tests: $(FORMATS_DEPS)
	$(call msg,TEST,$@)
	$(Q)$(TEST_SUDO) env HEAPTRACE=$(abspath heaptrace) \
		HEAPTRACE_KNOWN=$(abspath $(TEST_OUT)/known) \
		HEAPTRACE_GROW=$(abspath $(TEST_OUT)/grow) \
		HEAPTRACE_DEMO=$(abspath $(OUTPUT)/demo) \
		HEAPTRACE_CPP_ALLOC=$(abspath $(TEST_OUT)/cpp_alloc_O2) \
		HEAPTRACE_CPP_ALLOC_NOPIE=$(abspath $(TEST_OUT)/cpp_alloc_nopie) \
		HEAPTRACE_SVG_SCRIPT=$(abspath tests/svg/inspect.js) \
		HEAPTRACE_PHASES=$(abspath $(TEST_OUT)/phases) \
		HEAPTRACE_HTML_SCRIPT=$(abspath tests/svg/inspect_html.js) \
		HEAPTRACE_PPROF_UI_SCRIPT=$(abspath tests/svg/pprof_ui.js) \
		HEAPTRACE_FLAMEGRAPH_PNG=$(FORMATS_FLAMEGRAPH_PNG) \
		HEAPTRACE_HTML_PNG=$(FORMATS_HTML_PNG) \
		$(FORMATS_IT) $(if $(FORMATS_FILTER),'$(FORMATS_FILTER)')
