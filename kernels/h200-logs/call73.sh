#!/usr/bin/env bash
# call 73 (#6): what the 4096^3 tma_ws best reaches at the power cap with parts of its work
# removed, each 2-s window paired with cuBLAS's (clock-probe --no-check, NVML clocks, nvidia-smi
# power beside): the real kernel, no loads (MATMUL_WS_NOLOAD), no stores of C (MATMUL_WS_NOEPI),
# neither (ldmatrix + mma + barriers only), and mma_peak hold (mma.sync from registers).
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
peak() {
  echo "== mma_peak hold $(date +%T.%3N)" >> $OUT/hold.log
  ( timeout 60 ../mma_peak hold 2000 1 >> $OUT/hold.log 2>&1 )
}
probe real
probe noload --no-check --define MATMUL_WS_NOLOAD=1
probe noepi --no-check --define MATMUL_WS_NOEPI=1
probe noload-noepi --no-check --define MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1
peak
probe noload-noepi-again --no-check --define MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1
probe real-again
echo "== end $(date +%T.%3N)" >> $OUT/hold.log
kill $SMI
cat $OUT/hold.log
echo "total $((SECONDS-T0)) s"
