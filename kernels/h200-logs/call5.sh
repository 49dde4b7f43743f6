#!/usr/bin/env bash
# exploration call 1: CPU topology, compile scaling threads vs processes vs malloc tunables, softmax re-record
cd build-dev/tree
O=$OUT
lscpu > $O/lscpu.log 2>&1; nproc >> $O/lscpu.log; free -g >> $O/lscpu.log
T() { local n=$1 lim=$2; shift 2; local t0=$(date +%s%N); timeout $lim "$@" > $O/$n.log 2>&1; echo "$n rc $? $(( ($(date +%s%N)-t0)/1000000 )) ms" | tee -a $O/times.log; }
T thr 150 scripts/bench-compile --configs 48 --threads 1,8,16,16 --batch 1 --arch sm_90a
export GT=glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=17179869184:glibc.malloc.top_pad=268435456
T thr-tun 100 env GLIBC_TUNABLES=$GT scripts/bench-compile --configs 48 --threads 16,16 --batch 1 --arch sm_90a
# 16 processes x 6 configs each (each its own process and cache dir)
procs() { for i in $(seq 1 16); do env $1 scripts/bench-compile --configs 6 --threads 1 --batch 1 --arch sm_90a > $O/proc$2-$i.log 2>&1 & done; wait; }
T procs 100 bash -c "$(declare -f procs); procs X=1 a"
T procs-tun 100 bash -c "$(declare -f procs); procs GLIBC_TUNABLES=$GT b"
T sm-rec 230 scripts/record --problem softmax --repeats 3 --seconds 170 --grace 20 --out $O/softmax-h200.replay.gz
