// bench_util: the measuring method the standalone device harnesses share (tools/kbench.cu,
// kernels/matmul_wgmma/wgbench.cu), so their numbers are taken the same way: host fp16
// conversion, seeded random inputs, ||out-ref||/||ref|| with a NaN flag, the CUDA-event median
// timer and the cuBLAS row-major GEMM. Header-only; each harness #includes it once.
#pragma once
#include <cuda_runtime.h>
#include <cublas_v2.h>
#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <vector>

typedef unsigned short h16;

#define CK(x) do { cudaError_t e_ = (x); if (e_ != cudaSuccess) { \
  fprintf(stderr, "%s:%d %s: %s\n", __FILE__, __LINE__, #x, cudaGetErrorString(e_)); exit(1); } } while (0)

static h16 f2h_host(float f) {  // round-to-nearest fp16 for values in normal range
  unsigned u; memcpy(&u, &f, 4);
  unsigned s = (u >> 16) & 0x8000; int e = ((u >> 23) & 0xff) - 127 + 15; unsigned m = u & 0x7fffff;
  if (e <= 0) return (h16)s;
  unsigned h = s | (e << 10) | (m >> 13);
  if ((m >> 12) & 1) h++;
  return (h16)h;
}
static float h2f_host(h16 h) {
  unsigned s = (h & 0x8000) << 16, e = (h >> 10) & 0x1f, m = h & 0x3ff, u;
  if (e == 0) return s ? -0.f : 0.f;
  if (e == 31) u = s | 0x7f800000 | (m << 13);
  else u = s | ((e - 15 + 127) << 23) | (m << 13);
  float f; memcpy(&f, &u, 4); return f;
}
// n fp16 values uniform in [-scale, scale) from a seeded LCG, copied to device memory d.
static void fill_random(h16* d, size_t n, unsigned seed, float scale) {
  std::vector<h16> h(n);
  unsigned x = seed * 2654435761u + 1;
  for (size_t i = 0; i < n; ++i) { x = x * 1664525u + 1013904223u; h[i] = f2h_host(((x >> 8) / 16777216.f * 2 - 1) * scale); }
  CK(cudaMemcpy(d, h.data(), n * 2, cudaMemcpyHostToDevice));
}
// ||out-ref||/||ref|| over n device fp16 values; *nan is set when out holds a non-finite value.
static double rel_err(const h16* d_out, const h16* d_ref, size_t n, bool* nan) {
  std::vector<h16> a(n), b(n);
  CK(cudaMemcpy(a.data(), d_out, n * 2, cudaMemcpyDeviceToHost));
  CK(cudaMemcpy(b.data(), d_ref, n * 2, cudaMemcpyDeviceToHost));
  double num = 0, den = 0; *nan = false;
  for (size_t i = 0; i < n; ++i) {
    double x = h2f_host(a[i]), y = h2f_host(b[i]);
    if (!std::isfinite(x)) *nan = true;
    num += (x - y) * (x - y); den += y * y;
  }
  return std::sqrt(num / (den > 0 ? den : 1));
}
// Median over 15 batches of `per` launches; fn(i) launches with input set i.
static double time_us(const std::function<void(int)>& fn, int nsets, int per) {
  cudaEvent_t a, b; CK(cudaEventCreate(&a)); CK(cudaEventCreate(&b));
  for (int i = 0; i < 3; ++i) fn(i % nsets);
  CK(cudaDeviceSynchronize());
  std::vector<double> v;
  int k = 0;
  for (int t = 0; t < 15; ++t) {
    CK(cudaEventRecord(a));
    for (int i = 0; i < per; ++i) fn(k++ % nsets);
    CK(cudaEventRecord(b)); CK(cudaEventSynchronize(b)); CK(cudaGetLastError());
    float ms; CK(cudaEventElapsedTime(&ms, a, b)); v.push_back(ms * 1000.0 / per);
  }
  std::sort(v.begin(), v.end());
  CK(cudaEventDestroy(a)); CK(cudaEventDestroy(b));
  return v[v.size() / 2];
}
// Row-major C = A·B (fp16, fp32 accumulate) by cuBLAS.
static void cublas_mm(cublasHandle_t h, const h16* A, const h16* B, h16* C, int M, int N, int K) {
  float one = 1.f, zero = 0.f;  // row-major C = A·B is column-major C^T = B^T·A^T
  cublasStatus_t s = cublasGemmEx(h, CUBLAS_OP_N, CUBLAS_OP_N, N, M, K, &one, B, CUDA_R_16F, N, A, CUDA_R_16F, K,
                                  &zero, C, CUDA_R_16F, N, CUBLAS_COMPUTE_32F, CUBLAS_GEMM_DEFAULT);
  if (s != CUBLAS_STATUS_SUCCESS) { fprintf(stderr, "cublasGemmEx: %d\n", (int)s); exit(1); }
}
