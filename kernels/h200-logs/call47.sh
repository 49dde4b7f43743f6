#!/usr/bin/env bash
# call 47 (MATMUL_ADDR=1: copy and ldmatrix addresses as per-thread bases + offsets, 7184f9c):
# the GPU suite with its ADDR variants (a K != N dividing shape among them); ab-define of ADDR on
# the H200 1024^3 table; ab-variants at 4096^3 on call 43's seven large tiles with a control;
# bench-compile cold on 16 threads, default and ADDR alternated, twice.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -8; echo "suite $((SECONDS-T0)) s"
( timeout 100 scripts/ab-define --define MATMUL_ADDR=1 --from data/matmul-h200.replay.gz --out /tmp/ab-addr > $OUT/ab-addr-1024.log 2>&1 ); grep -A3 "against the default\|against itself" $OUT/ab-addr-1024.log | grep "NEW/OLD"; echo "ab1024 $((SECONDS-T0)) s"
F="pid_type=flat,l2_grouping=8"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,$F,load_eviction_policies=:first \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=5,$F \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=6,$F \
  --config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=5,pid_type=persistent_blocked,l2_grouping=2 \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=3,$F \
  --variant addr:MATMUL_ADDR=1 --variant again:MATMUL_ADDR=0 --rounds 5 > $OUT/ab-addr-4096.log 2>&1 ); tail -10 $OUT/ab-addr-4096.log
echo "ab4096 $((SECONDS-T0)) s"
for r in 1 2; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul --define MATMUL_ADDR=1 > /tmp/c.log 2>&1 ); echo "addr $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
head -1 /tmp/c.log >> $OUT/compile.log
echo "total $((SECONDS-T0)) s"
