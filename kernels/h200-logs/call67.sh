#!/usr/bin/env bash
# call 67 (#4): more samples of call 66's huge-page libnvrtc (bench-compile cold, 16 threads,
# batch 4), and glibc's malloc on transparent huge pages too (GLIBC_TUNABLES=glibc.malloc.hugetlb=1),
# rotated four times: off / text / text+malloc.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
T0=$SECONDS
for r in 1 2 3 4; do
  for v in off text both; do
    case $v in off) e="HTUNE_HUGE_TEXT=0";; text) e="HTUNE_HUGE_TEXT=1";; both) e="HTUNE_HUGE_TEXT=1 GLIBC_TUNABLES=glibc.malloc.hugetlb=1";; esac
    echo "== r$r $e load $(cut -d' ' -f1-3 /proc/loadavg)" >> $OUT/compile.log
    ( env $e timeout 60 scripts/bench-compile --configs 200 --threads 16 --batch 4 --arch sm_90a --kernel matmul > /tmp/c.log 2>&1 )
    grep -E 'huge pages|cold' /tmp/c.log >> $OUT/compile.log
    echo "r$r $v $(grep cold /tmp/c.log | head -1)"
  done
done
grep AnonHugePages /proc/meminfo
echo "total $((SECONDS-T0)) s"
