#!/usr/bin/env bash
# call 49 (MATMUL_ADDR the default on dividing shapes, f5eb127 + records): bench-compile cold,
# 200 configs on 16 threads, batch 4, the default (ADDR) and --define MATMUL_ADDR=0 alternated 3
# times (call 48 had no control); scripts/compare live, 1 seed, packed for --publish-from.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
for r in 1 2 3; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "addr $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul --define MATMUL_ADDR=0 > /tmp/c.log 2>&1 ); echo "noaddr $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -1 /tmp/c.log >> $OUT/compile.log
echo "compile $((SECONDS-T0)) s"
( timeout 300 scripts/compare --backend live --seconds 3 --seeds 1 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); grep "^| matmul\|^| gemm\|^| softmax_4096x256 | pattern\|total" $OUT/compare.log | head -30
tar czf $OUT/cmp.tgz -C /tmp cmp
echo "total $((SECONDS-T0)) s"
