#!/usr/bin/env bash
# Measuring a template variant: scripts/diff-tables.lua on constructed tables (ratios known in
# advance, a failure on one side, refusals), record --define (the define reaches the key), and
# scripts/ab-define end to end on the synthetic backend; bench-compile's argument refusals;
# bench-tune --runs on recorded data.
# Usage: tests/cli/variants.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=$(cd "$(dirname "${1:-build/htune}")" && pwd)/$(basename "${1:-build/htune}")
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
. "$ROOT/tests/cli/harness.bash"
export HTUNE
cd "$ROOT" || exit 1

# Two tables of one space: NEW is OLD x 1.1 except config 4 (fails in NEW) and 6 (read twice
# in OLD: 10 and 20, median 15, NEW 7.5 -> ratio 0.5).
hdr='# htune-replay 1\n# problem toy/default/fp16\n# space toy 0123456789abcdef\n# device test\n# columns index latency_us noise_pct | index !reason\n'
printf "${hdr}1\t10.0\t0.1\n2\t20.0\t0.1\n3\t30.0\t0.1\n4\t40.0\t0.1\n5\t50.0\t0.1\n6\t10.0\t0.1\n6\t20.0\t0.1\n" | gzip >"$tmp/old.gz"
printf "${hdr}1\t11.0\t0.1\n2\t22.0\t0.1\n3\t33.0\t0.1\n4\t!ECOMPILE\n5\t55.0\t0.1\n6\t7.5\t0.1\n" | gzip >"$tmp/new.gz"
expect "diff-tables: median ratio over the 5 configs both measured" 0 'NEW/OLD, all +n +5 +median 1\.1000' \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz" "$tmp/new.gz"
expect "diff-tables: OLD's 2 fastest (configs 1 and 6 at its median 15)" 0 "OLD's 2 fastest +n +2 +median 0\.8000" \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz" "$tmp/new.gz" --top 2
expect "diff-tables: a failure on one side is listed with its reason" 0 '4: OLD 40\.000 us, NEW ECOMPILE' \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz" "$tmp/new.gz"
expect "diff-tables: the largest change first" 0 'largest changes \(NEW/OLD\):.  [0-9]+: [0-9.]+ -> [0-9.]+ us \(1\.1000\)' \
    bash -c "'$HTUNE' run scripts/diff-tables.lua '$tmp/old.gz' '$tmp/new.gz' | tr '\n' '.'"
printf '# htune-replay 1\n# space other 0\n1\t1.0\n' | gzip >"$tmp/other.gz"
expect "diff-tables refuses tables of different spaces" 2 'different spaces' \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz" "$tmp/other.gz"
expect "diff-tables wants two tables" 2 'needs two tables, got 1' "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz"
expect "diff-tables names a bad --top" 2 '--top must be a whole number' \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/old.gz" "$tmp/new.gz" --top 0
expect "diff-tables names a missing file" 2 "cannot read '$tmp/nope.gz'" \
    "$HTUNE" run scripts/diff-tables.lua "$tmp/nope.gz" "$tmp/new.gz"

# record --define: the macro joins the problem key in the table's header.
expect "record --define writes the variant's key" 0 'wrote' "$HTUNE" run scripts/record.lua --problem softmax \
    --backend synthetic --define SOFTMAX_X=1 --define B=two --out "$tmp/v.gz"
check "its header names the defines" "gzip -dc '$tmp/v.gz' | grep -q '^# problem softmax/.*+B=two,SOFTMAX_X=1\$'"
expect "record --define refuses a bad name" 2 "--define wants NAME=VALUE, got '9x=1'" \
    "$HTUNE" run scripts/record.lua --backend synthetic --define 9x=1

# record --configs-from refuses a damaged table with its reason, not a traceback.
printf "# htune-replay 1\n# space softmax $(gzip -dc "$tmp/v.gz" | sed -n 's/^# space softmax //p')\n99999999999\t5.0\n" | gzip >"$tmp/badidx.gz"
expect "record names a row index outside the space" 2 'row index 99999999999 is not a config of this space' \
    "$HTUNE" run scripts/record.lua --problem softmax --backend synthetic --configs-from "$tmp/badidx.gz" --out "$tmp/o.gz"
head -c 200 "$tmp/v.gz" >"$tmp/cut.gz"
expect "record names a truncated table" 2 'truncated or corrupt' \
    "$HTUNE" run scripts/record.lua --problem softmax --backend synthetic --configs-from "$tmp/cut.gz" --out "$tmp/o.gz"

# record --configs-from measures a config read twice in FILE once (one row out).
{ gzip -dc "$tmp/v.gz"; gzip -dc "$tmp/v.gz" | grep -v '^#' | head -3; } | gzip >"$tmp/dup.gz"
expect "record --configs-from re-measures each distinct config once" 0 're-measuring the [0-9]+ configs' \
    "$HTUNE" run scripts/record.lua --problem softmax --backend synthetic --configs-from "$tmp/dup.gz" --out "$tmp/dedup.gz"
check "its table has one row per config" \
    '[ "$(gzip -dc "$tmp/dedup.gz" | grep -v "^#" | cut -f1 | sort | uniq -d | wc -l)" -eq 0 ] && [ "$(gzip -dc "$tmp/dedup.gz" | grep -vc "^#")" -eq "$(gzip -dc "$tmp/v.gz" | grep -vc "^#")" ]'

# clock-probe --define / --no-check: refusals name the bad text before any GPU is touched, and
# the flag takes no value (the next argument is still read as one).
expect "clock-probe --define refuses a bad pair" 2 "--define wants NAME=V\\[,NAME=V\\], got 'BAD'" \
    "$HTUNE" run scripts/clock-probe.lua --define BAD
expect "clock-probe --no-check takes no value" 2 "--define wants NAME=V\\[,NAME=V\\], got 'x=1,2'" \
    "$HTUNE" run scripts/clock-probe.lua --no-check --define x=1,2

# power-parts without a GPU: a stand-in htune prints clock-probe's lines (the config at 70% of
# the baseline as it is, 80% with any --define) and a stand-in mma_peak 600 TFLOP/s, so the
# summary's shares are known: 70.0 per window as it is, 80.0 per part, 600 / 700 = 85.7.
cat >"$tmp/fake-htune" <<'FAKE'
#!/usr/bin/env bash
pct=70.0
case " $* " in *" --define "*) pct=80.0 ;; esac
for r in 1 2; do
  echo "rep $r baseline median   196.00 us   700.0 TF/s  reps  4000  SM clock 1200.0-1980.0 MHz (rated 1980.0, 19 reads)  reasons sw_power_cap  [0-1 ms]"
  echo "rep $r config   median   280.00 us   490.0 TF/s  reps  4000  SM clock 1200.0-1700.0 MHz (rated 1980.0, 25 reads)  reasons sw_power_cap  [1-2 ms]  $pct% of the baseline's speed"
done
FAKE
printf '#!/usr/bin/env bash\necho "hold round 1  fixed       570 launches    2031.1 ms    636.4 TFLOP/s"\necho "hold round 1  toggling    530 launches    2013.8 ms    600.0 TFLOP/s"\n' >"$tmp/fake-peak"
chmod +x "$tmp/fake-htune" "$tmp/fake-peak"
HTUNE="$tmp/fake-htune" PATH="/usr/bin:/bin" scripts/power-parts --reps 2 --ms 10 --mma-peak "$tmp/fake-peak" --out "$tmp/pp" >"$tmp/pp.out" 2>&1
rc=$?
check "power-parts exits 0 on the stand-ins (rc=$rc): $(tail -3 "$tmp/pp.out")" '[ $rc -eq 0 ]'
check "its summary has every part in order" '[ "$(cut -d" " -f1 "$tmp/pp/summary.txt" | tail -n +2 | tr "\n" " ")" = "as-is no-stores no-copies neither mma-peak as-is-again " ]'
check "the part as it is: 70.0 in each window" 'grep -qE "^as-is +70.0 70.0$" "$tmp/pp/summary.txt"'
check "a part without copies: 80.0 in each window" 'grep -qE "^no-copies +80.0 80.0$" "$tmp/pp/summary.txt"'
check "mma_peak as a share of the baseline mean: 85.7" 'grep -qE "^mma-peak +85.7 \(TF/s 600.0 against the baseline windows. mean 700.0\)$" "$tmp/pp/summary.txt"'
expect "power-parts names a bad --reps" 2 "take whole numbers >= 1, got '0'" scripts/power-parts --reps 0
expect "power-parts names a bad --shape" 2 "--shape wants MxNxK, got '4096x4096'" scripts/power-parts --shape 4096x4096
expect "power-parts names a missing --mma-peak" 2 "--mma-peak 'nope' is not an executable" scripts/power-parts --mma-peak nope

# ab-define end to end without a GPU: the synthetic backend ignores defines, so the variant
# equals the default exactly and both comparisons say 1.0000.
AB_BACKEND=synthetic HTUNE="$HTUNE" scripts/ab-define --define MATMUL_FUSED_PROLOGUE=1 --top 5 --random 7 \
    --repeats 2 --out "$tmp/ab" >"$tmp/ab.out" 2>&1
rc=$?
check "ab-define exits 0 (rc=$rc): $(tail -3 "$tmp/ab.out")" '[ $rc -eq 0 ]'
for f in selection default1 variant default2; do
    check "ab-define wrote $f.replay.gz" "[ -s '$tmp/ab/$f.replay.gz' ]"
done
check "ab-define's selection holds 12 configs" '[ "$(gzip -dc "$tmp/ab/selection.replay.gz" | grep -vc "^#")" -eq 12 ]'
check "the variant's table carries the define" "gzip -dc '$tmp/ab/variant.replay.gz' | grep -q '+MATMUL_FUSED_PROLOGUE=1'"
check "diff.txt compares both pairs" '[ "$(grep -c "NEW/OLD, all .*median 1.0000" "$tmp/ab/diff.txt")" -eq 2 ]'
expect "ab-define needs --define" 2 '--define NAME=VALUE is required' scripts/ab-define
expect "ab-define names a bad count" 2 "take whole numbers, got 'x'" scripts/ab-define --define A=1 --top x
expect "ab-define names an unreadable table" 2 "cannot read 'nope.gz'" scripts/ab-define --define A=1 --from nope.gz

# bench-compile --procs: the row's configs split over child processes, each its own compile.
procs_out=$(scripts/bench-compile --configs 2 --threads 1 --batch 1 --procs 2 --kernel standin 2>&1)
# Skipped only where libnvrtc does not load; any other failure of the run is a failure.
if printf '%s' "$procs_out" | grep -q 'libnvrtc not loadable'; then
    echo "skip: bench-compile --procs (no NVRTC here: $procs_out)"
else
    check "bench-compile --procs 2 prints a 2proc row with no failures: $procs_out" \
        "printf '%s' \"\$procs_out\" | grep -qE '^2proc +1 +cold +[0-9.]+ +[0-9.]+ +0 '"
fi

# bench-compile refuses bad arguments before compiling anything.
expect "bench-compile names a bad --define" 2 '--define wants NAME=VALUE, got x' scripts/bench-compile --define x
expect "bench-compile names a bad --offset" 2 '--offset must be a whole number' scripts/bench-compile --offset -1
expect "bench-compile names an unknown argument" 2 'unknown argument --bogus' scripts/bench-compile --bogus
expect "bench-compile names a bad --opt" 2 '--opt wants name=value .*got Bad=1' scripts/bench-compile --opt Bad=1
# an --opt reaches kernels/matmul's problem (which refuses this one) instead of falling back to the stand-in
if printf '%s' "$procs_out" | grep -qE '^bench-compile: [0-9]+ configs of'; then
    expect "bench-compile passes --opt to the matmul problem" 2 "kernels/matmul unusable: matmul: opts.tile_order must be 'runtime' or 'compiled', got 'bogus'" \
        scripts/bench-compile --configs 2 --threads 1 --batch 1 --opt tile_order=bogus
fi

# bench-tune --runs on recorded data (its CPU dry run): one line per seed, then the hit count.
expect "bench-tune --runs 2: a line per seed and the count" 0 'run A seed 1: .*run A seed 2: .* [0-2] of 2 runs A within 2%' \
    bash -c "HTUNE_ARCH=sm_90 scripts/bench-tune --backend replay --data data/matmul.replay.gz --runs 2 --seconds 0.6 --long-seconds 0.6 | tr '\n' ' '"

printf '%d passed, %d failed\n' "$pass" "$fail"
[ "$fail" -eq 0 ]
