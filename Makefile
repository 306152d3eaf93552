# Thin wrapper around CMake. Only `make demo`, `make test` and `make deps`
# run the dependency installer (scripts/install-deps.sh: idempotent, silent
# when all is present); every other target just builds.
#
#   make demo            install deps, build Release, run the main job on datasets/sample
#   make test            install deps, build, run every test through ctest
#   make deps            install what is missing from Debian's packages
#   make install PREFIX=/opt/cidrscope   headers, libcidrscope.{a,so}, cidrscope.pc,
#                        the CMake package and the command under PREFIX
#   make test SANITIZE=1 the same under ASan + UBSan (build-asan/)
#   make fuzz            build the libFuzzer targets (clang: CS_WITH_CLANG=1 make deps) and run each briefly
#   WERROR=1             any target: warnings are errors (-DCS_WERROR=ON; .ci/run sets it)
#   make bench           Release build of the Google Benchmark runner, run it
#   make bench-peers     the side-by-side comparison with the peers
#   make soak SECONDS=N  the shared-memory soak (tests/soak/soak.py; not in test)
#   make screenshot      regenerate docs/report.png (the sample's HTML report in Chromium)
JOBS ?= $(shell nproc 2>/dev/null || echo 2)
# cmake --build runs make again: keep its "Entering directory" lines out.
MAKEFLAGS += --no-print-directory
CMAKE ?= cmake

ifeq ($(WERROR),1)
WERROR_FLAGS = -DCS_WERROR=ON
else
WERROR_FLAGS = -DCS_WERROR=OFF
endif

ifeq ($(SANITIZE),1)
BUILD ?= build-asan
CMAKE_FLAGS += -DCS_SANITIZE=ON -DCMAKE_BUILD_TYPE=RelWithDebInfo
DEPS_ENV = CS_WITH_CLANG=1
else
BUILD ?= build
CMAKE_FLAGS += -DCMAKE_BUILD_TYPE=Release
DEPS_ENV =
endif
CMAKE_FLAGS += $(WERROR_FLAGS)

PREFIX ?= /usr/local

.PHONY: all deps configure build build-cli demo test install fuzz bench bench-peers soak screenshot clean

all: build

deps:
	@$(DEPS_ENV) sh scripts/install-deps.sh

configure:
	@$(CMAKE) -S . -B $(BUILD) $(CMAKE_FLAGS) >/dev/null

build: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS)

# The demo needs only the command, not the test suites.
build-cli: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target cidrscope

# deps strictly before the build: a sub-make, so -j cannot reorder them.
demo: deps
	@$(MAKE) build-cli
	@sh datasets/demo.sh $(BUILD)/cidrscope

# The README's picture: the sample's report at 1280x800 in headless Chromium
# (Debian's python3 with python3-selenium; the browser test's own checks run too).
screenshot: build-cli
	@sh datasets/demo.sh $(BUILD)/cidrscope >/dev/null
	@/usr/bin/python3 tests/browser/test_report.py $(BUILD)/sample-report.html datasets/sample --shot docs/report.png

test: deps
	@$(MAKE) build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

install: configure
	@$(CMAKE) --build $(BUILD) -j $(JOBS) --target cidrscope cidrscope_static cidrscope_shared
	@$(CMAKE) --install $(BUILD) --prefix $(PREFIX)

fuzz:
	@CC=clang $(CMAKE) -S . -B build-fuzz -DCS_FUZZ=ON -DCS_TESTS=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo $(WERROR_FLAGS) >/dev/null
	@$(CMAKE) --build build-fuzz -j $(JOBS)
	@sh tests/fuzz/run.sh build-fuzz $(FUZZ_SECONDS)

bench:
	@$(CMAKE) -S . -B build-bench -DCMAKE_BUILD_TYPE=Release -DCS_BENCH=ON -DCS_TESTS=OFF >/dev/null
	@$(CMAKE) --build build-bench -j $(JOBS)
	@sh bench/run.sh build-bench

SECONDS ?= 600
soak: build-cli
	@python3 tests/soak/soak.py $(BUILD)/cidrscope $(SECONDS)

bench-peers: bench
	@sh bench/peers/run.sh build-bench

clean:
	rm -rf build build-asan build-fuzz build-bench
