#!/usr/bin/env bash
# call 53: tma_ws in clusters of 2 (matmul_tma_cl2_kernel: B multicast to vertically adjacent
# tiles) and with one empty-barrier arrival per consumer warp (MATMUL_WS_WARP_ARRIVE=1): the
# tma_ws GPU tests; ab-variants at 4096^3 with tma_ws as the base; ncu of the tma_ws best and its
# cluster form; a 25-s tune with clusters on; bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 150 build/htune run tests/gpu/run.lua matmul_variants tma_ws > $OUT/gpu-ws.log 2>&1 ); tail -1 $OUT/gpu-ws.log; grep -A3 "^FAIL" $OUT/gpu-ws.log | head -12; echo "tests $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=128,num_warps=8,num_stages=3,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=4,$F \
  --variant cl2:cluster=2 --variant wa:MATMUL_WS_WARP_ARRIVE=1 --rounds 3 > $OUT/ab-ws-4096.log 2>&1 ); tail -6 $OUT/ab-ws-4096.log
echo "ab $((SECONDS-T0)) s"
C=block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F
for v in "1 $C" "2 $C,cluster=2"; do set -- $v
  ( timeout 80 ncu --clock-control none -k regex:matmul_tma --launch-skip 3 --launch-count 1 \
    --section SpeedOfLight --section SchedulerStats --section LaunchStats --print-details all \
    --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$' \
    build/htune run kernels/h200-logs/call53-one.lua 4096x4096x4096 $2 loads=tma_ws clusters=true \
    > $OUT/ncu-ws-cl$1.txt 2>&1 ); echo "cl$1:"; grep -E "stalled_(wait|math|barrier|long|short|mio|not_sel|dispatch|sleeping|membar)|Duration|L2 Cache Throughput|Compute \(SM\)|Registers Per|SM Frequency|Cluster Size" $OUT/ncu-ws-cl$1.txt | head -18
done
( timeout 60 ncu --clock-control none -k regex:matmul_tma --launch-skip 3 --launch-count 1 \
  --metrics sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,l1tex__data_bank_reads.avg.pct_of_peak_sustained_elapsed,l1tex__data_bank_writes.avg.pct_of_peak_sustained_elapsed,lts__t_bytes.sum.per_second \
  build/htune run kernels/h200-logs/call53-one.lua 4096x4096x4096 $C loads=tma_ws > $OUT/ncu-ws-pipes.txt 2>&1 ); grep -E "hmma|bank|lts__t_bytes" $OUT/ncu-ws-pipes.txt | head
echo "ncu $((SECONDS-T0)) s"
( timeout 60 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws,clusters=true --seconds 5 --long-seconds 25 > $OUT/tune-4096-ws-cl.log 2>&1 ); tail -4 $OUT/tune-4096-ws-cl.log
for r in 1 2; do
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
