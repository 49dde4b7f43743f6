// Stand-in tensor-core matmul for scripts/bench-compile: C = A·B (fp16 in, fp32 accumulate,
// fp16 out, row-major, M, N, K multiples of the block sizes). wmma (mma.sync) fragments, a
// STAGES-deep cp.async shared-memory pipeline, templated on block sizes, warps and stages.
// It pulls in mma.h, cuda_fp16.h and cuda_pipeline.h on purpose: their parse time is what
// batching and precompiled headers are measured against.
#include <cuda_fp16.h>
#include <cuda_pipeline.h>
#include <mma.h>

using namespace nvcuda;

template <int BM, int BN, int BK, int WARPS_M, int WARPS_N, int STAGES>
__global__ void __launch_bounds__(WARPS_M * WARPS_N * 32)
matmul_mma(const half* __restrict__ A, const half* __restrict__ B, half* __restrict__ C, int M, int N, int K) {
  constexpr int NT = WARPS_M * WARPS_N * 32;
  constexpr int WTM = BM / WARPS_M, WTN = BN / WARPS_N;   // warp tile
  constexpr int FM = WTM / 16, FN = WTN / 16;             // 16x16x16 fragments per warp
  constexpr int LDA = BK + 8, LDB = BN + 8;               // padding against bank conflicts
  static_assert(FM >= 1 && FN >= 1 && BK % 16 == 0, "tile does not split into 16x16 fragments");
  extern __shared__ __align__(128) unsigned char smem_raw[];
  half* sA = reinterpret_cast<half*>(smem_raw);
  half* sB = sA + STAGES * BM * LDA;

  const int warp = threadIdx.x / 32, wm = warp / WARPS_N, wn = warp % WARPS_N;
  const int m0 = blockIdx.y * BM, n0 = blockIdx.x * BN;

  auto load_stage = [&](int stage, int k0) {
    for (int i = threadIdx.x; i < BM * BK / 8; i += NT) {
      int r = i / (BK / 8), c = (i % (BK / 8)) * 8;
      __pipeline_memcpy_async(sA + stage * BM * LDA + r * LDA + c, A + (long)(m0 + r) * K + k0 + c, 16);
    }
    for (int i = threadIdx.x; i < BK * BN / 8; i += NT) {
      int r = i / (BN / 8), c = (i % (BN / 8)) * 8;
      __pipeline_memcpy_async(sB + stage * BK * LDB + r * LDB + c, B + (long)(k0 + r) * N + n0 + c, 16);
    }
  };

  wmma::fragment<wmma::accumulator, 16, 16, 16, float> acc[FM][FN];
#pragma unroll
  for (int i = 0; i < FM; i++)
#pragma unroll
    for (int j = 0; j < FN; j++) wmma::fill_fragment(acc[i][j], 0.f);

  const int ktiles = K / BK;
#pragma unroll
  for (int s = 0; s < STAGES - 1; s++) {
    if (s < ktiles) load_stage(s, s * BK);
    __pipeline_commit();
  }
  for (int kt = 0; kt < ktiles; kt++) {
    int next = kt + STAGES - 1;
    if (next < ktiles) load_stage(next % STAGES, next * BK);
    __pipeline_commit();
    __pipeline_wait_prior(STAGES - 1);
    __syncthreads();
    const half* a = sA + (kt % STAGES) * BM * LDA;
    const half* b = sB + (kt % STAGES) * BK * LDB;
#pragma unroll
    for (int kk = 0; kk < BK; kk += 16) {
      wmma::fragment<wmma::matrix_a, 16, 16, 16, half, wmma::row_major> fa[FM];
      wmma::fragment<wmma::matrix_b, 16, 16, 16, half, wmma::row_major> fb[FN];
#pragma unroll
      for (int i = 0; i < FM; i++) wmma::load_matrix_sync(fa[i], a + (wm * WTM + i * 16) * LDA + kk, LDA);
#pragma unroll
      for (int j = 0; j < FN; j++) wmma::load_matrix_sync(fb[j], b + kk * LDB + wn * WTN + j * 16, LDB);
#pragma unroll
      for (int i = 0; i < FM; i++)
#pragma unroll
        for (int j = 0; j < FN; j++) wmma::mma_sync(acc[i][j], fa[i], fb[j], acc[i][j]);
    }
    __syncthreads();
  }
  // Epilogue through shared memory (fp32 -> fp16).
  float* sC = reinterpret_cast<float*>(smem_raw) + warp * 16 * 16;
#pragma unroll
  for (int i = 0; i < FM; i++)
#pragma unroll
    for (int j = 0; j < FN; j++) {
      wmma::store_matrix_sync(sC, acc[i][j], 16, wmma::mem_row_major);
      __syncwarp();
      for (int e = threadIdx.x % 32; e < 256; e += 32) {
        int r = m0 + wm * WTM + i * 16 + e / 16, c = n0 + wn * WTN + j * 16 + e % 16;
        if (r < M && c < N) C[(long)r * N + c] = __float2half(sC[e]);
      }
      __syncwarp();
    }
}
