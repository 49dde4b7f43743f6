#!/usr/bin/env bash
# call 46: call 45 again with bench-compile's --opt fixed (fc6241f; in call 45 it reached no job, so both
# series timed the default). Is call 44's 66.55 configs/s cold the tile order as arguments (whose distinct compile
# jobs are another sample of the space) or the host? bench-compile 200 configs on 16 threads,
# default and --opt tile_order=compiled (the job sample of calls 36-38), alternated, 3 each.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
T0=$SECONDS
for r in 1 2 3; do
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a > $OUT/compile-runtime-$r.log 2>&1 ); grep "cold" $OUT/compile-runtime-$r.log | head -1
  ( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --opt tile_order=compiled > $OUT/compile-compiled-$r.log 2>&1 ); grep "cold" $OUT/compile-compiled-$r.log | head -1
done
echo "total $((SECONDS-T0)) s"
