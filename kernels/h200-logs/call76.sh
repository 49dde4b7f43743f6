#!/usr/bin/env bash
# call 76 (#6): scripts/power-parts at 4096^3 with mma_peak (the decomposition of calls 72-75 as
# one benchmark), then the whole GPU suite on the session's last kernel tree.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 150 scripts/power-parts --mma-peak ../mma_peak --out $OUT/power > $OUT/power-parts.log 2>&1 ); cat $OUT/power-parts.log
echo "power-parts $((SECONDS-T0)) s"
( timeout 400 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -A3 "^FAIL" $OUT/gpu-tests.log | head -20
echo "total $((SECONDS-T0)) s"
