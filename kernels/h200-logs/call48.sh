#!/usr/bin/env bash
# call 48: MATMUL_ADDR on by default on dividing shapes (per_thread fix of call 47's faults): the
# GPU suite; 30-s tunes at 4096^3 with it and with --define MATMUL_ADDR=0; ab-variants at the
# seed's gemm shapes (control included); bench-compile cold on 16 threads (batch 2, 4, 8, then
# batch 4 twice).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 220 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -8; echo "suite $((SECONDS-T0)) s"
( timeout 75 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 30 > $OUT/tune-4096.log 2>&1 ); tail -4 $OUT/tune-4096.log
( timeout 75 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --define MATMUL_ADDR=0 --seconds 5 --long-seconds 30 >> $OUT/tune-4096.log 2>&1 ); tail -4 $OUT/tune-4096.log
echo "tunes $((SECONDS-T0)) s"
F="pid_type=flat,l2_grouping=8"
for s in 4096x1024x1024 1024x4096x1024; do
( timeout 90 build/htune run scripts/ab-variants.lua --problem matmul --shape $s \
  --config block_m=128,block_n=128,block_k=32,num_warps=4,num_stages=4,pid_type=xyz,l2_grouping=64,loop_order=1:0 \
  --config block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=persistent_interleaved,l2_grouping=64,loop_order=1:0 \
  --config block_m=128,block_n=128,block_k=32,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --variant noaddr:MATMUL_ADDR=0 --variant again:MATMUL_ADDR=1 --rounds 7 >> $OUT/ab-gemm.log 2>&1 ); tail -5 $OUT/ab-gemm.log
done
echo "ab gemm $((SECONDS-T0)) s"
( timeout 90 scripts/bench-compile --configs 200 --threads 16 --batch 2,4,8 --arch sm_90a --kernel matmul > $OUT/compile.log 2>&1 ); grep cold $OUT/compile.log
for r in 1 2; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul >> $OUT/compile.log 2>&1 ); grep cold $OUT/compile.log | tail -1
done
echo "total $((SECONDS-T0)) s"
