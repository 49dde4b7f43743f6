/* The hot benchmark loop (see bench.h): phases warm-up, rounds of event-timed samples fed
 * to the stopping criterion (a round read at a throttled SM clock is discarded), outlier
 * trim, summary. */
#include "bench.h"
#include "nvml.h"
#include "util.h"
#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ROUND 32   /* samples enqueued before one synchronize */
/* The gate: a host function (cuLaunchHostFunc) at the head of each round holds the stream until
 * the host has enqueued the whole round, so the GPU runs its launches back to back. Without it
 * a launch whose host cost exceeds the kernel's time starves the GPU and the sample measures
 * the host: cuBLAS at 1024^3 read 8.51-12.29 us ungated on the H200, idle or with 16 compile
 * threads busy, and 6.23-6.28 us gated (scripts/bench-gate.lua, call 27). A gated round holds
 * at most GATE_LAUNCHES launches (the driver's launch queue must take them all without
 * blocking), and the gate opens by itself after GATE_TIMEOUT_MS should the host ever stall on
 * a full queue. */
#define GATE_LAUNCHES 512
#define GATE_TIMEOUT_MS 50

struct gate {
    pthread_mutex_t mu;
    pthread_cond_t cv;
    int open, timed_out;
};

struct bench {
    const struct cuda_api *api;
    CUstream stream;
    CUevent ev[2 * ROUND];
    int capacity;
    double *samples, *scratch;
    CUdeviceptr flush;
    size_t flush_bytes;
    struct nvml *nvml;          /* SM clock source, not owned; NULL: no check */
    char nvml_why[200];         /* why there is none */
    double last_read_ms;        /* when the clock was last read (rate limit of timed reads) */
    struct gate gate;
    int gate_ready;             /* mu and cv initialised */
};

/* Runs on the driver's callback thread when the stream reaches the round's head. */
static void gate_wait(void *p) {
    struct gate *g = p;
    struct timespec until;
    clock_gettime(CLOCK_REALTIME, &until);
    until.tv_nsec += (long)GATE_TIMEOUT_MS * 1000000L;
    until.tv_sec += until.tv_nsec / 1000000000L;
    until.tv_nsec %= 1000000000L;
    pthread_mutex_lock(&g->mu);
    while (!g->open)
        if (pthread_cond_timedwait(&g->cv, &g->mu, &until) == ETIMEDOUT) { g->timed_out = 1; break; }
    pthread_mutex_unlock(&g->mu);
}

static void gate_set(struct gate *g, int open) {
    pthread_mutex_lock(&g->mu);
    g->open = open;
    if (!open) g->timed_out = 0;
    pthread_cond_broadcast(&g->cv);
    pthread_mutex_unlock(&g->mu);
}

/* Whether rounds are gated: asked for, and the driver has host functions. */
static int gate_usable(const struct bench *b, const struct bench_opts *o) {
    return b->gate_ready && !o->gate_off && b->api->launch_host_func;
}

/* Closes the gate and puts it at the head of the stream; 1 when it is there. */
static int gate_close(struct bench *b, const struct bench_opts *o) {
    if (!gate_usable(b, o)) return 0;
    gate_set(&b->gate, 0);
    return b->api->launch_host_func(b->stream, gate_wait, &b->gate) == CUDA_SUCCESS;
}

/* Opens it once the host has enqueued what it holds. After an enqueue error (r) it waits for
 * the stream, so the host function has run before the caller may free the bench. */
static void gate_open(struct bench *b, int gated, int r, struct bench_result *out) {
    if (!gated) return;
    gate_set(&b->gate, 1);
    out->gated++;
    if (r) b->api->stream_synchronize(b->stream);
}

/* After the synchronize: whether the gate had opened on its timeout. */
static void gate_check(struct bench *b, int gated, struct bench_result *out) {
    if (!gated) return;
    pthread_mutex_lock(&b->gate.mu);
    out->gate_timeouts += b->gate.timed_out;
    pthread_mutex_unlock(&b->gate.mu);
}

void bench_set_clock(struct bench *b, struct nvml *n, const char *why_not) {
    b->nvml = n;
    snprintf(b->nvml_why, sizeof b->nvml_why, "%s", n ? "" : why_not && *why_not ? why_not : "no SM clock source");
}

void bench_free(struct bench *b) {
    if (!b) return;
    for (int i = 0; i < 2 * ROUND; i++)
        if (b->ev[i]) b->api->event_destroy(b->ev[i]);
    if (b->flush) b->api->mem_free(b->flush);
    if (b->gate_ready) {
        pthread_mutex_destroy(&b->gate.mu);
        pthread_cond_destroy(&b->gate.cv);
    }
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
    if (pthread_mutex_init(&b->gate.mu, NULL) == 0) {
        if (pthread_cond_init(&b->gate.cv, NULL) == 0) b->gate_ready = 1;
        else pthread_mutex_destroy(&b->gate.mu);
    }
    bench_set_clock(b, NULL, NULL);
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
    if (o->clock_min_frac <= 0) o->clock_min_frac = 0.90;
    if (o->clock_max_discard <= 0) o->clock_max_discard = 0.5;
    if (o->clock_every_ms == 0) o->clock_every_ms = 50;
}

/* One SM clock reading: raises the reference (highest clock seen), keeps min/max of the
 * timed rounds' readings, and says whether the clock is throttled: below clock_min_frac of
 * the reference, or a reason other than idle / application clocks. A failed read is not. */
static int clock_read(struct bench *b, const struct bench_opts *o, struct bench_result *out, int timed) {
    if (!b->nvml || o->clock_off) return 0;
    struct nvml_reading rd;
    double t0 = util_now_ms();
    int rc = nvml_read(b->nvml, &rd);
    b->last_read_ms = util_now_ms();
    out->clock_read_us += (b->last_read_ms - t0) * 1000.0;
    out->clock_reads++;
    if (rc || rd.sm_mhz == 0) return 0;
    out->clock_checked = 1;
    if (rd.sm_mhz > out->clock_ref_mhz) out->clock_ref_mhz = rd.sm_mhz;
    if (timed && (out->clock_min_mhz == 0 || rd.sm_mhz < out->clock_min_mhz)) out->clock_min_mhz = rd.sm_mhz;
    if (timed && rd.sm_mhz > out->clock_max_mhz) out->clock_max_mhz = rd.sm_mhz;
    uint64_t bad = rd.reasons & ~NVML_REASONS_BENIGN;
    int throttled = rd.sm_mhz < o->clock_min_frac * out->clock_ref_mhz || bad;
    if (throttled && timed) out->clock_reasons |= bad;
    return throttled;
}

/* Whether a throttled round of n samples may still be discarded: within two rounds' worth,
 * or while discards stay under clock_max_discard of all samples taken. */
static int may_discard(const struct criterion *c, const struct bench_opts *o, const struct bench_result *out, int n) {
    int discards = out->clock_discards + n;
    return discards <= 2 * ROUND || discards <= o->clock_max_discard * (c->n + discards);
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
static int warm_up(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *o, double *est_us,
                   struct bench_result *out) {
    int gated = gate_close(b, o);   /* the launch's host cost stays out of the events */
    int r = enqueue_sample(b, launch, ctx, 1, 0, b->ev[0], b->ev[1]);
    gate_open(b, gated, r, out);
    if (!r) r = b->api->event_synchronize(b->ev[1]);
    gate_check(b, gated, out);
    if (!r) r = elapsed_us(b, b->ev[0], b->ev[1], est_us);
    if (r) return r;
    double est = *est_us > 0.05 ? *est_us : 0.05;
    int n = (int)fmin(1000.0, fmax(1.0, o->warmup_ms * 1000.0 / est));
    gated = gate_close(b, o);   /* so the estimate, and the batch chosen from it, is the GPU's */
    if (gated && n > GATE_LAUNCHES) n = GATE_LAUNCHES;
    r = enqueue_sample(b, launch, ctx, n, 0, b->ev[0], b->ev[1]);
    gate_open(b, gated, r, out);
    if (!r) clock_read(b, o, out, 1);   /* while the GPU runs the warm-up: the clock under load */
    if (!r) r = b->api->event_synchronize(b->ev[1]);
    gate_check(b, gated, out);
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

/* One round: enqueue up to ROUND samples, read the SM clock while they run when clock_every_ms
 * has passed since the last read (an NVML read cost 330-690 us on the H100: two per round were
 * 19-21% of a 10 ms loop's wall time; a clock moves over tens of ms, not within a round), wait, feed the criterion unless the clock was throttled (then
 * the round is discarded). */
static int run_round(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *o, int k,
                     int nround, struct criterion *c, enum criterion_verdict *v, struct bench_result *out) {
    int r = 0, throttled = 0;
    int gated = gate_close(b, o);
    for (int i = 0; i < nround && !r; i++) r = enqueue_sample(b, launch, ctx, k, o->l2_flush, b->ev[2 * i], b->ev[2 * i + 1]);
    gate_open(b, gated, r, out);
    if (!r && util_now_ms() - b->last_read_ms >= o->clock_every_ms) throttled = clock_read(b, o, out, 1);
    if (!r) r = b->api->event_synchronize(b->ev[2 * nround - 1]);
    gate_check(b, gated, out);
    if (!r && throttled && may_discard(c, o, out, nround)) {
        out->clock_discards += nround;
        return 0;
    }
    if (throttled) out->clock_throttled = 1;
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

/* The clock_note: why nothing was checked, or what was discarded or kept. */
static void clock_note(struct bench *b, const struct bench_opts *o, const struct bench_result *out, char *note, size_t len) {
    char why[120];
    note[0] = 0;
    if (o->clock_off) snprintf(note, len, "clock check off (clock_check=false)");
    else if (!b->nvml) snprintf(note, len, "%s", b->nvml_why);
    else if (!out->clock_checked) snprintf(note, len, "SM clock unreadable: %d NVML reads failed", out->clock_reads);
    else if (out->clock_discards || out->clock_throttled)
        snprintf(note, len, "%s %d samples at throttled SM clocks%s (min %.0f MHz, threshold %.0f MHz = %.0f%% of %.0f; reasons %s)",
                 out->clock_throttled ? "too many throttled rounds: kept throttled samples after discarding" : "discarded",
                 out->clock_discards, out->clock_throttled ? "; timings are suspect" : "", out->clock_min_mhz,
                 o->clock_min_frac * out->clock_ref_mhz, 100 * o->clock_min_frac, out->clock_ref_mhz,
                 out->clock_reasons ? nvml_reason_names(out->clock_reasons, why, sizeof why) : "none (clock only)");
}

int bench_run(struct bench *b, bench_launch_fn launch, void *ctx, const struct bench_opts *opts,
              struct bench_result *out) {
    double t0 = util_now_ms();
    struct bench_opts o = *opts;
    fill_defaults(&o, b->capacity);
    memset(out, 0, sizeof *out);
    double est_us = 0;
    out->clock_rated_mhz = o.clock_off ? 0 : nvml_max_sm_mhz(b->nvml);
    int r = warm_up(b, launch, ctx, &o, &est_us, out);
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
        if (gate_usable(b, &o) && nround * k > GATE_LAUNCHES) nround = GATE_LAUNCHES / k > 0 ? GATE_LAUNCHES / k : 1;
        r = run_round(b, launch, ctx, &o, k, nround, &c, &v, out);
        if (v == CRIT_CONTINUE && util_now_ms() - t0 > 2 * o.time_cap_ms + 50) v = CRIT_TIME_CAP;
    }
    if (r) return r;
    out->batch = k;
    out->cutoff = v == CRIT_CUTOFF;
    out->converged = v == CRIT_CONVERGED;
    out->timed_out = v == CRIT_TIME_CAP || v == CRIT_MAX_REPS;
    summarize(b, &c, &o, out);
    clock_note(b, &o, out, out->clock_note, sizeof out->clock_note);
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
