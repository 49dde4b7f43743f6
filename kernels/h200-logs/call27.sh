#!/usr/bin/env bash
# call 27: the round gate (4d9ab19) on the GPU: GPU suite; scripts/bench-gate (cuBLAS and the
# default config, gate on/off, idle/loaded CPU); bench-tune pattern 5-s runs; compare live.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 120 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -2 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head
( timeout 90 build/htune run scripts/bench-gate.lua --reps 5 > $OUT/bench-gate.log 2>&1 ); tail -10 $OUT/bench-gate.log
( timeout 80 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-pattern.log 2>&1 ); tail -7 $OUT/tune-mm1024-pattern.log
( timeout 260 scripts/compare --backend live --seconds 3 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); grep "^| matmul\|^| gemm_4096" $OUT/compare.log | head -8
tar czf $OUT/cmp.tgz -C /tmp cmp; ls -la $OUT
