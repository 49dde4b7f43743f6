#!/usr/bin/env bash
# call 39 (tree 9926908: XSTAGE + EPI_SMEM from products of 2^32): the GPU suite; bench-tune at
# the seed's gemm shapes with the new default and with both macros off; scripts/compare live, 1
# seed, packed for --publish-from; ncu of call 37's fastest 4096^3 config with the default.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nvidia-smi --query-gpu=name,driver_version,clocks.sm,temperature.gpu --format=csv,noheader
T0=$SECONDS
( timeout 170 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1 ); tail -1 $OUT/gpu-tests.log; grep -i "not ok\|FAIL" $OUT/gpu-tests.log | head -5; echo "suite $((SECONDS-T0)) s"
for s in 4096x1024x1024 1024x4096x1024; do
  IFS=x read M N K <<< "$s"
  ( timeout 50 scripts/bench-tune --problem matmul --M $M --N $N --K $K --seconds 5 --long-seconds 15 > $OUT/tune-$s-default.log 2>&1 ); tail -4 $OUT/tune-$s-default.log
  ( timeout 50 scripts/bench-tune --problem matmul --M $M --N $N --K $K --define MATMUL_XSTAGE=0,MATMUL_EPI_SMEM=0 --seconds 5 --long-seconds 15 > $OUT/tune-$s-off.log 2>&1 ); tail -4 $OUT/tune-$s-off.log
done
echo "tunes $((SECONDS-T0)) s"
( timeout 200 scripts/compare --backend live --seconds 3 --seeds 1 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); grep "^| matmul\|^| gemm\|^| softmax_4096x256 | pattern\|total" $OUT/compare.log | head -30
tar czf $OUT/cmp.tgz -C /tmp cmp
echo "compare $((SECONDS-T0)) s"
( timeout 90 ncu --clock-control none -k regex:matmul_kernel --launch-skip 3 --launch-count 1 \
  --section SpeedOfLight --section WarpStateStats --section SchedulerStats --section ComputeWorkloadAnalysis \
  --section MemoryWorkloadAnalysis --section Occupancy --section LaunchStats --section InstructionStats \
  build/htune run kernels/h200-logs/call37-one.lua 4096x4096x4096 block_m=128,block_n=256,block_k=32,num_warps=8,num_stages=4,pid_type=flat \
  > $OUT/ncu-best4096.txt 2>&1 ); grep -E "Duration|Issue Slots Busy|Eligible Warps|Registers Per|No Eligible|Shared Memory" $OUT/ncu-best4096.txt | head -12
echo "total $((SECONDS-T0)) s"
