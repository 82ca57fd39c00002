# Thin wrapper over CMake. `make run` and `make test` install what is
# missing first (deploy/install-deps.sh), so both work on a fresh machine.
BUILD ?= build
ASAN_BUILD ?= build-asan
RELEASE_BUILD ?= build-release
NOWEB_BUILD ?= build-noweb
JOBS ?= $(shell nproc)
VAR ?= var

.PHONY: all deps build asan release run demo screenshots test unit clean format collector

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

# The collector and the CLI alone, with nothing from npm (-DDROPSCOPE_WEB=OFF):
# what a host that only reports needs, built from Debian's packages alone.
collector:
	@DROPSCOPE_WEB=OFF deploy/install-deps.sh
	@cmake -S . -B $(NOWEB_BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDROPSCOPE_WEB=OFF >/dev/null
	@cmake --build $(NOWEB_BUILD) -j $(JOBS) --target dropscope-collector dropscope \
		-- --no-print-directory

# The binaries as users install them (-O3, whose deeper analysis finds
# warnings the other builds do not): `make test` builds them, so that a
# warning there fails CI too.
release: deps web/node_modules/.package-lock.json
	@cmake -S . -B $(RELEASE_BUILD) -DCMAKE_BUILD_TYPE=Release >/dev/null
	@cmake --build $(RELEASE_BUILD) -j $(JOBS) --target dropscope dropscope-aggregator \
		dropscope-collector dropscope-fleetsim -- --no-print-directory

# Every test in the normal build, then again in the ASan+UBSan build (but the
# few CMakeLists.txt keeps to the normal build), and the release build, built.
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

# Debian packages (dropscope-collector, dropscope-aggregator, dropscope-cli)
# in $(PKG_DIR), built by dpkg-buildpackage from a copy of the source
# (git ls-files: the tracked files and the new ones not ignored) and of
# web/node_modules (npm ci, before: the package build needs no network),
# then checked by lintian, whose output is printed (errors fail the target).
# The debug symbols (the -dbgsym packages) go to $(PKG_DIR)/dbgsym/.
PKG_DIR ?= $(BUILD)/packages
.PHONY: package
package: deps web/node_modules/.package-lock.json
	@command -v git >/dev/null && git rev-parse --is-inside-work-tree >/dev/null 2>&1 || \
		{ echo "package: needs a git checkout (the copy is made with git ls-files)" >&2; exit 1; }
	@version=$$(dpkg-parsechangelog -S Version) && \
	cmake_version=$$(sed -n 's/^project(dropscope VERSION \([0-9.]*\).*/\1/p' CMakeLists.txt) && \
	if [ "$$version" != "$$cmake_version" ]; then \
		echo "package: debian/changelog says $$version, CMakeLists.txt's project() $$cmake_version:" \
			"add a debian/changelog entry for $$cmake_version (dch -v $$cmake_version)" >&2; exit 1; \
	fi && \
	src=$(PKG_DIR)/src/dropscope-$$version && \
	rm -rf $(PKG_DIR) && mkdir -p $$src && \
	{ git ls-files -z --cached --others --exclude-standard; find web/node_modules -print0; } | \
		tar --null --no-recursion --ignore-failed-read -T - -cf - 2>/dev/null | tar -xf - -C $$src && \
	(cd $$src && DEB_BUILD_OPTIONS="parallel=$(JOBS)" dpkg-buildpackage -b -us -uc) \
		>$(PKG_DIR)/build.log 2>&1 || \
		{ tail -n 40 $(PKG_DIR)/build.log >&2; \
		  echo "package: dpkg-buildpackage failed (the whole log: $(PKG_DIR)/build.log)" >&2; exit 1; } && \
	mkdir -p $(PKG_DIR)/dbgsym && mv $(PKG_DIR)/src/*-dbgsym_*.deb $(PKG_DIR)/dbgsym/ && \
	mv $(PKG_DIR)/src/*.deb $(PKG_DIR)/src/*.buildinfo $(PKG_DIR)/src/*.changes $(PKG_DIR)/ && \
	ls $(PKG_DIR)/*.deb >/dev/null || { echo "package: no .deb in $(PKG_DIR)" >&2; exit 1; }
	@echo "package: $$(cd $(PKG_DIR) && ls *.deb | tr '\n' ' ')in $(PKG_DIR)/; lintian says:"
	@lintian --info $(PKG_DIR)/*.deb 2>&1 | grep -v "running with root privileges"; \
		lintian $(PKG_DIR)/*.deb >/dev/null 2>&1 && echo "package: lintian: no errors"

format:
	@clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf $(BUILD) $(ASAN_BUILD)
