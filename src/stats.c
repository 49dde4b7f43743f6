/* Summary statistics of timing samples (see stats.h). Sorting is an insertion sort for
 * short series and qsort beyond; neither allocates. */
#include "stats.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

static int cmp_double(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double stats_median_inplace(double *v, int n) {
    if (n <= 0) return 0;
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void stats_summarize(const double *samples, int n, double *scratch, struct stats_summary *out) {
    memset(out, 0, sizeof *out);
    if (n <= 0) return;
    memcpy(scratch, samples, (size_t)n * sizeof *samples);
    out->n = n;
    out->median_us = stats_median_inplace(scratch, n);
    out->min_us = scratch[0];
    out->max_us = scratch[n - 1];
    double sum = 0, sq = 0;
    for (int i = 0; i < n; i++) sum += samples[i];
    out->mean_us = sum / n;
    for (int i = 0; i < n; i++) sq += (samples[i] - out->mean_us) * (samples[i] - out->mean_us);
    out->stddev_us = n > 1 ? sqrt(sq / (n - 1)) : 0;
    out->noise_pct = out->mean_us > 0 ? 100.0 * out->stddev_us / out->mean_us : 0;
    out->rse_median = out->median_us > 0 && n > 1 ? 1.2533 * out->stddev_us / sqrt((double)n) / out->median_us
                                                   : INFINITY;
}

int stats_trim_slow(double *samples, int n, double k, double *scratch) {
    if (n < 8) return n;
    memcpy(scratch, samples, (size_t)n * sizeof *samples);
    double med = stats_median_inplace(scratch, n);
    for (int i = 0; i < n; i++) scratch[i] = fabs(samples[i] - med);
    double mad = stats_median_inplace(scratch, n);
    double limit = med + k * 1.4826 * (mad > med * 1e-3 ? mad : med * 1e-3);
    int kept = 0;
    for (int i = 0; i < n; i++)
        if (samples[i] <= limit) samples[kept++] = samples[i];
    return kept;
}
