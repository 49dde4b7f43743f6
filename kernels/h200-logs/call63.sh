#!/usr/bin/env bash
# call 63: the whole GPU suite at the session's last kernel change (stream-K, the restructured
# persistent loops); bench-tune with --opt loads=tma_ws,stream_k=true (the tuner picks stream_k
# per config) at 4096^3 (5-s pattern + 25-s portfolio) and at 2176x2048x8192 with and without it
# (5 + 10 s), cuBLAS in the same process; bench-compile cold once (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 400 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -A3 "^FAIL" $OUT/gpu-tests.log | head -12; echo "suite $((SECONDS-T0)) s"
( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws,stream_k=true --seconds 5 --long-seconds 25 > $OUT/tune-4096-sk.log 2>&1 ); tail -3 $OUT/tune-4096-sk.log
for o in loads=tma_ws loads=tma_ws,stream_k=true; do
  ( timeout 45 scripts/bench-tune --problem matmul --M 2176 --N 2048 --K 8192 --opt $o --seconds 5 --long-seconds 10 > $OUT/tune-2176x2048x8192-${o//[=,]/_}.log 2>&1 ); tail -3 $OUT/tune-2176x2048x8192-${o//[=,]/_}.log
done
( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
echo "total $((SECONDS-T0)) s"
