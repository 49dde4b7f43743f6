/* Worker side (see worker.h): loads the driver (or the fake), owns the one CUDA context,
 * the problem's buffers (allocated once per setup, reused by every trial), the reference
 * output and the bench instrument; answers requests until QUIT or EOF. After a fault the
 * context is unusable, so the worker replies and exits; the parent starts a fresh one. */
#include "worker.h"
#include "baseline.h"
#include "cudadev.h"
#include "nvml.h"
#include "util.h"
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BENCH_CAPACITY 4000

struct wstate {
    struct cuda_api api;
    struct cuda_ctx ctx;
    int ctx_open, fd_in, fd_out, dead;
    CUdeviceptr bufs[WP_MAX_BUFS], ref_out;
    struct wp_buffer specs[WP_MAX_BUFS];
    int nbufs, output, has_ref;
    double atol, rtol;
    struct bench *bench;
    struct nvml *nvml;       /* SM clock source for the bench loop; NULL when NVML is missing */
    struct baseline *blas;   /* opened on the first baseline request */
    struct wbuf out;
};

struct klaunch {
    const struct cuda_api *api;
    CUfunction fn;
    const struct wp_kernel *k;
    void *params[WP_MAX_ARGS];
    union { CUdeviceptr p; int32_t i32; int64_t i64; float f32; double f64; } vals[WP_MAX_ARGS];
    CUtensorMap maps[WP_MAX_ARGS];   /* TMAP args by value (CUtensorMap is 128-byte aligned) */
};

static int launch_kernel(void *ctx, CUstream s) {
    struct klaunch *l = ctx;
    const struct wp_kernel *k = l->k;
    return l->api->launch_kernel(l->fn, k->grid[0], k->grid[1], k->grid[2], k->block[0], k->block[1],
                                 k->block[2], k->smem, s, l->params, NULL);
}

static int is_fault(int r) { return (r >= 700 && r <= 720 && r != 701 && r != 702) || r == 999; }

static int classify(int r) {
    if (r == CUDA_ERROR_LAUNCH_TIMEOUT) return WP_S_TIMEOUT;
    return is_fault(r) ? WP_S_FAULT : WP_S_INVALID;
}

static void fail(struct wstate *st, struct wp_result *res, int r, const char *what) {
    char msg[300];
    res->status = classify(r);
    snprintf(res->message, sizeof res->message, "%s: %s", what, cuda_api_error(&st->api, r, msg, sizeof msg));
    if (res->status == WP_S_FAULT || res->status == WP_S_TIMEOUT) st->dead = 1;
}

/* Encodes TMAP arg i into l->maps[i] from its buffer's device pointer and dtype, as
 * kernels/matmul_wgmma/wgbench.cu's make_map does: dims {cols, rows}, row pitch in bytes, box
 * {box_cols, box_rows}, element strides 1, no interleave, L2 promotion 256B, OOB filled with
 * zeros. The decoder has checked the arg (wp_check_tmap). */
static int encode_tmap(struct wstate *st, struct klaunch *l, int i, struct wp_result *res) {
    static const CUtensorMapDataType types[] = { [WP_F32] = CU_TENSOR_MAP_DATA_TYPE_FLOAT32,
        [WP_F16] = CU_TENSOR_MAP_DATA_TYPE_FLOAT16, [WP_BF16] = CU_TENSOR_MAP_DATA_TYPE_BFLOAT16,
        [WP_I32] = CU_TENSOR_MAP_DATA_TYPE_INT32 };
    const struct wp_arg *a = &l->k->args[i];
    const struct wp_tmap *t = &a->tm;
    if (!st->api.tensor_map_encode_tiled) {
        res->status = WP_S_UNAVAILABLE;
        snprintf(res->message, sizeof res->message, "arg %d: tensor map: the CUDA driver has no cuTensorMapEncodeTiled (needs 12.0 or later)", i + 1);
        return -1;
    }
    int dtype = st->specs[a->i].dtype;
    if (dtype < WP_F32 || dtype > WP_I32) {
        res->status = WP_S_INVALID;
        return snprintf(res->message, sizeof res->message, "arg %d: tensor map over buffer %lld of unknown dtype %d", i + 1, (long long)a->i + 1, dtype), -1;
    }
    cuuint64_t dims[2] = { t->cols, t->rows }, strides[1] = { t->cols * wp_dtype_bytes(dtype) };
    cuuint32_t box[2] = { t->box_cols, t->box_rows }, estr[2] = { 1, 1 };
    CUtensorMapSwizzle sw = t->swizzle == 128 ? CU_TENSOR_MAP_SWIZZLE_128B : t->swizzle == 64 ? CU_TENSOR_MAP_SWIZZLE_64B
                          : t->swizzle == 32 ? CU_TENSOR_MAP_SWIZZLE_32B : CU_TENSOR_MAP_SWIZZLE_NONE;
    int r = st->api.tensor_map_encode_tiled(&l->maps[i], types[dtype], 2, (void *)(uintptr_t)st->bufs[a->i], dims, strides,
                                            box, estr, CU_TENSOR_MAP_INTERLEAVE_NONE, sw,
                                            CU_TENSOR_MAP_L2_PROMOTION_L2_256B, CU_TENSOR_MAP_FLOAT_OOB_FILL_NONE);
    if (r) {
        char msg[200];
        res->status = WP_S_INVALID;
        snprintf(res->message, sizeof res->message, "arg %d: cuTensorMapEncodeTiled: %s", i + 1, cuda_api_error(&st->api, r, msg, sizeof msg));
        return -1;
    }
    return 0;
}

/* Binds args to kernel parameter slots (tensor maps encoded once here, outside any timed
 * loop); buffer refs must name a setup buffer. 0, or -1 with res's status and message set. */
static int bind_args(struct wstate *st, struct klaunch *l, struct wp_result *res) {
    for (int i = 0; i < l->k->nargs; i++) {
        const struct wp_arg *a = &l->k->args[i];
        l->params[i] = &l->vals[i];
        switch (a->kind) {
        case WP_ARG_BUF:
            if (a->i < 0 || a->i >= st->nbufs) {
                res->status = WP_S_INVALID;
                return snprintf(res->message, sizeof res->message, "arg %d: buffer %lld not set up (%d buffers)", i + 1, (long long)a->i, st->nbufs), -1;
            }
            l->vals[i].p = st->bufs[a->i]; break;
        case WP_ARG_I32: l->vals[i].i32 = (int32_t)a->i; break;
        case WP_ARG_I64: l->vals[i].i64 = a->i; break;
        case WP_ARG_F32: l->vals[i].f32 = (float)a->f; break;
        case WP_ARG_F64: l->vals[i].f64 = a->f; break;
        case WP_ARG_TMAP:
            if (encode_tmap(st, l, i, res)) return -1;
            l->params[i] = &l->maps[i];
            break;
        default:
            res->status = WP_S_INVALID;
            return snprintf(res->message, sizeof res->message, "arg %d: unknown kind %d", i + 1, a->kind), -1;
        }
    }
    return 0;
}

/* Loads a kernel's module and function, opts into large dynamic smem, reads its facts. */
static int load_kernel(struct wstate *st, const struct wp_kernel *k, CUmodule *mod, struct klaunch *l, struct wp_result *res) {
    const struct cuda_api *api = &st->api;
    memset(l, 0, sizeof *l);
    l->api = api;
    l->k = k;
    int r = api->module_load_data(mod, k->image);
    if (r) return fail(st, res, r, "loading the module"), -1;
    r = api->module_get_function(&l->fn, *mod, k->name ? k->name : "");
    if (r) return fail(st, res, r, k->name ? k->name : "kernel name"), -1;
    if (k->smem > 48 * 1024 && (r = api->func_set_attribute(l->fn, CU_FUNC_ATTRIBUTE_MAX_DYNAMIC_SHARED_SIZE_BYTES, (int)k->smem)))
        return fail(st, res, r, "dynamic shared memory"), -1;
    api->func_get_attribute(&res->regs, CU_FUNC_ATTRIBUTE_NUM_REGS, l->fn);
    api->func_get_attribute(&res->local_bytes, CU_FUNC_ATTRIBUTE_LOCAL_SIZE_BYTES, l->fn);
    api->func_get_attribute(&res->static_smem, CU_FUNC_ATTRIBUTE_SHARED_SIZE_BYTES, l->fn);
    api->func_get_attribute(&res->max_threads, CU_FUNC_ATTRIBUTE_MAX_THREADS_PER_BLOCK, l->fn);
    if (bind_args(st, l, res)) return -1;
    return 0;
}

/* Runs the launch once into a poisoned output (all bits set) and compares with the reference. */
static int check_output(struct wstate *st, bench_launch_fn launch, void *ctx, struct wp_result *res) {
    const struct cuda_api *api = &st->api;
    const struct wp_buffer *o = &st->specs[st->output];
    double t0 = util_now_ms();
    int r = api->memset_d8_async(st->bufs[st->output], 0xff, o->count * (uint64_t)(o->dtype == WP_F16 || o->dtype == WP_BF16 ? 2 : 4), st->ctx.stream);
    if (!r) r = launch(ctx, st->ctx.stream);
    if (!r) r = api->stream_synchronize(st->ctx.stream);
    struct cuda_compare c = { 0 };
    if (!r) r = cuda_compare(&st->ctx, st->bufs[st->output], st->ref_out, o->dtype, o->count, st->atol, st->rtol, &c);
    res->check_ms = util_now_ms() - t0;
    if (r) return fail(st, res, r, "running the kernel"), -1;
    res->checked = 1;
    res->max_abs_err = c.max_abs_err;
    res->max_rel_err = c.max_rel_err;
    res->mismatches = c.mismatches;
    res->first_bad = c.mismatches ? c.first_bad : 0;
    if (c.mismatches) {
        res->status = WP_S_WRONG;
        snprintf(res->message, sizeof res->message,
                 "%llu of %llu elements differ (first at %llu); max abs err %.3g, max rel err %.3g (atol %g, rtol %g)",
                 (unsigned long long)c.mismatches, (unsigned long long)o->count, (unsigned long long)c.first_bad,
                 c.max_abs_err, c.max_rel_err, st->atol, st->rtol);
        return -1;
    }
    return 0;
}

/* Check (when asked and a reference exists), then time. */
static void measure(struct wstate *st, bench_launch_fn launch, void *ctx, const struct bench_opts *opts, int check,
                    struct wp_result *res) {
    if (check && st->has_ref && check_output(st, launch, ctx, res)) return;
    int r = bench_run(st->bench, launch, ctx, opts, &res->bench);
    if (r) return fail(st, res, r, "timing the kernel");
    res->status = res->bench.cutoff ? WP_S_CUTOFF : WP_S_OK;
}

static void do_trial(struct wstate *st, struct rbuf *rb, struct wp_result *res) {
    struct wp_trial t;
    char err[300];
    if (wp_get_trial(rb, &t, st->specs, st->nbufs, err, sizeof err)) { res->status = WP_S_INVALID; snprintf(res->message, sizeof res->message, "%s", err); return; }
    if (!st->ctx_open || !st->bench) { res->status = WP_S_INVALID; snprintf(res->message, sizeof res->message, "no problem set up"); return; }
    double t0 = util_now_ms();
    CUmodule mod = NULL;
    struct klaunch l;
    if (load_kernel(st, &t.k, &mod, &l, res) == 0) {
        res->load_ms = util_now_ms() - t0;
        measure(st, launch_kernel, &l, &t.opts, t.check, res);
        int r = res->status == WP_S_OK && t.raw_n > 0 ? bench_raw(st->bench, launch_kernel, &l, t.raw_n, &res->raw_us) : 0;
        if (r) fail(st, res, r, "raw timing");
    }
    if (mod && !st->dead) st->api.module_unload(mod);
}

struct dtod { const struct cuda_api *api; CUdeviceptr dst, src; size_t bytes; };
static int launch_dtod(void *ctx, CUstream s) {
    struct dtod *d = ctx;
    return d->api->memcpy_dtod_async(d->dst, d->src, d->bytes, s);
}
static size_t buffer_bytes(const struct wp_buffer *b) { return b->count * wp_dtype_bytes(b->dtype); }

/* "memcpy": the driver's device-to-device copy from buffer params[0] (default 0) into the
 * output buffer, timed by the same loop: the device's measured copy figure. */
static void do_memcpy(struct wstate *st, const struct wp_baseline *b, struct wp_result *res) {
    int src = b->nparams > 0 ? (int)b->params[0] : 0;
    if (src < 0 || src >= st->nbufs || src == st->output) {
        res->status = WP_S_INVALID;
        snprintf(res->message, sizeof res->message, "memcpy: source buffer %d is not an input buffer", src);
        return;
    }
    size_t a = buffer_bytes(&st->specs[src]), o = buffer_bytes(&st->specs[st->output]);
    struct dtod d = { &st->api, st->bufs[st->output], st->bufs[src], a < o ? a : o };
    measure(st, launch_dtod, &d, &b->opts, 0, res);
}

static int baseline_args(struct wstate *st, const struct wp_baseline *b, struct baseline_gemm_args *g, char *err, size_t errlen) {
    if (strcmp(b->name ? b->name : "", "cublas") != 0) return snprintf(err, errlen, "unknown baseline '%s' (known: cublas, memcpy)", b->name ? b->name : ""), -1;
    if (b->nparams < 3) return snprintf(err, errlen, "cublas needs params {M, N, K}, got %d", b->nparams), -1;
    int ia = b->nparams > 3 ? (int)b->params[3] : 0, ib = b->nparams > 4 ? (int)b->params[4] : 1;
    if (ia < 0 || ia >= st->nbufs || ib < 0 || ib >= st->nbufs) return snprintf(err, errlen, "cublas: buffer indices %d and %d, of %d buffers (0..%d)", ia, ib, st->nbufs, st->nbufs - 1), -1;
    *g = (struct baseline_gemm_args){ st->blas, st->bufs[ia], st->bufs[ib], st->bufs[st->output],
                                      (int)b->params[0], (int)b->params[1], (int)b->params[2] };
    return 0;
}

static void do_baseline(struct wstate *st, struct rbuf *rb, struct wp_result *res) {
    struct wp_baseline b;
    struct baseline_gemm_args g;
    char err[300];
    if (wp_get_baseline(rb, &b, err, sizeof err)) { res->status = WP_S_INVALID; snprintf(res->message, sizeof res->message, "%s", err); return; }
    if (!st->ctx_open || !st->bench) { res->status = WP_S_INVALID; snprintf(res->message, sizeof res->message, "no problem set up"); return; }
    if (b.name && strcmp(b.name, "memcpy") == 0) return do_memcpy(st, &b, res);
    if (!st->blas && strcmp(st->api.kind, "fake") != 0) st->blas = baseline_open(err, sizeof err);
    else if (!st->blas) snprintf(err, sizeof err, "the fake driver has no cuBLAS");
    if (!st->blas) { res->status = WP_S_UNAVAILABLE; snprintf(res->message, sizeof res->message, "baseline unavailable: %s", err); return; }
    if (baseline_args(st, &b, &g, err, sizeof err)) { res->status = WP_S_INVALID; snprintf(res->message, sizeof res->message, "%s", err); return; }
    measure(st, baseline_gemm_launch, &g, &b.opts, b.check, res);
    if (res->status == WP_S_INVALID) snprintf(res->message, sizeof res->message, "cuBLAS: %s", baseline_name(st->blas));
}

static void free_buffers(struct wstate *st) {
    for (int i = 0; i < st->nbufs; i++) if (st->bufs[i]) st->api.mem_free(st->bufs[i]);
    if (st->ref_out) st->api.mem_free(st->ref_out);
    memset(st->bufs, 0, sizeof st->bufs);
    st->ref_out = 0;
    st->nbufs = 0;
}

static int alloc_buffers(struct wstate *st, const struct wp_setup *s) {
    int r = 0;
    for (int i = 0; i < s->nbufs && !r; i++) {
        size_t bytes = s->bufs[i].count * (size_t)(s->bufs[i].dtype == WP_F16 || s->bufs[i].dtype == WP_BF16 ? 2 : 4);
        st->specs[i] = s->bufs[i];
        r = st->api.mem_alloc(&st->bufs[i], bytes ? bytes : 4);
        st->nbufs = i + 1;
        if (!r) r = cuda_fill(&st->ctx, st->bufs[i], s->bufs[i].dtype, s->bufs[i].count, s->bufs[i].init, s->bufs[i].seed, s->bufs[i].value);
    }
    if (!r && s->has_ref) {
        const struct wp_buffer *o = &s->bufs[s->output];
        r = st->api.mem_alloc(&st->ref_out, o->count * (size_t)(o->dtype == WP_F16 || o->dtype == WP_BF16 ? 2 : 4) + 4);
    }
    return r;
}

/* Runs the reference once into the output buffer and keeps a copy of what it wrote. */
static int run_reference(struct wstate *st, const struct wp_setup *s, char *err, size_t errlen) {
    struct wp_result res = { 0 };
    CUmodule mod = NULL;
    struct klaunch l;
    int rc = load_kernel(st, &s->ref, &mod, &l, &res);
    int r = 0;
    if (!rc) {
        const struct wp_buffer *o = &s->bufs[s->output];
        r = launch_kernel(&l, st->ctx.stream);
        if (!r) r = st->api.memcpy_dtod_async(st->ref_out, st->bufs[s->output], o->count * (size_t)(o->dtype == WP_F16 || o->dtype == WP_BF16 ? 2 : 4), st->ctx.stream);
        if (!r) r = st->api.stream_synchronize(st->ctx.stream);
        if (r) fail(st, &res, r, "running the reference");
    }
    if (mod && !st->dead) st->api.module_unload(mod);
    if (rc || r) return snprintf(err, errlen, "reference: %.300s", res.message), -1;
    return 0;
}

/* Opens NVML for the context's device, matched by PCI bus id (the fake driver gets the fake
 * NVML scripted by $HTUNE_FAKE_NVML), and binds it to the bench loop; absent is not an error. */
static void open_clock(struct wstate *st) {
    char why[200] = "", pci[32];
    int dom = 0, bus = 0, dev = 0;
    if (strcmp(st->api.kind, "fake") == 0) {
        st->nvml = nvml_fake(getenv("HTUNE_FAKE_NVML"), why, sizeof why);
    } else {
        st->api.device_get_attribute(&dom, CU_DEVICE_ATTRIBUTE_PCI_DOMAIN_ID, st->ctx.dev);
        st->api.device_get_attribute(&bus, CU_DEVICE_ATTRIBUTE_PCI_BUS_ID, st->ctx.dev);
        st->api.device_get_attribute(&dev, CU_DEVICE_ATTRIBUTE_PCI_DEVICE_ID, st->ctx.dev);
        snprintf(pci, sizeof pci, "%04x:%02x:%02x.0", dom, bus, dev);
        st->nvml = nvml_open(pci, st->ctx.info.ordinal, why, sizeof why);
    }
    bench_set_clock(st->bench, st->nvml, why);
}

static int setup_problem(struct wstate *st, const struct wp_setup *s, char *err, size_t errlen) {
    if (s->nbufs < 1 || s->output < 0 || s->output >= s->nbufs)
        return snprintf(err, errlen, "setup: output buffer %d is not one of %d buffers", s->output + 1, s->nbufs), -1;
    if (!st->ctx_open) {
        if (cuda_ctx_open(&st->ctx, &st->api, s->device, err, errlen)) return -1;
        st->ctx_open = 1;
    }
    if (!st->bench) {
        size_t flush = (size_t)st->ctx.info.l2_bytes * 2;
        if (!(st->bench = bench_new(&st->api, st->ctx.stream, BENCH_CAPACITY, flush, err, errlen))) return -1;
        open_clock(st);
    }
    free_buffers(st);
    int r = alloc_buffers(st, s);
    if (!r) r = st->api.stream_synchronize(st->ctx.stream);
    if (r) {
        char msg[200];
        snprintf(err, errlen, "setup: buffers: %s", cuda_api_error(&st->api, r, msg, sizeof msg));
        if (is_fault(r)) st->dead = 1;
        return -1;
    }
    st->output = s->output;
    st->has_ref = s->has_ref;
    double atol, rtol;
    cuda_default_tolerance(s->bufs[s->output].dtype, &atol, &rtol);
    st->atol = s->atol >= 0 ? s->atol : atol;
    st->rtol = s->rtol >= 0 ? s->rtol : rtol;
    return s->has_ref ? run_reference(st, s, err, errlen) : 0;
}

static void reply_devices(struct wstate *st) {
    struct cuda_device_info d[16];
    int n = 0;
    char err[200];
    st->api.device_get_count(&n);
    if (n > 16) n = 16;
    for (int i = 0; i < n; i++)
        if (cuda_device_query(&st->api, i, &d[i], err, sizeof err)) snprintf(d[i].name, sizeof d[i].name, "(%s)", err);
    wp_put_devices(&st->out, d, n);
}

static void handle(struct wstate *st, int type, const uint8_t *payload, size_t len) {
    struct rbuf rb = { payload, len, 0, 0 };
    char err[500];
    struct wp_setup *s;
    struct wp_result res;
    switch (type) {
    case WP_DEVICES: reply_devices(st); break;
    case WP_SETUP:
        s = malloc(sizeof *s);
        if (!s || wp_get_setup(&rb, s, err, sizeof err) || setup_problem(st, s, err, sizeof err)) wp_put_error(&st->out, s ? 1 : 2, s ? err : "out of memory");
        else { wbuf_begin(&st->out, WP_OK); wbuf_end(&st->out); }
        free(s);
        break;
    case WP_TRIAL:
    case WP_BASELINE:
        memset(&res, 0, sizeof res);
        double t0 = util_now_ms();
        if (type == WP_TRIAL) do_trial(st, &rb, &res); else do_baseline(st, &rb, &res);
        res.total_ms = util_now_ms() - t0;
        wp_put_result(&st->out, &res);
        break;
    default: wp_put_error(&st->out, 3, "unknown request type");
    }
}

static void hello(struct wstate *st, int fake) {
    struct wp_hello h = { 0 };
    char err[400] = "";
    if (fake) cuda_api_fake(&st->api);
    else if (cuda_api_load(&st->api, err, sizeof err)) h.status = -1;
    if (!h.status) {
        int r = st->api.init(0);
        char msg[200];
        if (r) { h.status = -1; snprintf(err, sizeof err, "no usable CUDA driver: cuInit: %s", cuda_api_error(&st->api, r, msg, sizeof msg)); }
        else st->api.device_get_count(&h.device_count);
        if (!h.status && h.device_count == 0) { h.status = -1; snprintf(err, sizeof err, "no CUDA device found"); }
    }
    h.driver_version = st->api.driver_version;
    snprintf(h.api_kind, sizeof h.api_kind, "%s", st->api.kind ? st->api.kind : "none");
    snprintf(h.message, sizeof h.message, "%s", err);
    wp_put_hello(&st->out, &h);
}

int worker_serve(int fd_in, int fd_out, int fake) {
    signal(SIGPIPE, SIG_IGN);
    struct wstate *st = calloc(1, sizeof *st);
    if (!st) return 1;
    st->fd_in = fd_in;
    st->fd_out = fd_out;
    hello(st, fake);
    int ok = wp_write_frame(fd_out, &st->out) == 0 && st->api.init;
    uint8_t *buf = NULL;
    size_t cap = 0, len;
    int type;
    const uint8_t *payload;
    while (ok && !st->dead && wp_read_frame(fd_in, &buf, &cap, &type, &payload, &len) == 0 && type != WP_QUIT) {
        handle(st, type, payload, len);
        ok = wp_write_frame(fd_out, &st->out) == 0;
    }
    int dead = st->dead;
    if (!dead) {   /* a dead context is left to the process exit */
        baseline_close(st->blas);
        bench_free(st->bench);
        nvml_close(st->nvml);
        free_buffers(st);
        cuda_ctx_close(&st->ctx);
    }
    cuda_api_unload(&st->api);
    wbuf_free(&st->out);
    free(buf);
    free(st);
    return dead ? 3 : 0;
}

int worker_main(int argc, char **argv) {
    if (argc < 4) {
        fprintf(stderr, "usage: htune __worker FD_IN FD_OUT [fake] (internal)\n");
        return 2;
    }
    int fake = (argc > 4 && strcmp(argv[4], "fake") == 0) || (getenv("HTUNE_FAKE_CUDA") && *getenv("HTUNE_FAKE_CUDA") == '1');
    return worker_serve(atoi(argv[2]), atoi(argv[3]), fake);
}
