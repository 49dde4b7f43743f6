// kbench: standalone device harness for the kernel templates (kernels/*/*.cu) next to cuBLAS.
// Checks each config against the reference kernel (poisoned output, fresh random inputs,
// ||out-ref||/||ref||), then times it with CUDA events (median of batches), and prints a table.
// The measuring helpers it shares with wgbench (fp16 conversion, inputs, error, timer,
// cuBLAS) are in tools/bench_util.cuh.
//   nvcc -O2 -std=c++17 -gencode=arch=compute_90a,code=sm_90a tools/kbench.cu -o kbench -lcublas
#include "bench_util.cuh"
#include <string>

namespace mm {
#include "../kernels/common/fp16.cuh"
#include "../kernels/common/tma.cuh"
#include "../kernels/common/matmul_reference.cuh"
#include "../kernels/common/tile_coords.cuh"
#include "../kernels/matmul/matmul.cu"
}
namespace sm {
#include "../kernels/common/fp16.cuh"
#include "../kernels/softmax/softmax.cu"
}

static int g_sms = 132;
static std::vector<std::string> g_table;

// ---------- matmul ----------
struct MM { int M, N, K, nsets; std::vector<h16*> A, B; h16 *C, *R; };
typedef void (*MMKernel)(const h16*, const h16*, h16*, int, int, int, int, int);
struct MMCfg { const char* name; MMKernel k; int BM, BN, BK, nt, stages, pid; };
#define MMC(BM, BN, BK, WM, WN, ST, PID, G, O, V, EA, EB) \
  MMCfg{#BM "x" #BN "x" #BK " w" #WM "x" #WN " s" #ST " p" #PID " g" #G " o" #O " v" #V " e" #EA #EB, \
        mm::matmul_kernel<BM, BN, BK, WM, WN, ST, PID, G, O, V, EA, EB>, BM, BN, BK, WM * WN * 32, ST, PID}
static MMCfg mm_cfgs[] = {
  MMC(128, 128, 32, 2, 2, 4, 0, 8, 0, 8, 0, 0),
  MMC(128, 128, 64, 2, 2, 3, 0, 8, 0, 8, 0, 0),
  MMC(128, 256, 64, 2, 4, 3, 0, 8, 0, 8, 0, 0),
  MMC(256, 128, 64, 4, 2, 3, 0, 8, 0, 8, 0, 0),
  MMC(128, 256, 64, 2, 4, 3, 3, 8, 0, 8, 0, 0),
  MMC(128, 128, 64, 2, 2, 4, 0, 8, 0, 8, 0, 0),
  MMC(128, 256, 64, 2, 4, 4, 0, 8, 0, 8, 0, 0),
  MMC(256, 128, 64, 4, 2, 4, 0, 8, 0, 8, 0, 0),
  MMC(256, 128, 64, 4, 2, 4, 3, 8, 0, 8, 0, 0),
  MMC(128, 256, 32, 2, 4, 4, 0, 8, 0, 8, 0, 0),
  MMC(128, 128, 32, 2, 2, 3, 0, 8, 0, 8, 0, 0),
  MMC(128, 128, 64, 2, 2, 3, 0, 8, 0, 8, 1, 2),
  MMC(128, 128, 64, 2, 4, 3, 0, 8, 0, 8, 0, 0),
  MMC(128, 128, 32, 2, 4, 4, 0, 8, 0, 8, 0, 0),
  MMC(256, 128, 32, 4, 4, 3, 0, 8, 0, 8, 0, 0),
  MMC(128, 256, 32, 4, 4, 3, 0, 8, 0, 8, 0, 0),
  MMC(256, 128, 64, 4, 4, 3, 0, 8, 0, 8, 0, 0),
  MMC(64, 128, 64, 2, 2, 4, 0, 8, 0, 8, 0, 0),
  MMC(128, 64, 64, 2, 2, 4, 0, 8, 0, 8, 0, 0),
  MMC(64, 64, 64, 2, 2, 4, 0, 4, 0, 8, 0, 0),
  MMC(64, 64, 64, 2, 2, 3, 0, 4, 0, 8, 0, 0),
  MMC(64, 64, 32, 2, 2, 6, 0, 4, 0, 8, 0, 0),
  MMC(64, 64, 128, 2, 2, 3, 0, 4, 0, 8, 0, 0),
  MMC(64, 64, 64, 1, 2, 4, 0, 4, 0, 8, 0, 0),
  MMC(64, 128, 32, 1, 4, 5, 1, 8, 0, 8, 0, 0),
  MMC(32, 64, 64, 1, 2, 4, 0, 1, 0, 4, 0, 0),
  MMC(16, 16, 16, 1, 1, 1, 0, 1, 0, 2, 0, 0),
};
static size_t mm_smem(const MMCfg& c) { return (size_t)c.stages * (c.BM * (c.BK + 8) + c.BK * (c.BN + 8)) * 2; }
static void mm_launch(const MMCfg& c, const h16* A, const h16* B, h16* C, int M, int N, int K) {
  int tm = (M + c.BM - 1) / c.BM, tn = (N + c.BN - 1) / c.BN;
  dim3 grid(tm * tn);
  if (c.pid == 1) grid = dim3(tn, tm);
  if (c.pid >= 2) {
    int per_sm = 0;
    CK(cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, c.k, c.nt, mm_smem(c)));
    grid = dim3(std::min(tm * tn, std::max(1, per_sm) * g_sms));
  }
  c.k<<<grid, c.nt, mm_smem(c)>>>(A, B, C, M, N, K, 0, 0);  // group, order: compiled in (G > 0)
}
static MM mm_alloc(int M, int N, int K) {
  MM p{M, N, K, 1, {}, {}, nullptr, nullptr};
  size_t set_bytes = ((size_t)M * K + (size_t)K * N) * 2;
  p.nsets = (int)std::max<size_t>(1, std::min<size_t>(16, (200u << 20) / set_bytes));  // > L2
  for (int i = 0; i < p.nsets; ++i) {
    h16 *a, *b; CK(cudaMalloc(&a, (size_t)M * K * 2)); CK(cudaMalloc(&b, (size_t)K * N * 2));
    fill_random(a, (size_t)M * K, 11 + i, 1.f); fill_random(b, (size_t)K * N, 97 + i, 1.f);
    p.A.push_back(a); p.B.push_back(b);
  }
  CK(cudaMalloc(&p.C, (size_t)M * N * 2)); CK(cudaMalloc(&p.R, (size_t)M * N * 2));
  dim3 blk(16, 16), grd((N + 15) / 16, (M + 15) / 16);
  mm::matmul_reference<<<grd, blk>>>(p.A[0], p.B[0], p.R, M, N, K);
  CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
  return p;
}
static void mm_free(MM& p) {
  for (auto a : p.A) cudaFree(a);
  for (auto b : p.B) cudaFree(b);
  cudaFree(p.C); cudaFree(p.R);
}
static void bench_mm(cublasHandle_t h, int M, int N, int K, bool timing) {
  MM p = mm_alloc(M, N, K);
  double flops = 2.0 * M * N * K;
  bool nan;
  CK(cudaMemset(p.C, 0xff, (size_t)M * N * 2));
  cublas_mm(h, p.A[0], p.B[0], p.C, M, N, K); CK(cudaDeviceSynchronize());
  double e_cb = rel_err(p.C, p.R, (size_t)M * N, &nan);
  double t_cb = timing ? time_us([&](int i) { cublas_mm(h, p.A[i], p.B[i], p.C, M, N, K); }, p.nsets, 20) : 0;
  char line[256];
  snprintf(line, sizeof line, "mm %dx%dx%d %-40s err %.1e%s %9.2f us %7.1f TF/s", M, N, K, "cuBLAS", e_cb,
           nan ? " NaN" : "", t_cb, timing ? flops / t_cb * 1e-6 : 0);
  printf("%s\n", line); g_table.push_back(line);
  double best = 1e30; const char* bestn = "";
  const char* only = getenv("KBENCH_ONLY");  // substring of a config name: time only those
  for (auto& c : mm_cfgs) {
    if (only && !strstr(c.name, only)) continue;
    if (mm_smem(c) > 48 * 1024) CK(cudaFuncSetAttribute(c.k, cudaFuncAttributeMaxDynamicSharedMemorySize, (int)mm_smem(c)));
    if (!timing && c.BM >= 128 && c.BN >= 128 && c.pid == 0 && c.BK == 64) continue;
    CK(cudaMemset(p.C, 0xff, (size_t)M * N * 2));
    mm_launch(c, p.A[0], p.B[0], p.C, M, N, K); CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
    double e = rel_err(p.C, p.R, (size_t)M * N, &nan);
    bool ok = !nan && e < 1e-2;
    double t = (timing && ok) ? time_us([&](int i) { mm_launch(c, p.A[i], p.B[i], p.C, M, N, K); }, p.nsets, 20) : 0;
    snprintf(line, sizeof line, "mm %dx%dx%d %-40s err %.1e%s %9.2f us %7.1f TF/s %5.1f%% cuBLAS%s", M, N, K, c.name, e,
             nan ? " NaN" : "", t, t > 0 ? flops / t * 1e-6 : 0, t > 0 ? 100 * t_cb / t : 0, ok ? "" : " WRONG");
    printf("%s\n", line);
    if (!timing && !ok) g_table.push_back(line);
    if (t > 0 && t < best) { best = t; bestn = c.name; }
  }
  if (timing) {
    snprintf(line, sizeof line, "mm %dx%dx%d BEST %-35s %9.2f us %7.1f TF/s = %.2fx cuBLAS latency", M, N, K, bestn, best,
             flops / best * 1e-6, best / t_cb);
    g_table.push_back(line);
  }
  mm_free(p);
}

// ---------- softmax ----------
typedef void (*SMKernel)(const h16*, h16*, int, int);
struct SMCfg { const char* name; SMKernel k; int tpr, rpb, vec; };
#define SMC(T, R, V, I, MO, H) SMCfg{"t" #T " r" #R " v" #V " i" #I " mode" #MO " hint" #H, \
                                     sm::softmax_kernel<T, R, V, I, MO, H>, T, R, V}
static SMCfg sm_small[] = {  // cols 256 (ITEMS = 256 / (T*V))
  SMC(32, 4, 8, 1, 0, 0), SMC(32, 8, 8, 1, 0, 0), SMC(32, 2, 8, 1, 0, 0), SMC(16, 8, 8, 2, 0, 0),
  SMC(8, 16, 8, 4, 0, 0), SMC(32, 4, 8, 1, 0, 2), SMC(32, 4, 8, 1, 0, 1), SMC(32, 4, 8, 1, 1, 0),
  SMC(32, 4, 8, 1, 2, 0), SMC(64, 2, 4, 1, 0, 0), SMC(32, 16, 8, 1, 0, 0), SMC(16, 16, 8, 2, 0, 2),
};
static SMCfg sm_large[] = {  // cols 8192
  SMC(1024, 1, 8, 1, 0, 0), SMC(1024, 1, 8, 1, 0, 2), SMC(512, 1, 8, 2, 0, 0), SMC(512, 1, 8, 2, 0, 2),
  SMC(256, 1, 8, 4, 0, 0), SMC(256, 1, 8, 4, 0, 2), SMC(256, 2, 8, 4, 0, 2), SMC(128, 1, 8, 8, 0, 2),
  SMC(256, 1, 8, 1, 1, 0), SMC(512, 1, 8, 1, 1, 2), SMC(256, 1, 8, 1, 2, 0), SMC(1024, 1, 4, 2, 0, 2),
};
static SMCfg sm_odd[] = { SMC(32, 4, 1, 5, 0, 0), SMC(64, 2, 1, 1, 1, 2), SMC(128, 1, 1, 1, 2, 1), SMC(8, 16, 1, 17, 0, 3) };
static SMCfg sm_odd2[] = { SMC(32, 4, 8, 4, 0, 0), SMC(64, 2, 4, 1, 1, 2), SMC(128, 1, 2, 1, 2, 1), SMC(8, 16, 8, 16, 0, 3) };

static void bench_sm(int rows, int cols, SMCfg* cfgs, int ncfg, bool timing) {
  size_t n = (size_t)rows * cols;
  int nsets = (int)std::max<size_t>(1, std::min<size_t>(32, (200u << 20) / (n * 2)));
  std::vector<h16*> X(nsets);
  for (int i = 0; i < nsets; ++i) { CK(cudaMalloc(&X[i], n * 2)); fill_random(X[i], n, 5 + i, 4.f); }
  h16 *Y, *R; CK(cudaMalloc(&Y, n * 2)); CK(cudaMalloc(&R, n * 2));
  sm::softmax_reference<<<(rows + 127) / 128, 128>>>(X[0], R, rows, cols);
  CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
  double bytes = 2.0 * n * 2, best = 1e30; const char* bestn = "";
  char line[256];
  for (int j = 0; j < ncfg; ++j) {
    SMCfg& c = cfgs[j];
    int grid = (rows + c.rpb - 1) / c.rpb;
    CK(cudaMemset(Y, 0xff, n * 2));
    c.k<<<grid, c.tpr * c.rpb>>>(X[0], Y, rows, cols); CK(cudaGetLastError()); CK(cudaDeviceSynchronize());
    bool nan; double e = rel_err(Y, R, n, &nan); bool ok = !nan && e < 1e-2;
    double t = 0, th = 0;
    if (timing && ok) {
      t = time_us([&](int i) { c.k<<<grid, c.tpr * c.rpb>>>(X[i], Y, rows, cols); }, nsets, 50);
      th = time_us([&](int) { c.k<<<grid, c.tpr * c.rpb>>>(X[0], Y, rows, cols); }, 1, 50);
    }
    snprintf(line, sizeof line, "sm %dx%d %-32s err %.1e%s rotated %8.2f us %6.0f GB/s | hot %8.2f us%s", rows, cols,
             c.name, e, nan ? " NaN" : "", t, t > 0 ? bytes / t * 1e-3 : 0, th, ok ? "" : " WRONG");
    printf("%s\n", line);
    if (!ok) g_table.push_back(line);
    if (t > 0 && t < best) { best = t; bestn = c.name; }
  }
  if (timing) {
    snprintf(line, sizeof line, "sm %dx%d BEST %-32s rotated %8.2f us %6.0f GB/s", rows, cols, bestn, best, bytes / best * 1e-3);
    g_table.push_back(line);
  }
  for (auto x : X) cudaFree(x);
  cudaFree(Y); cudaFree(R);
}

static void bench_copy() {
  size_t bytes = 256u << 20; void *a, *b; CK(cudaMalloc(&a, bytes)); CK(cudaMalloc(&b, bytes));
  CK(cudaMemset(a, 1, bytes));
  double t = time_us([&](int) { CK(cudaMemcpyAsync(b, a, bytes, cudaMemcpyDeviceToDevice)); }, 1, 10);
  char line[128]; snprintf(line, sizeof line, "copy 256 MiB d2d %.1f us = %.0f GB/s (read+write)", t, 2.0 * bytes / t * 1e-3);
  printf("%s\n", line); g_table.push_back(line);
  cudaFree(a); cudaFree(b);
}

int main(int argc, char** argv) {
  cudaDeviceProp prop; CK(cudaGetDeviceProperties(&prop, 0)); g_sms = prop.multiProcessorCount;
  printf("device %s, %d SMs, L2 %d MB, smem/block optin %zu\n", prop.name, g_sms, prop.l2CacheSize >> 20, prop.sharedMemPerBlockOptin);
  cublasHandle_t h; if (cublasCreate(&h) != CUBLAS_STATUS_SUCCESS) { fprintf(stderr, "cublasCreate failed\n"); return 1; }
  if (argc > 1 && strcmp(argv[1], "big") == 0) {  // 4096^3 only, for ncu with KBENCH_ONLY
    bench_mm(h, 4096, 4096, 4096, true);
    return 0;
  }
  bool quick = argc > 1 && strcmp(argv[1], "quick") == 0;  // matmul 1024^3 and 4096^3 only
  if (quick) {
    bench_mm(h, 1000, 1000, 1000, false);
    bench_mm(h, 1024, 1024, 1024, true);
    bench_mm(h, 4096, 4096, 4096, true);
    printf("\n==== summary ====\n");
    for (auto& s : g_table) printf("%s\n", s.c_str());
    return 0;
  }
  bench_copy();
  // correctness on odd shapes (no timing)
  bench_mm(h, 1000, 1000, 1000, false);
  bench_mm(h, 257, 129, 77, false);
  bench_mm(h, 1, 300, 64, false);
  bench_mm(h, 300, 1, 72, false);
  bench_sm(4097, 129, sm_odd, 4, false);
  bench_sm(3, 1000, sm_odd2, 4, false);
  // timing
  bench_mm(h, 1024, 1024, 1024, true);
  bench_mm(h, 4096, 4096, 4096, true);
  bench_mm(h, 4096, 1024, 1024, true);
  bench_mm(h, 1024, 4096, 1024, true);
  bench_sm(4096, 256, sm_small, sizeof sm_small / sizeof *sm_small, true);
  bench_sm(8192, 8192, sm_large, sizeof sm_large / sizeof *sm_large, true);
  printf("\n==== summary ====\n");
  for (auto& s : g_table) printf("%s\n", s.c_str());
  cublasDestroy(h);
  return 0;
}
