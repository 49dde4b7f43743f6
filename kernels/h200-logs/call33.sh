#!/usr/bin/env bash
# call 33: matmul_wgmma's shared-memory epilogue (the only one now): GPU suite, wgbench quick
# (odd shapes + 1024^3/4096^3 beside cuBLAS, ungated events), bench-tune 1024^3 and 4096^3.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 200 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log
( timeout 200 build/htune run tests/gpu/run.lua wgmma > $OUT/gpu-wgmma.log 2>&1 ); tail -1 $OUT/gpu-wgmma.log; grep -i "not ok\|FAIL" $OUT/gpu-wgmma.log | head
( timeout 60 build-wgmma/wgbench quick > $OUT/wgbench.log 2>&1 ); sed -n '/summary/,$p' $OUT/wgbench.log
( timeout 100 scripts/bench-tune --problem matmul_wgmma --seconds 5 --long-seconds 40 --runs 3 > $OUT/tune-wg1024.log 2>&1 ); tail -6 $OUT/tune-wg1024.log
( timeout 80 scripts/bench-tune --problem matmul_wgmma --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 30 --runs 1 > $OUT/tune-wg4096.log 2>&1 ); tail -4 $OUT/tune-wg4096.log
