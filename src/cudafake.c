/* A CPU stand-in for the CUDA driver, so the bench loop, the worker protocol, the watchdog
 * and restarts are tested without a GPU. Device memory is host memory; time is simulated
 * (each launch advances a stream clock by its kernel's duration with ~0.5% noise). Kernels
 * are chosen by name: fake_<kind>[_<us>], kinds sleep copy wrong fault trap hang tmap, plus the
 * worker's helpers htune_fill / htune_compare computed with the same formulas (devcommon.h).
 * Tensor maps are encoded as their plain parameters, so a test can read what a kernel got.
 * Like the real driver its state is per process: one static struct, reset by cuInit. */
#include "cudaapi.h"
#include "devcommon.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct fake_fn { char kind[16]; double us; int logged; };
struct fake_module { struct fake_fn fns[16]; int n; };   /* functions live with their module */
struct fake_event { double t_us; };

static struct fake_state {
    double clock_us;      /* the GPU's timeline: when its last queued work ends */
    double host_us;       /* the host's: each launch costs it launch_us ($HTUNE_FAKE_LAUNCH_US, 0) */
    double launch_us;
    uint64_t rng;
    CUresult sticky;      /* set by fault/trap kernels, returned by every later call */
    int hang;             /* set by the hang kernel: the next synchronize never returns */
    /* A host function (cuLaunchHostFunc) holds the stream: work queued behind it adds up in
     * held_us, events note their offset in it, and the next synchronize runs it and places
     * the held work at max(GPU timeline, host time then): back to back. */
    CUhostFn held_fn;
    void *held_data;
    double held_us;
    int nheld;
    struct fake_event *held_ev[160];
    int host_fns;         /* host functions run (for tests) */
} fk;

/* us of GPU work enqueued by the host now: it starts when both the GPU and the host are there. */
static void fake_work(double us) {
    if (fk.held_fn) { fk.held_us += us; return; }
    if (fk.clock_us < fk.host_us) fk.clock_us = fk.host_us;
    fk.clock_us += us;
}

static double fake_noise(void) {
    fk.rng = dev_splitmix(fk.rng);
    double u = (double)(fk.rng >> 11) * (1.0 / 9007199254740992.0);
    return (u - 0.5) * 0.01;   /* +-0.5% */
}

static CUresult f_init(unsigned flags) {
    memset(&fk, 0, sizeof fk);
    fk.rng = 42;
    const char *lu = getenv("HTUNE_FAKE_LAUNCH_US");
    fk.launch_us = lu ? atof(lu) : 0;
    return CUDA_SUCCESS;
}
static CUresult f_driver_version(int *v) { *v = 13000; return CUDA_SUCCESS; }
static CUresult f_count(int *n) { *n = 1; return CUDA_SUCCESS; }
static CUresult f_get(CUdevice *d, int i) { if (i != 0) return CUDA_ERROR_INVALID_DEVICE; *d = 0; return CUDA_SUCCESS; }
static CUresult f_name(char *name, int len, CUdevice d) { snprintf(name, (size_t)len, "htune fake GPU"); return CUDA_SUCCESS; }

static CUresult f_attr(int *v, CUdevice_attribute a, CUdevice d) {
    switch (a) {
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MAJOR: *v = 9; break;
    case CU_DEVICE_ATTRIBUTE_COMPUTE_CAPABILITY_MINOR: *v = 0; break;
    case CU_DEVICE_ATTRIBUTE_MULTIPROCESSOR_COUNT: *v = 132; break;
    case CU_DEVICE_ATTRIBUTE_CLOCK_RATE: *v = 1980000; break;
    case CU_DEVICE_ATTRIBUTE_MEMORY_CLOCK_RATE: *v = 2619000; break;
    case CU_DEVICE_ATTRIBUTE_GLOBAL_MEMORY_BUS_WIDTH: *v = 5120; break;
    case CU_DEVICE_ATTRIBUTE_L2_CACHE_SIZE: *v = 1 << 20; break;   /* small: flush tests stay cheap */
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK: *v = 49152; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_BLOCK_OPTIN: *v = 232448; break;
    case CU_DEVICE_ATTRIBUTE_MAX_SHARED_MEMORY_PER_MULTIPROCESSOR: *v = 233472; break;
    case CU_DEVICE_ATTRIBUTE_MAX_REGISTERS_PER_MULTIPROCESSOR: *v = 65536; break;
    case CU_DEVICE_ATTRIBUTE_MAX_THREADS_PER_BLOCK: *v = 1024; break;
    default: *v = 0;
    }
    return CUDA_SUCCESS;
}

static CUresult f_total_mem(size_t *b, CUdevice d) { *b = (size_t)80 << 30; return CUDA_SUCCESS; }
static CUresult f_ctx_retain(CUcontext *c, CUdevice d) { *c = (CUcontext)&fk; return fk.sticky; }
static CUresult f_ctx_release(CUdevice d) { return CUDA_SUCCESS; }
static CUresult f_ctx_set(CUcontext c) { return fk.sticky; }

static CUresult f_module_load(CUmodule *m, const void *image) {
    if (fk.sticky) return fk.sticky;
    if (!image || !*(const char *)image) return CUDA_ERROR_INVALID_IMAGE;
    *m = (CUmodule)calloc(1, sizeof(struct fake_module));
    return CUDA_SUCCESS;
}
static CUresult f_module_unload(CUmodule m) { free(m); return fk.sticky; }

static CUresult f_get_function(CUfunction *f, CUmodule m, const char *name) {
    struct fake_module *mod = (struct fake_module *)m;
    if (mod->n == 16) return CUDA_ERROR_OUT_OF_MEMORY;
    struct fake_fn *fn = &mod->fns[mod->n];
    if (strcmp(name, "htune_fill") == 0 || strcmp(name, "htune_compare") == 0) {
        snprintf(fn->kind, sizeof fn->kind, "%s", name + 6);
        fn->us = 1;
    } else if (strncmp(name, "fake_", 5) == 0) {
        const char *us = strchr(name + 5, '_');
        size_t len = us ? (size_t)(us - name - 5) : strlen(name + 5);
        snprintf(fn->kind, sizeof fn->kind, "%.*s", (int)len, name + 5);
        fn->us = us ? atof(us + 1) : 10;
    } else {
        return CUDA_ERROR_NOT_FOUND;
    }
    mod->n++;
    *f = (CUfunction)fn;
    return CUDA_SUCCESS;
}

static CUresult f_func_attr(int *v, CUfunction_attribute a, CUfunction f) {
    *v = a == CU_FUNC_ATTRIBUTE_NUM_REGS ? 32 : a == CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK ? 1024 : 0;
    return fk.sticky;
}
static CUresult f_func_set(CUfunction f, CUfunction_attribute a, int v) { return v > 232448 ? CUDA_ERROR_INVALID_VALUE : fk.sticky; }

#define PARAM(k, i, T) (*(T *)(k)[i])
static void run_fill(void **p) {
    void *buf = (void *)(uintptr_t)PARAM(p, 0, CUdeviceptr);
    uint64_t n = PARAM(p, 1, unsigned long long);
    int dtype = PARAM(p, 2, int), mode = PARAM(p, 3, int);
    for (uint64_t i = 0; i < n; i++)
        dev_store(buf, i, dtype, dev_fill_value(i, dtype, mode, PARAM(p, 4, unsigned long long), PARAM(p, 5, float)));
}

static void run_compare(void **p) {
    const void *out = (const void *)(uintptr_t)PARAM(p, 0, CUdeviceptr);
    const void *ref = (const void *)(uintptr_t)PARAM(p, 1, CUdeviceptr);
    uint64_t n = PARAM(p, 2, unsigned long long);
    int dtype = PARAM(p, 3, int);
    struct dev_compare *res = (struct dev_compare *)(uintptr_t)PARAM(p, 6, CUdeviceptr);
    for (uint64_t i = 0; i < n; i++) {
        int bad;
        float rel, err = dev_elem_error(dev_load(out, i, dtype), dev_load(ref, i, dtype),
                                        PARAM(p, 4, float), PARAM(p, 5, float), &bad, &rel);
        if (err > dev_bits_float(res->max_abs_bits)) res->max_abs_bits = dev_float_bits(err);
        if (rel > dev_bits_float(res->max_rel_bits)) res->max_rel_bits = dev_float_bits(rel);
        if (bad) { res->mismatches++; if (i < res->first_bad) res->first_bad = i; }
    }
}

/* copy/wrong kernels: (const float *src, float *dst, int n). */
static void run_copy(void **p, int wrong) {
    const float *src = (const float *)(uintptr_t)PARAM(p, 0, CUdeviceptr);
    float *dst = (float *)(uintptr_t)PARAM(p, 1, CUdeviceptr);
    int n = PARAM(p, 2, int);
    memcpy(dst, src, (size_t)n * sizeof(float));
    if (wrong && n > 0) dst[n / 2] += 1.0f;
}

/* What the fake cuTensorMapEncodeTiled writes into the 128 opaque bytes of a CUtensorMap. */
struct fake_tmap {
    char magic[8];
    uint32_t dtype, rank, interleave, swizzle, l2, oob;
    uint64_t addr, dims[2], stride;
    uint32_t box[2], estr[2];
};
_Static_assert(sizeof(struct fake_tmap) <= sizeof(CUtensorMap), "fake tensor map fits the opaque bytes");
static const char FAKE_TMAP_MAGIC[8] = "htmap1";

static void fake_log(const char *line) {
    const char *path = getenv("HTUNE_FAKE_TMAP_LOG");
    FILE *f = path && *path ? fopen(path, "a") : NULL;
    if (!f) return;
    fputs(line, f);
    fclose(f);
}

static int fake_tmap_text(const struct fake_tmap *m, char *out, size_t cap) {
    return snprintf(out, cap, "dtype %u rank %u dims %llux%llu stride %llu box %ux%u estr %ux%u interleave %u swizzle %u l2 %u oob %u",
                    m->dtype, m->rank, (unsigned long long)m->dims[0], (unsigned long long)m->dims[1],
                    (unsigned long long)m->stride, m->box[0], m->box[1], m->estr[0], m->estr[1], m->interleave,
                    m->swizzle, m->l2, m->oob);
}

/* Rank 1 or 2 only; refuses what the driver documents as invalid for those ranks. */
static CUresult f_tmap_encode(CUtensorMap *map, CUtensorMapDataType dtype, cuuint32_t rank, void *addr,
                              const cuuint64_t *dims, const cuuint64_t *strides, const cuuint32_t *box,
                              const cuuint32_t *estr, CUtensorMapInterleave il, CUtensorMapSwizzle sw,
                              CUtensorMapL2promotion l2, CUtensorMapFloatOOBfill oob) {
    const char *mode = getenv("HTUNE_FAKE_TMAP");
    if (mode && strcmp(mode, "fail") == 0) return CUDA_ERROR_INVALID_VALUE;
    if (!map || (uintptr_t)map % 64 || (uintptr_t)addr % 16 || rank < 1 || rank > 2) return CUDA_ERROR_INVALID_VALUE;
    struct fake_tmap m = { .dtype = dtype, .rank = rank, .interleave = il, .swizzle = sw, .l2 = l2, .oob = oob,
                           .addr = (uint64_t)(uintptr_t)addr };
    memcpy(m.magic, FAKE_TMAP_MAGIC, sizeof m.magic);
    for (cuuint32_t d = 0; d < rank; d++) {
        if (dims[d] < 1 || dims[d] > ((cuuint64_t)1 << 32) || box[d] < 1 || box[d] > 256 || estr[d] < 1 || estr[d] > 8)
            return CUDA_ERROR_INVALID_VALUE;
        m.dims[d] = dims[d]; m.box[d] = box[d]; m.estr[d] = estr[d];
    }
    if (rank == 2 && (strides[0] % 16 || strides[0] >= ((cuuint64_t)1 << 40))) return CUDA_ERROR_INVALID_VALUE;
    m.stride = rank == 2 ? strides[0] : 0;
    memset(map, 0, sizeof *map);
    memcpy(map, &m, sizeof m);
    char line[300] = "encode ";
    fake_tmap_text(&m, line + 7, sizeof line - 8);
    strcat(line, "\n");
    fake_log(line);
    return CUDA_SUCCESS;
}

/* tmap kernels: (const float *src, float *dst, int n, map over src, map over dst): a copy that
 * logs, on its first launch, each map it was passed and which buffer the map points at. A param
 * that is not an encoded map, or a map over another buffer, fails the launch. */
static CUresult run_tmap(struct fake_fn *fn, void **p) {
    uint64_t src = PARAM(p, 0, CUdeviceptr), dst = PARAM(p, 1, CUdeviceptr);
    struct fake_tmap m[2];
    CUresult r = CUDA_SUCCESS;
    for (int i = 0; i < 2; i++) {
        if (p[3 + i]) memcpy(&m[i], p[3 + i], sizeof m[i]);
        if (!p[3 + i] || memcmp(m[i].magic, FAKE_TMAP_MAGIC, sizeof m[i].magic) != 0) return CUDA_ERROR_INVALID_VALUE;
        if (m[i].addr != (i == 0 ? src : dst)) r = CUDA_ERROR_INVALID_VALUE;
    }
    if (!fn->logged) {
        fn->logged = 1;
        for (int i = 0; i < 2; i++) {
            char line[400];
            int n = snprintf(line, sizeof line, "kernel arg %d base %s ", 4 + i,
                             m[i].addr == src ? "src" : m[i].addr == dst ? "dst" : "other");
            fake_tmap_text(&m[i], line + n, sizeof line - n);
            strcat(line, "\n");
            fake_log(line);
        }
    }
    if (!r) run_copy(p, 0);
    return r;
}

static CUresult f_launch(CUfunction f, unsigned gx, unsigned gy, unsigned gz, unsigned bx, unsigned by,
                         unsigned bz, unsigned smem, CUstream s, void **params, void **extra) {
    struct fake_fn *fn = (struct fake_fn *)f;
    CUresult r;
    if (fk.sticky) return fk.sticky;
    if ((uint64_t)bx * by * bz > 1024 || bx * by * bz == 0 || smem > 232448) return CUDA_ERROR_INVALID_VALUE;
    if (strcmp(fn->kind, "fill") == 0) run_fill(params);
    else if (strcmp(fn->kind, "compare") == 0) run_compare(params);
    else if (strcmp(fn->kind, "copy") == 0) run_copy(params, 0);
    else if (strcmp(fn->kind, "wrong") == 0) run_copy(params, 1);
    else if (strcmp(fn->kind, "tmap") == 0 && (r = run_tmap(fn, params))) return r;
    else if (strcmp(fn->kind, "fault") == 0) fk.sticky = CUDA_ERROR_ILLEGAL_ADDRESS;
    else if (strcmp(fn->kind, "trap") == 0) fk.sticky = CUDA_ERROR_LAUNCH_FAILED;
    else if (strcmp(fn->kind, "hang") == 0) fk.hang = 1;
    fk.host_us += fk.launch_us;
    fake_work(fn->us * (1.0 + fake_noise()));
    return CUDA_SUCCESS;
}

static CUresult f_alloc(CUdeviceptr *p, size_t n) {
    if (fk.sticky) return fk.sticky;
    void *m = calloc(1, n ? n : 1);
    if (!m) return CUDA_ERROR_OUT_OF_MEMORY;
    *p = (CUdeviceptr)(uintptr_t)m;
    return CUDA_SUCCESS;
}
static CUresult f_free(CUdeviceptr p) { free((void *)(uintptr_t)p); return CUDA_SUCCESS; }
static CUresult f_htod(CUdeviceptr d, const void *h, size_t n) { memcpy((void *)(uintptr_t)d, h, n); return fk.sticky; }
static CUresult f_dtoh(void *h, CUdeviceptr d, size_t n) { memcpy(h, (void *)(uintptr_t)d, n); return fk.sticky; }
static CUresult f_dtod(CUdeviceptr d, CUdeviceptr s, size_t n, CUstream st) {
    memcpy((void *)(uintptr_t)d, (void *)(uintptr_t)s, n);
    fake_work(1.0 + 2.0 * (double)n / 3e6);   /* launch latency + read and write at 3 TB/s */
    return fk.sticky;
}
static CUresult f_memset8(CUdeviceptr d, unsigned char v, size_t n, CUstream s) {
    memset((void *)(uintptr_t)d, v, n);
    fake_work((double)n / 3e6);   /* 3 TB/s */
    return fk.sticky;
}
static CUresult f_memset32(CUdeviceptr d, unsigned v, size_t n, CUstream s) {
    for (size_t i = 0; i < n; i++) ((unsigned *)(uintptr_t)d)[i] = v;
    return fk.sticky;
}
static CUresult f_stream_create(CUstream *s, unsigned flags) { *s = (CUstream)malloc(1); return fk.sticky; }
static CUresult f_stream_destroy(CUstream s) { free(s); return CUDA_SUCCESS; }
static CUresult f_sync(void) {
    if (fk.held_fn) {   /* run the host function, then the work held behind it */
        CUhostFn fn = fk.held_fn;
        fk.held_fn = NULL;
        fn(fk.held_data);
        fk.host_fns++;
        double base = fk.clock_us > fk.host_us ? fk.clock_us : fk.host_us;
        for (int i = 0; i < fk.nheld; i++) fk.held_ev[i]->t_us += base;
        fk.clock_us = base + fk.held_us;
        fk.nheld = 0;
        fk.held_us = 0;
    }
    while (fk.hang) pause();   /* a hung kernel: only the watchdog's SIGKILL ends this */
    if (fk.host_us < fk.clock_us) fk.host_us = fk.clock_us;   /* the host waited for the GPU */
    return fk.sticky;
}
/* One host function at a time holds the stream (bench.c's gate); a second before a
 * synchronize is refused, as the fake could not order them. */
static CUresult f_host_func(CUstream s, CUhostFn fn, void *data) {
    if (fk.sticky) return fk.sticky;
    if (fk.held_fn) return CUDA_ERROR_NOT_SUPPORTED;
    fk.held_fn = fn;
    fk.held_data = data;
    return CUDA_SUCCESS;
}
int cuda_fake_host_fns(void) { return fk.host_fns; }
static CUresult f_stream_sync(CUstream s) { return f_sync(); }
static CUresult f_event_create(CUevent *e, unsigned flags) { *e = (CUevent)calloc(1, sizeof(struct fake_event)); return CUDA_SUCCESS; }
static CUresult f_event_destroy(CUevent e) { free(e); return CUDA_SUCCESS; }
static CUresult f_event_record(CUevent e, CUstream s) {
    struct fake_event *ev = (struct fake_event *)e;
    if (fk.held_fn) {   /* an offset into the held work until the host function runs */
        if (fk.nheld == (int)(sizeof fk.held_ev / sizeof fk.held_ev[0])) return CUDA_ERROR_NOT_SUPPORTED;
        ev->t_us = fk.held_us;
        fk.held_ev[fk.nheld++] = ev;
        return fk.sticky;
    }
    fake_work(0);
    ev->t_us = fk.clock_us;
    return fk.sticky;
}
static CUresult f_event_sync(CUevent e) { return f_sync(); }
static CUresult f_elapsed(float *ms, CUevent a, CUevent b) {
    *ms = (float)((((struct fake_event *)b)->t_us - ((struct fake_event *)a)->t_us) / 1000.0);
    return fk.sticky;
}
static CUresult f_err_name(CUresult r, const char **s) {
    *s = r == CUDA_ERROR_ILLEGAL_ADDRESS ? "CUDA_ERROR_ILLEGAL_ADDRESS"
       : r == CUDA_ERROR_LAUNCH_FAILED ? "CUDA_ERROR_LAUNCH_FAILED"
       : r == CUDA_ERROR_INVALID_VALUE ? "CUDA_ERROR_INVALID_VALUE" : "CUDA_ERROR_FAKE";
    return CUDA_SUCCESS;
}
static CUresult f_err_string(CUresult r, const char **s) { *s = "fake driver error"; return CUDA_SUCCESS; }

void cuda_api_fake(struct cuda_api *api) {
    memset(api, 0, sizeof *api);
    api->kind = "fake";
    api->driver_version = 13000;
    api->init = f_init; api->driver_get_version = f_driver_version;
    api->device_get_count = f_count; api->device_get = f_get; api->device_get_name = f_name;
    api->device_get_attribute = f_attr; api->device_total_mem = f_total_mem;
    api->primary_ctx_retain = f_ctx_retain; api->primary_ctx_release = f_ctx_release;
    api->ctx_set_current = f_ctx_set;
    api->module_load_data = f_module_load; api->module_unload = f_module_unload;
    api->module_get_function = f_get_function;
    api->func_get_attribute = f_func_attr; api->func_set_attribute = f_func_set;
    api->launch_kernel = f_launch;
    api->mem_alloc = f_alloc; api->mem_free = f_free;
    api->memcpy_htod = f_htod; api->memcpy_dtoh = f_dtoh; api->memcpy_dtod_async = f_dtod;
    api->memset_d8_async = f_memset8; api->memset_d32_async = f_memset32;
    api->stream_create = f_stream_create; api->stream_destroy = f_stream_destroy;
    api->stream_synchronize = f_stream_sync;
    api->event_create = f_event_create; api->event_destroy = f_event_destroy;
    api->event_record = f_event_record; api->event_synchronize = f_event_sync;
    api->event_elapsed_time = f_elapsed;
    api->get_error_name = f_err_name; api->get_error_string = f_err_string;
    api->launch_host_func = f_host_func;
    const char *tmap = getenv("HTUNE_FAKE_TMAP");
    api->tensor_map_encode_tiled = tmap && strcmp(tmap, "absent") == 0 ? NULL : f_tmap_encode;
}
