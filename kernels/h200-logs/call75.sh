#!/usr/bin/env bash
# call 75 (#6): the copies' share of the 4096^3 best held at the power cap, without the stale
# operands of call 73's MATMUL_WS_NOLOAD=1: =2 computes on stages filled once with random fp16.
# Held 2-s windows (clock-probe --no-check, each paired with cuBLAS) of the real kernel, NOLOAD 1
# and 2, NOLOAD 2 + NOEPI, the real kernel again.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
BEST="block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,l2_grouping=8"
Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active
nvidia-smi --query-gpu=$Q --format=csv,noheader -i 0 >/dev/null 2>&1 || Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active
nvidia-smi --query-gpu=$Q --format=csv -lms 100 > $OUT/smi.csv 2>&1 &
SMI=$!
probe() {   # label, then clock-probe's extra arguments
  local l=$1; shift
  echo "== $l $(date +%T.%3N)" >> $OUT/hold.log
  ( timeout 90 build/htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
    --config $BEST --reps 2 --ms 2000 "$@" >> $OUT/hold.log 2>&1 )
}
probe real
probe noload1 --no-check --define MATMUL_WS_NOLOAD=1
probe noload2 --no-check --define MATMUL_WS_NOLOAD=2
probe noload2-noepi --no-check --define MATMUL_WS_NOLOAD=2,MATMUL_WS_NOEPI=1
probe noload2-again --no-check --define MATMUL_WS_NOLOAD=2
probe real-again
echo "== end $(date +%T.%3N)" >> $OUT/hold.log
kill $SMI
cat $OUT/hold.log
echo "total $((SECONDS-T0)) s"
