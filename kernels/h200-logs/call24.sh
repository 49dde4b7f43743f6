#!/usr/bin/env bash
# call 24: the surrogate of 319d27d live (5-s target, 1024^3, seeds 1-5), then record --close-over
# data/matmul-h200.replay.gz for the surrogate's seeds 1-100 (checkpointed), then bench-compile
# on the issue's 200 configs at 16 threads.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nproc
( timeout 80 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-surrogate.log 2>&1 ); tail -8 $OUT/tune-mm1024-surrogate.log
( timeout 300 scripts/record --problem matmul --close-over ../matmul-h200.replay.gz --strategies surrogate \
    --budgets 100 --seeds 100 --first-seed 1 --seconds 240 --grace 10 --top 10 --out $OUT/matmul-h200-closed-sur.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close-sur.log )
grep -v "measured," $OUT/close-sur.log | tail -8
( timeout 60 build/htune run scripts/bench-compile.lua --configs 200 --threads 16 --batch 1 --arch sm_90a > $OUT/bench-compile-200.log 2>&1 ); cat $OUT/bench-compile-200.log
ls -la $OUT
