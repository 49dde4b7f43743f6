/* The GPU worker on the fake driver: hello, devices, setup with a reference, a good trial,
 * a wrong result, cutoff, invalid kernel, fault / hang -> kill, restart, replayed setup, next
 * trial fine; tensor-map args encoded once per trial and passed by value, in trials and in the
 * reference, and refused, failed or unavailable with a message naming the arg. The worker is
 * forked in-process (no exec) so the test needs no htune. */
#include "worker.h"
#include "test.h"
#include "util.h"
#include <math.h>
#include <stdlib.h>
#include <unistd.h>

static struct worker *w;
static int type;
static const uint8_t *payload;
static size_t len;

static void kernel(struct wp_kernel *k, const char *name) {
    memset(k, 0, sizeof *k);
    k->image = (const uint8_t *)"fake module";
    k->image_len = 11;
    k->name = name;
    k->grid[0] = k->grid[1] = k->grid[2] = 1;
    k->block[0] = 256; k->block[1] = k->block[2] = 1;
    k->nargs = 3;
    k->args[0].kind = WP_ARG_BUF; k->args[0].i = 0;
    k->args[1].kind = WP_ARG_BUF; k->args[1].i = 1;
    k->args[2].kind = WP_ARG_I32; k->args[2].i = 1024;
}

static int trial(const char *name, double best_us, double timeout_ms, struct wp_result *res) {
    struct wp_trial t = { 0 };
    kernel(&t.k, name);
    t.check = 1;
    t.opts.best_us = best_us;
    t.opts.time_cap_ms = 20;
    struct wbuf b = { 0 };
    wp_put_trial(&b, &t);
    int st = worker_call(w, &b, timeout_ms, &type, &payload, &len);
    wbuf_free(&b);
    if (st == WK_REPLY) {
        char err[200];
        struct rbuf r = { payload, len, 0, 0 };
        CHECK_EQ_INT(type, WP_RESULT);
        CHECK_EQ_INT(wp_get_result(&r, res, err, sizeof err), 0);
    }
    return st;
}

static void test_hello_and_devices(void) {
    char err[300];
    struct worker_opts o = { .exe = NULL, .fake = 1 };
    CHECK_EQ_INT(worker_start(&w, &o, err, sizeof err), 0);
    CHECK_STR(worker_hello(w)->api_kind, "fake");
    CHECK_EQ_INT(worker_hello(w)->device_count, 1);
    struct wbuf b = { 0 };
    wbuf_begin(&b, WP_DEVICES);
    wbuf_end(&b);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    struct cuda_device_info d[4];
    int n = 0;
    struct rbuf r = { payload, len, 0, 0 };
    CHECK_EQ_INT(wp_get_devices(&r, d, 4, &n, err, sizeof err), 0);
    CHECK_EQ_INT(n, 1);
    CHECK_STR(d[0].name, "htune fake GPU");
    CHECK_EQ_INT(d[0].sms, 132);
    wbuf_free(&b);
}

/* Two fp32 buffers of 1024 (random input, output) with a reference; the caller sets s->ref. */
static void copy_setup(struct wp_setup *s) {
    memset(s, 0, sizeof *s);
    s->nbufs = 2;
    s->bufs[0] = (struct wp_buffer){ WP_F32, WP_INIT_RANDOM, 1024, 7, 0 };
    s->bufs[1] = (struct wp_buffer){ WP_F32, WP_INIT_ZERO, 1024, 0, 0 };
    s->output = 1;
    s->has_ref = 1;
    s->atol = s->rtol = -1;
}

static void test_setup_with_reference(void) {
    struct wp_setup s;
    copy_setup(&s);
    kernel(&s.ref, "fake_copy_5");
    struct wbuf b = { 0 };
    wp_put_setup(&b, &s);
    CHECK_EQ_INT(worker_remember_setup(w, &b), 0);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    CHECK_EQ_INT(type, WP_OK);
    wbuf_free(&b);
}

static void test_good_wrong_cutoff_invalid(void) {
    struct wp_result r;
    CHECK_EQ_INT(trial("fake_copy_10", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_OK);
    CHECK(r.checked && r.mismatches == 0);
    CHECK(fabs(r.bench.median_us - 10) < 0.2);
    CHECK_EQ_INT(r.regs, 32);
    CHECK_EQ_INT(trial("fake_wrong_10", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_WRONG);
    CHECK(r.mismatches == 1 && r.first_bad == 512 && fabs(r.max_abs_err - 1) < 1e-6);
    CHECK(strstr(r.message, "1 of 1024 elements differ") != NULL);
    CHECK_EQ_INT(trial("fake_copy_50", 10, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_CUTOFF);
    CHECK(r.bench.reps <= 4);
    CHECK_EQ_INT(trial("no_such_kernel", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_INVALID);
    CHECK_EQ_INT(trial("fake_copy_10", 0, 2000, &r), WK_REPLY);   /* still alive */
    CHECK_EQ_INT(r.status, WP_S_OK);
}

static void test_fault_restarts_and_goes_on(void) {
    struct wp_result r;
    char err[300];
    int pid = worker_pid(w);
    CHECK_EQ_INT(trial("fake_fault", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_FAULT);
    CHECK(strstr(r.message, "ILLEGAL_ADDRESS") != NULL);
    double t0 = util_now_ms();
    CHECK_EQ_INT(worker_restart(w, err, sizeof err), 0);
    CHECK(worker_pid(w) != pid);
    CHECK_EQ_INT(trial("fake_copy_10", 0, 2000, &r), WK_REPLY);   /* setup was replayed */
    CHECK_EQ_INT(r.status, WP_S_OK);
    CHECK(util_now_ms() - t0 < 1500);
    CHECK_EQ_INT(trial("fake_trap", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_FAULT);
    CHECK_EQ_INT(worker_restart(w, err, sizeof err), 0);
}

static void test_hang_hits_the_watchdog(void) {
    struct wp_result r;
    char err[300];
    double t0 = util_now_ms();
    CHECK_EQ_INT(trial("fake_hang", 0, 300, &r), WK_TIMEOUT);
    double waited = util_now_ms() - t0;
    CHECK(waited >= 290 && waited < 1500);
    CHECK_EQ_INT(worker_pid(w), -1);
    CHECK_EQ_INT(worker_restart(w, err, sizeof err), 0);
    CHECK_EQ_INT(trial("fake_copy_10", 0, 2000, &r), WK_REPLY);
    CHECK_EQ_INT(r.status, WP_S_OK);
    CHECK_EQ_INT(worker_restarts(w), 3);
}

static void test_baseline_unavailable_on_the_fake(void) {
    struct wp_baseline bl = { .name = "cublas", .nparams = 1, .params = { 1024 } };
    struct wbuf b = { 0 };
    wp_put_baseline(&b, &bl);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    struct wp_result r;
    char err[200];
    struct rbuf rb = { payload, len, 0, 0 };
    CHECK_EQ_INT(wp_get_result(&rb, &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.status, WP_S_UNAVAILABLE);   /* the fake driver has no cuBLAS */
    CHECK(strstr(r.message, "baseline unavailable") != NULL);
    wbuf_free(&b);
    struct wp_baseline mc = { .name = "memcpy", .nparams = 1, .params = { 0 } };   /* the copy figure */
    wp_put_baseline(&b, &mc);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    struct rbuf rc = { payload, len, 0, 0 };
    CHECK_EQ_INT(wp_get_result(&rc, &r, err, sizeof err), 0);
    CHECK_EQ_INT(r.status, WP_S_OK);
    CHECK(fabs(r.bench.median_us - (1.0 + 8192.0 / 3e6)) < 0.05);
    wbuf_free(&b);
}

static void test_truncated_frames_are_refused(void) {
    struct wp_trial t = { 0 };
    kernel(&t.k, "fake_copy_10");
    struct wbuf b = { 0 };
    wp_put_trial(&b, &t);
    char err[200];
    struct wp_trial back;
    struct rbuf r = { b.p + 5, b.n - 5 - 20, 0, 0 };
    CHECK_EQ_INT(wp_get_trial(&r, &back, NULL, 0, err, sizeof err), -1);
    CHECK(strstr(err, "malformed trial frame") != NULL);
    struct rbuf ok = { b.p + 5, b.n - 5, 0, 0 };
    CHECK_EQ_INT(wp_get_trial(&ok, &back, NULL, 0, err, sizeof err), 0);
    CHECK_STR(back.k.name, "fake_copy_10");
    CHECK_EQ_INT(back.k.args[2].i, 1024);
    wbuf_free(&b);
}

/* ---- tensor maps ($HTUNE_FAKE_TMAP_LOG records what the fake encoded and what fake_tmap got) */
static char tmap_log[64] = "/tmp/htune_test_tmap_XXXXXX";

static struct wp_arg tmap_arg(int buf, uint64_t rows, uint64_t cols, uint32_t box_rows, uint32_t box_cols, uint32_t swizzle) {
    struct wp_arg a = { .kind = WP_ARG_TMAP, .i = buf };
    a.tm = (struct wp_tmap){ rows, cols, box_rows, box_cols, swizzle };
    return a;
}

/* fake_tmap_<us> (src, dst, n, map over src, map over dst): fp32 16 x 64 box 8 x 32 128B-swizzled,
 * 32 x 32 box 32 x 8 32B-swizzled. */
static void tmap_kernel(struct wp_kernel *k, const char *name) {
    kernel(k, name);
    k->nargs = 5;
    k->args[3] = tmap_arg(0, 16, 64, 8, 32, 128);
    k->args[4] = tmap_arg(1, 32, 32, 32, 8, 32);
}

static int tmap_trial(struct wp_result *res, struct wp_arg *replace4) {
    struct wp_trial t = { 0 };
    tmap_kernel(&t.k, "fake_tmap_10");
    if (replace4) t.k.args[3] = *replace4;
    t.check = 1;
    t.opts.time_cap_ms = 20;
    struct wbuf b = { 0 };
    wp_put_trial(&b, &t);
    int st = worker_call(w, &b, 2000, &type, &payload, &len);
    wbuf_free(&b);
    struct rbuf r = { payload, len, 0, 0 };
    char err[200];
    CHECK_EQ_INT(st, WK_REPLY);
    CHECK_EQ_INT(type, WP_RESULT);
    CHECK_EQ_INT(wp_get_result(&r, res, err, sizeof err), 0);
    return res->status;
}

/* The log's text so far, then emptied. */
static const char *take_log(void) {
    static char text[4096];
    FILE *f = fopen(tmap_log, "r");
    size_t n = f ? fread(text, 1, sizeof text - 1, f) : 0;
    text[n] = 0;
    if (f) fclose(f);
    f = fopen(tmap_log, "w");
    if (f) fclose(f);
    return text;
}

/* dtype 7 = CU_TENSOR_MAP_DATA_TYPE_FLOAT32; dims and box innermost first; stride in bytes;
 * swizzle 3 = 128B, 1 = 32B; l2 3 = L2_256B; interleave and oob fill none. */
#define MAP4 "dtype 7 rank 2 dims 64x16 stride 256 box 32x8 estr 1x1 interleave 0 swizzle 3 l2 3 oob 0"
#define MAP5 "dtype 7 rank 2 dims 32x32 stride 128 box 8x32 estr 1x1 interleave 0 swizzle 1 l2 3 oob 0"

static void test_tmap_args_reach_the_kernel_once_per_trial(void) {
    struct wp_result r;
    take_log();
    CHECK_EQ_INT(tmap_trial(&r, NULL), WP_S_OK);
    CHECK(r.checked && r.mismatches == 0);   /* fake_tmap copies like the fake_copy reference */
    CHECK(r.bench.reps >= 10);               /* many launches, two encodes */
    CHECK_STR(take_log(), "encode " MAP4 "\nencode " MAP5 "\n"
                          "kernel arg 4 base src " MAP4 "\nkernel arg 5 base dst " MAP5 "\n");
    struct wp_arg bad = tmap_arg(0, 16, 64, 512, 32, 128);
    CHECK_EQ_INT(tmap_trial(&r, &bad), WP_S_INVALID);
    CHECK_STR(r.message, "args[4].box_rows must be 1..256, got 512");
    bad = tmap_arg(0, 64, 64, 8, 32, 128);   /* 4096 elements of a 1024-element buffer */
    CHECK_EQ_INT(tmap_trial(&r, &bad), WP_S_INVALID);
    CHECK_STR(r.message, "args[4].rows x cols must fit buffer 1 (1024 elements), got 64 x 64");
    CHECK_STR(take_log(), "");
    bad = tmap_arg(1, 16, 64, 8, 32, 128);   /* a good map over the wrong buffer: the fake kernel refuses it */
    CHECK_EQ_INT(tmap_trial(&r, &bad), WP_S_INVALID);
    CHECK_STR(r.message, "running the kernel: CUDA_ERROR_INVALID_VALUE (1): fake driver error");
    CHECK(strstr(take_log(), "kernel arg 4 base dst " MAP4) != NULL);
}

static void restart_with_tmap_mode(const char *mode) {
    char err[300];
    if (mode) setenv("HTUNE_FAKE_TMAP", mode, 1); else unsetenv("HTUNE_FAKE_TMAP");
    CHECK_EQ_INT(worker_restart(w, err, sizeof err), 0);
}

static void test_tmap_encode_failure_and_absent_driver_are_results(void) {
    struct wp_result r;
    restart_with_tmap_mode("fail");
    CHECK_EQ_INT(tmap_trial(&r, NULL), WP_S_INVALID);
    CHECK_STR(r.message, "arg 4: cuTensorMapEncodeTiled: CUDA_ERROR_INVALID_VALUE (1): fake driver error");
    restart_with_tmap_mode("absent");
    CHECK_EQ_INT(tmap_trial(&r, NULL), WP_S_UNAVAILABLE);
    CHECK_STR(r.message, "arg 4: tensor map: the CUDA driver has no cuTensorMapEncodeTiled (needs 12.0 or later)");
    CHECK_EQ_INT(trial("fake_copy_10", 0, 2000, &r), WK_REPLY);   /* the worker goes on */
    CHECK_EQ_INT(r.status, WP_S_OK);
    restart_with_tmap_mode(NULL);
    CHECK_EQ_INT(tmap_trial(&r, NULL), WP_S_OK);
    take_log();
}

static void test_tmap_args_of_the_reference(void) {
    struct wp_setup s;
    copy_setup(&s);
    tmap_kernel(&s.ref, "fake_tmap_5");
    struct wbuf b = { 0 };
    wp_put_setup(&b, &s);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    CHECK_EQ_INT(type, WP_OK);
    CHECK_STR(take_log(), "encode " MAP4 "\nencode " MAP5 "\n"
                          "kernel arg 4 base src " MAP4 "\nkernel arg 5 base dst " MAP5 "\n");
    s.ref.args[4] = tmap_arg(1, 32, 32, 32, 8, 48);
    wp_put_setup(&b, &s);
    CHECK_EQ_INT(worker_call(w, &b, 2000, &type, &payload, &len), WK_REPLY);
    CHECK_EQ_INT(type, WP_ERROR);
    int code;
    char msg[300];
    struct rbuf r = { payload, len, 0, 0 };
    CHECK_EQ_INT(wp_get_error(&r, &code, msg, sizeof msg), 0);
    CHECK_STR(msg, "reference args[5].swizzle must be 0, 32, 64 or 128 (bytes), got 48");
    wbuf_free(&b);
}

int main(void) {
    int fd = mkstemp(tmap_log);
    if (fd >= 0) close(fd);
    setenv("HTUNE_FAKE_TMAP_LOG", tmap_log, 1);   /* before the worker forks */
    RUN(test_hello_and_devices);
    RUN(test_setup_with_reference);
    RUN(test_good_wrong_cutoff_invalid);
    RUN(test_fault_restarts_and_goes_on);
    RUN(test_hang_hits_the_watchdog);
    RUN(test_baseline_unavailable_on_the_fake);
    RUN(test_truncated_frames_are_refused);
    RUN(test_tmap_args_reach_the_kernel_once_per_trial);
    RUN(test_tmap_encode_failure_and_absent_driver_are_results);
    RUN(test_tmap_args_of_the_reference);
    worker_close(w);
    unlink(tmap_log);
    return test_report();
}
