#!/usr/bin/env bash
# call 61: stream-K for tma_ws (opts.stream_k: matmul_tma_sk_kernel splits the last, partial
# round of tiles by k-tiles over every persistent block): its GPU tests; ab-variants at 4096^3
# against the same tiles unsplit (checked, 5 rounds, a control); a 4096^3 bench-tune with
# --opt loads=tma_ws,stream_k=true (5-s pattern + 25-s portfolio, cuBLAS in the same process);
# the tma_ws GPU tests (the persistent loop was restructured: non-SK cubins changed too).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 200 build/htune run tests/gpu/run.lua matmul_variants stream_k > $OUT/gpu-sk.log 2>&1 ); tail -1 $OUT/gpu-sk.log; grep -A3 "^FAIL" $OUT/gpu-sk.log | head -16
echo "sk tests $((SECONDS-T0)) s"
F="l2_grouping=8"
( timeout 150 build/htune run scripts/ab-variants.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,$F \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_interleaved,$F \
  --config block_m=128,block_n=256,block_k=64,num_warps=8,num_stages=4,pid_type=persistent_blocked,$F \
  --config block_m=256,block_n=128,block_k=64,num_warps=8,num_stages=4,pid_type=persistent_interleaved,$F \
  --config block_m=128,block_n=128,block_k=64,num_warps=4,num_stages=3,pid_type=persistent_blocked,$F \
  --variant sk:stream_k=true --variant again:MATMUL_WS_EPI_T=1 --rounds 5 > $OUT/ab-sk-4096.log 2>&1 ); tail -7 $OUT/ab-sk-4096.log
echo "ab $((SECONDS-T0)) s"
( timeout 70 scripts/bench-tune --problem matmul --M 4096 --N 4096 --K 4096 --opt loads=tma_ws,stream_k=true --seconds 5 --long-seconds 25 > $OUT/tune-4096-sk.log 2>&1 ); tail -4 $OUT/tune-4096-sk.log
echo "tune $((SECONDS-T0)) s"
( timeout 200 build/htune run tests/gpu/run.lua matmul_variants tma_ws > $OUT/gpu-ws.log 2>&1 ); tail -1 $OUT/gpu-ws.log; grep -A3 "^FAIL" $OUT/gpu-ws.log | head -12
echo "total $((SECONDS-T0)) s"
