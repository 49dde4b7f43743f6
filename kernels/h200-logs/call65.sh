#!/usr/bin/env bash
# call 65: after the review mends (the live backend's worker task built in one place, used by
# its trials and by bench-gate's and clock-probe's b:kernel_task / b:run_task): clock-probe
# once, bench-gate once, a 5-s bench-tune at 1024^3, the worker GPU tests.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
T0=$SECONDS
( timeout 60 build/htune run scripts/clock-probe.lua --problem matmul --shape 4096x4096x4096 --opt loads=tma_ws \
  --config block_m=128,block_n=256,block_k=128,num_warps=8,num_stages=2,pid_type=persistent_blocked,l2_grouping=8 --reps 1 --ms 1000 > $OUT/clock.log 2>&1 ); cat $OUT/clock.log
( timeout 90 build/htune run scripts/bench-gate.lua --reps 1 > $OUT/gate.log 2>&1 ); tail -9 $OUT/gate.log
( timeout 40 scripts/bench-tune --problem matmul --M 1024 --N 1024 --K 1024 --seconds 5 --long-seconds 5 > $OUT/tune-1024.log 2>&1 ); tail -3 $OUT/tune-1024.log
( timeout 120 build/htune run tests/gpu/run.lua worker > $OUT/gpu-worker.log 2>&1 ); tail -1 $OUT/gpu-worker.log
echo "total $((SECONDS-T0)) s"
