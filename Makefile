# Thin wrapper over CMake. The two commands a newcomer needs: `make run` and `make test`.
RELEASE_DIR := build/release
DEBUG_DIR   := build/debug
TSAN_DIR    := build/tsan
JOBS        := $(shell nproc 2>/dev/null || echo 2)
PORT        ?= 8080
DB          ?= data/parlor.db
PREFIX      ?= /usr/local

.PHONY: all deps build run test test-asan test-tsan format format-check clean bench install deb

all: build

deps:
	@scripts/install-deps

# PREFIX is where `make install` puts parlor; the server looks for its browser client and
# question pack there (PREFIX/share/parlor) unless told otherwise, as `make run` does
build: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF \
		-DCMAKE_INSTALL_PREFIX=$(PREFIX) >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	@mkdir -p $(dir $(DB))
	exec $(RELEASE_DIR)/parlor-server --port $(PORT) --db $(DB) --www www-static \
		--questions questions/parlor-core.jsonl

# The binaries, the browser client, the question pack, the man page, the systemd units and
# their settings file (cmake/Install.cmake) under PREFIX; DESTDIR stages them elsewhere.
install: build
	DESTDIR=$(DESTDIR) cmake --install $(RELEASE_DIR)

# The Debian package (cmake/Package.cmake) in build/deb, built for prefix /usr; no root needed.
deb: deps
	@scripts/build-deb build/deb

# `build` too: the Release flags (-O2) enable warnings a Debug build does not see, and `make
# run` must keep compiling
test: deps format-check build test-asan test-tsan test-fuzz

test-asan:
	@cmake -S . -B $(DEBUG_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARLOR_SANITIZE=ON >/dev/null
	@cmake --build $(DEBUG_DIR) -j $(JOBS)
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer over the worker pool's unit tests: the one place threads meet.
test-tsan:
	@cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARLOR_TSAN=ON -DPARLOR_BROWSER_TESTS=OFF >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target test_pool
	cd $(TSAN_DIR) && ctest --output-on-failure -R '^unit_pool$$'

# Benchmarks (not part of `make test`): parlor against Tornado and node ws, pinned to one core
# each; writes docs/BENCHMARKS.md. About 10 minutes.
bench: deps
	bench/run

# libFuzzer over the protocol decoder and the request dispatcher (tests/fuzz), built with clang,
# ASan and UBSan into build/fuzz. The working corpus build/fuzz/corpus starts from
# tests/fuzz/seeds and keeps growing between runs. A crash, leak or sanitizer report stops the
# run with a non-zero exit and saves the input as build/fuzz/crash-* (or leak-*, ...).
FUZZ_DIR     := build/fuzz
FUZZ_SECONDS ?= 300
fuzz_run = $(FUZZ_DIR)/fuzz_dispatch -max_total_time=$(1) -max_len=16384 -print_final_stats=1 \
	-artifact_prefix=$(FUZZ_DIR)/ $(FUZZ_DIR)/corpus tests/fuzz/seeds

.PHONY: fuzz test-fuzz fuzz-build test-valgrind

fuzz-build: deps
	@cmake -S . -B $(FUZZ_DIR) -DCMAKE_C_COMPILER=clang -DCMAKE_BUILD_TYPE=Debug -DPARLOR_FUZZ=ON \
		-DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(FUZZ_DIR) -j $(JOBS) --target fuzz_dispatch
	@mkdir -p $(FUZZ_DIR)/corpus

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

test-fuzz: fuzz-build
	$(call fuzz_run,60)

# The integration tests against a server built without sanitizers and run under valgrind
# (scripts/valgrind-server): any memory error or definitely-lost leak fails the test that
# stopped that server. Not part of `make test`: it takes several minutes.
VALGRIND_DIR := build/valgrind
test-valgrind: deps
	@cmake -S . -B $(VALGRIND_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARLOR_SANITIZE=OFF \
		-DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(VALGRIND_DIR) -j $(JOBS) --target parlor-server
	PARLOR_BIN=$(CURDIR)/scripts/valgrind-server \
		VALGRIND_SERVER_BIN=$(CURDIR)/$(VALGRIND_DIR)/parlor-server \
		PARLOR_UNDER_VALGRIND=1 PARLOR_READY_TIMEOUT_MS=60000 \
		node --test tests/integration/

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@files=$$(git ls-files '*.c' '*.h'); \
	if [ -n "$$files" ]; then clang-format --dry-run --Werror $$files; fi

clean:
	rm -rf build
