#!/usr/bin/env bash
# call 17: finish record --close-over (call 16's table), a third uniform sample (seed 3), and
# the 5-s live target for the new surrogate at 1024^3.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 130 scripts/record --problem matmul --close-over ../closed2.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 50 --seconds 100 --grace 15 --top 10 --out $OUT/matmul-h200-closed3.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close3.log )
grep -v "measured," $OUT/close3.log | tail -12
( timeout 140 scripts/record --problem matmul --count 4500 --seed 3 --seconds 110 --grace 15 \
    --out $OUT/matmul-h200-uniform3.replay.gz 2>&1 | tr '\r' '\n' > $OUT/uniform3.log )
tail -2 $OUT/uniform3.log
( timeout 75 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-surrogate.log 2>&1 ); tail -8 $OUT/tune-mm1024-surrogate.log
