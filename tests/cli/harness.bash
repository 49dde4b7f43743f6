# Shared by the tests/cli/*.sh suites (sourced, not a suite itself): pass/fail counters, a temp
# dir removed at exit (KEEP=1 keeps it) with HTUNE_DB inside it, expect, expect_fail and check.
pass=0
fail=0
tmp=$(mktemp -d)
trap '[ -n "${KEEP:-}" ] || rm -rf "$tmp"' EXIT
export HTUNE_DB=$tmp/default.db

ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); printf 'FAIL %s\n' "$*"; }

# expect NAME EXPECTED_RC PATTERN CMD...
expect() {
    local name=$1 want_rc=$2 pattern=$3 out rc
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want_rc" ] && { [ -z "$pattern" ] || printf '%s' "$out" | grep -qE -- "$pattern"; }; then ok
    else bad "$name: rc=$rc (want $want_rc), output:"; printf '%s\n' "$out" | head -20; fi
}

# expect_fail NAME PATTERN CMD...: any non-zero exit with output matching PATTERN
expect_fail() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -ne 0 ] && printf '%s' "$out" | grep -qE -- "$pattern"; then ok
    else bad "$name: rc=$rc, output:"; printf '%s\n' "$out" | head -20; fi
}

# check NAME CONDITION: CONDITION is shell code, evaluated (so it sees the caller's variables)
check() { if eval "$2"; then ok; else bad "$1"; fi; }
