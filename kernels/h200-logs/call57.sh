#!/usr/bin/env bash
# call 57: call 56's tma_ws diagnostics again, now that opts.check = false reaches the worker
# (53471df; in call 56 every diagnostic variant was checked and so dropped as wrong):
# ab-variants --no-check at 4096^3 (MATMUL_WS_NOLOAD: no copies; NOMMA: no mma; NOEPI: no store
# of C; clusters of 2 with and without copies); ncu of the HMMA pipe without copies and without
# the epilogue; bench-compile cold three times (#4), the load around each run.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 200 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws,clusters=true --no-check \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,$F \
  --variant nl:MATMUL_WS_NOLOAD=1 --variant nm:MATMUL_WS_NOMMA=1 --variant ne:MATMUL_WS_NOEPI=1 \
  --variant nlne:MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1 --variant cl2:cluster=2 --variant cl2nl:cluster=2,MATMUL_WS_NOLOAD=1 \
  --rounds 3 > $OUT/ab-parts-4096.log 2>&1 ); tail -5 $OUT/ab-parts-4096.log
echo "ab $((SECONDS-T0)) s"
C=block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F
for v in "nl MATMUL_WS_NOLOAD=1" "ne MATMUL_WS_NOEPI=1"; do set -- $v
  ( timeout 60 ncu --clock-control none -k regex:matmul_tma --launch-skip 3 --launch-count 1 \
    --metrics sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,lts__t_bytes.sum.per_second,gpu__time_duration.sum \
    build/htune run kernels/h200-logs/call53-one.lua 4096x4096x4096 $C loads=tma_ws $2 > $OUT/ncu-$1.txt 2>&1 ); echo "$1:"; grep -E "hmma|lts__t_bytes|gpu__time" $OUT/ncu-$1.txt | head -4
done
echo "ncu $((SECONDS-T0)) s"
for r in 1 2 3; do
  echo "run $r load before: $(cat /proc/loadavg)" >> $OUT/compile-env.log
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -1 /tmp/c.log >> $OUT/compile.log
cat $OUT/compile-env.log
echo "total $((SECONDS-T0)) s"
