#!/usr/bin/env bash
# call 50: MATMUL_PROLOGUE_ROLLED=1 again, now on top of MATMUL_ADDR (off since call 37: 4.7% slower
# on the 10 fastest 1024^3 configs without ADDR): ab-define on the H200 1024^3 table; bench-compile
# cold on 16 threads, default and ROLLED alternated 3 times; ncu stall reasons of call 48's
# 4096^3 best (308.32 us, ADDR).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 100 scripts/ab-define --define MATMUL_PROLOGUE_ROLLED=1 --from data/matmul-h200.replay.gz --out /tmp/ab-rolled > $OUT/ab-rolled-1024.log 2>&1 ); grep -A3 "against the default\|against itself" $OUT/ab-rolled-1024.log | grep "NEW/OLD\|best:"; echo "ab $((SECONDS-T0)) s"
for r in 1 2 3; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul --define MATMUL_PROLOGUE_ROLLED=1 > /tmp/c.log 2>&1 ); echo "rolled $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -1 /tmp/c.log >> $OUT/compile.log
echo "compile $((SECONDS-T0)) s"
( timeout 90 ncu --clock-control none -k regex:matmul_kernel --launch-skip 3 --launch-count 1 \
  --section SpeedOfLight --section SchedulerStats --section LaunchStats --print-details all \
  --metrics 'regex:^smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio$' \
  build/htune run kernels/h200-logs/call42-one.lua 4096x4096x4096 block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=8,pid_type=persistent_blocked,l2_grouping=1,load_eviction_policies=last:first \
  > $OUT/ncu-addr.txt 2>&1 ); grep -E "stalled_(wait|math|barrier|long|short|mio|not_sel|dispatch)|Duration|Issue Slots|Registers Per|SM Frequency" $OUT/ncu-addr.txt | head -16
echo "total $((SECONDS-T0)) s"
