#!/usr/bin/env bash
# exploration call 2: compile scaling, processes vs threads, malloc tunables incl. hugetlb
cd build-dev/tree
export O=$OUT
T() { local n=$1 lim=$2; shift 2; local t0=$(date +%s%N); timeout $lim "$@" > $O/$n.log 2>&1; echo "$n rc $? $(( ($(date +%s%N)-t0)/1000000 )) ms" | tee -a $O/times.log; }
GT=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456
export GT
procs() { for i in $(seq 1 $3); do env $1 scripts/bench-compile --configs $4 --threads 1 --batch 1 --arch sm_90a > $O/proc$2-$i.log 2>&1 & done; wait; }
export -f procs
T procs16 100 bash -c 'procs X=1 a 16 6'
T procs16-tun 100 bash -c 'procs GLIBC_TUNABLES=$GT b 16 6'
T procs1 100 bash -c 'procs X=1 c 1 6'
T thr-huge 100 env GLIBC_TUNABLES=$GT:glibc.malloc.hugetlb=1 scripts/bench-compile --configs 48 --threads 16,16 --batch 1 --arch sm_90a
T thr-tun 100 env GLIBC_TUNABLES=$GT scripts/bench-compile --configs 48 --threads 16,16 --batch 1,4 --arch sm_90a
T thr-plain 100 scripts/bench-compile --configs 48 --threads 16,16 --batch 1 --arch sm_90a
cat /sys/kernel/mm/transparent_hugepage/enabled > $O/thp.log 2>&1
for f in $O/proc*-*.log; do echo "$f $(grep -E '^1 +1 +cold' $f)"; done > $O/procs-summary.log
