// wgbench: device harness for matmul_wgmma.cu next to cuBLAS, with tools/kbench.cu's method
// (fresh random inputs, poisoned output, ||out-ref||/||ref|| against matmul_reference, CUDA
// events around batches of 20 launches, median of 15 batches, inputs rotated over > L2; the
// helpers shared with kbench are in tools/bench_util.cuh).
//   nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a kernels/matmul_wgmma/wgbench.cu -lcublas -lcuda
// Configs named "tma ..." run matmul_wgmma_tma_kernel with maps from cuTensorMapEncodeTiled.
//   wgbench [check|quick|all]   (check: odd shapes only; quick: + 1024^3, 4096^3; all: + gemm shapes)
#include "../../tools/bench_util.cuh"
#include <cuda.h>
#include <string>

namespace wg {
#include "../common/fp16.cuh"
#include "../common/tma.cuh"
#include "../common/matmul_reference.cuh"
#include "../common/tile_coords.cuh"
#include "matmul_wgmma.cu"
}

static int g_sms = 132;
static std::vector<std::string> g_table;
static int g_wrong = 0;

typedef void (*Kern)(const h16*, const h16*, h16*, int, int, int, int, int);   // ..., group, order
typedef void (*TKern)(const h16*, const h16*, h16*, int, int, int, const wg::TensorMap, const wg::TensorMap, int, int);
struct Cfg { const char* name; Kern k; TKern tk; int BM, BN, BK, NC, ST, PID; };
#define WGC(BM, BN, BK, NC, ST, PID, G, O) \
  Cfg{#BM "x" #BN "x" #BK " nc" #NC " s" #ST " p" #PID " g" #G " o" #O, \
      wg::matmul_wgmma_kernel<BM, BN, BK, NC, ST, PID, G, O>, nullptr, BM, BN, BK, NC, ST, PID}
#define TMAC(BM, BN, BK, NC, ST, PID, G, O) \
  Cfg{"tma " #BM "x" #BN "x" #BK " nc" #NC " s" #ST " p" #PID " g" #G " o" #O, \
      nullptr, wg::matmul_wgmma_tma_kernel<BM, BN, BK, NC, ST, PID, G, O>, BM, BN, BK, NC, ST, PID}
static Cfg cfgs[] = {
  // since the C staging tile (call 32) 128x256 and 256x128 tiles fit 3 stages, 128x128 5 (227 KB a block)
  TMAC(128, 256, 64, 2, 3, 1, 8, 0),
  TMAC(128, 256, 64, 2, 2, 1, 8, 0),
  TMAC(128, 256, 64, 2, 3, 0, 8, 0),
  TMAC(128, 256, 64, 2, 3, 1, 16, 1),
  TMAC(256, 128, 64, 2, 3, 1, 8, 0),
  TMAC(128, 128, 64, 2, 5, 1, 8, 0),
  TMAC(128, 128, 64, 1, 5, 1, 8, 0),
  TMAC(64, 128, 64, 1, 8, 0, 8, 0),
  TMAC(64, 128, 128, 1, 4, 0, 8, 0),   // call 29: bench-tune run B's best at 1024^3
  TMAC(128, 64, 64, 2, 8, 0, 8, 0),
  TMAC(64, 64, 64, 1, 8, 0, 1, 0),
  TMAC(128, 128, 64, 2, 5, 0, 8, 0),
  TMAC(64, 256, 64, 1, 3, 1, 8, 0),
  WGC(128, 256, 64, 2, 3, 1, 8, 0),
  WGC(128, 256, 64, 2, 2, 1, 8, 0),
  WGC(256, 128, 64, 2, 3, 1, 8, 0),
  WGC(128, 128, 64, 2, 5, 1, 8, 0),
  WGC(128, 128, 64, 1, 5, 1, 8, 0),
  WGC(64, 128, 64, 1, 6, 0, 8, 0),
  WGC(64, 64, 64, 1, 8, 0, 1, 0),
};
// ring + C staging tile (the epilogue, BM x (BN + 8) halves) + swizzle alignment, as spec.lua
static size_t smem(const Cfg& c) { return (size_t)c.ST * 2 * (c.BM * c.BK + c.BK * c.BN) + (size_t)c.BM * (c.BN + 8) * 2 + 1024; }
// 2-D map of a rows x cols row-major fp16 matrix, box 64 (cols) x box_rows, 128B swizzle.
static wg::TensorMap make_map(const h16* p, int rows, int cols, int box_rows) {
  CUtensorMap m;
  cuuint64_t dims[2] = { (cuuint64_t)cols, (cuuint64_t)rows }, strides[1] = { (cuuint64_t)cols * 2 };
  cuuint32_t box[2] = { 64, (cuuint32_t)box_rows }, estr[2] = { 1, 1 };
  CUresult r = cuTensorMapEncodeTiled(&m, CU_TENSOR_MAP_DATA_TYPE_FLOAT16, 2, (void*)p, dims, strides, box, estr,
                                      CU_TENSOR_MAP_INTERLEAVE_NONE, CU_TENSOR_MAP_SWIZZLE_128B,
                                      CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
  if (r != CUDA_SUCCESS) { fprintf(stderr, "cuTensorMapEncodeTiled: %d\n", (int)r); exit(1); }
  wg::TensorMap t; memcpy(&t, &m, sizeof t);
  return t;
}
static void launch(const Cfg& c, const h16* A, const h16* B, h16* C, int M, int N, int K) {
  int tiles = ((M + c.BM - 1) / c.BM) * ((N + c.BN - 1) / c.BN);
  int grid = c.PID == 0 ? tiles : std::min(tiles, g_sms);
  if (c.tk) {  // maps are encoded per launch (host-only work, a few microseconds, off the GPU timeline)
    c.tk<<<grid, (c.NC + 1) * 128, smem(c)>>>(A, B, C, M, N, K, make_map(A, M, K, c.BM), make_map(B, K, N, c.BK), 0, 0);  // G > 0: compiled in
  } else {
    c.k<<<grid, (c.NC + 1) * 128, smem(c)>>>(A, B, C, M, N, K, 0, 0);
  }
}
static void bench(cublasHandle_t h, int M, int N, int K, bool timing, int misalign = 0) {
  size_t set_bytes = ((size_t)M * K + (size_t)K * N) * 2;
  int nsets = timing ? (int)std::max<size_t>(1, std::min<size_t>(16, (200u << 20) / set_bytes)) : 1;
  std::vector<h16*> A(nsets), B(nsets);
  for (int i = 0; i < nsets; ++i) {
    CK(cudaMalloc(&A[i], (size_t)M * K * 2 + 16)); CK(cudaMalloc(&B[i], (size_t)K * N * 2 + 16));
    A[i] += misalign; B[i] += misalign;   // misalign: base not 16-byte aligned -> plain-load path
    fill_random(A[i], (size_t)M * K, 11 + i + M, 1.f); fill_random(B[i], (size_t)K * N, 97 + i + N, 1.f);
  }
  h16 *C, *R; CK(cudaMalloc(&C, (size_t)M * N * 2)); CK(cudaMalloc(&R, (size_t)M * N * 2));
  wg::matmul_reference<<<dim3((N + 15) / 16, (M + 15) / 16), dim3(16, 16)>>>(A[0], B[0], R, M, N, K);
  CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
  double flops = 2.0 * M * N * K, t_cb = 0;
  char line[256];
  if (timing) {
    t_cb = time_us([&](int i) { cublas_mm(h, A[i], B[i], C, M, N, K); }, nsets, 20);
    snprintf(line, sizeof line, "mm %dx%dx%d %-32s %9.2f us %7.1f TF/s", M, N, K, "cuBLAS", t_cb, flops / t_cb * 1e-6);
    printf("%s\n", line); g_table.push_back(line);
  }
  double best = 1e30; const char* bestn = "";
  const char* only = getenv("WGBENCH_ONLY");
  for (auto& c : cfgs) {
    if (only && !strstr(c.name, only)) continue;
    if (c.tk && (K % 8 || N % 8 || misalign)) continue;   // TMA needs 16-byte row pitches and bases
    if (c.tk) CK(cudaFuncSetAttribute(c.tk, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem(c)));
    else CK(cudaFuncSetAttribute(c.k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)smem(c)));
    CK(cudaMemset(C, 0xff, (size_t)M * N * 2));
    launch(c, A[0], B[0], C, M, N, K); CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
    bool nan; double e = rel_err(C, R, (size_t)M * N, &nan);
    bool ok = !nan && e < 1e-2;
    if (!ok) g_wrong++;
    double t = (timing && (ok || getenv("WGBENCH_TIME_WRONG"))) ? time_us([&](int i) { launch(c, A[i], B[i], C, M, N, K); }, nsets, 20) : 0;
    snprintf(line, sizeof line, "mm %dx%dx%d%s %-32s err %.1e%s %9.2f us %7.1f TF/s %5.1f%% cuBLAS%s", M, N, K,
             misalign ? " (misaligned)" : "", c.name, e, nan ? " NaN" : "", t, t > 0 ? flops / t * 1e-6 : 0,
             t > 0 ? 100 * t_cb / t : 0, ok ? "" : " WRONG");
    printf("%s\n", line);
    if (!ok) g_table.push_back(line);
    if (t > 0 && t < best) { best = t; bestn = c.name; }
  }
  if (timing) {
    snprintf(line, sizeof line, "mm %dx%dx%d BEST %-27s %9.2f us %7.1f TF/s = %.1f%% cuBLAS TF/s, %.2fx latency", M, N, K,
             bestn, best, flops / best * 1e-6, 100 * t_cb / best, best / t_cb);
    g_table.push_back(line);
  }
  for (int i = 0; i < nsets; ++i) { cudaFree(A[i] - misalign); cudaFree(B[i] - misalign); }
  cudaFree(C); cudaFree(R);
}

int main(int argc, char** argv) {
  cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0)); g_sms = prop.multiProcessorCount;
  printf("device %s, %d SMs, cc %d.%d\n", prop.name, g_sms, prop.major, prop.minor);
  cublasHandle_t h; if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) { fprintf(stderr, "cublasCreate failed\n"); return 1; }
  const char* mode = argc > 1 ? argv[1] : "quick";
  bench(h, 1000, 1000, 1000, false);
  bench(h, 257, 129, 77, false);
  bench(h, 1, 300, 64, false);
  bench(h, 300, 1, 72, false);
  bench(h, 384, 512, 320, false, 1);
  bench(h, 4097, 136, 200, false);
  if (strcmp(mode, "check") != 0) {
    bench(h, 1024, 1024, 1024, true);
    bench(h, 4096, 4096, 4096, true);
  }
  if (strcmp(mode, "all") == 0) {
    bench(h, 4096, 1024, 1024, true);
    bench(h, 1024, 4096, 1024, true);
    bench(h, 8192, 8192, 8192, true);
  }
  printf("\n==== summary (%d wrong) ====\n", g_wrong);
  for (auto& s : g_table) printf("%s\n", s.c_str());
  cublasDestroy(h);
  return g_wrong ? 2 : 0;
}
