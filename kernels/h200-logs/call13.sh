#!/usr/bin/env bash
# call 13: the shape-aware default (tree) against the old default (old), pattern and surrogate, 5 cold seeds each
cd "$(dirname "$0")"
export HTUNE=build/htune
( cd tree && timeout 70 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/new-pattern.log 2>&1 ); tail -7 $OUT/new-pattern.log
( cd tree && timeout 70 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/new-surrogate.log 2>&1 ); tail -7 $OUT/new-surrogate.log
( cd old && timeout 70 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/old-surrogate.log 2>&1 ); tail -7 $OUT/old-surrogate.log
( cd tree && timeout 100 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -2 $OUT/gpu-tests.log
