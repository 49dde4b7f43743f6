#!/usr/bin/env bash
# call 51: MATMUL_PROLOGUE_ROLLED now follows MATMUL_ADDR (on for dividing shapes), and the first
# TMA-fed mma.sync kernels (spec.lua opts.loads = "tma" and "tma_ws", matmul_tma_kernel WS 0/1):
# the GPU suite (its ROLLED=0 variants and the TMA cases); ab-variants at 4096^3 on the best
# tiles, rolled against unrolled (control included), and cp.async against TMA and TMA with a
# producer warpgroup on 64-deep tiles; 30-s tunes at 4096^3 with --opt loads=tma and tma_ws;
# bench-compile cold, the default (ROLLED now) twice and TMA configs once.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 230 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -8; grep -A12 "loads=tma" $OUT/gpu-tests.log | grep "us$" | head -12; echo "suite $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=1"
( timeout 100 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=8,$F,load_eviction_policies=last:first \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=6,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --variant unrolled:MATMUL_PROLOGUE_ROLLED=0 --variant again:MATMUL_PROLOGUE_ROLLED=1 --rounds 3 > $OUT/ab-rolled-4096.log 2>&1 ); tail -6 $OUT/ab-rolled-4096.log
echo "ab rolled $((SECONDS-T0)) s"
( timeout 130 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=4,pid_type=flat,l2_grouping=8 \
  --config block_m=128,block_n=128,block_k=128,num_warps=8,num_stages=3,$F \
  --variant tma:loads=tma --variant ws:loads=tma_ws --rounds 5 > $OUT/ab-tma-4096.log 2>&1 ); tail -8 $OUT/ab-tma-4096.log
echo "ab tma $((SECONDS-T0)) s"
for l in tma tma_ws; do
( timeout 75 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=$l --seconds 5 --long-seconds 30 > $OUT/tune-4096-$l.log 2>&1 ); tail -4 $OUT/tune-4096-$l.log
done
echo "tune $((SECONDS-T0)) s"
for r in 1 2; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -1 /tmp/c.log >> $OUT/compile.log
( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul --opt loads=tma > $OUT/compile-tma.log 2>&1 ); grep cold $OUT/compile-tma.log | head -2
echo "total $((SECONDS-T0)) s"
