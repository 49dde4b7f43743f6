// mbarrier and TMA helpers the Hopper paths share (matmul_wgmma, matmul's TMA kernel): a spec
// lists this file in `source_files` after fp16.cuh (one text with the kernel); the nvcc
// harnesses include it by path before the kernel file (hence no include guard).

__device__ __forceinline__ void mbar_init(unsigned bar, unsigned count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" :: "r"(bar), "r"(count) : "memory");
}
// Spins until the phase of parity `parity` of the barrier has completed.
__device__ __forceinline__ void mbar_wait(unsigned bar, unsigned parity) {
  unsigned done;
  do {
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
