#!/usr/bin/env bash
# call 23: the 5-s live target at 1024^3 with the choice jumps (pattern, surrogate; twins on),
# then record --close-over call 22's table for the new moves with the time left (checkpointed).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 80 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-pattern.log 2>&1 ); tail -8 $OUT/tune-mm1024-pattern.log
( timeout 80 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-surrogate.log 2>&1 ); tail -8 $OUT/tune-mm1024-surrogate.log
( timeout 185 scripts/record --problem matmul --close-over ../closed100.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 100 --first-seed 1 --seconds 150 --grace 10 --top 10 --out $OUT/matmul-h200-closed-jumps.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close-jumps.log )
grep -v "measured," $OUT/close-jumps.log | tail -8; ls -la $OUT
