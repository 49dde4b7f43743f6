/* Device-side services used inside the GPU worker (cuda.c; named cudadev.h because src/ is on
 * the include path and cuda.h must stay the toolkit's): device query, a context with one
 * stream, and the helper kernels (seeded fill, on-GPU comparison) loaded from embedded PTX.
 * Everything here runs in the worker process only: the parent never holds a context. */
#ifndef HTUNE_CUDADEV_H
#define HTUNE_CUDADEV_H
#include "cudaapi.h"
#include "wproto.h"

struct cuda_ctx {
    const struct cuda_api *api;
    CUdevice dev;
    CUcontext ctx;
    CUstream stream;
    CUmodule helpers;
    CUfunction fill_fn, compare_fn;
    CUdeviceptr compare_res;   /* one struct dev_compare */
    struct cuda_device_info info;
};

struct cuda_compare { double max_abs_err, max_rel_err; uint64_t mismatches, first_bad; };

/* Fills *info for device ordinal. 0, or a CUresult with err filled. */
int cuda_device_query(const struct cuda_api *api, int ordinal, struct cuda_device_info *info, char *err, size_t errlen);

/* Retains the primary context of `ordinal`, creates a stream, loads the helper kernels.
 * 0, or a CUresult with err filled (then cuda_ctx_close is still safe). */
int cuda_ctx_open(struct cuda_ctx *c, const struct cuda_api *api, int ordinal, char *err, size_t errlen);
void cuda_ctx_close(struct cuda_ctx *c);

/* Fills count elements of dtype at p: WP_INIT_RANDOM with seed, WP_INIT_CONST with value,
 * WP_INIT_ZERO. Enqueued on the context's stream. Returns a CUresult. */
int cuda_fill(struct cuda_ctx *c, CUdeviceptr p, int dtype, uint64_t count, int init, uint64_t seed, double value);

/* Compares out with ref elementwise on the GPU (|o-r| <= atol + rtol*|r|), waits, and
 * fills *res. Returns a CUresult. */
int cuda_compare(struct cuda_ctx *c, CUdeviceptr out, CUdeviceptr ref, int dtype, uint64_t count,
                 double atol, double rtol, struct cuda_compare *res);

/* Default tolerances of a dtype (fp32 1e-4, fp16 1e-2, bf16 2e-2, int32 exact). */
void cuda_default_tolerance(int dtype, double *atol, double *rtol);
#endif
