#!/usr/bin/env bash
# call 30: cluster kernels with CTA-scope remote arrives; GPU cluster/tma tests; A/B cl1 vs cl2
# vs cl2 without multicast (WG_CL_NOMC=1).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 120 build/htune run tests/gpu/run.lua wgmma_ > $OUT/gpu-wgmma.log 2>&1 ); tail -2 $OUT/gpu-wgmma.log; grep -i "not ok\|FAIL" $OUT/gpu-wgmma.log | head
# ran as kernels/h200-logs/call29-ab-cluster.lua --nomc (the tiles of its log), since folded into
# call32-ab-wgmma.lua, whose tile list differs:
( timeout 200 build/htune run kernels/h200-logs/call32-ab-wgmma.lua --variant cl2:cluster=2 --variant cl2-nomc:cluster=2,WG_CL_NOMC=1 > $OUT/ab-cluster.log 2>&1 ); cat $OUT/ab-cluster.log | tail -16
ls -la $OUT
