#!/usr/bin/env bash
# call 15: the GPU suite and the 5-s matmul target at HEAD (compile-once change), then
# record --close-over on the H200 matmul table for pattern,surrogate x 100 evals x seeds 1-50.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
nproc; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
( timeout 100 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -2 $OUT/gpu-tests.log
( timeout 75 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024.log 2>&1 ); tail -8 $OUT/tune-mm1024.log
( timeout 400 scripts/record --problem matmul --close-over data/matmul-h200.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 50 --seconds 330 --grace 20 --out $OUT/matmul-h200-closed.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close.log )
grep -v "measured," $OUT/close.log | tail -20; grep "measured," $OUT/close.log | tail -2
