#!/usr/bin/env bash
# call 16: record --close-over call 15's table for pattern and the new surrogate (100 evals, seeds
# 1-50), then a second uniform sample of the matmul space (seed 2) for the rest of the call.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 240 scripts/record --problem matmul --close-over ../closed1.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 50 --seconds 200 --grace 15 --out $OUT/matmul-h200-closed2.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close2.log )
grep -v "measured," $OUT/close2.log | tail; grep "measured," $OUT/close2.log | tail -1
( timeout 320 scripts/record --problem matmul --count 20000 --seed 2 --seconds 280 --grace 15 \
    --out $OUT/matmul-h200-uniform2.replay.gz 2>&1 | tr '\r' '\n' > $OUT/uniform2.log )
tail -3 $OUT/uniform2.log
