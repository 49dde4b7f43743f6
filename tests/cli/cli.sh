#!/usr/bin/env bash
# CLI behaviour of the htune binary: help, version, run resolution, errors and exit codes.
# Usage: tests/cli/cli.sh build/htune    (prints "N passed, N failed" last)
set -u
HTUNE=${1:-build/htune}
pass=0
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME EXPECTED_RC PATTERN CMD...: runs CMD, checks its exit code and that its
# combined output matches the extended regex PATTERN.
expect() {
    local name=$1 want_rc=$2 pattern=$3 out rc
    shift 3
    out=$("$@" 2>&1)
    rc=$?
    if [ "$rc" -eq "$want_rc" ] && { [ -z "$pattern" ] || printf '%s' "$out" | grep -qE -- "$pattern"; }; then
        pass=$((pass + 1))
    else
        fail=$((fail + 1))
        printf 'FAIL %s: rc=%s (want %s), output:\n%s\n' "$name" "$rc" "$want_rc" "$out" | head -20
    fi
}

expect version 0 '^htune [0-9]+\.[0-9]+\.[0-9]+' "$HTUNE" --version
expect help 0 'usage: htune COMMAND' "$HTUNE" --help
expect help-lists-run 0 'run +run a Lua tuning script' "$HTUNE" --help
expect no-args 2 'usage: htune COMMAND' "$HTUNE"
expect unknown-command 2 "unknown command 'frobnicate'" "$HTUNE" frobnicate
expect run-help 0 'usage: htune run SCRIPT' "$HTUNE" run --help
expect run-missing 2 "no script 'nope.lua'" "$HTUNE" run nope.lua

printf 'print("args", arg[0] ~= nil, ...)\n' > "$tmp/ok.lua"
expect run-args 0 'args	true	a	b' "$HTUNE" run "$tmp/ok.lua" a b

printf 'local x = 1\nerror("boom at " .. x)\n' > "$tmp/err.lua"
expect run-error-line 1 'err.lua:2: boom at 1' "$HTUNE" run "$tmp/err.lua"
expect run-error-traceback 1 'stack traceback' "$HTUNE" run "$tmp/err.lua"

printf 'return 3\n' > "$tmp/code.lua"
expect run-exit-code 3 '' "$HTUNE" run "$tmp/code.lua"

printf 'local x = \n' > "$tmp/syntax.lua"
expect run-syntax-error 1 'syntax.lua:.*unexpected symbol' "$HTUNE" run "$tmp/syntax.lua"

# Lua library found from another working directory (package.path from the binary's place).
abs=$(cd "$(dirname "$HTUNE")" && pwd)/$(basename "$HTUNE")
printf 'local h = require "htune"; print("root ok", h.version)\n' > "$tmp/lib.lua"
expect lib-from-elsewhere 0 'root ok' bash -c "cd / && '$abs' run '$tmp/lib.lua'"


# scripts/record: help before any GPU work, --around merges one-step neighbours of the top rows.
REC="$(dirname "$0")/../../scripts/record.lua"
expect record-help 0 'usage: htune run scripts/record.lua' "$HTUNE" run "$REC" --help
expect record-missing-value 2 'option --top needs a value' "$HTUNE" run "$REC" --top
expect record-synthetic 0 'wrote 200 rows' "$HTUNE" run "$REC" --problem matmul --backend synthetic --count 200 --out "$tmp/r1.gz"
expect record-around 0 'round 2: [0-9]+ unmeasured neighbours' "$HTUNE" run "$REC" --problem matmul --backend synthetic --around "$tmp/r1.gz" --top 3 --out "$tmp/r2.gz"
expect record-around-merged 0 '^(2[5-9][0-9]|[3-9][0-9][0-9])$' sh -c "zcat '$tmp/r2.gz' | grep -vc '^#'"
expect record-around-drift 0 '^# drift 1.0000 ' zcat "$tmp/r2.gz"
expect record-configs-from 0 'wrote 200 rows' "$HTUNE" run "$REC" --problem matmul --backend synthetic --configs-from "$tmp/r1.gz" --out "$tmp/r4.gz"
expect record-configs-from-same 0 '^same$' bash -c "diff <(zcat '$tmp/r1.gz' | grep -v '^#' | cut -f1 | sort) <(zcat '$tmp/r4.gz' | grep -v '^#' | cut -f1 | sort) && echo same"
expect record-configs-from-how 0 '^# how sampled.*; all 200 re-measured' zcat "$tmp/r4.gz"
# A run killed before its end keeps its last checkpoint: 200 synthetic evals of 20 ms, a
# checkpoint every 0.3 s, stopped by SIGTERM after 2.5 s (about half way).
timeout 2.5 "$HTUNE" run "$REC" --problem matmul --backend synthetic --count 200 --latency-ms 20 --checkpoint 0.3 --out "$tmp/ck.gz" >/dev/null 2>&1
expect record-checkpoint-header 0 '^# how sampled, [0-9]+ of 200 measured \(checkpoint: the run had not finished\)$' zcat "$tmp/ck.gz"
expect record-checkpoint-rows 0 '^([1-9]|[1-9][0-9]|1[0-9][0-9])$' sh -c "zcat '$tmp/ck.gz' | grep -vc '^#'"
expect record-bad-checkpoint 2 "checkpoint must be a number of seconds >= 0, got 'x'" "$HTUNE" run "$REC" --problem matmul --backend synthetic --checkpoint x
expect record-repeats 0 'pass 3 of 3' "$HTUNE" run "$REC" --problem matmul --backend synthetic --count 200 --repeats 3 --out "$tmp/r5.gz"
expect record-repeats-how 0 '^# how sampled; median of 3 passes' zcat "$tmp/r5.gz"
expect record-repeats-rows 0 '^200$' sh -c "zcat '$tmp/r5.gz' | grep -vc '^#'"
expect record-repeats-bad 2 'repeats must be a whole number >= 1, got 0' "$HTUNE" run "$REC" --problem matmul --backend synthetic --repeats 0
expect record-repeats-around 2 'repeats does not go with --around' "$HTUNE" run "$REC" --problem matmul --backend synthetic --repeats 2 --around "$tmp/r1.gz"
# record --close-over: every replayed run then reads recorded rows only (an exact replay finds
# no config missing), and the header says so and keeps the sample_rows mark.
{ zcat "$tmp/r1.gz" | sed '/^# columns/i # sample_rows 200'; } | gzip >"$tmp/r1s.gz"
expect record-close 0 '6 of 6 runs \(pattern,random x budgets 25 x seeds 1-3\) replay on recorded rows only' \
  "$HTUNE" run "$REC" --problem matmul --backend synthetic --close-over "$tmp/r1s.gz" --strategies pattern,random --seeds 3 --budgets 25 --top 3 --out "$tmp/rc.gz"
expect record-close-header 0 '^# sample_rows 200$' zcat "$tmp/rc.gz"
expect record-close-no-temp-left 0 '' test ! -e "$tmp/rc.tmp.gz"
cat >"$tmp/exact.lua" <<'LUA'
local htune = require "htune"
local p = htune.problem("matmul", {})
local be = assert(require("htune.backends.replay").open(p, { path = arg[1], nearest = false }))
local misses = 0
for _, s in ipairs { "pattern", "random" } do
  for seed = 1, 3 do
    local r = htune.tune { problem = p, strategy = s, backend = be, budget = { evals = 25 }, seed = seed, quiet = true, rebench_k = 0 }
    for _, t in ipairs(r.trace) do if t.reason == "miss" then misses = misses + 1 end end
  end
end
print("misses " .. misses)
LUA
expect record-close-exact 0 '^misses 0$' "$HTUNE" run "$tmp/exact.lua" "$tmp/rc.gz"
expect record-close-not-exact-before 0 '^misses [1-9]' "$HTUNE" run "$tmp/exact.lua" "$tmp/r1s.gz"
expect record-close-bad-budgets 2 "budgets wants numbers like 50,100, got 'x'" "$HTUNE" run "$REC" --problem matmul --backend synthetic --close-over "$tmp/r1.gz" --budgets x
expect record-around-wrong-space 2 "holds space 'matmul" "$HTUNE" run "$REC" --problem softmax --backend synthetic --around "$tmp/r1.gz" --out "$tmp/r3.gz"

# scripts/device-check: its steps, bad arguments named, and no run without a GPU (an nvidia-smi
# that fails stands first on PATH, so the check holds on a GPU machine too).
DC=$(dirname "$0")/../../scripts/device-check
mkdir -p "$tmp/nogpu" && printf '#!/bin/sh\nexit 9\n' >"$tmp/nogpu/nvidia-smi" && chmod +x "$tmp/nogpu/nvidia-smi"
expect device-check-list 0 '^gpu-tests$' "$DC" --list
expect device-check-help 0 'scripts/device-check \[--out DIR\]' "$DC" --help
expect device-check-bad-step 2 "no step 'nope'" "$DC" --only compile,nope
expect device-check-bad-arg 2 "unknown argument '--bogus'" "$DC" --bogus
expect device-check-no-gpu 3 'no GPU here' env PATH="$tmp/nogpu:$PATH" HTUNE="$HTUNE" "$DC" --out "$tmp/dc"
expect device-check-no-gpu-no-logs 0 '' test ! -e "$tmp/dc"

# make run's example without a GPU (HTUNE_LIBCUDA names no library): the H200 table, the
# gated cuBLAS time from its header.
expect quickstart-replay 0 'no GPU: replaying recorded NVIDIA H200 data.*cublas 6\.25 us: [0-9]+% of its speed' \
    bash -c "HTUNE_LIBCUDA=/nonexistent/libcuda.so.1 '$HTUNE' run examples/quickstart.lua | tr '\n' ' '"

# htune.commit (record's headers, compare's tables): $HTUNE_COMMIT, else an exported tree's
# COMMIT file, else git. An export holds lua/ and COMMIT, no .git; HTUNE_ROOT points at it.
printf 'print(require("htune").commit())\n' >"$tmp/commit.lua"
mkdir -p "$tmp/export" && cp -r "$(dirname "$0")/../../lua" "$tmp/export/" && echo 0a1b2c3 >"$tmp/export/COMMIT"
expect commit-env 0 '^feed42$' env HTUNE_COMMIT=feed42 "$HTUNE" run "$tmp/commit.lua"
expect commit-file 0 '^0a1b2c3$' env -u HTUNE_COMMIT HTUNE_ROOT="$tmp/export" "$HTUNE" run "$tmp/commit.lua"
rm "$tmp/export/COMMIT"
expect commit-unknown 0 '^unknown$' env -u HTUNE_COMMIT HTUNE_ROOT="$tmp/export" "$HTUNE" run "$tmp/commit.lua"

# Without libnvrtc the kernel specs still load (their space, their replay): nvrtc.version()'s
# failure is no version, not numbers to compare.
expect space-without-nvrtc 0 'space matmul: 10 parameters' env HTUNE_NVRTC=/nonexistent/libnvrtc.so "$HTUNE" space kernels/matmul/spec.lua
expect quickstart-without-nvrtc 0 'replaying recorded' env HTUNE_NVRTC=/nonexistent/libnvrtc.so "$HTUNE" run examples/quickstart.lua

echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
