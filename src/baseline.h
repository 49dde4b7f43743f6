/* Vendor baseline: cuBLAS loaded by dlopen (no link-time dependency), timing the same GEMM
 * problem as kernels/matmul so results can print "x% of cuBLAS". No library, or no device,
 * means no baseline: baseline_open returns NULL with an error that starts with "n/a: ". */
#ifndef HTUNE_BASELINE_H
#define HTUNE_BASELINE_H
#include <cuda.h>
#include <stddef.h>

struct baseline; /* opaque: the dlopened library and one cublasHandle_t */

/* Opens cuBLAS and creates a handle in the CUDA context current on the calling thread.
 * Library search: $HTUNE_CUBLAS (a file path; when set, nothing else is tried), then
 * <CUDA_HOME>/lib64/libcublas.so.13 and .so, then libcublas.so.13, .so.12, .so on the
 * loader path. Returns NULL with err = "n/a: <why>" when the library or handle is absent. */
struct baseline *baseline_open(char *err, size_t errlen);
/* Destroys the handle and unloads the library; NULL is a no-op. */
void baseline_close(struct baseline *b);
/* "cuBLAS <version>" for tables; valid until baseline_close. */
const char *baseline_name(const struct baseline *b);

/* fp16 GEMM with fp32 accumulation, row-major: C[M x N] = A[M x K] · B[K x N], all three
 * dense (lda = K, ldb = N, ldc = N), enqueued on stream s without synchronizing.
 * Returns 0, or the nonzero cublasStatus_t (see baseline_status_name). */
int baseline_gemm(struct baseline *b, CUstream s, CUdeviceptr A, CUdeviceptr B, CUdeviceptr C,
                  int M, int N, int K);
const char *baseline_status_name(int status);

/* Adapter for bench_run (src/bench.h, bench_launch_fn): ctx is a struct baseline_gemm_args;
 * returns 0 or a nonzero status, which bench_run reports as a failed launch. */
struct baseline_gemm_args {
    struct baseline *b;
    CUdeviceptr A, B, C;
    int M, N, K;
};
int baseline_gemm_launch(void *ctx, CUstream s);
#endif
