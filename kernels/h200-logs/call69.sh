#!/usr/bin/env bash
# call 69 (#6, #4) on an H100 host, the issue's machine (the targets' figures so far are the
# H200's): bench-tune of every issue-6 workload, each 5-s cold pattern run then a longer
# portfolio, cuBLAS or the device copy timed in the same process: matmul_wgmma 1024^3 and
# 4096^3, mma.sync (loads = tma_ws) 4096^3, mma.sync 1024^3, the seed's gemm shapes with
# wgmma, softmax 4096x256 and 8192x8192 (whose default config was invalid until this tree);
# bench-compile cold once.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
nvidia-smi --query-gpu=name,driver_version,clocks.max.sm,power.limit,temperature.gpu --format=csv,noheader
T0=$SECONDS
tune() {  # $1 log name, $2 timeout, rest: bench-tune args
  local name=$1 t=$2; shift 2
  ( timeout $t scripts/bench-tune "$@" > $OUT/tune-$name.log 2>&1 )
  echo "== $name rc $? ($((SECONDS-T0)) s)"; grep -E 'run B|best known|run A seed|runs A' $OUT/tune-$name.log | cut -c1-400
}
tune wg-1024 60 --problem matmul_wgmma --M 1024 --N 1024 --K 1024 --seconds 5 --long-seconds 25
tune wg-4096 75 --problem matmul_wgmma --M 4096 --N 4096 --K 4096 --seconds 5 --long-seconds 25
tune ws-4096 75 --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws --seconds 5 --long-seconds 25
tune mm-1024 55 --problem matmul --M 1024 --N 1024 --K 1024 --seconds 5 --long-seconds 20
tune wg-4096x1024x1024 40 --problem matmul_wgmma --M 4096 --N 1024 --K 1024 --seconds 5 --long-seconds 10
tune wg-1024x4096x1024 40 --problem matmul_wgmma --M 1024 --N 4096 --K 1024 --seconds 5 --long-seconds 10
tune sm-4096x256 45 --problem softmax --rows 4096 --cols 256 --seconds 5 --long-seconds 15
tune sm-8192x8192 45 --problem softmax --rows 8192 --cols 8192 --seconds 5 --long-seconds 15
( timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > $OUT/compile.log 2>&1 )
echo "compile: $(grep -E '^[0-9]+ +[0-9]+ +cold' $OUT/compile.log | head -1)"
echo "total $((SECONDS-T0)) s"
