/* The GPU worker on the fake driver: hello, devices, setup with a reference, a good trial,
 * a wrong result, cutoff, invalid kernel, and fault / hang -> kill, restart, replayed setup,
 * next trial fine. The worker is forked in-process (no exec) so the test needs no htune. */
#include "worker.h"
#include "test.h"
#include "util.h"
#include <math.h>

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

static void test_setup_with_reference(void) {
    struct wp_setup s = { 0 };
    s.nbufs = 2;
    s.bufs[0] = (struct wp_buffer){ WP_F32, WP_INIT_RANDOM, 1024, 7, 0 };
    s.bufs[1] = (struct wp_buffer){ WP_F32, WP_INIT_ZERO, 1024, 0, 0 };
    s.output = 1;
    s.has_ref = 1;
    s.atol = s.rtol = -1;
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
    CHECK_EQ_INT(wp_get_trial(&r, &back, err, sizeof err), -1);
    CHECK(strstr(err, "malformed trial frame") != NULL);
    struct rbuf ok = { b.p + 5, b.n - 5, 0, 0 };
    CHECK_EQ_INT(wp_get_trial(&ok, &back, err, sizeof err), 0);
    CHECK_STR(back.k.name, "fake_copy_10");
    CHECK_EQ_INT(back.k.args[2].i, 1024);
    wbuf_free(&b);
}

int main(void) {
    RUN(test_hello_and_devices);
    RUN(test_setup_with_reference);
    RUN(test_good_wrong_cutoff_invalid);
    RUN(test_fault_restarts_and_goes_on);
    RUN(test_hang_hits_the_watchdog);
    RUN(test_baseline_unavailable_on_the_fake);
    RUN(test_truncated_frames_are_refused);
    worker_close(w);
    return test_report();
}
