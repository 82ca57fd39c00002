#!/usr/bin/env bash
# deploy/bash-completion/dropscope completes what `dropscope --help` lists:
# the commands (in its order), each command's options (those on its line
# of --help, plus --json), the global options, the layer names of
# "Layers:", and files for keygen's PATH. Every expected list is read from
# the binary's --help, so the completion and the help cannot drift apart.
# Sources the completion in this bash with the bash-completion package, as
# an interactive shell would, and calls it as TAB does. No root, no network.
source "$(dirname "$0")/lib.sh"

COMPLETION=$(cd "$(dirname "$0")/../.." && pwd)/deploy/bash-completion/dropscope
BASH_COMPLETION=/usr/share/bash-completion/bash_completion
if [ ! -f "$BASH_COMPLETION" ]; then
  echo "SKIP: $BASH_COMPLETION is missing (apt-get install bash-completion, or deploy/install-deps.sh)" >&2
  exit $SKIP
fi
[ -f "$COMPLETION" ] || fail "$COMPLETION is missing"

help=$("$BIN_DIR/dropscope" --help) || fail "dropscope --help exited $?"

# The Commands section: a line "  NAME ..." per command; its options are
# the --words on that line.
commands=$(awk '/^Commands:/ {on = 1; next} /^[^ ]/ {on = 0} on && /^  [a-z]/ {print $1}' <<<"$help")
[ "$(wc -w <<<"$commands")" -ge 9 ] || fail "found only these commands in --help: $commands"
help_options() { # CMD: its options on its --help line, sorted
  awk -v c="$1" '/^Commands:/ {on = 1; next} /^[^ ]/ {on = 0} on && $1 == c' <<<"$help" |
    { grep -o -- '--[a-z-]*' || true; } | sort -u # hosts and explain have none
}
globals=$( (sed -n 's/^Usage: dropscope \(.*\) COMMAND.*/\1/p' <<<"$help";
            awk '/^Options:/ {on = 1; next} /^[^ ]/ {on = 0} on' <<<"$help") |
          grep -o -- '--[a-z-]*' | sort -u)
layers=$(sed -n 's/^Layers: \(.*\)\.$/\1/p' <<<"$help")
[ -n "$layers" ] || fail "no 'Layers:' line in --help"

# complete WORDS...: what TAB offers after WORDS (the last one being the word
# under the cursor), one per line, sorted.
set +u # bash-completion reads unset variables
source "$BASH_COMPLETION"
source "$COMPLETION"
complete -p dropscope | grep -q -- '-F _dropscope' || fail "the completion did not register for dropscope"
complete_words() {
  COMP_WORDS=(dropscope "$@")
  COMP_CWORD=$#
  COMP_LINE="dropscope $*"
  COMP_POINT=${#COMP_LINE}
  COMPREPLY=()
  _dropscope dropscope "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD - 1]}"
  printf '%s\n' "${COMPREPLY[@]}" | sed '/^$/d' | sort
}
sorted() { tr ' ' '\n' <<<"$*" | sed '/^$/d' | sort -u; }
expect() { # DESCRIPTION EXPECTED GOT
  [ "$2" = "$3" ] || fail "$1: expected [$(echo $2)], completion offered [$(echo $3)]"
  log "ok: $1: $(echo $3)"
}

expect "dropscope <TAB>" "$(sorted $commands)" "$(complete_words "")"
expect "dropscope d<TAB>" "$(sorted $(grep '^d' <<<"$commands"))" "$(complete_words d)"
expect "dropscope --<TAB>" "$globals" "$(complete_words --)"
expect "dropscope --server URL dr<TAB>" "drops" "$(complete_words --server http://h:1 dr)"
for cmd in $commands; do
  want=$(help_options "$cmd")
  [ "$cmd" = keygen ] || want=$(sorted $want --json) # a query's answer can be JSON
  expect "dropscope $cmd --<TAB>" "$want" "$(complete_words "$cmd" --)"
done
# The drop commands' options, checked above, must not be empty by accident.
[ "$(help_options drops | wc -l)" -ge 5 ] || fail "drops has only $(help_options drops) in --help"
expect "dropscope drops --layer <TAB>" "$(sorted $layers)" "$(complete_words drops --layer "")"
expect "dropscope drops --layer b<TAB>" "$(sorted $(tr ' ' '\n' <<<"$layers" | grep '^b'))" \
  "$(complete_words drops --layer b)"
expect "dropscope drops --layer=b<TAB>" "$(sorted $(tr ' ' '\n' <<<"$layers" | grep '^b'))" \
  "$(complete_words drops --layer=b)"
expect "dropscope series --step <TAB>" "$(sorted 1m 1h)" "$(complete_words series --step "")"
expect "dropscope drops --host <TAB>" "" "$(complete_words drops --host "")"

# keygen's PATH: the files and directories there.
mkdir -p "$TMP/keys/sub"
touch "$TMP/keys/web1" "$TMP/keys/web1_secret"
expect "dropscope keygen $TMP/keys/<TAB>" \
  "$(sorted "$TMP/keys/sub" "$TMP/keys/web1" "$TMP/keys/web1_secret")" \
  "$(complete_words keygen "$TMP/keys/")"
expect "dropscope keygen --name web1 $TMP/keys/web1_<TAB>" "$TMP/keys/web1_secret" \
  "$(complete_words keygen --name web1 "$TMP/keys/web1_")"
expect "dropscope keygen --<TAB>" "--name" "$(complete_words keygen --)"
set -u
log "OK: the completion offers what dropscope --help lists"
