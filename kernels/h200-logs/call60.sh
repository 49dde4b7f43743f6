#!/usr/bin/env bash
# call 60: MATMUL_WS_LAG (the second consumer warpgroup starts each tile L k-tiles after the first,
# so the two epilogues do not idle the tensor pipe together): its GPU tests and the persistent
# tests on shapes with several tiles a block; ab-variants at 4096^3 (checked, 5 rounds, a
# control); a 4096^3 bench-tune with MATMUL_WS_LAG=1 (5-s pattern + 25-s portfolio, cuBLAS in
# the same process).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
F="pid_type=persistent_blocked,l2_grouping=8"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=3,$F \
  --variant lag1:MATMUL_WS_LAG=1 --variant lag2:MATMUL_WS_LAG=2 --variant lag3:MATMUL_WS_LAG=3 --variant again:MATMUL_WS_LAG=0 \
  --rounds 5 > $OUT/ab-lag-4096.log 2>&1 ); tail -6 $OUT/ab-lag-4096.log
echo "ab $((SECONDS-T0)) s"
( timeout 150 build/htune run tests/gpu/run.lua matmul_variants LAG > $OUT/gpu-lag.log 2>&1 ); tail -1 $OUT/gpu-lag.log; grep -A3 "^FAIL" $OUT/gpu-lag.log | head -12
( timeout 100 build/htune run tests/gpu/run.lua matmul_variants several > $OUT/gpu-several.log 2>&1 ); tail -1 $OUT/gpu-several.log; grep -A3 "^FAIL" $OUT/gpu-several.log | head -12
echo "tests $((SECONDS-T0)) s"
( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --define MATMUL_WS_LAG=1 --seconds 5 --long-seconds 25 > $OUT/tune-4096-lag1.log 2>&1 ); tail -4 $OUT/tune-4096-lag1.log
echo "total $((SECONDS-T0)) s"
