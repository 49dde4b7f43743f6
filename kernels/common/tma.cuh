// mbarrier, TMA and cluster helpers the Hopper paths share (matmul_wgmma, matmul's TMA kernel): a spec
// lists this file in `source_files` after fp16.cuh (one text with the kernel); the nvcc
// harnesses include it by path before the kernel file (hence no include guard).

__device__ __forceinline__ void mbar_init(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(bar), "r"(count) : "memory");
}
// MBAR_SUSPEND_NS (default 0: the system's time limit): the suspend-time hint, in ns, that each
// try_wait below may sleep for before it returns unfinished; a diagnostic of whether waiting
// threads' retries cost power at the cap (CUTLASS's barriers pass 0x989680, 10 ms).
#ifndef MBAR_SUSPEND_NS
#define MBAR_SUSPEND_NS 0
#endif
// Spins until the phase of parity `parity` of the barrier has completed.
__device__ __forceinline__ void mbar_wait(unsigned bar, unsigned parity) {
  unsigned done;
  do {
    if (MBAR_SUSPEND_NS)
      asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2, %3; selp.u32 %0, 1, 0, p; }"
                   : "=r"(done) : "r"(bar), "r"(parity), "n"(MBAR_SUSPEND_NS) : "memory");
    else
      asm volatile("{ .reg .pred p; mbarrier.try_wait.parity.shared::cta.b64 p, [%1], %2; selp.u32 %0, 1, 0, p; }"
                   : "=r"(done) : "r"(bar), "r"(parity) : "memory");
  } while (!done);
}
__device__ __forceinline__ void mbar_arrive(unsigned bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];" :: "r"(bar) : "memory");
}
// Orders this thread's generic-proxy shared accesses (and, after a barrier, the block's) against
// its later async-proxy ones (TMA, wgmma), and the other way round.
__device__ __forceinline__ void fence_proxy_async() {
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
}
// Makes the mbarrier inits above it visible to the async proxy and the cluster.
__device__ __forceinline__ void fence_mbar_init() {
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}

// A CUtensorMap by value (128 bytes, 64-aligned); the .cu includes no headers, so it is opaque.
struct __align__(64) TensorMap { unsigned long long v[16]; };
// One arrival that also expects `bytes` of copies to complete on the barrier.
__device__ __forceinline__ void mbar_expect_tx(unsigned bar, unsigned bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" :: "r"(bar), "r"(bytes) : "memory");
}
// Box at (c0 innermost, c1) of the 2-D tensor map into shared memory; completes on bar.
__device__ __forceinline__ void tma_load_2d(unsigned dst, const TensorMap* tm, int c0, int c1, unsigned bar) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1, {%2, %3}], [%4];"
               :: "r"(dst), "l"((unsigned long long)tm), "r"(c0), "r"(c1), "r"(bar) : "memory");
}
// The same box into the same offsets (dst, bar) of every CTA of the cluster in mask: one L2
// read feeds several SMs.
__device__ __forceinline__ void tma_load_2d_multicast(unsigned dst, const TensorMap* tm, int c0, int c1, unsigned bar,
                                                      unsigned short mask) {
  asm volatile("cp.async.bulk.tensor.2d.shared::cluster.global.mbarrier::complete_tx::bytes.multicast::cluster"
               " [%0], [%1, {%2, %3}], [%4], %5;"
               :: "r"(dst), "l"((unsigned long long)tm), "r"(c0), "r"(c1), "r"(bar), "h"(mask) : "memory");
}

// Clusters (matmul_wgmma_tma_cl2_kernel, matmul_tma_cl2_kernel).
__device__ __forceinline__ unsigned cluster_rank() {
  unsigned r;
  asm volatile("mov.u32 %0, %%cluster_ctarank;" : "=r"(r));
  return r;
}
// Every thread of every CTA of the cluster; orders shared-memory writes (mbarrier inits
// included) before it against the cluster's accesses after it.
__device__ __forceinline__ void cluster_sync() {
  asm volatile("barrier.cluster.arrive.release.aligned;\n\tbarrier.cluster.wait.acquire.aligned;" ::: "memory");
}
// Arrives on the mbarrier at the same shared offset in CTA `rank` of the cluster, with the
// default (CTA-scope) release: the arrive only says this CTA's wgmmas are done reading a slot.
// A cluster-scope release here made every k step wait on a fence (call 29: 2x slower).
__device__ __forceinline__ void mbar_arrive_remote(unsigned bar, unsigned rank) {
  asm volatile("{ .reg .b32 ra; mapa.shared::cluster.u32 ra, %0, %1; mbarrier.arrive.shared::cluster.b64 _, [ra]; }"
               :: "r"(bar), "r"(rank) : "memory");
}
// Named barrier `id` (1-15; 0 is __syncthreads') of `count` threads, a multiple of 32: some warps
// arrive without waiting, the others wait until all `count` have come. Branch to them on values
// ptxas knows are warp-uniform (a vote, for one): after a branch on threadIdx.x < 128 it guarded
// every later shuffle with a divergence check and a second, divergent copy of the code (the WS
// epilogue twice, 1.4x the cubin).
__device__ __forceinline__ void named_bar_arrive(unsigned id, unsigned count) {
  asm volatile("bar.arrive %0, %1;" :: "r"(id), "r"(count) : "memory");
}
__device__ __forceinline__ void named_bar_sync(unsigned id, unsigned count) {
  asm volatile("bar.sync %0, %1;" :: "r"(id), "r"(count) : "memory");
}
// A flag in global memory between blocks of one grid: the release orders the block's earlier
// writes (after a __threadfence by each writer and a barrier) before the flag; the acquire
// orders the flag before the reader's later loads.
__device__ __forceinline__ void flag_release(int* f, int v) {
  asm volatile("st.release.gpu.global.b32 [%0], %1;" :: "l"(f), "r"(v) : "memory");
}
__device__ __forceinline__ int flag_acquire(const int* f) {
  int v;
  asm volatile("ld.acquire.gpu.global.b32 %0, [%1];" : "=r"(v) : "l"(f) : "memory");
  return v;
}
