#!/usr/bin/env bash
# call 74 (#6): call 73 put the 4096^3 best without its loads at 78-81% of cuBLAS held at the
# power cap (71% with them). Held 2-s windows (clock-probe, paired with cuBLAS) of what moves
# fewer bytes: clusters of 2 multicasting B (half of B's L2 reads; 1.04-1.06x the time in
# bursts, call 53), and the L2 grouping (DRAM re-reads) 4 and 16 against 8.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
T="block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked"
Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_event_reasons.active
nvidia-smi --query-gpu=$Q --format=csv,noheader -i 0 >/dev/null 2>&1 || Q=timestamp,clocks.sm,power.draw,power.limit,temperature.gpu,clocks_throttle_reasons.active
nvidia-smi --query-gpu=$Q --format=csv -lms 100 > $OUT/smi.csv 2>&1 &
SMI=$!
probe() {   # label, opts, config
  echo "== $1 $(date +%T.%3N)" >> $OUT/hold.log
  ( timeout 90 build/htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 --opt $2 \
    --config $3 --reps 2 --ms 2000 >> $OUT/hold.log 2>&1 )
}
probe g8 loads=tma_ws $T,l2_grouping=8
probe cl2-g8 loads=tma_ws,clusters=true $T,l2_grouping=8,cluster=2
probe g4 loads=tma_ws $T,l2_grouping=4
probe g16 loads=tma_ws $T,l2_grouping=16
probe cl2-g16 loads=tma_ws,clusters=true $T,l2_grouping=16,cluster=2
probe g8-again loads=tma_ws $T,l2_grouping=8
echo "== end $(date +%T.%3N)" >> $OUT/hold.log
kill $SMI
cat $OUT/hold.log
echo "total $((SECONDS-T0)) s"
