#!/usr/bin/env bash
# call 28: GPU suite at HEAD; softmax H200 table re-recorded with the round gate; wgmma 1024^3
# gated against cuBLAS (bench-tune); bench-compile 16 threads, batch 1,2,4.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 150 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -2 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head
( timeout 200 scripts/record --problem softmax --repeats 3 --out $OUT/softmax-h200.replay.gz > $OUT/record-softmax.log 2>&1 ); tail -4 $OUT/record-softmax.log
( timeout 120 scripts/bench-tune --problem matmul_wgmma --seconds 5 --long-seconds 40 --runs 3 > $OUT/tune-wg1024.log 2>&1 ); tail -7 $OUT/tune-wg1024.log
( timeout 120 scripts/bench-compile --configs 200 --threads 16 --batch 1,2,4 --arch sm_90a > $OUT/bench-compile.log 2>&1 ); tail -9 $OUT/bench-compile.log
ls -la $OUT
