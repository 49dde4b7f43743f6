#!/usr/bin/env bash
# call 55: the whole GPU suite at the session's last kernel change (MATMUL_WS2 the default,
# clusters, the tests' config helper); 15-s tunes with loads=tma_ws at the seed's gemm shapes;
# bench-compile cold twice (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 300 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -A3 "^FAIL" $OUT/gpu-tests.log | head -12; echo "suite $((SECONDS-T0)) s"
for s in "4096 1024 1024" "1024 4096 1024"; do set -- $s
  ( timeout 40 scripts/bench-tune --problem matmul --M $1 --N $2 --K $3 --opt loads=tma_ws --seconds 5 --long-seconds 10 > $OUT/tune-$1x$2x$3-ws.log 2>&1 ); tail -4 $OUT/tune-$1x$2x$3-ws.log
done
for r in 1 2; do
  ( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default $r: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
done
echo "total $((SECONDS-T0)) s"
