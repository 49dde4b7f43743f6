/* criterion.c fed with synthetic series: converges on quiet data, runs to the cap on
 * noisy data, cuts off clear losers early and never cuts a winner. */
#include "criterion.h"
#include "test.h"
#include <stdint.h>

static uint64_t rng = 7;
static double noise(double amp) {   /* uniform in [-amp, amp) */
    rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
    return ((double)(rng >> 11) / 9007199254740992.0 * 2 - 1) * amp;
}

static enum criterion_verdict feed(struct criterion *c, double base, double amp, int limit) {
    enum criterion_verdict v = CRIT_CONTINUE;
    for (int i = 0; i < limit && v == CRIT_CONTINUE; i++) v = criterion_add(c, base * (1 + noise(amp)));
    return v;
}

static double samples[2000], scratch[2000];

static void test_quiet_series_converges_quickly(void) {
    struct criterion c;
    struct criterion_opts o = { .max_reps = 2000 };
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 10, 0.005, 5000), CRIT_CONVERGED);
    CHECK(c.n >= 10 && c.n <= 16);
    CHECK(c.last.rse_median <= 0.01);
}

static void test_noisy_series_needs_more_reps(void) {
    struct criterion c;
    struct criterion_opts o = { .max_reps = 2000, .time_cap_us = 1e9 };
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 10, 0.3, 5000), CRIT_CONVERGED);
    CHECK(c.n > 60);   /* stddev ~17%: n ~ (1.25*0.17/0.01)^2 ~ 450 */
}

static void test_time_cap_and_max_reps(void) {
    struct criterion c;
    struct criterion_opts o = { .max_reps = 2000, .time_cap_us = 500, .target_rse = 1e-6 };
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 10, 0.3, 5000), CRIT_TIME_CAP);
    CHECK(c.total_us >= 500 && c.n <= 60);
    struct criterion_opts o2 = { .max_reps = 30, .target_rse = 1e-6 };
    criterion_init(&c, &o2, samples, scratch);
    CHECK_EQ_INT(feed(&c, 10, 0.3, 5000), CRIT_MAX_REPS);
    CHECK_EQ_INT(c.n, 30);
}

static void test_cutoff_stops_losers_early(void) {
    struct criterion c;
    struct criterion_opts o = { .max_reps = 2000, .best_us = 10 };
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 20, 0.05, 5000), CRIT_CUTOFF);
    CHECK_EQ_INT(c.n, 3);
}

static void test_cutoff_spares_close_and_better_configs(void) {
    struct criterion c;
    struct criterion_opts o = { .max_reps = 2000, .best_us = 10 };
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 10.5, 0.01, 5000), CRIT_CONVERGED);   /* 5% slower: inside the 10% margin */
    criterion_init(&c, &o, samples, scratch);
    CHECK_EQ_INT(feed(&c, 8, 0.01, 5000), CRIT_CONVERGED);
}

int main(void) {
    RUN(test_quiet_series_converges_quickly);
    RUN(test_noisy_series_needs_more_reps);
    RUN(test_time_cap_and_max_reps);
    RUN(test_cutoff_stops_losers_early);
    RUN(test_cutoff_spares_close_and_better_configs);
    return test_report();
}
