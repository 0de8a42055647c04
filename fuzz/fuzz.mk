# fuzz/fuzz.mk - libFuzzer targets; included from the GNUmakefile.
#
#   make fuzz [FUZZ_SECONDS=20]   build every fuzz/fuzz_*.c and run each
#                                 for FUZZ_SECONDS; any crash fails, and
#                                 the output ends with each failure's
#                                 report and input (base64)
#   make fuzz-build               only build them
#   make fuzz-regress             replay fuzz/regressions/<target>/*
#
# Each harness is linked with shm/*.c, worker/*.c and supervisor/*.c
# compiled again by clang with the same sanitizers (not with the gcc-built
# archives), so that ASan sees every access the library makes and
# libFuzzer has its coverage. A run works on build/fuzz/corpus/<target>,
# seeded from fuzz/corpus/<target>, which it also reads but never writes:
# runs never touch the repository. Crash inputs land in
# build/fuzz/artifacts/<target>/. Include this file after the `all` rule,
# so that `all` stays the default goal.

FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 20
FUZZ_DIR     := $(or $(B),build)/fuzz
FUZZ_SAN     := -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
FUZZ_CFLAGS  := $(FUZZ_SAN) -g -O1 -I. -Iinclude -D_GNU_SOURCE -std=gnu17 \
                -Wall -Wextra -Werror -MMD -MP
FUZZ_LDLIBS  := -linih -lbsd -lpthread -lrt
# A hang is a crash too: no single input may take this long.
FUZZ_RUNFLAGS := -timeout=10 -rss_limit_mb=2048 -print_final_stats=1

FUZZ_NAMES    := $(patsubst fuzz/%.c,%,$(wildcard fuzz/fuzz_*.c))
FUZZ_BINS     := $(FUZZ_NAMES:%=$(FUZZ_DIR)/%)
FUZZ_LIB_OBJS := $(patsubst %.c,$(FUZZ_DIR)/obj/%.o,\
                   $(wildcard shm/*.c worker/*.c supervisor/*.c))

.PHONY: fuzz fuzz-build fuzz-regress

fuzz-build: $(FUZZ_BINS)

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@

$(FUZZ_BINS): $(FUZZ_DIR)/%: $(FUZZ_DIR)/obj/fuzz/%.o $(FUZZ_LIB_OBJS)
	$(FUZZ_CC) $(FUZZ_SAN) -o $@ $^ $(FUZZ_LDLIBS)

# Prints the summary of failed target $$t from its log: the report from
# the first error to the sanitizer's SUMMARY line without the frames of
# libFuzzer, the sanitizers and libc (at most 15 lines), and the input
# libFuzzer saved, as base64 when under 4 KiB, so that a CI log that keeps
# only its tail is enough to reproduce. A slow-unit report is not the
# failure: its input is skipped.
FUZZ_NOISE := in (fuzzer::|__sanitizer|__libc_start|_start |main )
FUZZ_NOISE := $(FUZZ_NOISE)|libc\.so|/nptl/|/sysdeps/|stdlib/abort
FUZZ_NOISE := $(FUZZ_NOISE)|^$$|^NOTE:|^ +Combine|^stat::
define FUZZ_SUMMARY
log=$(FUZZ_DIR)/$$t.log; \
echo "== fuzz $$t FAILED (log $$log)"; \
sed -n '/property failed\|ERROR\|runtime error/,/^SUMMARY:/p' $$log | \
    grep -v -E '$(FUZZ_NOISE)' | sed 's/ (BuildId: [0-9a-f]*)//' | \
    head -n 15; \
art=$$(sed -n 's/.*Test unit written to //p' $$log | \
       grep -v '/slow-unit-' | tail -n 1); \
if [ -z "$$art" ] || [ ! -f "$$art" ]; then \
    echo "input: none saved"; \
elif [ $$(wc -c < "$$art") -lt 4096 ]; then \
    echo "input: $$art ($$(wc -c < "$$art") bytes), base64:"; \
    base64 -w0 "$$art"; echo; \
    echo "reproduce: echo <base64> | base64 -d > in && $(FUZZ_DIR)/$$t in"; \
else \
    echo "input: $$art ($$(wc -c < "$$art") bytes, too big to print)"; \
fi
endef

# Every target runs even when an earlier one fails, so that one bug does
# not hide the others; any failure fails the whole run, and ends it with
# a summary of each failure (CI shows only the tail of the output).
fuzz: $(FUZZ_BINS)
	@failed=; for t in $(FUZZ_NAMES); do \
	    echo "== fuzz $$t for $(FUZZ_SECONDS)s"; \
	    mkdir -p $(FUZZ_DIR)/corpus/$$t $(FUZZ_DIR)/artifacts/$$t; \
	    seeds=; \
	    if [ -d fuzz/corpus/$$t ]; then \
	        seeds=fuzz/corpus/$$t; \
	        cp -n $$seeds/* $(FUZZ_DIR)/corpus/$$t/ 2>/dev/null || :; \
	    fi; \
	    if $(FUZZ_DIR)/$$t $(FUZZ_RUNFLAGS) -max_total_time=$(FUZZ_SECONDS) \
	        -artifact_prefix=$(FUZZ_DIR)/artifacts/$$t/ \
	        $(FUZZ_DIR)/corpus/$$t $$seeds > $(FUZZ_DIR)/$$t.log 2>&1; then \
	        grep -E '^stat::(number_of_executed_units|average_exec_per_sec)' \
	            $(FUZZ_DIR)/$$t.log; \
	    else \
	        grep -E -B2 -A12 'ERROR|property failed|runtime error' \
	            $(FUZZ_DIR)/$$t.log | head -n 40; \
	        echo "fuzz: $$t FAILED; log $(FUZZ_DIR)/$$t.log, input in" \
	             "$(FUZZ_DIR)/artifacts/$$t/"; \
	        failed="$$failed $$t"; \
	    fi; \
	done; \
	[ -z "$$failed" ] && exit 0; \
	for t in $$failed; do $(FUZZ_SUMMARY); done; \
	echo "fuzz: failed:$$failed"; exit 1

# Every saved reproducer, run once; passes when the bugs are fixed.
fuzz-regress: $(FUZZ_BINS)
	@failed=; for t in $(FUZZ_NAMES); do \
	    [ -d fuzz/regressions/$$t ] || continue; \
	    for f in fuzz/regressions/$$t/*; do \
	        if $(FUZZ_DIR)/$$t $(FUZZ_RUNFLAGS) $$f \
	            > $(FUZZ_DIR)/$$t.regress.log 2>&1; then \
	            echo "ok   $$f"; \
	        else \
	            echo "FAIL $$f"; \
	            grep -E -m3 'ERROR|property failed|runtime error' \
	                $(FUZZ_DIR)/$$t.regress.log; \
	            failed=1; \
	        fi; \
	    done; \
	done; \
	[ -z "$$failed" ]

-include $(shell find $(FUZZ_DIR)/obj -name '*.d' 2>/dev/null)
