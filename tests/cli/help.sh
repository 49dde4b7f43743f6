#!/usr/bin/env bash
# Every script under scripts/ answers -h/--help: exit 0 within 20 s, with its usage text (the
# first line of its own header comment, of the Lua script it runs, or a "usage:" line), and
# without starting its work (no GPU, server, database or package manager is touched first).
# Usage: tests/cli/help.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=$(cd "$(dirname "${1:-build/htune}")" && pwd)/$(basename "${1:-build/htune}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/harness.bash"
export HTUNE BUILD=$(dirname "$HTUNE")
cd "$ROOT" || exit 1

# The first line of a file's leading comment block (after a #! line), markers removed.
first_header_line() {
    sed -n '/^#!/d; /^\(--\|#\)/{s/^\(--\|#\) \{0,1\}//p;q}; q' "$1"
}

for f in scripts/*; do
    [ -f "$f" ] || continue
    name=${f##*/}
    case $f in
        *.lua) cmd=("$HTUNE" run "$f" --help) ;;
        *) [ -x "$f" ] || continue; cmd=(bash "$f" --help) ;;
    esac
    wants=$(first_header_line "$f")
    [ -f "$f.lua" ] && wants2=$(first_header_line "$f.lua") || wants2=$wants
    out=$(HTUNE_DB=$tmp/help.db timeout 20 "${cmd[@]}" 2>&1)
    rc=$?
    first=$(printf '%s\n' "$out" | sed -n '/./{p;q}')
    if [ "$rc" -eq 0 ] && { [ "$first" = "$wants" ] || [ "$first" = "$wants2" ] || [[ $first == usage:* ]]; }; then ok
    else bad "$name --help: rc=$rc, first line '$first' (want '$wants' or '$wants2' or usage:...)"; fi
done
check "no script's --help left a database behind" '[ ! -e "$tmp/help.db" ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
