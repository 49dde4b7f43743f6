#!/usr/bin/env bash
# call 31: Nsight Compute on cuBLAS's 1024^3 kernel and on matmul_wgmma's best 1024^3 config
# (ran as build-wgmma/call31.sh from the repository root, with build-wgmma/wgbench built by nvcc here)
# (kernel durations without launch gaps, launch shape, cluster size, stall reasons).
cd "$(dirname "$0")/.."
S="--section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis"
export WGBENCH_ONLY="tma 64x128x128"
( timeout 200 ncu --clock-control none -k regex:'gemm|xmma|cutlass|sm90' --launch-count 2 $S build-wgmma/wgbench quick > $OUT/ncu-cublas.txt 2>&1 ); grep -E "^  [a-zA-Z_]|Duration|Cluster|Grid Size|Block Size|Registers" $OUT/ncu-cublas.txt | head -30
( timeout 200 ncu --clock-control none -k regex:'matmul_wgmma_tma' --launch-skip 2 --launch-count 2 $S build-wgmma/wgbench quick > $OUT/ncu-wgmma.txt 2>&1 ); grep -E "^  [a-zA-Z_]|Duration|Cluster|Grid Size|Block Size|Registers" $OUT/ncu-wgmma.txt | head -30
ls -la $OUT
