#!/usr/bin/env bash
# call 78 (#6): the 4096^3 mma.sync best holds 69.5-72.0% of cuBLAS at the 700 W cap (calls
# 72-76). Held 2-s windows (clock-probe, paired with cuBLAS) of what might spend less energy a
# FLOP: the try_wait suspend hint (waiting warps sleep instead of retrying), one empty-barrier
# arrival per consumer warp (never held before; 0.998-1.032x in bursts), both, and two other
# tiles (128x256x64 with 4 stages, 256x128x128 with 2); the first window again at the end.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
T="block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,l2_grouping=8"
Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active
nvidia-smi --query-gpu=$Q --format=csv,noheader -i 0 >/dev/null 2>&1 || Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active
nvidia-smi --query-gpu=$Q --format=csv -lms 100 > $OUT/smi.csv 2>&1 &
SMI=$!
probe() {   # label, config, [defines]
  echo "== $1 $(date +%T.%3N)" >> $OUT/hold.log
  ( timeout 90 build/htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
    --config $2 ${3:+--define $3} --reps 2 --ms 2000 >> $OUT/hold.log 2>&1 )
}
probe as-is $T
probe suspend $T MBAR_SUSPEND_NS=10000000
probe warp-arrive $T MATMUL_WS_WARP_ARRIVE=1
probe both $T MBAR_SUSPEND_NS=10000000,MATMUL_WS_WARP_ARRIVE=1
probe k64s4 ${T/block_k=128,num_warps=8,num_stages=2/block_k=64,num_warps=8,num_stages=4}
probe 256x128 ${T/block_m=128,block_n=256/block_m=256,block_n=128}
probe as-is-again $T
echo "== end $(date +%T.%3N)" >> $OUT/hold.log
kill $SMI
cat $OUT/hold.log
echo "total $((SECONDS-T0)) s"
