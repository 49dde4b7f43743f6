/* bench.c on the fake driver: simulated kernel durations come back as medians, short
 * kernels are batched, L2 flush is done per sample, losers are cut off, faults surface. */
#include "bench.h"
#include "test.h"
#include <math.h>
#include <stdlib.h>

struct kern { const struct cuda_api *api; CUfunction fn; int launches; };

static int launch(void *ctx, CUstream s) {
    struct kern *k = ctx;
    k->launches++;
    return k->api->launch_kernel(k->fn, 1, 1, 1, 32, 1, 1, 0, s, NULL, NULL);
}

static struct cuda_api api;
static CUstream stream;
static CUmodule mod;

static struct kern kernel(const char *name) {
    struct kern k = { &api, NULL, 0 };
    CHECK_EQ_INT(api.module_get_function(&k.fn, mod, name), 0);
    return k;
}

static void setup(void) {
    cuda_api_fake(&api);
    api.init(0);
    api.stream_create(&stream, 0);
    api.module_load_data(&mod, "fake");
}

static void test_median_matches_kernel_time(void) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 1000, 0, err, sizeof err);
    CHECK(b != NULL);
    struct kern k = kernel("fake_sleep_150");
    struct bench_opts o = { 0 };
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK(fabs(r.median_us - 150) < 1.5);
    CHECK(r.converged && !r.cutoff && !r.timed_out);
    CHECK_EQ_INT(r.batch, 1);
    CHECK(r.reps >= 10 && r.noise_pct < 1);
    bench_free(b);
}

static void test_short_kernels_are_batched(void) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 1000, 0, err, sizeof err);
    struct kern k = kernel("fake_sleep_2");
    struct bench_opts o = { 0 };
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK_EQ_INT(r.batch, 100);   /* samples of >= 200 us */
    CHECK(fabs(r.median_us - 2) < 0.05);
    k = kernel("fake_sleep_10");
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK(r.batch == 20 || r.batch == 21);   /* ceil(200 / est), est = 10 us +-0.5% noise */
    bench_free(b);
}

static void test_flush_and_cutoff(void) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 1000, 2 << 20, err, sizeof err);
    CHECK(b != NULL);
    struct kern k = kernel("fake_sleep_2");
    struct bench_opts o = { .l2_flush = 1, .best_us = 1 };
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK_EQ_INT(r.batch, 1);   /* flushed samples are never batched */
    CHECK(r.cutoff && r.reps <= 4);
    CHECK(fabs(r.median_us - 2) < 0.05);   /* the flush is outside the timed events */
    bench_free(b);
}

static void test_fault_surfaces_as_error(void) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 100, 0, err, sizeof err);
    struct kern k = kernel("fake_fault");
    struct bench_opts o = { 0 };
    struct bench_result r;
    int fns = cuda_fake_host_fns();
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), CUDA_ERROR_ILLEGAL_ADDRESS);
    /* the gate's host function has run before bench_run returns, so bench_free may follow */
    CHECK_EQ_INT(cuda_fake_host_fns() - fns, 1);
    bench_free(b);
    api.init(0);   /* the fake's sticky error clears on re-init, as a new process would */
}

static void test_raw_reference(void) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 100, 0, err, sizeof err);
    struct kern k = kernel("fake_sleep_10");
    double us = 0;
    CHECK_EQ_INT(bench_raw(b, launch, &k, 100, &us), 0);
    CHECK(fabs(us - 10) < 0.1);
    CHECK_EQ_INT(k.launches, 100);
    bench_free(b);
}

/* A launch that costs the host 20 us against a 5-us kernel: ungated, the GPU waits for each
 * launch and the samples measure the host; behind the gate the round runs back to back. */
static void test_gate_hides_host_launch_cost(void) {
    setenv("HTUNE_FAKE_LAUNCH_US", "20", 1);
    api.init(0);
    char err[200];
    struct bench *b = bench_new(&api, stream, 1000, 2 << 20, err, sizeof err);
    struct kern k = kernel("fake_sleep_5");
    struct bench_opts o = { .gate_off = 1 };
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK(fabs(r.median_us - 20) < 0.5);
    CHECK_EQ_INT(r.gated, 0);
    int fns = cuda_fake_host_fns();
    o.gate_off = 0;
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK(fabs(r.median_us - 5) < 0.1);
    CHECK(r.gated > 0 && r.gate_timeouts == 0);
    CHECK_EQ_INT(cuda_fake_host_fns() - fns, r.gated);
    CHECK(r.batch * 32 > 512);   /* so a round was cut to the gate's 512 launches */
    o.l2_flush = 1;              /* a flushed sample of one launch: the flush is held too */
    CHECK_EQ_INT(bench_run(b, launch, &k, &o, &r), 0);
    CHECK(fabs(r.median_us - 5) < 0.1);
    bench_free(b);
    unsetenv("HTUNE_FAKE_LAUNCH_US");
    api.init(0);
}

int main(void) {
    setup();
    RUN(test_median_matches_kernel_time);
    RUN(test_short_kernels_are_batched);
    RUN(test_flush_and_cutoff);
    RUN(test_fault_surfaces_as_error);
    RUN(test_raw_reference);
    RUN(test_gate_hides_host_launch_cost);
    api.module_unload(mod);
    api.stream_destroy(stream);
    return test_report();
}
