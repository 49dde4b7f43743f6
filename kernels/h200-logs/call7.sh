#!/usr/bin/env bash
# exploration call 3: the same 32 configs, threads vs processes, before and after touching 16 GiB
cd build-dev/tree
export O=$OUT
T() { local n=$1 lim=$2; shift 2; local t0=$(date +%s%N); timeout $lim "$@" > $O/$n.log 2>&1; echo "$n rc $? $(( ($(date +%s%N)-t0)/1000000 )) ms" | tee -a $O/times.log; }
export GT=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456
procs() { for i in $(seq 0 15); do env $1 scripts/bench-compile --configs 2 --offset $((2*i)) --threads 1 --batch 1 --arch sm_90a > $O/p$2-$i.log 2>&1 & done; wait; grep -h -E '^1 +1 +cold' $O/p$2-*.log | awk '{w+=$5; if($5>m)m=$5; ms+=$8} END{print "procs: max wall", m, "s, mean ms/config", ms/NR}'; }
export -f procs
grep MemTotal /proc/meminfo > $O/mem.log
T serial-a 60 scripts/bench-compile --configs 32 --threads 1 --batch 1 --arch sm_90a
T thr16-a 60 scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a
T procs16-a 60 bash -c 'procs X=1 a'
T pretouch 60 python3 -c "import numpy as np; a=np.ones(2*2**30); print(a.sum())"
grep MemTotal /proc/meminfo >> $O/mem.log
T thr16-b 60 scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a
T procs16-b 60 bash -c 'procs X=1 b'
T thr16-tun 60 env GLIBC_TUNABLES=$GT scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a
T procs16-tun 60 bash -c 'procs GLIBC_TUNABLES=$GT c'
T serial-b 60 scripts/bench-compile --configs 32 --threads 1 --batch 1 --arch sm_90a
T thr16-c 60 scripts/bench-compile --configs 32 --threads 16 --batch 1 --arch sm_90a
for f in serial-a thr16-a procs16-a thr16-b procs16-b thr16-tun procs16-tun serial-b thr16-c; do echo "$f: $(grep -h -E '^1?[0-9] +1 +cold|^procs:' $O/$f.log)"; done > $O/summary.log
rm -f $O/p?-*.log
