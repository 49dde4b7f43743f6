#!/usr/bin/env bash
# scripts/compare on replay data (the reduced CI set): the committed data/*.replay.gz when they
# exist, else synthetic tables made here first, so the test never silently skips. Asserts the
# table (a row per strategy and workload, header facts), both plots per workload, the CSVs, the
# store, refusals of bad options and of --publish without a GPU, and no leftover mock servers.
# Usage: tests/cli/compare.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=$(cd "$(dirname "${1:-build/htune}")" && pwd)/$(basename "${1:-build/htune}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/harness.bash"
export HTUNE
unset HTUNE_LLM_URL

# Replay tables: the recorded ones, else synthetic ones of the same problems and shapes.
data=$ROOT/data
if [ ! -f "$data/matmul.replay.gz" ] || [ ! -f "$data/softmax.replay.gz" ]; then
    data=$tmp/data
    "$ROOT/scripts/record" --problem matmul --backend synthetic --count 1500 --out "$data/matmul.replay.gz" >/dev/null 2>&1
    "$ROOT/scripts/record" --problem softmax --backend synthetic --out "$data/softmax.replay.gz" >/dev/null 2>&1
fi
check "replay tables present in $data" '[ -s "$data/matmul.replay.gz" ] && [ -s "$data/softmax.replay.gz" ]'

mock_bin="^$(dirname "$HTUNE")/mock_llm "
mocks_before=$(pgrep -c -f "$mock_bin" || true)
out=$tmp/out
"$ROOT/scripts/compare" --quick --backend replay --data "$data" --out "$out" --evals 12 >"$tmp/stdout" 2>"$tmp/stderr"
rc=$?
check "compare --quick exits 0 (rc=$rc): $(tail -3 "$tmp/stderr")" '[ $rc -eq 0 ]'

t=$out/table.md
check "table.md written" '[ -s "$t" ]'
for w in matmul softmax_4096x256; do
    for s in random pattern de surrogate llm hybrid; do
        check "table row $w/$s" "grep -qE '^\\| $w \\| $s \\| [0-9.]+ \\(' '$t'"
    done
    for p in time evals; do
        check "plot $w-$p.png is a PNG" "head -c 8 '$out/$w-$p.png' 2>/dev/null | grep -q PNG"
    done
    check "trials-$w.csv has a header and trials" "[ \$(wc -l <'$out/trials-$w.csv') -gt 12 ] && head -1 '$out/trials-$w.csv' | grep -q '^run,problem'"
done
check "table has 12 rows, no more" '[ $(grep -cE "^\| (matmul|softmax_4096x256) \|" "$t") -eq 12 ]'
for h in '^- device: ' '; driver: ' '^- commit: ' '^- date: ' '^- backend: replay' '^- command: `scripts/compare --quick'; do
    check "header line $h" "grep -qE '$h' '$t'"
done
check "random's speedup vs itself is 1.00x" "grep -qE '^\\| matmul \\| random \\|.*\\| 1\\.00x \\|' '$t'"
check "skipped workloads are not in the table" '! grep -qE "^\| (gemm|softmax_4096x384)" "$t"'
check "one progress line per run on stderr" '[ $(grep -cE "^compare: \S+ +\S+ +seed 1: best" "$tmp/stderr") -eq 12 ]'
check "estimate printed up front" 'grep -qE "estimate [0-9]+:[0-9]{2}" "$tmp/stderr"'
check "runs.csv lists 12 runs" '[ $(wc -l <"$out/runs.csv") -eq 13 ]'
check "store holds 12 runs" '[ "$(sqlite3 "$out/trials.db" "select count(*) from runs")" = 12 ]'
check "the llm runs asked the mock" 'grep -qE "^\| matmul \| llm \|.*\| [1-9][0-9]* \([0-9.]+\) \|" "$t"'
sleep 0.2
check "no mock_llm of ours left running" '[ "$(pgrep -c -f "$mock_bin" || true)" -le "${mocks_before:-0}" ]'

# The full workload list on replay: workloads without a table are listed as skipped.
"$ROOT/scripts/compare" --backend replay --data "$data" --out "$tmp/out2" --strategies random --evals 4 --seeds 1 \
    --eval-ms 1 >/dev/null 2>"$tmp/stderr2"
check "full list on replay exits 0" '[ $? -eq 0 ]'
check "gemm listed as skipped with its reason" "grep -qE '^- gemm_4096x1024x1024: replay table .* is for matmul/1024x1024x1024/fp16' '$tmp/out2/table.md'"

# Misuse: clear errors, exit 2; --publish refused without a live GPU, docs untouched.
expect_fail bad-option "unknown option '--bogus'" "$ROOT/scripts/compare" --bogus
expect_fail bad-workload "unknown 'nope' \(known: matmul" "$ROOT/scripts/compare" --backend replay --workloads nope
expect_fail bad-number "--seeds: 'x' is not" "$ROOT/scripts/compare" --seeds x
sum=$(cat "$ROOT/docs/results.md" 2>/dev/null | md5sum)
expect_fail publish-needs-gpu "refused, docs/results.md holds live GPU runs only" "$ROOT/scripts/compare" --backend replay \
    --data "$data" --out "$tmp/out3" --strategies random --workloads matmul --evals 2 --eval-ms 0 --publish
check "docs/results.md untouched by a refused publish" '[ "$(cat "$ROOT/docs/results.md" 2>/dev/null | md5sum)" = "$sum" ]'
expect_fail publish-from-replay "refused, docs/results.md holds live GPU runs only" "$ROOT/scripts/compare" \
    --publish-from "$out" --docs "$tmp/docs"
# A live run's directory fetched without its plots (no gnuplot on the GPU machine): published
# into a temporary docs dir, plots redrawn from plot-data/.
cp -r "$out" "$tmp/fetched" && rm "$tmp/fetched"/*.png
sed -i 's/"live":false/"live":true/' "$tmp/fetched/summary.json"
"$ROOT/scripts/compare" --publish-from "$tmp/fetched" --docs "$tmp/docs" >/dev/null 2>&1
check "publish-from writes results.md" "grep -q '^| matmul | hybrid |' '$tmp/docs/results.md'"
check "publish-from packs the raw trials and links them" "tar tzf '$tmp/docs/results/trials-fetched.tar.gz' | grep -q '^trials-matmul.csv' && grep -q '(results/trials-fetched.tar.gz)' '$tmp/docs/results.md'"
check "publish-from links and redraws plots" "grep -q '(results/matmul-time.png)' '$tmp/docs/results.md' && head -c 8 '$tmp/docs/results/softmax_4096x256-evals.png' | grep -q PNG"
# ...and one fetched without trials.db: its plots drawn from plot-data/ as before.
cp -r "$out" "$tmp/fetched2" && rm "$tmp/fetched2"/*.png "$tmp/fetched2"/trials.db*
sed -i 's/"live":false/"live":true/' "$tmp/fetched2/summary.json"
"$ROOT/scripts/compare" --publish-from "$tmp/fetched2" --docs "$tmp/docs2" >/dev/null 2>&1
check "publish-from without trials.db draws from plot-data" "head -c 8 '$tmp/docs2/results/matmul-time.png' | grep -q PNG"

# Best-so-far never rises: median, best and worst seed columns of every plot's data.
rises=$(awk '/^# /{for(i=2;i<=4;i++)p[i]="";next} NF==4{for(i=2;i<=4;i++) if($i!="NaN"){if(p[i]!=""&&$i>p[i]+1e-9)r++;p[i]=$i}} END{print r+0}' "$out"/plot-data/*.dat)
check "plot data never rises ($rises rises)" '[ "$rises" = 0 ] && ls "$out"/plot-data/*-n.dat >/dev/null'

# --help names every option the parser takes.
missing=$(sed -nE 's/^local (SWITCHES|NUMBERS|STRINGS) = \{(.*)\}$/\2/p' "$ROOT/scripts/compare.lua" | grep -oE '[a-z_]+ = true' \
    | cut -d' ' -f1 | tr _ - | while read -r opt; do "$ROOT/scripts/compare" --help | grep -q -- "--$opt" || echo "--$opt"; done)
check "--help lists every option (missing: $missing)" '[ -z "$missing" ] && [ "$(grep -cE "^local (SWITCHES|NUMBERS|STRINGS) = " "$ROOT/scripts/compare.lua")" = 3 ]'

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
