// The matmul templates' reference: C = A·B with one thread per element of C, fp32 accumulation
// in K order (obviously correct, slow). Specs list it after fp16.cuh in `source_files`; a
// config's program is compiled with HTUNE_NO_REFERENCE=1 (htune.problems.matmul_common), so
// NVRTC spends no time on this kernel there (extern "C" kernels are always compiled): only the
// backend's reference job, without the define, builds it.
#ifndef HTUNE_NO_REFERENCE
extern "C" __global__ void matmul_reference(const h16* A, const h16* B, h16* C, int M, int N, int K) {
  int n = blockIdx.x * blockDim.x + threadIdx.x;
  int m = blockIdx.y * blockDim.y + threadIdx.y;
  if (m >= M || n >= N) return;
  float acc = 0.f;
  for (int k = 0; k < K; ++k) acc += h2f(A[(long)m * K + k]) * h2f(B[(long)k * N + n]);
  C[(long)m * N + n] = f2h(acc);
}
#endif
