/* stats.c: median, spread, rse of the median, slow-outlier trimming. */
#include "stats.h"
#include "test.h"
#include <math.h>

static void test_summary_of_known_series(void) {
    double s[] = { 5, 1, 4, 2, 3 }, scratch[5];
    struct stats_summary st;
    stats_summarize(s, 5, scratch, &st);
    CHECK(st.median_us == 3 && st.min_us == 1 && st.max_us == 5 && st.mean_us == 3);
    CHECK(fabs(st.stddev_us - sqrt(2.5)) < 1e-12);
    CHECK(fabs(st.noise_pct - 100 * sqrt(2.5) / 3) < 1e-9);
    CHECK(fabs(st.rse_median - 1.2533 * sqrt(2.5) / sqrt(5) / 3) < 1e-9);
    CHECK(s[0] == 5);   /* input untouched */
}

static void test_even_count_and_empty(void) {
    double s[] = { 4, 1, 3, 2 }, scratch[4];
    struct stats_summary st;
    stats_summarize(s, 4, scratch, &st);
    CHECK(st.median_us == 2.5);
    stats_summarize(s, 0, scratch, &st);
    CHECK(st.n == 0 && st.median_us == 0);
    stats_summarize(s, 1, scratch, &st);
    CHECK(st.stddev_us == 0 && isinf(st.rse_median));
}

static void test_trim_drops_only_slow_outliers(void) {
    double s[12] = { 10, 10.1, 9.9, 10, 10.2, 9.8, 10, 10.1, 30, 10, 9.9, 5 }, scratch[12];
    int n = stats_trim_slow(s, 12, 5, scratch);
    CHECK_EQ_INT(n, 11);   /* 30 goes, the fast 5 stays: fast samples are real */
    for (int i = 0; i < n; i++) CHECK(s[i] != 30);
    CHECK(s[n - 1] == 5);
}

int main(void) {
    RUN(test_summary_of_known_series);
    RUN(test_even_count_and_empty);
    RUN(test_trim_drops_only_slow_outliers);
    return test_report();
}
