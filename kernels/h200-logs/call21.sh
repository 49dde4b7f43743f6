#!/usr/bin/env bash
# call 21: close the H200 matmul table (call 15-17's readings plus call 20's new rows; replay now
# pools twins) for pattern,surrogate x 100 evals x seeds 1-100; the GPU suite (live twins);
# the 5-s pattern target at 1024^3 with twins.
# (The closure's table was lost: round 4 ran into the shell timeout before record's only write.)
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 290 scripts/record --problem matmul --close-over ../rebuilt.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 100 --first-seed 1 --seconds 250 --grace 20 --out $OUT/matmul-h200-closed100.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close100.log )
grep -v "measured," $OUT/close100.log | tail -14; grep "measured," $OUT/close100.log | tail -1
( timeout 100 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -3 $OUT/gpu-tests.log; grep -i "not ok" $OUT/gpu-tests.log | head
( timeout 90 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024.log 2>&1 ); tail -9 $OUT/tune-mm1024.log
