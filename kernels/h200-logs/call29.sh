#!/usr/bin/env bash
# call 29: matmul_wgmma clusters of 2 (A multicast; then in the default space, since calls 30+
# opt-in through opts.clusters): GPU suite (new wgmma_cluster test), A/B against cluster 1 on the
# same tiles, bench-tune 1024^3 and 4096^3 with cluster in the space; bench-compile 16 threads
# batch 4,8,16.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 200 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -2 $OUT/gpu-tests.log; grep -i "not ok\|FAIL\|error" $OUT/gpu-tests.log | head
# ran as kernels/h200-logs/call29-ab-cluster.lua (8 tiles at 1024^3, 4 at 4096^3 as in its log),
# since folded into call32-ab-wgmma.lua, whose tile list differs:
( timeout 150 build/htune run kernels/h200-logs/call32-ab-wgmma.lua --variant cl2:cluster=2 > $OUT/ab-cluster.log 2>&1 ); cat $OUT/ab-cluster.log | tail -16
( timeout 100 scripts/bench-tune --problem matmul_wgmma --seconds 5 --long-seconds 40 --runs 3 > $OUT/tune-wg1024.log 2>&1 ); tail -7 $OUT/tune-wg1024.log
( timeout 80 scripts/bench-tune --problem matmul_wgmma --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 30 --runs 1 > $OUT/tune-wg4096.log 2>&1 ); tail -4 $OUT/tune-wg4096.log
( timeout 90 scripts/bench-compile --configs 200 --threads 16 --batch 4,8,16 --arch sm_90a > $OUT/bench-compile.log 2>&1 ); tail -8 $OUT/bench-compile.log
ls -la $OUT
