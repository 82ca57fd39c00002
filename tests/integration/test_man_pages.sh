#!/usr/bin/env bash
# The man pages the build made (cmake/man.cmake: help2man from each
# command's --help plus man/NAME.h2m) read cleanly and say what --help says:
# no groff or man warnings; the sections a reader looks for (SIGNALS and
# EXIT STATUS for the daemons, from their --help's closing paragraphs);
# every option of --help as an option of OPTIONS, so a --help line that
# help2man cannot parse fails here; one SYNOPSIS line per usage line; the
# NAME of the include file; the project's version. No root, no network.
source "$(dirname "$0")/lib.sh"

MAN_DIR=$BIN_DIR/../man
if [ ! -d "$MAN_DIR" ]; then
  echo "SKIP: no $MAN_DIR: this build has no man pages (help2man was not found at configure time)" >&2
  exit $SKIP
fi
command -v man >/dev/null || { echo "SKIP: man (man-db) is not installed" >&2; exit $SKIP; }
version=$(sed -n 's/^CMAKE_PROJECT_VERSION:STATIC=//p' "$BIN_DIR/../CMakeCache.txt")
[ -n "$version" ] || fail "no CMAKE_PROJECT_VERSION in $BIN_DIR/../CMakeCache.txt"

for cmd in dropscope dropscope-collector dropscope-aggregator; do
  page=$MAN_DIR/$cmd.1
  [ -f "$page" ] || fail "$page was not built"
  LC_ALL=C.UTF-8 MANWIDTH=80 man --warnings -l "$page" >/dev/null 2>"$TMP/warnings"
  [ ! -s "$TMP/warnings" ] || fail "$cmd.1 has warnings: $(head -5 "$TMP/warnings")"
  # The page as a reader sees it, one paragraph a line where it fits.
  LC_ALL=C.UTF-8 MANWIDTH=250 man -l "$page" 2>/dev/null | col -bx >"$TMP/$cmd.txt"
  text=$TMP/$cmd.txt

  want=(NAME SYNOPSIS DESCRIPTION OPTIONS "EXIT STATUS" FILES "SEE ALSO")
  if [ "$cmd" = dropscope ]; then want+=(ENVIRONMENT EXAMPLES); else want+=(SIGNALS); fi
  for s in "${want[@]}"; do
    grep -qx "$s" "$text" || fail "$cmd.1 has no $s section: $(grep -E '^[A-Z]' "$text" | tr '\n' ',')"
  done
  grep -A1 -x NAME "$text" | grep -q "^ *$cmd - " || fail "$cmd.1's NAME: $(grep -A1 -x NAME "$text")"
  ! grep -q 'manual page for' "$text" || fail "$cmd.1 has help2man's stand-in NAME"
  tail -1 "$text" | grep -q "^$cmd $version " || fail "$cmd.1's footer: $(tail -1 "$text")"

  help=$("$BIN_DIR/$cmd" --help)
  usages=$(grep -cE '^(Usage|   or):' <<<"$help")
  synopsis=$(sed -n '/^SYNOPSIS$/,/^[A-Z]/p' "$text" | grep -c "^ *$cmd ")
  [ "$synopsis" -eq "$usages" ] || fail "$cmd.1's SYNOPSIS has $synopsis lines for $usages usage lines"
  # Each option: a tag at the option indent of the page's OPTIONS section.
  options=$(sed -n '/^OPTIONS$/,/^[A-Z]/p' "$text")
  n=0
  for opt in $(grep -oE '^  (-[a-zA-Z], )?--[a-z-]+' <<<"$help" | sed 's/^ *-[a-zA-Z], //'); do
    # A tag at 7 columns (the short form first, when there is one: -j,
    # --json) with its description at 14: on the next line, or on the tag's
    # line when the tag is short (--json). A --help line that help2man
    # misread shows as one line holding tag and description.
    tag="^ {7}(-[a-zA-Z], )?$opt( |,|\[|$)"
    grep -A1 -E -- "$tag" <<<"$options" | awk -v o="$opt" '
      NR == 1 { tag = $0; next }
      NR == 2 { ok = ($0 ~ /^              [^ ]/) || (length(o) <= 6 && substr(tag, 15, 1) != " ") }
      END { exit !ok }' || fail "$cmd.1: $opt of --help is not an option of OPTIONS: $(grep -A1 -E -- "$tag" <<<"$options" | head -2)"
    n=$((n + 1))
  done
  [ $n -ge 3 ] || fail "$cmd --help listed only $n options"
  log "ok: $cmd.1: $n options, $synopsis synopsis lines, ${#want[@]} sections, no warnings"
done
log "OK: the man pages say what --help says"
