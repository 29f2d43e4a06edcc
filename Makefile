# Thin wrapper over CMake. The two commands a newcomer needs: `make run` and `make test`.
RELEASE_DIR := build/release
DEBUG_DIR   := build/debug
TSAN_DIR    := build/tsan
JOBS        := $(shell nproc 2>/dev/null || echo 2)
PORT        ?= 8080
DB          ?= data/parlor.db

.PHONY: all deps build run test test-asan test-tsan format format-check clean

all: build

deps:
	@scripts/install-deps

build: deps
	@cmake -S . -B $(RELEASE_DIR) -DCMAKE_BUILD_TYPE=Release -DBUILD_TESTING=OFF >/dev/null
	@cmake --build $(RELEASE_DIR) -j $(JOBS)

run: build
	@mkdir -p $(dir $(DB))
	exec $(RELEASE_DIR)/parlor-server --port $(PORT) --db $(DB) --www www-static

test: deps format-check test-asan test-tsan

test-asan:
	@cmake -S . -B $(DEBUG_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARLOR_SANITIZE=ON >/dev/null
	@cmake --build $(DEBUG_DIR) -j $(JOBS)
	cd $(DEBUG_DIR) && ctest --output-on-failure -j $(JOBS)

# ThreadSanitizer over the worker pool's unit tests: the one place threads meet.
test-tsan:
	@cmake -S . -B $(TSAN_DIR) -DCMAKE_BUILD_TYPE=Debug -DPARLOR_TSAN=ON -DPARLOR_BROWSER_TESTS=OFF >/dev/null
	@cmake --build $(TSAN_DIR) -j $(JOBS) --target test_pool
	cd $(TSAN_DIR) && ctest --output-on-failure -R '^unit_pool$$'

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

format-check:
	@files=$$(git ls-files '*.c' '*.h'); \
	if [ -n "$$files" ]; then clang-format --dry-run --Werror $$files; fi

clean:
	rm -rf build
