/* Summary statistics of timing samples: median, min, mean, stddev, noise, the relative
 * standard error of the median, and outlier trimming. Pure C, no allocation. */
#ifndef HTUNE_STATS_H
#define HTUNE_STATS_H

struct stats_summary {
    double median_us, min_us, max_us, mean_us, stddev_us;
    double noise_pct;   /* 100 * stddev / mean */
    double rse_median;  /* relative standard error of the median: 1.2533 * stddev / sqrt(n) / median */
    int n;
};

/* Summarizes n samples (microseconds). scratch holds n doubles (sorted copy on return).
 * n == 0 gives all zeros. */
void stats_summarize(const double *samples, int n, double *scratch, struct stats_summary *out);

/* Median of n values, sorting them in place. */
double stats_median_inplace(double *v, int n);

/* Removes, in place and keeping order, samples above median + k * 1.4826 * MAD (slow
 * outliers: preemption, clock dips); returns the new count. scratch holds n doubles. */
int stats_trim_slow(double *samples, int n, double k, double *scratch);
#endif
