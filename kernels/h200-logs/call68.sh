#!/usr/bin/env bash
# call 68 (#4, then everything): huge-page libnvrtc as the default, timed against HTUNE_HUGE_TEXT=0
# in five alternated pairs (bench-compile cold, 16 threads, batch 4) and two serial pairs
# (1 thread, 24 configs); NVRTC's own cache (the driver's compute cache, in a fresh
# CUDA_CACHE_PATH a row, so every compile is a miss that writes an entry) against --no-cache, the
# default since this tree, in three 16-thread pairs and one serial pair; then the whole GPU suite.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
T0=$SECONDS
row() {  # $1 label, $2 env, rest: bench-compile args
  local label=$1 e=$2; shift 2
  echo "== $label $e load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/compile.log
  ( env $e timeout 90 scripts/bench-compile "$@" > /tmp/c.log 2>&1 )
  grep -E 'driver compute cache|huge pages|cold' /tmp/c.log >> $OUT/compile.log
  echo "$label ${e:-default} $(grep -E '^[0-9]+ +[0-9]+ +cold' /tmp/c.log | head -1)"
}
for r in 1 2 3 4 5; do
  if [ $((r % 2)) = 1 ]; then a="HTUNE_HUGE_TEXT=0"; b=""; else a=""; b="HTUNE_HUGE_TEXT=0"; fi
  row "r$r" "$a" --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul
  row "r$r" "$b" --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul
done
for r in 1 2; do
  row "s$r" "HTUNE_HUGE_TEXT=0" --configs 24 --threads 1 --batch 4 --arch sm_90a --kernel matmul
  row "s$r" "" --configs 24 --threads 1 --batch 4 --arch sm_90a --kernel matmul
done
for r in 1 2 3; do
  d=/tmp/nvcache-r$r; rm -rf $d; mkdir -p $d
  on="CUDA_CACHE_DISABLE=0 HTUNE_NVRTC_DRIVER_CACHE=1 CUDA_CACHE_PATH=$d"
  if [ $((r % 2)) = 1 ]; then a="$on"; b=""; else a=""; b="$on"; fi
  row "d$r" "$a" --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul
  row "d$r" "$b" --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul
  echo "d$r driver cache dir after: $(du -sk $d | cut -f1) KB, $(find $d -type f | wc -l) files" | tee -a $OUT/compile.log
done
d=/tmp/nvcache-s; rm -rf $d; mkdir -p $d
row "ds" "CUDA_CACHE_DISABLE=0 HTUNE_NVRTC_DRIVER_CACHE=1 CUDA_CACHE_PATH=$d" --configs 24 --threads 1 --batch 4 --arch sm_90a --kernel matmul
row "ds" "" --configs 24 --threads 1 --batch 4 --arch sm_90a --kernel matmul
grep -E 'AnonHugePages' /proc/meminfo
cat /sys/kernel/mm/transparent_hugepage/enabled
echo "compile rows $((SECONDS-T0)) s"
T1=$SECONDS
timeout 400 build/htune run tests/gpu/run.lua > $OUT/gpu-tests.log 2>&1
echo "gpu suite rc $? in $((SECONDS-T1)) s"
tail -3 $OUT/gpu-tests.log
echo "total $((SECONDS-T0)) s"
