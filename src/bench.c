/* The hot benchmark loop (see bench.h): phases warm-up, rounds of event-timed samples fed
 * to the stopping criterion, outlier trim, summary. */
#include "bench.h"
#include "util.h"
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUND 32   /* samples enqueued before one synchronize */

struct bench {
    const struct cuda_api *api;
    CUstream stream;
    CUevent ev[2 * ROUND];
    int capacity;
    double *samples, *scratch;
    CUdeviceptr flush;
    size_t flush_bytes;
};

void bench_free(struct bench *b) {
    if (!b) return;
    for (int i = 0; i < 2 * ROUND; i++)
        if (b->ev[i]) b->api->event_destroy(b->ev[i]);
    if (b->flush) b->api->mem_free(b->flush);
    free(b->samples);
    free(b->scratch);
    free(b);
}

struct bench *bench_new(const struct cuda_api *api, CUstream s, int capacity, size_t flush_bytes,
                        char *err, size_t errlen) {
    struct bench *b = calloc(1, sizeof *b);
    if (!b) return snprintf(err, errlen, "out of memory"), NULL;
    b->api = api;
    b->stream = s;
    b->capacity = capacity > 0 ? capacity : 1;
    b->samples = calloc((size_t)b->capacity, sizeof *b->samples);
    b->scratch = calloc((size_t)b->capacity, sizeof *b->scratch);
    CUresult r = b->samples && b->scratch ? CUDA_SUCCESS : CUDA_ERROR_OUT_OF_MEMORY;
    for (int i = 0; i < 2 * ROUND && r == CUDA_SUCCESS; i++) r = api->event_create(&b->ev[i], CU_EVENT_DEFAULT);
    if (r == CUDA_SUCCESS && flush_bytes) r = api->mem_alloc(&b->flush, flush_bytes);
    b->flush_bytes = flush_bytes;
    if (r != CUDA_SUCCESS) {
        char msg[200];
        snprintf(err, errlen, "bench setup (capacity %d, flush %zu bytes): %s", capacity, flush_bytes,
                 cuda_api_error(api, r, msg, sizeof msg));
        bench_free(b);
        return NULL;
    }
    return b;
}

static void fill_defaults(struct bench_opts *o, int capacity) {
    if (o->max_reps <= 0 || o->max_reps > capacity) o->max_reps = capacity;
    if (o->time_cap_ms <= 0) o->time_cap_ms = 200;
    if (o->warmup_ms <= 0) o->warmup_ms = 1;
    if (o->batch_below_us <= 0) o->batch_below_us = 100;
    if (o->trim_k == 0) o->trim_k = 5;
}

/* Enqueues K launches between events a and b (preceded by an L2 flush when asked). */
static int enqueue_sample(struct bench *b, bench_launch_fn launch, void *ctx, int k, int flush, CUevent ea, CUevent eb) {
    const struct cuda_api *api = b->api;
    int r = CUDA_SUCCESS;
    if (flush && b->flush) r = api->memset_d8_async(b->flush, 0x5a, b->flush_bytes, b->stream);
    if (!r) r = api->event_record(ea, b->stream);
    for (int i = 0; i < k && !r; i++) r = launch(ctx, b->stream);
    if (!r) r = api->event_record(eb, b->stream);
    return r;
}

static int elapsed_us(struct bench *b, CUevent ea, CUevent eb, double *us) {
    float ms = 0;
    int r = b->api->event_elapsed_time(&ms, ea, eb);
    *us = ms * 1000.0;
    return r;
}

/* Warm-up: one timed cold launch (its time estimates the kernel), then launches worth
 * warmup_ms. */
static int warm_up(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *o, double *est_us) {
    int r = enqueue_sample(b, launch, ctx, 1, 0, b->ev[0], b->ev[1]);
    if (!r) r = b->api->event_synchronize(b->ev[1]);
    if (!r) r = elapsed_us(b, b->ev[0], b->ev[1], est_us);
    if (r) return r;
    double est = *est_us > 0.05 ? *est_us : 0.05;
    int n = (int)fmin(1000.0, fmax(1.0, o->warmup_ms * 1000.0 / est));
    r = enqueue_sample(b, launch, ctx, n, 0, b->ev[0], b->ev[1]);
    if (!r) r = b->api->event_synchronize(b->ev[1]);
    double warm_us = 0;
    if (!r && elapsed_us(b, b->ev[0], b->ev[1], &warm_us) == 0 && warm_us > 0) *est_us = warm_us / n;
    return r;
}

static int choose_batch(const struct bench_opts *o, double est_us) {
    if (o->batch > 0) return o->batch;
    if (o->l2_flush || est_us >= o->batch_below_us) return 1;
    /* A sample of >= 2 x batch_below_us: the launch latency that an event between kernels
     * exposes (~2 us on an H100) stays under 1% of the sample. */
    int k = (int)ceil(2.0 * o->batch_below_us / fmax(est_us, 0.05));
    return k < 1 ? 1 : k > 100 ? 100 : k;
}

/* One round: enqueue up to ROUND samples, wait, feed the criterion. */
static int run_round(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *o, int k,
                     int nround, struct criterion *c, enum criterion_verdict *v) {
    int r = 0;
    for (int i = 0; i < nround && !r; i++) r = enqueue_sample(b, launch, ctx, k, o->l2_flush, b->ev[2 * i], b->ev[2 * i + 1]);
    if (!r) r = b->api->event_synchronize(b->ev[2 * nround - 1]);
    for (int i = 0; i < nround && !r && *v == CRIT_CONTINUE; i++) {
        double us;
        r = elapsed_us(b, b->ev[2 * i], b->ev[2 * i + 1], &us);
        if (!r) *v = criterion_add(c, us / k);
    }
    return r;
}

static void summarize(struct bench *b, struct criterion *c, const struct bench_opts *o, struct bench_result *out) {
    int n = c->n;
    if (o->trim_k > 0) n = stats_trim_slow(b->samples, n, o->trim_k, b->scratch);
    struct stats_summary s;
    stats_summarize(b->samples, n, b->scratch, &s);
    out->median_us = s.median_us;
    out->min_us = s.min_us;
    out->mean_us = s.mean_us;
    out->stddev_us = s.stddev_us;
    out->noise_pct = s.noise_pct;
    out->reps = n;
    out->discarded = c->n - n;
}

int bench_run(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *opts,
              struct bench_result *out) {
    double t0 = util_now_ms();
    struct bench_opts o = *opts;
    fill_defaults(&o, b->capacity);
    memset(out, 0, sizeof *out);
    double est_us = 0;
    int r = warm_up(b, launch, ctx, &o, &est_us);
    if (r) return r;
    out->first_us = est_us;
    int k = choose_batch(&o, est_us);
    struct criterion_opts co = { o.target_rse, o.min_reps, o.max_reps, o.time_cap_ms * 1000.0,
                                 o.best_us, o.cutoff_margin, 0 };
    struct criterion c;
    criterion_init(&c, &co, b->samples, b->scratch);
    enum criterion_verdict v = CRIT_CONTINUE;
    double round_us = fmax(est_us * k, 0.05);
    int first = o.best_us > 0 ? 4 : 8;   /* a short first round lets losers be cut early */
    while (v == CRIT_CONTINUE && !r) {
        double left_us = co.time_cap_us - c.total_us;
        int nround = (int)fmin(c.n == 0 ? first : ROUND, fmax(1.0, left_us / round_us));
        if (nround > o.max_reps - c.n) nround = o.max_reps - c.n;
        r = run_round(b, launch, ctx, &o, k, nround, &c, &v);
        if (v == CRIT_CONTINUE && util_now_ms() - t0 > 2 * o.time_cap_ms + 50) v = CRIT_TIME_CAP;
    }
    if (r) return r;
    out->batch = k;
    out->cutoff = v == CRIT_CUTOFF;
    out->converged = v == CRIT_CONVERGED;
    out->timed_out = v == CRIT_TIME_CAP || v == CRIT_MAX_REPS;
    summarize(b, &c, &o, out);
    out->wall_ms = util_now_ms() - t0;
    return 0;
}

int bench_raw(struct bench *b, bench_launch_fn launch, void *ctx, int n, double *per_launch_us) {
    int r = enqueue_sample(b, launch, ctx, n, 0, b->ev[0], b->ev[1]);
    if (!r) r = b->api->event_synchronize(b->ev[1]);
    double us = 0;
    if (!r) r = elapsed_us(b, b->ev[0], b->ev[1], &us);
    *per_launch_us = n > 0 ? us / n : 0;
    return r;
}
