#!/usr/bin/env bash
# call 34: the session's last tree: GPU suite; the quick-start example live (what `make run`
# runs after building); bench-tune wgmma 1024^3 --runs 5 from the shape-aware default; wgbench quick.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 200 tests/run --gpu-only > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log
( timeout 120 build/htune run examples/quickstart.lua > $OUT/quickstart.log 2>&1 ); tail -8 $OUT/quickstart.log
( timeout 130 scripts/bench-tune --problem matmul_wgmma --seconds 5 --long-seconds 40 --runs 5 > $OUT/tune-wg1024.log 2>&1 ); tail -8 $OUT/tune-wg1024.log
( timeout 60 build-wgmma/wgbench quick > $OUT/wgbench.log 2>&1 ); sed -n '/summary/,$p' $OUT/wgbench.log
