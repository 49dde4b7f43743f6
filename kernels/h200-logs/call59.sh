#!/usr/bin/env bash
# call 59: MATMUL_WS_EPI_T=1 as the default: the tma_ws GPU tests (EPI_T=0 among them); 4096^3
# bench-tune with loads=tma_ws (5-s pattern + 25-s portfolio) and 10-s portfolios at the seed's
# gemm shapes, cuBLAS in the same process; bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 150 build/htune run tests/gpu/run.lua matmul_variants tma_ws > $OUT/gpu-ws.log 2>&1 ); tail -1 $OUT/gpu-ws.log; grep -A3 "^FAIL" $OUT/gpu-ws.log | head -12; echo "tests $((SECONDS-T0)) s"
( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --seconds 5 --long-seconds 25 > $OUT/tune-4096-ws.log 2>&1 ); tail -4 $OUT/tune-4096-ws.log
for s in "4096 1024 1024" "1024 4096 1024"; do set -- $s
  ( timeout 40 scripts/bench-tune --problem matmul --M $1 --N $2 --K $3 --opt loads=tma_ws --seconds 5 --long-seconds 10 > $OUT/tune-$1x$2x$3-ws.log 2>&1 ); tail -3 $OUT/tune-$1x$2x$3-ws.log
done
for r in 1 2; do
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
