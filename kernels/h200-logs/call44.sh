#!/usr/bin/env bash
# call 44 (the session's last code, MATMUL_MBAR reverted): the GPU suite; bench-compile cold at
# 200 configs on 16 threads (issue 4's figure at this tree); scripts/compare live, 1 seed, packed
# for --publish-from (docs/results.md at this tree).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 170 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -5; echo "suite $((SECONDS-T0)) s"
( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a > $OUT/compile.log 2>&1 ); grep -E "cold|warm" $OUT/compile.log | head -4
echo "compile $((SECONDS-T0)) s"
( timeout 240 scripts/compare --backend live --seconds 3 --seeds 1 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); grep "^| matmul\|^| gemm\|^| softmax_4096x256 | pattern\|total" $OUT/compare.log | head -30
tar czf $OUT/cmp.tgz -C /tmp cmp
echo "total $((SECONDS-T0)) s"
