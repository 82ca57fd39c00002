# Thin wrapper over CMake. `make run` and `make test` install what is
# missing first (deploy/install-deps.sh), so both work on a fresh machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
JOBS ?= $(shell nproc)
VAR ?= var

.PHONY: all deps build asan release run demo screenshots test unit clean format

all: build

deps:
	@deploy/install-deps.sh

# The web view's libraries, from the npm registry as pinned by the lockfile.
web/node_modules/.package-lock.json: web/package.json web/package-lock.json
	@cd web && npm ci --no-audit --no-fund --loglevel=error

build: deps web/node_modules/.package-lock.json
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
	@cmake --build $(BUILD) -j $(JOBS) -- --no-print-directory

asan: deps web/node_modules/.package-lock.json
	@CC=clang cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DDROPSCOPE_SANITIZE=ON >/dev/null
	@cmake --build $(ASAN_BUILD) -j $(JOBS) -- --no-print-directory

# The binaries as users install them (-O3, whose deeper analysis finds
# warnings the other builds do not): `make test` builds them, so that a
# warning there fails CI too.
release: deps web/node_modules/.package-lock.json
	@cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_BUILD) -j $(JOBS) --target dropscope dropscope-aggregator \
		dropscope-collector dropscope-fleetsim -- --no-print-directory

# Every test, twice: the normal build, then the ASan+UBSan build (and the
# release build, built).
test: build asan release
	@cd $(BUILD) && ctest --output-on-failure -j 1
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
		ctest --output-on-failure -j 1

run: build
	@deploy/run-local.sh $(BUILD)/bin $(VAR)

# A fleet of namespaces with real bursts and drops (needs root).
demo: build
	@deploy/demo.sh $(BUILD)/bin

# Pictures of each web view for docs/ (the browser test's scenario; needs root).
screenshots: build
	@BIN_DIR=$(CURDIR)/$(BUILD)/bin SCREENSHOTS=$(CURDIR)/docs/screenshots \
		bash tests/integration/test_web.sh

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
