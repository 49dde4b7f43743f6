#!/usr/bin/env bash
# call 64: after for_units (the producer's and the consumers' walk over whole tiles and stream-K
# pieces is one function; the 8-warp tma_ws cubins are byte-identical, two 4-warp ones and the
# split kernel changed): the tma_ws GPU tests (stream_k among them); ab-variants of the 4096^3
# best and a split tile (5 rounds, a control); bench-compile cold once (#4).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 300 build/htune run tests/gpu/run.lua matmul_variants tma_ws > $OUT/gpu-ws.log 2>&1 ); tail -1 $OUT/gpu-ws.log; grep -A3 "^FAIL" $OUT/gpu-ws.log | head -12; echo "tests $((SECONDS-T0)) s"
( timeout 100 build/htune run scripts/ab-variants.lua --problem matmul --shape 2176x2048x8192 --opt loads=tma_ws,stream_k=true \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,l2_grouping=8 \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,pid_type=persistent_blocked,l2_grouping=8 \
  --variant sk:stream_k=1 --variant again:MATMUL_WS_EPI_T=1 --rounds 5 > $OUT/ab-sk-2176.log 2>&1 ); tail -3 $OUT/ab-sk-2176.log
( timeout 50 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 ); echo "default: $(grep cold /tmp/c.log | head -1)" | tee -a $OUT/compile.log
echo "total $((SECONDS-T0)) s"
