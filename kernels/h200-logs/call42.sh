#!/usr/bin/env bash
# call 42 (tree 59e65bb, the review refactor): the GPU suite; A/B of 16-warp 128x256 / 256x128
# tiles (forced past the register estimate) against the fastest 8-warp 4096^3 config, with and
# without MATMUL_XSTAGE; ncu stall reasons of the 8-warp best and of a 16-warp config.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 170 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -5; echo "suite $((SECONDS-T0)) s"
C="pid_type=flat,l2_grouping=8"
( timeout 200 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --force \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,$C \
  --config block_m=128,block_n=256,block_k=32,num_warps=16,num_stages=4,$C \
  --config block_m=128,block_n=256,block_k=32,num_warps=16,num_stages=3,$C \
  --config block_m=256,block_n=128,block_k=32,num_warps=16,num_stages=4,$C \
  --config block_m=128,block_n=256,block_k=64,num_warps=16,num_stages=3,$C \
  --config block_m=256,block_n=128,block_k=32,num_warps=16,num_stages=5,pid_type=persistent_blocked,l2_grouping=2 \
  --variant noxs:MATMUL_XSTAGE=0 --variant again:MATMUL_XSTAGE=1 --rounds 5 > $OUT/ab-16warp.log 2>&1 ); tail -12 $OUT/ab-16warp.log
echo "ab $((SECONDS-T0)) s"
ONE="build/htune run kernels/h200-logs/call42-one.lua 4096x4096x4096"
NCU="ncu --clock-control none -k regex:matmul_kernel --launch-skip 3 --launch-count 1"
( timeout 90 $NCU --section WarpStateStats --section SchedulerStats --section SpeedOfLight --print-details all \
  $ONE block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat > $OUT/ncu-w8-details.txt 2>&1 )
grep -iE "stall|Duration|Eligible|Issue Slots" $OUT/ncu-w8-details.txt | head -30
( timeout 90 $NCU --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$' \
  $ONE block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat > $OUT/ncu-w8-stalls.txt 2>&1 )
grep -E "stalled|ERR|rror" $OUT/ncu-w8-stalls.txt | sort -k3 -n -r | head -30
( timeout 90 $NCU --section WarpStateStats --section SchedulerStats --section SpeedOfLight --section ComputeWorkloadAnalysis --section MemoryWorkloadAnalysis --section LaunchStats --print-details all \
  --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$' \
  $ONE block_m=128,block_n=256,block_k=32,num_warps=16,num_stages=4,pid_type=flat MATMUL_XSTAGE=0 > $OUT/ncu-w16.txt 2>&1 )
grep -iE "stalled|Duration|Eligible|Issue Slots|Registers Per|L1/TEX Cache|Shared is" $OUT/ncu-w16.txt | head -40
echo "total $((SECONDS-T0)) s"
