#!/usr/bin/env bash
# call 19: the GPU suite after copy_base (the evict-hint test runs the H200 table's 3 faults too)
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 150 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); grep -i "evict\|fail\|passed" $OUT/gpu-tests.log | tail -8
