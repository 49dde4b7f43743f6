#!/usr/bin/env bash
# call 43 (MATMUL_MBAR: per-stage mbarriers instead of the block barrier in XSTAGE's loop): the
# GPU suite (with the MBAR variants and every schedule on 2-SM persistent grids); A/B of MBAR
# at 4096^3 on seven large tiles and at the seed's gemm shapes, with a control variant; 40-s
# tunes at 4096^3 with and without it; ncu stall reasons of the MBAR form of the 8-warp best.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -8; echo "suite $((SECONDS-T0)) s"
F="pid_type=flat,l2_grouping=8"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=5,$F \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=6,$F \
  --config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=5,pid_type=persistent_blocked,l2_grouping=2 \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=3,$F \
  --variant mbar:MATMUL_MBAR=1 --variant again:MATMUL_MBAR=0 --rounds 5 > $OUT/ab-mbar-4096.log 2>&1 ); tail -8 $OUT/ab-mbar-4096.log
echo "ab4096 $((SECONDS-T0)) s"
for s in 4096x1024x1024 1024x4096x1024; do
( timeout 100 build/htune run scripts/ab-variants.lua --problem matmul --shape $s \
  --config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=xyz,l2_grouping=64,loop_order=1:0 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=persistent_interleaved,l2_grouping=64,loop_order=1:0 \
  --config block_m=128,block_n=128,block_k=32,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --variant mbar:MATMUL_MBAR=1 --variant again:MATMUL_MBAR=0 --rounds 7 > $OUT/ab-mbar-$s.log 2>&1 ); tail -4 $OUT/ab-mbar-$s.log
done
echo "ab gemm $((SECONDS-T0)) s"
( timeout 75 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --define MATMUL_MBAR=1 --seconds 5 --long-seconds 30 > $OUT/tune-4096-mbar.log 2>&1 ); tail -4 $OUT/tune-4096-mbar.log
( timeout 75 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 30 > $OUT/tune-4096-default.log 2>&1 ); tail -4 $OUT/tune-4096-default.log
echo "tunes $((SECONDS-T0)) s"
( timeout 60 ncu --clock-control none -k regex:matmul_kernel --launch-skip 3 --launch-count 1 \
  --section SpeedOfLight --section SchedulerStats --section ComputeWorkloadAnalysis --section LaunchStats --print-details all \
  --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$' \
  build/htune run kernels/h200-logs/call42-one.lua 4096x4096x4096 block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat MATMUL_MBAR=1 \
  > $OUT/ncu-mbar.txt 2>&1 ); grep -E "stalled_(wait|math|barrier|long|short|mio|not_sel|dispatch)|Duration|Issue Slots|Registers Per" $OUT/ncu-mbar.txt | head -14
echo "total $((SECONDS-T0)) s"
