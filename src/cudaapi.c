/* Loads the CUDA driver API into struct cuda_api. Entry points are resolved through
 * cuGetProcAddress with the ABI version each typedef was written for (so a newer driver
 * never hands back an incompatible variant); drivers without it fall back to dlsym of the
 * versioned names (cuMemAlloc_v2, ...). */
#include "cudaapi.h"
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct entry {
    size_t offset;        /* of the pointer in struct cuda_api */
    const char *base;     /* name for cuGetProcAddress */
    int abi;              /* CUDA version whose variant matches the typedef */
    int abi_fallback;     /* older variant with the same signature, or 0 */
    const char *symbol;   /* exported name for plain dlsym */
    int optional;         /* absent: the entry stays NULL and loading goes on */
};

#define E(field, base, abi, fb, sym) { offsetof(struct cuda_api, field), base, abi, fb, sym, 0 }
#define OPT(field, base, abi, sym) { offsetof(struct cuda_api, field), base, abi, 0, sym, 1 }
static const struct entry entries[] = {
    E(init, "cuInit", 2000, 0, "cuInit"),
    E(driver_get_version, "cuDriverGetVersion", 2020, 0, "cuDriverGetVersion"),
    E(device_get_count, "cuDeviceGetCount", 2000, 0, "cuDeviceGetCount"),
    E(device_get, "cuDeviceGet", 2000, 0, "cuDeviceGet"),
    E(device_get_name, "cuDeviceGetName", 2000, 0, "cuDeviceGetName"),
    E(device_get_attribute, "cuDeviceGetAttribute", 2000, 0, "cuDeviceGetAttribute"),
    E(device_total_mem, "cuDeviceTotalMem", 3020, 0, "cuDeviceTotalMem_v2"),
    E(primary_ctx_retain, "cuDevicePrimaryCtxRetain", 7000, 0, "cuDevicePrimaryCtxRetain"),
    E(primary_ctx_release, "cuDevicePrimaryCtxRelease", 11000, 0, "cuDevicePrimaryCtxRelease_v2"),
    E(ctx_set_current, "cuCtxSetCurrent", 4000, 0, "cuCtxSetCurrent"),
    E(module_load_data, "cuModuleLoadData", 2000, 0, "cuModuleLoadData"),
    E(module_unload, "cuModuleUnload", 2000, 0, "cuModuleUnload"),
    E(module_get_function, "cuModuleGetFunction", 2000, 0, "cuModuleGetFunction"),
    E(func_get_attribute, "cuFuncGetAttribute", 2020, 0, "cuFuncGetAttribute"),
    E(func_set_attribute, "cuFuncSetAttribute", 9000, 0, "cuFuncSetAttribute"),
    E(launch_kernel, "cuLaunchKernel", 4000, 0, "cuLaunchKernel"),
    E(mem_alloc, "cuMemAlloc", 3020, 0, "cuMemAlloc_v2"),
    E(mem_free, "cuMemFree", 3020, 0, "cuMemFree_v2"),
    E(memcpy_htod, "cuMemcpyHtoD", 3020, 0, "cuMemcpyHtoD_v2"),
    E(memcpy_dtoh, "cuMemcpyDtoH", 3020, 0, "cuMemcpyDtoH_v2"),
    E(memcpy_dtod_async, "cuMemcpyDtoDAsync", 3020, 0, "cuMemcpyDtoDAsync_v2"),
    E(memset_d8_async, "cuMemsetD8Async", 3020, 0, "cuMemsetD8Async"),
    E(memset_d32_async, "cuMemsetD32Async", 3020, 0, "cuMemsetD32Async"),
    E(stream_create, "cuStreamCreate", 2000, 0, "cuStreamCreate"),
    E(stream_destroy, "cuStreamDestroy", 4000, 0, "cuStreamDestroy_v2"),
    E(stream_synchronize, "cuStreamSynchronize", 2000, 0, "cuStreamSynchronize"),
    E(event_create, "cuEventCreate", 2000, 0, "cuEventCreate"),
    E(event_destroy, "cuEventDestroy", 4000, 0, "cuEventDestroy_v2"),
    E(event_record, "cuEventRecord", 2000, 0, "cuEventRecord"),
    E(event_synchronize, "cuEventSynchronize", 2000, 0, "cuEventSynchronize"),
    E(event_elapsed_time, "cuEventElapsedTime", 12080, 2000, "cuEventElapsedTime"),
    E(get_error_name, "cuGetErrorName", 6000, 0, "cuGetErrorName"),
    E(get_error_string, "cuGetErrorString", 6000, 0, "cuGetErrorString"),
    OPT(tensor_map_encode_tiled, "cuTensorMapEncodeTiled", 12000, "cuTensorMapEncodeTiled"),
    OPT(launch_host_func, "cuLaunchHostFunc", 10000, "cuLaunchHostFunc"),
};
#undef E
#undef OPT

typedef CUresult (*proc_v2_fn)(const char *, void **, int, cuuint64_t, CUdriverProcAddressQueryResult *);

static void *resolve(void *lib, proc_v2_fn gpa, const struct entry *e) {
    void *fn = NULL;
    CUdriverProcAddressQueryResult status;
    if (gpa) {
        if (gpa(e->base, &fn, e->abi, CU_GET_PROC_ADDRESS_LEGACY_STREAM, &status) == CUDA_SUCCESS && fn)
            return fn;
        fn = NULL;
        if (e->abi_fallback &&
            gpa(e->base, &fn, e->abi_fallback, CU_GET_PROC_ADDRESS_LEGACY_STREAM, &status) == CUDA_SUCCESS && fn)
            return fn;
    }
    return dlsym(lib, e->symbol);
}

int cuda_api_load(struct cuda_api *api, char *err, size_t errlen) {
    memset(api, 0, sizeof *api);
    const char *path = getenv("HTUNE_LIBCUDA");
    if (!path || !*path) path = "libcuda.so.1";
    void *lib = dlopen(path, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        snprintf(err, errlen, "no CUDA driver: %s", dlerror());
        return -1;
    }
    proc_v2_fn gpa = (proc_v2_fn)dlsym(lib, "cuGetProcAddress_v2");
    for (size_t i = 0; i < sizeof entries / sizeof entries[0]; i++) {
        void *fn = resolve(lib, gpa, &entries[i]);
        if (!fn && entries[i].optional) continue;
        if (!fn) {
            snprintf(err, errlen, "CUDA driver %s lacks %s (ABI %d)", path, entries[i].base, entries[i].abi);
            dlclose(lib);
            memset(api, 0, sizeof *api);
            return -1;
        }
        memcpy((char *)api + entries[i].offset, &fn, sizeof fn);
    }
    api->lib = lib;
    api->kind = "driver";
    api->driver_get_version(&api->driver_version);
    return 0;
}

void cuda_api_unload(struct cuda_api *api) {
    if (api->lib) dlclose(api->lib);
    memset(api, 0, sizeof *api);
}

const char *cuda_api_error(const struct cuda_api *api, CUresult r, char *buf, size_t buflen) {
    const char *name = NULL, *text = NULL;
    if (api->get_error_name) api->get_error_name(r, &name);
    if (api->get_error_string) api->get_error_string(r, &text);
    snprintf(buf, buflen, "%s (%d): %s", name ? name : "CUDA_ERROR", (int)r, text ? text : "unknown error");
    return buf;
}
