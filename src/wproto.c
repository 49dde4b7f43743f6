/* Encoding and decoding of worker frames (see wproto.h). Both ends are the same executable
 * on the same machine, so scalars travel in native byte order. */
#include "wproto.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void put(struct wbuf *b, const void *v, size_t n) {
    if (b->oom) return;
    if (b->n + n > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n) cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p) { b->oom = 1; return; }
        b->p = p;
        b->cap = cap;
    }
    memcpy(b->p + b->n, v, n);
    b->n += n;
}
static void put_i32(struct wbuf *b, int32_t v) { put(b, &v, sizeof v); }
static void put_u32(struct wbuf *b, uint32_t v) { put(b, &v, sizeof v); }
static void put_u64(struct wbuf *b, uint64_t v) { put(b, &v, sizeof v); }
static void put_f64(struct wbuf *b, double v) { put(b, &v, sizeof v); }
static void put_bytes(struct wbuf *b, const void *p, uint32_t n) {
    put_u32(b, n);
    if (n) put(b, p, n);
    put(b, "", 1);   /* a NUL after every blob: PTX and names can be used in place */
}
static void put_str(struct wbuf *b, const char *s) { put_bytes(b, s ? s : "", s ? (uint32_t)strlen(s) : 0); }

void wbuf_begin(struct wbuf *b, enum wp_type type) {
    b->n = 0;
    b->oom = 0;
    put_u32(b, 0);
    uint8_t t = (uint8_t)type;
    put(b, &t, 1);
}
void wbuf_end(struct wbuf *b) {
    if (b->oom) return;
    uint32_t len = (uint32_t)(b->n - 4);
    memcpy(b->p, &len, 4);
}
void wbuf_free(struct wbuf *b) { free(b->p); memset(b, 0, sizeof *b); }

static void get(struct rbuf *r, void *v, size_t n) {
    if (r->bad || r->n - r->off < n) { r->bad = 1; memset(v, 0, n); return; }
    memcpy(v, r->p + r->off, n);
    r->off += n;
}
static int32_t get_i32(struct rbuf *r) { int32_t v; get(r, &v, sizeof v); return v; }
static uint32_t get_u32(struct rbuf *r) { uint32_t v; get(r, &v, sizeof v); return v; }
static uint64_t get_u64(struct rbuf *r) { uint64_t v; get(r, &v, sizeof v); return v; }
static double get_f64(struct rbuf *r) { double v; get(r, &v, sizeof v); return v; }
/* Points at a blob inside the frame; the NUL after it is checked. */
static const uint8_t *get_bytes(struct rbuf *r, uint32_t *n) {
    *n = get_u32(r);
    if (r->bad || r->n - r->off < (size_t)*n + 1 || r->p[r->off + *n] != 0) { r->bad = 1; *n = 0; return NULL; }
    const uint8_t *p = r->p + r->off;
    r->off += *n + 1;
    return p;
}
static void get_str_into(struct rbuf *r, char *out, size_t cap) {
    uint32_t n;
    const uint8_t *p = get_bytes(r, &n);
    snprintf(out, cap, "%.*s", (int)n, p ? (const char *)p : "");
}

static int done(struct rbuf *r, const char *what, char *err, size_t errlen) {
    if (!r->bad) return 0;
    snprintf(err, errlen, "malformed %s frame (%zu bytes, stopped at byte %zu)", what, r->n, r->off);
    return -1;
}

void wp_put_hello(struct wbuf *b, const struct wp_hello *h) {
    wbuf_begin(b, WP_HELLO);
    put_i32(b, h->status); put_i32(b, h->driver_version); put_i32(b, h->device_count);
    put_str(b, h->api_kind); put_str(b, h->message);
    wbuf_end(b);
}
int wp_get_hello(struct rbuf *r, struct wp_hello *h, char *err, size_t errlen) {
    h->status = get_i32(r); h->driver_version = get_i32(r); h->device_count = get_i32(r);
    get_str_into(r, h->api_kind, sizeof h->api_kind);
    get_str_into(r, h->message, sizeof h->message);
    return done(r, "hello", err, errlen);
}

void wp_put_devices(struct wbuf *b, const struct cuda_device_info *d, int n) {
    wbuf_begin(b, WP_DEVICES);
    put_i32(b, n);
    for (int i = 0; i < n; i++) put(b, &d[i], sizeof d[i]);   /* plain fixed-size struct */
    wbuf_end(b);
}
int wp_get_devices(struct rbuf *r, struct cuda_device_info *d, int cap, int *n, char *err, size_t errlen) {
    *n = get_i32(r);
    if (*n < 0 || *n > cap) r->bad = 1;
    for (int i = 0; i < *n && !r->bad; i++) {
        get(r, &d[i], sizeof d[i]);
        d[i].name[sizeof d[i].name - 1] = 0;
    }
    return done(r, "devices", err, errlen);
}

static void put_kernel(struct wbuf *b, const struct wp_kernel *k) {
    put_bytes(b, k->image, k->image_len);
    put_str(b, k->name);
    for (int i = 0; i < 3; i++) put_u32(b, k->grid[i]);
    for (int i = 0; i < 3; i++) put_u32(b, k->block[i]);
    put_u32(b, k->smem);
    put_i32(b, k->nargs);
    for (int i = 0; i < k->nargs; i++) {
        const struct wp_arg *a = &k->args[i];
        put_i32(b, a->kind); put_u64(b, (uint64_t)a->i); put_f64(b, a->f);
        if (a->kind == WP_ARG_TMAP) {
            put_u64(b, a->tm.rows); put_u64(b, a->tm.cols);
            put_u32(b, a->tm.box_rows); put_u32(b, a->tm.box_cols); put_u32(b, a->tm.swizzle);
        }
    }
}
static void get_kernel(struct rbuf *r, struct wp_kernel *k) {
    uint32_t n;
    k->image = get_bytes(r, &k->image_len);
    k->name = (const char *)get_bytes(r, &n);
    for (int i = 0; i < 3; i++) k->grid[i] = get_u32(r);
    for (int i = 0; i < 3; i++) k->block[i] = get_u32(r);
    k->smem = get_u32(r);
    k->nargs = get_i32(r);
    if (k->nargs < 0 || k->nargs > WP_MAX_ARGS) { r->bad = 1; k->nargs = 0; }
    for (int i = 0; i < k->nargs; i++) {
        struct wp_arg *a = &k->args[i];
        a->kind = get_i32(r); a->i = (int64_t)get_u64(r); a->f = get_f64(r);
        if (a->kind == WP_ARG_TMAP) {
            a->tm.rows = get_u64(r); a->tm.cols = get_u64(r);
            a->tm.box_rows = get_u32(r); a->tm.box_cols = get_u32(r); a->tm.swizzle = get_u32(r);
        }
    }
}

size_t wp_dtype_bytes(int dtype) { return dtype == WP_F16 || dtype == WP_BF16 ? 2 : 4; }

int wp_check_tmap(const struct wp_arg *a, const struct wp_buffer *bufs, int nbufs, char *err, size_t errlen) {
    const struct wp_tmap *t = &a->tm;
    const uint64_t dim_max = (uint64_t)1 << 32;
    if (a->i < 0 || a->i >= nbufs)
        return snprintf(err, errlen, "tmap must be a buffer 1..%d, got %lld", nbufs, (long long)a->i + 1), -1;
    const struct wp_buffer *b = &bufs[a->i];
    unsigned long long eb = wp_dtype_bytes(b->dtype), rows = t->rows, cols = t->cols;
    if (rows < 1 || rows > dim_max) return snprintf(err, errlen, "rows must be 1..%llu, got %llu", (unsigned long long)dim_max, rows), -1;
    if (cols < 1 || cols > dim_max) return snprintf(err, errlen, "cols must be 1..%llu, got %llu", (unsigned long long)dim_max, cols), -1;
    if (rows > b->count / cols)
        return snprintf(err, errlen, "rows x cols must fit buffer %lld (%llu elements), got %llu x %llu",
                        (long long)a->i + 1, (unsigned long long)b->count, rows, cols), -1;
    if (cols * eb % 16)
        return snprintf(err, errlen, "cols x %llu bytes (the row pitch) must be a multiple of 16, got %llu", eb, cols), -1;
    if (t->box_rows < 1 || t->box_rows > 256) return snprintf(err, errlen, "box_rows must be 1..256, got %u", t->box_rows), -1;
    if (t->box_cols < 1 || t->box_cols > 256) return snprintf(err, errlen, "box_cols must be 1..256, got %u", t->box_cols), -1;
    if (t->box_cols * eb % 16)
        return snprintf(err, errlen, "box_cols x %llu bytes must be a multiple of 16, got %u", eb, t->box_cols), -1;
    if (t->swizzle != 0 && t->swizzle != 32 && t->swizzle != 64 && t->swizzle != 128)
        return snprintf(err, errlen, "swizzle must be 0, 32, 64 or 128 (bytes), got %u", t->swizzle), -1;
    if (t->swizzle && t->box_cols * eb > t->swizzle)
        return snprintf(err, errlen, "box_cols x %llu bytes must be within the %u-byte swizzle span, got %u",
                        eb, t->swizzle, t->box_cols), -1;
    return 0;
}

/* The first TMAP arg of k that fails wp_check_tmap, as "<what>args[i].<message>". */
static int check_args(const struct wp_kernel *k, const char *what, const struct wp_buffer *bufs, int nbufs,
                      char *err, size_t errlen) {
    char why[200];
    for (int i = 0; i < k->nargs; i++)
        if (k->args[i].kind == WP_ARG_TMAP && wp_check_tmap(&k->args[i], bufs, nbufs, why, sizeof why))
            return snprintf(err, errlen, "%sargs[%d].%s", what, i + 1, why), -1;
    return 0;
}

static void put_opts(struct wbuf *b, const struct bench_opts *o) {
    double v[] = { o->target_rse, o->min_reps, o->max_reps, o->time_cap_ms, o->warmup_ms, o->l2_flush,
                   o->batch, o->batch_below_us, o->best_us, o->cutoff_margin, o->trim_k,
                   o->clock_off, o->clock_min_frac, o->clock_max_discard, o->clock_every_ms, o->gate_off };
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) put_f64(b, v[i]);
}
static void get_opts(struct rbuf *r, struct bench_opts *o) {
    o->target_rse = get_f64(r); o->min_reps = (int)get_f64(r); o->max_reps = (int)get_f64(r);
    o->time_cap_ms = get_f64(r); o->warmup_ms = get_f64(r); o->l2_flush = (int)get_f64(r);
    o->batch = (int)get_f64(r); o->batch_below_us = get_f64(r); o->best_us = get_f64(r);
    o->cutoff_margin = get_f64(r); o->trim_k = get_f64(r);
    o->clock_off = (int)get_f64(r); o->clock_min_frac = get_f64(r); o->clock_max_discard = get_f64(r);
    o->clock_every_ms = get_f64(r); o->gate_off = (int)get_f64(r);
}

void wp_put_setup(struct wbuf *b, const struct wp_setup *s) {
    wbuf_begin(b, WP_SETUP);
    put_i32(b, s->device); put_i32(b, s->nbufs); put_i32(b, s->output); put_i32(b, s->has_ref);
    for (int i = 0; i < s->nbufs; i++) {
        const struct wp_buffer *x = &s->bufs[i];
        put_i32(b, x->dtype); put_i32(b, x->init); put_u64(b, x->count); put_u64(b, x->seed); put_f64(b, x->value);
    }
    if (s->has_ref) put_kernel(b, &s->ref);
    put_f64(b, s->atol); put_f64(b, s->rtol);
    wbuf_end(b);
}
int wp_get_setup(struct rbuf *r, struct wp_setup *s, char *err, size_t errlen) {
    memset(s, 0, sizeof *s);
    s->device = get_i32(r); s->nbufs = get_i32(r); s->output = get_i32(r); s->has_ref = get_i32(r);
    if (s->nbufs < 0 || s->nbufs > WP_MAX_BUFS) { r->bad = 1; s->nbufs = 0; }
    for (int i = 0; i < s->nbufs; i++) {
        struct wp_buffer *x = &s->bufs[i];
        x->dtype = get_i32(r); x->init = get_i32(r); x->count = get_u64(r); x->seed = get_u64(r); x->value = get_f64(r);
    }
    if (s->has_ref) get_kernel(r, &s->ref);
    s->atol = get_f64(r); s->rtol = get_f64(r);
    if (done(r, "setup", err, errlen)) return -1;
    return s->has_ref ? check_args(&s->ref, "reference ", s->bufs, s->nbufs, err, errlen) : 0;
}

void wp_put_trial(struct wbuf *b, const struct wp_trial *t) {
    wbuf_begin(b, WP_TRIAL);
    put_kernel(b, &t->k); put_opts(b, &t->opts); put_i32(b, t->check); put_i32(b, t->raw_n);
    wbuf_end(b);
}
int wp_get_trial(struct rbuf *r, struct wp_trial *t, const struct wp_buffer *bufs, int nbufs, char *err, size_t errlen) {
    memset(t, 0, sizeof *t);
    get_kernel(r, &t->k); get_opts(r, &t->opts); t->check = get_i32(r); t->raw_n = get_i32(r);
    if (done(r, "trial", err, errlen)) return -1;
    return check_args(&t->k, "", bufs, nbufs, err, errlen);
}

void wp_put_baseline(struct wbuf *b, const struct wp_baseline *t) {
    wbuf_begin(b, WP_BASELINE);
    put_str(b, t->name); put_i32(b, t->nparams);
    for (int i = 0; i < t->nparams; i++) put_u64(b, (uint64_t)t->params[i]);
    put_opts(b, &t->opts); put_i32(b, t->check);
    wbuf_end(b);
}
int wp_get_baseline(struct rbuf *r, struct wp_baseline *t, char *err, size_t errlen) {
    uint32_t n;
    memset(t, 0, sizeof *t);
    t->name = (const char *)get_bytes(r, &n);
    t->nparams = get_i32(r);
    if (t->nparams < 0 || t->nparams > 8) { r->bad = 1; t->nparams = 0; }
    for (int i = 0; i < t->nparams; i++) t->params[i] = (int64_t)get_u64(r);
    get_opts(r, &t->opts); t->check = get_i32(r);
    return done(r, "baseline", err, errlen);
}

void wp_put_error(struct wbuf *b, int code, const char *msg) {
    wbuf_begin(b, WP_ERROR);
    put_i32(b, code); put_str(b, msg);
    wbuf_end(b);
}
int wp_get_error(struct rbuf *r, int *code, char *msg, size_t msglen) {
    *code = get_i32(r);
    get_str_into(r, msg, msglen);
    return r->bad ? -1 : 0;
}

void wp_put_result(struct wbuf *b, const struct wp_result *res) {
    wbuf_begin(b, WP_RESULT);
    struct wp_result copy = *res;
    copy.message[sizeof copy.message - 1] = 0;
    put(b, &copy, sizeof copy);   /* fixed-size plain struct, same executable on both ends */
    wbuf_end(b);
}
int wp_get_result(struct rbuf *r, struct wp_result *res, char *err, size_t errlen) {
    get(r, res, sizeof *res);
    res->message[sizeof res->message - 1] = 0;
    res->bench.clock_note[sizeof res->bench.clock_note - 1] = 0;
    return done(r, "result", err, errlen);
}

static int write_all(int fd, const uint8_t *p, size_t n) {
    while (n) {
        ssize_t w = write(fd, p, n);
        if (w < 0 && errno == EINTR) continue;
        if (w <= 0) return -1;
        p += w;
        n -= (size_t)w;
    }
    return 0;
}
static int read_all(int fd, uint8_t *p, size_t n) {
    while (n) {
        ssize_t got = read(fd, p, n);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) return -1;
        p += got;
        n -= (size_t)got;
    }
    return 0;
}

int wp_write_frame(int fd, const struct wbuf *b) { return b->oom ? -1 : write_all(fd, b->p, b->n); }

int wp_read_frame(int fd, uint8_t **buf, size_t *cap, int *type, const uint8_t **payload, size_t *len) {
    uint32_t n;
    if (read_all(fd, (uint8_t *)&n, 4) || n < 1 || n > WP_MAX_FRAME) return -1;
    if (n > *cap) {
        uint8_t *p = realloc(*buf, n);
        if (!p) return -1;
        *buf = p;
        *cap = n;
    }
    if (read_all(fd, *buf, n)) return -1;
    *type = (*buf)[0];
    *payload = *buf + 1;
    *len = n - 1;
    return 0;
}

const char *wp_status_name(int status) {
    static const char *names[] = { "ok", "wrong", "fault", "timeout", "invalid", "unavailable", "cutoff" };
    return status >= 0 && status < 7 ? names[status] : "invalid";
}
