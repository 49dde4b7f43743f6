#!/usr/bin/env bash
# Strategy quality in CI (the small deterministic version of scripts/eval-strategies): pattern
# beats random at 100 evals on data/matmul-h200.replay.gz (how its misses resolve: quality_check.lua),
# and the harness itself runs and plots.
# Usage: tests/cli/quality.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=${1:-build/htune}
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

out=$("$HTUNE" run "$HERE/quality_check.lua" 2>&1)
rc=$?
printf '%s\n' "$out" | grep -vE '^[0-9]+ passed, [0-9]+ failed'
line=$(printf '%s\n' "$out" | grep -E '^[0-9]+ passed, [0-9]+ failed' | tail -n 1)
pass=${line%% passed*}
fail=${line#*passed, }
fail=${fail%% failed*}
[ -n "$line" ] || { pass=0; fail=1; printf 'FAIL quality_check.lua printed no summary (rc %s)\n' "$rc"; }
[ "$rc" -ne 0 ] && [ "$fail" -eq 0 ] && fail=1

# The harness on the toy table: one seed, two strategies, a table row each and a .dat for gnuplot.
out=$("$HTUNE" run "$ROOT/scripts/eval-strategies.lua" --seeds 1 --budgets 25 --strategies random,pattern \
      --png "$tmp/q.png" 2>&1)
if printf '%s\n' "$out" | grep -qE '^pattern +[01]\.[0-9]{3} ' && [ -s "$tmp/q.dat" ]; then
    pass=$((pass + 1))
else
    fail=$((fail + 1))
    printf 'FAIL eval-strategies smoke run:\n%s\n' "$out" | head -20
fi
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
