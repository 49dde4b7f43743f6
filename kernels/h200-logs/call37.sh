#!/usr/bin/env bash
# call 37 (tree 1e7da7b, as call 36): ab-define at 1024^3 again with readable log names and 5
# passes for the prologue; ab-variants at 4096^3 on smaller warp tiles; bench-tune 4096^3 with
# MATMUL_XSTAGE=1,MATMUL_EPI_SMEM=1 and with the default; bench-compile thread scaling.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
ab() { ( timeout 120 scripts/ab-define --define $1 --from data/matmul-h200.replay.gz --repeats $3 --out /tmp/ab-$2 > $OUT/ab-$2.log 2>&1 ); grep "NEW/OLD" $OUT/ab-$2.log; }
ab MATMUL_XSTAGE=1 xstage 3
ab MATMUL_EPI_SMEM=1 epi 3
ab MATMUL_PROLOGUE_ROLLED=1 rolled 5
C="--config block_m=128,block_n=128,block_k=32,num_warps=8,num_stages=4,pid_type=flat
--config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=4,pid_type=flat
--config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,pid_type=xyz
--config block_m=128,block_n=64,block_k=64,num_warps=4,num_stages=4,pid_type=flat
--config block_m=64,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=flat
--config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=3,pid_type=persistent_interleaved"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 $C \
  --variant epi:MATMUL_EPI_SMEM=1 --variant both:MATMUL_XSTAGE=1,MATMUL_EPI_SMEM=1 > $OUT/ab-variants-4096.log 2>&1 ); tail -7 $OUT/ab-variants-4096.log
( timeout 100 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --define MATMUL_XSTAGE=1,MATMUL_EPI_SMEM=1 --seconds 5 --long-seconds 40 > $OUT/tune-mm4096-both.log 2>&1 ); tail -5 $OUT/tune-mm4096-both.log
( timeout 100 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 40 > $OUT/tune-mm4096-default.log 2>&1 ); tail -5 $OUT/tune-mm4096-default.log
( timeout 90 scripts/bench-compile --configs 48 --threads 1,4,8,16 --batch 4 --arch sm_90a --define MATMUL_PROLOGUE_ROLLED=1 > $OUT/compile-scaling-rolled.log 2>&1 ); grep cold $OUT/compile-scaling-rolled.log
# ncu of the fastest 4096^3 tile of call 36 with both macros, then without them.
for d in "MATMUL_XSTAGE=1 MATMUL_EPI_SMEM=1" ""; do
  ( timeout 90 ncu --clock-control none -k regex:matmul_kernel --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis \
    --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats \
    build/htune run kernels/h200-logs/call37-one.lua 4096x4096x4096 block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=3,pid_type=flat $d \
    > $OUT/ncu-${d:+both}${d:-base}.txt 2>&1 ); grep -E "Duration|Issue Slots Busy|Eligible Warps|Stall|Registers Per|Shared Memory Throughput|No Eligible" $OUT/ncu-${d:+both}${d:-base}.txt | head -12
done
