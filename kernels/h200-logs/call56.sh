#!/usr/bin/env bash
# call 56: (#4) MATMUL_COPY_ROLLED=1 (copy_even's loops rolled: 0.82-0.86x the compile time on
# the dev machine): its GPU tests, ab-define on the H200 1024^3 table, ab-variants on cp.async 4096^3 tiles
# (the multistage loop), bench-compile cold alternated with the default three times, with the
# host's CPU facts, load and cgroup throttling around each run (why some runs are slow).
# (#6) where the tma_ws 4096^3 kernel's time goes: ab-variants --no-check with the diagnostic
# macros (MATMUL_WS_NOLOAD: no copies; NOMMA: no mma; NOEPI: no store of C) and clusters of 2
# with and without copies; ncu of the HMMA pipe with and without copies.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 120 build/htune run tests/gpu/run.lua matmul_variants COPY_ROLLED > $OUT/gpu-copyrolled.log 2>&1 ); tail -1 $OUT/gpu-copyrolled.log; grep -A3 "^FAIL" $OUT/gpu-copyrolled.log | head -12; echo "tests $((SECONDS-T0)) s"
( timeout 100 scripts/ab-define --define MATMUL_COPY_ROLLED=1 --from data/matmul-h200.replay.gz --out /tmp/ab-cr > $OUT/ab-copyrolled-1024.log 2>&1 ); grep -A3 "against the default\|against itself" $OUT/ab-copyrolled-1024.log | grep "NEW/OLD\|best:"; echo "ab-define $((SECONDS-T0)) s"
G="pid_type=persistent_blocked,l2_grouping=1"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=8,$G,load_eviction_policies=last:first \
  --config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=5,$G \
  --config block_m=128,block_n=128,block_k=64,num_warps=8,num_stages=4,$G \
  --config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,$G \
  --variant cr:MATMUL_COPY_ROLLED=1 --variant again:MATMUL_COPY_ROLLED=0 --rounds 5 > $OUT/ab-copyrolled-4096.log 2>&1 ); tail -5 $OUT/ab-copyrolled-4096.log
echo "ab 4096 $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 200 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws,clusters=true --no-check \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --variant nl:MATMUL_WS_NOLOAD=1 --variant nm:MATMUL_WS_NOMMA=1 --variant ne:MATMUL_WS_NOEPI=1 \
  --variant nlne:MATMUL_WS_NOLOAD=1,MATMUL_WS_NOEPI=1 --variant cl2:cluster=2 --variant cl2nl:cluster=2,MATMUL_WS_NOLOAD=1 \
  --rounds 3 > $OUT/ab-parts-4096.log 2>&1 ); tail -4 $OUT/ab-parts-4096.log
echo "ab $((SECONDS-T0)) s"
C=block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F
for v in "base loads=tma_ws" "nl loads=tma_ws MATMUL_WS_NOLOAD=1"; do set -- $v
  ( timeout 60 ncu --clock-control none -k regex:matmul_tma --launch-skip 3 --launch-count 1 \
    --metrics sm__pipe_tensor_op_hmma_cycles_active.avg.pct_of_peak_sustained_active,lts__t_bytes.sum.per_second,gpu__time_duration.sum \
    build/htune run kernels/h200-logs/call53-one.lua 4096x4096x4096 $C $2 $3 > $OUT/ncu-$1.txt 2>&1 ); echo "$1:"; grep -E "hmma|lts__t_bytes|gpu__time" $OUT/ncu-$1.txt | head
done
echo "ncu $((SECONDS-T0)) s"
{ nproc; lscpu | grep -E "Model name|^CPU\(s\)|Thread|Core|Socket|MHz|NUMA node\(s\)"; cat /sys/fs/cgroup/cpu.max 2>/dev/null; } > $OUT/host.txt 2>&1; cat $OUT/host.txt
for r in 1 2 3; do
  for v in default rolled; do
    D=""; [ $v = rolled ] && D="--define MATMUL_COPY_ROLLED=1"
    { echo "$v $r load before: $(cat /proc/loadavg)"; grep -E "nr_throttled|throttled_usec" /sys/fs/cgroup/cpu.stat 2>/dev/null | tr '\n' ' '; echo; } >> $OUT/compile-env.log
    ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul $D > /tmp/c.log 2>&1 ); echo "$v $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
  done
done
{ echo "after: $(cat /proc/loadavg)"; grep -E "nr_throttled|throttled_usec" /sys/fs/cgroup/cpu.stat 2>/dev/null | tr '\n' ' '; echo; } >> $OUT/compile-env.log
head -1 /tmp/c.log >> $OUT/compile.log
cat $OUT/compile-env.log
echo "total $((SECONDS-T0)) s"
