/* Device query, the worker's context and the helper kernels (see cudadev.h). */
#include "cudadev.h"
#include "devcommon.h"
#include "devkernels_ptx.h"
#include <stdio.h>
#include <string.h>

#define TRY(call) do { int r_ = (call); if (r_) return r_; } while (0)

static int attr(const struct cuda_api *api, CUdevice d, CUdevice_attribute a) {
    int v = 0;
    api->device_get_attribute(&v, a, d);
    return v;
}

int cuda_device_query(const struct cuda_api *api, int ordinal, struct cuda_device_info *info, char *err, size_t errlen) {
    CUdevice d;
    char msg[200];
    memset(info, 0, sizeof *info);
    int r = api->device_get(&d, ordinal);
    if (!r) r = api->device_get_name(info->name, (int)sizeof info->name - 1, d);
    size_t bytes = 0;
    if (!r) r = api->device_total_mem(&bytes, d);
    if (r) {
        snprintf(err, errlen, "device %d: %s", ordinal, cuda_api_error(api, r, msg, sizeof msg));
        return r;
    }
    info->ordinal = ordinal;
    info->mem_bytes = bytes;
    info->cc_major = attr(api, d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR);
    info->cc_minor = attr(api, d, CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR);
    info->sms = attr(api, d, CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT);
    info->clock_khz = attr(api, d, CU_DEVICE_ATTRIBUTE_CLOCK_RATE);
    info->mem_clock_khz = attr(api, d, CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE);
    info->bus_width_bits = attr(api, d, CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH);
    info->l2_bytes = attr(api, d, CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE);
    info->smem_per_block = attr(api, d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK);
    info->smem_per_block_optin = attr(api, d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN);
    info->smem_per_sm = attr(api, d, CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR);
    info->regs_per_sm = attr(api, d, CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR);
    info->max_threads_per_block = attr(api, d, CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK);
    return 0;
}

static int open_steps(struct cuda_ctx *c, int ordinal, char *err, size_t errlen) {
    const struct cuda_api *api = c->api;
    TRY(cuda_device_query(api, ordinal, &c->info, err, errlen));
    TRY(api->device_get(&c->dev, ordinal));
    TRY(api->primary_ctx_retain(&c->ctx, c->dev));
    TRY(api->ctx_set_current(c->ctx));
    TRY(api->stream_create(&c->stream, CU_STREAM_NON_BLOCKING));
    TRY(api->module_load_data(&c->helpers, devkernels_ptx));
    TRY(api->module_get_function(&c->fill_fn, c->helpers, "htune_fill"));
    TRY(api->module_get_function(&c->compare_fn, c->helpers, "htune_compare"));
    return api->mem_alloc(&c->compare_res, sizeof(struct dev_compare));
}

int cuda_ctx_open(struct cuda_ctx *c, const struct cuda_api *api, int ordinal, char *err, size_t errlen) {
    memset(c, 0, sizeof *c);
    c->api = api;
    err[0] = 0;
    int r = open_steps(c, ordinal, err, errlen);
    if (r && !err[0]) {
        char msg[200];
        snprintf(err, errlen, "context on device %d: %s", ordinal, cuda_api_error(api, r, msg, sizeof msg));
    }
    return r;
}

void cuda_ctx_close(struct cuda_ctx *c) {
    const struct cuda_api *api = c->api;
    if (!api) return;
    if (c->compare_res) api->mem_free(c->compare_res);
    if (c->helpers) api->module_unload(c->helpers);
    if (c->stream) api->stream_destroy(c->stream);
    if (c->ctx) api->primary_ctx_release(c->dev);
    memset(c, 0, sizeof *c);
}

static unsigned grid_for(uint64_t count) {
    uint64_t blocks = (count + 255) / 256;
    return blocks > 4096 ? 4096 : blocks ? (unsigned)blocks : 1;
}

int cuda_fill(struct cuda_ctx *c, CUdeviceptr p, int dtype, uint64_t count, int init, uint64_t seed, double value) {
    if (init == WP_INIT_ZERO) return c->api->memset_d8_async(p, 0, count * (uint64_t)dev_dtype_size(dtype), c->stream);
    unsigned long long n = count, s = seed;
    int mode = init == WP_INIT_CONST ? DEV_FILL_CONST : DEV_FILL_RANDOM;
    float v = (float)value;
    void *params[] = { &p, &n, &dtype, &mode, &s, &v };
    return c->api->launch_kernel(c->fill_fn, grid_for(count), 1, 1, 256, 1, 1, 0, c->stream, params, NULL);
}

int cuda_compare(struct cuda_ctx *c, CUdeviceptr out, CUdeviceptr ref, int dtype, uint64_t count,
                 double atol, double rtol, struct cuda_compare *res) {
    const struct cuda_api *api = c->api;
    struct dev_compare init = { 0, 0, 0, ~(dev_u64)0 }, got;
    unsigned long long n = count;
    float fa = (float)atol, fr = (float)rtol;
    void *params[] = { &out, &ref, &n, &dtype, &fa, &fr, &c->compare_res };
    TRY(api->stream_synchronize(c->stream));
    TRY(api->memcpy_htod(c->compare_res, &init, sizeof init));
    TRY(api->launch_kernel(c->compare_fn, grid_for(count), 1, 1, 256, 1, 1, 0, c->stream, params, NULL));
    TRY(api->stream_synchronize(c->stream));
    TRY(api->memcpy_dtoh(&got, c->compare_res, sizeof got));
    res->max_abs_err = dev_bits_float(got.max_abs_bits);
    res->max_rel_err = dev_bits_float(got.max_rel_bits);
    res->mismatches = got.mismatches;
    res->first_bad = got.first_bad;
    return 0;
}

void cuda_default_tolerance(int dtype, double *atol, double *rtol) {
    static const double tol[] = { 1e-4, 1e-2, 2e-2, 0 };
    *atol = *rtol = dtype >= 0 && dtype < 4 ? tol[dtype] : 0;
}
