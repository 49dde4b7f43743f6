#!/usr/bin/env bash
# call 35: the session's last tree: wgmma GPU tests (shared expect_sampled_match); scripts/compare
# live, 1 seed, with the matmul_wgmma workload, packed for --publish-from.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 60 build/htune run tests/gpu/run.lua wgmma > $OUT/gpu-wgmma.log 2>&1 ); tail -1 $OUT/gpu-wgmma.log; grep -i "not ok\|FAIL" $OUT/gpu-wgmma.log | head -3
( timeout 170 scripts/compare --backend live --seconds 3 --seeds 1 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); grep "^| matmul\|^| softmax_4096x256 | pattern\|total" $OUT/compare.log | head -16
tar czf $OUT/cmp.tgz -C /tmp cmp
