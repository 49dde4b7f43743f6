#!/usr/bin/env bash
# call 36: GPU suite (matmul macro variants included); ab-define of MATMUL_PROLOGUE_ROLLED,
# MATMUL_EPI_SMEM, MATMUL_XSTAGE on the H200 1024^3 table; ab-variants at 4096^3 on six
# large tiles; bench-compile cold, default against MATMUL_PROLOGUE_ROLLED=1, alternated.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
( timeout 240 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -3 $OUT/gpu-tests.log
for d in MATMUL_PROLOGUE_ROLLED=1 MATMUL_EPI_SMEM=1 MATMUL_XSTAGE=1; do
  ( timeout 90 scripts/ab-define --define $d --from data/matmul-h200.replay.gz --out /tmp/ab-$d > $OUT/ab-$d.log 2>&1 ); grep -A3 "against the default\|against itself" $OUT/ab-$d.log | grep "NEW/OLD"
done
C="--config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,pid_type=persistent_interleaved
--config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,pid_type=flat
--config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=3,pid_type=flat
--config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat
--config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,pid_type=flat
--config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=flat"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 $C \
  --variant epi:MATMUL_EPI_SMEM=1 --variant xstage:MATMUL_XSTAGE=1 --variant both:MATMUL_XSTAGE=1,MATMUL_EPI_SMEM=1 \
  --variant rolled:MATMUL_PROLOGUE_ROLLED=1 > $OUT/ab-variants-4096.log 2>&1 ); tail -8 $OUT/ab-variants-4096.log
for r in 1 2; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a > $OUT/compile-default-$r.log 2>&1 ); grep cold $OUT/compile-default-$r.log | head -1
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --define MATMUL_PROLOGUE_ROLLED=1 > $OUT/compile-rolled-$r.log 2>&1 ); grep cold $OUT/compile-rolled-$r.log | head -1
done
( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --define MATMUL_PROLOGUE_ROLLED=1 --define MATMUL_XSTAGE=1 > $OUT/compile-rolled-xstage.log 2>&1 ); grep cold $OUT/compile-rolled-xstage.log | head -1
