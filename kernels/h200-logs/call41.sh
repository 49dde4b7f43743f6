#!/usr/bin/env bash
# call 41: the wgmma TMA GPU tests (with the fixed every-order sweep); A/B of the tile order as
# arguments (base) against compiled in, with a control variant equal to the base (noise), on
# matmul_wgmma 1024^3 and matmul 4096^3.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 120 build/htune run tests/gpu/run.lua wgmma_tma > $OUT/gpu-wgmma-tma.log 2>&1 ); tail -1 $OUT/gpu-wgmma-tma.log; grep -i "FAIL\|configs," $OUT/gpu-wgmma-tma.log | head -8; echo "tests $((SECONDS-T0)) s"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul_wgmma --shape 1024x1024x1024 \
  --config block_m=64,block_n=128,block_k=128,num_warps=8,num_stages=4,pid_type=flat,l2_grouping=8 \
  --config block_m=64,block_n=128,block_k=128,num_warps=8,num_stages=4,pid_type=persistent_interleaved,l2_grouping=2 \
  --config block_m=128,block_n=128,block_k=64,num_warps=12,num_stages=4,pid_type=persistent_interleaved,l2_grouping=4 \
  --config block_m=128,block_n=64,block_k=64,num_warps=12,num_stages=6,pid_type=flat,l2_grouping=2 \
  --variant compiled:tile_order=compiled --variant again:tile_order=runtime --rounds 11 > $OUT/ab-order-wg1024.log 2>&1 ); tail -5 $OUT/ab-order-wg1024.log
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat,l2_grouping=8 \
  --config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=5,pid_type=persistent_blocked,l2_grouping=2 \
  --variant compiled:tile_order=compiled --variant again:tile_order=runtime --rounds 7 > $OUT/ab-order-4096.log 2>&1 ); tail -3 $OUT/ab-order-4096.log
echo "total $((SECONDS-T0)) s"
