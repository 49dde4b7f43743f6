#!/usr/bin/env bash
# call 66 (#4): libnvrtc's read-only mappings (78 MB of code) copied onto 2 MB transparent huge
# pages at load ($HTUNE_HUGE_TEXT=1, src/hugetext.c) against the 4 KB file mapping: bench-compile
# cold, 16 threads, batch 4, alternated three times; then serial rows (1 thread, batch 1).
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT; nproc; uname -r
for f in enabled defrag shmem_enabled; do echo "thp $f: $(cat /sys/kernel/mm/transparent_hugepage/$f 2>&1)"; done
grep -E 'HugePages_|AnonHugePages|MemFree|MemAvailable' /proc/meminfo
T0=$SECONDS
for r in 1 2 3; do
  for v in 0 1; do
    echo "== r$r HTUNE_HUGE_TEXT=$v load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/compile.log
    ( HTUNE_HUGE_TEXT=$v timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 )
    grep -E 'huge pages|cold' /tmp/c.log >> $OUT/compile.log
    echo "r$r huge=$v $(grep cold /tmp/c.log | head -1)"
  done
done
for r in 1 2; do
  for v in 0 1; do
    ( HTUNE_HUGE_TEXT=$v timeout 60 scripts/bench-compile --configs 24 --threads 1 --batch 1 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 )
    echo "== serial r$r HTUNE_HUGE_TEXT=$v" >> $OUT/compile.log; grep -E 'huge pages|cold' /tmp/c.log >> $OUT/compile.log
    echo "serial r$r huge=$v $(grep cold /tmp/c.log | head -1)"
  done
done
grep -m1 -B2 -A3 'huge pages' /tmp/c.log
echo "total $((SECONDS-T0)) s"
