#!/usr/bin/env bash
# call 40 (tree with the tile order as kernel arguments): the GPU suite (new tile-order tests);
# ab-variants runtime (base) against compiled tile order at 1024^3 and 4096^3; bench-tune 5-s
# runs, cold, with each, at 1024^3 and 4096x1024x1024; the same A/B and 5-s runs for matmul_wgmma.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -5; echo "suite $((SECONDS-T0)) s"
C1="--config block_m=64,block_n=64,block_k=32,num_warps=4,num_stages=4,pid_type=flat,l2_grouping=8
--config block_m=64,block_n=64,block_k=64,num_warps=4,num_stages=3,pid_type=persistent_interleaved,l2_grouping=4
--config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=xyz,l2_grouping=2
--config block_m=64,block_n=128,block_k=64,num_warps=4,num_stages=3,pid_type=persistent_blocked,l2_grouping=16
--config block_m=128,block_n=64,block_k=32,num_warps=4,num_stages=4,pid_type=flat,l2_grouping=1
--config block_m=32,block_n=64,block_k=64,num_warps=2,num_stages=4,pid_type=flat,l2_grouping=4"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 1024x1024x1024 $C1 \
  --variant compiled:tile_order=compiled --rounds 7 > $OUT/ab-order-1024.log 2>&1 ); tail -7 $OUT/ab-order-1024.log
C2="--config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat,l2_grouping=8
--config block_m=256,block_n=128,block_k=32,num_warps=8,num_stages=5,pid_type=persistent_blocked,l2_grouping=2
--config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,pid_type=persistent_interleaved,l2_grouping=16
--config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=xyz,l2_grouping=64"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 $C2 \
  --variant compiled:tile_order=compiled --rounds 5 > $OUT/ab-order-4096.log 2>&1 ); tail -5 $OUT/ab-order-4096.log
C3="--config block_m=64,block_n=128,block_k=128,num_warps=8,num_stages=4,pid_type=flat,l2_grouping=8
--config block_m=128,block_n=128,block_k=64,num_warps=12,num_stages=4,pid_type=persistent_interleaved,l2_grouping=4
--config block_m=128,block_n=64,block_k=64,num_warps=12,num_stages=6,pid_type=flat,l2_grouping=2"
( timeout 90 build/htune run scripts/ab-variants.lua --problem matmul_wgmma --shape 1024x1024x1024 $C3 \
  --variant compiled:tile_order=compiled --rounds 7 > $OUT/ab-order-wg1024.log 2>&1 ); tail -4 $OUT/ab-order-wg1024.log
( timeout 90 build/htune run scripts/ab-variants.lua --problem matmul_wgmma --shape 4096x4096x4096 \
  --config block_m=128,block_n=256,block_k=64,num_warps=12,num_stages=3,pid_type=persistent_interleaved,l2_grouping=16 \
  --config block_m=128,block_n=256,block_k=64,num_warps=12,num_stages=3,pid_type=flat,l2_grouping=8 \
  --variant compiled:tile_order=compiled --rounds 5 > $OUT/ab-order-wg4096.log 2>&1 ); tail -3 $OUT/ab-order-wg4096.log
echo "ab $((SECONDS-T0)) s"
for opt in "" "--opt tile_order=compiled"; do
  tag=${opt:+compiled}; tag=${tag:-runtime}
  ( timeout 60 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 10 --runs 3 $opt > $OUT/tune-1024-$tag.log 2>&1 ); tail -8 $OUT/tune-1024-$tag.log
  ( timeout 50 scripts/bench-tune --problem matmul --M 4096 --N 1024 --K 1024 --seconds 5 --long-seconds 10 --runs 2 $opt > $OUT/tune-4096x1024x1024-$tag.log 2>&1 ); tail -6 $OUT/tune-4096x1024x1024-$tag.log
done
for opt in "" "--opt tile_order=compiled"; do
  tag=${opt:+compiled}; tag=${tag:-runtime}
  ( timeout 50 scripts/bench-tune --problem matmul_wgmma --seconds 5 --long-seconds 10 --runs 2 $opt > $OUT/tune-wg1024-$tag.log 2>&1 ); tail -6 $OUT/tune-wg1024-$tag.log
done
echo "total $((SECONDS-T0)) s"
