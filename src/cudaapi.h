/* The CUDA driver as a table of function pointers: filled from libcuda.so.1 at run time
 * (dlopen + cuGetProcAddress with each entry's ABI version), or by the CPU fake in
 * cudafake.c, so the benchmark loop and the worker are tested without a GPU. */
#ifndef HTUNE_CUDAAPI_H
#define HTUNE_CUDAAPI_H
#include <cuda.h>
#include <cudaTypedefs.h>
#include <stddef.h>

struct cuda_api {
    void *lib;             /* dlopen handle; NULL for the fake */
    int driver_version;    /* e.g. 12040; 0 until init */
    const char *kind;      /* "driver" or "fake" */
    PFN_cuInit_v2000 init;
    PFN_cuDriverGetVersion_v2020 driver_get_version;
    PFN_cuDeviceGetCount_v2000 device_get_count;
    PFN_cuDeviceGet_v2000 device_get;
    PFN_cuDeviceGetName_v2000 device_get_name;
    PFN_cuDeviceGetAttribute_v2000 device_get_attribute;
    PFN_cuDeviceTotalMem_v3020 device_total_mem;
    PFN_cuDevicePrimaryCtxRetain_v7000 primary_ctx_retain;
    PFN_cuDevicePrimaryCtxRelease_v11000 primary_ctx_release;
    PFN_cuCtxSetCurrent_v4000 ctx_set_current;
    PFN_cuModuleLoadData_v2000 module_load_data;
    PFN_cuModuleUnload_v2000 module_unload;
    PFN_cuModuleGetFunction_v2000 module_get_function;
    PFN_cuFuncGetAttribute_v2020 func_get_attribute;
    PFN_cuFuncSetAttribute_v9000 func_set_attribute;
    PFN_cuLaunchKernel_v4000 launch_kernel;
    PFN_cuMemAlloc_v3020 mem_alloc;
    PFN_cuMemFree_v3020 mem_free;
    PFN_cuMemcpyHtoD_v3020 memcpy_htod;
    PFN_cuMemcpyDtoH_v3020 memcpy_dtoh;
    PFN_cuMemcpyDtoDAsync_v3020 memcpy_dtod_async;
    PFN_cuMemsetD8Async_v3020 memset_d8_async;
    PFN_cuMemsetD32Async_v3020 memset_d32_async;
    PFN_cuStreamCreate_v2000 stream_create;
    PFN_cuStreamDestroy_v4000 stream_destroy;
    PFN_cuStreamSynchronize_v2000 stream_synchronize;
    PFN_cuEventCreate_v2000 event_create;
    PFN_cuEventDestroy_v4000 event_destroy;
    PFN_cuEventRecord_v2000 event_record;
    PFN_cuEventSynchronize_v2000 event_synchronize;
    PFN_cuEventElapsedTime_v2000 event_elapsed_time; /* v12080 has the same signature */
    PFN_cuGetErrorName_v6000 get_error_name;
    PFN_cuGetErrorString_v6000 get_error_string;
    PFN_cuTensorMapEncodeTiled_v12000 tensor_map_encode_tiled;   /* optional: NULL on drivers before 12.0 */
    PFN_cuLaunchHostFunc_v10000 launch_host_func;   /* optional: NULL leaves bench.c's rounds ungated */
};

/* Opens libcuda.so.1 (or $HTUNE_LIBCUDA) and fills every entry (an optional one the driver
 * lacks stays NULL). Returns 0, or -1 with err naming the library or the missing required
 * symbol ("no CUDA driver: ..."). Calls no cuInit. */
int cuda_api_load(struct cuda_api *api, char *err, size_t errlen);

/* Closes the library opened by cuda_api_load (no-op for the fake). */
void cuda_api_unload(struct cuda_api *api);

/* "CUDA_ERROR_ILLEGAL_ADDRESS: an illegal memory access was encountered" into buf; returns buf. */
const char *cuda_api_error(const struct cuda_api *api, CUresult r, char *buf, size_t buflen);

/* Fills api with the CPU fake (cudafake.c). Its kernels are named fake_<kind>[_<us>].
 * Tensor maps: $HTUNE_FAKE_TMAP=absent leaves tensor_map_encode_tiled NULL, =fail makes every
 * encode return CUDA_ERROR_INVALID_VALUE; $HTUNE_FAKE_TMAP_LOG=path appends a line per encode
 * and, on the first launch of each loaded fake_tmap kernel, one per map it received. */
void cuda_api_fake(struct cuda_api *api);
/* Host functions the fake has run (tests of bench.c's gate). */
int cuda_fake_host_fns(void);
#endif
