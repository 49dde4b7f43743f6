#!/usr/bin/env bash
# call 58: MATMUL_WS_EPI_T=1 (tma_ws stores C as quad-transposed 16-byte stores; call 57 put the
# epilogue at ~9% of the 4096^3 best): its GPU tests; ab-variants at 4096^3 and 4096x1024x1024
# against the default (checked, 5 rounds, a control variant); a 4096^3 bench-tune with it
# (5-s pattern + 25-s portfolio, cuBLAS in the same process).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 120 build/htune run tests/gpu/run.lua matmul_variants EPI_T > $OUT/gpu-epit.log 2>&1 ); tail -1 $OUT/gpu-epit.log; grep -A3 "^FAIL" $OUT/gpu-epit.log | head -12; echo "tests $((SECONDS-T0)) s"
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 120 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,$F \
  --variant et:MATMUL_WS_EPI_T=1 --variant again:MATMUL_WS_EPI_T=0 --rounds 5 > $OUT/ab-epit-4096.log 2>&1 ); tail -5 $OUT/ab-epit-4096.log
( timeout 60 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x1024x1024 --opt loads=tma_ws \
  --config block_m=128,block_n=64,block_k=64,num_warps=4,num_stages=4,pid_type=persistent_blocked \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,pid_type=persistent_blocked \
  --variant et:MATMUL_WS_EPI_T=1 --variant again:MATMUL_WS_EPI_T=0 --rounds 5 > $OUT/ab-epit-4096x1024.log 2>&1 ); tail -3 $OUT/ab-epit-4096x1024.log
echo "ab $((SECONDS-T0)) s"
( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --define MATMUL_WS_EPI_T=1 --seconds 5 --long-seconds 25 > $OUT/tune-4096-epit.log 2>&1 ); tail -4 $OUT/tune-4096-epit.log
echo "total $((SECONDS-T0)) s"
