#!/usr/bin/env bash
# call 77: after the review mend (68aa1b9: parse_defines, clock-probe's header from p.key, the
# MMA_SERP GPU test without its one-element loop): that test, and power-parts in short windows
# (1 rep of 500 ms a part), to see clock-probe and the summary work on the GPU.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,power.limit --format=csv,noheader
T0=$SECONDS
( timeout 120 build/htune run tests/gpu/run.lua matmul_variants MMA_SERP > $OUT/gpu-serp.log 2>&1 ); tail -1 $OUT/gpu-serp.log; grep -A3 "^FAIL" $OUT/gpu-serp.log | head -12
( timeout 120 scripts/power-parts --reps 1 --ms 500 --mma-peak ../mma_peak --out $OUT/power > $OUT/power-parts.log 2>&1 ); cat $OUT/power-parts.log
head -3 $OUT/power/hold.log; grep -m1 "NOT checked" $OUT/power/hold.log
echo "total $((SECONDS-T0)) s"
