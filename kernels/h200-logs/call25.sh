#!/usr/bin/env bash
# call 25: GPU suite on the -minimal build; bench-compile (200 configs, 16 threads) with -minimal;
# scripts/compare live (3 s a run, 2 seeds, the seed's 5 workloads x 6 strategies) for docs/results.md.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 120 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -3 $OUT/gpu-tests.log; grep -i "not ok" $OUT/gpu-tests.log | head
( timeout 60 build/htune run scripts/bench-compile.lua --configs 200 --threads 16 --batch 1 --arch sm_90a > $OUT/bench-compile-200.log 2>&1 ); tail -3 $OUT/bench-compile-200.log
( timeout 330 scripts/compare --backend live --seconds 3 --out $OUT/cmp --no-publish > $OUT/compare.log 2>&1 ); tail -5 $OUT/compare.log
du -sh $OUT/cmp; ls $OUT/cmp
