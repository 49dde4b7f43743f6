#!/usr/bin/env bash
# call 22: call 21's closure again (its table was lost to the call's time limit; record now
# checkpoints every round): pattern,surrogate x 100 evals x seeds 1-100 on the pooled replay.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 540 scripts/record --problem matmul --close-over ../rebuilt.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 100 --first-seed 1 --seconds 450 --grace 15 --out $OUT/matmul-h200-closed100.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close100.log )
grep -v "measured," $OUT/close100.log | tail -14; grep "measured," $OUT/close100.log | tail -1; ls -la $OUT
