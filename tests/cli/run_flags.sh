#!/usr/bin/env bash
# `htune run` flags: --db, --resume, --quiet, --seed, --budget-evals, --budget-seconds become
# htune.defaults for the script's htune.tune calls; a kill -9 mid-run then --resume finishes the
# run without measuring any config twice (trial counts in the DB).
# Usage: tests/cli/run_flags.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=${1:-build/htune}
HERE=$(cd "$(dirname "$0")" && pwd)
CHILD=$HERE/run_flags_child.lua
. "$HERE/harness.bash"

# expect_not NAME PATTERN CMD...: exit 0 and no line matching PATTERN
expect_not() {
    local name=$1 pattern=$2 out rc
    shift 2
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq 0 ] && ! printf '%s' "$out" | grep -qE -- "$pattern"; then ok
    else bad "$name: rc=$rc, output:"; printf '%s\n' "$out" | head -20; fi
}
q() { sqlite3 "$1" "$2" 2>&1; }

# 1. help and bad flags
expect help-flags 0 '--resume.*' "$HTUNE" run --help
expect help-budget 0 '--budget-seconds S' "$HTUNE" run --help
expect bad-seed 2 "--seed takes an integer, got 'x'" "$HTUNE" run --seed x "$CHILD"
expect bad-evals 2 "--budget-evals must be positive" "$HTUNE" run --budget-evals 0 "$CHILD"
expect unknown-flag 2 "unknown flag '--fast'" "$HTUNE" run --fast "$CHILD"
expect missing-value 2 "--db needs a value" "$HTUNE" run --db

# 2. budgets, quiet, seed: defaults for the script's htune.tune
expect budget-evals 0 'RESULT evals=7 new=7 stopped=evals' "$HTUNE" run --quiet --budget-evals 7 "$CHILD" 1
expect_not quiet '\[random\]' "$HTUNE" run --quiet --budget-evals 7 "$CHILD" 1
expect progress-without-quiet 0 '\[random\] 7/7 evals' "$HTUNE" run --budget-evals 7 "$CHILD" 1
expect budget-seconds 0 'stopped=seconds' "$HTUNE" run --quiet --budget-seconds 0.3 "$CHILD" 20
expect script-budget-wins 0 'RESULT evals=3 ' "$HTUNE" run --quiet --budget-evals 9 "$CHILD" 1 own
expect script-args-after-name 0 'RESULT evals=5 ' "$HTUNE" run --quiet --budget-evals 5 "$CHILD" 1 --not-a-flag
[ ! -e "$tmp/default.db" ] && ok || bad "a run without --db/--resume wrote $tmp/default.db"
expect seed-db 0 'RESULT evals=4 ' "$HTUNE" run --quiet --seed 5 --budget-evals 4 --db "$tmp/seed.db" "$CHILD" 1
expect seed-recorded 0 '^5\|4$' q "$tmp/seed.db" 'select r.seed, count(t.seq) from runs r join trials t on t.run_id = r.id'
expect resume-default-db 0 'RESULT evals=3 ' "$HTUNE" run --quiet --resume --budget-evals 3 "$CHILD" 1
expect default-db-used 0 '^3$' q "$tmp/default.db" 'select count(*) from trials'

# 3. kill -9 mid-run, then --resume: completes without re-measuring
db=$tmp/kill.db
"$HTUNE" run --quiet --db "$db" --budget-evals 60 "$CHILD" 25 >"$tmp/killed.out" 2>&1 &
pid=$!
for _ in $(seq 1 100); do
    n=$(sqlite3 "$db" 'select count(*) from trials' 2>/dev/null || echo 0)
    [ "${n:-0}" -ge 10 ] && break
    sleep 0.05
done
{ kill -9 "$pid"; wait "$pid"; } 2>/dev/null
before=$(sqlite3 "$db" 'select count(*) from trials')
if [ "$before" -ge 1 ] && [ "$before" -lt 60 ] && ! grep -q RESULT "$tmp/killed.out"; then ok
else bad "kill: $before trials before the kill (want 1..59), output: $(cat "$tmp/killed.out")"; fi
expect resume-completes 0 "RESULT evals=60 new=$((60 - before)) stopped=evals" \
    "$HTUNE" run --quiet --resume --db "$db" --budget-evals 60 "$CHILD" 25
expect resume-no-remeasure 0 '^60\|60$' q "$db" 'select count(*), count(distinct hash) from trials'
expect resume-same-run 0 '^1\|done$' q "$db" 'select count(*), max(status) from runs'
expect resume-again-measures-nothing 0 'RESULT evals=60 new=0 ' \
    "$HTUNE" run --quiet --resume --db "$db" --budget-evals 60 "$CHILD" 25
expect still-60 0 '^60$' q "$db" 'select count(*) from trials'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
