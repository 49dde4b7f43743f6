#!/usr/bin/env bash
# call 26: where the cold compile rate goes at 16 threads (-minimal on): threads 8/12/16, 16
# processes, glibc malloc tunables (no trim, no mmap); the 5-s live target (pattern, surrogate)
# with -minimal; scripts/compare live for docs/results.md, packed into one tarball.
cd "$(dirname "$0")/tree"
export HTUNE=build/htune
cat COMMIT
bc() { timeout 60 scripts/bench-compile --configs 200 --batch 1 --arch sm_90a "$@" 2>&1 | grep -E "^[0-9]+ +[0-9]+ +cold|procs|best cold"; }
{ echo "== threads 8,12,16"; bc --threads 8,12,16
  echo "== 16 procs"; bc --threads 16 --procs 16
  echo "== malloc tunables"; GLIBC_TUNABLES=glibc.malloc.mmap_threshold=1073741824:glibc.malloc.trim_threshold=4294967296:glibc.malloc.top_pad=268435456 bc --threads 16
  echo "== default again"; bc --threads 16; } > $OUT/bench-compile.log 2>&1; cat $OUT/bench-compile.log
( timeout 80 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-pattern.log 2>&1 ); tail -7 $OUT/tune-mm1024-pattern.log
( timeout 80 scripts/bench-tune --problem matmul --strategy surrogate --seconds 5 --long-seconds 20 --runs 5 > $OUT/tune-mm1024-surrogate.log 2>&1 ); tail -7 $OUT/tune-mm1024-surrogate.log
( timeout 300 scripts/compare --backend live --seconds 3 --out /tmp/cmp --no-publish > $OUT/compare.log 2>&1 ); tail -3 $OUT/compare.log
tar czf $OUT/cmp.tgz -C /tmp cmp; ls -la $OUT
