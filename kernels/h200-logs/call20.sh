#!/usr/bin/env bash
# call 20: record --close-over for held-out seeds 51-100 (pattern,surrogate x 100 evals) on the
# H200 matmul table; then copy_base A/B on hinted configs (scripts/ab-define, MATMUL_NO_COPY_BASE=1).
# ../hinted.replay.gz: the 14,295 rows of data/matmul-h200.replay.gz (f4ae272) with vector_width 8
# and at least one L2 hint (the configs copy_base changes).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nproc; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
( timeout 345 scripts/record --problem matmul --close-over data/matmul-h200.replay.gz --strategies pattern,surrogate \
    --budgets 100 --seeds 50 --first-seed 51 --seconds 300 --grace 20 --out $OUT/matmul-h200-closed51.replay.gz 2>&1 | tr '\r' '\n' > $OUT/close51.log )
grep -v "measured," $OUT/close51.log | tail -14; grep "measured," $OUT/close51.log | tail -1
( OUT=$OUT/ab timeout 200 scripts/ab-define --define MATMUL_NO_COPY_BASE=1 --from ../hinted.replay.gz --top 30 --random 30 > $OUT/ab-copybase.log 2>&1 ); tail -25 $OUT/ab-copybase.log
