#!/usr/bin/env bash
# call 71 (#4, #6) on an H100 host: the whole GPU suite on the tree with MATMUL_EPI_FAST on and
# f2h2 in kernels/common/fp16.cuh (shared by every template), then bench-compile cold (200
# configs, 16 threads, batch 4) six times in a row: the spread of one tree on one host.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 400 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -A3 "^FAIL" $OUT/gpu-tests.log | head -20
echo "tests $((SECONDS-T0)) s"
for r in 1 2 3 4 5 6; do
  ( timeout 40 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "run $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -2 /tmp/c.log >> $OUT/compile.log
echo "total $((SECONDS-T0)) s"
