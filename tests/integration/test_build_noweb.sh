#!/usr/bin/env bash
# A collector and CLI build needs nothing from npm (-DDROPSCOPE_WEB=OFF, what
# `make collector` and a Debian package build use). Copies the source tree
# without web/node_modules (and without build directories or .git), puts a
# `npm` first on the PATH that records being called and fails, then:
# (a) configuring the copy with the web view ON fails and names the missing
# node_modules file (so the copy really lacks it), (b) configuring with
# -DDROPSCOPE_WEB=OFF and building dropscope-collector and dropscope
# succeeds, both answer --version with the project's version, and npm was
# never called. Needs no root and no network; about a minute on 2 cores.
source "$(dirname "$0")/lib.sh"

SRC=$(cd "$(dirname "$0")/../.." && pwd)
COPY=$TMP/src
mkdir -p "$COPY" "$TMP/shim"

# The files a checkout has (tracked, and new ones not ignored), as they are
# in the working tree; without git, the tree minus what a build makes.
if command -v git >/dev/null && git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
  git -C "$SRC" ls-files -z --cached --others --exclude-standard |
    (cd "$SRC" && while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done) |
    tar -C "$SRC" --null -T - -cf - | tar -C "$COPY" -xf -
else
  tar -C "$SRC" --exclude=./web/node_modules --exclude='./build*' --exclude=./.git \
    --exclude=./var -cf - . | tar -C "$COPY" -xf -
fi
[ -f "$COPY/CMakeLists.txt" ] || fail "the copy of $SRC has no CMakeLists.txt"
[ -f "$COPY/collector/main.c" ] || fail "the copy of $SRC has no collector/main.c"
[ ! -e "$COPY/web/node_modules" ] || fail "the copy still has web/node_modules"
log "copied $(find "$COPY" -type f | wc -l) files of $SRC to $COPY, without web/node_modules"

# npm, if anything calls it, leaves a mark and fails the build.
cat >"$TMP/shim/npm" <<EOF
#!/bin/sh
echo "npm \$*" >>"$TMP/npm-called"
exit 1
EOF
chmod +x "$TMP/shim/npm"
export PATH="$TMP/shim:$PATH"
[ "$(command -v npm)" = "$TMP/shim/npm" ] || fail "the npm shim is not first on the PATH"

# (a) The web view ON: configuring must fail on the missing chart library.
if cmake -S "$COPY" -B "$TMP/build-web" -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$TMP/web-configure.log" 2>&1; then
  fail "configuring with the web view ON succeeded without web/node_modules"
fi
# CMake wraps its messages: compare with the lines joined.
said=$(tr -s ' \n' '  ' <"$TMP/web-configure.log")
[[ $said == *"node_modules/uplot/dist/uPlot.iife.min.js is missing"* ]] ||
  fail "configuring with the web view ON failed, but not on node_modules: $(tail -5 "$TMP/web-configure.log")"
[[ $said == *"-DDROPSCOPE_WEB=OFF"* ]] ||
  fail "the missing node_modules error does not mention -DDROPSCOPE_WEB=OFF"

# (b) The web view OFF: the collector and the CLI build.
B=$TMP/build-noweb
start=$(date +%s)
cmake -S "$COPY" -B "$B" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DDROPSCOPE_WEB=OFF \
  >"$TMP/configure.log" 2>&1 || fail "configure with -DDROPSCOPE_WEB=OFF failed: $(tail -20 "$TMP/configure.log")"
grep -q 'web view: off' "$TMP/configure.log" || fail "configure did not say the web view is off"
cmake --build "$B" -j2 --target dropscope-collector dropscope >"$TMP/build.log" 2>&1 ||
  fail "building dropscope-collector and dropscope without node_modules failed: $(grep -m5 -E 'error|Error' "$TMP/build.log")"
log "configured and built in $(($(date +%s) - start)) s"
! grep -q 'embedding the web view' "$TMP/build.log" || fail "the build embedded a web view"
[ ! -e "$TMP/npm-called" ] || fail "npm was called: $(cat "$TMP/npm-called")"

version=$(sed -n 's/^project(dropscope VERSION \([0-9.]*\).*/\1/p' "$COPY/CMakeLists.txt")
[ -n "$version" ] || fail "no project version in $COPY/CMakeLists.txt"
for bin in dropscope-collector dropscope; do
  [ -x "$B/bin/$bin" ] || fail "$B/bin/$bin was not built"
  out=$("$B/bin/$bin" --version) || fail "$bin --version exited $?"
  # The copy has no .git: the version is the project's alone.
  [ "$out" = "$bin $version" ] || fail "$bin --version said '$out', expected '$bin $version'"
done
# Only what was asked for: no aggregator (and so no web view) was built.
[ ! -e "$B/bin/dropscope-aggregator" ] || fail "the aggregator was built too"
log "OK: dropscope-collector and dropscope $version built without web/node_modules or npm"
