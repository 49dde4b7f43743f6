#!/usr/bin/env bash
# call 32: matmul_wgmma variants A/B (lean producer, tensor-map prefetch, shared-memory epilogue).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
( timeout 300 build/htune run kernels/h200-logs/call32-ab-wgmma.lua --variant lean:WGMMA_LEAN_PRODUCER=1 --variant pref:WGMMA_PREFETCH_TMAP=1 --variant epi:WGMMA_EPI_SMEM=1 --variant all:WGMMA_LEAN_PRODUCER=1,WGMMA_PREFETCH_TMAP=1,WGMMA_EPI_SMEM=1 > $OUT/ab-wgmma.log 2>&1 ); cat $OUT/ab-wgmma.log | tail -16
