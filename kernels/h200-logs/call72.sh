#!/usr/bin/env bash
# call 72 (#6, the mma.sync 4096^3 row): is 75% of cuBLAS within reach of mma.sync under the
# power cap? (1) MATMUL_MMA_SERP=1 (serpentine mma order: fewer operand reads) GPU-checked and
# A/B'd at 4096^3 on the tma_ws tiles (5 rounds, control); (2) held 2-s windows with NVML clocks
# and nvidia-smi power beside them: cuBLAS, the tma_ws best, the same kernel with no loads and no
# stores of C (MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1: ldmatrix + mma + barriers only), and
# mma_peak hold (mma.sync from registers, fixed and toggling operands); (3) if SERP wins on the
# best tile (< 0.99), a bench-tune with it.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua matmul_variants MMA_SERP > $OUT/gpu-serp.log 2>&1 ); tail -1 $OUT/gpu-serp.log; grep -A3 "^FAIL" $OUT/gpu-serp.log | head -16
echo "tests $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=8"
BEST="block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config $BEST \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,$F \
  --variant serp:MATMUL_MMA_SERP=1 --variant again:MATMUL_MMA_SERP=0 --rounds 5 > $OUT/ab-serp-4096.log 2>&1 ); tail -5 $OUT/ab-serp-4096.log
echo "ab $((SECONDS-T0)) s"
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
  ( timeout 60 ../mma_peak hold 2000 2 >> $OUT/hold.log 2>&1 )
}
peak
probe real
probe noload-noepi --define MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1
peak
probe real-again
echo "== end $(date +%T.%3N)" >> $OUT/hold.log
kill $SMI
cat $OUT/hold.log
( timeout 30 ../mma_peak > $OUT/mma-peak-burst.log 2>&1 ); cat $OUT/mma-peak-burst.log
echo "hold $((SECONDS-T0)) s"
R=$(awk '/^matmul_tma_kernel<128,256,128,2,4,2,2/ { for (i = 1; i <= NF; ++i) if ($i == "serp") { gsub(/[()]/, "", $(i + 2)); print $(i + 2) } }' $OUT/ab-serp-4096.log)
echo "serp ratio on the best: ${R:-none}"
if [ -n "$R" ] && awk "BEGIN { exit !($R < 0.99) }"; then
  ( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --define MATMUL_MMA_SERP=1 --seconds 5 --long-seconds 25 > $OUT/tune-4096-serp.log 2>&1 ); tail -4 $OUT/tune-4096-serp.log
fi
echo "total $((SECONDS-T0)) s"
