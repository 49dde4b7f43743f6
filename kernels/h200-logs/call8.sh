#!/usr/bin/env bash
# exploration call 4: does the driver's compute cache (NVRTC 12.9+ uses it) serialise threads?
cd build-dev/tree
export O=$OUT
T() { local n=$1 lim=$2; shift 2; local t0=$(date +%s%N); timeout $lim "$@" > $O/$n.log 2>&1; echo "$n rc $? $(( ($(date +%s%N)-t0)/1000000 )) ms" | tee -a $O/times.log; }
procs() { for i in $(seq 0 15); do env $1 scripts/bench-compile --configs 2 --offset $(($3+2*i)) --threads 1 --batch 1 --arch sm_90a > $O/p$2-$i.log 2>&1 & done; wait; grep -h -E '^1 +1 +cold' $O/p$2-*.log | awk '{w+=$5; if($5>m)m=$5; ms+=$8} END{print "procs: max wall", m, "s, mean ms/config", ms/NR}'; }
export -f procs
B() { scripts/bench-compile --configs 32 --batch 1 --arch sm_90a "$@"; }
export -f B
T serial-nc-0 60 env CUDA_CACHE_DISABLE=1 bash -c 'B --threads 1 --offset 0'
T serial-nc-0b 60 env CUDA_CACHE_DISABLE=1 bash -c 'B --threads 1 --offset 0'
T thr16-nc-32 60 env CUDA_CACHE_DISABLE=1 bash -c 'B --threads 16 --offset 32'
T procs16-nc-64 60 bash -c 'procs CUDA_CACHE_DISABLE=1 a 64'
T thr16-c-96 60 bash -c 'B --threads 16 --offset 96'
T thr16-nc-128 60 env CUDA_CACHE_DISABLE=1 bash -c 'B --threads 16 --offset 128'
T thr8-nc-160 60 env CUDA_CACHE_DISABLE=1 bash -c 'B --threads 8 --offset 160'
T serial-c-192 60 bash -c 'B --threads 1 --offset 192'
T serial-c-192b 60 bash -c 'B --threads 1 --offset 192'
T thr16-c-192 60 bash -c 'B --threads 16 --offset 192'
ls -la ~/.nv/ComputeCache 2>&1 | head -5 > $O/nvcache.log; du -sh ~/.nv 2>&1 >> $O/nvcache.log
for f in serial-nc-0 serial-nc-0b thr16-nc-32 procs16-nc-64 thr16-c-96 thr16-nc-128 thr8-nc-160 serial-c-192 serial-c-192b thr16-c-192; do echo "$f: $(grep -h -E '^1?[0-9] +1 +cold|^procs:' $O/$f.log)"; done > $O/summary.log
rm -f $O/p?-*.log
