#!/usr/bin/env bash
# call 62: stream_k as a config parameter (opts.stream_k adds stream_k 0/1): its GPU tests;
# ab-variants stream_k=1 against 0 where the last round is nearly empty (2176x2048x8192: 136
# tiles of 128x256 on 132 SMs; 4352x4096x4096: 544) and at 4096^3; scripts/clock-probe.lua at
# 4096^3 (cuBLAS and the tma_ws best alternately, 2-s windows, NVML clocks) with nvidia-smi
# sampling power beside it; bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua matmul_variants stream_k > $OUT/gpu-sk.log 2>&1 ); tail -1 $OUT/gpu-sk.log; grep -A3 "^FAIL" $OUT/gpu-sk.log | head -16
echo "sk tests $((SECONDS-T0)) s"
Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active
nvidia-smi --query-gpu=$Q --format=csv,noheader -i 0 >/dev/null 2>&1 || Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active
nvidia-smi --query-gpu=$Q --format=csv -lms 100 > $OUT/smi.csv 2>&1 &
SMI=$!
date +%T.%3N
( timeout 90 build/htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,l2_grouping=8 --reps 3 --ms 2000 > $OUT/clock-4096.log 2>&1 ); cat $OUT/clock-4096.log
date +%T.%3N
kill $SMI
echo "probe $((SECONDS-T0)) s"
C8="num_warps=8,l2_grouping=8"
for sh in 2176x2048x8192 4352x4096x4096 4096x4096x4096; do
  ( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape $sh --opt loads=tma_ws,stream_k=true \
    --config block_m=128,block_n=256,block_k=128,num_stages=2,pid_type=persistent_blocked,$C8 \
    --config block_m=128,block_n=256,block_k=64,num_stages=4,pid_type=persistent_interleaved,$C8 \
    --variant sk:stream_k=1 --variant again:MATMUL_WS_EPI_T=1 --rounds 5 > $OUT/ab-sk-$sh.log 2>&1 ); tail -3 $OUT/ab-sk-$sh.log
done
echo "ab $((SECONDS-T0)) s"
for r in 1 2; do
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
