# Build, test, package and demo. Plain make; every output goes under $(BUILD).
#
#   make deps        install missing Debian packages (root) or print the command
#   make all         libraries, tools and function binaries
#   make test        deps + build + every test; non-zero on any failure
#   make test-asan   the same tests under AddressSanitizer + UBSan
#   make bench-runtime, make format-check, make clean

BUILD ?= build
CC ?= cc
SAN ?=

DEB_PACKAGES := build-essential pkg-config libcurl4-openssl-dev libyajl-dev uuid-dev \
                libcmocka-dev libmicrohttpd-dev libsqlite3-dev libyaml-dev libssl-dev \
                clang-format clang libclang-rt-14-dev curl openssl zip unzip binutils

WARNINGS := -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Werror
CPPFLAGS += -D_GNU_SOURCE -I. -Ishared -Iruntime -Itests/support
CFLAGS ?= -O2 -g
CFLAGS += -std=c11 $(WARNINGS) -ffunction-sections -fdata-sections -fno-omit-frame-pointer $(SAN)
# --as-needed: a binary loads only the libraries it calls into (cold starts).
LDFLAGS += -Wl,--gc-sections -Wl,--as-needed $(SAN)

ifneq ($(SAN),)
# Sanitizers need the runtime at link time and a debugger-friendly build.
CFLAGS := $(filter-out -O2,$(CFLAGS)) -O1
endif

# shared/: the one static archive every function links (core, model, mapping).
CORE_SRC := $(wildcard shared/*/*.c shared/*/*/*.c)
CORE_OBJ := $(CORE_SRC:%.c=$(BUILD)/obj/%.o)
CORE_LIB := $(BUILD)/lib/libcsshared.a
CORE_LIBS := -lyajl -luuid -lcurl -lsqlite3 -lcrypto

RUNTIME_SRC := $(wildcard runtime/*.c)
RUNTIME_OBJ := $(RUNTIME_SRC:%.c=$(BUILD)/obj/%.o)
RUNTIME_LIB := $(BUILD)/lib/libcsruntime.a
RUNTIME_LIBS := -lcurl

# emulator/: the local Lambda service; never linked into a function.
EMULATOR_SRC := $(wildcard emulator/*.c emulator/sandbox/*.c)
EMULATOR_OBJ := $(EMULATOR_SRC:%.c=$(BUILD)/obj/%.o)
EMULATOR_LIB := $(BUILD)/lib/libcsemulator.a
EMULATOR_LIBS := -lyaml -lmicrohttpd -lpthread

SUPPORT_SRC := $(wildcard tests/support/*.c)
SUPPORT_OBJ := $(SUPPORT_SRC:%.c=$(BUILD)/obj/%.o)
SUPPORT_LIB := $(BUILD)/lib/libcstestsupport.a
SUPPORT_LIBS := -lmicrohttpd -lpthread

UNIT_SRC := $(wildcard tests/unit/*/test_*.c)
UNIT_BIN := $(UNIT_SRC:tests/%.c=$(BUILD)/tests/%)

# Function binaries used by the runtime tests and the runtime benchmark.
# The sync functions: functions/<flow>/*.c, one bootstrap each.
FLOWS := $(notdir $(wildcard functions/*))
FLOW_BINS := $(FLOWS:%=$(BUILD)/functions/%/bootstrap)
# template.yaml's logical ids and their flows, for SAM's build-<LogicalId>.
SAM_FUNCTIONS := WebhookIngress=webhook-ingress OrderExport=order-export StockUpdate=stock-update FulfillmentCallback=fulfillment-callback Backfill=backfill
SAM_IDS := $(foreach f,$(SAM_FUNCTIONS),$(firstword $(subst =, ,$(f))))
flow_of = $(word 2,$(subst =, ,$(filter $(1)=%,$(SAM_FUNCTIONS))))

TEST_FUNCTION := $(BUILD)/tests/functions/contract/bootstrap
EMULATOR_BIN := $(BUILD)/bin/emulator
SANDBOX_BIN := $(BUILD)/bin/sandbox
ECHO_FUNCTION := $(BUILD)/bench/echo/bootstrap


.PHONY: package
.PHONY: sam-artifacts run all deps test test-asan unit-tests format format-check clean bench-runtime bench-mapping bench-state bench-emulator bench-e2e bench-identity demo \
        lint-template \
        fuzz fuzz-regress

all: $(CORE_LIB) $(RUNTIME_LIB) $(ECHO_FUNCTION) $(EMULATOR_BIN) $(SANDBOX_BIN) $(FLOW_BINS) sam-artifacts

deps:
	@bash tools/deps.sh $(DEB_PACKAGES)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c $< -o $@

$(CORE_LIB): $(CORE_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(RUNTIME_LIB): $(RUNTIME_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(EMULATOR_LIB): $(EMULATOR_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

$(SUPPORT_LIB): $(SUPPORT_OBJ)
	@mkdir -p $(dir $@)
	$(AR) rcs $@ $^

# A function binary: static project archives, shared system libraries, stripped.
$(ECHO_FUNCTION): $(BUILD)/obj/bench/runtime/echo.o $(RUNTIME_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(RUNTIME_LIBS) $(CORE_LIBS) -o $@
	$(if $(SAN),,strip $@)

define flow_rule
$(BUILD)/functions/$(1)/bootstrap: $(patsubst %.c,$(BUILD)/obj/%.o,$(wildcard functions/$(1)/*.c)) $(RUNTIME_LIB) $(CORE_LIB)
	@mkdir -p $$(dir $$@)
	$$(CC) $$(LDFLAGS) $$^ $$(RUNTIME_LIBS) $$(CORE_LIBS) -o $$@
	$$(if $$(SAN),,strip $$@)
endef
$(foreach f,$(FLOWS),$(eval $(call flow_rule,$(f))))

.SECONDEXPANSION:
# A function's bootstrap and the integration configs into ARTIFACTS_DIR:
# what the emulator runs.
stage-%: $$(BUILD)/functions/$$(call flow_of,%)/bootstrap
	@test -n "$(ARTIFACTS_DIR)" || { echo "stage-$*: ARTIFACTS_DIR is not set" >&2; exit 1; }
	@mkdir -p $(ARTIFACTS_DIR)/config
	cp $< $(ARTIFACTS_DIR)/bootstrap
	cp infra/config/*.json $(ARTIFACTS_DIR)/config/

# What `sam build` calls for a function with BuildMethod makefile: the
# build's packages (Debian, or Amazon Linux 2023 in SAM's build image), the
# staged function, and every non-glibc library it needs under lib/, checked
# against Amazon Linux 2023's glibc (tools/package.sh): an artifact that
# runs on provided.al2023 as it is.
build-%:
	@test -n "$(ARTIFACTS_DIR)" || { echo "build-$*: ARTIFACTS_DIR is not set" >&2; exit 1; }
	@bash tools/build-deps.sh
	@$(MAKE) --no-print-directory stage-$* ARTIFACTS_DIR=$(ARTIFACTS_DIR)
	@bash tools/package.sh $(ARTIFACTS_DIR)

# The same layout under $(BUILD)/sam, for the emulator's --build-dir.
# make package: build/package/<LogicalId>.zip per function, bootstrap and
# the configs with every non-glibc shared library under lib/, checked to
# need no glibc newer than Amazon Linux 2023's (tools/package.sh).
package: $(FLOW_BINS)
	@rm -rf $(BUILD)/package && mkdir -p $(BUILD)/package
	@for id in $(SAM_IDS); do \
	    $(MAKE) --no-print-directory -s stage-$$id ARTIFACTS_DIR=$(BUILD)/package/$$id >/dev/null && \
	    bash tools/package.sh $(BUILD)/package/$$id $(BUILD)/package/$$id.zip || exit 1; \
	done

sam-artifacts: $(FLOW_BINS)
	@for id in $(SAM_IDS); do \
	    $(MAKE) --no-print-directory -s stage-$$id ARTIFACTS_DIR=$(BUILD)/sam/$$id >/dev/null || exit 1; \
	done

$(TEST_FUNCTION): $(BUILD)/obj/tests/functions/contract.o $(RUNTIME_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(RUNTIME_LIBS) $(CORE_LIBS) -o $@

$(BUILD)/tests/unit/%: $(BUILD)/obj/tests/unit/%.o $(SUPPORT_LIB) $(EMULATOR_LIB) $(RUNTIME_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SUPPORT_LIBS) $(EMULATOR_LIBS) $(RUNTIME_LIBS) $(CORE_LIBS) -lcmocka -o $@

$(EMULATOR_BIN): $(BUILD)/obj/emulator/cli/main.o $(EMULATOR_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(EMULATOR_LIBS) $(CORE_LIBS) -o $@

$(SANDBOX_BIN): $(BUILD)/obj/emulator/sandbox/cli/main.o $(EMULATOR_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(EMULATOR_LIBS) $(CORE_LIBS) -o $@

# The emulator on the project's template, until Ctrl-C.
run: deps
	@$(MAKE) --no-print-directory $(EMULATOR_BIN)
	@mkdir -p $(BUILD)/state
	$(EMULATOR_BIN) start --template template.yaml --state-dir $(BUILD)/state

unit-tests: $(UNIT_BIN) $(TEST_FUNCTION) $(EMULATOR_BIN) sam-artifacts

# Each test binary runs as its own process under a timeout; all run even when
# one fails, and the exit status says whether any did.
test: deps
	@$(MAKE) --no-print-directory unit-tests all package
	@BUILD=$(BUILD) bash tools/run-tests.sh $(UNIT_BIN)
	@$(MAKE) --no-print-directory lint-template
	@bash tests/node/run.sh $(BUILD)

# cfn-lint comes with the machine's Python (DESIGN.md); a machine without it
# says so loudly instead of passing quietly.
lint-template:
	@if command -v cfn-lint >/dev/null; then cfn-lint template.yaml && echo "cfn-lint: template.yaml clean"; \
	else echo "cfn-lint not found: template.yaml NOT checked" >&2; fi

test-asan: deps
	@$(MAKE) --no-print-directory package
	@$(MAKE) --no-print-directory BUILD=build/asan SAN="-fsanitize=address,undefined -fno-sanitize-recover=all" unit-tests
	@BUILD=build/asan ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    bash tools/run-tests.sh $(UNIT_BIN:$(BUILD)/%=build/asan/%)
	@$(MAKE) --no-print-directory fuzz-regress

bench-runtime: deps
	@$(MAKE) --no-print-directory all $(BUILD)/bench/runtime/bench_runtime \
	    $(BUILD)/bench/floor/plain $(BUILD)/bench/floor/with-curl
	@bash bench/runtime/run.sh $(BUILD)

$(BUILD)/bench/runtime/bench_runtime: $(BUILD)/obj/bench/runtime/bench_runtime.o $(SUPPORT_LIB) $(EMULATOR_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SUPPORT_LIBS) $(EMULATOR_LIBS) $(CORE_LIBS) -lm -o $@

bench-mapping: deps
	@$(MAKE) --no-print-directory $(BUILD)/bench/mapping/bench_mapping
	@bash bench/mapping/run.sh $(BUILD)

$(BUILD)/bench/mapping/bench_mapping: $(BUILD)/obj/bench/mapping/bench_mapping.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(CORE_LIBS) -o $@

# Identity matching against MAX's accounts: the index and the scan it
# replaced, side by side (bench/RESULTS.md).
bench-identity: deps
	@$(MAKE) --no-print-directory $(BUILD)/bench/identity/bench_identity
	@$(BUILD)/bench/identity/bench_identity $${BENCH_ACCOUNTS:-50000} $${BENCH_CUSTOMERS:-600}

$(BUILD)/bench/identity/bench_identity: $(BUILD)/obj/bench/identity/bench_identity.o $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(CORE_LIBS) -o $@

bench-emulator: deps
	@$(MAKE) --no-print-directory $(BUILD)/bench/emulator/bench_emulator $(ECHO_FUNCTION)
	@$(BUILD)/bench/emulator/bench_emulator $(BUILD)/bench/echo $${BENCH_INVOKES:-20000} \
	    $${BENCH_MESSAGES:-20000} $${BENCH_SPAWNS:-300}

$(BUILD)/bench/emulator/bench_emulator: $(BUILD)/obj/bench/emulator/bench_emulator.o $(EMULATOR_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(EMULATOR_LIBS) $(CORE_LIBS) -o $@

bench-e2e: deps
	@$(MAKE) --no-print-directory all sam-artifacts $(BUILD)/bench/e2e/bench_e2e
	@BUILD=$(BUILD) $(BUILD)/bench/e2e/bench_e2e $${BENCH_ORDERS_PER_SHOP:-33334} \
	    $${BENCH_LIMITED_ORDERS_PER_SHOP:-2000}

$(BUILD)/bench/e2e/bench_e2e: $(BUILD)/obj/bench/e2e/bench_e2e.o $(SUPPORT_LIB) $(EMULATOR_LIB) $(RUNTIME_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SUPPORT_LIBS) $(EMULATOR_LIBS) $(RUNTIME_LIBS) $(CORE_LIBS) -lcmocka -o $@

bench-state: deps
	@$(MAKE) --no-print-directory $(BUILD)/bench/state/bench_state
	@$(BUILD)/bench/state/bench_state 2000

$(BUILD)/bench/state/bench_state: $(BUILD)/obj/bench/state/bench_state.o $(SUPPORT_LIB) $(CORE_LIB)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ $(SUPPORT_LIBS) $(CORE_LIBS) -o $@

$(BUILD)/bench/floor/plain: $(BUILD)/obj/bench/runtime/floor.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -o $@

# Linked against libcurl without calling it: what loading it costs.
$(BUILD)/bench/floor/with-curl: $(BUILD)/obj/bench/runtime/floor.o
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) $^ -Wl,--no-as-needed -lcurl -lyajl -luuid -Wl,--as-needed -o $@

# libFuzzer targets over the parsers that read untrusted input. `make fuzz`
# explores for FUZZ_SECONDS each; `make fuzz-regress` (part of test-asan)
# replays the fixtures and the saved corpus once.
FUZZ_TARGETS := json decimal timestamp order
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -std=c11 -g -O1 -D_GNU_SOURCE -Ishared -Wl,--as-needed -fsanitize=fuzzer,address,undefined \
              -fno-sanitize-recover=all
FUZZ_BIN := $(FUZZ_TARGETS:%=build/fuzz/fuzz_%)

build/fuzz/fuzz_%: tests/fuzz/fuzz_%.c $(CORE_SRC)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_FLAGS) $^ $(CORE_LIBS) -o $@

fuzz: deps $(FUZZ_BIN)
	@for t in $(FUZZ_TARGETS); do mkdir -p build/fuzz/corpus-$$t; \
	    build/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -max_len=4096 \
	        build/fuzz/corpus-$$t tests/fuzz/corpus/$$t || exit 1; done

fuzz-regress: $(FUZZ_BIN)
	@build/fuzz/fuzz_json -runs=0 tests/fuzz/corpus/json tests/fixtures/json/good tests/fixtures/json/bad 2>&1 | tail -1
	@build/fuzz/fuzz_decimal -runs=0 tests/fuzz/corpus/decimal 2>&1 | tail -1
	@build/fuzz/fuzz_timestamp -runs=0 tests/fuzz/corpus/timestamp 2>&1 | tail -1
	@build/fuzz/fuzz_order -runs=0 tests/fuzz/corpus/order tests/fixtures/shopify 2>&1 | tail -1

FORMAT_FILES = $(shell git ls-files '*.c' '*.h')

format:
	clang-format -i $(FORMAT_FILES)

format-check:
	clang-format --dry-run --Werror $(FORMAT_FILES)

demo: deps
	@$(MAKE) --no-print-directory all
	@BUILD=$(BUILD) bash tools/demo.sh

clean:
	rm -rf build

.SECONDARY:

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
