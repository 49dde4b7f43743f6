/* nvml.c and the bench loop's SM clock check on the fake driver and the scripted fake NVML:
 * throttled rounds are discarded and counted (and were the slow ones), too many throttled
 * rounds are kept and flagged, benign reasons discard nothing, and NVML missing (no library,
 * a library without the symbols, a fake scripted absent) disables the check with a reason. */
#include "bench.h"
#include "nvml.h"
#include "test.h"
#include <math.h>
#include <stdlib.h>

static struct cuda_api api;
static CUstream stream;
static CUmodule mod;

/* Launches fake_sleep_150, or fake_sleep_300 in a round whose first clock reading the script
 * throttles (period/bad as in the spec): a throttled clock makes the round slow, as on a GPU. */
struct kern { CUfunction fast, slow; struct nvml *n; int period, bad, slow_launches; };

static int launch(void *ctx, CUstream s) {
    struct kern *k = ctx;
    long next = nvml_reads(k->n);
    int slow = k->n && k->period && next % k->period >= k->period - k->bad;
    k->slow_launches += slow;
    return api.launch_kernel(slow ? k->slow : k->fast, 1, 1, 1, 32, 1, 1, 0, s, NULL, NULL);
}

static struct kern kernel(struct nvml *n, int period, int bad) {
    struct kern k = { NULL, NULL, n, period, bad, 0 };
    CHECK_EQ_INT(api.module_get_function(&k.fast, mod, "fake_sleep_150"), 0);
    CHECK_EQ_INT(api.module_get_function(&k.slow, mod, "fake_sleep_300"), 0);
    return k;
}

static struct bench *bench_with(struct nvml *n, const char *why) {
    char err[200];
    struct bench *b = bench_new(&api, stream, 400, 0, err, sizeof err);
    CHECK(b != NULL);
    bench_set_clock(b, n, why);
    return b;
}

/* Forces rounds until 200 samples: 8, then 32 per round. No outlier trim, so a slow sample
 * that got through would move the mean. */
static const struct bench_opts many_rounds = { .target_rse = 1e-9, .max_reps = 200, .batch = 1, .trim_k = -1,
                                               .clock_every_ms = -1 /* read every round */ };

/* Runs many_rounds on a kernel slow per period/bad under the fake NVML script spec; the
 * kernel's slow launches go to *slow when given. */
static struct bench_result run_scripted(const char *spec, int period, int bad, int *slow) {
    char why[200];
    struct nvml *n = nvml_fake(spec, why, sizeof why);
    struct bench *b = bench_with(n, NULL);
    struct kern k = kernel(n, period, bad);
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &many_rounds, &r), 0);
    if (slow) *slow = k.slow_launches;
    bench_free(b);
    nvml_close(n);
    return r;
}

static void test_fake_script_and_reason_names(void) {
    char why[200], names[100];
    struct nvml *n = nvml_fake("mhz=1755,max=1980,period=3,bad=1,bad_mhz=900,reasons=0x20", why, sizeof why);
    CHECK(n != NULL);
    struct nvml_reading rd;
    unsigned want[] = { 1755, 1755, 900, 1755, 1755, 900 };
    for (int i = 0; i < 6; i++) {
        CHECK_EQ_INT(nvml_read(n, &rd), 0);
        CHECK_EQ_INT(rd.sm_mhz, want[i]);
        CHECK_EQ_INT(rd.reasons, want[i] == 900 ? NVML_REASON_SW_THERMAL : 0);
    }
    CHECK_EQ_INT(nvml_reads(n), 6);
    CHECK_EQ_INT(nvml_max_sm_mhz(n), 1980);
    CHECK_STR(nvml_kind(n), "fake");
    nvml_close(n);
    CHECK_STR(nvml_reason_names(NVML_REASON_SW_POWER_CAP | NVML_REASON_HW_SLOWDOWN, names, sizeof names), "sw_power_cap,hw_slowdown");
    CHECK_STR(nvml_reason_names(0x1000, names, sizeof names), "0x1000");
    CHECK(nvml_fake("mhz=1980,bogus=1", why, sizeof why) == NULL);
    CHECK(strstr(why, "'bogus=1'") != NULL);
    CHECK(nvml_fake("absent", why, sizeof why) == NULL);
    CHECK(strstr(why, "NVML unavailable") == why);
}

static void test_missing_library_gives_reason(void) {
    char why[300] = "";
    setenv("HTUNE_LIBNVML", "/nonexistent/libnvidia-ml.so.1", 1);
    CHECK(nvml_open("0000:3b:00.0", 0, why, sizeof why) == NULL);
    CHECK(strstr(why, "NVML unavailable: ") == why && strstr(why, "/nonexistent/") != NULL);
    setenv("HTUNE_LIBNVML", "libm.so.6", 1);   /* a library, but not NVML */
    CHECK(nvml_open(NULL, 0, why, sizeof why) == NULL);
    CHECK(strstr(why, "lacks nvml") != NULL);
    unsetenv("HTUNE_LIBNVML");
    nvml_close(NULL);
}

static void test_steady_clock_discards_nothing(void) {
    struct bench_result r = run_scripted("", 0, 0, NULL);
    CHECK(r.clock_checked && r.clock_discards == 0 && !r.clock_throttled);
    CHECK(r.clock_min_mhz == 1980 && r.clock_max_mhz == 1980 && r.clock_ref_mhz == 1980 && r.clock_rated_mhz == 1980);
    CHECK_EQ_INT(r.clock_reads, 1 + 7);   /* warm-up + 7 rounds (8 + 6 x 32 = 200 samples) */
    CHECK_EQ_INT(r.reps, 200);
    CHECK_STR(r.clock_note, "");
}

/* Readings 2, 5 and 8 are throttled: rounds 2, 5 and 8 (1 warm-up reading, then 1 per round).
 * Those rounds ran slow; all their 96 samples are dropped, the mean stays. */
static void test_throttled_rounds_are_discarded(void) {
    int slow;
    struct bench_result r = run_scripted("period=3,bad=1,bad_mhz=1000,reasons=0", 3, 1, &slow);
    CHECK_EQ_INT(slow, 96);
    CHECK_EQ_INT(r.clock_discards, 96);
    CHECK_EQ_INT(r.reps, 200);
    CHECK(!r.clock_throttled);
    CHECK(fabs(r.mean_us - 150) < 1.5);
    CHECK(r.clock_min_mhz == 1000 && r.clock_max_mhz == 1980 && r.clock_reasons == 0);
    CHECK(strstr(r.clock_note, "discarded 96 samples") == r.clock_note);
    CHECK(strstr(r.clock_note, "threshold 1782 MHz") != NULL);
}

/* Every other round's reading is throttled: rounds are discarded within 2 x 32 samples and
 * then while discards stay under half of all samples; the rest are kept, and the result says so. */
static void test_too_many_throttled_are_kept_and_flagged(void) {
    struct bench_result r = run_scripted("period=2,bad=1,reasons=0x8", 0, 0, NULL);
    CHECK(r.clock_throttled);
    CHECK(r.clock_discards >= 40 && r.clock_discards <= r.reps);
    CHECK_EQ_INT(r.reps, 200);
    CHECK(r.clock_reasons == NVML_REASON_HW_SLOWDOWN);
    CHECK(strstr(r.clock_note, "too many throttled rounds") == r.clock_note);
    CHECK(strstr(r.clock_note, "hw_slowdown") != NULL);
}

/* A reason alone (clock unchanged) throttles unless it is idle or application clocks. */
static void test_reasons_decide_at_full_clock(void) {
    const char *specs[] = { "period=3,bad=1,bad_mhz=1980,reasons=0x4", "period=3,bad=1,bad_mhz=1980,reasons=0x3" };
    for (int i = 0; i < 2; i++) {
        struct bench_result r = run_scripted(specs[i], 0, 0, NULL);
        CHECK_EQ_INT(r.clock_discards, i == 0 ? 96 : 0);
        CHECK_EQ_INT(r.clock_reasons, i == 0 ? NVML_REASON_SW_POWER_CAP : 0);
    }
}

/* No NVML: the loop times as before, the note carries the reason; clock_check=false too. */
static void test_absent_or_off_disables_the_check(void) {
    char why[200];
    struct nvml *n = nvml_fake("absent", why, sizeof why);
    CHECK(n == NULL);
    struct bench *b = bench_with(NULL, why);
    struct kern k = kernel(NULL, 0, 0);
    struct bench_result r;
    CHECK_EQ_INT(bench_run(b, launch, &k, &many_rounds, &r), 0);
    CHECK(!r.clock_checked && r.clock_reads == 0 && r.reps == 200);
    CHECK_STR(r.clock_note, "NVML unavailable: fake NVML scripted absent");
    bench_free(b);
    n = nvml_fake("period=2,bad=1", why, sizeof why);
    b = bench_with(n, NULL);
    struct bench_opts off = many_rounds;
    off.clock_off = 1;
    CHECK_EQ_INT(bench_run(b, launch, &k, &off, &r), 0);
    CHECK(!r.clock_checked && r.clock_discards == 0 && nvml_reads(n) == 0);
    CHECK_STR(r.clock_note, "clock check off (clock_check=false)");
    bench_free(b);
    nvml_close(n);
}

int main(void) {
    cuda_api_fake(&api);
    api.init(0);
    api.stream_create(&stream, 0);
    api.module_load_data(&mod, "fake");
    RUN(test_fake_script_and_reason_names);
    RUN(test_missing_library_gives_reason);
    RUN(test_steady_clock_discards_nothing);
    RUN(test_throttled_rounds_are_discarded);
    RUN(test_too_many_throttled_are_kept_and_flagged);
    RUN(test_reasons_decide_at_full_clock);
    RUN(test_absent_or_off_disables_the_check);
    api.module_unload(mod);
    api.stream_destroy(stream);
    return test_report();
}
