#!/usr/bin/env bash
# call 5: GPU suite; the prologue-in-main-loop matmul vs the previous source on 80 configs; compile scaling
cd build-dev/tree
export O=$OUT
T() { local n=$1 lim=$2; shift 2; local t0=$(date +%s%N); timeout $lim "$@" > $O/$n.log 2>&1; echo "$n rc $? $(( ($(date +%s%N)-t0)/1000000 )) ms" | tee -a $O/times.log; }
procs() { for i in $(seq 0 15); do scripts/bench-compile --configs 2 --offset $(($2+2*i)) --threads 1 --batch 1 --arch sm_90a > $O/p$1-$i.log 2>&1 & done; wait; grep -h -E '^1 +1 +cold' $O/p$1-*.log | awk '{w+=$5; if($5>m)m=$5; ms+=$8} END{print "procs: max wall", m, "s, mean ms/config", ms/NR}'; rm -f $O/p$1-*.log; }
export -f procs
T gpu-tests 200 tests/run --gpu-only
R() { scripts/record --problem $1 --configs-from ../ab-sel.replay.gz --repeats 3 --out $O/$2.replay.gz; }
export -f R
T ab-new1 100 bash -c 'R matmul new1'
T ab-prev 100 bash -c 'R matmul_prev prev'
T ab-new2 100 bash -c 'R matmul new2'
T c-serial 60 scripts/bench-compile --configs 32 --threads 1 --batch 1 --arch sm_90a
T c-thr16 60 scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a --offset 32
T c-procs16 60 bash -c 'procs a 64'
T c-thr16b 60 scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a --offset 96
T c-procs16b 60 bash -c 'procs b 128'
T c-main 100 scripts/bench-compile --configs 64 --threads 1,16 --batch 1,4 --arch sm_90a --offset 160
T tune-mm1024 60 scripts/bench-tune --problem matmul --seconds 5 --long-seconds 15
for f in $O/c-*.log; do echo "$f: $(grep -h -E '^1?[0-9] +[14] +cold|^procs:|^best' $f)"; done > $O/summary.log
