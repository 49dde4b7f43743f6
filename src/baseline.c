/* cuBLAS baseline by dlopen: library search, handle creation, and the row-major fp16 GEMM
 * (computed as the column-major C^T = B^T · A^T, so no transposes are needed). */
#include "baseline.h"
#include <stdint.h>
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef HTUNE_CUDA_HOME
#define HTUNE_CUDA_HOME "/usr/local/cuda"
#endif

/* cuBLAS ABI values (cublas_api.h, library_types.h), declared here so the build needs no
 * cuBLAS headers. */
enum { CUBLAS_OP_N_ = 0, CUDA_R_16F_ = 2, CUBLAS_COMPUTE_32F_ = 68, CUBLAS_GEMM_DEFAULT_ = -1 };
typedef int (*create_fn)(void **handle);
typedef int (*destroy_fn)(void *handle);
typedef int (*set_stream_fn)(void *handle, CUstream s);
typedef int (*get_version_fn)(void *handle, int *version);
typedef int (*gemm_ex_fn)(void *handle, int transa, int transb, int m, int n, int k,
                          const void *alpha, const void *A, int atype, int lda,
                          const void *B, int btype, int ldb, const void *beta,
                          void *C, int ctype, int ldc, int compute, int algo);

struct baseline {
    void *dl;
    void *handle;
    destroy_fn destroy;
    set_stream_fn set_stream;
    gemm_ex_fn gemm_ex;
    char name[64];
};

static void *open_library(char *tried, size_t len) {
    const char *env = getenv("HTUNE_CUBLAS");
    const char *names[] = { HTUNE_CUDA_HOME "/lib64/libcublas.so.13", HTUNE_CUDA_HOME "/lib64/libcublas.so",
                            "libcublas.so.13", "libcublas.so.12", "libcublas.so" };
    tried[0] = 0;
    if (env && *env) {
        snprintf(tried, len, "%s", env);
        return dlopen(env, RTLD_NOW | RTLD_LOCAL);
    }
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        void *dl = dlopen(names[i], RTLD_NOW | RTLD_LOCAL);
        if (dl) return dl;
        size_t used = strlen(tried);
        snprintf(tried + used, len - used, "%s%s", used ? ", " : "", names[i]);
    }
    return NULL;
}

static int load_symbols(struct baseline *b, create_fn *create, get_version_fn *version) {
    *create = (create_fn)dlsym(b->dl, "cublasCreate_v2");
    *version = (get_version_fn)dlsym(b->dl, "cublasGetVersion_v2");
    b->destroy = (destroy_fn)dlsym(b->dl, "cublasDestroy_v2");
    b->set_stream = (set_stream_fn)dlsym(b->dl, "cublasSetStream_v2");
    b->gemm_ex = (gemm_ex_fn)dlsym(b->dl, "cublasGemmEx");
    return *create && b->destroy && b->set_stream && b->gemm_ex ? 0 : -1;
}

struct baseline *baseline_open(char *err, size_t errlen) {
    char tried[1024];
    struct baseline *b = calloc(1, sizeof *b);
    if (!b) { snprintf(err, errlen, "n/a: out of memory"); return NULL; }
    b->dl = open_library(tried, sizeof tried);
    if (!b->dl) {
        snprintf(err, errlen, "n/a: cuBLAS not found (tried %s)", tried);
        free(b);
        return NULL;
    }
    create_fn create;
    get_version_fn version;
    if (load_symbols(b, &create, &version) != 0) {
        snprintf(err, errlen, "n/a: cuBLAS library lacks cublasCreate_v2/cublasGemmEx");
        baseline_close(b);
        return NULL;
    }
    int st = create(&b->handle);
    if (st != 0) {
        snprintf(err, errlen, "n/a: cublasCreate failed (%s)", baseline_status_name(st));
        b->handle = NULL;
        baseline_close(b);
        return NULL;
    }
    int v = 0;
    if (version) version(b->handle, &v);
    snprintf(b->name, sizeof b->name, "cuBLAS %d.%d.%d", v / 10000, v / 100 % 100, v % 100);
    return b;
}

void baseline_close(struct baseline *b) {
    if (!b) return;
    if (b->handle) b->destroy(b->handle);
    if (b->dl) dlclose(b->dl);
    free(b);
}

const char *baseline_name(const struct baseline *b) { return b->name; }

int baseline_gemm(struct baseline *b, CUstream s, CUdeviceptr A, CUdeviceptr B, CUdeviceptr C,
                  int M, int N, int K) {
    const float one = 1.0f, zero = 0.0f;
    int st = b->set_stream(b->handle, s);
    if (st != 0) return st;
    /* row-major C = A·B is column-major C^T (N x M) = B^T (N x K) · A^T (K x M) */
    return b->gemm_ex(b->handle, CUBLAS_OP_N_, CUBLAS_OP_N_, N, M, K, &one,
                      (const void *)(uintptr_t)B, CUDA_R_16F_, N, (const void *)(uintptr_t)A, CUDA_R_16F_, K,
                      &zero, (void *)(uintptr_t)C, CUDA_R_16F_, N, CUBLAS_COMPUTE_32F_, CUBLAS_GEMM_DEFAULT_);
}

int baseline_gemm_launch(void *ctx, CUstream s) {
    struct baseline_gemm_args *a = ctx;
    return baseline_gemm(a->b, s, a->A, a->B, a->C, a->M, a->N, a->K);
}

const char *baseline_status_name(int status) {
    switch (status) {
    case 0: return "CUBLAS_STATUS_SUCCESS";
    case 1: return "CUBLAS_STATUS_NOT_INITIALIZED";
    case 3: return "CUBLAS_STATUS_ALLOC_FAILED";
    case 7: return "CUBLAS_STATUS_INVALID_VALUE";
    case 8: return "CUBLAS_STATUS_ARCH_MISMATCH";
    case 11: return "CUBLAS_STATUS_MAPPING_ERROR";
    case 13: return "CUBLAS_STATUS_EXECUTION_FAILED";
    case 14: return "CUBLAS_STATUS_INTERNAL_ERROR";
    case 15: return "CUBLAS_STATUS_NOT_SUPPORTED";
    case 16: return "CUBLAS_STATUS_LICENSE_ERROR";
    default: return "CUBLAS_STATUS_UNKNOWN";
    }
}
