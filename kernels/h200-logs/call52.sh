#!/usr/bin/env bash
# call 52: tma_ws with the empty-barrier arrive after the k-tile's last mma (call 51's wrong
# tiles on 8-warp 64-deep persistent configs), the prologue unrolled again under the multistage
# loop, the TMA space's default valid (call 51's tunes found no config: the default had block_k
# 32). The matmul variants' GPU tests; ab-variants at 4096^3 of the cp.async best against TMA
# tiles; 30-s tunes at 4096^3 with loads=tma_ws and loads=tma;
# bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 120 build/htune run tests/gpu/run.lua matmul_variants > $OUT/gpu-variants.log 2>&1 ); tail -1 $OUT/gpu-variants.log; grep -i "^FAIL" $OUT/gpu-variants.log | head -8; echo "variants $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=1"
( timeout 110 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=128,num_warps=8,num_stages=3,$F \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=8,num_stages=6,$F \
  --variant tma:loads=tma --variant ws:loads=tma_ws --rounds 3 > $OUT/ab-tma-4096.log 2>&1 ); tail -7 $OUT/ab-tma-4096.log
echo "ab $((SECONDS-T0)) s"
for l in tma_ws tma; do
( timeout 60 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=$l --seconds 5 --long-seconds 25 > $OUT/tune-4096-$l.log 2>&1 ); tail -4 $OUT/tune-4096-$l.log
done
for r in 1 2; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
