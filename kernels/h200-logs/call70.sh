#!/usr/bin/env bash
# call 70 (#4) on an H100 host: MATMUL_EPI_FAST (the fragment epilogue from one row pointer per
# fragment row, one cvt.rn.f16x2 a pair; on by default since 1f10939, 4.3% fewer NVRTC
# instructions a config on the dev machine). Its GPU tests (the old form =0 as a variant, the
# default in kernels_test), ab-define of the old form against the default on the recorded 1024^3
# table, bench-compile cold alternated default / =0 three times at 16 threads, one serial pair.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 60 build/htune run tests/gpu/run.lua matmul_variants EPI_FAST > $OUT/gpu-epifast.log 2>&1 ); tail -1 $OUT/gpu-epifast.log; grep -A3 "^FAIL" $OUT/gpu-epifast.log | head -12
( timeout 90 build/htune run tests/gpu/run.lua kernels_test matmul > $OUT/gpu-kernels-matmul.log 2>&1 ); tail -1 $OUT/gpu-kernels-matmul.log; grep -A3 "^FAIL" $OUT/gpu-kernels-matmul.log | head -12
echo "tests $((SECONDS-T0)) s"
( timeout 110 scripts/ab-define --define MATMUL_EPI_FAST=0 --out /tmp/ab-ef > $OUT/ab-epifast0-1024.log 2>&1 ); grep -A3 "against the default\|against itself" $OUT/ab-epifast0-1024.log | grep "NEW/OLD\|best:"; cp /tmp/ab-ef/diff.txt $OUT/ab-epifast0-1024-diff.txt 2>/dev/null
echo "ab-define $((SECONDS-T0)) s"
for r in 1 2 3; do
  for v in fast old; do
    D=""; [ $v = old ] && D="--define MATMUL_EPI_FAST=0"
    ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul $D > /tmp/c.log 2>&1 ); echo "$v $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
  done
done
for v in fast old; do
  D=""; [ $v = old ] && D="--define MATMUL_EPI_FAST=0"
  ( timeout 40 scripts/bench-compile --configs 48 --threads 1 --batch 4 --arch sm_90a --kernel matmul $D > /tmp/c.log 2>&1 ); echo "$v serial: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -2 /tmp/c.log >> $OUT/compile.log
echo "total $((SECONDS-T0)) s"
