#!/usr/bin/env bash
# call 54: MATMUL_WS2=1, tma_ws with one consumer warpgroup compiled for two blocks per SM
# (setmaxnreg 24 / 232 of a 128-register launch): its GPU tests and the tma_ws ones again (the
# persistent grid now counts the producer warpgroup); ab-variants at 4096^3, tma_ws base, on
# 4-warp tiles plus the 8-warp best (which WS2 leaves alone: the control row); ncu of the WS2
# 128x128x64 s3 tile; a 25-s tune with WS2; bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 150 build/htune run tests/gpu/run.lua matmul_variants tma_ws > $OUT/gpu-ws.log 2>&1 ); tail -1 $OUT/gpu-ws.log; grep -A3 "^FAIL" $OUT/gpu-ws.log | head -12; echo "tests $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=2,$F \
  --config block_m=128,block_n=64,block_k=64,num_warps=4,num_stages=4,$F \
  --config block_m=64,block_n=128,block_k=64,num_warps=4,num_stages=4,$F \
  --variant ws2:MATMUL_WS2=1 --rounds 3 > $OUT/ab-ws2-4096.log 2>&1 ); tail -7 $OUT/ab-ws2-4096.log
echo "ab $((SECONDS-T0)) s"
( timeout 80 ncu --clock-control none -k regex:matmul_tma --launch-skip 3 --launch-count 1 \
  --section SpeedOfLight --section SchedulerStats --section LaunchStats --section Occupancy --print-details all \
  --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$',sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_bank_reads.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum.per_second \
  build/htune run kernels/h200-logs/call53-one.lua 4096x4096x4096 block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,$F loads=tma_ws MATMUL_WS2=1 \
  > $OUT/ncu-ws2.txt 2>&1 ); grep -E "stalled_(wait|math|barrier|long|not_sel)|hmma|bank_reads|lts__t_bytes|Duration|L2 Cache Throughput|Registers Per|SM Frequency|Achieved Occupancy|Block Limit Reg" $OUT/ncu-ws2.txt | head -16
echo "ncu $((SECONDS-T0)) s"
( timeout 60 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --define MATMUL_WS2=1 --seconds 5 --long-seconds 25 > $OUT/tune-4096-ws2.log 2>&1 ); tail -4 $OUT/tune-4096-ws2.log
for r in 1 2; do
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
